/**
 * Pure map: Hugging Face BERT / DistilBERT / RoBERTa checkpoint tensors → encoder params
 * (TransformerLens `convert_bert_weights`; DistilBERT and RoBERTa by the same rules). Accepts
 * `DistilBertForMaskedLM` (`distilbert.*`, `vocab_transform`, `vocab_layer_norm`, `vocab_projector`,
 * projector weight tied to the word embeddings and possibly absent), `DistilBertModel` (no prefix,
 * no head), `BertForMaskedLM` / `BertModel` (`bert.*`, `cls.predictions.*`), `RobertaForMaskedLM`
 * (`roberta.*` with BERT's sub-names, `lm_head.dense`, `lm_head.layer_norm`, `lm_head.bias`,
 * `lm_head.decoder.weight` tied and possibly absent) / `RobertaModel` (no prefix, no head). Without
 * a head the model has no logits. `nn.Linear` weights are [out, in].
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightLoadError } from '../../errors.js';
import type { RawTensor } from '../../io/safetensors.js';
import type { LayerNormParams } from '../params.js';
import type { EncoderConfig } from './encoder_config.js';
import type { EncoderBlockParams, EncoderParams, MlmHeadParams } from './encoder_params.js';

/** Buffers, heads we do not model, and biases HF ties to another tensor (`cls.predictions.bias`, `lm_head.bias`). */
const IGNORED = [/position_ids$/, /^pooler\./, /^cls\.seq_relationship\./, /^cls\.predictions\.decoder\.bias$/, /^lm_head\.decoder\.bias$/];

/** Checkpoint prefix of the base model in a `*ForMaskedLM` checkpoint, per family. */
const PREFIX: Readonly<Record<EncoderConfig['modelType'], string>> = { bert: 'bert.', distilbert: 'distilbert.', roberta: 'roberta.' };

/** Family name in error messages. */
const FAMILY: Readonly<Record<EncoderConfig['modelType'], string>> = { bert: 'BERT', distilbert: 'DistilBERT', roberta: 'RoBERTa' };

/** MLM-head tensor names per family: transform dense, its LayerNorm, the (tied) decoder weight, the output bias. */
const HEAD: Readonly<Record<EncoderConfig['modelType'], { dense: string; ln: string; dec: string; bias: string }>> = {
  bert: { dense: 'cls.predictions.transform.dense', ln: 'cls.predictions.transform.LayerNorm', dec: 'cls.predictions.decoder.weight', bias: 'cls.predictions.bias' },
  distilbert: { dense: 'vocab_transform', ln: 'vocab_layer_norm', dec: 'vocab_projector.weight', bias: 'vocab_projector.bias' },
  roberta: { dense: 'lm_head.dense', ln: 'lm_head.layer_norm', dec: 'lm_head.decoder.weight', bias: 'lm_head.bias' },
};

/** Canonical slot → HF name, with shapes, for one family. */
function slots(cfg: EncoderConfig): { body: Map<string, [string, number[]]>; head: Map<string, [string, number[]]> } {
  const { dModel: d, dMlp: m, dVocab: v, nCtx: n } = cfg;
  const body = new Map<string, [string, number[]]>();
  const head = new Map<string, [string, number[]]>();
  const bert = cfg.modelType !== 'distilbert'; // RoBERTa uses BERT's sub-names
  body.set('emb.word', ['embeddings.word_embeddings.weight', [v, d]]);
  body.set('emb.pos', ['embeddings.position_embeddings.weight', [n, d]]);
  if (bert) body.set('emb.type', ['embeddings.token_type_embeddings.weight', [cfg.typeVocabSize, d]]);
  body.set('emb.ln.w', ['embeddings.LayerNorm.weight', [d]]).set('emb.ln.b', ['embeddings.LayerNorm.bias', [d]]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = bert ? `encoder.layer.${l}.` : `transformer.layer.${l}.`;
    const names: Record<string, [string, number[]]> = bert
      ? {
          q: ['attention.self.query', [d, d]], k: ['attention.self.key', [d, d]], v: ['attention.self.value', [d, d]],
          o: ['attention.output.dense', [d, d]], ln1: ['attention.output.LayerNorm', [d]],
          fc1: ['intermediate.dense', [m, d]], fc2: ['output.dense', [d, m]], ln2: ['output.LayerNorm', [d]],
        }
      : {
          q: ['attention.q_lin', [d, d]], k: ['attention.k_lin', [d, d]], v: ['attention.v_lin', [d, d]],
          o: ['attention.out_lin', [d, d]], ln1: ['sa_layer_norm', [d]],
          fc1: ['ffn.lin1', [m, d]], fc2: ['ffn.lin2', [d, m]], ln2: ['output_layer_norm', [d]],
        };
    for (const [slot, [hf, shape]] of Object.entries(names)) {
      const bias = slot.startsWith('ln') ? d : (shape[0] as number);
      body.set(`${l}.${slot}.w`, [`${p}${hf}.weight`, shape]).set(`${l}.${slot}.b`, [`${p}${hf}.bias`, [bias]]);
    }
  }
  const h = HEAD[cfg.modelType];
  head.set('head.dense.w', [`${h.dense}.weight`, [d, d]]).set('head.dense.b', [`${h.dense}.bias`, [d]]);
  head.set('head.ln.w', [`${h.ln}.weight`, [d]]).set('head.ln.b', [`${h.ln}.bias`, [d]]);
  head.set('head.bias', [h.bias, [v]]).set('head.decoder', [h.dec, [v, d]]);
  return { body, head };
}

