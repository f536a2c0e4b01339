/**
 * Parameters of a sequence-classification head and their Hugging Face checkpoint names, both ways
 * (`modeling_bert.py` `BertPooler` + `classifier`; `modeling_distilbert.py` `pre_classifier` +
 * `classifier`; `modeling_roberta.py` `RobertaClassificationHead` `classifier.dense` +
 * `classifier.out_proj`; `modeling_llama.py` / Mistral / Qwen2 `score`, a bias-free linear map).
 * `nn.Linear` weights are [out, in] in the checkpoint, [in, out] here (y = x·W + b).
 */
import { tfjsSeed } from '../../utils/rng.js';
import * as tf from '@tensorflow/tfjs-core';
import { WeightLoadError } from '../../errors.js';
import type { RawTensor, TensorToWrite } from '../../io/safetensors.js';
import { checkKeys, tensorReader } from '../weights/common.js';
import type { LabelConfig } from './labels.js';

/** Checkpoint layout of a head: the three encoder families, or a decoder's `score`. @category Model */
export type ClassifierFamily = 'bert' | 'distilbert' | 'roberta' | 'decoder';

/** A dense layer [in, out] with bias. @category Model */
export interface DenseParams {
  /** Weight [d_model, d_model] (input-major). */
  readonly W: tf.Tensor2D;
  /** Bias [d_model]. */
  readonly b: tf.Tensor1D;
}

/** Weights of a classification head. @category Model */
export interface ClassifierHeadParams {
  /** Dense layer before the output projection (BERT pooler, DistilBERT pre_classifier, RoBERTa classifier.dense); undefined for `score`. */
  readonly dense: DenseParams | undefined;
  /** Output projection [d_model, n_labels]. */
  readonly W: tf.Tensor2D;
  /** Output bias [n_labels]; undefined for `score` (no bias in HF). */
  readonly b: tf.Tensor1D | undefined;
}

/**
 * A sequence-classification head: its labels, where it reads the sequence, and its weights.
 * @category Model
 */
export interface SequenceClassifier {
  /** Checkpoint layout (decides the activation and the tensor names). */
  readonly family: ClassifierFamily;
  /** Labels from config.json. */
  readonly labels: LabelConfig;
  /**
   * Padding id the decoder head uses to find the last real token (HF: position of the first
   * `pad_token_id` − 1, modulo the length); undefined: the last position (batch of one only).
   */
  readonly padTokenId: number | undefined;
  /** Weights. */
  readonly params: ClassifierHeadParams;
}

/** The activation after the dense layer, by family (none for `score`). */
export function classifierActivation(family: ClassifierFamily): 'tanh' | 'relu' | undefined {
  if (family === 'distilbert') return 'relu';
  return family === 'decoder' ? undefined : 'tanh';
}

/** HF names of a family's head: dense (prefix of weight/bias) and output projection. */
const NAMES: Readonly<Record<ClassifierFamily, { dense: string | undefined; out: string; bias: boolean }>> = {
  bert: { dense: 'bert.pooler.dense', out: 'classifier', bias: true },
  distilbert: { dense: 'pre_classifier', out: 'classifier', bias: true },
  roberta: { dense: 'classifier.dense', out: 'classifier.out_proj', bias: true },
  decoder: { dense: undefined, out: 'score', bias: false },
};

/**
 * HF module paths of a family's head linears: the dense layer before the output (undefined for
 * `score`) and the output projection.
 * @param family Layout.
 * @returns Module paths (no `.weight`).
 * @example classifierModuleNames('roberta')  // { dense: 'classifier.dense', out: 'classifier.out_proj' }
 * @category Model
 */
export function classifierModuleNames(family: ClassifierFamily): {
  /** Dense layer before the output, or undefined. */
  readonly dense: string | undefined;
  /** Output projection. */
  readonly out: string;
} {
  return { dense: NAMES[family].dense, out: NAMES[family].out };
}

/**
 * Whether a checkpoint holds a sequence-classification head of this family.
 * @param raw Checkpoint tensors by name.
 * @param family Layout.
 */
export function hasClassifierTensors(raw: ReadonlyMap<string, RawTensor>, family: ClassifierFamily): boolean {
  return raw.has(`${NAMES[family].out}.weight`);
}

/**
 * Take the head's tensors out of a checkpoint map (the rest is the base model, read as before).
 * @param raw Checkpoint tensors; the head's entries are deleted from it.
 * @param family Layout.
 * @param dModel Residual width.
 * @param labels Labels (numLabels gives the output shape).
 * @returns New head tensors (caller owns them).
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing or wrongly shaped head tensors.
 * @category Model
 */
