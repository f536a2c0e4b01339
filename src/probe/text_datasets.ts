/**
 * The text OOD benchmark's datasets (task seed 000), built from the corpora shipped in `data/`:
 * which class is "normal" (the only one the probe trains on) and which is the anomaly, plus seeded
 * subsampling to keep runs short. Choices (see docs in {@link PROBE_DATASET_INFO}):
 * - sms_spam: ham normal, spam anomaly (train = ham of the fixed 80% split; test = ham of the 20%
 *   split + spam of both splits, since spam is never trained on).
 * - imdb: positive normal, negative anomaly, as the anchor (train = train-split positives; test =
 *   test-split positives and negatives); `<br />` tags become spaces.
 * - ag_news: World normal, the other three classes anomaly. Only 581 train rows are shipped, so the
 *   7,600-row test split is halved with a fixed seed: one half trains, the other tests.
 * - liar: LIAR statements; true + mostly-true normal, false + pants-fire anomaly (half-true and
 *   barely-true dropped as ambiguous). The anchor used GonzaloA/fake_news (full articles) instead.
 */
import { loadAgNews, loadImdb, loadLiar, loadSmsSpam, type LabelledText } from '../data/corpora.js';
import { seededSplit } from '../data/split.js';
import { ConfigError, DatasetError } from '../errors.js';
import { seededRng } from '../utils/rng.js';

/** Text datasets of the benchmark. @category Probe */
export type ProbeDatasetName = 'sms_spam' | 'imdb' | 'ag_news' | 'liar';

/** Every dataset, in the order `--dataset all` runs them. @category Probe */
export const PROBE_DATASETS: readonly ProbeDatasetName[] = ['sms_spam', 'imdb', 'ag_news', 'liar'];

/** What is normal and what is anomalous in each dataset. @category Probe */
export const PROBE_DATASET_INFO: Readonly<Record<ProbeDatasetName, {
  /** The class(es) treated as normal. */
  readonly normal: string;
  /** The class(es) treated as anomalous. */
  readonly anomaly: string;
  /** Where the texts come from. */
  readonly source: string;
}>> = {
  sms_spam: { normal: 'ham', anomaly: 'spam', source: 'SMS Spam Collection (data/sms_spam)' },
  imdb: { normal: 'positive review', anomaly: 'negative review', source: 'IMDB subset (data/imdb)' },
  ag_news: { normal: 'World', anomaly: 'Sports, Business, Sci/Tech', source: 'AG News test split, halved with seed 0 (data/ag_news)' },
  liar: { normal: 'LIAR true + mostly-true', anomaly: 'LIAR false + pants-fire', source: 'LIAR (data/liar; research use only)' },
};

/**
 * Options of {@link loadProbeDataset}.
 * @category Probe
 */
export interface ProbeDatasetOptions {
  /** Most normal training texts (default 1,000). */
  readonly maxTrain?: number;
  /** Most test texts: up to half normal, half anomalous (default 500). */
  readonly maxTest?: number;
  /** Subsampling seed (default 0). */
  readonly seed?: number;
  /** Folders / files to read instead of the shipped ones (tests, other copies). */
  readonly paths?: {
    /** The SMSSpamCollection file. */
    readonly smsSpam?: string;
    /** Folder holding `imdb_{train,test}_subset.csv`. */
    readonly imdbDir?: string;
    /** Folder holding the AG News `test.csv`. */
    readonly agNewsDir?: string;
    /** Folder holding the LIAR `{train,valid,test}.tsv`. */
    readonly liarDir?: string;
  };
}

/**
 * One dataset ready for the probe.
 * @category Probe
 */
export interface ProbeTextDataset {
  /** Dataset name. */
  readonly name: ProbeDatasetName;
  /** Normal texts to train on. */
  readonly trainTexts: string[];
  /** Test texts: the normal ones first, then the anomalies (each in source order). */
  readonly testTexts: string[];
  /** 1 = anomaly, per test text. */
  readonly testLabels: (0 | 1)[];
  /** Sizes of the pools before subsampling. */
  readonly available: {
    /** Normal texts available for training. */
    readonly trainNormal: number;
    /** Normal texts available for testing. */
    readonly testNormal: number;
    /** Anomalous texts available for testing. */
    readonly testAnomaly: number;
  };
}

