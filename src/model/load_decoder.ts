/**
 * Loading a decoder checkpoint: resolve the folder (local, HF cache or hub), read config.json and
 * the safetensors weights, map them to params by family (GPT-2, Llama/Mistral/Qwen2, GPT-NeoX),
 * apply weight processing, find a tokenizer.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendName } from '../backend/backend.js';
import { checkOptionKeys, type OptionKeys } from '../utils/options.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import { loadCheckpointTensors, readJsonFile } from '../io/checkpoint.js';
import { HUB_OPTION_KEYS, resolveModelDir, type HubOptions, type ResolvedModel } from '../io/hub.js';
import { loadTokenizer, shippedTokenizerDir } from '../tokenizers/load.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { ModelConfig } from './config.js';
import { resolveAlias } from './aliases.js';
import type { ProcessingOptions } from './weight_processing.js';
import type { HfLabelFields } from './classifier/labels.js';
import { checkDefaults, DECODER_TOKENIZER_FILES, decoderConfigFromFile, decoderFromTensors, type DecoderFromFiles, type HfDecoderFile } from './load_decoder_core.js';

export { checkDefaults, pickProcessing } from './load_decoder_core.js';

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

/** What the loader produces. */
interface LoadedDecoder extends DecoderFromFiles {
  readonly tokenizer: Tokenizer | undefined;
  readonly resolved: ResolvedModel;
}

/** Valid keys of {@link FromPretrainedOptions} (checked for plain-JS callers). */
const FROM_PRETRAINED_KEYS: OptionKeys<FromPretrainedOptions> = {
  ...HUB_OPTION_KEYS, flags: true, tokenizer: true, backend: true, allowNonFinite: true, defaultPrependBos: true, defaultPaddingSide: true,
  foldLn: true, centerWritingWeights: true, centerUnembed: true, foldValueBiases: true,
};

async function findTokenizer(dir: string, cfg: ModelConfig, opt: Tokenizer | null | undefined): Promise<Tokenizer | undefined> {
  if (opt === null) return undefined;
  if (opt !== undefined) return opt;
  if (DECODER_TOKENIZER_FILES.some((f) => existsSync(join(dir, f)))) return loadTokenizer(dir, { modelType: cfg.modelType });
  if (cfg.modelType === 'gpt2' && cfg.dVocab === 50257) return loadTokenizer(shippedTokenizerDir('gpt2'), { modelType: 'gpt2' });
  return undefined;
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
    const hf = await readJsonFile<HfDecoderFile>(path, 'model config');
    hfFields = hf;
    return decoderConfigFromFile(hf, nameOrPath, processes);
  };
  // A download runs the check between config.json and the weights; a local folder or a complete
  // cache snapshot is checked here, before loadCheckpointTensors reads a weight.
  const checkConfig = async (configPath: string): Promise<void> => void (await configOf(configPath));
  const resolved = await resolveModelDir(target, { ...opts, checkConfig });
  const rawCfg = await configOf(join(resolved.dir, 'config.json'));
  // Tokenizer first: nothing to free if it fails.
  const tokenizer = await findTokenizer(resolved.dir, rawCfg, opts.tokenizer);
  const raw = await loadCheckpointTensors(resolved.dir, { allowNonFinite: opts.allowNonFinite === true });
  const loaded = decoderFromTensors(raw, rawCfg, hfFields, processing, nameOrPath, opts.defaultPrependBos);
  return { ...loaded, tokenizer, resolved };
}

