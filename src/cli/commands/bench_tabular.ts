/**
 * `tfjs-lens bench tabular`: our anomaly detectors side by side with scikit-learn's on the 19 ADBench
 * classical sets (ADBench's unsupervised protocol; see bench_tabular_run.ts). Writes
 * `<out>/tabular.json` and `<out>/tabular.md` (mean ± std over seeds per set, and a mean row), prints
 * the table (or one JSON object with --json); progress goes to stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initBackend } from '../../backend/backend.js';
import { UsageError } from '../../errors.js';
import { choiceOption, didYouMean, intOption, parseCliArgs, type CliOptions } from '../cli_args.js';
import { packageRoot } from './paths.js';
import { ALL_DETECTORS, listTabularSets, runTabularBench, type TabularBenchResult, type TabularDetector, type TabularRun } from './bench_tabular_run.js';

const CMD = 'bench tabular';

/** Options of `tfjs-lens bench tabular`. */
export const BENCH_TABULAR_OPTIONS = {
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  datasets: { type: 'string' }, seeds: { type: 'string' }, detectors: { type: 'string' }, out: { type: 'string' },
  'data-dir': { type: 'string' }, trees: { type: 'string' }, 'vae-epochs': { type: 'string' }, scaler: { type: 'string' },
  'max-rows': { type: 'string' },
} as const satisfies CliOptions;

/** Help text of `tfjs-lens bench`. */
export const BENCH_USAGE = `usage: tfjs-lens bench tabular [options]

ADBench's unsupervised protocol on its 19 classical sets (data/tabular/adbench): per seed a stratified
70/30 split (sets over --max-rows rows subsampled first, as ADBench), scaler fitted on the 70% training
part, detectors fitted on it without labels (its anomalies included), ROC-AUC and PR-AUC on the 30% test part.

  --datasets a,b        sets to run (default: all 19)
  --seeds 0,1,2         seeds (default 0,1,2)
  --detectors a,b       any of ${ALL_DETECTORS.join(', ')} (default all;
                        sk_* need python3 with scikit-learn, else they are skipped with a note)
  --trees 100           trees of both Isolation Forests (max_samples 256 for both)
  --vae-epochs 30       β-VAE epochs (hidden [64, 32], early stopping on 10% of the training part)
  --scaler standard|minmax   (default standard; ADBench itself uses minmax)
  --max-rows 10000      subsample larger sets (ADBench: 10000)
  --data-dir <dir>      folder of x0…x{d-1},label CSVs (default data/tabular/adbench)
  --out <dir>           results folder (default results/adbench): tabular.json, tabular.md
  --json                one JSON object on stdout`;

/** Mean and population std. */
function meanStd(v: readonly number[]): { mean: number; std: number } {
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(v.length, 1));
  return { mean, std };
}

const r4 = (x: number): number => +x.toFixed(4);

function listOption(raw: string | undefined, name: string, valid: readonly string[], dflt: readonly string[]): string[] {
  if (raw === undefined) return [...dflt];
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`${CMD}: --${name} has an empty item in '${raw}'; write a comma-separated list`);
  for (const s of items) {
    if (!valid.includes(s)) {
      const ci = valid.find((v) => v.toLowerCase() === s.toLowerCase());
      throw new UsageError(`${CMD}: unknown --${name} entry '${s}'${ci !== undefined ? `; did you mean '${ci}'?` : didYouMean(s, valid) || `; valid: ${valid.join(', ')}`}`);
    }
  }
  return [...new Set(items)];
}

function seedList(raw: string | undefined): number[] {
  if (raw === undefined) return [0, 1, 2];
  const seeds = raw.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^\d+$/.test(s))) throw new UsageError(`${CMD}: --seeds must be comma-separated non-negative integers, got '${raw}'`);
  return [...new Set(seeds.map(Number))];
}

/** Per-set, per-detector mean ± std over seeds. */
type Cell = { rocAuc: { mean: number; std: number }; prAuc: { mean: number; std: number }; seeds: number; seconds: number };