/** Seeded sample of up to k items, kept in their original order. */
function sample<T>(items: readonly T[], k: number, seed: number): T[] {
  if (items.length <= k) return [...items];
  const rand = seededRng(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx.slice(0, k).sort((a, b) => a - b).map((i) => items[i] as T);
}

const texts = <L extends string>(rows: readonly LabelledText<L>[], keep: (l: L) => boolean): string[] => rows.filter((r) => keep(r.label)).map((r) => r.text);

/**
 * The three pools of a dataset: normal train, normal test, anomalous test (source splits, before
 * any deduplication; {@link loadProbeSplits} merges and re-splits them).
 * @param name Dataset.
 * @param o Paths (other options ignored).
 * @returns [normal train pool, normal test pool, anomalous pool].
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown name; loader errors for missing or bad files.
 * @example const [trainPool, normPool, anomPool] = await probeDatasetPools('imdb', {});
 * @category Probe
 */
export async function probeDatasetPools(name: ProbeDatasetName, o: ProbeDatasetOptions): Promise<[string[], string[], string[]]> {
  const p = o.paths ?? {};
  switch (name) {
    case 'sms_spam': {
      const opt = p.smsSpam === undefined ? {} : { path: p.smsSpam };
      const [train, test] = [await loadSmsSpam({ ...opt, split: 'train' }), await loadSmsSpam({ ...opt, split: 'test' })];
      return [texts(train, (l) => l === 'ham'), texts(test, (l) => l === 'ham'), texts([...train, ...test], (l) => l === 'spam')];
    }
    case 'imdb': {
      const dir = p.imdbDir === undefined ? {} : { dir: p.imdbDir };
      const clean = (r: LabelledText<'pos' | 'neg'>): LabelledText<'pos' | 'neg'> => ({ label: r.label, text: r.text.replace(/<br\s*\/?>/gi, ' ') });
      const [train, test] = [(await loadImdb('train', dir)).map(clean), (await loadImdb('test', dir)).map(clean)];
      return [texts(train, (l) => l === 'pos'), texts(test, (l) => l === 'pos'), texts(test, (l) => l === 'neg')];
    }
    case 'ag_news': {
      const all = await loadAgNews('test', p.agNewsDir === undefined ? {} : { dir: p.agNewsDir });
      const { train, test } = seededSplit(all, { testFraction: 0.5, seed: 0 });
      return [texts(train, (l) => l === 'World'), texts(test, (l) => l === 'World'), texts(test, (l) => l !== 'World')];
    }
    case 'liar': {
      const dir = p.liarDir === undefined ? {} : { dir: p.liarDir };
      const normal = (l: string): boolean => l === 'true' || l === 'mostly-true';
      const [train, test] = [await loadLiar('train', dir), await loadLiar('test', dir)];
      return [texts(train, normal), texts(test, normal), texts(test, (l) => l === 'false' || l === 'pants-fire')];
    }
    default:
      throw new ConfigError(`loadProbeDataset: unknown dataset '${String(name)}' — expected one of ${PROBE_DATASETS.join(', ')}`);
  }
}

/**
 * Load, split and subsample one dataset.
 * @param name 'sms_spam', 'imdb', 'ag_news' or 'liar'.
 * @param o Caps, seed, paths.
 * @returns Normal training texts and a labelled test set.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown name or bad caps; {@link "tfjs-lens"!NotFoundError} for a missing
 *   file; {@link "tfjs-lens"!DatasetError} for an empty file, a row with empty text, or when a pool is empty
 *   (no normal training texts, or a test set with one class).
 * @example const ds = await loadProbeDataset('sms_spam', { maxTrain: 1000, maxTest: 500 });
 * @category Probe
 */
export async function loadProbeDataset(name: ProbeDatasetName, o: ProbeDatasetOptions = {}): Promise<ProbeTextDataset> {
  const maxTrain = o.maxTrain ?? 1000;
  const maxTest = o.maxTest ?? 500;
  if (!(Number.isInteger(maxTrain) && maxTrain >= 4) || !(Number.isInteger(maxTest) && maxTest >= 2)) {
    throw new ConfigError(`loadProbeDataset: maxTrain must be an integer ≥ 4 and maxTest ≥ 2, got ${maxTrain} and ${maxTest}`);
  }
  const seed = o.seed ?? 0;
  const [trainPool, normPool, anomPool] = await probeDatasetPools(name, o);
  if (trainPool.length === 0) throw new DatasetError(`loadProbeDataset: ${name} has no normal training texts`);
  if (normPool.length === 0 || anomPool.length === 0) {
    throw new DatasetError(`loadProbeDataset: ${name} test set needs both classes — got ${normPool.length} normal and ${anomPool.length} anomalous texts`);
  }
  const half = Math.floor(maxTest / 2);
  const norm = sample(normPool, half, seed + 1);
  const anom = sample(anomPool, maxTest - half, seed + 2);
  return {
    name,
    trainTexts: sample(trainPool, maxTrain, seed),
    testTexts: [...norm, ...anom],
    testLabels: [...norm.map(() => 0 as const), ...anom.map(() => 1 as const)],
    available: { trainNormal: trainPool.length, testNormal: normPool.length, testAnomaly: anomPool.length },
  };
}
