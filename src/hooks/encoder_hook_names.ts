/**
 * Hook table of the encoder (TransformerLens `HookedEncoder`, post-LN `BertBlock`), generated from
 * the config. Names match TL 2.x; DistilBERT has no `embed.hook_token_type_embed`.
 */
import type { HookSpec } from './hook_names.js';

const BPD = ['batch', 'pos', 'd_model'];
const BPHD = ['batch', 'pos', 'n_heads', 'd_model'];
const BPHE = ['batch', 'pos', 'n_heads', 'd_head'];
const BHQK = ['batch', 'n_heads', 'pos_q', 'pos_k'];
const SCALE = ['batch', 'pos', 1];

function blockSpecs(l: number): HookSpec[] {
  const b = `blocks.${l}`;
  return [
    { name: `${b}.hook_resid_pre`, shape: BPD, description: 'residual stream entering the block (= previous block output)' },
    { name: `${b}.hook_q_input`, shape: BPHD, flag: 'useSplitQkvInput', description: 'query input per head' },
    { name: `${b}.hook_k_input`, shape: BPHD, flag: 'useSplitQkvInput', description: 'key input per head' },
    { name: `${b}.hook_v_input`, shape: BPHD, flag: 'useSplitQkvInput', description: 'value input per head' },
    { name: `${b}.attn.hook_q`, shape: BPHE, description: 'queries incl. bias, unscaled (DistilBERT q_lin output)' },
    { name: `${b}.attn.hook_k`, shape: BPHE, description: 'keys incl. bias' },
    { name: `${b}.attn.hook_v`, shape: BPHE, description: 'values incl. bias' },
    { name: `${b}.attn.hook_attn_scores`, shape: BHQK, description: 'q·k / sqrt(d_head), padded keys -inf, before softmax' },
    { name: `${b}.attn.hook_pattern`, shape: BHQK, description: 'softmax over keys (bidirectional)' },
    { name: `${b}.attn.hook_z`, shape: BPHE, description: 'pattern · v per head' },
    { name: `${b}.attn.hook_result`, shape: BPHD, flag: 'useAttnResult', description: 'per-head output z·W_O[h], without b_O' },
    { name: `${b}.hook_attn_out`, shape: BPD, description: 'attention output Σ_h z_h W_O[h] + b_O' },
    { name: `${b}.hook_resid_mid`, shape: BPD, description: 'resid_pre + attn_out (before ln1)' },
    { name: `${b}.hook_mlp_in`, shape: BPD, flag: 'useHookMlpIn', description: 'MLP input path (= resid_mid, before ln1)' },
    { name: `${b}.ln1.hook_scale`, shape: SCALE, description: 'ln1 scale (post-attention LayerNorm)' },
    { name: `${b}.ln1.hook_normalized`, shape: BPD, description: 'ln1(resid_mid), with affine' },
    { name: `${b}.mlp.hook_pre`, shape: ['batch', 'pos', 'd_mlp'], description: 'ln1 output · W_in + b_in' },
    { name: `${b}.mlp.hook_post`, shape: ['batch', 'pos', 'd_mlp'], description: 'GELU of hook_pre' },
    { name: `${b}.hook_mlp_out`, shape: BPD, description: 'hook_post · W_out + b_out' },
    { name: `${b}.hook_resid_post`, shape: BPD, description: 'ln1 output + mlp_out (before ln2)' },
    { name: `${b}.ln2.hook_scale`, shape: SCALE, description: 'ln2 scale (output LayerNorm)' },
    { name: `${b}.ln2.hook_normalized`, shape: BPD, description: 'ln2(resid_post), with affine' },
    { name: `${b}.hook_normalized_resid_post`, shape: BPD, description: 'block output = ln2(resid_post)' },
  ];
}

/**
 * Every hook point of an encoder in forward order.
 * @param cfg Layers, whether token-type embeddings exist, whether an MLM head exists.
 * @returns The table, optional (flag-gated) rows included.
 * @example encoderHookSpecs({ nLayers: 6, tokenTypes: false, mlmHead: true })
 * @category Hooks
 */
export function encoderHookSpecs(cfg: { nLayers: number; tokenTypes: boolean; mlmHead: boolean }): HookSpec[] {
  const rows: HookSpec[] = [
    { name: 'embed.hook_embed', shape: BPD, description: 'word embedding W_E[tokens]' },
    { name: 'embed.hook_pos_embed', shape: BPD, description: 'position embedding W_pos[pos]' },
  ];
  if (cfg.tokenTypes) rows.push({ name: 'embed.hook_token_type_embed', shape: BPD, description: 'token-type embedding' });
  rows.push(
    { name: 'embed.ln.hook_scale', shape: SCALE, description: 'embedding LayerNorm scale' },
    { name: 'embed.ln.hook_normalized', shape: BPD, description: 'embedding LayerNorm output (with affine)' },
    { name: 'hook_full_embed', shape: BPD, description: 'embedding output = input of block 0' },
  );
  for (let l = 0; l < cfg.nLayers; l++) rows.push(...blockSpecs(l));
  if (cfg.mlmHead) {
    rows.push(
      { name: 'mlm_head.ln.hook_scale', shape: SCALE, description: 'MLM-head LayerNorm scale' },
      { name: 'mlm_head.ln.hook_normalized', shape: BPD, description: 'MLM-head LayerNorm output' },
    );
  }
  return rows;
}
