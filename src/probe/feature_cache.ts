/**
 * On-disk cache of extracted probe features (`.cache/probe-features/` by default): one safetensors file per
 * (model, revision, hook, dataset part, max length, texts), holding `features` [n, d] F32 and the
 * key in `__metadata__`. The file name carries a hash of the key; a hit also re-checks the stored
 * key. Files are written atomically (temp + rename) and only after the features were computed and
 * checked, so a failed run leaves no partial cache file.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readSafetensorsFile, writeSafetensorsFile } from '../io/safetensors.js';
import { resolveAlias } from '../model/aliases.js';
import { checkFinite, type FeatureMatrix } from './matrix.js';

/**
 * What a cached feature matrix depends on.
 * @category Probe
 */
export interface FeatureCacheKey {
  /** Model name as given (alias, hub id or path). */
  readonly model: string;
  /** Model revision: hub commit/branch, or a fingerprint of a local checkpoint (see {@link modelRevision}). */
  readonly revision: string;
  /** Full hook name. */
  readonly hookName: string;
  /** Dataset and part, e.g. 'sms_spam/train'. */
  readonly dataset: string;
  /** Token limit used. */
  readonly maxLength: number;
  /** Hash of the texts, in order (see {@link hashTexts}). */
  readonly textsHash: string;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const slug = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);

/**
 * SHA-256 of a list of texts (length-prefixed, so ['ab'] and ['a', 'b'] differ).
 * @param texts Texts in order.
 * @returns Hex digest.
 * @throws Never.
 * @example hashTexts(['hello', 'world'])
 * @category Probe
 */
