/**
 * Pure map: Hugging Face GPT-2 checkpoint tensors → decoder params (TransformerLens
 * `convert_gpt2_weights`). Accepts the hub layout (`h.0.attn.c_attn.weight`, `wte.weight`, with
 * `attn.bias`/`masked_bias` buffers to ignore) and the `save_pretrained` layout (`transformer.`
 * prefix, tied `lm_head.weight` omitted). Conv1D weights are [in, out]; c_attn columns are [q | k | v].
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightLoadError } from '../../errors.js';
import type { RawTensor } from '../../io/safetensors.js';
import type { ModelConfig } from '../config.js';
import type { BlockParams, DecoderParams, LayerNormParams } from '../params.js';

const IGNORED = [/^h\.\d+\.attn\.bias$/, /^h\.\d+\.attn\.masked_bias$/];

/** Strip the `transformer.` prefix and drop ignorable buffers. */
function normaliseKeys(raw: ReadonlyMap<string, RawTensor>): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [k, v] of raw) {
    const key = k.startsWith('transformer.') ? k.slice('transformer.'.length) : k;
    if (IGNORED.some((re) => re.test(key))) continue;
    out.set(key, v);
  }
  return out;
}

/** The checkpoint keys a GPT-2 config expects, with shapes (lm_head.weight optional). */
function expectedGpt2Keys(cfg: ModelConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, dVocab: v } = cfg;
  const e = new Map<string, number[]>([
    ['wte.weight', [v, d]],
    ['wpe.weight', [cfg.nCtx, d]],
    ['ln_f.weight', [d]],
    ['ln_f.bias', [d]],
  ]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `h.${l}.`;
    e.set(`${p}ln_1.weight`, [d]).set(`${p}ln_1.bias`, [d]);
    e.set(`${p}attn.c_attn.weight`, [d, 3 * d]).set(`${p}attn.c_attn.bias`, [3 * d]);
    e.set(`${p}attn.c_proj.weight`, [d, d]).set(`${p}attn.c_proj.bias`, [d]);
    if (!cfg.attnOnly) {
      e.set(`${p}ln_2.weight`, [d]).set(`${p}ln_2.bias`, [d]);
      e.set(`${p}mlp.c_fc.weight`, [d, m]).set(`${p}mlp.c_fc.bias`, [m]);
      e.set(`${p}mlp.c_proj.weight`, [m, d]).set(`${p}mlp.c_proj.bias`, [d]);
    }
  }
  return e;
}

function checkKeys(keys: Map<string, RawTensor>, expected: Map<string, number[]>): void {
  const missing = [...expected.keys()].filter((k) => !keys.has(k));
  const unexpected = [...keys.keys()].filter((k) => !expected.has(k) && k !== 'lm_head.weight');
  const badShapes: string[] = [];
  for (const [k, shape] of expected) {
    const t = keys.get(k);
    if (t !== undefined && (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))) {
      badShapes.push(`${k}: expected [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
  const lm = keys.get('lm_head.weight');
  const wteShape = expected.get('wte.weight') ?? [];
  if (lm !== undefined && (lm.shape[0] !== wteShape[0] || lm.shape[1] !== wteShape[1])) {
    badShapes.push(`lm_head.weight: expected [${wteShape.join(', ')}], got [${lm.shape.join(', ')}]`);
  }
  if (missing.length + unexpected.length + badShapes.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length > 0) parts.push(`unexpected (${unexpected.length}): ${unexpected.join(', ')}`);
    if (badShapes.length > 0) parts.push(`wrong shapes: ${badShapes.join('; ')}`);
    throw new WeightLoadError(`gpt2ParamsFromHf: checkpoint does not match the config — ${parts.join(' | ')}`);
  }
}

function f32(t: RawTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/**
 * Convert HF GPT-2 tensors to decoder params (no weight processing).
 * @param raw Checkpoint tensors by name (either key layout).
 * @param cfg Model config (shapes are checked against it).
 * @returns New parameter tensors (caller owns them).
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors and wrong shapes.
 * @category Model
 */
export function gpt2ParamsFromHf(raw: ReadonlyMap<string, RawTensor>, cfg: ModelConfig): DecoderParams {
  const keys = normaliseKeys(raw);
  checkKeys(keys, expectedGpt2Keys(cfg));
  const get = (k: string): RawTensor => keys.get(k) as RawTensor;
  const t1 = (k: string): tf.Tensor1D => tf.tensor1d(f32(get(k)));
  const t2 = (k: string): tf.Tensor2D => tf.tensor2d(f32(get(k)), get(k).shape as [number, number]);
  const ln = (p: string): LayerNormParams => ({ w: t1(`${p}.weight`), b: t1(`${p}.bias`) });
  const blocks: BlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `h.${l}.`;
    const blockTensors = tf.tidy(() => {
      const cAttn = t2(`${p}attn.c_attn.weight`); // [d_model, 3*d_model] = [q | k | v]
      const cAttnB = t1(`${p}attn.c_attn.bias`); // [3*d_model]
      const [wQ, wK, wV] = tf.split(cAttn, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const [bQ, bK, bV] = tf.split(cAttnB, 3, 0) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      return { wQ, wK, wV, bQ, bK, bV };
    });
    blocks.push({
      ln1: ln(`${p}ln_1`),
      attn: { ...blockTensors, wO: t2(`${p}attn.c_proj.weight`), bO: t1(`${p}attn.c_proj.bias`) },
      ln2: cfg.attnOnly ? undefined : ln(`${p}ln_2`),
      mlp: cfg.attnOnly
        ? undefined
        : {
            W_in: t2(`${p}mlp.c_fc.weight`),
            b_in: t1(`${p}mlp.c_fc.bias`),
            W_out: t2(`${p}mlp.c_proj.weight`),
            b_out: t1(`${p}mlp.c_proj.bias`),
          },
    });
  }
  const W_E = t2('wte.weight');
  const lmHead = keys.has('lm_head.weight') ? t2('lm_head.weight') : undefined;
  const W_U = tf.transpose(lmHead ?? W_E); // [d_model, d_vocab]
  lmHead?.dispose();
  return {
    W_E,
    W_pos: t2('wpe.weight'),
    blocks,
    lnFinal: ln('ln_f'),
    W_U,
    b_U: tf.zeros([cfg.dVocab]),
  };
}
