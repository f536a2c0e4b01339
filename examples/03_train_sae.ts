/**
 * Example 3: train a sparse autoencoder on a model's residual stream, save it in SAELens's format,
 * evaluate it on held-out tokens (explained variance, L0, dead latents, CE loss recovered with the SAE
 * spliced in), and inspect its features (top-activating contexts as HTML, the latents behind one activation).
 * Default: the shipped `llama-mini` on AG News text. A model trained on a token range (`--model
 * induction-2l`, range in its safetensors metadata) gets repeated random rows from that range, the data
 * it was trained on (text would be out of distribution: its loss on text is worse than with the hook zeroed).
 * Metrics are SAELens's (`evals.py`; see src/sae/evals.ts for the commits read): special-token positions (BOS)
 * are left out; explained variance is SAELens's (1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²)), printed next to
 * SAELens's per-token legacy formula and to what SAELens v6.18.0's code computed.
 * "Dead" has one definition throughout (SAELens `dead_feature_window`, in tokens): a latent that did not fire
 * on any of the last W tokens; W = the number of scored held-out tokens, both in the training log (the last
 * W training tokens) and in the evaluation (the W held-out tokens).
 * The next-token loss is printed in nats for the clean run, with the SAE spliced in, and with the hook
 * zero-ablated; CE loss recovered (SAELens `ce_loss_score`) = (CE_zero − CE_sae) / (CE_zero − CE_clean) is
 * only defined when zero-ablating the hook raises the loss (CE_zero > CE_clean), and is null otherwise. A score
 * near 1 can still hide a large loss increase when zero-ablation is very costly: read the nats.
 * Writes only under --out (default results/sae/<model>/<hook>/): the SAE in `sae/`, plots, feature page.
 * Run: npx tsx examples/03_train_sae.ts [--model llama-mini] [--steps 300] [--arch topk] [--dataset <spec>] [--json]
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { HookedTransformer, tf } from '../src/index.js';
import { checkpointTokenRange } from '../src/circuits/index.js';
import { choiceOption, intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { datasetRows } from '../src/cli/commands/sae_dataset.js';
import { resolveAlias } from '../src/model/aliases.js';
import {
  ActivationStore,
  ceLossRecovered,
  evaluateSaeOnTokens,
  excludedTokenIds,
  loadSae,
  logFeatureSparsity,
  modelActivationSource,
  saeConfig,
  saveSae,
  topActivatingContexts,
  topFeaturesForActivation,
  trainSae,
  writeFeatureDashboard,
} from '../src/sae/index.js';
import { writeHistogram, writeLinePanels } from '../src/viz/index.js';

const NAME = 'examples/03_train_sae';
const OPTIONS = {
  model: { type: 'string', default: 'llama-mini' },
  hook: { type: 'string' },
  dataset: { type: 'string' },
  arch: { type: 'string', default: 'topk' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  expansion: { type: 'string' },
  k: { type: 'string' },
  'context-size': { type: 'string' },
  'eval-rows': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const arch = choiceOption(NAME, v.arch, 'arch', ['standard', 'topk', 'jumprelu'] as const, 'topk');
  const steps = intOption(NAME, v.steps, 'steps', { dflt: 300, min: 1 });
  const batchSize = intOption(NAME, v['batch-size'], 'batch-size', { dflt: 1024, min: 16 });
  const expansion = intOption(NAME, v.expansion, 'expansion', { dflt: 8, min: 1, max: 64 });
  const k = intOption(NAME, v.k, 'k', { dflt: 16, min: 1 });
  const nEvalRows = intOption(NAME, v['eval-rows'], 'eval-rows', { dflt: 64, min: 4 });
  const log = (line: string): void => void (v.json ? process.stderr : process.stdout).write(`${line}\n`);

  const dir = resolveAlias(v.model);
  const model = await HookedTransformer.fromPretrained(v.model, { quiet: true });
  const disposables: { dispose(): void }[] = [model];
  try {
    const modelName = basename(resolve(dir));
    const hook = v.hook ?? `blocks.${model.cfg.nLayers - 1}.hook_resid_pre`; // the residual stream entering the last block
    const range = checkpointTokenRange(dir); // the ids a synthetic-data model was trained on
    // induction-2l was trained on rows of at most 121 tokens; llama-mini on windows of 128.
    const contextSize = intOption(NAME, v['context-size'], 'context-size', { dflt: Math.min(64, model.cfg.nCtx), min: 4, max: model.cfg.nCtx });
    const dataset = v.dataset ?? (range !== undefined ? `repeated:4096:${range[0]}-${range[1]}` : model.tokenizer !== undefined && existsSync('data/ag_news/test.csv') ? 'data/ag_news/test.csv' : 'repeated:4096');
    const outDir = v.out ?? join('results', 'sae', modelName, hook);

    // 1. Token rows: text windows (SAELens-style concatenation with BOS) or synthetic rows; hold out the last rows.
    const rows = await datasetRows(dataset, model, { contextSize, seed: 0, maxDocs: 3000 });
    if (rows.length < 2 * nEvalRows) throw new RangeError(`${NAME}: ${dataset} gave ${rows.length} windows of ${contextSize} tokens; need at least ${2 * nEvalRows} (--eval-rows ${nEvalRows})`);
    const [trainRows, evalRows] = [rows.slice(0, -nEvalRows), rows.slice(-nEvalRows)];
    const special = excludedTokenIds(model); // BOS (and any other special token): left out of every metric, as SAELens
    const deadWindow = evalRows.flat().filter((t) => !special.includes(t)).length; // W: one definition of "dead" for training and evaluation
    log(`${modelName}: hook ${hook}, dataset ${dataset}: ${trainRows.length} training and ${evalRows.length} held-out windows of ${contextSize} tokens`);

    // 2. Stream activations into a shuffled buffer and train (hand-written gradients, Adam, warm-ups).
    const source = await modelActivationSource(model, hook, trainRows, { batchPrompts: 8 });
    const store = new ActivationStore(source, { batchSize, seed: 0 });
    const cfg = saeConfig({
      architecture: arch, dIn: source.dIn, dSae: expansion * source.dIn, k,
      metadata: { model_name: modelName, hook_name: hook, context_size: contextSize, prepend_bos: true, dataset_path: dataset, trained_with: 'tfjs-lens' },
    });
    const { sae, history, deadFraction: trainDeadFraction } = await trainSae({
      store, cfg, metricsPath: join(outDir, 'metrics.jsonl'), logEvery: Math.max(1, Math.floor(steps / 12)), quiet: v.json,
      training: {
        steps, batchSize, lr: 1e-3, lrWarmupSteps: Math.min(20, Math.floor(steps / 5)), lrDecay: 'cosine',
        sparsityCoefficient: arch === 'standard' ? 3 : 0.1, sparsityWarmupSteps: Math.min(50, Math.floor(steps / 4)),
        normalizeActivations: 'expected_average_only_in', deadFeatureWindowTokens: deadWindow,
      },
    });
    disposables.push(sae);
    const files: string[] = [];
    const step = history.map((m) => m.step);
    files.push(writeLinePanels(join(outDir, 'training_curves.html'), [
      { title: 'Reconstruction error', yLabel: 'MSE loss (Σ_d (x − x̂)², mean over tokens)', logY: true, series: [{ name: 'MSE loss', x: step, y: history.map((m) => m.mseLoss) }] },
      { title: 'Sparsity', yLabel: 'L0 (active latents per token)', series: [{ name: 'L0', x: step, y: history.map((m) => m.l0) }] },
      { title: `Dead latents (no firing in the last ${deadWindow} training tokens)`, yLabel: 'dead latents', series: [{ name: 'dead', x: step, y: history.map((m) => m.deadFeatures) }] },
    ], { title: `SAE training on ${modelName} ${hook} (${arch}, d_sae ${cfg.dSae})`, xLabel: 'training step' }));

    // 3. Save (cfg.json + sae_weights.safetensors, SAELens names) under the output folder, and reload.
    const saeOut = join(outDir, 'sae');
    await saveSae(sae, saeOut, {});
    const loaded = await loadSae(saeOut);
    disposables.push(loaded);

    // 4. Evaluate on the held-out windows (special tokens left out): reconstruction, sparsity, dead latents (same W), CE loss in nats.
    const metrics = evaluateSaeOnTokens(model, loaded, evalRows, { deadWindowTokens: deadWindow });
    const ce = ceLossRecovered(model, { sae: loaded }, evalRows);
    const ceDefined = ce.ceLossWithAblation > ce.ceLossWithoutSae;
    const trainDead = history.at(-1)?.deadFeatures ?? 0;
    const report = {
      explainedVariance: metrics.explainedVariance, explainedVarianceLegacy: metrics.explainedVarianceLegacy, explainedVarianceV618: metrics.explainedVarianceV618,
      l0: metrics.l0, mse: metrics.mse, cossim: metrics.cossim,
      deadWindowTokens: deadWindow, deadLatentsTraining: trainDead, deadFractionTraining: trainDeadFraction, deadFractionHeldOut: metrics.deadFraction, denseFraction: metrics.denseFraction,
      ceClean: ce.ceLossWithoutSae, ceWithSae: ce.ceLossWithSae, ceZeroAblation: ce.ceLossWithAblation,
      ceLossScore: ceDefined ? ce.ceLossScore : null,
      ceLossScoreNote: ceDefined ? '(CE_zero − CE_sae) / (CE_zero − CE_clean): 1 = as good as the clean model, 0 = as bad as zero-ablation' : 'undefined: zero-ablating the hook does not raise the loss on this data',
      klDivWithSae: ce.klDivWithSae, klDivWithAblation: ce.klDivWithAblation, klDivScore: ce.klDivScore,
      evalTokens: metrics.nTokens, ceTokens: ce.nTokens, excludedTokenIds: ce.excludedTokenIds,
    };
    log(`held-out (${metrics.nTokens} tokens, special tokens ${JSON.stringify(ce.excludedTokenIds)} left out): explained variance ${report.explainedVariance.toFixed(3)} ` +
      `(SAELens legacy per-token ${report.explainedVarianceLegacy.toFixed(3)}, SAELens v6.18.0 code ${report.explainedVarianceV618.toFixed(3)}), L0 ${report.l0.toFixed(2)}`);
    log(`dead (no firing in the last ${deadWindow} tokens): ${Math.round(metrics.deadFraction * cfg.dSae)}/${cfg.dSae} held-out, ` +
      `${trainDead}/${cfg.dSae} in the last training log line`);
    log(`next-token loss: clean ${ce.ceLossWithoutSae.toFixed(4)} nats, with SAE ${ce.ceLossWithSae.toFixed(4)} nats, zero-ablated ${ce.ceLossWithAblation.toFixed(4)} nats; ` +
      `CE loss recovered ${report.ceLossScore === null ? 'n/a' : report.ceLossScore.toFixed(4)} (${report.ceLossScoreNote}); KL score ${ce.klDivScore.toFixed(4)}`);
    const density = Array.from(logFeatureSparsity(metrics.featureDensity));
    files.push(writeHistogram(join(outDir, 'feature_density.html'), [{ name: 'latents', values: density }], {
      title: `SAE feature density on ${v.model} ${hook}: ${metrics.nTokens} held-out tokens (dead latents at −10)`, xLabel: 'log10 firing frequency (log10(density + 1e-10))', yLabel: 'latents', nbins: 40,
    }));

    // 5. Features: top-activating contexts (HTML), and the latents behind one activation.
    const live = Array.from(metrics.featureDensity.keys()).filter((i) => metrics.featureDensity[i]! > 0).slice(0, 16);
    const contexts = topActivatingContexts(model, loaded, evalRows, { features: live });
    const tok = model.tokenizer;
    files.push(await writeFeatureDashboard(join(outDir, 'features.html'), contexts, {
      title: `SAE features of ${modelName} ${hook}: top-activating held-out contexts`, density: metrics.featureDensity,
      ...(tok ? { decode: (id: number) => tok.decodeToken(id) } : {}),
    }));
    const [, cache] = model.runWithCache([evalRows[0]!], { namesFilter: [hook], stopAtLayer: model.cfg.nLayers });
    const pos = Math.min(10, contextSize - 1);
    const x = tf.tidy(() => tf.reshape(tf.slice(cache.get(hook), [0, pos, 0], [1, 1, -1]), [-1])); // [d_model]
    const latents = topFeaturesForActivation(loaded, x, { topN: 5 });
    tf.dispose([x]);
    cache.dispose();
    log(`latents behind the activation at position ${pos}: ${JSON.stringify(latents)}`);
    log(`saved the SAE in ${saeOut}/; plots and feature page in ${outDir}/`);
    if (v.json) {
      process.stdout.write(`${JSON.stringify({
        example: '03_train_sae', model: modelName, hook, dataset, arch, dSae: cfg.dSae, steps, contextSize,
        trainWindows: trainRows.length, evalWindows: evalRows.length, metrics: report, latents, saeDir: saeOut, files,
      })}\n`);
    }
  } finally {
    for (const d of disposables.reverse()) d.dispose();
  }
  return 0;
}

await runCliMain(NAME, main);
