/**
 * Train, evaluate and save the two SAEs shipped under `saes/` (issue 22, deliverable 3), in SAELens's
 * layout (cfg.json, sae_weights.safetensors, sparsity.safetensors, runner_cfg.json), each with
 * `evals.json` (SAELens metrics on held-out data) and `features.html` (top features' contexts and the
 * feature-density histogram) beside it, then write `saes/index.json`. Seeded and reproducible.
 *
 * - distilbert-mini, `blocks.0.attn.hook_q` (the β-VAE probe's default hook), per-token q flattened over
 *   heads to d_in 4·32 = 128 (`reshape_activations: 'hook_z'`). Data: the model's own training text, the
 *   benchmark-free corpus (scripts/lib/benchmark_free_corpus.ts: no SMS/IMDB/AG News/LIAR text that any
 *   probe run reads), packed into rows of 64 as the model was trained; training rows BERT-masked with seed
 *   101 (the model's own masking, so the SAE sees [MASK] positions too); evaluation on the model's held-out
 *   documents (5%, split seed 0), masking seed 102 for the masked-LM CE loss.
 * - induction-2l, `blocks.0.hook_resid_post` (the residual stream between its two layers): the model's
 *   placed-repeat rows (scripts/lib/induction_data.ts, 128 tokens, L 3…40, ids [1000, 3000)), data seed 101
 *   for training and 102 for evaluation (the model's training stages used seeds 0–31).
 *
 * Run: npx tsx scripts/train_shipped_saes.ts [--json] [--only distilbert-mini|induction-2l] [--scale 1] [--lr 1e-3] [--root DIR]
 * (--scale multiplies the training tokens; progress on stderr, --json prints one JSON object on stdout).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { choiceOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import {
  ceLossRecovered, evaluateSaeOnTokens, featureDashboardHtml, logFeatureSparsity, runnerConfigToSaeLens, runSaeTraining,
  saeDir, saveSae, SparseAutoencoder, topActivatingContexts, type SaeEvalMetrics, type SaeRunnerConfig,
} from '../src/sae/index.js';
import { encoderCeLossRecovered, evaluateSaeOnEncoderTokens } from '../src/sae/evals_encoder.js';
import { maskTokens, packTokenSequences } from '../src/train/mlm_data.js';
import { seededRng } from '../src/utils/rng.js';
import { packageRoot } from '../src/utils/package_root.js';
import { checkpointTokenRange } from '../src/circuits/index.js';
import { benchmarkFreeCorpus } from './lib/benchmark_free_corpus.js';
import { placedRepeatBatch } from './lib/induction_data.js';

const NAME = 'scripts/train_shipped_saes';
const log = (s: string): void => void process.stderr.write(`${NAME}: ${s}\n`);
const TRAIN_DATA_SEED = 101;
const EVAL_DATA_SEED = 102;
const SAE_SEED = 42;
/** Rows of the held-out sample stored in evals.json for the unit test to recompute (few: the test runs in seconds). */
const CHECK_ROWS = { distilbert: 8, induction: 2 };
/** TopK k of the distilbert-mini and induction-2l SAEs. */
const K_DISTILBERT = 24;
const K_INDUCTION = 32;
/** Peak learning rate (--lr). */
const LR = { value: 1e-3 };
/** Folder holding saes/ (--root; default the package root). */
const ROOT = { value: packageRoot() };

/** What one SAE run produced. */
interface ShippedResult {
  readonly model: string;
  readonly hook: string;
  readonly dir: string;
  readonly evals: Record<string, unknown>;
}

/** Scalar SAELens metrics of an evaluation (arrays left out). */
function scalars(m: SaeEvalMetrics): Record<string, number> {
  return {
    explained_variance: m.explainedVariance, explained_variance_legacy: m.explainedVarianceLegacy, mse: m.mse, cossim: m.cossim,
    l2_ratio: m.l2Ratio, l0: m.l0, l1: m.l1, dead_fraction: m.deadFraction, dense_fraction: m.denseFraction, n_tokens: m.nTokens,
  };
}

