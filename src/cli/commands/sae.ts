/**
 * `tfjs-lens sae train|eval`: train a sparse autoencoder on one hook of a model (optionally through an
 * on-disk activation cache) and save it as `saes/<model>/<hook>/` (SAELens files); evaluate an SAE
 * (reconstruction, sparsity, CE loss recovered) and write its density histogram and feature page.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, UsageError } from '../../errors.js';
import { HookedTransformer } from '../../model/hooked_transformer.js';
import { ActivationStore, modelActivationSource, type ActivationSource } from '../../sae/activation_store.js';
import { saeConfig, type SaeArchitecture } from '../../sae/config.js';
import { writeFeatureDashboard } from '../../sae/dashboard_html.js';
import { cacheActivations, diskActivationSource } from '../../sae/disk_cache.js';
import { evaluateSaeOnTokens } from '../../sae/evals.js';
import { ceLossRecovered } from '../../sae/recons_loss.js';
import { excludedTokenIds, keepMask } from '../../sae/special_tokens.js';
import { topActivatingContexts } from '../../sae/features.js';
import { loadSae, saeDir, saveSae } from '../../sae/io.js';
import type { SparseAutoencoder } from '../../sae/sae.js';
import { trainSae, type SaeStepMetrics } from '../../sae/train.js';
import { logFeatureSparsity } from '../../sae/train_state.js';
import { writeHistogram } from '../../viz/charts.js';
import { writeSaeTrainingCurves } from '../../viz/sae_plots.js';
import { datasetRows, defaultDataset } from './sae_dataset.js';
import { choiceOption, didYouMean, floatOption, intOption, parseCliArgs, type CliArgs } from '../cli_args.js';
import { packageRoot } from './paths.js';

/** Usage text of `tfjs-lens sae`. @category CLI */
const SAE_USAGE = `usage: tfjs-lens sae <train|eval> [options]

  train  --model <path|hub id> --hook <name> --dataset <random:N|repeated:N[:lo-hi]|rows.json|text file/folder>
         --arch standard|topk|batchtopk|gated|jumprelu --d-sae N --l1 C (L0 for jumprelu) --k K (topk, batchtopk) --steps N
         [--out <dir> (the SAE; default saes/<model>/<hook>)]
         [--batch-size 4096] [--lr 3e-4] [--lr-warmup N] [--l1-warmup N] [--context-size N]
         [--normalize] [--cache-dir <dir>] [--seed 0] [--eval-rows 64]
         [--dead-window <tokens> (dead = no firing in the last W tokens, in the training log and the
          evaluation alike; default: the held-out tokens scored)]
  eval   --sae <dir> --model <path|hub id> --dataset <spec> [--batches 10] [--dashboard-features 24]

common: --json (one JSON object on stdout)   --output-dir <dir> (metrics and pages; default results/sae/<model>/<hook>)`;

const OPTIONS = {
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  model: { type: 'string' }, hook: { type: 'string' }, dataset: { type: 'string' }, arch: { type: 'string' },
  'd-sae': { type: 'string' }, l1: { type: 'string' }, k: { type: 'string' }, steps: { type: 'string' }, out: { type: 'string' },
  'batch-size': { type: 'string' }, lr: { type: 'string' }, 'lr-warmup': { type: 'string' }, 'l1-warmup': { type: 'string' },
  'context-size': { type: 'string' }, normalize: { type: 'boolean', default: false }, 'cache-dir': { type: 'string' },
  seed: { type: 'string' }, 'eval-rows': { type: 'string' }, sae: { type: 'string' }, batches: { type: 'string' },
  'dashboard-features': { type: 'string' }, 'dead-window': { type: 'string' }, 'output-dir': { type: 'string' },
} as const;

type Values = CliArgs<typeof OPTIONS, true>['values'];

/** Bounds of every numeric option; all are checked before the model loads. */
const BOUNDS: Readonly<Record<string, { readonly int: boolean; readonly min?: number; readonly exclusiveMin?: number }>> = {
  'd-sae': { int: true, min: 1 }, l1: { int: false, min: 0 }, k: { int: true, min: 1 }, steps: { int: true, min: 1 },
  'batch-size': { int: true, min: 1 }, lr: { int: false, exclusiveMin: 0 }, 'lr-warmup': { int: true, min: 0 },
  'l1-warmup': { int: true, min: 0 }, 'context-size': { int: true, min: 2 }, seed: { int: true, min: 0 }, 'eval-rows': { int: true, min: 1 },
  batches: { int: true, min: 1 }, 'dashboard-features': { int: true, min: 0 }, 'dead-window': { int: true, min: 1 },
};

