/**
 * Activation store (SAELens `ActivationsStore` + `mixing_buffer`): sources stream activations of one
 * hook [n, d_in] from a model over token rows (text is tokenised into context windows, documents
 * joined by a separator token, as SAELens concatenates sequences), or from an on-disk cache; the
 * store mixes them in a seeded shuffled buffer and serves half of it per refill, keeping the other
 * half to mix with new data. Normalisation (`expected_average_only_in`) is estimated here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { seededRng, type Rng } from '../utils/rng.js';
import { stopLayerAfterHook } from '../hooks/hook_point.js';
import { requireFamilyHook } from '../analysis/families.js';

/** Produces chunks of activations of one hook. @category SAE */
export interface ActivationSource {
  /** Row width (the SAE's d_in). */
  readonly dIn: number;
  /** The next chunk [n, d_in] row-major, or undefined when the source is exhausted. */
  next(): Promise<Float32Array | undefined>;
}

/** What the trainer and evaluators read: fixed-size batches. @category SAE */
export interface BatchProvider {
  /** Row width. */
  readonly dIn: number;
  /** Rows per batch. */
  readonly batchSize: number;
  /** The next batch [batchSize, d_in] row-major. */
  nextBatch(): Promise<Float32Array>;
}

/** The part of a hooked model (decoder or encoder) that a model source needs. @category SAE */
export interface CachingModel {
  /** Number of blocks, for `stopAtLayer`, and the architecture facts that decide which hooks exist. */
  readonly cfg: {
    /** Number of transformer blocks. */
    readonly nLayers: number;
    /** Decoders: parallel attention and MLP (no resid_mid). */
    readonly parallelAttnMlp?: boolean;
    /** Decoders: attention-only (no resid_mid). */
    readonly attnOnly?: boolean;
    /** Decoders: 'rotary' (no hook_pos_embed). */
    readonly positionalEmbeddingType?: string;
  };
  /** TransformerLens-style run with cache. */
  runWithCache(input: number[][], opts: { namesFilter: string[]; stopAtLayer?: number }): [unknown, ActivationCache];
}

/** Options of {@link modelActivationSource}. @category SAE */
export interface ModelSourceOptions {
  /** Token rows per forward pass (default 8; SAELens `store_batch_size_prompts`). */
  readonly batchPrompts?: number;
  /** Passes over the rows (default Infinity: cycle). */
  readonly epochs?: number;
  /** Keep positions [start, end) of each row (SAELens `seqpos_slice`; default all). */
  readonly seqposSlice?: readonly [number, number?];
}

/**
 * Stream one hook's activations from a model over token rows. Runs `runWithCache` with only that hook
 * and `stopAtLayer` just after its block (SAELens #245). Head dimensions (hook_z …) are flattened.
 * @param model A HookedTransformer or HookedEncoder.
 * @param hookName e.g. 'blocks.1.hook_resid_pre'.
 * @param rows Token rows [n_rows, pos] (equal lengths).
 * @param opts Prompts per pass, epochs, position slice.
 * @returns A source; d_in is read from the first pass.
 * @throws {@link "tfjs-lens"!ShapeError} if rows is empty or ragged; {@link "tfjs-lens"!ConfigError} for a hook the model
 *   family lacks (resid_mid with parallel attention and MLP, pos_embed with rotary positions).
 * @example const src = await modelActivationSource(model, 'blocks.0.hook_resid_post', rows);
 * @category SAE
 */
export async function modelActivationSource(
  model: CachingModel,
  hookName: string,
  rows: readonly (readonly number[])[],
  opts: ModelSourceOptions = {},
): Promise<ActivationSource> {
  const width = rows[0]?.length ?? 0;
  if (rows.length === 0 || width === 0 || rows.some((r) => r.length !== width)) {
    throw new ShapeError('modelActivationSource: rows must be a non-empty, non-ragged [n_rows, pos] array');
  }
  requireFamilyHook(model.cfg, hookName, 'modelActivationSource');
  const per = opts.batchPrompts ?? 8;
  const epochs = opts.epochs ?? Infinity;
  const stop = stopLayerAfterHook(hookName, model.cfg.nLayers);
  const start = opts.seqposSlice?.[0] ?? 0;
  const end = opts.seqposSlice?.[1];
  let cursor = 0;
  let epoch = 0;
  const run = (batch: number[][]): Float32Array => {
    const [out, cache] = model.runWithCache(batch, {
      namesFilter: [hookName],
      ...(stop !== undefined ? { stopAtLayer: stop } : {}),
    });
    disposeOutput(out);
    try {
      const a = cache.get(hookName); // [batch, pos, ...]
      return tf.tidy(() => {
        const [b, p] = a.shape as [number, number];
        const flat = tf.reshape(a, [b, p, -1]); // [batch, pos, d_in]
        const s = Math.max(0, start < 0 ? p + start : start);
        const e = end === undefined ? p : end < 0 ? p + end : Math.min(end, p);
        return tf.reshape(tf.slice(flat, [0, s, 0], [b, Math.max(e - s, 0), -1]), [-1, flat.shape[2] as number]).dataSync() as Float32Array; // [batch·pos, d_in]
      });
    } finally {
      cache.dispose();
    }
  };
  const next = async (): Promise<Float32Array | undefined> => {
    if (epoch >= epochs) return undefined;
    const batch = rows.slice(cursor, cursor + per).map((r) => [...r]);
    cursor += per;
    if (cursor >= rows.length) {
      cursor = 0;
      epoch += 1;
    }
    return run(batch);
  };
  const probe = run([[...(rows[0] as readonly number[])]]);
  const dIn = probe.length / Math.max(1, sliceLength(width, start, end));
  return { dIn, next };
}

