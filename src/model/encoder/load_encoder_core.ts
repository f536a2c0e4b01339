/**
 * Encoder loading from parsed files (no file system): config.json → config, checkpoint tensors →
 * params with the sequence-classification head taken out. Shared by `HookedEncoder.fromPretrained`
 * (load_encoder.ts, Node) and the browser's `loadEncoderFromUrl`.
 */
import type { RawTensor } from '../../io/safetensors_bytes.js';
import type { EncoderConfig, HfBertConfig, HfDistilBertConfig } from './encoder_config.js';
import type { EncoderParams } from './encoder_params.js';
import { encoderParamsFromHf } from './encoder_weights.js';
import { disposeClassifierParams, hasClassifierTensors, takeClassifierParams, type SequenceClassifier } from '../classifier/head_params.js';
import { declaresClassifier, labelConfigFromHf, type HfLabelFields } from '../classifier/labels.js';

/** config.json of an encoder checkpoint, with the label fields of a classifier. */
export type HfEncoderFile = HfBertConfig & HfDistilBertConfig & HfLabelFields;

/** Tokenizer files by family: any one of the sets suffices. */
export function encoderTokenizerFileSets(cfg: EncoderConfig): readonly (readonly string[])[] {
  return cfg.modelType === 'roberta' ? [['tokenizer.json'], ['vocab.json', 'merges.txt']] : [['tokenizer.json'], ['vocab.txt']];
}

/**
 * Checkpoint tensors → encoder params, and the classification head of a
 * `*ForSequenceClassification` checkpoint. The map is emptied.
 * @param raw Tensor name → raw tensor.
 * @param hf config.json.
 * @param cfg Its converted config.
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors.
 */
export function encoderFromTensors(
  raw: Map<string, RawTensor>,
  hf: HfLabelFields,
  cfg: EncoderConfig,
): { params: EncoderParams; classifier: SequenceClassifier | undefined } {
  // `*ForSequenceClassification`: the head's tensors are taken out, the rest is the base model.
  let classifier: SequenceClassifier | undefined;
  if (declaresClassifier(hf) && hasClassifierTensors(raw, cfg.modelType)) {
    const labels = labelConfigFromHf(hf, 'HookedEncoder.fromPretrained');
    classifier = { family: cfg.modelType, labels, padTokenId: cfg.padTokenId, params: takeClassifierParams(raw, cfg.modelType, cfg.dModel, labels) };
  }
  try {
    const params = encoderParamsFromHf(raw, cfg);
    return { params, classifier };
  } catch (err) {
    if (classifier !== undefined) disposeClassifierParams(classifier.params);
    throw err;
  } finally {
    raw.clear();
  }
}
