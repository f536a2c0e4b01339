/**
 * `tfjs-lens probe --dataset …`: the text OOD benchmark. Per dataset: load and subsample texts,
 * extract pooled hook activations (cached in `--cache-dir`), score a subsample by masked-LM
 * pseudo-perplexity, train the β-VAE on normal texts, score the test texts with the VAE and the
 * baselines, write plots, the trained probe and the scores; then one table for all datasets.
 */
import { join } from 'node:path';
import { initBackend } from '../../backend/backend.js';
import { HookedEncoder } from '../../model/encoder/hooked_encoder.js';
import { umapEmbed } from '../../probe/embed2d.js';
import { cachedFeatures, hashTexts, modelRevision, type FeatureCacheKey } from '../../probe/feature_cache.js';
import { extractPooledFeatures, probeHookName } from '../../probe/features.js';
import type { FeatureMatrix } from '../../probe/matrix.js';
import { pseudoPerplexities } from '../../probe/pseudo_perplexity.js';
import { ANCHOR_AUROC, textResultsTable, type TextTableRow } from '../probe_bench/report.js';
import { runTextProbe, type TextProbeInputs, type TextProbeResult } from '../probe_bench/text_bench.js';
import { loadProbeDataset, PROBE_DATASET_INFO, type ProbeDatasetName, type ProbeTextDataset } from '../../probe/text_datasets.js';
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
  readonly maxLength: number;
  readonly maxTrain: number;
  readonly maxTest: number;
  readonly pplSamples: number;
}

