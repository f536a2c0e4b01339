/**
 * Hook table of the encoder (TransformerLens `HookedEncoder`, post-LN `BertBlock`), shared by BERT,
 * DistilBERT and RoBERTa. Names match TL 2.x; DistilBERT has no `embed.hook_token_type_embed`
 * (RoBERTa has it, with one token type); RoBERTa's `embed.hook_pos_embed` is W_pos at its
 * padding-aware position ids; `*ForSequenceClassification` checkpoints have the `classifier.*` head rows
 * instead of the MLM head's. {@link EncoderHookName} is derived from these rows.
 */
import { CLASSIFIER_HEAD_ROWS, expandHookTable, type HookFeature, type HookFlags, type HookRow, type HookSpec, type HookTable, SHAPES } from './hook_spec.js';

const { BPD, BPHD, BPHE, BHQK, BPM, SCALE } = SHAPES;

const EMBED_ROWS = [
  { name: 'embed.hook_embed', shape: BPD, description: 'word embedding W_E[tokens]' },
  { name: 'embed.hook_pos_embed', shape: BPD, description: 'position embedding W_pos[pos]' },
  { name: 'embed.hook_token_type_embed', shape: BPD, requires: 'tokenTypes', description: 'token-type embedding' },
  { name: 'embed.ln.hook_scale', shape: SCALE, description: 'embedding LayerNorm scale' },
  { name: 'embed.ln.hook_normalized', shape: BPD, description: 'embedding LayerNorm output (with affine)' },
  { name: 'hook_full_embed', shape: BPD, description: 'embedding output = input of block 0' },
] as const satisfies readonly HookRow[];

const BLOCK_ROWS = [
  { name: 'hook_resid_pre', shape: BPD, description: 'residual stream entering the block (= previous block output)' },
  { name: 'hook_q_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'query input per head' },
  { name: 'hook_k_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'key input per head' },
  { name: 'hook_v_input', shape: BPHD, flag: 'useSplitQkvInput', description: 'value input per head' },
  { name: 'attn.hook_q', shape: BPHE, description: 'queries incl. bias, unscaled (DistilBERT q_lin output)' },
  { name: 'attn.hook_k', shape: BPHE, description: 'keys incl. bias' },
  { name: 'attn.hook_v', shape: BPHE, description: 'values incl. bias' },
  { name: 'attn.hook_attn_scores', shape: BHQK, description: 'q·k / sqrt(d_head), padded keys -inf, before softmax' },
  { name: 'attn.hook_pattern', shape: BHQK, description: 'softmax over keys (bidirectional)' },
  { name: 'attn.hook_z', shape: BPHE, description: 'pattern · v per head' },
  { name: 'attn.hook_result', shape: BPHD, flag: 'useAttnResult', description: 'per-head output z·W_O[h], without b_O' },
  { name: 'hook_attn_out', shape: BPD, description: 'attention output Σ_h z_h W_O[h] + b_O' },
  { name: 'hook_resid_mid', shape: BPD, description: 'resid_pre + attn_out (before ln1)' },
  { name: 'hook_mlp_in', shape: BPD, flag: 'useHookMlpIn', description: 'MLP input path (= resid_mid, before ln1)' },
  { name: 'ln1.hook_scale', shape: SCALE, description: 'ln1 scale (post-attention LayerNorm)' },
  { name: 'ln1.hook_normalized', shape: BPD, description: 'ln1(resid_mid), with affine' },
  { name: 'mlp.hook_pre', shape: BPM, description: 'ln1 output · W_in + b_in' },
  { name: 'mlp.hook_post', shape: BPM, description: 'GELU of hook_pre' },
  { name: 'hook_mlp_out', shape: BPD, description: 'hook_post · W_out + b_out' },
  { name: 'hook_resid_post', shape: BPD, description: 'ln1 output + mlp_out (before ln2)' },
  { name: 'ln2.hook_scale', shape: SCALE, description: 'ln2 scale (output LayerNorm)' },
  { name: 'ln2.hook_normalized', shape: BPD, description: 'ln2(resid_post), with affine' },
  { name: 'hook_normalized_resid_post', shape: BPD, description: 'block output = ln2(resid_post)' },
] as const satisfies readonly HookRow[];

const HEAD_ROWS = [
  { name: 'mlm_head.ln.hook_scale', shape: SCALE, requires: 'mlmHead', description: 'MLM-head LayerNorm scale' },
  { name: 'mlm_head.ln.hook_normalized', shape: BPD, requires: 'mlmHead', description: 'MLM-head LayerNorm output' },
  ...CLASSIFIER_HEAD_ROWS,
] as const satisfies readonly HookRow[];

/** The encoder's hook table. */
const ENCODER_HOOK_TABLE: HookTable = { embed: EMBED_ROWS, block: BLOCK_ROWS, head: HEAD_ROWS };

/** Suffix of an encoder block hook after `blocks.{l}.`. @category Hooks */
export type EncoderBlockHook = (typeof BLOCK_ROWS)[number]['name'];

/** Every encoder hook name, derived from the table. @category Hooks */
export type EncoderHookName =
  | (typeof EMBED_ROWS)[number]['name']
  | `blocks.${number}.${EncoderBlockHook}`
  | (typeof HEAD_ROWS)[number]['name'];

/**
 * Every hook point of an encoder in forward order.
 * @param cfg Layers, whether token-type embeddings exist, whether an MLM head exists.
 * @param flags Flags in force (the encoder's shapes do not depend on them).
 * @returns The table, optional (flag-gated) rows included.
 * @example encoderHookSpecs({ nLayers: 6, tokenTypes: false, mlmHead: true })
 * @category Hooks
 */
export function encoderHookSpecs(
  cfg: {
    /** Number of blocks. */
    readonly nLayers: number;
    /** Whether the model has a token-type embedding (BERT, RoBERTa). */
    readonly tokenTypes: boolean;
    /** Whether the model has a masked-LM head. */
    readonly mlmHead: boolean;
    /** Whether the model has a sequence-classification head (all three families' heads have a dense layer). */
    readonly classifier?: boolean;
  },
  flags: HookFlags = {},
): HookSpec[] {
  const features = new Set<HookFeature>();
  if (cfg.tokenTypes) features.add('tokenTypes');
  if (cfg.mlmHead) features.add('mlmHead');
  if (cfg.classifier === true) features.add('classifier').add('classifierDense');
  return expandHookTable(ENCODER_HOOK_TABLE, cfg.nLayers, features, flags);
}
