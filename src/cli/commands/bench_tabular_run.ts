/**
 * The tabular anomaly-detection benchmark behind `tfjs-lens bench tabular`: ADBench's unsupervised
 * protocol on its classical sets (data/tabular/adbench/*.csv). Per data set and seed: sets above
 * 10,000 rows are subsampled to 10,000 (seeded, as ADBench does), a stratified 70/30 split, a scaler
 * fitted on the 70% training part (labels unused: its anomalies stay in), every detector fitted on the
 * training part and scored on the 30% test part (ROC-AUC, PR-AUC = average precision). Our detectors
 * (Isolation Forest, Mahalanobis, k-NN, PCA reconstruction, β-VAE) and scikit-learn's IsolationForest,
 * LOF and OneClassSVM (bench/adbench_sklearn.py, on the same rows and splits) when python3 imports sklearn.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError } from '../../errors.js';
import { fitGaussian, fitKnn, fitMahalanobis, fitPca } from '../../probe/baselines.js';
import { BetaVae } from '../../probe/beta_vae.js';
import { fitIsolationForest } from '../../probe/isolation_forest.js';
import { applyScaler, fitScaler, selectRows, type FeatureMatrix } from '../../probe/matrix.js';
import { averagePrecision, rocAuc, type BinaryLabels } from '../../probe/metrics.js';
import { stratifiedSplit } from '../../probe/synthetic.js';
import { trainBetaVae } from '../../probe/vae_train.js';
import { vaeScores } from '../../probe/vae_scores.js';
import { packageRoot } from '../../utils/package_root.js';
import { seededRng } from '../../utils/rng.js';

/** Our detectors, then scikit-learn's. */
export const OUR_DETECTORS = ['iforest', 'mahalanobis', 'knn', 'pca', 'beta_vae'] as const;
/** scikit-learn's detectors (run through python3). */
export const SK_DETECTORS = ['sk_iforest', 'sk_lof', 'sk_ocsvm'] as const;
/** Every detector name. */
export const ALL_DETECTORS = [...OUR_DETECTORS, ...SK_DETECTORS] as const;
/** A detector name. */
export type TabularDetector = (typeof ALL_DETECTORS)[number];

/** One loaded data set. */
export interface TabularSet {
  readonly name: string;
  readonly x: FeatureMatrix;
  readonly y: BinaryLabels;
}

/** Options of {@link runTabularBench}. */
export interface TabularBenchOptions {
  readonly dataDir: string;
  readonly datasets: readonly string[];
  readonly seeds: readonly number[];
  readonly detectors: readonly TabularDetector[];
  /** Trees of both Isolation Forests (default 100). */
  readonly trees: number;
  /** β-VAE epochs (early stopping on a 10% slice of the training part). */
  readonly vaeEpochs: number;
  readonly scaler: 'standard' | 'minmax';
  /** Rows above which a set is subsampled (ADBench: 10,000). */
  readonly maxRows: number;
  readonly log: (line: string) => void;
}

/** Figures of one detector on one data set and seed. */
export interface TabularRun {
  readonly dataset: string;
  readonly seed: number;
  readonly detector: TabularDetector;
  readonly rocAuc: number;
  readonly prAuc: number;
  readonly seconds: number;
}

/** What {@link runTabularBench} returns. */
export interface TabularBenchResult {
  readonly runs: TabularRun[];
  readonly sizes: Record<string, { rows: number; used: number; d: number; anomalies: number; train: number; test: number }>;
  readonly sklearnNote: string | null;
  /** scikit-learn version and interpreter when it ran. */
  readonly sklearn: { version: string; python: string } | null;
}

/** The data sets shipped in a folder (file names without `.csv`), sorted case-insensitively. */
export function listTabularSets(dataDir: string): string[] {
  if (!existsSync(dataDir)) throw new DatasetError(`bench tabular: data folder ${dataDir} not found (the ADBench CSVs ship in the repository's data/tabular/adbench, not in the npm package; pass --data-dir)`);
  return readdirSync(dataDir).filter((f) => f.endsWith('.csv')).map((f) => f.slice(0, -4)).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
}

