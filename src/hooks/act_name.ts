/**
 * `actName()`: full hook names from TransformerLens short names (TL `utils.get_act_name`).
 */
import { HookNameError } from '../errors.js';

const ALIASES: Record<string, string> = {
  attn: 'pattern',
  attn_logits: 'attn_scores',
  key: 'k',
  query: 'q',
  value: 'v',
  mlp_pre: 'pre',
  mlp_mid: 'mid',
  mlp_post: 'post',
};
const LAYER_TYPES: Record<string, string> = { a: 'attn', m: 'mlp', b: '', block: '', blocks: '', attention: 'attn' };

/**
 * Build a full hook name from a short one, as TransformerLens `get_act_name`:
 * `actName('k', 6)` → `blocks.6.attn.hook_k`, `actName('pre', 2)` → `blocks.2.mlp.hook_pre`,
 * `actName('normalized', 3, 'ln2')`, `actName('scale')` → `ln_final.hook_scale`, `actName('k6')`.
 * @param name Short name (or alias such as 'attn' → pattern).
 * @param layer Layer index (required for block hooks).
 * @param layerType Disambiguator such as 'ln1', 'ln2', 'attn', 'mlp', 'a', 'm'.
 * @returns The full hook name.
 * @throws {@link "tfjs-lens"!HookNameError} for an unknown short name.
 * @category Hooks
 */
export function actName(name: string, layer?: number, layerType?: string): string {
  if (name.includes('.') || name.startsWith('hook_')) return name;
  let short = name;
  let lay = layer;
  let lt = layerType;
  // TL `([a-z]+)(\d+)([a-z]?.*)`: the first digits are the layer, everything after them the layer
  // type, which may itself contain digits ('scale4ln1' → blocks.4.ln1.hook_scale).
  const m = /^([a-z_]+?)(\d+)([a-z].*)?$/.exec(name);
  if (m !== null && lay === undefined) {
    short = m[1] ?? name;
    lay = Number(m[2]);
    if (m[3] !== undefined && m[3] !== '') lt = m[3];
  }
  short = ALIASES[short] ?? short;
  if (lt !== undefined && lt in LAYER_TYPES) lt = LAYER_TYPES[lt];
  if (['embed', 'pos_embed', 'tokens'].includes(short)) return `hook_${short}`;
  const attnNames = ['q', 'k', 'v', 'z', 'pattern', 'attn_scores', 'result', 'rot_q', 'rot_k'];
  const mlpNames = ['pre', 'post', 'mid', 'pre_linear'];
  const blockNames = ['resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'attn_in',
    'q_input', 'k_input', 'v_input', 'mlp_in', 'normalized_resid_post'];
  let sub: string;
  if (attnNames.includes(short)) sub = `attn.hook_${short}`;
  else if (mlpNames.includes(short)) sub = `mlp.hook_${short}`;
  else if (blockNames.includes(short)) sub = `hook_${short}`;
  else if (short === 'scale' || short === 'normalized') {
    if (lay === undefined) return `ln_final.hook_${short}`;
    sub = `${lt !== undefined && lt !== '' ? lt : 'ln1'}.hook_${short}`;
  } else {
    throw new HookNameError(`actName: unknown activation name '${name}'`);
  }
  if (lay === undefined) {
    throw new HookNameError(`actName: '${name}' is a per-layer activation; pass a layer index`);
  }
  return `blocks.${lay}.${sub}`;
}
