/**
 * On-disk caches of pooled embeddings and detector predictions, shared safely between runs and
 * processes. Built on the probe's feature cache (src/probe/feature_cache.ts `cachedMatrixFile`):
 * one safetensors file per key, the key and a SHA-256 of the values stored in `__metadata__`,
 * atomic writes (temp file + rename: concurrent writers leave one whole file, a reader never sees a
 * partial one), and a corrupt or foreign file recomputed. Keys:
 * - embeddings: model, model revision, hook, text hash, options (pooling, max length, …);
 * - predictions: detector identity, model and revision (if any), text hash, options.
 * The revision should change with the weights: {@link modelWeightsHash} hashes the weight files'
 * contents (modelRevision in the probe only fingerprints size and mtime).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ShapeError } from '../errors.js';
import { resolveAlias } from '../model/aliases.js';
import { cachedMatrixFile, hashTexts } from '../probe/feature_cache.js';
import type { FeatureMatrix } from '../probe/matrix.js';

/**
 * Options a cached value depends on (pooling, max length, k, seed …); order of keys does not matter.
 * @category Anomaly
 */
export type CacheOptions = Readonly<Record<string, string | number | boolean>>;

/**
 * Key of a pooled-embedding cache entry.
 * @category Anomaly
 */
export interface EmbeddingCacheKey {
  /** Model name (alias, hub id or path). */
  readonly model: string;
  /** Model revision: e.g. {@link modelWeightsHash}, a hub commit, or the probe's modelRevision. */
  readonly revision: string;
  /** Full hook name. */
  readonly hookName: string;
  /** The texts, in order (hashed) — or their hash from hashTexts. */
  readonly texts: readonly string[] | {
    /** hashTexts(texts). */
    readonly hash: string;
  };
  /** Options the embeddings depend on. */
  readonly options?: CacheOptions;
}

/**
 * Key of a prediction cache entry.
 * @category Anomaly
 */
export interface PredictionCacheKey {
  /** Detector identity, e.g. 'lora-classifier' or 'tfidf-knn:k=5'. */
  readonly detector: string;
  /** Model the detector runs on, if any. */
  readonly model?: string;
  /** Its revision (weights hash, adapter hash …). */
  readonly revision?: string;
  /** The texts, in order (hashed) — or their hash from hashTexts. */
  readonly texts: readonly string[] | {
    /** hashTexts(texts). */
    readonly hash: string;
  };
  /** Options the predictions depend on. */
  readonly options?: CacheOptions;
}

/**
 * A cache lookup's outcome.
 * @category Anomaly
 */
export interface CacheResult<V> {
  /** The values. */
  readonly value: V;
  /** True when read from the cache (nothing was computed). */
  readonly hit: boolean;
  /** The cache file. */
  readonly path: string;
}

/**
 * The metadata map (all strings) of a key; options canonicalised by sorted key.
 * @param kind 'embedding' or 'prediction'.
 * @param key The key.
 * @returns String map stored in the file and compared on read.
 * @throws Never.
 * @example cacheKeyMeta('embedding', key).textsHash
 * @category Anomaly
 */
