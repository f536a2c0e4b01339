/**
 * Pure map: Hugging Face GPT-NeoX (Pythia) checkpoint tensors → decoder params (TransformerLens
 * `convert_neox_weights`). `query_key_value` is one nn.Linear [3·d_model, d_model] whose rows are
 * ordered (head, {q, k, v}, d_head); `embed_out` is the untied unembedding. Accepts the
 * `GPTNeoXForCausalLM` layout (`gpt_neox.` prefix) and the base `GPTNeoXModel` one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightLoadError } from '../../errors.js';
import type { RawTensor } from '../../io/safetensors.js';
import type { ModelConfig } from '../config.js';
import type { BlockParams, DecoderParams, NormParams } from '../params.js';
import { checkKeys, f32, tensorReader } from './common.js';

/** Buffers the model recomputes (causal masks, rotary frequencies). */
const IGNORED = [/^layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/];

function normaliseKeys(raw: ReadonlyMap<string, RawTensor>): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [k, v] of raw) {
    const key = k.startsWith('gpt_neox.') ? k.slice('gpt_neox.'.length) : k;
    if (IGNORED.some((re) => re.test(key))) continue;
    out.set(key, v);
  }
  return out;
}

/**
 * Split the fused q/k/v projection: weight [3·h·e, d] with rows (head, qkv, d_head) → three
 * [d_model, h·e] matrices with columns (head, d_head); bias likewise. Done on the host arrays so
 * every result is a fresh tensor (on wasm a reshaped slice keeps its source's shape in the kernel's
 * view, which the fused matmul-with-bias rejects).
 */
function splitQkv(w: RawTensor, b: RawTensor, h: number, e: number, d: number): QkvSplit {
  const wd = f32(w);
  const bd = f32(b);
  const part = (i: number): [tf.Tensor2D, tf.Tensor1D] => {
    const wt = new Float32Array(d * h * e); // [d_model, h*e]
    const bias = new Float32Array(h * e);
    for (let head = 0; head < h; head++) {
      for (let j = 0; j < e; j++) {
        const row = (head * 3 + i) * e + j; // source row in [3*h*e, d]
        const col = head * e + j;
        bias[col] = bd[row] ?? 0;
        for (let k = 0; k < d; k++) wt[k * h * e + col] = wd[row * d + k] ?? 0;
      }
    }
    return [tf.tensor2d(wt, [d, h * e]), tf.tensor1d(bias)];
  };
  const [wQ, bQ] = part(0);
  const [wK, bK] = part(1);
  const [wV, bV] = part(2);
  return { wQ, wK, wV, bQ, bK, bV };
}

/** The three projections of a fused query_key_value layer. */
interface QkvSplit {
  readonly wQ: tf.Tensor2D; readonly wK: tf.Tensor2D; readonly wV: tf.Tensor2D;
  readonly bQ: tf.Tensor1D; readonly bK: tf.Tensor1D; readonly bV: tf.Tensor1D;
}

/**
 * Convert HF GPT-NeoX tensors to decoder params (no weight processing).
 * @param raw Checkpoint tensors by name.
 * @param cfg Model config (shapes are checked against it).
 * @returns New parameter tensors (caller owns them).
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors and wrong shapes.
 * @example const params = neoxParamsFromHf(await loadCheckpointTensors(dir), cfg);
 * @category Model
 */
export function neoxParamsFromHf(raw: ReadonlyMap<string, RawTensor>, cfg: ModelConfig): DecoderParams {
  const fn = 'neoxParamsFromHf';
  const keys = normaliseKeys(raw);
  const { dModel: d, dMlp: m, dVocab: v, nHeads: h, dHead: e } = cfg;
  const expected = new Map<string, number[]>([
    ['embed_in.weight', [v, d]], ['final_layer_norm.weight', [d]], ['final_layer_norm.bias', [d]],
  ]);
  const optional = new Map<string, number[]>([['embed_out.weight', [v, d]]]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `layers.${l}.`;
    for (const n of ['input_layernorm', 'post_attention_layernorm']) expected.set(`${p}${n}.weight`, [d]).set(`${p}${n}.bias`, [d]);
    expected.set(`${p}attention.query_key_value.weight`, [3 * h * e, d]).set(`${p}attention.query_key_value.bias`, [3 * h * e]);
    expected.set(`${p}attention.dense.weight`, [d, h * e]).set(`${p}attention.dense.bias`, [d]);
    expected.set(`${p}mlp.dense_h_to_4h.weight`, [m, d]).set(`${p}mlp.dense_h_to_4h.bias`, [m]);
    expected.set(`${p}mlp.dense_4h_to_h.weight`, [d, m]).set(`${p}mlp.dense_4h_to_h.bias`, [d]);
  }
  checkKeys(fn, keys, expected, optional);
  const r = tensorReader(fn, keys);
  const need = (k: string): RawTensor => {
    const t = keys.get(k);
    if (t === undefined) throw new WeightLoadError(`${fn}: tensor '${k}' is missing`);
    return t;
  };
  const ln = (k: string): NormParams => ({ w: r.t1(`${k}.weight`), b: r.t1(`${k}.bias`) });
  const blocks: BlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `layers.${l}.`;
    const qkv = splitQkv(need(`${p}attention.query_key_value.weight`), need(`${p}attention.query_key_value.bias`), h, e, d);
    blocks.push({
      ln1: ln(`${p}input_layernorm`),
      attn: { ...qkv, wO: r.linearT(`${p}attention.dense.weight`), bO: r.t1(`${p}attention.dense.bias`) },
      ln2: ln(`${p}post_attention_layernorm`),
      mlp: {
        W_in: r.linearT(`${p}mlp.dense_h_to_4h.weight`), b_in: r.t1(`${p}mlp.dense_h_to_4h.bias`),
        W_out: r.linearT(`${p}mlp.dense_4h_to_h.weight`), b_out: r.t1(`${p}mlp.dense_4h_to_h.bias`),
      },
    });
  }
  const W_E = r.t2('embed_in.weight');
  const W_U = keys.has('embed_out.weight') ? r.linearT('embed_out.weight') : tf.transpose(W_E); // [d_model, d_vocab]
  return { W_E, W_pos: undefined, blocks, lnFinal: ln('final_layer_norm'), W_U, b_U: tf.zeros([v]) };
}
