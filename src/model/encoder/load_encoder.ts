/**
 * Loading an encoder checkpoint: resolve the folder (local, HF cache or hub), read config.json and
 * the safetensors weights, map them to params, find the tokenizer (WordPiece for BERT/DistilBERT,
 * byte-level BPE for RoBERTa).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendName } from '../../backend/backend.js';
import type { HookFlags } from '../../hooks/hook_spec.js';
import { loadCheckpointTensors, readJsonFile } from '../../io/checkpoint.js';
import { HUB_OPTION_KEYS, resolveModelDir, type HubOptions } from '../../io/hub.js';
import { checkOptionKeys, type OptionKeys } from '../../utils/options.js';
import { loadTokenizer, shippedTokenizerDir } from '../../tokenizers/load.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { encoderConfigFromHf, type EncoderConfig } from './encoder_config.js';
import { resolveAlias } from '../aliases.js';
import type { EncoderParams } from './encoder_params.js';
import type { SequenceClassifier } from '../classifier/head_params.js';
import { encoderFromTensors, encoderTokenizerFileSets, type HfEncoderFile } from './load_encoder_core.js';

/** Options of `HookedEncoder.fromPretrained`. @category Encoder */
export interface EncoderFromPretrainedOptions extends HubOptions {
  /** Optional hook points to enable. */
  readonly flags?: HookFlags;
  /** Tokenizer; `null` for none; default: the checkpoint's, else the shipped bert-base-uncased vocabulary for 30522-token BERT/DistilBERT models (RoBERTa: none). */
  readonly tokenizer?: Tokenizer | null;
  /** Backend to initialise. */
  readonly backend?: BackendName;
  /** Load a checkpoint holding NaN/Inf weights (refused with a WeightLoadError by default); for deliberate experiments. */
  readonly allowNonFinite?: boolean;
}

const ENCODER_PRETRAINED_KEYS: OptionKeys<EncoderFromPretrainedOptions> = { ...HUB_OPTION_KEYS, flags: true, tokenizer: true, backend: true, allowNonFinite: true };

/** Tokenizer files by family (any one of the sets suffices). */
function hasTokenizerFiles(dir: string, cfg: EncoderConfig): boolean {
  return encoderTokenizerFileSets(cfg).some((set) => set.every((f) => existsSync(join(dir, f))));
}

/**
 * Load config, params and tokenizer of a BERT / DistilBERT / RoBERTa checkpoint, and the
 * sequence-classification head of a `*ForSequenceClassification` one.
 * @param nameOrPath Folder or hub id.
 * @param opts Hub and model options.
 * @returns Config, params, tokenizer and classification head (undefined for other checkpoints).
 */
export async function loadEncoder(
  nameOrPath: string,
  opts: EncoderFromPretrainedOptions = {},
): Promise<{ cfg: EncoderConfig; params: EncoderParams; tokenizer: Tokenizer | undefined; classifier: SequenceClassifier | undefined }> {
  checkOptionKeys(opts, ENCODER_PRETRAINED_KEYS, 'HookedEncoder.fromPretrained');
  const target = resolveAlias(nameOrPath, opts); // names are checked locally, before the backend starts
  await initBackend(opts.backend, { quiet: opts.quiet });
  const resolved = await resolveModelDir(target, opts);
  const hf = await readJsonFile<HfEncoderFile>(join(resolved.dir, 'config.json'), 'model config');
  const cfg = encoderConfigFromHf(hf);
  // Tokenizer first: nothing to free if it fails.
  let tokenizer: Tokenizer | undefined;
  if (opts.tokenizer === null) tokenizer = undefined;
  else if (opts.tokenizer !== undefined) tokenizer = opts.tokenizer;
  else if (hasTokenizerFiles(resolved.dir, cfg)) tokenizer = await loadTokenizer(resolved.dir, { modelType: cfg.modelType });
  else if (cfg.dVocab === 30522 && cfg.modelType !== 'roberta') tokenizer = await loadTokenizer(shippedTokenizerDir('distilbert-base-uncased'), { modelType: cfg.modelType });
  const raw = await loadCheckpointTensors(resolved.dir, { allowNonFinite: opts.allowNonFinite === true });
  return { cfg, tokenizer, ...encoderFromTensors(raw, hf, cfg) };
}