/** Inline SVG histogram of log10 feature density, with axis titles. */
function densitySvg(density: Float32Array, title: string): string {
  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  for (const d of density) counts[Math.min(bins - 1, Math.max(0, Math.floor(((Math.log10(d + 1e-10) + 10) / 10) * bins)))]! += 1;
  const [w, h, l, b] = [560, 220, 50, 40];
  const max = Math.max(...counts, 1);
  const bw = (w - l - 10) / bins;
  const bars = counts.map((c, i) => {
    const bh = ((h - b - 20) * c) / max;
    return `<rect x="${(l + i * bw).toFixed(1)}" y="${(h - b - bh).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#d96"><title>${c} latents, log10 density ${(-10 + (10 * i) / bins).toFixed(1)}…${(-10 + (10 * (i + 1)) / bins).toFixed(1)}</title></rect>`;
  });
  const ticks = [-10, -8, -6, -4, -2, 0].map((v) => `<text x="${(l + ((v + 10) / 10) * (w - l - 10)).toFixed(1)}" y="${h - b + 14}" font-size="11" text-anchor="middle">${v}</text>`);
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${title}">
<text x="${w / 2}" y="12" font-size="13" text-anchor="middle">${title}</text>
<line x1="${l}" y1="${h - b}" x2="${w - 10}" y2="${h - b}" stroke="#444"/><line x1="${l}" y1="20" x2="${l}" y2="${h - b}" stroke="#444"/>
${bars.join('\n')}
${ticks.join('')}<text x="${l - 6}" y="24" font-size="11" text-anchor="end">${max}</text><text x="${l - 6}" y="${h - b}" font-size="11" text-anchor="end">0</text>
<text x="${(l + w) / 2}" y="${h - 6}" font-size="12" text-anchor="middle">log10 firing frequency on held-out tokens (dead latents at −10)</text>
<text transform="translate(14 ${(h - b) / 2 + 20}) rotate(-90)" font-size="12" text-anchor="middle">latents</text>
</svg></figure>`;
}

/** The feature page: density histogram + top-activating contexts of the 24 most frequent live features. */
async function writeDashboard(dir: string, model: HookedTransformer | HookedEncoder, sae: SparseAutoencoder, rows: number[][], density: Float32Array, title: string, subtitle: string): Promise<string> {
  const live = Array.from(density.keys()).filter((i) => (density[i] as number) > 0).sort((a, b) => (density[b] as number) - (density[a] as number)).slice(0, 24);
  const contexts = topActivatingContexts(model, sae, rows, { features: live, topN: 5, before: 8, after: 3 });
  const tok = model.tokenizer;
  let html = featureDashboardHtml(contexts, { title, subtitle, density, ...(tok ? { decode: (id: number) => tok.decodeToken(id) } : {}) });
  html = html.replace('</h1>', `</h1>\n${densitySvg(density, `Feature density of ${sae.cfg.dSae} latents`)}`);
  const path = join(dir, 'features.html');
  await writeFile(path, html);
  return path;
}

/** Save with the run config, extra metadata and (for per-head hooks) the hook_z-style reshape recorded in cfg.json. */
async function saveShipped(sae: SparseAutoencoder, run: SaeRunnerConfig, density: Float32Array, dir: string, meta: Record<string, unknown>, reshape: boolean): Promise<void> {
  const out = new SparseAutoencoder({ ...sae.cfg, reshapeActivations: reshape ? 'hook_z' : 'none', metadata: { ...sae.cfg.metadata, ...meta } }, sae.toArrays());
  try {
    await saveSae(out, dir, { logSparsity: logFeatureSparsity(density), runnerCfg: runnerConfigToSaeLens(run) });
  } finally {
    out.dispose();
  }
}

/** Shared training settings: TopK, 8x, AuxK on latents dead for 50 steps, short cosine schedule. */
function runConfig(model: string, hook: string, dIn: number, k: number, tokens: number, contextSize: number, datasetPath: string): SaeRunnerConfig {
  const lr = LR.value;
  return {
    modelName: model, hookName: hook, hookHeadIndex: null, datasetPath, contextSize, prependBos: true,
    architecture: 'topk', dIn, expansionFactor: 8, k, rescaleActsByDecoderNorm: true, normalizeActivations: 'expected_average_only_in',
    trainingTokens: tokens, trainBatchSizeTokens: 1024, lr, lrSchedulerName: 'cosineannealing', lrWarmUpSteps: 20, lrEnd: lr / 10,
    auxLossCoefficient: 1, deadFeatureWindow: 50, storeBatchSizePrompts: 16, nBatchesInBuffer: 16, seed: SAE_SEED,
  };
}

async function trainDistilbert(scale: number): Promise<ShippedResult> {
  const [model, hook] = ['distilbert-mini', 'blocks.0.attn.hook_q'];
  const enc = await HookedEncoder.fromPretrained('models/distilbert-mini');
  const tok = enc.tokenizer;
  if (tok === undefined) throw new Error(`${NAME}: distilbert-mini has no tokenizer`);
  try {
    const t0 = performance.now();
    const corpus = await benchmarkFreeCorpus({ heldOut: 0.05, seed: 0 }); // the model's own split
    const trainRows = packTokenSequences(corpus.train.map((t) => tok.encode(t)), 64, tok);
    const heldRows = packTokenSequences(corpus.heldout.map((t) => tok.encode(t)), 64, tok);
    const rng = seededRng(TRAIN_DATA_SEED);
    const masked: number[][] = [];
    for (let i = 0; i < trainRows.length; i += 16) masked.push(...maskTokens(rng, trainRows.slice(i, i + 16), undefined, tok).inputIds);
    const evalRows = heldRows; // all of the model's held-out rows
    log(`${model}: ${trainRows.length} training rows (masking seed ${TRAIN_DATA_SEED}), ${evalRows.length} held-out rows of 64 (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const tokens = Math.round(1500 * 1024 * scale); // 1,500 steps of 1,024 tokens
    const run = runConfig(model, hook, 128, K_DISTILBERT, tokens, 64, 'benchmark-free corpus (scripts/lib/benchmark_free_corpus.ts), training documents, BERT-masked (seed 101)');
    const r = await runSaeTraining(run, { model: enc, tokens: masked }, { logEvery: 100 });
    const dir = saeDir(model, hook, ROOT.value);
    try {
      const metrics = await evaluateSaeOnEncoderTokens(enc, r.sae, evalRows);
      const ce = encoderCeLossRecovered(enc, { sae: r.sae }, evalRows, { seed: EVAL_DATA_SEED });
      const check = evalRows.slice(0, CHECK_ROWS.distilbert);
      const cm = await evaluateSaeOnEncoderTokens(enc, r.sae, check);
      const cce = encoderCeLossRecovered(enc, { sae: r.sae }, check, { seed: EVAL_DATA_SEED });
      await saveShipped(r.sae, run, r.featureDensity, dir, {
        n_heads: enc.cfg.nHeads, d_head: enc.cfg.dHead, activation_layout: '[batch, pos, n_heads, d_head] flattened to [batch, pos, n_heads·d_head] (head-major)',
        trained_with: 'tfjs-lens', training_data_seed: TRAIN_DATA_SEED,
      }, true);
      const evals = {
        model, hook, d_in: 128, d_sae: r.sae.cfg.dSae, architecture: 'topk', k: K_DISTILBERT, training_tokens: r.tokens, training_seconds: r.seconds,
        training_data: 'benchmark-free corpus training documents (the text distilbert-mini was trained on; no probe benchmark text), rows of 64, BERT masking seed 101',
        eval_data: `distilbert-mini's held-out documents (5%, split seed 0): all ${evalRows.length} rows of 64 tokens; special tokens ([CLS], [SEP]) left out of the reconstruction metrics`,
        ce_definition: 'masked-LM cross-entropy (nats) at the 15% BERT-masked positions (masking seed 102); SAE spliced at every non-special position and at [MASK]; zero ablation at all positions',
        metrics: { ...scalars(metrics), ce_loss_without_sae: ce.ceLossWithoutSae, ce_loss_with_sae: ce.ceLossWithSae, ce_loss_with_ablation: ce.ceLossWithAblation, ce_loss_score: ce.ceLossScore, ce_tokens: ce.nTokens },
        check: { rows: check, mask_seed: EVAL_DATA_SEED, metrics: { ...scalars(cm), ce_loss_without_sae: cce.ceLossWithoutSae, ce_loss_with_sae: cce.ceLossWithSae, ce_loss_with_ablation: cce.ceLossWithAblation, ce_loss_score: cce.ceLossScore } },
      };
      await writeFile(join(dir, 'evals.json'), `${JSON.stringify(evals, null, 1)}\n`);
      const sub = `TopK SAE (k ${K_DISTILBERT}, d_sae 1024) on distilbert-mini blocks.0.attn.hook_q (4 heads × 32 flattened). Held-out: explained variance ${metrics.explainedVariance.toFixed(3)}, L0 ${metrics.l0.toFixed(1)}, ` +
        `dead ${(metrics.deadFraction * 100).toFixed(1)}%, masked-LM CE clean ${ce.ceLossWithoutSae.toFixed(3)} / with SAE ${ce.ceLossWithSae.toFixed(3)} / zero-ablated ${ce.ceLossWithAblation.toFixed(3)} nats, CE-loss score ${ce.ceLossScore.toFixed(3)}. Top 24 features by density, 5 contexts each.`;
      await writeDashboard(dir, enc, r.sae, evalRows, metrics.featureDensity, 'SAE features of distilbert-mini blocks.0.attn.hook_q: top-activating held-out contexts', sub);
      log(`${model} saved to ${dir}: ${JSON.stringify(evals.metrics)}`);
      return { model, hook, dir, evals };
    } finally {
      r.sae.dispose();
    }
  } finally {
    enc.dispose();
  }
}

