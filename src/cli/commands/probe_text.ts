/**
 * `tfjs-lens probe --dataset …`: the text OOD benchmark. Per seed and dataset: deduplicate and split
 * the texts into train / dev / test (probe_splits.ts), extract pooled hook activations (cached in
 * `--cache-dir`), score a subsample by masked-LM pseudo-perplexity, train the β-VAE on normal texts,
 * score dev and test with the VAE and the baselines, make the dev choices, and (first seed only)
 * write plots, the trained probe and the scores; then one table of mean ± std [95% CI] over seeds.
 */
import { join } from 'node:path';
import { initBackend } from '../../backend/backend.js';
import { HookedEncoder } from '../../model/encoder/hooked_encoder.js';
import { umapEmbed } from '../../probe/embed2d.js';
import { cachedFeatures, hashTexts, modelRevision, type FeatureCacheKey } from '../../probe/feature_cache.js';
import { extractPooledFeatures, probeHookName } from '../../probe/features.js';
import type { FeatureMatrix } from '../../probe/matrix.js';
import { pseudoPerplexities } from '../../probe/pseudo_perplexity.js';
import { ANCHOR_AUROC, protocolReport, type SeedRun } from '../probe_bench/report.js';
import { loadProbeSplits, type DedupCounts, type ProbeSplits } from '../../probe/probe_splits.js';
import { runTextProbe, type TextProbeInputs, type TextProbeResult } from '../probe_bench/text_bench.js';
import { PROBE_DATASET_INFO, type ProbeDatasetName } from '../../probe/text_datasets.js';
import { saveBetaVae } from '../../probe/vae_io.js';
import { seededRng } from '../../utils/rng.js';
import { writeFileAtomic } from '../../viz/html.js';
import { writeLatentMap, writeRocPr, writeScoreHistograms, writeVaeHistory } from '../../viz/probe_plots.js';

/** Resolved options of a text run. */
export interface ProbeTextOptions {
  readonly json: boolean;
  readonly model: string;
  readonly datasets: readonly ProbeDatasetName[];
  readonly layer: number;
  readonly hook: string;
  readonly outputDir: string;
  readonly cacheDir: string;
  readonly forceReprocess: boolean;
  readonly epochs: number;
  readonly betaMax: number;
  readonly latentDim: number;
  readonly seed: number;
  /** Seeds run: seed, seed + 1, … (each varies split, subsample and init). */
  readonly seeds: number;
  readonly maxLength: number;
  readonly maxTrain: number;
  readonly maxDev: number;
  readonly maxTest: number;
  readonly pplSamples: number;
}

/** Token limit of the pseudo-perplexity (distilbert-mini was trained on 64-token rows). */
const PPL_MAX_LENGTH = 64;
/** Rows of the summary table, in order. */
const DETECTORS = ['vae_recon', 'vae_neg_elbo', 'vae_recon_sqrtn', 'vae_dev_pick', 'vae_latent_mahalanobis', 'mahalanobis', 'mahalanobis_sqrtn', 'knn', 'pca', 'ensemble_rank_avg', 'pseudo_perplexity', 'length', 'tfidf_char_knn', 'tfidf_word_knn', 'tfidf_word_svd', 'best_on_dev'];

/** What one seed's run of one dataset reads: its name, normal training texts and labelled test texts. */
interface DsView {
  readonly name: ProbeDatasetName;
  readonly trainTexts: string[];
  readonly testTexts: string[];
  readonly testLabels: (0 | 1)[];
}

const log = (s: string): void => {
  process.stderr.write(`probe: ${s}\n`);
};

interface RunContext {
  readonly model: HookedEncoder;
  readonly hookName: string;
  readonly revision: string;
  readonly o: ProbeTextOptions;
}