export function cacheKeyMeta(kind: 'embedding' | 'prediction', key: EmbeddingCacheKey | PredictionCacheKey): Record<string, string> {
  const textsHash = Array.isArray(key.texts) ? hashTexts(key.texts as readonly string[]) : (key.texts as { hash: string }).hash;
  const options = JSON.stringify(Object.entries(key.options ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const base: Record<string, string> = 'hookName' in key ? { model: key.model, revision: key.revision, hookName: key.hookName } : { detector: key.detector, model: key.model ?? '', revision: key.revision ?? '' };
  return { kind, ...base, textsHash, options };
}

/**
 * The file of a key: `<dir>/<kind>/<name>__<hash of the key>.safetensors`.
 * @param dir Cache folder.
 * @param kind 'embedding' or 'prediction'.
 * @param key The key.
 * @returns The path.
 * @throws Never.
 * @example anomalyCachePath('.cache/anomaly', 'prediction', { detector: 'bow', texts })
 * @category Anomaly
 */
export function anomalyCachePath(dir: string, kind: 'embedding' | 'prediction', key: EmbeddingCacheKey | PredictionCacheKey): string {
  const meta = cacheKeyMeta(kind, key);
  const h = createHash('sha256').update(JSON.stringify(meta)).digest('hex').slice(0, 20);
  const name = ('hookName' in key ? `${key.model}__${key.hookName}` : key.detector).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
  return join(dir, kind, `${name}__${h}.safetensors`);
}

/**
 * Pooled embeddings from the cache, or computed and stored.
 * @param dir Cache folder (created on write).
 * @param key Model, revision, hook, texts, options.
 * @param compute Produces the embeddings [n_texts, d] on a miss.
 * @param opts force: recompute and overwrite.
 * @returns The embeddings, hit, path.
 * @throws Whatever `compute` throws (nothing written); {@link "tfjs-lens"!DatasetError} for non-finite values; {@link "tfjs-lens"!ShapeError} when the row count differs from the text count; {@link "tfjs-lens"!WeightLoadError} on write errors.
 * @example const { value } = await cachedEmbeddings('.cache/anomaly', { model: 'distilbert-mini', revision: await modelWeightsHash('distilbert-mini'), hookName: 'blocks.0.attn.hook_q', texts }, () => extractPooledFeatures(enc, texts, o));
 * @category Anomaly
 */
export async function cachedEmbeddings(dir: string, key: EmbeddingCacheKey, compute: () => FeatureMatrix | Promise<FeatureMatrix>, opts: { readonly force?: boolean } = {}): Promise<CacheResult<FeatureMatrix>> {
  const path = anomalyCachePath(dir, 'embedding', key);
  const n = Array.isArray(key.texts) ? key.texts.length : undefined;
  const r = await cachedMatrixFile(path, cacheKeyMeta('embedding', key), async () => {
    const m = await compute();
    if (n !== undefined && m.rows !== n) throw new ShapeError(`cachedEmbeddings: compute returned ${m.rows} rows for ${n} texts`);
    return m;
  }, { force: opts.force === true, fn: 'cachedEmbeddings' });
  return { value: r.matrix, hit: r.hit, path };
}

/**
 * Detector predictions (one score per text, or one row of class scores per text) from the cache,
 * or computed and stored.
 * @param dir Cache folder (created on write).
 * @param key Detector, model, revision, texts, options.
 * @param compute Produces the predictions on a miss: number[] (scores) or number[][] (rows of equal length).
 * @param opts force: recompute and overwrite.
 * @returns The predictions in the shape computed, hit, path.
 * @throws As {@link cachedEmbeddings}; {@link "tfjs-lens"!ShapeError} for rows of unequal length.
 * @example const { value } = await cachedPredictions('.cache/anomaly', { detector: 'lora', model, revision, texts, options: { maxLen: 64 } }, () => scores(texts));
 * @category Anomaly
 */
export async function cachedPredictions<V extends number[] | number[][]>(dir: string, key: PredictionCacheKey, compute: () => V | Promise<V>, opts: { readonly force?: boolean } = {}): Promise<CacheResult<V>> {
  const fn = 'cachedPredictions';
  const path = anomalyCachePath(dir, 'prediction', key);
  const n = Array.isArray(key.texts) ? key.texts.length : undefined;
  let vector = true;
  const r = await cachedMatrixFile(path, cacheKeyMeta('prediction', key), async () => {
    const v = await compute();
    if (n !== undefined && v.length !== n) throw new ShapeError(`${fn}: compute returned ${v.length} predictions for ${n} texts`);
    vector = v.length === 0 || typeof v[0] === 'number';
    return toMatrix(v, vector, fn);
  }, { force: opts.force === true, fn, extraMeta: () => ({ layout: vector ? 'vector' : 'rows' }) });
  const m = r.matrix;
  const flat = r.metadata['layout'] !== 'rows';
  const value = (flat ? Array.from(m.data.subarray(0, m.rows)) : Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)))) as V;
  return { value, hit: r.hit, path };
}

/** Predictions as a float32 matrix ([n] → [n, 1]). */
function toMatrix(v: number[] | number[][], vector: boolean, fn: string): FeatureMatrix {
  if (vector) return { rows: v.length, cols: 1, data: Float32Array.from(v as number[]) };
  const rows = v as number[][];
  const cols = rows[0]?.length ?? 0;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new ShapeError(`${fn}: prediction row ${i} has ${r.length} values but row 0 has ${cols}`);
    data.set(r, i * cols);
  });
  return { rows: rows.length, cols, data };
}

const weightsHashMemo = new Map<string, string>();

/** Files whose contents define a model (or adapter) folder. */
const MODEL_FILES = ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json'];

/**
 * A revision that changes whenever the model's weights change: SHA-256 of the contents of its
 * config, weight files (sharded safetensors included), adapter files and tokenizer. Memoised per
 * process by path, size and mtime, so a folder is read once per run.
 * @param nameOrPath Alias or local folder (a model or a LoRA adapter folder).
 * @returns 'sha256-<first 16 hex digits>'.
 * @throws {@link "tfjs-lens"!ConfigError} when the folder does not exist or has none of the files.
 * @example const revision = await modelWeightsHash('distilbert-mini');
 * @category Anomaly
 */
export async function modelWeightsHash(nameOrPath: string): Promise<string> {
  const dir = resolveAlias(nameOrPath);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`modelWeightsHash: '${nameOrPath}' is not a local model folder (resolved to '${dir}'); pass a shipped alias or a folder with config.json and weights`);
  const files = [...MODEL_FILES];
  const idx = join(dir, 'model.safetensors.index.json');
  if (existsSync(idx)) {
    const { weight_map: wm } = JSON.parse(await readText(idx)) as { weight_map?: Record<string, string> };
    files.push(...[...new Set(Object.values(wm ?? {}))].sort());
  }
  const present = files.filter((f) => existsSync(join(dir, f)));
  if (present.length === 0) throw new ConfigError(`modelWeightsHash: '${dir}' has none of ${MODEL_FILES.join(', ')}`);
  const stamp = present.map((f) => {
    const st = statSync(join(dir, f));
    return `${f}:${st.size}:${st.mtimeMs}`;
  }).join('|');
  const memo = weightsHashMemo.get(`${dir}\u0000${stamp}`);
  if (memo !== undefined) return memo;
  const h = createHash('sha256');
  for (const f of present) {
    h.update(`${f}\u0000`);
    for await (const chunk of createReadStream(join(dir, f))) h.update(chunk as Buffer);
  }
  const out = `sha256-${h.digest('hex').slice(0, 16)}`;
  weightsHashMemo.set(`${dir}\u0000${stamp}`, out);
  return out;
}

/** A UTF-8 file's text. */
async function readText(path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