/** Options that only one subcommand takes (passing them to the other is a UsageError, not ignored). */
const ONLY: Readonly<Record<'train' | 'eval', readonly (keyof typeof OPTIONS)[]>> = {
  train: ['arch', 'd-sae', 'l1', 'k', 'steps', 'out', 'batch-size', 'lr', 'lr-warmup', 'l1-warmup', 'normalize', 'cache-dir', 'eval-rows', 'dead-window'],
  eval: ['sae', 'batches'],
};

const ARCHS: readonly SaeArchitecture[] = ['standard', 'topk', 'batchtopk', 'gated', 'jumprelu'];

function num(v: string | undefined, name: string, dflt: number, max?: number): number {
  const b = { dflt, ...BOUNDS[name], ...(max === undefined ? {} : { max }) };
  return b.int ? intOption('sae', v, name, b) : floatOption('sae', v, name, b);
}

/** Where metrics and pages go: --output-dir, else results/sae/<model>/<hook> under the package. */
function pagesDir(v: Values, modelName: string, hook: string): string {
  return v['output-dir'] ?? join(packageRoot(), 'results', 'sae', modelName, hook);
}

/** Check every option of the subcommand before anything loads. */
function checkOptions(sub: 'train' | 'eval', v: Values): void {
  const other = sub === 'train' ? 'eval' : 'train';
  const wrong = ONLY[other].find((k) => v[k] !== undefined && v[k] !== false);
  if (wrong !== undefined) throw new UsageError(`sae ${sub}: --${wrong} is an option of 'sae ${other}', not of 'sae ${sub}'`);
  for (const k of Object.keys(BOUNDS)) num(v[k as keyof Values] as string | undefined, k, 0);
  const arch = choiceOption('sae', v.arch, 'arch', ARCHS, 'standard');
  if (v.k !== undefined && arch !== 'topk' && arch !== 'batchtopk') throw new UsageError(`sae train: --k is the number of active latents of --arch topk or batchtopk, got --arch ${arch}; pass --arch topk or drop --k`);
}

function defaultModel(root: string): string {
  const trained = join(root, 'models', 'induction-2l');
  return existsSync(join(trained, 'config.json')) ? trained : join(root, 'tests', 'fixtures', 'gpt2-tiny');
}

interface Loaded {
  readonly model: HookedTransformer;
  readonly modelName: string;
  readonly rows: number[][];
  readonly dataset: string;
  readonly contextSize: number;
}

async function loadModelAndRows(v: Values, seed: number): Promise<Loaded> {
  const root = packageRoot();
  const path = v.model ?? defaultModel(root);
  const model = await HookedTransformer.fromPretrained(path, { quiet: v.json });
  const contextSize = num(v['context-size'], 'context-size', Math.min(128, model.cfg.nCtx), model.cfg.nCtx);
  const dataset = v.dataset ?? defaultDataset(model, root);
  const rows = await datasetRows(dataset, model, { contextSize, seed });
  return { model, modelName: basename(resolve(path)), rows, dataset, contextSize };
}

function splitRows(rows: number[][], evalRows: number): [number[][], number[][]] {
  const nEval = Math.min(evalRows, Math.floor(rows.length / 4));
  return [rows.slice(0, rows.length - nEval), rows.slice(rows.length - nEval)];
}

async function trainingSource(v: Values, l: Loaded, hook: string, rows: number[][], tokens: number): Promise<ActivationSource> {
  const cacheDir = v['cache-dir'];
  if (cacheDir === undefined) return modelActivationSource(l.model, hook, rows);
  if (!existsSync(join(cacheDir, 'cache_meta.json'))) {
    const src = await modelActivationSource(l.model, hook, rows, { epochs: Math.max(1, Math.ceil(tokens / (rows.length * l.contextSize))) });
    await cacheActivations(src, cacheDir, { nTokens: tokens, metadata: { model_name: l.modelName, hook_name: hook, context_size: l.contextSize } });
  }
  return diskActivationSource(cacheDir, { seed: num(v.seed, 'seed', 0) });
}

/**
 * Metrics of an SAE on held-out rows, special-token positions left out (SAELens `run_evals`):
 * reconstruction/sparsity, dead latents over the last `deadWindow` tokens, CE loss recovered, plots.
 */
