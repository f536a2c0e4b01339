/**
 * Text baselines a practitioner tries first, on the raw texts instead of encoder features: TF-IDF
 * (character 2–4-grams or words, scikit-learn's `TfidfVectorizer` defaults: raw counts, smooth idf
 * ln((1 + n)/(1 + df)) + 1, l2-normalised rows, vocabulary fixed at fit) with cosine k-NN
 * (1 − mean similarity of the k nearest training texts), and the reconstruction error of the
 * TF-IDF rows outside the top singular directions of the training rows (truncated SVD, uncentred,
 * as scikit-learn's `TruncatedSVD`). All are fitted on normal training texts only. One change from
 * scikit-learn: terms unseen at fit time (weight = count × the largest idf, ln(1 + n) + 1) count in
 * a row's norm before they are dropped, so a text made of unseen terms is far from every training
 * text instead of being the zero vector (which the SVD would reconstruct perfectly).
 */
import { ConfigError, DatasetError } from '../errors.js';
import { symmetricEigen } from './linalg.js';

/** How texts are cut into terms. @category Probe */
export type TfidfAnalyzer = 'char_2_4' | 'word';

/** Terms of one text: character 2–4-grams of the lower-cased text, or words of ≥ 2 word characters. */
function terms(text: string, analyzer: TfidfAnalyzer): string[] {
  const t = text.toLowerCase().replace(/\s+/g, ' ');
  if (analyzer === 'word') return t.match(/\b\w\w+\b/gu) ?? [];
  const out: string[] = [];
  for (let n = 2; n <= 4; n++) for (let i = 0; i + n <= t.length; i++) out.push(t.slice(i, i + n));
  return out;
}

/** A sparse l2-normalised row. */
interface SparseRow {
  readonly idx: Int32Array;
  readonly val: Float64Array;
  /** Squared norm of the dropped unseen terms (after normalising), so ‖x‖² = Σ val² + rest. */
  readonly rest: number;
}

/**
 * A fitted TF-IDF text detector (higher score = more anomalous).
 * @category Probe
 */
export interface TextDetector {
  /** Name for tables. */
  readonly name: string;
  /** Score texts. */
  score(texts: readonly string[]): number[];
}

/** Fit the vocabulary and idf on `texts`; returns a vectoriser. */
function fitTfidf(texts: readonly string[], analyzer: TfidfAnalyzer): (t: string) => SparseRow {
  const vocab = new Map<string, number>();
  const df: number[] = [];
  for (const text of texts) {
    for (const term of new Set(terms(text, analyzer))) {
      let id = vocab.get(term);
      if (id === undefined) {
        id = vocab.size;
        vocab.set(term, id);
        df.push(0);
      }
      df[id] = (df[id] as number) + 1;
    }
  }
  const n = texts.length;
  const idf = Float64Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
  const idfUnseen = Math.log(1 + n) + 1;
  return (text: string): SparseRow => {
    const counts = new Map<number, number>();
    const unseen = new Map<string, number>();
    for (const term of terms(text, analyzer)) {
      const id = vocab.get(term);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
      else unseen.set(term, (unseen.get(term) ?? 0) + 1);
    }
    const idx = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const val = Float64Array.from(idx, (id) => (counts.get(id) as number) * (idf[id] as number));
    const unseenSq = [...unseen.values()].reduce((a, c) => a + (c * idfUnseen) ** 2, 0);
    const norm = Math.sqrt(val.reduce((a, v) => a + v * v, 0) + unseenSq);
    if (norm > 0) for (let i = 0; i < val.length; i++) val[i] = (val[i] as number) / norm;
    return { idx, val, rest: norm > 0 ? unseenSq / norm ** 2 : 0 };
  };
}

/** Inverted index of training rows: cosine similarity of a row to every training row. */
function similarityIndex(rows: readonly SparseRow[]): (q: SparseRow) => Float64Array {
  const lists = new Map<number, { docs: number[]; vals: number[] }>();
  rows.forEach((r, d) => {
    r.idx.forEach((id, j) => {
      let p = lists.get(id);
      if (p === undefined) lists.set(id, (p = { docs: [], vals: [] }));
      p.docs.push(d);
      p.vals.push(r.val[j] as number);
    });
  });
  const postings = new Map<number, { docs: Int32Array; vals: Float64Array }>();
  for (const [id, p] of lists) postings.set(id, { docs: Int32Array.from(p.docs), vals: Float64Array.from(p.vals) });
  return (q: SparseRow): Float64Array => {
    const sims = new Float64Array(rows.length);
    for (let j = 0; j < q.idx.length; j++) {
      const p = postings.get(q.idx[j] as number);
      if (p === undefined) continue;
      const w = q.val[j] as number;
      const { docs, vals } = p;
      for (let k = 0; k < docs.length; k++) {
        const d = docs[k] as number;
        sims[d] = (sims[d] as number) + w * (vals[k] as number);
      }
    }
    return sims;
  };
}