/** Token limit of the pseudo-perplexity (distilbert-mini was trained on 64-token rows). */
const PPL_MAX_LENGTH = 64;
/** Columns of the summary table, in order. */
const DETECTORS = ['vae_recon', 'vae_neg_elbo', 'vae_latent_mahalanobis', 'mahalanobis', 'knn', 'pca', 'pseudo_perplexity', 'ensemble_rank_avg', 'length', 'vae_recon_sqrtn', 'mahalanobis_sqrtn'];

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
async function pplScores(c: RunContext, ds: ProbeTextDataset, timings: Record<string, number>): Promise<TextProbeInputs['pseudoPerplexity']> {
  const half = Math.floor(c.o.pplSamples / 2);
  if (half === 0) return undefined;
  const byClass = (y: 0 | 1): number[] => ds.testLabels.map((l, i) => (l === y ? i : -1)).filter((i) => i >= 0);
  const testIdx = [...subsample(byClass(0), half, c.o.seed + 11), ...subsample(byClass(1), half, c.o.seed + 12)].sort((a, b) => a - b);
  const trainIdx = subsample(ds.trainTexts.map((_, i) => i), half, c.o.seed + 13);
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
function writePlots(dir: string, ds: ProbeTextDataset, r: TextProbeResult, o: ProbeTextOptions, hookName: string): Record<string, string> {
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

/** Everything for one dataset; returns its table row and JSON summary. */
async function runDataset(c: RunContext, name: ProbeTextOptions['datasets'][number]): Promise<{ row: TextTableRow; summary: Record<string, unknown> }> {
  const { o } = c;
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const ds = await loadProbeDataset(name, { maxTrain: o.maxTrain, maxTest: o.maxTest, seed: o.seed });
  const nNorm = ds.testLabels.filter((y) => y === 0).length;
  log(`${name}: ${ds.trainTexts.length} normal training texts, test ${nNorm} normal + ${ds.testTexts.length - nNorm} anomalous (of ${JSON.stringify(ds.available)})`);
  const trainX = await features(c, `${name}/train`, ds.trainTexts, timings);
  const testX = await features(c, `${name}/test`, ds.testTexts, timings);
  const ppl = await pplScores(c, ds, timings);
  const lengths = { train: tokenCounts(c, ds.trainTexts), test: tokenCounts(c, ds.testTexts) };
  let t = performance.now();
  const r = runTextProbe({ trainX, testX, testLabels: ds.testLabels, pseudoPerplexity: ppl, lengths }, {
    vae: { dLatent: o.latentDim, seed: o.seed },
    train: { epochs: o.epochs, betaMax: o.betaMax, seed: o.seed },
    quiet: o.json,
    label: `probe: ${name} β-VAE`,
  });
  try {
    timings['vae_and_baselines_s'] = +((performance.now() - t) / 1000).toFixed(2);
    const dir = join(o.outputDir, name);
    t = performance.now();
    const plots = writePlots(dir, ds, r, o, c.hookName);
    timings['plots_s'] = +((performance.now() - t) / 1000).toFixed(2);
    const saved = await saveBetaVae(r.vae, join(dir, 'vae'), { scaler: r.scaler, metadata: { model: o.model, revision: c.revision, hookName: c.hookName, dataset: name, maxLength: o.maxLength, bestEpoch: r.training.bestEpoch } });
    writeFileAtomic(join(dir, 'scores.json'), `${JSON.stringify({ labels: ds.testLabels, detectors: r.detectors.map((d) => ({ name: d.name, testIdx: d.testIdx, scores: d.testScores })) })}\n`);
    timings['total_s'] = +((performance.now() - t0) / 1000).toFixed(2);
    const metrics = Object.fromEntries(r.detectors.map(({ testScores: _s, testIdx: _i, ...m }) => [m.name, m]));
    const pick = (k: 'auroc' | 'aupr' | 'f1'): Record<string, number> => Object.fromEntries(r.detectors.map((d) => [d.name, d[k]]));
    const row: TextTableRow = { dataset: name, nTest: [nNorm, ds.testTexts.length - nNorm], auroc: pick('auroc'), aupr: pick('aupr'), f1: pick('f1'), ...(ppl === undefined ? {} : { pplN: ppl.scores.length }) };
    log(`${name}: VAE AUROC ${row.auroc['vae_recon']?.toFixed(3)} (anchor ${ANCHOR_AUROC[name]}), Mahalanobis ${row.auroc['mahalanobis']?.toFixed(3)}; √n pooling: VAE ${row.auroc['vae_recon_sqrtn']?.toFixed(3)}, Mahalanobis ${row.auroc['mahalanobis_sqrtn']?.toFixed(3)}; length alone ${row.auroc['length']?.toFixed(3)}; ${timings['total_s']} s`);
    const summary = {
      dataset: name, info: PROBE_DATASET_INFO[name], sizes: { train: ds.trainTexts.length, testNormal: nNorm, testAnomaly: ds.testTexts.length - nNorm, available: ds.available },
      features: trainX.cols, anchorAuroc: ANCHOR_AUROC[name], metrics, baselines: r.baselineInfo,
      training: { bestEpoch: r.training.bestEpoch, epochsRun: r.training.history.length, stoppedEarly: r.training.stoppedEarly, seconds: +r.training.seconds.toFixed(2), trainRows: r.training.trainIdx.length, valRows: r.training.valIdx.length, history: r.training.history },
      plots, vae: saved, timings,
    };
    return { row, summary };
  } finally {
    r.vae.dispose();
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
    log(`model ${o.model} (${c.revision}), hook ${hookName}, max length ${o.maxLength}, ≤ ${o.maxTrain} train / ${o.maxTest} test texts per dataset, pseudo-perplexity on ${o.pplSamples} test texts (max length ${PPL_MAX_LENGTH})`);
    const rows: TextTableRow[] = [];
    const datasets: Record<string, unknown>[] = [];
    for (const name of o.datasets) {
      const { row, summary } = await runDataset(c, name);
      rows.push(row);
      datasets.push(summary);
    }
    const table = textResultsTable(rows, DETECTORS);
    const seconds = +((performance.now() - t0) / 1000).toFixed(1);
    const out = { command: 'probe', model: o.model, revision: c.revision, hookName, options: o, seconds, table: rows, datasets };
    writeFileAtomic(join(o.outputDir, 'results.json'), `${JSON.stringify(out, null, 2)}\n`);
    const head = `# β-VAE probe, text OOD (ROC-AUC)\n\nModel ${o.model} (${c.revision}), hook \`${hookName}\` mean-pooled over the attention mask, max length ${o.maxLength}, seed ${o.seed}. Anchor = ivangonquir/vae-transformer-ood (distilbert-base-uncased, different data sizes; its fake-news set is not LIAR). \`length\`: text length alone (log token count, two-sided z²). \`*_sqrtn\`: the same detectors on √n-pooled features, (mean − token mean)·√n, which removes the mean pool's shrinkage with length. ${seconds} s.\n\n`;
    writeFileAtomic(join(o.outputDir, 'results.md'), `${head}${table}\n`);
    if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else console.log(`${table}\n\nwrote ${join(o.outputDir, 'results.json')}, results.md and per-dataset plots (${seconds} s)`);
  } finally {
    model.dispose();
  }
}
