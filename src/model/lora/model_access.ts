/**
 * The {@link WeightAccess} of each model family: how an {@link AdapterHost} reads, edits and
 * replaces an encoder's or a decoder's weights (the model supplies getter and setter).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config.js';
import type { EncoderConfig } from '../encoder/encoder_config.js';
import { encoderParamTensors, type EncoderParams } from '../encoder/encoder_params.js';
import { paramTensors, type DecoderParams } from '../params.js';
import { classifierTensors } from '../classifier/head_params.js';
import type { WeightAccess } from './adapter_host.js';
import { decoderEditor, encoderEditor, type ModelWeights } from './linear_slots.js';

function headTensors<P>(w: ModelWeights<P>): tf.Tensor[] {
  return w.classifier === undefined ? [] : classifierTensors(w.classifier.params);
}

/**
 * Weight access of a BERT / DistilBERT / RoBERTa encoder.
 * @param cfg Encoder config.
 * @param get The model's weights.
 * @param set Install weights.
 * @returns The access.
 */
export function encoderAccess(cfg: EncoderConfig, get: () => ModelWeights<EncoderParams>, set: (w: ModelWeights<EncoderParams>) => void): WeightAccess<EncoderParams> {
  return { get, set, editor: (w) => encoderEditor(cfg, w), tensors: (w) => [...encoderParamTensors(w.params), ...headTensors(w)] };
}

/**
 * Weight access of a decoder (LoRA needs an unprocessed Llama / Mistral / Qwen2 one).
 * @param cfg Model config.
 * @param get The model's weights.
 * @param set Install weights.
 * @returns The access.
 */
export function decoderAccess(cfg: ModelConfig, get: () => ModelWeights<DecoderParams>, set: (w: ModelWeights<DecoderParams>) => void): WeightAccess<DecoderParams> {
  return { get, set, editor: (w) => decoderEditor(cfg, w), tensors: (w) => [...paramTensors(w.params), ...headTensors(w)] };
}
