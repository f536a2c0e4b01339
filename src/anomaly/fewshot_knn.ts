/**
 * The similarity arithmetic of few-shot detection: cosine similarity between pooled feature rows
 * (optionally centred on the labelled examples' mean first — pooled activations of a language model
 * share a large common direction, which pushes every raw cosine towards 1), the ranking of the
 * labelled examples by similarity, and the similarity-weighted k-nearest-neighbour vote:
 * weights w_i = softmax_i(cos(q, x_i) / τ) over the `neighbours` most similar examples, score
 * = Σ_i w_i · [y_i = anomalous]. Plain arrays in and out: no tensor is created.
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { FeatureMatrix } from '../probe/matrix.js';

/** Options of {@link knnVote} and {@link cosineSimilarities}. @category Anomaly */
export interface KnnVoteOptions {
  /** Most similar labelled examples that vote (default: all of them). */
  readonly neighbours?: number;
  /** Softmax temperature τ over cosine similarities (default 0.1; smaller → closer to 1-NN). */
  readonly temperature?: number;
  /** Subtract the labelled examples' column mean from every row before the cosine (default true). */
  readonly center?: boolean;
}

/** Column mean of a matrix. */
function columnMean(m: FeatureMatrix): Float64Array {
  const mu = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) mu[j] = (mu[j] as number) + (m.data[i * m.cols + j] as number);
  for (let j = 0; j < m.cols; j++) mu[j] = (mu[j] as number) / Math.max(1, m.rows);
  return mu;
}

/** Rows minus `mu` (or as they are), each scaled to unit length (a zero row stays zero). */
function unitRows(m: FeatureMatrix, mu: Float64Array | undefined): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < m.rows; i++) {
    const r = new Float64Array(m.cols);
    let n2 = 0;
    for (let j = 0; j < m.cols; j++) {
      const v = (m.data[i * m.cols + j] as number) - (mu === undefined ? 0 : (mu[j] as number));
      r[j] = v;
      n2 += v * v;
    }
    const n = Math.sqrt(n2);
    if (n > 0) for (let j = 0; j < m.cols; j++) r[j] = (r[j] as number) / n;
    out.push(r);
  }
  return out;
}

/**
 * Cosine similarity of every query row with every support row, after centring both on the support
 * rows' column mean (unless `center` is false).
 * @param queries Query features [q, d].
 * @param support Labelled examples' features [n, d].
 * @param center Centre on the support mean (default true).
 * @returns Similarities [q][n], each in [-1, 1].
 * @throws {@link "tfjs-lens"!ShapeError} if the widths differ or support is empty.
 * @example cosineSimilarities(testFeatures, supportFeatures)[0]  // similarities of the first query
 * @category Anomaly
 */
export function cosineSimilarities(queries: FeatureMatrix, support: FeatureMatrix, center = true): number[][] {
  if (queries.cols !== support.cols) throw new ShapeError(`cosineSimilarities: queries have ${queries.cols} features but the labelled examples ${support.cols} — extract both with the same model and hook`);
  if (support.rows === 0) throw new ShapeError('cosineSimilarities: no labelled examples — give at least one per class');
  const mu = center ? columnMean(support) : undefined;
  const s = unitRows(support, mu);
  return unitRows(queries, mu).map((q) => s.map((x) => {
    let dot = 0;
    for (let j = 0; j < q.length; j++) dot += (q[j] as number) * (x[j] as number);
    return dot;
  }));
}

/**
 * Indices of the support rows sorted by decreasing similarity (ties: lower index first).
 * @param sims Similarities of one query to the support rows.
 * @returns Support indices, most similar first.
 * @category Anomaly
 */
export function rankBySimilarity(sims: readonly number[]): number[] {
  return sims.map((_, i) => i).sort((a, b) => (sims[b] as number) - (sims[a] as number) || a - b);
}

/**
 * The similarity-weighted vote of one query: softmax(cos / τ) weights over its `neighbours` most
 * similar labelled examples, summed over the anomalous ones.
 * @param sims Similarities of the query to the support rows.
 * @param labels 1 = anomalous, 0 = normal, per support row.
 * @param opts Neighbours and temperature (`center` is not used here).
 * @returns The anomaly score in [0, 1].
 * @throws {@link "tfjs-lens"!ConfigError} for a non-positive temperature or neighbour count.
 * @example knnVote([0.9, 0.1], [1, 0], { temperature: 0.1 })  // e^9 / (e^9 + e^1)
 * @category Anomaly
 */
export function knnVote(sims: readonly number[], labels: readonly number[], opts: KnnVoteOptions = {}): number {
  const tau = opts.temperature ?? 0.1;
  if (!(tau > 0)) throw new ConfigError(`knnVote: temperature must be > 0, got ${tau}`);
  const m = opts.neighbours ?? sims.length;
  if (!(Number.isInteger(m) && m >= 1)) throw new ConfigError(`knnVote: neighbours must be a positive integer, got ${m}`);
  if (sims.length !== labels.length) throw new ShapeError(`knnVote: ${sims.length} similarities but ${labels.length} labels`);
  const top = rankBySimilarity(sims).slice(0, m);
  const best = sims[top[0] as number] as number;
  let z = 0;
  let anomalous = 0;
  for (const i of top) {
    const w = Math.exp(((sims[i] as number) - best) / tau); // shifted by the maximum for stability
    z += w;
    if (labels[i] === 1) anomalous += w;
  }
  return anomalous / z;
}

/**
 * kNN scores of many queries (see {@link knnVote}), with similarities from {@link cosineSimilarities}.
 * @param queries Query features [q, d].
 * @param support Labelled examples' features [n, d].
 * @param labels 1 = anomalous per support row.
 * @param opts Neighbours, temperature, centring.
 * @returns One score in [0, 1] per query.
 * @throws As {@link cosineSimilarities} and {@link knnVote}.
 * @category Anomaly
 */
export function knnScores(queries: FeatureMatrix, support: FeatureMatrix, labels: readonly number[], opts: KnnVoteOptions = {}): number[] {
  return cosineSimilarities(queries, support, opts.center ?? true).map((s) => knnVote(s, labels, opts));
}