/** Mean of the k largest values. */
function topKMean(a: Float64Array, k: number): number {
  const best = new Float64Array(k).fill(-Infinity);
  for (const v of a) {
    if (v <= (best[k - 1] as number)) continue;
    let i = k - 1;
    while (i > 0 && (best[i - 1] as number) < v) {
      best[i] = best[i - 1] as number;
      i--;
    }
    best[i] = v;
  }
  return best.reduce((t, v) => t + v, 0) / k;
}

/**
 * TF-IDF + cosine k-NN: score = 1 − mean cosine similarity to the k nearest training texts.
 * @param train Normal training texts (more than k).
 * @param opts analyzer ('char_2_4' default, or 'word') and k (default 5).
 * @returns The detector, named `tfidf_char_knn` or `tfidf_word_knn`.
 * @throws {@link "tfjs-lens"!DatasetError} for k or fewer texts; {@link "tfjs-lens"!ConfigError} for a bad k.
 * @example fitTfidfKnn(trainTexts, { analyzer: 'char_2_4' }).score(testTexts)
 * @category Probe
 */
export function fitTfidfKnn(train: readonly string[], opts: { analyzer?: TfidfAnalyzer; k?: number } = {}): TextDetector {
  const analyzer = opts.analyzer ?? 'char_2_4';
  const k = opts.k ?? 5;
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`fitTfidfKnn: k must be a positive integer, got ${k}`);
  if (train.length <= k) throw new DatasetError(`fitTfidfKnn: need more than k = ${k} training texts, got ${train.length}`);
  const vec = fitTfidf(train, analyzer);
  const sims = similarityIndex(train.map(vec));
  return { name: `tfidf_${analyzer === 'word' ? 'word' : 'char'}_knn`, score: (texts) => texts.map((t) => 1 - topKMean(sims(vec(t)), k)) };
}

/**
 * TF-IDF truncated-SVD reconstruction error: ‖x‖² − ‖V_kᵀx‖² with V_k the top-k right singular
 * vectors of the training TF-IDF matrix X, computed from the Gram matrix XXᵀ = UΛUᵀ
 * (V_kᵀx = Λ_k^{-1/2} U_kᵀ Xx).
 * @param train Normal training texts (at least 2).
 * @param opts analyzer (default 'word'), components k (default 50, capped at n − 1) and
 *   maxFit (most training texts used for the SVD: the first ones, default 500).
 * @returns The detector, named `tfidf_<analyzer>_svd`.
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than 2 texts; {@link "tfjs-lens"!ConfigError} for a bad k.
 * @example fitTfidfSvd(trainTexts, { components: 50 }).score(testTexts)
 * @category Probe
 */
export function fitTfidfSvd(train: readonly string[], opts: { analyzer?: TfidfAnalyzer; components?: number; maxFit?: number } = {}): TextDetector {
  const analyzer = opts.analyzer ?? 'word';
  if (train.length < 2) throw new DatasetError(`fitTfidfSvd: need at least 2 training texts, got ${train.length}`);
  const fit = train.slice(0, opts.maxFit ?? 500);
  const k = Math.min(opts.components ?? 50, fit.length - 1);
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`fitTfidfSvd: components must be a positive integer, got ${opts.components}`);
  const vec = fitTfidf(fit, analyzer);
  const rows = fit.map(vec);
  const sims = similarityIndex(rows);
  const gram = rows.map((r) => sims(r)); // [n, n]
  const { values, vectors } = symmetricEigen(gram);
  const keep = Array.from(values.slice(0, k), (v, i) => ({ v, u: vectors[i] as Float64Array })).filter((c) => c.v > 1e-10);
  return {
    name: `tfidf_${analyzer === 'word' ? 'word' : 'char'}_svd`,
    score: (texts) => texts.map((t) => {
      const x = vec(t);
      const sq = x.val.reduce((a, v) => a + v * v, 0) + x.rest;
      const kx = sims(x);
      let proj = 0;
      for (const c of keep) {
        let dot = 0;
        for (let i = 0; i < kx.length; i++) dot += (c.u[i] as number) * (kx[i] as number);
        proj += (dot * dot) / c.v;
      }
      return Math.max(0, sq - proj);
    }),
  };
}