export function takeClassifierParams(raw: Map<string, RawTensor>, family: ClassifierFamily, dModel: number, labels: LabelConfig): ClassifierHeadParams {
  const fn = 'takeClassifierParams';
  const n = NAMES[family];
  const expected = new Map<string, number[]>([[`${n.out}.weight`, [labels.numLabels, dModel]]]);
  if (n.bias) expected.set(`${n.out}.bias`, [labels.numLabels]);
  if (n.dense !== undefined) expected.set(`${n.dense}.weight`, [dModel, dModel]).set(`${n.dense}.bias`, [dModel]);
  const head = new Map<string, RawTensor>();
  for (const k of expected.keys()) {
    const t = raw.get(k);
    if (t !== undefined) head.set(k, t);
    raw.delete(k);
  }
  try {
    checkKeys(fn, head, expected);
  } catch (err) {
    const hint = ` (num_labels ${labels.numLabels} from config.json: id2label/num_labels must match the checkpoint's ${n.out}.weight rows)`;
    throw err instanceof WeightLoadError ? new WeightLoadError(`${err.message}${hint}`) : err;
  }
  const r = tensorReader(fn, head);
  const dense = n.dense === undefined ? undefined : { W: r.linearT(`${n.dense}.weight`), b: r.t1(`${n.dense}.bias`) };
  return { dense, W: r.linearT(`${n.out}.weight`), b: n.bias ? r.t1(`${n.out}.bias`) : undefined };
}

/** Every tensor of a head. */
export function classifierTensors(p: ClassifierHeadParams): tf.Tensor[] {
  const out: tf.Tensor[] = [p.W];
  if (p.b !== undefined) out.push(p.b);
  if (p.dense !== undefined) out.push(p.dense.W, p.dense.b);
  return out;
}

/** Dispose every tensor of a head. @category Model */
export function disposeClassifierParams(p: ClassifierHeadParams): void {
  for (const t of classifierTensors(p)) t.dispose();
}

/**
 * The head's tensors under HF names (nn.Linear [out, in] layout), as `save_pretrained` writes them.
 * @param p Head weights.
 * @param family Layout.
 * @returns Name → F32 tensor data.
 * @category Model
 */
export function classifierTensorsToHf(p: ClassifierHeadParams, family: ClassifierFamily): Map<string, TensorToWrite> {
  const n = NAMES[family];
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: tf.Tensor): void => void out.set(name, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) });
  const putLinear = (name: string, w: tf.Tensor2D): void => {
    const wt = tf.transpose(w); // [out, in]
    put(name, wt);
    wt.dispose();
  };
  if (n.dense !== undefined && p.dense !== undefined) {
    putLinear(`${n.dense}.weight`, p.dense.W);
    put(`${n.dense}.bias`, p.dense.b);
  }
  putLinear(`${n.out}.weight`, p.W);
  if (n.bias && p.b !== undefined) put(`${n.out}.bias`, p.b);
  return out;
}

/**
 * Fold a final norm's weights into a `score` head (what `fold_ln` does to W_U): the head then reads
 * the unweighted norm output. W' = diag(w)·W, b' = b_norm·W (+ b).
 * @param p Head weights (not disposed).
 * @param w Norm scale [d_model].
 * @param b Norm bias [d_model] (LayerNorm), or undefined (RMSNorm).
 * @returns New head weights (caller owns them).
 */
export function foldNormIntoClassifier(p: ClassifierHeadParams, w: tf.Tensor1D, b: tf.Tensor1D | undefined): ClassifierHeadParams {
  return tf.tidy(() => {
    const W = tf.mul<tf.Tensor2D>(p.W, tf.expandDims(w, 1)); // [d_model, n_labels]
    let bias = p.b;
    if (b !== undefined) {
      const shift = tf.reshape<tf.Rank.R1>(tf.matMul(tf.expandDims(b, 0), p.W), [-1]); // [n_labels]
      bias = bias === undefined ? shift : tf.add<tf.Tensor1D>(bias, shift);
    }
    const dense = p.dense === undefined ? undefined : { W: tf.clone(p.dense.W), b: tf.clone(p.dense.b) };
    return { dense, W, b: bias === undefined ? undefined : tf.clone(bias) };
  });
}

/**
 * A new, randomly initialised head (HF `_init_weights`: weights normal(0, std), biases 0), as
 * `AutoModelForSequenceClassification.from_pretrained(base, num_labels=n)` adds to a base or MLM checkpoint.
 * @param family Layout.
 * @param dModel Residual width.
 * @param labels Labels (numLabels gives the output width).
 * @param opts seed (default 0), std (default 0.02, HF initializer_range), padTokenId (decoders).
 * @returns A head the caller passes to a model constructor (which takes ownership).
 * @example const enc = new HookedEncoder(cfg, { ...params, mlmHead: undefined }, tok, {}, randomClassifierHead('distilbert', cfg.dModel, labelConfigFromHf({ num_labels: 2 })));
 * @category Model
 */
export function randomClassifierHead(
  family: ClassifierFamily,
  dModel: number,
  labels: LabelConfig,
  opts: { seed?: number; std?: number; padTokenId?: number } = {},
): SequenceClassifier {
  const seed = opts.seed ?? 0;
  const std = opts.std ?? 0.02;
  const n = NAMES[family];
  const params: ClassifierHeadParams = {
    dense: n.dense === undefined ? undefined : { W: tf.randomNormal([dModel, dModel], 0, std, 'float32', tfjsSeed(seed + 1)), b: tf.zeros([dModel]) },
    W: tf.randomNormal([dModel, labels.numLabels], 0, std, 'float32', tfjsSeed(seed)),
    b: n.bias ? tf.zeros([labels.numLabels]) : undefined,
  };
  return { family, labels, padTokenId: opts.padTokenId, params };
}
