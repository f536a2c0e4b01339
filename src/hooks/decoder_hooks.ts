/**
 * Hook table of the decoder (TransformerLens 2.x `HookedTransformer`, pre-norm blocks: GPT-2, Llama,
 * Mistral, Qwen2, Pythia). Rows a family lacks are marked with the feature they need (no
 * `hook_pos_embed` with rotary positions, no `hook_resid_mid` with parallel attention and MLP, …). The hook-name
 * type {@link DecoderHookName} is derived from these rows, so a component can only fire names that
 * are in the table, and the model registers exactly these rows.
 */
import { CLASSIFIER_HEAD_ROWS, expandHookTable, type HookFeature, type HookFlags, type HookRow, type HookSpec, type HookTable, SHAPES } from './hook_spec.js';

const { BPD, BPHD, BPHE, BPKE, BPKD, BHQK, BPM, SCALE } = SHAPES;

const EMBED_ROWS = [
  { name: 'hook_embed', shape: BPD, description: 'token embedding W_E[tokens]' },
  { name: 'hook_pos_embed', shape: BPD, requires: 'posEmbed', description: 'positional embedding W_pos[pos] (0 at masked pads)' },
] as const satisfies readonly HookRow[];

const BLOCK_ROWS = [
  { name: 'hook_resid_pre', shape: BPD, description: 'residual stream entering the block' },
  { name: 'hook_attn_in', shape: BPHD, flag: 'useAttnIn', description: 'attention input repeated per head' },
  { name: 'hook_q_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'query input per head (before ln1)' },
  { name: 'hook_k_input', shape: BPKD, flag: 'useSplitQkvInput', description: 'key input per key/value head (before ln1)' },
  { name: 'hook_v_input', shape: BPKD, flag: 'useSplitQkvInput', description: 'value input per key/value head (before ln1)' },
  {
    name: 'ln1.hook_scale', shape: SCALE, perHeadWhenSplit: true,
    description: 'ln1 scale: sqrt(var + eps), or sqrt(mean(x²) + eps) for RMSNorm (with split inputs: once per q/k/v input, per head; the cache keeps v’s, per key/value head under GQA)',
  },
  {
    name: 'ln1.hook_normalized', shape: BPD, perHeadWhenSplit: true,
    description: 'ln1 output: (x - mean) / scale (RMSNorm: x / scale), times w (plus b for LayerNorm) unless folded',
  },
  { name: 'attn.hook_q', shape: BPHE, description: 'queries incl. bias, unscaled, before rotary' },
  { name: 'attn.hook_k', shape: BPKE, description: 'keys incl. bias, before rotary (n_key_value_heads heads with GQA)' },
  { name: 'attn.hook_v', shape: BPKE, description: 'values incl. bias (n_key_value_heads heads with GQA)' },
  { name: 'attn.hook_rot_q', shape: BPHE, requires: 'rotary', description: 'queries after rotary (first rotary_dim dims of each head rotated)' },
  { name: 'attn.hook_rot_k', shape: BPKE, requires: 'rotary', description: 'keys after rotary' },
  { name: 'attn.hook_attn_scores', shape: BHQK, description: 'q·k / sqrt(d_head), masked entries -inf, before softmax' },
  { name: 'attn.hook_pattern', shape: BHQK, description: 'softmax over keys (fully masked rows are 0)' },
  { name: 'attn.hook_z', shape: BPHE, description: 'pattern · v per head' },
  { name: 'attn.hook_result', shape: BPHD, flag: 'useAttnResult', description: 'per-head output z·W_O[h], without b_O' },
  { name: 'hook_attn_out', shape: BPD, description: 'attention output Σ_h z_h W_O[h] + b_O' },
  { name: 'hook_resid_mid', shape: BPD, requires: 'residMid', description: 'resid_pre + attn_out (absent with parallel attention and MLP)' },
  { name: 'hook_mlp_in', shape: BPD, flag: 'useHookMlpIn', requires: 'mlp', description: 'MLP input (resid_mid; resid_pre with parallel attention and MLP)' },
  { name: 'ln2.hook_scale', shape: SCALE, requires: 'mlp', description: 'ln2 scale' },
  { name: 'ln2.hook_normalized', shape: BPD, requires: 'mlp', description: 'ln2 output' },
  { name: 'mlp.hook_pre', shape: BPM, requires: 'mlp', description: 'ln2 output · W_in + b_in (gated MLP: ln2 output · W_gate)' },
  { name: 'mlp.hook_pre_linear', shape: BPM, requires: 'gatedMlp', description: 'gated MLP: ln2 output · W_in' },
  { name: 'mlp.hook_post', shape: BPM, requires: 'mlp', description: 'act(hook_pre) (gated MLP: act(hook_pre) ⊙ hook_pre_linear + b_in)' },
  { name: 'hook_mlp_out', shape: BPD, requires: 'mlp', description: 'hook_post · W_out + b_out' },
  {
    name: 'hook_resid_post', shape: BPD,
    description: 'block output: resid_mid + mlp_out (resid_pre + attn_out + mlp_out if parallel; resid_pre + attn_out if attention-only)',
  },
] as const satisfies readonly HookRow[];

const HEAD_ROWS = [
  { name: 'ln_final.hook_scale', shape: SCALE, description: 'final norm scale' },
  { name: 'ln_final.hook_normalized', shape: BPD, description: 'final norm output' },
  ...CLASSIFIER_HEAD_ROWS,
] as const satisfies readonly HookRow[];

/** The decoder's hook table. */
const DECODER_HOOK_TABLE: HookTable = { embed: EMBED_ROWS, block: BLOCK_ROWS, head: HEAD_ROWS };

/** Suffix of a decoder block hook after `blocks.{l}.` (e.g. `attn.hook_pattern`). @category Hooks */
export type DecoderBlockHook = (typeof BLOCK_ROWS)[number]['name'];

/**
 * Every decoder hook name, derived from the table: `hook_embed`, `blocks.${number}.attn.hook_q`, ….
 * @category Hooks
 */
export type DecoderHookName =
  | (typeof EMBED_ROWS)[number]['name']
  | `blocks.${number}.${DecoderBlockHook}`
  | (typeof HEAD_ROWS)[number]['name'];

/** The architecture facts the decoder hook table depends on (a {@link ModelConfig} fits). @category Hooks */
export interface HookTableConfig {
  /** Number of transformer blocks (one `blocks.{l}.*` group each). */
  readonly nLayers: number;
  /** Attention-only model: no MLP hooks, no `hook_resid_mid`, no `ln2` hooks. */
  readonly attnOnly: boolean;
  /** 'rotary': `hook_rot_q`/`hook_rot_k`, no `hook_pos_embed`. */
  readonly positionalEmbeddingType?: 'standard' | 'rotary';
  /** Gated MLP: `mlp.hook_pre_linear`. */
  readonly gatedMlp?: boolean;
  /** Parallel attention and MLP: no `hook_resid_mid`. */
  readonly parallelAttnMlp?: boolean;
  /** A sequence-classification (`score`) head: `classifier.hook_in`, `classifier.hook_logits`. */
  readonly classifier?: boolean;
}

/** The hook-table features of a decoder config. */
function decoderFeatures(cfg: HookTableConfig): Set<HookFeature> {
  const f = new Set<HookFeature>();
  const rotary = cfg.positionalEmbeddingType === 'rotary';
  if (cfg.classifier === true) f.add('classifier');
  f.add(rotary ? 'rotary' : 'posEmbed');
  if (!cfg.attnOnly) {
    f.add('mlp');
    if (cfg.parallelAttnMlp !== true) f.add('residMid');
    if (cfg.gatedMlp === true) f.add('gatedMlp');
  }
  return f;
}

/**
 * Every hook point of a decoder in forward order, with symbolic shapes. With `flags` given, shapes
 * and firing counts reflect them (ln1 is per head, and fires per q/k/v input, with split inputs).
 * @param cfg Layers and the architecture features that add or remove hooks.
 * @param flags Flags in force.
 * @returns The table, all optional rows included (marked with their flag).
 * @example decoderHookSpecs({nLayers: 12, attnOnly: false}).length  // 2 + 12*23 + 2
 * @category Hooks
 */
export function decoderHookSpecs(cfg: HookTableConfig, flags: HookFlags = {}): HookSpec[] {
  return expandHookTable(DECODER_HOOK_TABLE, cfg.nLayers, decoderFeatures(cfg), flags);
}