async function trainInduction(scale: number): Promise<ShippedResult> {
  const [model, hook] = ['induction-2l', 'blocks.0.hook_resid_post'];
  const tf = await HookedTransformer.fromPretrained('induction-2l', { quiet: true });
  try {
    const [low, high] = checkpointTokenRange('models/induction-2l') ?? [1000, 3000];
    const opts = { nCtx: 128, low, high, bos: 50256, segMin: 3, segMax: 40 };
    const trainRows = placedRepeatBatch(seededRng(TRAIN_DATA_SEED), { ...opts, batch: 4096 }).rows;
    const evalRows = placedRepeatBatch(seededRng(EVAL_DATA_SEED), { ...opts, batch: 128 }).rows;
    const tokens = Math.round(1000 * 1024 * scale); // 1,000 steps of 1,024 tokens
    const run = runConfig(model, hook, 64, K_INDUCTION, tokens, 128, `placed-repeat rows (scripts/lib/induction_data.ts placedRepeatBatch: L 3-40, ids ${low}-${high}), seed ${TRAIN_DATA_SEED}`);
    const r = await runSaeTraining(run, { model: tf, tokens: trainRows }, { logEvery: 100 });
    const dir = saeDir(model, hook, ROOT.value);
    try {
      const metrics = evaluateSaeOnTokens(tf, r.sae, evalRows);
      const ce = ceLossRecovered(tf, { sae: r.sae }, evalRows);
      const check = evalRows.slice(0, CHECK_ROWS.induction);
      const cm = evaluateSaeOnTokens(tf, r.sae, check);
      const cce = ceLossRecovered(tf, { sae: r.sae }, check);
      await saveShipped(r.sae, run, r.featureDensity, dir, { trained_with: 'tfjs-lens', training_data_seed: TRAIN_DATA_SEED }, false);
      const evals = {
        model, hook, d_in: 64, d_sae: r.sae.cfg.dSae, architecture: 'topk', k: K_INDUCTION, training_tokens: r.tokens, training_seconds: r.seconds,
        training_data: `4,096 placed-repeat rows of 128 tokens (the model's stage-7 distribution: BOS, random prefix, segment of L 3…40, the segment again, random tail; ids [${low}, ${high})), data seed ${TRAIN_DATA_SEED} (the model's training used seeds 0–31)`,
        eval_data: `${evalRows.length} fresh rows of the same distribution, data seed ${EVAL_DATA_SEED}; BOS positions left out (SAELens)`,
        ce_definition: 'next-token cross-entropy (nats) over all non-BOS positions (SAELens get_recons_loss); zero ablation of blocks.0.hook_resid_post at all positions',
        metrics: { ...scalars(metrics), ce_loss_without_sae: ce.ceLossWithoutSae, ce_loss_with_sae: ce.ceLossWithSae, ce_loss_with_ablation: ce.ceLossWithAblation, ce_loss_score: ce.ceLossScore, ce_tokens: ce.nTokens },
        check: { rows: check, metrics: { ...scalars(cm), ce_loss_without_sae: cce.ceLossWithoutSae, ce_loss_with_sae: cce.ceLossWithSae, ce_loss_with_ablation: cce.ceLossWithAblation, ce_loss_score: cce.ceLossScore } },
      };
      await writeFile(join(dir, 'evals.json'), `${JSON.stringify(evals, null, 1)}\n`);
      const sub = `TopK SAE (k ${K_INDUCTION}, d_sae 512) on induction-2l blocks.0.hook_resid_post (the residual stream between the two layers). Held-out: explained variance ${metrics.explainedVariance.toFixed(3)}, L0 ${metrics.l0.toFixed(1)}, ` +
        `dead ${(metrics.deadFraction * 100).toFixed(1)}%, next-token CE clean ${ce.ceLossWithoutSae.toFixed(3)} / with SAE ${ce.ceLossWithSae.toFixed(3)} / zero-ablated ${ce.ceLossWithAblation.toFixed(3)} nats, CE-loss score ${ce.ceLossScore.toFixed(3)}. Top 24 features by density, 5 contexts each.`;
      await writeDashboard(dir, tf, r.sae, evalRows.slice(0, 32), metrics.featureDensity, 'SAE features of induction-2l blocks.0.hook_resid_post: top-activating held-out contexts', sub);
      log(`${model} saved to ${dir}: ${JSON.stringify(evals.metrics)}`);
      return { model, hook, dir, evals };
    } finally {
      r.sae.dispose();
    }
  } finally {
    tf.dispose();
  }
}

