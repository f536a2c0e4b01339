/**
 * Loading a decoder checkpoint: resolve the folder (local, HF cache or hub), read config.json and
 * the safetensors weights, map them to params by family (GPT-2, Llama/Mistral/Qwen2, GPT-NeoX),
 * apply weight processing, find a tokenizer.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendName } from '../backend/backend.js';
import { ConfigError } from '../errors.js';
import { checkOptionKeys, type OptionKeys } from '../utils/options.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import { loadCheckpointTensors, readJsonFile } from '../io/checkpoint.js';
import { HUB_OPTION_KEYS, resolveModelDir, type HubOptions, type ResolvedModel } from '../io/hub.js';
import { loadTokenizer, shippedTokenizerDir } from '../tokenizers/load.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { ModelConfig } from './config.js';
import { resolveAlias } from './aliases.js';
import { decoderConfigFromHf, type HfDecoderConfig } from './hf_config.js';
import { checkLoadFits } from './memory_guard.js';
import { disposeParams, type DecoderParams } from './params.js';
import { processWeights, type ProcessingOptions } from './weight_processing.js';
import { gpt2ParamsFromHf } from './weights/gpt2.js';
import { llamaParamsFromHf } from './weights/llama.js';
import { neoxParamsFromHf } from './weights/neox.js';
import type { RawTensor } from '../io/safetensors.js';
import { disposeClassifierParams, foldNormIntoClassifier, hasClassifierTensors, takeClassifierParams, type SequenceClassifier } from './classifier/head_params.js';
import { declaresClassifier, labelConfigFromHf, type HfLabelFields } from './classifier/labels.js';

/** Options of `HookedTransformer.fromPretrained`. @category Model */
export interface FromPretrainedOptions extends HubOptions, ProcessingOptions {
  /** Optional hook points to enable on the model. */
  readonly flags?: HookFlags;
  /** Tokenizer to use; `null` for none; default: the checkpoint's, else the shipped GPT-2 one for 50257-token vocabularies. */
  readonly tokenizer?: Tokenizer | null;
  /** Backend to initialise (default: TFJS_LENS_BACKEND, else the best installed). */
  readonly backend?: BackendName;
  /** Load a checkpoint holding NaN/Inf weights (refused with a WeightLoadError by default); for deliberate experiments. */
  readonly allowNonFinite?: boolean;
  /** Whether string inputs get BOS by default (TL `default_prepend_bos`; default: the family's, true except Qwen2). */
  readonly defaultPrependBos?: boolean;
  /** Padding side when a call gives none (TL `default_padding_side`; default 'right'). */
  readonly defaultPaddingSide?: 'left' | 'right';
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

/** What the loader produces. */
interface LoadedDecoder {
  readonly cfg: ModelConfig;
  readonly params: DecoderParams;
  readonly tokenizer: Tokenizer | undefined;
  readonly resolved: ResolvedModel;
  /** Sequence-classification head (`*ForSequenceClassification`), folded with ln_final when fold_ln ran. */
  readonly classifier: SequenceClassifier | undefined;
}

/** Valid keys of {@link FromPretrainedOptions} (checked for plain-JS callers). */
const FROM_PRETRAINED_KEYS: OptionKeys<FromPretrainedOptions> = {
  ...HUB_OPTION_KEYS, flags: true, tokenizer: true, backend: true, allowNonFinite: true, defaultPrependBos: true, defaultPaddingSide: true,
  foldLn: true, centerWritingWeights: true, centerUnembed: true, foldValueBiases: true,
};

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.json'];

async function findTokenizer(dir: string, cfg: ModelConfig, opt: Tokenizer | null | undefined): Promise<Tokenizer | undefined> {
  if (opt === null) return undefined;
  if (opt !== undefined) return opt;
  if (TOKENIZER_FILES.some((f) => existsSync(join(dir, f)))) return loadTokenizer(dir, { modelType: cfg.modelType });
  if (cfg.modelType === 'gpt2' && cfg.dVocab === 50257) return loadTokenizer(shippedTokenizerDir('gpt2'), { modelType: 'gpt2' });
  return undefined;
}

/** Checkpoint tensors → params, by family. */
function paramsFromHf(raw: ReadonlyMap<string, RawTensor>, cfg: ModelConfig): DecoderParams {
  if (cfg.modelType === 'gpt_neox') return neoxParamsFromHf(raw, cfg);
  if (cfg.modelType === 'gpt2') return gpt2ParamsFromHf(raw, cfg);
  return llamaParamsFromHf(raw, cfg);
}

/**
 * Load config, params (processed as asked) and tokenizer of a GPT-2, Llama, Mistral, Qwen2 or
 * GPT-NeoX (Pythia) checkpoint.
 * @param nameOrPath Local folder, or hub id (resolved through the HF cache / hub).
 * @param processing Weight-processing steps.
 * @param opts Hub and model options.
 * @throws {@link "tfjs-lens"!ConfigError}, {@link "tfjs-lens"!WeightLoadError}, {@link "tfjs-lens"!HubError}, {@link "tfjs-lens"!NotFoundError}.
 */
export async function loadDecoder(
  nameOrPath: string,
  processing: ProcessingOptions,
  opts: FromPretrainedOptions = {},
): Promise<LoadedDecoder> {
  checkOptionKeys(opts, FROM_PRETRAINED_KEYS, 'HookedTransformer.fromPretrained');
  checkDefaults(opts, 'HookedTransformer.fromPretrained');
  const target = resolveAlias(nameOrPath, opts); // names are checked locally, before the backend starts
  await initBackend(opts.backend, { quiet: opts.quiet });
  const processes = Object.values(processing).some((v) => v === true);
  // The config decides whether the model fits before any weight is read or downloaded.
  let hfFields: HfLabelFields = {};
  const configOf = async (path: string): Promise<ModelConfig> => {
    const hf = await readJsonFile<HfDecoderConfig & HfLabelFields>(path, 'model config');
    hfFields = hf;
    let cfg: ModelConfig;
    try {
      cfg = decoderConfigFromHf(hf);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`HookedTransformer: ${nameOrPath}: ${err.message}`);
      throw err;
    }
    checkLoadFits(cfg, processes, `HookedTransformer: ${nameOrPath}`);
    return cfg;
  };
  // A download runs the check between config.json and the weights; a local folder or a complete
  // cache snapshot is checked here, before loadCheckpointTensors reads a weight.
  const checkConfig = async (configPath: string): Promise<void> => void (await configOf(configPath));
  const resolved = await resolveModelDir(target, { ...opts, checkConfig });
  const rawCfg = await configOf(join(resolved.dir, 'config.json'));
  // Tokenizer first: nothing to free if it fails.
  const tokenizer = await findTokenizer(resolved.dir, rawCfg, opts.tokenizer);
  const raw = await loadCheckpointTensors(resolved.dir, { allowNonFinite: opts.allowNonFinite === true });
  const clf = takeClassifier(raw, rawCfg, hfFields, `HookedTransformer: ${nameOrPath}`);
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
    const bos = opts.defaultPrependBos;
    return { cfg: bos === undefined ? cfg : { ...cfg, defaultPrependBos: bos }, params, tokenizer, resolved, classifier };
  } catch (err) {
    disposeParams(rawParams);
    if (classifier !== undefined) disposeClassifierParams(classifier.params);
    throw err;
  }
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

/** Take a `score` head (and the label fields of config.json) out of the checkpoint tensors, if there is one. */
function takeClassifier(raw: Map<string, RawTensor>, cfg: ModelConfig, hf: HfLabelFields, fn: string): SequenceClassifier | undefined {
  if (!declaresClassifier(hf) || !hasClassifierTensors(raw, 'decoder')) return undefined;
  const labels = labelConfigFromHf(hf, fn);
  const pad = Array.isArray(hf.pad_token_id) ? hf.pad_token_id[0] : hf.pad_token_id;
  return { family: 'decoder', labels, padTokenId: pad ?? undefined, params: takeClassifierParams(raw, 'decoder', cfg.dModel, labels) };
}