async function evaluateOn(sae: SparseAutoencoder, l: Loaded, hook: string, rows: number[][], outBase: string, nFeatures: number, deadWindow?: number) {
  const metrics = evaluateSaeOnTokens(l.model, sae, rows, { hookName: hook, ...(deadWindow !== undefined ? { deadWindowTokens: deadWindow } : {}) });
  const ce = ceLossRecovered(l.model, { sae, hookName: hook }, rows);
  const histogram = writeHistogram(join(outBase, 'feature_density.html'), [{ name: 'log10 density', values: Array.from(logFeatureSparsity(metrics.featureDensity)) }], {
    title: `Feature density: ${l.modelName} ${hook}`, xLabel: 'log10(feature density + 1e-10)', yLabel: 'latents (count)', nbins: 40,
  });
  const alive = Array.from(metrics.featureDensity.keys()).filter((i) => (metrics.featureDensity[i] as number) > 0);
  const shown = alive.sort((a, b) => (metrics.featureDensity[b] as number) - (metrics.featureDensity[a] as number)).slice(0, nFeatures);
  const ctx = topActivatingContexts(l.model, sae, rows, { features: shown, hookName: hook });
  const tok = l.model.tokenizer;
  const dashboard = await writeFeatureDashboard(join(outBase, 'features.html'), ctx, {
    title: `SAE features: ${l.modelName} ${hook}`, density: metrics.featureDensity,
    ...(tok !== undefined ? { decode: (id: number) => tok.decodeToken(id) } : {}),
  });
  const { featureDensity: _d, densityHistogram, ...scalars } = metrics;
  return { metrics: { ...scalars, ...ce, nTokens: metrics.nTokens, ceTokens: ce.nTokens }, densityHistogram, files: { histogram, dashboard } };
}

/**
 * The one window of "dead" for the training log and the held-out evaluation: --dead-window, by default the
 * held-out tokens that are scored (special tokens excluded), so both count "no firing in the last W tokens".
 */
function deadWindowFor(v: Values, l: Loaded, evalRows: number[][]): number {
  const scored = keepMask(evalRows, excludedTokenIds(l.model)).reduce((a, k) => a + k, 0);
  const w = num(v['dead-window'], 'dead-window', scored);
  if (w > scored) throw new UsageError(`sae train: --dead-window ${w} exceeds the ${scored} held-out tokens that evaluation counts dead latents over; lower it or raise --eval-rows`);
  return w;
}

function writeCurves(path: string, history: readonly SaeStepMetrics[], title: string): string {
  return writeSaeTrainingCurves(path, history, { title });
}

async function trainCommand(v: Values): Promise<number> {
  const seed = num(v.seed, 'seed', 0);
  const l = await loadModelAndRows(v, seed);
  try {
    const hook = v.hook ?? `blocks.${Math.max(0, l.model.cfg.nLayers - 1)}.hook_resid_pre`;
    const arch = choiceOption('sae', v.arch, 'arch', ARCHS, 'standard');
    const [trainRows, evalRows] = splitRows(l.rows, num(v['eval-rows'], 'eval-rows', 64));
    const deadWindow = deadWindowFor(v, l, evalRows);
    const batchSize = num(v['batch-size'], 'batch-size', 4096);
    const steps = num(v.steps, 'steps', 1000);
    const source = await trainingSource(v, l, hook, trainRows, steps * batchSize);
    const dSae = num(v['d-sae'], 'd-sae', 8 * source.dIn);
    const cfg = saeConfig({
      architecture: arch, dIn: source.dIn, dSae, ...(arch === 'topk' || arch === 'batchtopk' ? { k: num(v.k, 'k', Math.min(32, dSae)) } : {}),
      metadata: {
        model_name: l.modelName, hook_name: hook, hook_head_index: null, model_class_name: 'HookedTransformer', context_size: l.contextSize,
        prepend_bos: l.model.cfg.bosTokenId !== undefined, dataset_path: l.dataset, trained_with: 'tfjs-lens',
      },
    });
    const outDir = v.out ?? saeDir(l.modelName, hook);
    const resultsDir = pagesDir(v, l.modelName, hook);
    const store = new ActivationStore(source, { batchSize, seed });
    const r = await trainSae({
      store, cfg, metricsPath: join(resultsDir, 'metrics.jsonl'), quiet: v.json, label: `sae ${hook}`,
      training: {
        steps, batchSize, seed, lr: num(v.lr, 'lr', 3e-4), lrWarmupSteps: num(v['lr-warmup'], 'lr-warmup', 0),
        sparsityCoefficient: num(v.l1, 'l1', 1), sparsityWarmupSteps: num(v['l1-warmup'], 'l1-warmup', 0),
        normalizeActivations: v.normalize ? 'expected_average_only_in' : 'none',
        deadFeatureWindowTokens: deadWindow,
      },
    });
    try {
      await saveSae(r.sae, outDir, { logSparsity: logFeatureSparsity(r.featureDensity), runnerCfg: { ...r.training, hook_name: hook, model_name: l.modelName, dataset_path: l.dataset } });
      const curves = writeCurves(join(resultsDir, 'training_curves.html'), r.history, `SAE training: ${l.modelName} ${hook}`);
      const ev = await evaluateOn(r.sae, l, hook, evalRows, resultsDir, num(v['dashboard-features'], 'dashboard-features', 24), deadWindow);
      const last = r.history.at(-1);
      const out = {
        command: 'sae train', model: l.modelName, hook, architecture: arch, d_in: cfg.dIn, d_sae: dSae, steps, tokens: r.tokens,
        seconds: +r.seconds.toFixed(2), scaling_factor: r.scalingFactor ?? null, final_train: last ?? null, out: outDir,
        eval: ev.metrics, files: { ...ev.files, curves, metrics: join(resultsDir, 'metrics.jsonl') },
      };
      report(v.json, out, `saved ${outDir}`);
      return 0;
    } finally {
      r.sae.dispose();
    }
  } finally {
    l.model.dispose();
  }
}