export function hashTexts(texts: readonly string[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(`${t.length}:${t}\u0000`);
  return h.digest('hex');
}

/**
 * A revision string for the cache key. Local folders (shipped aliases included) are fingerprinted
 * by their config.json contents and the size and mtime of their weight files, so retraining a local
 * model invalidates its cache; hub ids use `revision` (default 'main').
 * @param nameOrPath Alias, folder or hub id.
 * @param revision Hub revision asked for.
 * @returns e.g. 'local-3f9a0c12' or 'main'.
 * @throws Never (unreadable files fall back to the name).
 * @example await modelRevision('distilbert-mini')
 * @category Probe
 */
export async function modelRevision(nameOrPath: string, revision?: string): Promise<string> {
  const dir = resolveAlias(nameOrPath);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return revision ?? 'main';
  const parts: string[] = [];
  for (const f of ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    const st = statSync(p);
    parts.push(f === 'config.json' ? `${f}:${await readFile(p, 'utf8')}` : `${f}:${st.size}:${st.mtimeMs}`);
  }
  return `local-${sha(parts.join('|')).slice(0, 12)}`;
}

/**
 * The cache file of a key.
 * @param dir Cache folder.
 * @param key The key.
 * @returns `<dir>/<dataset>__<model>__<hook>__len<L>__<hash>.safetensors`.
 * @throws Never.
 * @example featureCachePath('.cache/probe-features', key)
 * @category Probe
 */
export function featureCachePath(dir: string, key: FeatureCacheKey): string {
  const h = sha(JSON.stringify(key)).slice(0, 16);
  return join(dir, `${slug(key.dataset)}__${slug(key.model)}__${slug(key.hookName)}__len${key.maxLength}__${h}.safetensors`);
}

/**
 * Return cached features, or compute, check and store them.
 * @param dir Cache folder (created on write).
 * @param key What the features depend on.
 * @param compute Produces the features on a miss.
 * @param opts.force Recompute and overwrite even on a hit (`--force-reprocess`).
 * @returns The features, whether they came from the cache, and the file path.
 * @throws Whatever `compute` throws (nothing is written); {@link "tfjs-lens"!DatasetError} if the computed
 *   features are not finite (nothing is written); {@link "tfjs-lens"!WeightLoadError} on write errors.
 * @example const { features, hit } = await cachedFeatures('.cache/probe-features', key, () => extractPooledFeatures(enc, texts, o));
 * @category Probe
 */
export async function cachedFeatures(
  dir: string,
  key: FeatureCacheKey,
  compute: () => FeatureMatrix | Promise<FeatureMatrix>,
  opts: { force?: boolean } = {},
): Promise<{
  /** The features [n, d]. */
  features: FeatureMatrix;
  /** True when they were read from the cache, false when computed (and written). */
  hit: boolean;
  /** The cache file. */
  path: string;
}> {
  const path = featureCachePath(dir, key);
  const meta = Object.fromEntries(Object.entries(key).map(([k, v]) => [k, String(v)]));
  const r = await cachedMatrixFile(path, meta, compute, { ...opts, fn: 'cachedFeatures' });
  return { features: r.matrix, hit: r.hit, path };
}

/**
 * The general form of {@link cachedFeatures}: one float32 matrix in one safetensors file, stored
 * with its key (`meta`) and a SHA-256 of its bytes in `__metadata__`. A hit needs the stored key to
 * equal `meta` and the checksum to match (a truncated, corrupt or foreign file is recomputed and
 * overwritten; files written before checksums existed are accepted on the key alone). Writes are
 * atomic (temp file + rename, see writeSafetensorsFile), so concurrent writers of the same key
 * leave one whole file and a reader never sees a partial one.
 * @param path The cache file.
 * @param meta Everything the matrix depends on, as strings.
 * @param compute Produces the matrix on a miss.
 * @param opts force (recompute even on a hit), fn (caller's name for messages), extraMeta (called
 *   after `compute`: more metadata to store, not part of the key, returned on a hit).
 * @returns The matrix and whether it was a hit.
 * @throws As {@link cachedFeatures}.
 * @example const { matrix, hit } = await cachedMatrixFile('.cache/x.safetensors', { model: 'm' }, () => m);
 * @category Probe
 */
export async function cachedMatrixFile(
  path: string,
  meta: Readonly<Record<string, string>>,
  compute: () => FeatureMatrix | Promise<FeatureMatrix>,
  opts: { force?: boolean; fn?: string; extraMeta?: () => Record<string, string> } = {},
): Promise<{
  /** The matrix [rows, cols]. */
  matrix: FeatureMatrix;
  /** True when read from the cache. */
  hit: boolean;
  /** The file's whole `__metadata__` (key, checksum and `extraMeta`). */
  metadata: Record<string, string>;
}> {
  const fn = opts.fn ?? 'cachedMatrixFile';
  if (opts.force !== true && existsSync(path)) {
    const hit = await readCached(path, meta, fn);
    if (hit !== undefined) return { matrix: hit.matrix, hit: true, metadata: hit.metadata };
  }
  const matrix = await compute();
  checkFinite(matrix, fn);
  await mkdir(dirname(path), { recursive: true });
  const data = matrix.data.length === matrix.rows * matrix.cols ? matrix.data : matrix.data.subarray(0, matrix.rows * matrix.cols);
  const metadata = { ...(opts.extraMeta?.() ?? {}), ...meta, [CHECKSUM]: checksum(data) };
  await writeSafetensorsFile(path, { features: { dtype: 'F32', shape: [matrix.rows, matrix.cols], data } }, metadata);
  return { matrix, hit: false, metadata };
}

/** Metadata entry holding the SHA-256 of the matrix bytes. */
const CHECKSUM = '__sha256';

/** SHA-256 of a float32 array's bytes. */
function checksum(data: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}

/** Read a cache file; undefined when unreadable, corrupt (checksum) or written for another key. */
async function readCached(path: string, key: Readonly<Record<string, string>>, fn: string): Promise<{ matrix: FeatureMatrix; metadata: Record<string, string> } | undefined> {
  try {
    const { tensors, metadata } = await readSafetensorsFile(path);
    const same = Object.entries(key).every(([k, v]) => metadata[k] === v);
    const t = tensors.get('features');
    if (!same || t === undefined || t.shape.length !== 2 || !(t.data instanceof Float32Array)) return undefined;
    const sum = metadata[CHECKSUM];
    if (sum !== undefined && sum !== checksum(t.data)) return undefined;
    const m = { rows: t.shape[0] as number, cols: t.shape[1] as number, data: t.data };
    checkFinite(m, fn);
    return { matrix: m, metadata };
  } catch {
    return undefined;
  }
}
