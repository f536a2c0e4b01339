/**
 * Hook names and shapes: the canonical TransformerLens 2.x name → shape table for the decoder,
 * generated from the config (STYLE Convention 8), and `actName()` (TL `utils.get_act_name`).
 */
import { HookNameError } from '../errors.js';

/** Optional hook points that TransformerLens gates behind config flags. @category Hooks */
export interface HookFlags {
  /** `blocks.{l}.attn.hook_result`: per-head output before summing [batch, pos, n_heads, d_model]. */
  readonly useAttnResult?: boolean;
  /** `blocks.{l}.hook_q_input|hook_k_input|hook_v_input`: per-head copies of the attention input. */
  readonly useSplitQkvInput?: boolean;
  /** `blocks.{l}.hook_mlp_in`: the MLP input. */
  readonly useHookMlpIn?: boolean;
  /** `blocks.{l}.hook_attn_in`: attention input repeated per head. */
  readonly useAttnIn?: boolean;
}

/** The flag names, for iteration. */
export const FLAG_NAMES = ['useAttnResult', 'useSplitQkvInput', 'useHookMlpIn', 'useAttnIn'] as const;

/** One row of the hook table. @category Hooks */
export interface HookSpec {
  /** Full hook name, e.g. `blocks.0.hook_resid_pre`. */
  readonly name: string;
  /** Symbolic shape using glossary names, e.g. ['batch', 'pos', 'd_model']. */
  readonly shape: readonly (string | number)[];
  /** The flag that enables it, if it is optional. */
  readonly flag?: (typeof FLAG_NAMES)[number];
  /** What the activation is, in a few words (e.g. 'token embedding W_E[tokens]'). */
  readonly description: string;
}

/**
 * The architecture facts the hook table depends on (a {@link ModelConfig} fits).
 * @category Hooks
 */
export interface HookTableConfig {
  /** Number of transformer blocks (one `blocks.{l}.*` group each). */
  readonly nLayers: number;
  /** Attention-only model: no MLP hooks, no `hook_resid_mid`, no `ln2` hooks. */
  readonly attnOnly: boolean;
}

const BPD = ['batch', 'pos', 'd_model'];
const BPHD = ['batch', 'pos', 'n_heads', 'd_model'];
const BPHE = ['batch', 'pos', 'n_heads', 'd_head'];
const BHQK = ['batch', 'n_heads', 'pos_q', 'pos_k'];

