/**
 * The linear modules of a model under their Hugging Face module paths (what PEFT's target_modules
 * and tensor names refer to), as editable slots over a copy of the parameter tree: read a weight
 * [in, out] (and bias), write a replacement, then build new params that share every other tensor.
 * Encoders: BERT / RoBERTa (`<type>.encoder.layer.N.attention.self.query` …) and DistilBERT
 * (`distilbert.transformer.layer.N.attention.q_lin` …); decoders: Llama / Mistral / Qwen2
 * (`model.layers.N.self_attn.q_proj` …, `mlp.gate_proj` …); plus the classification head's linears.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../errors.js';
import type { ModelConfig } from '../config.js';
import type { EncoderConfig } from '../encoder/encoder_config.js';
import type { EncoderParams } from '../encoder/encoder_params.js';
import type { AttnParams, DecoderParams, MlpParams } from '../params.js';
import { classifierModuleNames, type ClassifierHeadParams, type SequenceClassifier } from '../classifier/head_params.js';

/** A model's parameters and its classification head, as one value. @category Model */
export interface ModelWeights<P> {
  /** Base-model parameters. */
  readonly params: P;
  /** Sequence-classification head, or undefined. */
  readonly classifier: SequenceClassifier | undefined;
}

/** One linear module of a {@link WeightEditor}. @category Model */
export interface LinearSlot {
  /** HF module path (no `.weight`). */
  readonly path: string;
  /** Whether it belongs to the classification head. */
  readonly head: boolean;
  /** Weight [in, out] (y = x·W + b). */
  readonly W: tf.Tensor2D;
  /** Bias [out] as the HF module has it, or undefined (no bias in the checkpoint). */
  readonly b: tf.Tensor1D | undefined;
  /** Replace the weight (and the bias, when given) in the editor's copy. */
  set(W: tf.Tensor2D, b?: tf.Tensor1D): void;
}

/** Editable linear slots over a copy of a parameter tree. @category Model */
export interface WeightEditor<P> {
  /** Every linear module, base model first, head last. */
  readonly slots: readonly LinearSlot[];
  /** New weights with the replacements made (other tensors shared with the input). */
  build(): ModelWeights<P>;
}

type Mut<T> = { -readonly [K in keyof T]: T[K] };

function slot(path: string, head: boolean, get: () => { W: tf.Tensor2D; b: tf.Tensor1D | undefined }, put: (W: tf.Tensor2D, b?: tf.Tensor1D) => void): LinearSlot {
  return {
    path, head, set: put,
    get W() { return get().W; },
    get b() { return get().b; },
  };
}

function attnSlots(a: Mut<AttnParams>, pre: string, names: readonly [string, string, string, string], bias: (i: number) => boolean): LinearSlot[] {
  const keys = [['wQ', 'bQ'], ['wK', 'bK'], ['wV', 'bV'], ['wO', 'bO']] as const;
  return keys.map(([w, b], i) =>
    slot(`${pre}${names[i]}`, false, () => ({ W: a[w], b: bias(i) ? a[b] : undefined }), (W, bb) => {
      a[w] = W;
      if (bb !== undefined) a[b] = bb;
    }),
  );
}

function mlpSlot(m: Mut<MlpParams>, path: string, w: 'W_in' | 'W_out' | 'W_gate', b: 'b_in' | 'b_out' | undefined): LinearSlot {
  return slot(path, false, () => ({ W: m[w] as tf.Tensor2D, b: b === undefined ? undefined : m[b] }), (W, bb) => {
    m[w] = W;
    if (b !== undefined && bb !== undefined) m[b] = bb;
  });
}

/** Head slots over a mutable copy of the head params. */
function headSlots(clf: SequenceClassifier | undefined): { slots: LinearSlot[]; build: () => SequenceClassifier | undefined } {
  if (clf === undefined) return { slots: [], build: () => undefined };
  const names = classifierModuleNames(clf.family);
  const p: Mut<ClassifierHeadParams> = { ...clf.params };
  const dense = p.dense === undefined ? undefined : { ...p.dense };
  const slots: LinearSlot[] = [];
  if (names.dense !== undefined && dense !== undefined) {
    slots.push(slot(names.dense, true, () => ({ W: dense.W, b: dense.b }), (W, b) => {
      dense.W = W;
      if (b !== undefined) dense.b = b;
    }));
  }
  slots.push(slot(names.out, true, () => ({ W: p.W, b: p.b }), (W, b) => {
    p.W = W;
    if (b !== undefined) p.b = b;
  }));
  return { slots, build: () => ({ ...clf, params: { ...p, dense } }) };
}