/** Read one `x0…x{d-1},label` CSV. */
export function loadTabularSet(dataDir: string, name: string): TabularSet {
  const lines = readFileSync(join(dataDir, `${name}.csv`), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',');
  const d = header.length - 1;
  if (d < 1 || header[d] !== 'label') throw new DatasetError(`bench tabular: ${name}.csv must have columns x0…x{d-1},label, got '${lines[0] ?? ''}'`);
  const rows = lines.length - 1;
  const data = new Float32Array(rows * d);
  const y: (0 | 1)[] = [];
  for (let r = 0; r < rows; r++) {
    const cells = (lines[r + 1] as string).split(',').map(Number);
    if (cells.length !== d + 1 || cells.some((v) => !Number.isFinite(v))) throw new DatasetError(`bench tabular: ${name}.csv line ${r + 2} is not ${d + 1} finite numbers`);
    for (let j = 0; j < d; j++) data[r * d + j] = cells[j] as number;
    y.push(cells[d] === 1 ? 1 : 0);
  }
  return { name, x: { rows, cols: d, data }, y };
}

/** ADBench's subsampling of large sets: `max` rows drawn without replacement (seeded), kept in file order. */
export function subsampleRows(n: number, max: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return idx;
  const rand = seededRng(seed + 7919);
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx.slice(0, max).sort((a, b) => a - b);
}

/** One split of one set: row indices into the (subsampled) set. */
interface Split {
  readonly seed: number;
  readonly rows: number[];
  readonly train: number[];
  readonly test: number[];
}

function makeSplit(set: TabularSet, seed: number, maxRows: number): Split {
  const rows = subsampleRows(set.x.rows, maxRows, seed);
  const y = rows.map((r) => set.y[r] as 0 | 1);
  const { trainIdx, testIdx } = stratifiedSplit(y, 0.3, seed);
  return { seed, rows, train: trainIdx.map((i) => rows[i] as number), test: testIdx.map((i) => rows[i] as number) };
}

function betaVaeScores(train: FeatureMatrix, test: FeatureMatrix, seed: number, epochs: number): number[] {
  const d = train.cols;
  const vae = new BetaVae({ dIn: d, dLatent: Math.max(2, Math.min(8, Math.round(d / 2))), hidden: [64, 32], output: 'linear', seed });
  try {
    trainBetaVae(vae, train, { epochs, batchSize: 128, lr: 1e-3, betaMax: 0.3, patience: 10, seed }, { quiet: true });
    return vaeScores(vae, test).recon;
  } finally {
    vae.dispose();
  }
}

/** Test scores of one of our detectors. */
function ourScores(det: (typeof OUR_DETECTORS)[number], train: FeatureMatrix, test: FeatureMatrix, seed: number, o: TabularBenchOptions): number[] {
  switch (det) {
    case 'iforest':
      return fitIsolationForest(train, { trees: o.trees, sampleSize: 256, seed }).score(test);
    case 'mahalanobis':
      return fitMahalanobis(train, { gaussian: fitGaussian(train) }).score(test);
    case 'knn':
      return fitKnn(train, { k: 5 }).score(test);
    case 'pca':
      return fitPca(train, { variance: 0.9 }).score(test);
    case 'beta_vae':
      return betaVaeScores(train, test, seed, o.vaeEpochs);
  }
}

/**
 * The first Python (`$TFJS_LENS_PYTHON`, `python3`, `/usr/bin/python3`) that imports scikit-learn, with the bridge script.
 * @param scriptName The bridge script in `bench/` (default the ADBench one).
 */
