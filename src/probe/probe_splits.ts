/**
 * The probe benchmark's protocol splits: per (dataset, seed), the dataset's normal and anomalous
 * texts are deduplicated (whitespace/case-normalised exact text; a text present in both classes is
 * dropped from both) and split into train (normal only), dev and test (normal + anomalous). Every
 * choice is made on dev; test is read once per reported number. The texts are the same pools
 * {@link loadProbeDataset} reads, so the benchmark-free LM corpus excludes all of them.
 */
import { ConfigError, DatasetError } from '../errors.js';
import { seededRng } from '../utils/rng.js';
import { probeDatasetPools, type ProbeDatasetName, type ProbeDatasetOptions } from './text_datasets.js';

/** `<br />` → space, lower case, whitespace collapsed: the key two texts are "the same" under. @category Probe */
export const normaliseProbeText = (t: string): string => t.replace(/<br\s*\/?>/gi, ' ').toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Deduplication counts of one dataset (the same for every seed).
 * @category Probe
 */
export interface DedupCounts {
  /** Normal rows read (all source splits). */
  readonly normalRows: number;
  /** Anomalous rows read. */
  readonly anomalyRows: number;
  /** Normal rows dropped as repeats of an earlier normal text. */
  readonly normalDuplicates: number;
  /** Anomalous rows dropped as repeats of an earlier anomalous text. */
  readonly anomalyDuplicates: number;
  /** Distinct texts found in both classes, dropped from both. */
  readonly crossClass: number;
  /** Distinct normal texts kept. */
  readonly normal: number;
  /** Distinct anomalous texts kept. */
  readonly anomaly: number;
}

/** One labelled part (dev or test): texts, labels (1 = anomaly) and row ids. @category Probe */
export interface LabelledPart {
  /** Texts: normal first, then anomalous. */
  readonly texts: string[];
  /** 1 = anomaly. */
  readonly labels: (0 | 1)[];
  /** Row ids (normal i → i, anomaly j → normal count + j), unique within the dataset. */
  readonly ids: number[];
}

/**
 * One dataset's split for one seed.
 * @category Probe
 */
export interface ProbeSplits {
  /** Dataset. */
  readonly name: ProbeDatasetName;
  /** Seed of the split and subsample. */
  readonly seed: number;
  /** Normal training texts and their row ids. */
  readonly train: {
    /** Normal training texts. */
    readonly texts: string[];
    /** Their row ids. */
    readonly ids: number[];
  };
  /** Dev part: every choice is made here. */
  readonly dev: LabelledPart;
  /** Test part: read once per reported number. */
  readonly test: LabelledPart;
  /** Deduplication counts. */
  readonly dedup: DedupCounts;
}

/**
 * Options of {@link loadProbeSplits}.
 * @category Probe
 */
export interface ProbeSplitOptions {
  /** Seed (split and subsample; default 0). */
  readonly seed?: number;
  /** Most normal training texts (default 1,000). */
  readonly maxTrain?: number;
  /** Most dev texts, half normal (default 300). */
  readonly maxDev?: number;
  /** Most test texts, half normal (default 500). */
  readonly maxTest?: number;
  /** Other data files. */
  readonly paths?: ProbeDatasetOptions['paths'];
}

/** Distinct texts (first occurrence kept) and how many repeats were dropped. */
function distinct(texts: readonly string[]): { keys: string[]; texts: string[]; duplicates: number } {
  const seen = new Set<string>();
  const out: string[] = [];
  const keys: string[] = [];
  for (const t of texts) {
    const k = normaliseProbeText(t);
    if (seen.has(k)) continue;
    seen.add(k);
    keys.push(k);
    out.push(t);
  }
  return { keys, texts: out, duplicates: texts.length - out.length };
}

/** A seeded permutation of 0…n−1. */
function permutation(n: number, seed: number): number[] {
  const rand = seededRng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx;
}

const asc = (a: number[]): number[] => a.sort((x, y) => x - y);