/**
 * Editable slots of a BERT / DistilBERT / RoBERTa encoder (HF `*ForSequenceClassification` /
 * `*ForMaskedLM` paths carry the `<model_type>.` prefix; a bare base model has none).
 * @param cfg Encoder config.
 * @param w Parameters and head (not modified).
 * @returns The editor.
 * @category Model
 */
export function encoderEditor(cfg: EncoderConfig, w: ModelWeights<EncoderParams>): WeightEditor<EncoderParams> {
  const bert = cfg.modelType !== 'distilbert';
  const pre = w.classifier === undefined && w.params.mlmHead === undefined ? '' : `${cfg.modelType}.`;
  const attnNames = bert
    ? (['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'] as const)
    : (['attention.q_lin', 'attention.k_lin', 'attention.v_lin', 'attention.out_lin'] as const);
  const blocks = w.params.blocks.map((b) => ({ ...b, attn: { ...b.attn }, mlp: { ...b.mlp } }));
  const slots: LinearSlot[] = [];
  blocks.forEach((b, l) => {
    const k = `${pre}${bert ? 'encoder' : 'transformer'}.layer.${l}.`;
    slots.push(...attnSlots(b.attn, k, attnNames, () => true));
    slots.push(mlpSlot(b.mlp, `${k}${bert ? 'intermediate.dense' : 'ffn.lin1'}`, 'W_in', 'b_in'));
    slots.push(mlpSlot(b.mlp, `${k}${bert ? 'output.dense' : 'ffn.lin2'}`, 'W_out', 'b_out'));
  });
  const head = headSlots(w.classifier);
  slots.push(...head.slots);
  return { slots, build: () => ({ params: { ...w.params, blocks }, classifier: head.build() }) };
}

/**
 * Editable slots of an unprocessed Llama / Mistral / Qwen2 decoder (`model.layers.N.self_attn.q_proj`
 * …, `mlp.gate_proj` / `up_proj` / `down_proj`, head `score`).
 * @param cfg Model config.
 * @param w Parameters and head (not modified).
 * @returns The editor.
 * @throws {@link "tfjs-lens"!ConfigError} for another family or processed weights (LoRA updates act on the checkpoint's weights).
 * @category Model
 */
export function decoderEditor(cfg: ModelConfig, w: ModelWeights<DecoderParams>): WeightEditor<DecoderParams> {
  const fn = 'LoRA';
  if (!['llama', 'mistral', 'qwen2'].includes(cfg.modelType)) {
    throw new ConfigError(`${fn}: adapters apply to BERT, DistilBERT, RoBERTa, Llama, Mistral and Qwen2 models, not '${cfg.modelType}' (its HF modules are fused or Conv1D)`);
  }
  if (cfg.normalizationType !== 'RMS' || w.params.lnFinal === undefined) {
    throw new ConfigError(`${fn}: the weights were processed (normalizationType ${cfg.normalizationType}); load with fromPretrainedNoProcessing to use LoRA adapters`);
  }
  const blocks = w.params.blocks.map((b) => ({ ...b, attn: { ...b.attn }, mlp: b.mlp === undefined ? undefined : { ...b.mlp } }));
  const slots: LinearSlot[] = [];
  const qkvBias = cfg.modelType === 'qwen2';
  blocks.forEach((b, l) => {
    const k = `model.layers.${l}.`;
    slots.push(...attnSlots(b.attn, `${k}self_attn.`, ['q_proj', 'k_proj', 'v_proj', 'o_proj'], (i) => qkvBias && i < 3));
    if (b.mlp !== undefined) {
      if (b.mlp.W_gate !== undefined) slots.push(mlpSlot(b.mlp, `${k}mlp.gate_proj`, 'W_gate', undefined));
      slots.push(mlpSlot(b.mlp, `${k}mlp.up_proj`, 'W_in', undefined));
      slots.push(mlpSlot(b.mlp, `${k}mlp.down_proj`, 'W_out', undefined));
    }
  });
  const head = headSlots(w.classifier);
  slots.push(...head.slots);
  return { slots, build: () => ({ params: { ...w.params, blocks }, classifier: head.build() }) };
}