async function evalCommand(v: Values): Promise<number> {
  const l = await loadModelAndRows(v, num(v.seed, 'seed', 1)); // seed 1: synthetic rows differ from training's (seed 0)
  const dir = v.sae ?? (v.hook !== undefined ? saeDir(l.modelName, v.hook) : undefined);
  if (dir === undefined) throw new ConfigError('sae eval: pass --sae <dir> (or --hook to use saes/<model>/<hook>)');
  const sae = await loadSae(dir);
  try {
    const hook = v.hook ?? sae.cfg.metadata.hook_name;
    if (typeof hook !== 'string') throw new ConfigError('sae eval: the SAE has no metadata.hook_name; pass --hook');
    const rows = l.rows.slice(0, Math.max(1, num(v.batches, 'batches', 10)) * 4);
    const ev = await evaluateOn(sae, l, hook, rows, pagesDir(v, l.modelName, hook), num(v['dashboard-features'], 'dashboard-features', 24));
    const out = { command: 'sae eval', sae: dir, model: l.modelName, hook, architecture: sae.cfg.architecture, d_sae: sae.cfg.dSae, ...ev.metrics, density_histogram: ev.densityHistogram, files: ev.files };
    report(v.json, out, `evaluated ${dir}`);
    return 0;
  } finally {
    sae.dispose();
    l.model.dispose();
  }
}

function report(json: boolean, out: Record<string, unknown>, headline: string): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  console.log(headline);
  const ev = (out['eval'] ?? out) as Record<string, unknown>;
  const labels: Record<string, string> = {
    explainedVariance: 'explained variance (SAELens)', explainedVarianceLegacy: 'explained variance (SAELens legacy, per token)',
    explainedVarianceV618: 'explained variance (SAELens v6.18.0 code)', mse: 'mse', l0: 'L0', deadWindowTokens: 'dead window (tokens)',
    deadFraction: 'dead fraction', denseFraction: 'dense fraction', ceLossWithoutSae: 'CE clean (nats)', ceLossWithSae: 'CE with SAE (nats)',
    ceLossWithAblation: 'CE zero-ablated (nats)', ceLossScore: 'CE loss score', klDivWithSae: 'KL with SAE (nats)', klDivScore: 'KL score',
  };
  console.table(Object.fromEntries(Object.keys(labels).filter((k) => k in ev).map((k) => [labels[k], ev[k]])));
  const train = out['final_train'] as { deadFeatures?: number } | null | undefined;
  if (train?.deadFeatures !== undefined) console.log(`dead latents at the end of training (same window): ${train.deadFeatures}`);
  console.log('files:', out['files']);
}

/**
 * Run `tfjs-lens sae …`.
 * @param argv Arguments after `sae`.
 * @returns The exit code.
 * @throws {@link "tfjs-lens"!UsageError} on bad options (before any model loads).
 * @example await runSaeCommand(['train', '--steps', '100', '--json']);
 * @category CLI
 */
export async function runSaeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs('sae', argv, OPTIONS, { allowPositionals: true });
  const sub = positionals[0];
  if (values.help || sub === undefined) {
    process.stdout.write(`${SAE_USAGE}\n`);
    return sub === undefined && !values.help ? 2 : 0;
  }
  if (sub !== 'train' && sub !== 'eval') {
    throw new UsageError(`sae: unknown subcommand '${sub}'${didYouMean(sub, ['train', 'eval'])} (expected train or eval; tfjs-lens sae --help)`);
  }
  if (positionals.length > 1) throw new UsageError(`sae ${sub}: unexpected argument '${positionals[1] ?? ''}'; options are --name value (tfjs-lens sae --help)`);
  checkOptions(sub, values);
  return sub === 'train' ? trainCommand(values) : evalCommand(values);
}
