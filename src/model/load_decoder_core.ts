/**
 * Decoder loading from parsed files (no file system): config.json → checked config, checkpoint
 * tensors → params by family (GPT-2, Llama/Mistral/Qwen2, GPT-NeoX) with the classification head
 * taken out and the weight processing applied. Shared by `HookedTransformer.fromPretrained`
 * (load_decoder.ts, Node) and the browser's `loadTransformerFromUrl`.
 */
import { ConfigError } from '../errors.js';
import type { ProcessingOptions } from './weight_processing.js';
import type { ModelConfig } from './config.js';
import { decoderConfigFromHf, type HfDecoderConfig } from './hf_config.js';
import { checkLoadFits } from './memory_guard.js';
import { disposeParams, type DecoderParams } from './params.js';
import { processWeights } from './weight_processing.js';
import { gpt2ParamsFromHf } from './weights/gpt2.js';
import { llamaParamsFromHf } from './weights/llama.js';
import { neoxParamsFromHf } from './weights/neox.js';
import type { RawTensor } from '../io/safetensors_bytes.js';
import { disposeClassifierParams, foldNormIntoClassifier, hasClassifierTensors, takeClassifierParams, type SequenceClassifier } from './classifier/head_params.js';
import { declaresClassifier, labelConfigFromHf, type HfLabelFields } from './classifier/labels.js';

/** config.json of a decoder checkpoint, with the label fields of a classifier. */
export type HfDecoderFile = HfDecoderConfig & HfLabelFields;

/** A decoder checkpoint has its own tokenizer when one of these files is there. */
export const DECODER_TOKENIZER_FILES: readonly string[] = ['tokenizer.json', 'vocab.json'];

/** A loaded decoder: config, params (processed as asked), classification head. */
export interface DecoderFromFiles {
  readonly cfg: ModelConfig;
  readonly params: DecoderParams;
  /** Sequence-classification head (`*ForSequenceClassification`), folded with ln_final when fold_ln ran. */
  readonly classifier: SequenceClassifier | undefined;
}

/** The weight-processing flags a caller set (undefined ones left out, so defaults apply). */
export function pickProcessing(o: ProcessingOptions): ProcessingOptions {
  const out: { -readonly [K in keyof ProcessingOptions]: ProcessingOptions[K] } = {};
  if (o.foldLn !== undefined) out.foldLn = o.foldLn;
  if (o.centerWritingWeights !== undefined) out.centerWritingWeights = o.centerWritingWeights;
  if (o.centerUnembed !== undefined) out.centerUnembed = o.centerUnembed;
  if (o.foldValueBiases !== undefined) out.foldValueBiases = o.foldValueBiases;
  return out;
}

/**
 * Check the tokenisation defaults of a model option object.
 * @throws {@link "tfjs-lens"!ConfigError} for a defaultPrependBos that is not a boolean, or a padding side other than 'left' / 'right'.
 */
export function checkDefaults(o: { readonly defaultPrependBos?: unknown; readonly defaultPaddingSide?: unknown }, fn: string): void {
  if (o.defaultPrependBos !== undefined && typeof o.defaultPrependBos !== 'boolean') {
    throw new ConfigError(`${fn}: defaultPrependBos must be true or false, got ${JSON.stringify(o.defaultPrependBos)}`);
  }
  if (o.defaultPaddingSide !== undefined && o.defaultPaddingSide !== 'left' && o.defaultPaddingSide !== 'right') {
    throw new ConfigError(`${fn}: defaultPaddingSide must be 'left' or 'right', got ${JSON.stringify(o.defaultPaddingSide)}`);
  }
}

/** Checkpoint tensors → params, by family. */
function paramsFromHf(raw: ReadonlyMap<string, RawTensor>, cfg: ModelConfig): DecoderParams {
  if (cfg.modelType === 'gpt_neox') return neoxParamsFromHf(raw, cfg);
  if (cfg.modelType === 'gpt2') return gpt2ParamsFromHf(raw, cfg);
  return llamaParamsFromHf(raw, cfg);
}

/** Take a `score` head (and the label fields of config.json) out of the checkpoint tensors, if there is one. */
function takeClassifier(raw: Map<string, RawTensor>, cfg: ModelConfig, hf: HfLabelFields, fn: string): SequenceClassifier | undefined {
  if (!declaresClassifier(hf) || !hasClassifierTensors(raw, 'decoder')) return undefined;
  const labels = labelConfigFromHf(hf, fn);
  const pad = Array.isArray(hf.pad_token_id) ? hf.pad_token_id[0] : hf.pad_token_id;
  return { family: 'decoder', labels, padTokenId: pad ?? undefined, params: takeClassifierParams(raw, 'decoder', cfg.dModel, labels) };
}

/**
 * The checked config of a decoder's config.json: converted to a {@link ModelConfig}, then the
 * memory guard (before any weight is read or downloaded).
 * @param hf config.json, parsed.
 * @param name The model's name, path or URL, for messages.
 * @param processes Whether weight processing will run (it needs a second copy of some weights).
 * @throws {@link "tfjs-lens"!ConfigError} naming the model.
 */
export function decoderConfigFromFile(hf: HfDecoderFile, name: string, processes: boolean): ModelConfig {
  let cfg: ModelConfig;
  try {
    cfg = decoderConfigFromHf(hf);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`HookedTransformer: ${name}: ${err.message}`);
    throw err;
  }
  checkLoadFits(cfg, processes, `HookedTransformer: ${name}`);
  return cfg;
}

/**
 * Checkpoint tensors → params (the classification head taken out), processed as asked. The map
 * is emptied (its arrays now belong to the params).
 * @param raw Tensor name → raw tensor.
 * @param rawCfg The config from {@link decoderConfigFromFile}.
 * @param hf config.json (its label fields name a classifier's labels).
 * @param processing Weight-processing steps.
 * @param name The model's name, path or URL, for messages.
 * @param defaultPrependBos Overrides the family's default when given.
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors.
 */
export function decoderFromTensors(
  raw: Map<string, RawTensor>,
  rawCfg: ModelConfig,
  hf: HfLabelFields,
  processing: ProcessingOptions,
  name: string,
  defaultPrependBos?: boolean,
): DecoderFromFiles {
  const clf = takeClassifier(raw, rawCfg, hf, `HookedTransformer: ${name}`);
  let rawParams: DecoderParams;
  try {
    rawParams = paramsFromHf(raw, rawCfg);
  } catch (err) {
    if (clf !== undefined) disposeClassifierParams(clf.params);
    throw err;
  } finally {
    raw.clear();
  }
  let classifier = clf;
  try {
    // fold_ln folds ln_final into the head as it does into W_U (before processWeights frees ln_final).
    if (clf !== undefined && processing.foldLn === true && rawParams.lnFinal !== undefined) {
      classifier = { ...clf, params: foldNormIntoClassifier(clf.params, rawParams.lnFinal.w, rawParams.lnFinal.b) };
      disposeClassifierParams(clf.params);
    }
    const { params, cfg } = processWeights(rawParams, rawCfg, processing);
    return { cfg: defaultPrependBos === undefined ? cfg : { ...cfg, defaultPrependBos }, params, classifier };
  } catch (err) {
    disposeParams(rawParams);
    if (classifier !== undefined) disposeClassifierParams(classifier.params);
    throw err;
  }
}