/** Features of one list of texts, through the cache. */
async function features(c: RunContext, part: string, texts: readonly string[], timings: Record<string, number>): Promise<FeatureMatrix> {
  const key: FeatureCacheKey = { model: c.o.model, revision: c.revision, hookName: c.hookName, dataset: part, maxLength: c.o.maxLength, textsHash: hashTexts(texts) };
  const t = performance.now();
  let next = 0;
  const r = await cachedFeatures(c.o.cacheDir, key, () => extractPooledFeatures(c.model, texts, {
    hookName: c.hookName,
    maxLength: c.o.maxLength,
    onProgress: (done, total) => {
      if (done >= next || done === total) {
        log(`${part}: extracted ${done}/${total} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
        next = done + Math.ceil(total / 4);
      }
    },
  }), { force: c.o.forceReprocess });
  timings[`features_${part.split('/')[1] ?? part}_s`] = +((performance.now() - t) / 1000).toFixed(2);
  log(`${part}: ${r.features.rows} × ${r.features.cols} features ${r.hit ? 'from cache' : 'extracted and cached'} (${r.path})`);
  return r.features;
}

/** Tokens each text pools over (attention-mask sum at the run's max length); tokenizer only. */
function tokenCounts(c: RunContext, texts: readonly string[]): number[] {
  return c.model.encode(texts, Math.min(c.o.maxLength, c.model.cfg.nCtx)).attentionMask.map((r) => r.reduce((a, v) => a + v, 0));
}

/** Seeded subsample of k indices of `pool`. */
function subsample(pool: readonly number[], k: number, seed: number): number[] {
  const rand = seededRng(seed);
  const a = [...pool];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a.slice(0, k).sort((x, y) => x - y);
}

/** Pseudo-perplexity of a balanced test subsample and of some normal training texts (cached). */
async function pplScores(c: RunContext, ds: DsView, seed: number, timings: Record<string, number>): Promise<TextProbeInputs['pseudoPerplexity']> {
  const half = Math.floor(c.o.pplSamples / 2);
  if (half === 0) return undefined;
  const byClass = (y: 0 | 1): number[] => ds.testLabels.map((l, i) => (l === y ? i : -1)).filter((i) => i >= 0);
  const testIdx = [...subsample(byClass(0), half, seed + 11), ...subsample(byClass(1), half, seed + 12)].sort((a, b) => a - b);
  const trainIdx = subsample(ds.trainTexts.map((_, i) => i), half, seed + 13);
  const t = performance.now();
  const score = async (part: string, texts: string[]): Promise<number[]> => {
    const key: FeatureCacheKey = { model: c.o.model, revision: c.revision, hookName: 'mlm_pseudo_perplexity', dataset: part, maxLength: PPL_MAX_LENGTH, textsHash: hashTexts(texts) };
    const r = await cachedFeatures(c.o.cacheDir, key, () => {
      const res = pseudoPerplexities(c.model, texts, { maxLength: PPL_MAX_LENGTH, onProgress: (d, n) => d === n && log(`${part}: pseudo-perplexity of ${texts.length} texts done`) });
      return { rows: texts.length, cols: 1, data: Float32Array.from(res, (x) => Math.log(x.pseudoPerplexity)) };
    }, { force: c.o.forceReprocess });
    return Array.from(r.features.data);
  };
  const scores = await score(`${ds.name}/ppl-test`, testIdx.map((i) => ds.testTexts[i] as string));
  const trainScores = await score(`${ds.name}/ppl-train`, trainIdx.map((i) => ds.trainTexts[i] as string));
  timings['pseudo_perplexity_s'] = +((performance.now() - t) / 1000).toFixed(2);
  return { testIdx, scores, trainScores };
}

/** The four plot pages of one dataset. */
function writePlots(dir: string, ds: DsView, r: TextProbeResult, o: ProbeTextOptions, hookName: string): Record<string, string> {
  const det = (n: string): TextProbeResult['detectors'][number] => r.detectors.find((d) => d.name === n) as TextProbeResult['detectors'][number];
  const vae = det('vae_recon');
  const xy = umapEmbed(r.testLatent, { seed: o.seed });
  const hover = ds.testTexts.map((t, i) => `${t.slice(0, 80).replace(/\s+/g, ' ')}… | recon MSE ${(vae.testScores[i] as number).toFixed(3)}`);
  const sub = `${ds.name}: ${PROBE_DATASET_INFO[ds.name].normal} (normal) vs ${PROBE_DATASET_INFO[ds.name].anomaly} (anomaly); ${o.model} ${hookName}, mean-pooled.`;
  const latent = writeLatentMap(join(dir, 'latent_umap.html'), xy, ds.testLabels, { title: `UMAP of the β-VAE latent μ (test texts) — ${ds.name}`, description: sub, hover, plotlyDir: o.outputDir });
  const history = writeVaeHistory(join(dir, 'training_history.html'), r.training.history, { title: `β-VAE training — ${ds.name}`, description: `${sub} Best epoch ${r.training.bestEpoch}.`, plotlyDir: o.outputDir });
  const split = (d: TextProbeResult['detectors'][number]): { normal: number[]; anomaly: number[] } => ({
    normal: d.testScores.filter((_, k) => ds.testLabels[d.testIdx[k] as number] === 0),
    anomaly: d.testScores.filter((_, k) => ds.testLabels[d.testIdx[k] as number] === 1),
  });
  const panels = ['vae_recon', 'mahalanobis', 'knn', 'pca'].map((n) => ({ title: `${n} (AUROC ${det(n).auroc.toFixed(3)})`, ...split(det(n)), threshold: det(n).threshold, xLabel: n === 'vae_recon' ? 'reconstruction MSE' : 'score', logX: true }));
  const histograms = writeScoreHistograms(join(dir, 'error_histograms.html'), panels, { title: `Scores of normal vs anomalous test texts — ${ds.name}`, description: `${sub} Dashed line: threshold (95th percentile of held-out normal training scores).`, plotlyDir: o.outputDir });
  const curves = r.detectors.filter((d) => !d.name.includes('@')).map((d) => ({ name: `${d.name}${d.n < ds.testTexts.length ? ` (n=${d.n})` : ''}`, scores: d.testScores, labels: d.testIdx.map((i) => ds.testLabels[i] as 0 | 1) }));
  const rocPr = writeRocPr(join(dir, 'roc_pr.html'), curves, { title: `ROC and PR curves — ${ds.name}`, description: sub, plotlyDir: o.outputDir });
  return { latent, history, histograms, rocPr };
}

/** One dataset and seed: split, features, detectors; plots, VAE and scores for the first seed only. */
async function runDataset(c: RunContext, name: ProbeDatasetName, seed: number, first: boolean): Promise<{ run: SeedRun; dedup: DedupCounts; summary: Record<string, unknown> }> {
  const { o } = c;
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const sp: ProbeSplits = await loadProbeSplits(name, { maxTrain: o.maxTrain, maxDev: o.maxDev, maxTest: o.maxTest, seed });
  const ds: DsView = { name, trainTexts: sp.train.texts, testTexts: sp.test.texts, testLabels: sp.test.labels };
  const count = (l: readonly (0 | 1)[]): string => `${l.filter((y) => y === 0).length}/${l.filter((y) => y === 1).length}`;
  log(`${name} seed ${seed}: train ${sp.train.texts.length}, dev ${count(sp.dev.labels)}, test ${count(sp.test.labels)} (normal/anomalous) of ${sp.dedup.normal}/${sp.dedup.anomaly} distinct`);
  const trainX = await features(c, `${name}/train-s${seed}`, sp.train.texts, timings);
  const devX = await features(c, `${name}/dev-s${seed}`, sp.dev.texts, timings);
  const testX = await features(c, `${name}/test-s${seed}`, sp.test.texts, timings);
  const ppl = await pplScores(c, ds, seed, timings);
  const lengths = { train: tokenCounts(c, sp.train.texts), dev: tokenCounts(c, sp.dev.texts), test: tokenCounts(c, sp.test.texts) };
  let t = performance.now();
  const r = runTextProbe({
    trainX, devX, testX, devLabels: sp.dev.labels, testLabels: sp.test.labels, ids: { dev: sp.dev.ids, test: sp.test.ids },
    texts: { train: sp.train.texts, dev: sp.dev.texts, test: sp.test.texts }, pseudoPerplexity: ppl, lengths,
  }, {
    vae: { dLatent: o.latentDim, seed },
    train: { epochs: o.epochs, betaMax: o.betaMax, seed },
    quiet: o.json,
    label: `probe: ${name} seed ${seed} β-VAE`,
  });
  try {
    timings['vae_and_baselines_s'] = +((performance.now() - t) / 1000).toFixed(2);
    const dir = join(o.outputDir, name);
    let extra: Record<string, unknown> = {};
    if (first) {
      t = performance.now();
      const plots = writePlots(dir, ds, r, o, c.hookName);
      timings['plots_s'] = +((performance.now() - t) / 1000).toFixed(2);
      // Both VAEs, with what reproduces their input (pooling, token mean) and the dev choice among them.
      const meta = { model: o.model, revision: c.revision, hookName: c.hookName, dataset: name, seed, maxLength: o.maxLength, devPick: r.choices.vae_dev_pick.name };
      const thr = (n: string): Record<string, unknown> => ({ score: 'recon', threshold: r.detectors.find((d) => d.name === n)?.threshold, thresholdQuantile: 0.95, devAuroc: r.detectors.find((d) => d.name === n)?.devAuroc });
      const saved = await saveBetaVae(r.vae, join(dir, 'vae'), { scaler: r.scaler, metadata: { ...meta, pooling: 'mean', bestEpoch: r.training.bestEpoch, ...thr('vae_recon') } });
      const sq = r.sqrtn;
      const savedSqrtn = sq === undefined ? undefined : await saveBetaVae(sq.vae, join(dir, 'vae_sqrtn'), { scaler: sq.scaler, tokenMean: sq.tokenMean, metadata: { ...meta, pooling: 'sqrtn', bestEpoch: sq.bestEpoch, ...thr('vae_recon_sqrtn') } });
      writeFileAtomic(join(dir, 'scores.json'), `${JSON.stringify({ seed, labels: sp.test.labels, detectors: r.detectors.map((d) => ({ name: d.name, testIdx: d.testIdx, scores: d.testScores })) })}\n`);
      extra = { plots, vae: saved, ...(savedSqrtn === undefined ? {} : { vaeSqrtn: savedSqrtn }) };
    }
    timings['total_s'] = +((performance.now() - t0) / 1000).toFixed(2);
    const metrics = Object.fromEntries(r.detectors.map(({ testScores: _s, testIdx: _i, ...m }) => [m.name, m]));
    const run: SeedRun = { dataset: name, seed, detectors: r.detectors.map((d) => ({ name: d.name, scores: d.testScores, labels: d.testIdx.map((i) => sp.test.labels[i] as 0 | 1), devAuroc: d.devAuroc, chosen: d.chosen })) };
    const auc = (n: string): string => (metrics[n]?.auroc ?? NaN).toFixed(3);
    log(`${name} seed ${seed}: test AUROC VAE ${auc('vae_recon')} (dev pick ${r.choices.vae_dev_pick.name}: ${auc('vae_dev_pick')}), char TF-IDF kNN ${auc('tfidf_char_knn')}, best on dev ${r.choices.best_on_dev.name}: ${auc('best_on_dev')} (anchor ${ANCHOR_AUROC[name]}); ${timings['total_s']} s`);
    const summary = {
      dataset: name, seed, info: PROBE_DATASET_INFO[name], sizes: { train: sp.train.texts.length, dev: count(sp.dev.labels), test: count(sp.test.labels) },
      features: trainX.cols, anchorAuroc: ANCHOR_AUROC[name], metrics, choices: r.choices, baselines: r.baselineInfo,
      training: { bestEpoch: r.training.bestEpoch, epochsRun: r.training.history.length, stoppedEarly: r.training.stoppedEarly, seconds: +r.training.seconds.toFixed(2), trainRows: r.training.trainIdx.length, valRows: r.training.valIdx.length },
      ...extra, timings,
    };
    return { run, dedup: sp.dedup, summary };
  } finally {
    r.vae.dispose();
    r.sqrtn?.vae.dispose();
  }
}

/**
 * Run the text benchmark on the chosen datasets and write the table.
 * @param given Resolved options; a `maxLength` above the model's n_ctx is clamped with a warning, and
 *   the logged and saved value is the one used.
 * @returns Nothing; prints the table (or one JSON object with --json).
 */
export async function runProbeText(given: ProbeTextOptions): Promise<void> {
  await initBackend(undefined, { quiet: given.json });
  const t0 = performance.now();
  const model = await HookedEncoder.fromPretrained(given.model, { quiet: given.json });
  try {
    const nCtx = model.cfg.nCtx;
    if (given.maxLength > nCtx) log(`warning: --max-length ${given.maxLength} exceeds the n_ctx ${nCtx} of ${given.model}; using ${nCtx}`);
    const o: ProbeTextOptions = { ...given, maxLength: Math.min(given.maxLength, nCtx) };
    const hookName = probeHookName(o.hook, o.layer, model.cfg.nLayers);
    const c: RunContext = { model, hookName, revision: await modelRevision(o.model), o };
    log(`model ${o.model} (${c.revision}), hook ${hookName}, max length ${o.maxLength}, seeds ${o.seed}…${o.seed + o.seeds - 1}, ≤ ${o.maxTrain} train / ${o.maxDev} dev / ${o.maxTest} test texts per dataset, pseudo-perplexity on ${o.pplSamples} test texts (max length ${PPL_MAX_LENGTH})`);
    const runs: SeedRun[] = [];
    const dedup: Record<string, DedupCounts> = {};
    const datasets: Record<string, unknown>[] = [];
    const seeds = Array.from({ length: o.seeds }, (_, i) => o.seed + i);
    for (const seed of seeds) {
      for (const name of o.datasets) {
        const r = await runDataset(c, name, seed, seed === o.seed);
        runs.push(r.run);
        dedup[name] = r.dedup;
        datasets.push(r.summary);
      }
    }
    const seconds = +((performance.now() - t0) / 1000).toFixed(1);
    const report = protocolReport({ runs, dedup, detectors: DETECTORS, model: o.model, revision: c.revision, hookName, options: o, seconds });
    const out = { command: 'probe', model: o.model, revision: c.revision, hookName, options: o, seconds, dedup, table: report.cells, datasets };
    writeFileAtomic(join(o.outputDir, 'results.json'), `${JSON.stringify(out, null, 1)}\n`);
    writeFileAtomic(join(o.outputDir, 'results.md'), report.markdown);
    if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else console.log(`${report.table}\n\nwrote ${join(o.outputDir, 'results.json')}, results.md and per-dataset plots (${seconds} s)`);
  } finally {
    model.dispose();
  }
}