function aggregate(runs: readonly TabularRun[], datasets: readonly string[], detectors: readonly TabularDetector[]): { perSet: Record<string, Partial<Record<TabularDetector, Cell>>>; mean: Partial<Record<TabularDetector, { rocAuc: number; prAuc: number }>> } {
  const perSet: Record<string, Partial<Record<TabularDetector, Cell>>> = {};
  const mean: Partial<Record<TabularDetector, { rocAuc: number; prAuc: number }>> = {};
  for (const ds of datasets) {
    perSet[ds] = {};
    for (const det of detectors) {
      const rs = runs.filter((r) => r.dataset === ds && r.detector === det);
      if (rs.length === 0) continue;
      const roc = meanStd(rs.map((r) => r.rocAuc));
      const pr = meanStd(rs.map((r) => r.prAuc));
      perSet[ds][det] = { rocAuc: { mean: r4(roc.mean), std: r4(roc.std) }, prAuc: { mean: r4(pr.mean), std: r4(pr.std) }, seeds: rs.length, seconds: +rs.reduce((a, r) => a + r.seconds, 0).toFixed(2) };
    }
  }
  for (const det of detectors) {
    const cells = datasets.map((ds) => perSet[ds]?.[det]).filter((c): c is Cell => c !== undefined);
    if (cells.length === datasets.length && cells.length > 0) {
      mean[det] = { rocAuc: r4(meanStd(cells.map((c) => c.rocAuc.mean)).mean), prAuc: r4(meanStd(cells.map((c) => c.prAuc.mean)).mean) };
    }
  }
  return { perSet, mean };
}

function markdownTable(metric: 'rocAuc' | 'prAuc', datasets: readonly string[], dets: readonly TabularDetector[], agg: ReturnType<typeof aggregate>): string {
  const head = `| set | ${dets.join(' | ')} |\n|---|${dets.map(() => '---').join('|')}|`;
  const rows = datasets.map((ds) => `| ${ds} | ${dets.map((d) => {
    const c = agg.perSet[ds]?.[d];
    return c === undefined ? '–' : `${c[metric].mean.toFixed(3)} ± ${c[metric].std.toFixed(3)}`;
  }).join(' | ')} |`);
  const mean = `| **mean** | ${dets.map((d) => { const m = agg.mean[d]; return m === undefined ? '–' : `**${m[metric].toFixed(3)}**`; }).join(' | ')} |`;
  return [head, ...rows, mean].join('\n');
}

/**
 * Run `tfjs-lens bench <sub>` (only `tabular` for now).
 * @param argv Arguments after `bench`.
 * @returns The exit code.
 */
