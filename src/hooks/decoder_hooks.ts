/**
 * Hook table of the decoder (TransformerLens 2.x `HookedTransformer`, pre-LN blocks). The hook-name
 * type {@link DecoderHookName} is derived from these rows, so a component can only fire names that
 * are in the table, and the model registers exactly these rows.
 */
import { expandHookTable, type HookFeature, type HookFlags, type HookRow, type HookSpec, type HookTable } from './hook_spec.js';

const BPD = ['batch', 'pos', 'd_model'] as const;
const BPHD = ['batch', 'pos', 'n_heads', 'd_model'] as const;
const BPHE = ['batch', 'pos', 'n_heads', 'd_head'] as const;
const BHQK = ['batch', 'n_heads', 'pos_q', 'pos_k'] as const;
const BPM = ['batch', 'pos', 'd_mlp'] as const;
const SCALE = ['batch', 'pos', 1] as const;

const EMBED_ROWS = [
  { name: 'hook_embed', shape: BPD, description: 'token embedding W_E[tokens]' },
  { name: 'hook_pos_embed', shape: BPD, description: 'positional embedding W_pos[pos] (0 at masked pads)' },
] as const satisfies readonly HookRow[];

const BLOCK_ROWS = [
  { name: 'hook_resid_pre', shape: BPD, description: 'residual stream entering the block' },
  { name: 'hook_attn_in', shape: BPHD, flag: 'useAttnIn', description: 'attention input repeated per head' },
  { name: 'hook_q_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'query input per head (before ln1)' },
  { name: 'hook_k_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'key input per head (before ln1)' },
  { name: 'hook_v_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'value input per head (before ln1)' },
  {
    name: 'ln1.hook_scale', shape: SCALE, perHeadWhenSplit: true,
    description: 'ln1 scale sqrt(var + eps) (per head, once per q/k/v input, with split inputs)',
  },
  {
    name: 'ln1.hook_normalized', shape: BPD, perHeadWhenSplit: true,
    description: 'ln1 output: (x - mean) / scale, times w plus b unless LayerNorm is folded',
  },
  { name: 'attn.hook_q', shape: BPHE, description: 'queries incl. bias, unscaled' },
  { name: 'attn.hook_k', shape: BPHE, description: 'keys incl. bias' },
  { name: 'attn.hook_v', shape: BPHE, description: 'values incl. bias' },
  { name: 'attn.hook_attn_scores', shape: BHQK, description: 'q·k / sqrt(d_head), masked entries -inf, before softmax' },
  { name: 'attn.hook_pattern', shape: BHQK, description: 'softmax over keys (fully masked rows are 0)' },
  { name: 'attn.hook_z', shape: BPHE, description: 'pattern · v per head' },
  { name: 'attn.hook_result', shape: BPHD, flag: 'useAttnResult', description: 'per-head output z·W_O[h], without b_O' },
  { name: 'hook_attn_out', shape: BPD, description: 'attention output Σ_h z_h W_O[h] + b_O' },
  { name: 'hook_resid_mid', shape: BPD, requires: 'mlp', description: 'resid_pre + attn_out' },
  { name: 'hook_mlp_in', shape: BPD, flag: 'useHookMlpIn', requires: 'mlp', description: 'MLP input (= resid_mid)' },
  { name: 'ln2.hook_scale', shape: SCALE, requires: 'mlp', description: 'ln2 scale' },
  { name: 'ln2.hook_normalized', shape: BPD, requires: 'mlp', description: 'ln2 output' },
  { name: 'mlp.hook_pre', shape: BPM, requires: 'mlp', description: 'ln2 output · W_in + b_in' },
  { name: 'mlp.hook_post', shape: BPM, requires: 'mlp', description: 'activation of hook_pre' },
  { name: 'hook_mlp_out', shape: BPD, requires: 'mlp', description: 'hook_post · W_out + b_out' },
  { name: 'hook_resid_post', shape: BPD, description: 'block output: resid_mid + mlp_out (resid_pre + attn_out if attention-only)' },
] as const satisfies readonly HookRow[];

const HEAD_ROWS = [
  { name: 'ln_final.hook_scale', shape: SCALE, description: 'final LayerNorm scale' },
  { name: 'ln_final.hook_normalized', shape: BPD, description: 'final LayerNorm output' },
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
}

/**
 * Every hook point of a decoder in forward order, with symbolic shapes. With `flags` given, shapes
 * and firing counts reflect them (ln1 is per head, and fires per q/k/v input, with split inputs).
 * @param cfg Layers and whether the model is attention-only.
 * @param flags Flags in force.
 * @returns The table, all optional rows included (marked with their flag).
 * @example decoderHookSpecs({nLayers: 12, attnOnly: false}).length  // 2 + 12*23 + 2
 * @category Hooks
 */
export function decoderHookSpecs(cfg: HookTableConfig, flags: HookFlags = {}): HookSpec[] {
  const features = new Set<HookFeature>(cfg.attnOnly ? [] : ['mlp']);
  return expandHookTable(DECODER_HOOK_TABLE, cfg.nLayers, features, flags);
}