/** saes/index.json: every shipped SAE (model, hook, files, sizes, architecture), for discovery by URL. */
async function writeIndex(results: readonly ShippedResult[]): Promise<void> {
  const { readdir, readFile } = await import('node:fs/promises');
  const root = join(ROOT.value, 'saes');
  const entries: Record<string, unknown>[] = [];
  for (const m of (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const h of (await readdir(join(root, m), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
      const cfg = JSON.parse(await readFile(join(root, m, h, 'cfg.json'), 'utf8')) as Record<string, unknown>;
      const files = (await readdir(join(root, m, h))).sort();
      entries.push({ model: m, hook: h, path: `${m}/${h}`, files, d_in: cfg['d_in'], d_sae: cfg['d_sae'], architecture: cfg['architecture'], k: cfg['k'], reshape_activations: cfg['reshape_activations'] });
    }
  }
  await writeFile(join(root, 'index.json'), `${JSON.stringify({ format: 'SAELens (cfg.json + sae_weights.safetensors)', saes: entries }, null, 1)}\n`);
  log(`wrote ${join(root, 'index.json')} (${entries.length} SAEs; ${results.length} trained now)`);
}

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), {
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    scale: { type: 'string', default: '1' },
    lr: { type: 'string', default: '1e-3' },
    root: { type: 'string' },
  } as const);
  const only = v.only === undefined ? undefined : choiceOption(NAME, v.only, 'only', ['distilbert-mini', 'induction-2l'] as const, 'distilbert-mini');
  const scale = Number(v.scale);
  LR.value = Number(v.lr);
  if (v.root !== undefined) ROOT.value = v.root;
  if (!(LR.value > 0)) throw new RangeError(`${NAME}: --lr must be a positive number, got ${v.lr}`);
  if (!(scale > 0)) throw new RangeError(`${NAME}: --scale must be a positive number, got ${v.scale}`);
  const results: ShippedResult[] = [];
  if (only !== 'induction-2l') results.push(await trainDistilbert(scale)); // first: the probe-explanation work reads it
  if (only !== 'distilbert-mini') results.push(await trainInduction(scale));
  await writeIndex(results);
  if (v.json) process.stdout.write(`${JSON.stringify({ script: 'train_shipped_saes', saes: results.map((r) => ({ dir: r.dir, ...r.evals, check: undefined })) })}\n`);
  return 0;
}

await runCliMain(NAME, main);