/** Strip the model prefix, rename old gamma/beta LayerNorm names, drop ignorable tensors. */
function normalise(raw: ReadonlyMap<string, RawTensor>, cfg: EncoderConfig): Map<string, RawTensor> {
  const prefix = PREFIX[cfg.modelType];
  const out = new Map<string, RawTensor>();
  for (const [k0, t] of raw) {
    let k = k0.startsWith(prefix) ? k0.slice(prefix.length) : k0;
    k = k.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    if (IGNORED.some((re) => re.test(k))) continue;
    out.set(k, t);
  }
  return out;
}

function check(keys: Map<string, RawTensor>, expected: Map<string, [string, number[]]>, optional: Set<string>, family: string): void {
  const want = new Map([...expected.values()].map(([n, s]) => [n, s]));
  const missing = [...want.keys()].filter((k) => !keys.has(k) && !optional.has(k));
  const unexpected = [...keys.keys()].filter((k) => !want.has(k));
  const bad = [...want.entries()]
    .filter(([k, s]) => keys.has(k) && !tf.util.arraysEqual([...(keys.get(k) as RawTensor).shape], s))
    .map(([k, s]) => `${k}: expected [${s.join(', ')}], got [${(keys.get(k) as RawTensor).shape.join(', ')}]`);
  if (missing.length + unexpected.length + bad.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing (${missing.length}): ${missing.join(', ')}`);
  if (unexpected.length > 0) parts.push(`unexpected (${unexpected.length}): ${unexpected.join(', ')}`);
  if (bad.length > 0) parts.push(`wrong shapes: ${bad.join('; ')}`);
  throw new WeightLoadError(`encoderParamsFromHf: checkpoint does not match the ${family} config — ${parts.join(' | ')}`);
}

/**
 * Convert HF BERT / DistilBERT / RoBERTa tensors to encoder params.
 * @param raw Checkpoint tensors by name.
 * @param cfg Encoder config (shapes are checked against it).
 * @returns New parameter tensors (caller owns them); `mlmHead` is undefined for base models.
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors and wrong shapes.
 * @category Encoder
 */
export function encoderParamsFromHf(raw: ReadonlyMap<string, RawTensor>, cfg: EncoderConfig): EncoderParams {
  const keys = normalise(raw, cfg);
  const { body, head } = slots(cfg);
  const hasHead = [...head.values()].some(([n]) => keys.has(n));
  const expected = new Map([...body, ...(hasHead ? head : [])]);
  check(keys, expected, new Set([HEAD[cfg.modelType].dec]), FAMILY[cfg.modelType]);
  const get = (slot: string): RawTensor | undefined => keys.get((expected.get(slot) as [string, number[]])[0]);
  const f32 = (t: RawTensor): Float32Array => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  const t1 = (slot: string): tf.Tensor1D => tf.tensor1d(f32(get(slot) as RawTensor));
  const t2 = (slot: string): tf.Tensor2D => {
    const r = get(slot) as RawTensor;
    return tf.tensor2d(f32(r), r.shape as [number, number]);
  };
  const lin = (slot: string): tf.Tensor2D => tf.tidy(() => tf.transpose(t2(slot))); // [out, in] → [in, out]
  const ln = (slot: string): LayerNormParams => ({ w: t1(`${slot}.w`), b: t1(`${slot}.b`) });
  const blocks: EncoderBlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    blocks.push({
      attn: {
        wQ: lin(`${l}.q.w`), bQ: t1(`${l}.q.b`), wK: lin(`${l}.k.w`), bK: t1(`${l}.k.b`),
        wV: lin(`${l}.v.w`), bV: t1(`${l}.v.b`), wO: lin(`${l}.o.w`), bO: t1(`${l}.o.b`),
      },
      ln1: ln(`${l}.ln1`),
      mlp: { W_in: lin(`${l}.fc1.w`), b_in: t1(`${l}.fc1.b`), W_out: lin(`${l}.fc2.w`), b_out: t1(`${l}.fc2.b`) },
      ln2: ln(`${l}.ln2`),
    });
  }
  const W_E = t2('emb.word');
  let mlmHead: MlmHeadParams | undefined;
  if (hasHead) {
    const tiedOrOwn = get('head.decoder') !== undefined ? 'head.decoder' : 'emb.word';
    mlmHead = { W: lin('head.dense.w'), b: t1('head.dense.b'), ln: ln('head.ln'), W_U: lin(tiedOrOwn), b_U: t1('head.bias') };
  }
  return {
    W_E,
    W_pos: t2('emb.pos'),
    W_token_type: cfg.modelType !== 'distilbert' ? t2('emb.type') : undefined,
    embedLn: ln('emb.ln'),
    blocks,
    mlmHead,
  };
}
