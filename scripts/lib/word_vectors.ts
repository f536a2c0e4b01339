/**
 * Count-based word vectors: truncated SVD of the positive PMI matrix of token co-occurrences
 * (Levy, Goldberg & Dagan 2015, "Improving distributional similarity with lessons learned from word
 * embeddings": context-distribution smoothing α = 0.75, symmetric window, U·Σ^½ as the vectors).
 * Used to initialise the word embeddings of a small encoder before masked-LM training
 * (scripts/train_distilbert_mini.ts), where random embeddings leave a tiny model on the unigram
 * plateau. The SVD is randomised (Halko, Martinsson & Tropp 2011): the big products run as tfjs
 * matmuls, the small orthonormalisations and the final SVD in ml-matrix.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { ConfigError, ShapeError } from '../../src/errors.js';
import { seededRng } from '../../src/utils/rng.js';

/** Options of {@link ppmiSvdVectors}. @category Training */
export interface PpmiOptions {
  /** Vector size. */
  readonly dim: number;
  /** Keep the most frequent tokens, at most this many (default 8000). */
  readonly maxVocab?: number;
  /** Tokens seen fewer times are left out (default 5). */
  readonly minCount?: number;
  /** Co-occurrence window on each side (default 5); a pair d apart counts (window − d + 1) / window. */
  readonly window?: number;
  /** Context-distribution smoothing exponent (default 0.75). */
  readonly alpha?: number;
  /** Token ids never counted (special tokens). */
  readonly exclude?: ReadonlySet<number>;
  /** Extra random directions of the randomised SVD (default 16) and power iterations (default 2). */
  readonly oversample?: number;
  readonly powerIterations?: number;
  /** Seed of the random test matrix (default 0). */
  readonly seed?: number;
}

/** Word vectors for the kept tokens, most frequent first. @category Training */
export interface WordVectors {
  /** Token id of each row. */
  readonly ids: number[];
  /** How often each kept token occurs. */
  readonly counts: number[];
  /** Row-major [ids.length, dim]. */
  readonly vectors: Float32Array;
  readonly dim: number;
  /** The top `dim` singular values of the PPMI matrix. */
  readonly singularValues: number[];
}

/** Token counts → the kept ids (most frequent first, ties by id) and an id → row map. */
function keptVocab(docs: readonly (readonly number[])[], minCount: number, maxVocab: number, exclude: ReadonlySet<number>): { ids: number[]; counts: number[]; row: Map<number, number> } {
  const freq = new Map<number, number>();
  for (const d of docs) for (const t of d) if (!exclude.has(t)) freq.set(t, (freq.get(t) ?? 0) + 1);
  const kept = [...freq].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, maxVocab);
  return { ids: kept.map(([id]) => id), counts: kept.map(([, c]) => c), row: new Map(kept.map(([id], i) => [id, i])) };
}

/** Weighted symmetric co-occurrence counts [v, v] (row-major). */
function cooccurrences(docs: readonly (readonly number[])[], row: ReadonlyMap<number, number>, v: number, window: number): Float32Array {
  const c = new Float32Array(v * v);
  for (const d of docs) {
    const rows = d.map((t) => row.get(t) ?? -1);
    for (let i = 0; i < rows.length; i++) {
      const a = rows[i] as number;
      if (a < 0) continue;
      for (let dist = 1; dist <= window && i + dist < rows.length; dist++) {
        const b = rows[i + dist] as number;
        if (b < 0) continue;
        const w = (window - dist + 1) / window;
        c[a * v + b] = (c[a * v + b] as number) + w;
        c[b * v + a] = (c[b * v + a] as number) + w;
      }
    }
  }
  return c;
}

/** In place: counts → max(0, log(C_ij · Σ_c c^α / (w_i · c_j^α))). */
function toPpmi(c: Float32Array, v: number, alpha: number): void {
  const rowSum = new Float64Array(v);
  const colPow = new Float64Array(v);
  for (let i = 0; i < v; i++) for (let j = 0; j < v; j++) rowSum[i] = (rowSum[i] as number) + (c[i * v + j] as number);
  let colPowSum = 0;
  for (let j = 0; j < v; j++) {
    colPow[j] = Math.pow(rowSum[j] as number, alpha); // symmetric counts: column sums = row sums
    colPowSum += colPow[j] as number;
  }
  for (let i = 0; i < v; i++) {
    for (let j = 0; j < v; j++) {
      const x = c[i * v + j] as number;
      const denom = (rowSum[i] as number) * (colPow[j] as number);
      c[i * v + j] = x > 0 && denom > 0 ? Math.max(0, Math.log((x * colPowSum) / denom)) : 0;
    }
  }
}

/** Orthonormal basis of the columns of y [n, k] (thin QR). */
function orthonormal(y: tf.Tensor2D): tf.Tensor2D {
  const [n, k] = y.shape;
  const q = new QrDecomposition(Matrix.from1DArray(n, k, y.dataSync())).orthogonalMatrix;
  return tf.tensor2d(q.to1DArray(), [n, k]);
}

/**
 * Randomised truncated SVD of m [v, v]: the top `dim` left singular vectors scaled by √σ.
 * @returns Vectors [v, dim] and the singular values.
 */
