/**
 * Pure map: Hugging Face Llama / Mistral / Qwen2 checkpoint tensors → decoder params (TransformerLens
 * `convert_llama_weights`, `convert_mistral_weights`, `convert_qwen2_weights`). Accepts
 * `*ForCausalLM` (`model.` prefix, `lm_head.weight`) and base-model (`LlamaModel`, no prefix)
 * layouts; `nn.Linear` weights are [out, in] and are transposed to y = x·W. Absent biases become
 * zeros (Qwen2 has q/k/v biases; Llama has them with `attention_bias`). With tied embeddings
 * `lm_head.weight` may be absent and W_U = W_Eᵀ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightLoadError } from '../../errors.js';
import type { RawTensor } from '../../io/safetensors.js';
import { kvHeads, type ModelConfig } from '../config.js';
import type { BlockParams, DecoderParams } from '../params.js';
import { checkKeys, tensorReader } from './common.js';

/** Buffers some checkpoints carry and the model recomputes. */
const IGNORED = [/^layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/];

function normaliseKeys(raw: ReadonlyMap<string, RawTensor>): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [k, v] of raw) {
    const key = k.startsWith('model.') ? k.slice('model.'.length) : k;
    if (IGNORED.some((re) => re.test(key))) continue;
    out.set(key, v);
  }
  return out;
}

/**
 * Convert HF Llama-family tensors to decoder params (no weight processing).
 * @param raw Checkpoint tensors by name.
 * @param cfg Model config (shapes are checked against it).
 * @returns New parameter tensors (caller owns them).
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors and wrong shapes.
 * @example const params = llamaParamsFromHf(await loadCheckpointTensors(dir), cfg);
 * @category Model
 */
export function llamaParamsFromHf(raw: ReadonlyMap<string, RawTensor>, cfg: ModelConfig): DecoderParams {
  const fn = 'llamaParamsFromHf';
  const keys = normaliseKeys(raw);
  const { dModel: d, dMlp: m, dVocab: v, nHeads: h, dHead: e } = cfg;
  const kv = kvHeads(cfg) * e;
  const expected = new Map<string, number[]>([['embed_tokens.weight', [v, d]], ['norm.weight', [d]]]);
  const optional = new Map<string, number[]>([['lm_head.weight', [v, d]]]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `layers.${l}.`;
    expected.set(`${p}input_layernorm.weight`, [d]).set(`${p}post_attention_layernorm.weight`, [d]);
    expected.set(`${p}self_attn.q_proj.weight`, [h * e, d]).set(`${p}self_attn.k_proj.weight`, [kv, d]);
    expected.set(`${p}self_attn.v_proj.weight`, [kv, d]).set(`${p}self_attn.o_proj.weight`, [d, h * e]);
    expected.set(`${p}mlp.gate_proj.weight`, [m, d]).set(`${p}mlp.up_proj.weight`, [m, d]).set(`${p}mlp.down_proj.weight`, [d, m]);
    optional.set(`${p}self_attn.q_proj.bias`, [h * e]).set(`${p}self_attn.k_proj.bias`, [kv]).set(`${p}self_attn.v_proj.bias`, [kv]);
    optional.set(`${p}self_attn.o_proj.bias`, [d]);
    optional.set(`${p}mlp.gate_proj.bias`, [m]).set(`${p}mlp.up_proj.bias`, [m]).set(`${p}mlp.down_proj.bias`, [d]);
  }
  checkKeys(fn, keys, expected, optional);
  if (keys.has('layers.0.mlp.gate_proj.bias') || keys.has('layers.0.mlp.up_proj.bias')) {
    throw new WeightLoadError(`${fn}: gate_proj/up_proj biases (mlp_bias) are not supported: TransformerLens's gated MLP adds its bias after the gate`);
  }
  const r = tensorReader(fn, keys);
  const blocks: BlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `layers.${l}.`;
    blocks.push({
      ln1: { w: r.t1(`${p}input_layernorm.weight`), b: undefined },
      attn: {
        wQ: r.linearT(`${p}self_attn.q_proj.weight`), bQ: r.biasOr0(`${p}self_attn.q_proj.bias`, h * e),
        wK: r.linearT(`${p}self_attn.k_proj.weight`), bK: r.biasOr0(`${p}self_attn.k_proj.bias`, kv),
        wV: r.linearT(`${p}self_attn.v_proj.weight`), bV: r.biasOr0(`${p}self_attn.v_proj.bias`, kv),
        wO: r.linearT(`${p}self_attn.o_proj.weight`), bO: r.biasOr0(`${p}self_attn.o_proj.bias`, d),
      },
      ln2: { w: r.t1(`${p}post_attention_layernorm.weight`), b: undefined },
      mlp: {
        W_gate: r.linearT(`${p}mlp.gate_proj.weight`), // [d_model, d_mlp]
        W_in: r.linearT(`${p}mlp.up_proj.weight`), b_in: tf.zeros([m]),
        W_out: r.linearT(`${p}mlp.down_proj.weight`), b_out: r.biasOr0(`${p}mlp.down_proj.bias`, d),
      },
    });
  }
  const W_E = r.t2('embed_tokens.weight');
  const W_U = keys.has('lm_head.weight') ? r.linearT('lm_head.weight') : tf.transpose(W_E); // [d_model, d_vocab]
  return { W_E, W_pos: undefined, blocks, lnFinal: { w: r.t1('norm.weight'), b: undefined }, W_U, b_U: tf.zeros([v]) };
}
