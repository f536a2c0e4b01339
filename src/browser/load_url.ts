/**
 * Loading models, tokenizers and SAEs by URL (the browser's `fromPretrained`): the same config,
 * safetensors, tokenizer and weight-processing code as the Node folder loaders
 * (load_decoder_core.ts, load_encoder_core.ts, tokenizers/load_core.ts, io/checkpoint_bytes.ts,
 * sae/io_codec.ts), with the files fetched from `<baseUrl>/<file>`.
 */
import { NotFoundError } from '../errors.js';
import { backendInfo, initBrowserBackend, type BrowserBackendName, type BrowserBackendOptions } from '../backend/backend.browser.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import {
  checkpointTensorsFromBytes, missingShardTensorsError, parseJsonText, parseShardIndex,
  SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, takeShardTensors,
} from '../io/checkpoint_bytes.js';
import type { RawTensor } from '../io/safetensors_bytes.js';
import { baseUrlOf, UrlFolder, type UrlFetchOptions } from '../io/url_fetch.js';
import { HookedTransformer } from '../model/hooked_transformer.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import { encoderConfigFromHf } from '../model/encoder/encoder_config.js';
import { encoderFromTensors, encoderTokenizerFileSets, type HfEncoderFile } from '../model/encoder/load_encoder_core.js';
import { checkDefaults, DECODER_TOKENIZER_FILES, decoderConfigFromFile, decoderFromTensors, pickProcessing, type HfDecoderFile } from '../model/load_decoder_core.js';
import { DEFAULT_PROCESSING, NO_PROCESSING, type ProcessingOptions } from '../model/weight_processing.js';
import { tokenizerFromFiles, type TokenizerFileSource } from '../tokenizers/load_core.js';
import type { LoadTokenizerOptions } from '../tokenizers/load_options.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { saeFromFiles } from '../sae/io_codec.js';
import { findShippedSae, type ShippedSaeName } from '../sae/shipped_lookup.js';
import type { SparseAutoencoder } from '../sae/sae.js';
import { betaVaeFromParts, type DecodedBetaVae } from '../probe/vae_codec.js';
import { parseSafetensors } from '../io/safetensors_bytes.js';

/** Options of every URL loader. @category Browser */
export interface UrlLoadOptions extends UrlFetchOptions {
  /** Backend to start first (default: the one already started, else 'wasm'). */
  readonly backend?: BrowserBackendName;
  /** Where the wasm files are (default: next to the bundle). */
  readonly wasmPaths?: BrowserBackendOptions['wasmPaths'];
  /** Load NaN/Inf weights instead of throwing (default false). */
  readonly allowNonFinite?: boolean;
}

/** Options of {@link loadTransformerFromUrl}: TL weight processing (default on, as `fromPretrained`), hooks, tokenizer. @category Browser */
export interface TransformerUrlOptions extends UrlLoadOptions, ProcessingOptions {
  /** Optional hook points to enable. */
  readonly flags?: HookFlags;
  /** Tokenizer; `null` for none; default: the folder's (tokenizer.json or vocab.json + merges.txt). */
  readonly tokenizer?: Tokenizer | null;
  /** No weight processing unless a step is turned on (as `fromPretrainedNoProcessing`). */
  readonly noProcessing?: boolean;
  /** Whether string inputs get BOS by default (default: the family's). */
  readonly defaultPrependBos?: boolean;
  /** Padding side when a call gives none (default 'right'). */
  readonly defaultPaddingSide?: 'left' | 'right';
}

/** Options of {@link loadEncoderFromUrl}. @category Browser */
export interface EncoderUrlOptions extends UrlLoadOptions {
  /** Optional hook points to enable. */
  readonly flags?: HookFlags;
  /** Tokenizer; `null` for none; default: the folder's (tokenizer.json, vocab.txt; RoBERTa: vocab.json + merges.txt). */
  readonly tokenizer?: Tokenizer | null;
}

/** Start the asked backend; with none asked, keep the one running (else wasm). */
async function startBackend(opts: UrlLoadOptions): Promise<void> {
  if (opts.backend === undefined && backendInfo() !== undefined) return;
  await initBrowserBackend(opts.backend ?? 'wasm', opts.wasmPaths === undefined ? {} : { wasmPaths: opts.wasmPaths });
}

/** A tokenizer folder on a server: files are probed with GET (404 = absent) and kept. */
class UrlTokenizerFiles implements TokenizerFileSource {
  private readonly got = new Map<string, string | undefined>();