export async function runBenchCommand(argv: readonly string[]): Promise<number> {
  const { values: v, positionals } = parseCliArgs('bench', argv, BENCH_TABULAR_OPTIONS, { allowPositionals: true });
  if (v.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const sub = positionals[0];
  if (sub !== 'tabular' || positionals.length > 1) {
    throw new UsageError(`bench: expected 'tabular'${sub === undefined ? '' : `, got '${positionals.join(' ')}'`}${sub !== undefined && sub !== 'tabular' ? didYouMean(sub, ['tabular']) : ''} (tfjs-lens bench --help)`);
  }
  const dataDir = resolve(v['data-dir'] ?? join(packageRoot(), 'data', 'tabular', 'adbench'));
  const available = listTabularSets(dataDir);
  const datasets = listOption(v.datasets, 'datasets', available, available);
  const detectors = listOption(v.detectors, 'detectors', ALL_DETECTORS, ALL_DETECTORS) as TabularDetector[];
  const seeds = seedList(v.seeds);
  const trees = intOption(CMD, v.trees, 'trees', { dflt: 100, min: 1 });
  const vaeEpochs = intOption(CMD, v['vae-epochs'], 'vae-epochs', { dflt: 30, min: 1 });
  const maxRows = intOption(CMD, v['max-rows'], 'max-rows', { dflt: 10000, min: 100 });
  const scaler = choiceOption(CMD, v.scaler, 'scaler', ['standard', 'minmax'] as const, 'standard');
  const out = resolve(v.out ?? join('results', 'adbench'));
  const log = (s: string): void => { process.stderr.write(`bench tabular: ${s}\n`); };
  const backend = detectors.includes('beta_vae') ? (await initBackend(undefined, { quiet: true })).name : null;
  log(`${datasets.length} set(s), seeds ${seeds.join(', ')}, detectors ${detectors.join(', ')}`);
  const t0 = performance.now();
  const res: TabularBenchResult = runTabularBench({ dataDir, datasets, seeds, detectors, trees, vaeEpochs, scaler, maxRows, log });
  const seconds = (performance.now() - t0) / 1000;
  const ran = detectors.filter((d) => res.runs.some((r) => r.detector === d));
  const agg = aggregate(res.runs, datasets, ran);
  const ifOurs = agg.mean.iforest?.rocAuc;
  const ifSk = agg.mean.sk_iforest?.rocAuc;
  const ifVsSklearn = ifOurs !== undefined && ifSk !== undefined ? { ours: ifOurs, sklearn: ifSk, diff: r4(ifOurs - ifSk), within002: Math.abs(ifOurs - ifSk) <= 0.02 } : null;
  const notes = [
    `protocol: ADBench unsupervised — sets over ${maxRows} rows subsampled to ${maxRows} (seeded), stratified 70/30 split per seed, ${scaler} scaler fitted on the training part, every detector fitted on the training part without labels (its anomalies included), ROC-AUC and PR-AUC (average precision) on the test part. ADBench also duplicates sets under 1,000 rows up to 1,000 (not done here: duplicates would sit in both parts) and scales with MinMax by default (--scaler minmax).`,
    `detectors: iforest = our Isolation Forest (${trees} trees, 256 samples), mahalanobis (Ledoit–Wolf), knn (k = 5, mean distance), pca (reconstruction error, 90% variance), beta_vae (hidden [64, 32], latent min(8, max(2, d/2)), ${vaeEpochs} epochs max — cut from the probe's 200 so the whole benchmark runs in minutes — batch 128, βmax 0.3, early stopping on 10% of the training part, score = reconstruction MSE); sk_iforest (${trees} trees, max_samples min(256, n)), sk_lof (n_neighbors 20, novelty), sk_ocsvm (rbf, gamma 'auto', nu 0.5) = PyOD/ADBench defaults, on the same rows, splits and scaler.`,
    ...(res.sklearnNote === null ? [] : [res.sklearnNote]),
    ...(res.sklearn === null ? [] : [`scikit-learn ${res.sklearn.version} (${res.sklearn.python}); each sk_* run's seconds are the set's python3 call split evenly`]),
    ...(backend === null ? [] : [`β-VAE on the tfjs ${backend} backend`]),
  ];
  const summary = { command: 'bench tabular', dataDir, datasets, seeds, detectors: ran, sizes: res.sizes, sklearn: res.sklearn, results: agg.perSet, mean: agg.mean, ifVsSklearn, notes, runs: res.runs.map((r) => ({ ...r, rocAuc: r4(r.rocAuc), prAuc: r4(r.prAuc), seconds: +r.seconds.toFixed(3) })), seconds: +seconds.toFixed(1), files: { json: join(out, 'tabular.json'), markdown: join(out, 'tabular.md') } };
  const ifLine = ifVsSklearn === null ? 'IsolationForest vs scikit-learn: not compared (needs both iforest and sk_iforest)' : `IsolationForest mean ROC-AUC: ours ${ifVsSklearn.ours.toFixed(4)}, scikit-learn ${ifVsSklearn.sklearn.toFixed(4)}, difference ${ifVsSklearn.diff >= 0 ? '+' : ''}${ifVsSklearn.diff.toFixed(4)} (${ifVsSklearn.within002 ? 'within' : 'NOT within'} 0.02)`;
  const md = `# Tabular anomaly detection: ADBench classical sets (mean ± std over seeds ${seeds.join(', ')})\n\n## ROC-AUC\n\n${markdownTable('rocAuc', datasets, ran, agg)}\n\n## PR-AUC (average precision)\n\n${markdownTable('prAuc', datasets, ran, agg)}\n\n${ifLine}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\n${seconds.toFixed(0)} s in all.\n`;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tabular.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(out, 'tabular.md'), md);
  if (v.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${md}\nwrote ${summary.files.json}, ${summary.files.markdown}\n`);
  return 0;
}