export function sklearnAvailable(scriptName = 'adbench_sklearn.py'): { ok: boolean; note: string | null; script: string; python: string; version: string } {
  const script = join(packageRoot(), 'bench', scriptName);
  if (!existsSync(script)) return { ok: false, note: `scikit-learn skipped: ${script} not found (it ships in the repository, not the npm package)`, script, python: '', version: '' };
  const env = process.env['TFJS_LENS_PYTHON'];
  for (const python of [...(env === undefined || env === '' ? [] : [env]), 'python3', '/usr/bin/python3']) {
    try {
      const version = execFileSync(python, ['-c', 'import sklearn; print(sklearn.__version__)'], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
      return { ok: true, note: null, script, python, version };
    } catch {
      // try the next interpreter
    }
  }
  return { ok: false, note: 'scikit-learn skipped: no python3 (TFJS_LENS_PYTHON, python3, /usr/bin/python3) can import sklearn (pip install scikit-learn, or apt install python3-sklearn, to add it)', script, python: '', version: '' };
}

/** scikit-learn's test scores for every split of one set (one python3 call per set). */
function sklearnScores(python: string, script: string, set: TabularSet, splits: readonly Split[], detectors: readonly string[], trees: number): Record<string, number[]>[] {
  const used = [...new Set(splits.flatMap((s) => s.rows))].sort((a, b) => a - b);
  const pos = new Map(used.map((r, i) => [r, i]));
  const X = used.map((r) => Array.from(set.x.data.subarray(r * set.x.cols, (r + 1) * set.x.cols)));
  const remap = (idx: readonly number[]): number[] => idx.map((r) => pos.get(r) as number);
  const dir = mkdtempSync(join(tmpdir(), 'adbench-sklearn-'));
  try {
    const body = { X, splits: splits.map((s) => ({ seed: s.seed, train: remap(s.train), test: remap(s.test) })), detectors, trees, max_samples: 256 };
    writeFileSync(join(dir, 'in.json'), JSON.stringify(body));
    execFileSync(python, [script, join(dir, 'in.json'), join(dir, 'out.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
    return JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Record<string, number[]>[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run the benchmark.
 * @param o Data folder, sets, seeds, detectors and budgets.
 * @returns Every (set, seed, detector) run, set sizes, and a note when scikit-learn was skipped.
 */
export function runTabularBench(o: TabularBenchOptions): TabularBenchResult {
  const ours = o.detectors.filter((d): d is (typeof OUR_DETECTORS)[number] => (OUR_DETECTORS as readonly string[]).includes(d));
  const wantSk = o.detectors.filter((d) => (SK_DETECTORS as readonly string[]).includes(d));
  const sk = wantSk.length > 0 ? sklearnAvailable() : { ok: false, note: null, script: '', python: '', version: '' };
  o.log(sk.note ?? (sk.ok ? `scikit-learn ${sk.version} via ${sk.python}` : 'scikit-learn not requested'));
  const runs: TabularRun[] = [];
  const sizes: TabularBenchResult['sizes'] = {};
  for (const name of o.datasets) {
    const set = loadTabularSet(o.dataDir, name);
    const splits = o.seeds.map((seed) => makeSplit(set, seed, o.maxRows));
    const first = splits[0] as Split;
    sizes[name] = { rows: set.x.rows, used: first.rows.length, d: set.x.cols, anomalies: set.y.reduce<number>((a, v) => a + v, 0), train: first.train.length, test: first.test.length };
    const t0 = performance.now();
    for (const s of splits) {
      const rawTrain = selectRows(set.x, s.train);
      const scaler = fitScaler(rawTrain, o.scaler);
      const train = applyScaler(scaler, rawTrain);
      const test = applyScaler(scaler, selectRows(set.x, s.test));
      const yTest = s.test.map((r) => set.y[r] as 0 | 1);
      for (const det of ours) {
        const t = performance.now();
        const scores = ourScores(det, train, test, s.seed, o);
        runs.push({ dataset: name, seed: s.seed, detector: det, rocAuc: rocAuc(scores, yTest), prAuc: averagePrecision(scores, yTest), seconds: (performance.now() - t) / 1000 });
      }
    }
    if (sk.ok) {
      const t = performance.now();
      const out = sklearnScores(sk.python, sk.script, set, splits, wantSk, o.trees);
      const each = (performance.now() - t) / 1000 / (splits.length * wantSk.length);
      splits.forEach((s, k) => {
        const yTest = s.test.map((r) => set.y[r] as 0 | 1);
        for (const det of wantSk) {
          const scores = out[k]?.[det];
          if (scores?.length !== yTest.length) throw new DatasetError(`bench tabular: ${det} returned ${scores?.length ?? 0} scores for ${yTest.length} test rows of ${name}`);
          runs.push({ dataset: name, seed: s.seed, detector: det as TabularDetector, rocAuc: rocAuc(scores, yTest), prAuc: averagePrecision(scores, yTest), seconds: each });
        }
      });
    }
    o.log(`${name}: ${set.x.rows} rows × ${set.x.cols}${sizes[name].used < set.x.rows ? ` (subsampled to ${sizes[name].used})` : ''}, ${splits.length} seed(s), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { runs, sizes, sklearnNote: sk.note, sklearn: sk.ok ? { version: sk.version, python: sk.python } : null };
}