  constructor(
    private readonly folder: UrlFolder,
    known: Readonly<Record<string, string>> = {},
  ) {
    for (const [k, v] of Object.entries(known)) this.got.set(k, v);
  }

  get dir(): string {
    return this.folder.base;
  }

  async has(name: string): Promise<boolean> {
    if (!this.got.has(name)) this.got.set(name, await this.folder.text(name, `tokenizer file ${name}`, true));
    return this.got.get(name) !== undefined;
  }

  async text(name: string): Promise<string> {
    if (!(await this.has(name))) throw new NotFoundError(`loadTokenizerFromUrl: ${this.folder.url(name)} not found`);
    return this.got.get(name) as string;
  }

  path(name: string): string {
    return this.folder.url(name);
  }

  found(): readonly string[] {
    return [...this.got].filter(([, v]) => v !== undefined).map(([k]) => k).sort();
  }
}

/**
 * Load a tokenizer from a folder on a server (the files of `loadTokenizer`: tokenizer.json, else
 * vocab.json + merges.txt, else vocab.txt; tokenizer_config.json, special_tokens_map.json and config.json when there).
 * @param baseUrl The folder's URL (absolute, or relative to the page).
 * @param opts `modelType`, progress, fetch.
 * @returns The tokenizer.
 * @throws {@link "tfjs-lens"!HubError} naming the URL for a failed request; {@link "tfjs-lens"!TokenizerError} for missing or malformed files.
 * @example const tok = await loadTokenizerFromUrl('models/induction-2l/');
 * @category Browser
 */
export async function loadTokenizerFromUrl(baseUrl: string | URL, opts: LoadTokenizerOptions & UrlFetchOptions = {}): Promise<Tokenizer> {
  return tokenizerFromFiles(new UrlTokenizerFiles(new UrlFolder(baseUrlOf(baseUrl, 'loadTokenizerFromUrl'), 'loadTokenizerFromUrl', opts)), opts);
}

/** The checkpoint tensors of a folder on a server: model.safetensors, else the shard index and its shards. */
async function fetchCheckpoint(folder: UrlFolder, allowNonFinite: boolean): Promise<Map<string, RawTensor>> {
  const single = await folder.bytes(SAFETENSORS_FILE, 'model weights', true);
  if (single !== undefined) return checkpointTensorsFromBytes(single, folder.url(SAFETENSORS_FILE), { allowNonFinite });
  const indexText = await folder.text(SAFETENSORS_INDEX_FILE, 'shard index', true);
  if (indexText === undefined) {
    throw new NotFoundError(
      `${folder.fn}: no weights at ${folder.base} — expected ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE} there (both answered 404)`,
    );
  }
  const indexUrl = folder.url(SAFETENSORS_INDEX_FILE);
  const index = parseShardIndex(parseJsonText<unknown>(indexText, 'shard index', indexUrl, folder.fn), indexUrl);
  const out = new Map<string, RawTensor>();
  const missing: string[] = [];
  for (const shard of index.shards) {
    const bytes = (await folder.bytes(shard, `weight shard ${shard}`)) as Uint8Array;
    takeShardTensors(index.weightMap, shard, checkpointTensorsFromBytes(bytes, folder.url(shard), { allowNonFinite }), out, missing);
  }
  const err = missingShardTensorsError(missing, indexUrl, Object.keys(index.weightMap).length);
  if (err !== undefined) throw err;
  return out;
}

async function fetchConfig<T>(folder: UrlFolder): Promise<{ json: T; text: string }> {
  const text = (await folder.text('config.json', 'model config')) as string;
  return { json: parseJsonText<T>(text, 'model config', folder.url('config.json'), folder.fn), text };
}

/** The folder's tokenizer when one of the file sets is there (absent files answer 404). */
async function folderTokenizer(
  files: UrlTokenizerFiles,
  sets: readonly (readonly string[])[],
  modelType: string,
): Promise<Tokenizer | undefined> {
  for (const set of sets) {
    let all = true;
    for (const f of set) all = all && (await files.has(f));
    if (all) return tokenizerFromFiles(files, { modelType });
  }
  return undefined;
}

