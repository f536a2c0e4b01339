/**
 * A cheap supervised text detector for the first stage of a cascade: hashed bag of words (word
 * unigrams and bigrams, character 3- and 4-grams inside words; binary, L2-normalised rows) and a
 * logistic regression trained with seeded Adagrad SGD. Thousands of texts train in about a second.
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import type { BinaryLabels } from '../probe/metrics.js';

/**
 * Options of {@link fitBowLogistic}.
 * @category Anomaly
 */
export interface BowLogisticOptions {
  /** log2 of the number of hashed features (default 18). */
  readonly bits?: number;
  /** Epochs over the training texts (default 8). */
  readonly epochs?: number;
  /** Adagrad learning rate (default 0.5). */
  readonly lr?: number;
  /** L2 penalty per step (default 1e-6). */
  readonly l2?: number;
  /** Weight the classes inversely to their frequency (default true). */
  readonly balanced?: boolean;
  /** Shuffle seed (default 0). */
  readonly seed?: number;
}

/**
 * A fitted bag-of-words logistic regression.
 * @category Anomaly
 */
export interface BowLogistic {
  /** Logit of P(anomaly) for each text (higher = more anomalous). */
  score(texts: readonly string[]): number[];
  /** Number of hashed features. */
  readonly dims: number;
}

/**
 * Fit a hashed bag-of-words logistic regression (label 1 = anomaly).
 * @param texts Training texts.
 * @param labels 1 = anomaly, 0 = normal.
 * @param opts bits, epochs, lr, l2, balanced, seed.
 * @returns The detector.
 * @throws {@link "tfjs-lens"!ShapeError} for a length mismatch; {@link "tfjs-lens"!DatasetError} for a single class; {@link "tfjs-lens"!ConfigError} for bits outside [8, 24] or epochs < 1.
 * @example const bow = fitBowLogistic(trainTexts, trainLabels); const s = bow.score(valTexts);
 * @category Anomaly
 */
export function fitBowLogistic(texts: readonly string[], labels: BinaryLabels, opts: BowLogisticOptions = {}): BowLogistic {
  const fn = 'fitBowLogistic';
  if (texts.length !== labels.length) throw new ShapeError(`${fn}: ${texts.length} texts but ${labels.length} labels`);
  const bits = opts.bits ?? 18;
  const epochs = opts.epochs ?? 8;
  if (!(Number.isInteger(bits) && bits >= 8 && bits <= 24)) throw new ConfigError(`${fn}: bits must be an integer in [8, 24], got ${bits}`);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new ConfigError(`${fn}: epochs must be an integer ≥ 1, got ${epochs}`);
  const pos = labels.filter((l) => l === 1).length;
  if (pos === 0 || pos === labels.length) throw new DatasetError(`${fn}: need both classes — got ${pos} anomalies of ${labels.length}`);
  const dims = 1 << bits;
  const lr = opts.lr ?? 0.5;
  const l2 = opts.l2 ?? 1e-6;
  const cw = opts.balanced === false ? [1, 1] : [labels.length / (2 * (labels.length - pos)), labels.length / (2 * pos)];
  const rows = texts.map((t) => featurise(t, dims));
  const w = new Float64Array(dims);
  const g2 = new Float64Array(dims).fill(1e-8);
  let b = 0;
  let gb = 1e-8;
  const order = texts.map((_, i) => i);
  let state = (opts.seed ?? 0) * 2654435761 + 1;
  const rand = (): number => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return state / 4294967296;
  };
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const i of order) {
      const { idx, val } = rows[i] as Row;
      let z = b;
      for (let k = 0; k < idx.length; k++) z += (w[idx[k] as number] as number) * (val[k] as number);
      const y = labels[i] as number;
      const g = (1 / (1 + Math.exp(-z)) - y) * (cw[y] as number);
      for (let k = 0; k < idx.length; k++) {
        const f = idx[k] as number;
        const gf = g * (val[k] as number) + l2 * (w[f] as number);
        g2[f] = (g2[f] as number) + gf * gf;
        w[f] = (w[f] as number) - (lr * gf) / Math.sqrt(g2[f] as number);
      }
      gb += g * g;
      b -= (lr * g) / Math.sqrt(gb);
    }
  }
  return {
    dims,
    score: (xs) => xs.map((t) => {
      const { idx, val } = featurise(t, dims);
      let z = b;
      for (let k = 0; k < idx.length; k++) z += (w[idx[k] as number] as number) * (val[k] as number);
      return z;
    }),
  };
}

/** Sparse row: hashed feature ids and values. */
interface Row {
  readonly idx: Uint32Array;
  readonly val: Float32Array;
}

/** Hashed binary features of a text, L2-normalised. */
function featurise(text: string, dims: number): Row {
  const words = text.toLowerCase().match(/[\p{L}\p{N}£$€]+|[!?]/gu) ?? [];
  const set = new Set<number>();
  const add = (s: string): void => void set.add(fnv1a(s) & (dims - 1));
  words.forEach((w, i) => {
    add(`w:${w}`);
    if (i > 0) add(`b:${words[i - 1]} ${w}`);
    const p = `<${w}>`;
    for (const n of [3, 4]) for (let k = 0; k + n <= p.length; k++) add(`c:${p.slice(k, k + n)}`);
  });
  add(`len:${Math.min(20, Math.floor(text.length / 10))}`);
  const idx = Uint32Array.from(set);
  const v = idx.length === 0 ? 0 : 1 / Math.sqrt(idx.length);
  return { idx, val: new Float32Array(idx.length).fill(v) };
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