function blockSpecs(l: number, attnOnly: boolean, flags: HookFlags): HookSpec[] {
  const b = `blocks.${l}`;
  const split = flags.useSplitQkvInput === true || flags.useAttnIn === true;
  const rows: HookSpec[] = [
    { name: `${b}.hook_resid_pre`, shape: BPD, description: 'residual stream entering the block' },
    { name: `${b}.hook_attn_in`, shape: BPHD, flag: 'useAttnIn', description: 'attention input repeated per head' },
    { name: `${b}.hook_q_input`, shape: BPHD, flag: 'useSplitQkvInput', description: 'query input per head (before ln1)' },
    { name: `${b}.hook_k_input`, shape: BPHD, flag: 'useSplitQkvInput', description: 'key input per head (before ln1)' },
    { name: `${b}.hook_v_input`, shape: BPHD, flag: 'useSplitQkvInput', description: 'value input per head (before ln1)' },
    {
      name: `${b}.ln1.hook_scale`,
      shape: split ? ['batch', 'pos', 'n_heads', 1] : ['batch', 'pos', 1],
      description: 'ln1 scale sqrt(var + eps) (per head with split inputs)',
    },
    {
      name: `${b}.ln1.hook_normalized`,
      shape: split ? BPHD : BPD,
      description: 'ln1 output: (x - mean) / scale, times w plus b unless LayerNorm is folded',
    },
    { name: `${b}.attn.hook_q`, shape: BPHE, description: 'queries incl. bias, unscaled' },
    { name: `${b}.attn.hook_k`, shape: BPHE, description: 'keys incl. bias' },
    { name: `${b}.attn.hook_v`, shape: BPHE, description: 'values incl. bias' },
    { name: `${b}.attn.hook_attn_scores`, shape: BHQK, description: 'q·k / sqrt(d_head), masked entries -inf, before softmax' },
    { name: `${b}.attn.hook_pattern`, shape: BHQK, description: 'softmax over keys (fully masked rows are 0)' },
    { name: `${b}.attn.hook_z`, shape: BPHE, description: 'pattern · v per head' },
    { name: `${b}.attn.hook_result`, shape: BPHD, flag: 'useAttnResult', description: 'per-head output z·W_O[h], without b_O' },
    { name: `${b}.hook_attn_out`, shape: BPD, description: 'attention output Σ_h z_h W_O[h] + b_O' },
  ];
  if (attnOnly) {
    rows.push({ name: `${b}.hook_resid_post`, shape: BPD, description: 'resid_pre + attn_out' });
    return rows;
  }
  rows.push(
    { name: `${b}.hook_resid_mid`, shape: BPD, description: 'resid_pre + attn_out' },
    { name: `${b}.hook_mlp_in`, shape: BPD, flag: 'useHookMlpIn', description: 'MLP input (= resid_mid)' },
    { name: `${b}.ln2.hook_scale`, shape: ['batch', 'pos', 1], description: 'ln2 scale' },
    { name: `${b}.ln2.hook_normalized`, shape: BPD, description: 'ln2 output' },
    { name: `${b}.mlp.hook_pre`, shape: ['batch', 'pos', 'd_mlp'], description: 'ln2 output · W_in + b_in' },
    { name: `${b}.mlp.hook_post`, shape: ['batch', 'pos', 'd_mlp'], description: 'activation of hook_pre' },
    { name: `${b}.hook_mlp_out`, shape: BPD, description: 'hook_post · W_out + b_out' },
    { name: `${b}.hook_resid_post`, shape: BPD, description: 'resid_mid + mlp_out' },
  );
  return rows;
}

/**
 * Every hook point of a decoder in forward order, with symbolic shapes. With `flags` given, the
 * flag-gated rows are marked and shapes reflect the flags (ln1 is per head with split inputs).
 * @param cfg Layers and whether the model is attention-only.
 * @param flags Flags in force (affects ln1 shapes only).
 * @returns The table, all optional rows included.
 * @example decoderHookSpecs({nLayers: 12, attnOnly: false}).length  // 2 + 12*23 + 2
 * @category Hooks
 */
export function decoderHookSpecs(cfg: HookTableConfig, flags: HookFlags = {}): HookSpec[] {
  const rows: HookSpec[] = [
    { name: 'hook_embed', shape: BPD, description: 'token embedding W_E[tokens]' },
    { name: 'hook_pos_embed', shape: BPD, description: 'positional embedding W_pos[pos] (0 at masked pads)' },
  ];
  for (let l = 0; l < cfg.nLayers; l++) rows.push(...blockSpecs(l, cfg.attnOnly, flags));
  rows.push(
    { name: 'ln_final.hook_scale', shape: ['batch', 'pos', 1], description: 'final LayerNorm scale' },
    { name: 'ln_final.hook_normalized', shape: BPD, description: 'final LayerNorm output' },
  );
  return rows;
}

/** Whether a hook spec fires under the given flags. */
export function isEnabled(spec: HookSpec, flags: HookFlags): boolean {
  return spec.flag === undefined || flags[spec.flag] === true;
}

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
 * @throws {@link HookNameError} for an unknown short name.
 * @category Hooks
 */
export function actName(name: string, layer?: number, layerType?: string): string {
  if (name.includes('.') || name.startsWith('hook_')) return name;
  let short = name;
  let lay = layer;
  let lt = layerType;
  const m = /^([a-z_]+?)(\d+)([a-z]*)$/.exec(name);
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

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] ?? 0;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] ?? 0;
      dp[j] = Math.min((dp[j] ?? 0) + 1, (dp[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] ?? 0;
}

/**
 * The `k` valid names nearest to `name` by edit distance (for error messages).
 * @category Hooks
 */
export function nearestNames(name: string, valid: Iterable<string>, k = 3): string[] {
  return [...valid]
    .map((v) => [v, editDistance(name, v)] as const)
    .sort((x, y) => x[1] - y[1])
    .slice(0, k)
    .map((x) => x[0]);
}