/**
 * Load a GPT-2, Llama, Mistral, Qwen2 or GPT-NeoX checkpoint from a folder on a server
 * (`config.json`, `model.safetensors` or a sharded index, tokenizer files) — the browser's
 * `HookedTransformer.fromPretrained`, with the same default weight processing.
 * @param baseUrl The folder's URL (absolute, or relative to the page).
 * @param opts Processing flags, hooks, tokenizer, backend, `onProgress`, `fetch`.
 * @returns The model.
 * @throws {@link "tfjs-lens"!HubError} naming the URL for a failed request or an HTML page;
 *   {@link "tfjs-lens"!ConfigError} for a config that is not JSON or not a supported model;
 *   {@link "tfjs-lens"!NotFoundError} when there are no weights; {@link "tfjs-lens"!SafetensorsError} / {@link "tfjs-lens"!WeightLoadError} for bad weights.
 * @example const model = await loadTransformerFromUrl('models/induction-2l/', { onProgress: (p) => bar.value = p.loaded });
 * @category Browser
 */
export async function loadTransformerFromUrl(baseUrl: string | URL, opts: TransformerUrlOptions = {}): Promise<HookedTransformer> {
  const fn = 'loadTransformerFromUrl';
  checkDefaults(opts, fn);
  const folder = new UrlFolder(baseUrlOf(baseUrl, fn), fn, opts);
  await startBackend(opts);
  const processing = { ...(opts.noProcessing === true ? NO_PROCESSING : DEFAULT_PROCESSING), ...pickProcessing(opts) };
  const processes = Object.values(processing).some((v) => v === true);
  const { json: hf, text } = await fetchConfig<HfDecoderFile>(folder);
  const rawCfg = decoderConfigFromFile(hf, folder.base, processes);
  let tokenizer: Tokenizer | undefined;
  if (opts.tokenizer === null) tokenizer = undefined;
  else if (opts.tokenizer !== undefined) tokenizer = opts.tokenizer;
  else {
    const files = new UrlTokenizerFiles(folder, { 'config.json': text });
    tokenizer = await folderTokenizer(files, [[DECODER_TOKENIZER_FILES[0] as string], ['vocab.json', 'merges.txt']], rawCfg.modelType);
  }
  const raw = await fetchCheckpoint(folder, opts.allowNonFinite === true);
  const l = decoderFromTensors(raw, rawCfg, hf, processing, folder.base, opts.defaultPrependBos);
  const model = new HookedTransformer(l.cfg, l.params, tokenizer, opts.flags, l.classifier);
  if (opts.defaultPaddingSide !== undefined) model.defaultPaddingSide = opts.defaultPaddingSide;
  return model;
}

/**
 * Load a BERT / DistilBERT / RoBERTa checkpoint from a folder on a server — the browser's
 * `HookedEncoder.fromPretrained`.
 * @param baseUrl The folder's URL (absolute, or relative to the page).
 * @param opts Hooks, tokenizer, backend, `onProgress`, `fetch`.
 * @returns The encoder.
 * @throws As {@link loadTransformerFromUrl}.
 * @example const enc = await loadEncoderFromUrl('models/distilbert-mini/');
 * @category Browser
 */
export async function loadEncoderFromUrl(baseUrl: string | URL, opts: EncoderUrlOptions = {}): Promise<HookedEncoder> {
  const fn = 'loadEncoderFromUrl';
  const folder = new UrlFolder(baseUrlOf(baseUrl, fn), fn, opts);
  await startBackend(opts);
  const { json: hf, text } = await fetchConfig<HfEncoderFile>(folder);
  const cfg = encoderConfigFromHf(hf);
  let tokenizer: Tokenizer | undefined;
  if (opts.tokenizer === null) tokenizer = undefined;
  else if (opts.tokenizer !== undefined) tokenizer = opts.tokenizer;
  else tokenizer = await folderTokenizer(new UrlTokenizerFiles(folder, { 'config.json': text }), encoderTokenizerFileSets(cfg), cfg.modelType);
  const raw = await fetchCheckpoint(folder, opts.allowNonFinite === true);
  const { params, classifier } = encoderFromTensors(raw, hf, cfg);
  return new HookedEncoder(cfg, params, tokenizer, opts.flags, classifier);
}

/**
 * Load an SAE saved in SAELens's format (`cfg.json` + `sae_weights.safetensors`) from a folder on a server.
 * @param baseUrl The folder's URL (absolute, or relative to the page).
 * @param opts Backend, `onProgress`, `fetch`, `allowNonFinite`.
 * @returns The SAE (dispose it).
 * @throws {@link "tfjs-lens"!HubError} naming the URL; {@link "tfjs-lens"!WeightLoadError} / {@link "tfjs-lens"!ConfigError} for bad files.
 * @example const sae = await loadSaeFromUrl('saes/induction-2l/blocks.0.hook_resid_post/');
 * @category Browser
 */