function sliceLength(p: number, start: number, end: number | undefined): number {
  const s = Math.max(0, start < 0 ? p + start : start);
  const e = end === undefined ? p : end < 0 ? p + end : Math.min(end, p);
  return Math.max(e - s, 0);
}

function disposeOutput(out: unknown): void {
  if (out instanceof tf.Tensor) out.dispose();
  else if (typeof out === 'object' && out !== null) {
    for (const v of Object.values(out)) if (v instanceof tf.Tensor) v.dispose();
  }
}

/**
 * A source over activations already in memory (e.g. synthetic data), served in chunks.
 * @param data [n, d_in] row-major.
 * @param dIn Row width.
 * @param opts chunkRows (default 4096), epochs (default Infinity).
 * @returns The source.
 * @throws {@link "tfjs-lens"!ShapeError} if data is not a multiple of dIn.
 * @example const src = arrayActivationSource(x, 64);
 * @category SAE
 */
export function arrayActivationSource(data: Float32Array, dIn: number, opts: { chunkRows?: number; epochs?: number } = {}): ActivationSource {
  const n = data.length / dIn;
  if (!Number.isInteger(n) || n < 1) throw new ShapeError(`arrayActivationSource: data must hold a positive multiple of d_in = ${dIn} values, got ${data.length}`);
  const chunk = opts.chunkRows ?? 4096;
  let row = 0;
  let epoch = 0;
  return {
    dIn,
    next: async () => {
      if (epoch >= (opts.epochs ?? Infinity)) return undefined;
      const end = Math.min(row + chunk, n);
      const out = data.slice(row * dIn, end * dIn);
      row = end >= n ? 0 : end;
      if (row === 0) epoch += 1;
      return out;
    },
  };
}

/** Options of {@link ActivationStore}. @category SAE */
export interface ActivationStoreOptions {
  /** Rows per served batch (SAELens `train_batch_size_tokens`). */
  readonly batchSize: number;
  /** Buffer size in batches (default 8; SAELens `n_batches_in_buffer` = 20). */
  readonly bufferBatches?: number;
  /** Shuffle seed (default 0). */
  readonly seed?: number;
  /** Multiply every served row by this (set by {@link ActivationStore.estimateNormScalingFactor}). */
  readonly scale?: number;
}

/**
 * Seeded mixing buffer over a source: fill to `bufferBatches · batchSize` rows, shuffle, serve half,
 * keep half (SAELens `mixing_buffer`).
 * @example
 * const store = new ActivationStore(source, { batchSize: 4096, seed: 0 });
 * const x = await store.nextBatch();   // Float32Array [4096 · d_in]
 * @category SAE
 */
export class ActivationStore implements BatchProvider {
  readonly dIn: number;
  readonly batchSize: number;
  /** Factor applied to served rows (1 = none). */
  scale: number;
  private readonly bufferRows: number;
  private readonly rand: Rng;
  private buf = new Float32Array(0);
  private n = 0;
  private ready: Float32Array[] = [];
  private exhausted = false;