/**
 * Deduplicate one dataset's texts and split them for one seed: normal texts → test (up to half of
 * `maxTest`, at most 30% of them), dev (up to half of `maxDev`, at most 20%), train (the rest, up to
 * `maxTrain`); anomalous texts → test (up to half of `maxTest`, at most 60%) and dev (the rest, up to
 * half of `maxDev`). The three parts are disjoint by construction, and no two rows share a text.
 * @param name Dataset.
 * @param o Seed, caps, paths.
 * @returns Train / dev / test texts with row ids, and the dedup counts.
 * @throws {@link "tfjs-lens"!ConfigError} for bad caps; {@link "tfjs-lens"!DatasetError} when a class has fewer than 4 texts.
 * @example const s = await loadProbeSplits('sms_spam', { seed: 1 }); s.dev.texts.length
 * @category Probe
 */
export async function loadProbeSplits(name: ProbeDatasetName, o: ProbeSplitOptions = {}): Promise<ProbeSplits> {
  const seed = o.seed ?? 0;
  const [maxTrain, maxDev, maxTest] = [o.maxTrain ?? 1000, o.maxDev ?? 300, o.maxTest ?? 500];
  if (![maxTrain, maxDev, maxTest].every((v) => Number.isInteger(v) && v >= 4)) {
    throw new ConfigError(`loadProbeSplits: maxTrain, maxDev and maxTest must be integers ≥ 4, got ${maxTrain}, ${maxDev}, ${maxTest}`);
  }
  const [trainPool, normPool, anomPool] = await probeDatasetPools(name, { paths: o.paths });
  const norm = distinct([...trainPool, ...normPool]);
  const anom = distinct(anomPool);
  const both = new Set(norm.keys.filter((k) => new Set(anom.keys).has(k)));
  const normal = norm.texts.filter((_, i) => !both.has(norm.keys[i] as string));
  const anomaly = anom.texts.filter((_, i) => !both.has(anom.keys[i] as string));
  if (normal.length < 4 || anomaly.length < 4) throw new DatasetError(`loadProbeSplits: ${name} needs ≥ 4 distinct texts per class, got ${normal.length} normal and ${anomaly.length} anomalous`);
  const dedup: DedupCounts = {
    normalRows: trainPool.length + normPool.length, anomalyRows: anomPool.length, normalDuplicates: norm.duplicates,
    anomalyDuplicates: anom.duplicates, crossClass: both.size, normal: normal.length, anomaly: anomaly.length,
  };
  const pn = permutation(normal.length, seed * 1000 + 1);
  const pa = permutation(anomaly.length, seed * 1000 + 2);
  const nTestN = Math.min(Math.floor(maxTest / 2), Math.floor(normal.length * 0.3));
  const nDevN = Math.min(Math.floor(maxDev / 2), Math.floor(normal.length * 0.2));
  const nTestA = Math.min(maxTest - Math.floor(maxTest / 2), Math.floor(anomaly.length * 0.6));
  const nDevA = Math.min(maxDev - Math.floor(maxDev / 2), anomaly.length - nTestA);
  const testN = asc(pn.slice(0, nTestN));
  const devN = asc(pn.slice(nTestN, nTestN + nDevN));
  const trainN = asc(pn.slice(nTestN + nDevN, nTestN + nDevN + maxTrain));
  const testA = asc(pa.slice(0, nTestA));
  const devA = asc(pa.slice(nTestA, nTestA + nDevA));
  const part = (n: number[], a: number[]): LabelledPart => ({
    texts: [...n.map((i) => normal[i] as string), ...a.map((i) => anomaly[i] as string)],
    labels: [...n.map(() => 0 as const), ...a.map(() => 1 as const)],
    ids: [...n, ...a.map((i) => normal.length + i)],
  });
  return { name, seed, train: { texts: trainN.map((i) => normal[i] as string), ids: trainN }, dev: part(devN, devA), test: part(testN, testA), dedup };
}