export async function loadSaeFromUrl(baseUrl: string | URL, opts: UrlLoadOptions = {}): Promise<SparseAutoencoder> {
  const fn = 'loadSaeFromUrl';
  const folder = new UrlFolder(baseUrlOf(baseUrl, fn), fn, opts);
  await startBackend(opts);
  const cfgText = (await folder.text('cfg.json', 'SAE config')) as string;
  const weights = (await folder.bytes('sae_weights.safetensors', 'SAE weights')) as Uint8Array;
  return saeFromFiles(cfgText, weights, { source: folder.base.replace(/\/$/, ''), allowNonFinite: opts.allowNonFinite === true });
}

/** One row of `saes/index.json`. */
interface ShippedSaeIndexRow extends ShippedSaeName {
  readonly path?: string;
}

function isIndexRow(x: unknown): x is ShippedSaeIndexRow {
  const r = x as Partial<ShippedSaeIndexRow> | null;
  return typeof r === 'object' && r !== null && typeof r.model === 'string' && typeof r.hook === 'string' && (r.path === undefined || typeof r.path === 'string');
}

/**
 * Load a shipped SAE by model and hook name from a server's copy of the package's `saes/` folder
 * (its `index.json` lists them; the same files as `loadShippedSae` reads in Node).
 * @param saesUrl URL of the `saes/` folder (absolute, or relative to the page).
 * @param modelName e.g. 'induction-2l'.
 * @param hookName e.g. 'blocks.0.hook_resid_post'.
 * @param opts Backend, `onProgress`, `fetch`, `allowNonFinite`.
 * @returns The SAE (dispose it).
 * @throws {@link "tfjs-lens"!ConfigError} for a model or hook with no shipped SAE (nearest name, the shipped list) or a bad index;
 *   {@link "tfjs-lens"!HubError} naming the URL when a file cannot be fetched.
 * @example const sae = await loadShippedSaeFromUrl('saes/', 'induction-2l', 'blocks.0.hook_resid_post');
 * @category Browser
 */
export async function loadShippedSaeFromUrl(saesUrl: string | URL, modelName: string, hookName: string, opts: UrlLoadOptions = {}): Promise<SparseAutoencoder> {
  const fn = 'loadShippedSaeFromUrl';
  const folder = new UrlFolder(baseUrlOf(saesUrl, fn), fn, opts);
  const index = parseJsonText<{ saes?: unknown }>((await folder.text('index.json', 'shipped-SAE index')) as string, 'shipped-SAE index', folder.url('index.json'), fn);
  const rows = Array.isArray(index.saes) ? index.saes.filter(isIndexRow) : [];
  const hit = findShippedSae(fn, rows, modelName, hookName);
  return loadSaeFromUrl(new URL(`${hit.path ?? `${hit.model}/${hit.hook}`}/`, folder.base), opts);
}

/**
 * Load a β-VAE probe saved by `saveBetaVae` (`vae_config.json` + `vae_weights.safetensors`) from a folder on a server.
 * @param baseUrl The folder's URL (absolute, or relative to the page).
 * @param opts Backend, `onProgress`, `fetch`, `allowNonFinite`.
 * @returns The probe (dispose `vae`), its feature scaler and metadata.
 * @throws {@link "tfjs-lens"!HubError} naming the URL; {@link "tfjs-lens"!ConfigError} / {@link "tfjs-lens"!SafetensorsError} for bad files (naming them).
 * @example const { vae, scaler } = await loadBetaVaeFromUrl('models/distilbert-mini/probe/sms_spam/');
 * @category Browser
 */
export async function loadBetaVaeFromUrl(baseUrl: string | URL, opts: UrlLoadOptions = {}): Promise<DecodedBetaVae> {
  const fn = 'loadBetaVaeFromUrl';
  const folder = new UrlFolder(baseUrlOf(baseUrl, fn), fn, opts);
  await startBackend(opts);
  // The file names of saveBetaVae (VAE_FILES in probe/vae_io.ts, a Node module).
  const [cfgName, weightsName] = ['vae_config.json', 'vae_weights.safetensors'];
  const config = parseJsonText<unknown>((await folder.text(cfgName, 'β-VAE config')) as string, 'β-VAE config', folder.url(cfgName), fn);
  const { tensors } = parseSafetensors((await folder.bytes(weightsName, 'β-VAE weights')) as Uint8Array, folder.url(weightsName));
  return betaVaeFromParts(config, tensors, { config: folder.url(cfgName), weights: folder.url(weightsName) }, { allowNonFinite: opts.allowNonFinite === true });
}