  /**
   * @param source Where activations come from.
   * @param opts Batch size, buffer size, seed, scale.
   * @throws {@link "tfjs-lens"!ConfigError} on a non-positive batch size.
   */
  constructor(readonly source: ActivationSource, opts: ActivationStoreOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) {
      throw new ConfigError(`ActivationStore: batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    this.dIn = source.dIn;
    this.batchSize = opts.batchSize;
    this.bufferRows = Math.max(2, opts.bufferBatches ?? 8) * opts.batchSize;
    this.rand = seededRng(opts.seed ?? 0);
    this.scale = opts.scale ?? 1;
  }

  /**
   * The next shuffled batch, scaled by {@link scale}.
   * @returns [batchSize, d_in] row-major.
   * @throws {@link "tfjs-lens"!ConfigError} when the source runs out (give it more epochs or rows).
   */
  async nextBatch(): Promise<Float32Array> {
    while (this.ready.length === 0) await this.refill();
    const b = this.ready.shift() as Float32Array;
    if (this.scale !== 1) for (let i = 0; i < b.length; i++) b[i] = (b[i] as number) * this.scale;
    return b;
  }

  /**
   * Estimate s = √d_in / E‖x‖ over `nBatches` batches (SAELens `ActivationScaler`,
   * `expected_average_only_in`), set it as {@link scale} and return it. The batches are consumed.
   * @param nBatches Batches to average over.
   * @returns The factor.
   */
  async estimateNormScalingFactor(nBatches: number): Promise<number> {
    const prev = this.scale;
    this.scale = 1;
    let sum = 0;
    for (let b = 0; b < nBatches; b++) {
      const x = await this.nextBatch();
      let tot = 0;
      for (let r = 0; r < this.batchSize; r++) {
        let ss = 0;
        for (let j = 0; j < this.dIn; j++) ss += (x[r * this.dIn + j] as number) ** 2;
        tot += Math.sqrt(ss);
      }
      sum += tot / this.batchSize;
    }
    this.scale = sum > 0 ? Math.sqrt(this.dIn) / (sum / nBatches) : prev;
    return this.scale;
  }

  private append(c: Float32Array): void {
    if (c.length % this.dIn !== 0) throw new ShapeError(`ActivationStore: a chunk of ${c.length} values is not a multiple of d_in = ${this.dIn}`);
    const need = this.n * this.dIn + c.length;
    if (need > this.buf.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.n * this.dIn));
      this.buf = grown;
    }
    this.buf.set(c, this.n * this.dIn);
    this.n += c.length / this.dIn;
  }

  private async refill(): Promise<void> {
    while (!this.exhausted && this.n < this.bufferRows) {
      const c = await this.source.next();
      if (c === undefined) this.exhausted = true;
      else this.append(c);
    }
    const { n, dIn, batchSize } = this;
    if (n < batchSize) {
      throw new ConfigError(`ActivationStore: the source is exhausted (${n} rows left, batch ${batchSize}); give it more rows or epochs`);
    }
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
    }
    const serving = this.exhausted ? Math.floor(n / batchSize) : Math.max(1, Math.floor(n / (2 * batchSize)));
    for (let b = 0; b < serving; b++) {
      const out = new Float32Array(batchSize * dIn);
      for (let r = 0; r < batchSize; r++) {
        const src = perm[b * batchSize + r] as number;
        out.set(this.buf.subarray(src * dIn, (src + 1) * dIn), r * dIn);
      }
      this.ready.push(out);
    }
    const kept = new Float32Array(Math.max(this.buf.length, (n - serving * batchSize) * dIn));
    for (let r = serving * batchSize; r < n; r++) {
      const src = perm[r] as number;
      kept.set(this.buf.subarray(src * dIn, (src + 1) * dIn), (r - serving * batchSize) * dIn);
    }
    this.buf = kept;
    this.n = n - serving * batchSize;
  }
}

/**
 * Context windows for SAE training from tokenised documents (SAELens concatenates sequences): the
 * documents are joined with `separator` between them and cut into windows of `contextSize` tokens,
 * each starting with `bos` when given. The last partial window is dropped.
 * @param docs Token ids per document.
 * @param contextSize Tokens per window.
 * @param opts bos (prepended to every window), separator (between documents; default bos).
 * @returns Rows [n_windows, contextSize].
 * @throws {@link "tfjs-lens"!ConfigError} on contextSize < 2 (with bos) or < 1.
 * @example tokenWindows([[5, 6, 7], [8, 9]], 4, { bos: 0 });   // [[0, 5, 6, 7]]
 * @category SAE
 */
export function tokenWindows(
  docs: readonly (readonly number[])[],
  contextSize: number,
  opts: { bos?: number; separator?: number } = {},
): number[][] {
  const body = contextSize - (opts.bos !== undefined ? 1 : 0);
  if (!Number.isInteger(contextSize) || body < 1) throw new ConfigError(`tokenWindows: contextSize too small (${contextSize})`);
  const sep = opts.separator ?? opts.bos;
  const stream: number[] = [];
  docs.forEach((d, i) => {
    if (i > 0 && sep !== undefined) stream.push(sep);
    for (const t of d) stream.push(t);
  });
  const out: number[][] = [];
  for (let s = 0; s + body <= stream.length; s += body) {
    const w = stream.slice(s, s + body);
    out.push(opts.bos !== undefined ? [opts.bos, ...w] : w);
  }
  return out;
}
