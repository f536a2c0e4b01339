/**
 * On-disk activation cache: a hook's activations written once as sharded safetensors
 * (`shard_00000.safetensors`, tensor `activations` [n, d_in], F32 or F16) plus `cache_meta.json`,
 * and read back shard by shard, so training can reuse them without the model and data larger than
 * memory works. (SAELens's `CacheActivationsRunner` writes Hugging Face Arrow shards; this is the
 * same idea on the safetensors reader/writer of `src/io`.)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, WeightLoadError } from '../errors.js';
import { fsError, readSafetensorsFile, writeSafetensorsFile } from '../io/safetensors.js';
import { seededRng } from '../utils/rng.js';
import type { ActivationSource } from './activation_store.js';

/** `cache_meta.json`. @category SAE */
export interface ActivationCacheMeta {
  /** Always 'tfjs-lens-activation-cache'. */
  readonly format: 'tfjs-lens-activation-cache';
  /** Format version (1). */
  readonly version: 1;
  /** Row width. */
  readonly d_in: number;
  /** Total rows. */
  readonly n_tokens: number;
  /** Stored dtype. */
  readonly dtype: 'F32' | 'F16';
  /** Shard files in order, with their row counts. */
  readonly shards: readonly {
    /** File name inside the cache folder (`shard_00000.safetensors` …). */
    readonly file: string;
    /** Rows (tokens) in the shard. */
    readonly n: number;
  }[];
  /** Free-form provenance (hook_name, model_name, context_size …). */
  readonly metadata: Record<string, unknown>;
}

/** Options of {@link cacheActivations}. @category SAE */
export interface CacheActivationsOptions {
  /** Rows to write. */
  readonly nTokens: number;
  /** Rows per shard (default 65536). */
  readonly shardTokens?: number;
  /** Stored dtype (default 'F32'; 'F16' halves the size). */
  readonly dtype?: 'F32' | 'F16';
  /** Provenance written to cache_meta.json. */
  readonly metadata?: Record<string, unknown>;
}

/**
 * Write `nTokens` rows of a source to `dir` as safetensors shards (stops early if the source ends).
 * @param source e.g. {@link modelActivationSource}.
 * @param dir Output folder (created).
 * @param opts Rows, shard size, dtype, metadata.
 * @returns The metadata written.
 * @throws {@link "tfjs-lens"!ConfigError} on a non-positive nTokens; {@link "tfjs-lens"!WeightLoadError} on I/O errors.
 * @example await cacheActivations(source, 'results/act_cache/gpt2-tiny/blocks.1.hook_resid_pre', { nTokens: 1e6 });
 * @category SAE
 */
export async function cacheActivations(source: ActivationSource, dir: string, opts: CacheActivationsOptions): Promise<ActivationCacheMeta> {
  if (!(opts.nTokens > 0)) throw new ConfigError(`cacheActivations: nTokens must be > 0, got ${opts.nTokens}`);
  const { dIn } = source;
  const per = opts.shardTokens ?? 65536;
  const dtype = opts.dtype ?? 'F32';
  await mkdir(dir, { recursive: true });
  const shards: { file: string; n: number }[] = [];
  let pending: Float32Array[] = [];
  let pendingRows = 0;
  let total = 0;
  const flush = async (rows: number): Promise<void> => {
    const data = new Float32Array(rows * dIn);
    let off = 0;
    for (const c of pending) {
      const take = Math.min(c.length, data.length - off);
      data.set(c.subarray(0, take), off);
      off += take;
    }
    const file = `shard_${String(shards.length).padStart(5, '0')}.safetensors`;
    await writeSafetensorsFile(join(dir, file), { activations: { dtype, shape: [rows, dIn], data } });
    shards.push({ file, n: rows });
    pending = [];
    pendingRows = 0;
  };
  while (total < opts.nTokens) {
    const c = await source.next();
    if (c === undefined) break;
    const rows = Math.min(c.length / dIn, opts.nTokens - total);
    let start = 0;
    while (start < rows) {
      const take = Math.min(rows - start, per - pendingRows);
      pending.push(c.subarray(start * dIn, (start + take) * dIn));
      pendingRows += take;
      start += take;
      if (pendingRows === per) await flush(per);
    }
    total += rows;
  }
  if (pendingRows > 0) await flush(pendingRows);
  const meta: ActivationCacheMeta = {
    format: 'tfjs-lens-activation-cache', version: 1, d_in: dIn, n_tokens: total, dtype, shards, metadata: opts.metadata ?? {},
  };
  try {
    await writeFile(join(dir, 'cache_meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  } catch (err) {
    throw fsError('cacheActivations', join(dir, 'cache_meta.json'), err);
  }
  return meta;
}

/**
 * Read a cache's metadata.
 * @param dir Cache folder.
 * @returns The parsed `cache_meta.json`.
 * @throws {@link "tfjs-lens"!NotFoundError} if absent; {@link "tfjs-lens"!WeightLoadError} if malformed.
 * @example (await readActivationCacheMeta(dir)).n_tokens;
 * @category SAE
 */
export async function readActivationCacheMeta(dir: string): Promise<ActivationCacheMeta> {
  const path = join(dir, 'cache_meta.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fsError('readActivationCacheMeta', path, err);
  }
  const meta = JSON.parse(text) as ActivationCacheMeta;
  if (meta.format !== 'tfjs-lens-activation-cache' || !Array.isArray(meta.shards) || !(meta.d_in > 0)) {
    throw new WeightLoadError(`readActivationCacheMeta: ${path} is not an activation cache (format, shards, d_in)`);
  }
  return meta;
}

/**
 * Stream a cache shard by shard (one shard in memory at a time). With a seed the shard order is
 * shuffled each epoch; the {@link ActivationStore} buffer shuffles rows.
 * @param dir Cache folder.
 * @param opts epochs (default Infinity), seed (default: no shard shuffling).
 * @returns A source.
 * @throws {@link "tfjs-lens"!NotFoundError} / {@link "tfjs-lens"!WeightLoadError} for a missing or malformed cache.
 * @example const store = new ActivationStore(await diskActivationSource(dir), { batchSize: 4096 });
 * @category SAE
 */
export async function diskActivationSource(dir: string, opts: { epochs?: number; seed?: number } = {}): Promise<ActivationSource> {
  const meta = await readActivationCacheMeta(dir);
  const rand = opts.seed !== undefined ? seededRng(opts.seed) : undefined;
  let order: number[] = [];
  let epoch = 0;
  const newOrder = (): number[] => {
    const o = meta.shards.map((_, i) => i);
    if (rand !== undefined) {
      for (let i = o.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [o[i], o[j]] = [o[j] as number, o[i] as number];
      }
    }
    return o;
  };
  return {
    dIn: meta.d_in,
    next: async () => {
      if (order.length === 0) {
        if (epoch >= (opts.epochs ?? Infinity) || meta.shards.length === 0) return undefined;
        order = newOrder();
        epoch += 1;
      }
      const shard = meta.shards[order.shift() as number] as { file: string; n: number };
      const { tensors } = await readSafetensorsFile(join(dir, shard.file));
      const t = tensors.get('activations');
      if (t === undefined || t.shape[1] !== meta.d_in || !(t.data instanceof Float32Array)) {
        throw new WeightLoadError(`diskActivationSource: ${shard.file} lacks a float 'activations' tensor [n, ${meta.d_in}]`);
      }
      return t.data;
    },
  };
}