function randomisedSvd(m: Float32Array, v: number, dim: number, oversample: number, iters: number, seed: number): { vectors: Float32Array; sv: number[] } {
  const k = Math.min(v, dim + oversample);
  const rng = seededRng(seed);
  const omega = Float32Array.from({ length: v * k }, () => rng() * 2 - 1);
  let sv: number[] = [];
  const u = tf.tidy(() => {
    const a = tf.tensor2d(m, [v, v]);
    const at = tf.transpose(a); // plain matmuls only (transposed-operand matmuls are slow on wasm)
    let q = orthonormal(tf.matMul(a, tf.tensor2d(omega, [v, k]))); // [v, k]
    for (let i = 0; i < iters; i++) q = orthonormal(tf.matMul(a, orthonormal(tf.matMul(at, q))));
    const bt = tf.matMul(at, q); // Bᵀ = Aᵀ·Q with B = Qᵀ·A: [v, k]
    // Bᵀ = U' Σ V'ᵀ  ⇒  B = V' Σ U'ᵀ: B's left singular vectors are V' [k, k].
    const svd = new SingularValueDecomposition(Matrix.from1DArray(v, k, bt.dataSync()), { autoTranspose: true });
    sv = svd.diagonal.slice(0, dim);
    const vb = svd.rightSingularVectors.subMatrix(0, k - 1, 0, dim - 1); // [k, dim]
    const scaled = vb.mulRowVector(sv.map((s) => Math.sqrt(s)));
    return tf.matMul(q, tf.tensor2d(scaled.to1DArray(), [k, dim])); // [v, dim]
  });
  const vectors = u.dataSync() as Float32Array;
  u.dispose();
  return { vectors, sv };
}

/** The PPMI matrix of the kept tokens. @category Training */
export interface PpmiMatrix {
  /** Token id of each row/column, most frequent first. */
  readonly ids: number[];
  readonly counts: number[];
  /** Row-major [ids.length, ids.length]. */
  readonly matrix: Float32Array;
}

function checkOptions(o: PpmiOptions): Required<Omit<PpmiOptions, 'exclude'>> & { exclude: ReadonlySet<number> } {
  const r = { maxVocab: 8000, minCount: 5, window: 5, alpha: 0.75, oversample: 16, powerIterations: 2, seed: 0, ...o, exclude: o.exclude ?? new Set<number>() };
  for (const name of ['dim', 'maxVocab', 'minCount', 'window', 'oversample'] as const) {
    const x = r[name];
    if (!Number.isInteger(x) || x < 1) throw new ConfigError(`ppmiSvdVectors: ${name} must be a positive integer, got ${x}`);
  }
  if (!Number.isInteger(r.powerIterations) || r.powerIterations < 0) throw new ConfigError(`ppmiSvdVectors: powerIterations must be a non-negative integer, got ${r.powerIterations}`);
  if (!(r.alpha > 0 && r.alpha <= 1)) throw new ConfigError(`ppmiSvdVectors: alpha must be in (0, 1], got ${r.alpha}`);
  return r;
}

/**
 * The positive-PMI matrix of the documents' token co-occurrences (`dim` is not used).
 * @param docs Token id sequences (co-occurrences never cross documents).
 * @param opts Options.
 * @returns Kept ids, their counts and the matrix.
 * @throws {@link ConfigError} for a bad option.
 * @category Training
 */
export function ppmiMatrix(docs: readonly (readonly number[])[], opts: PpmiOptions): PpmiMatrix {
  return ppmiChecked(docs, checkOptions(opts));
}

function ppmiChecked(docs: readonly (readonly number[])[], o: ReturnType<typeof checkOptions>): PpmiMatrix {
  const { ids, counts, row } = keptVocab(docs, o.minCount, o.maxVocab, o.exclude);
  const matrix = cooccurrences(docs, row, ids.length, o.window);
  toPpmi(matrix, ids.length, o.alpha);
  return { ids, counts, matrix };
}

/**
 * Word vectors from the PPMI matrix of the documents' token co-occurrences: the top `dim` left
 * singular vectors times √σ.
 * @param docs Token id sequences (co-occurrences never cross documents).
 * @param opts Options; `dim` is required.
 * @returns Vectors for the kept tokens.
 * @throws {@link ConfigError} for a bad option; {@link ShapeError} when no more than `dim` tokens are kept.
 * @example
 * const wv = ppmiSvdVectors(docs, { dim: 128, exclude: new Set([0, 100, 101, 102, 103]) });
 * @category Training
 */
export function ppmiSvdVectors(docs: readonly (readonly number[])[], opts: PpmiOptions): WordVectors {
  const o = checkOptions(opts);
  const { ids, counts, matrix } = ppmiChecked(docs, o);
  const v = ids.length;
  if (v <= o.dim) throw new ShapeError(`ppmiSvdVectors: only ${v} tokens occur at least ${o.minCount} times; need more than dim = ${o.dim}`);
  const { vectors, sv } = randomisedSvd(matrix, v, o.dim, o.oversample, o.powerIterations, o.seed);
  return { ids, counts, vectors, dim: o.dim, singularValues: sv };
}
