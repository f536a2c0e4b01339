/**
 * Example 3: train a sparse autoencoder on a model's residual stream, save it in SAELens's format,
 * evaluate it (explained variance, L0, dead latents, CE loss recovered with the SAE spliced in),
 * and inspect its features (top-activating contexts as HTML, the latents behind one activation).
 * Uses models/induction-2l when present (else the tiny GPT-2 test fixture); text from data/ when the
 * model has a tokenizer, else repeated random token rows.
 * Run: npx tsx examples/03_train_sae.ts [--steps 300] [--arch topk] [--dataset data/sms_spam | repeated:2048:1000-3000]
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { HookedTransformer, tf } from '../src/index.js';
import {
  ActivationStore,
  logFeatureSparsity,
  ceLossRecovered,
  evaluateSae,
  loadSae,
  modelActivationSource,
  saeConfig,
  saeDir,
  saveSae,
  topActivatingContexts,
  topFeaturesForActivation,
  trainSae,
  writeFeatureDashboard,
} from '../src/sae/index.js';
import { datasetRows } from '../src/cli/commands/sae_dataset.js';
import { writeHistogram, writeLinePlot } from '../src/viz/index.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '300' }, dataset: { type: 'string' }, arch: { type: 'string', default: 'topk' } } });
const modelPath = existsSync('models/induction-2l/config.json') ? 'models/induction-2l' : 'tests/fixtures/gpt2-tiny';
const modelName = basename(modelPath);
const model = await HookedTransformer.fromPretrained(modelPath);
const hook = `blocks.${model.cfg.nLayers - 1}.hook_resid_pre`; // the residual stream between the last two blocks
const contextSize = 61; // induction-2l was trained on [BOS, seg, seg] rows of at most 61 tokens

// 1. Token rows: text windows (tokenWindows: SAELens-style concatenation with BOS) or synthetic rows.
const dataset = values.dataset ?? (model.tokenizer !== undefined && existsSync('data/sms_spam') ? 'data/sms_spam' : 'repeated:512');
const rows = await datasetRows(dataset, model, { contextSize, seed: 0, maxDocs: 3000 });
const [trainRows, evalRows] = [rows.slice(0, -32), rows.slice(-32)];
console.log(`${modelName}: hook ${hook}, dataset ${dataset}: ${trainRows.length} training windows of ${contextSize} tokens`);

// 2. Stream activations into a shuffled buffer and train (hand-written gradients, Adam, warm-ups).
const source = await modelActivationSource(model, hook, trainRows, { batchPrompts: 8 });
const store = new ActivationStore(source, { batchSize: 1024, seed: 0 });
const arch = values.arch as 'standard' | 'topk' | 'jumprelu';
const cfg = saeConfig({
  architecture: arch, dIn: source.dIn, dSae: 8 * source.dIn, k: 16,
  metadata: { model_name: modelName, hook_name: hook, context_size: contextSize, prepend_bos: true, dataset_path: dataset, trained_with: 'tfjs-lens' },
});
const resultsDir = join('results', 'sae', modelName, hook);
const { sae, history, featureDensity } = await trainSae({
  store, cfg, metricsPath: join(resultsDir, 'metrics.jsonl'), logEvery: 25,
  training: {
    steps: Number(values.steps), batchSize: 1024, lr: 1e-3, lrWarmupSteps: 20, lrDecay: 'cosine',
    sparsityCoefficient: arch === 'standard' ? 3 : 0.1, sparsityWarmupSteps: 50, normalizeActivations: 'expected_average_only_in',
  },
});
writeLinePlot(join(resultsDir, 'training_curves.html'), [
  { name: 'mse loss', x: history.map((m) => m.step), y: history.map((m) => m.mseLoss) },
  { name: 'L0', x: history.map((m) => m.step), y: history.map((m) => m.l0) },
], { title: `SAE training (${hook})`, xLabel: 'step', logY: true });

// 3. Save (cfg.json + sae_weights.safetensors, SAELens names) and reload.
const dir = saeDir(modelName, hook);
await saveSae(sae, dir, { logSparsity: logFeatureSparsity(featureDensity) });
const loaded = await loadSae(dir);

// 4. Evaluate on held-out windows: reconstruction, sparsity, CE loss recovered.
const evalStore = new ActivationStore(await modelActivationSource(model, hook, evalRows, { epochs: 1 }), { batchSize: 512, bufferBatches: 2 });
const metrics = await evaluateSae(loaded, evalStore, { nBatches: Math.floor((evalRows.length * contextSize) / 512) });
const ce = ceLossRecovered(model, { sae: loaded }, evalRows);
console.table({
  explainedVariance: metrics.explainedVariance, l0: metrics.l0, deadFraction: metrics.deadFraction, denseFraction: metrics.denseFraction,
  ceClean: ce.ceLossWithoutSae, ceWithSae: ce.ceLossWithSae, ceZeroAblation: ce.ceLossWithAblation, ceLossScore: ce.ceLossScore,
});
writeHistogram(join(resultsDir, 'feature_density.html'), [{ name: 'log10 density', values: Array.from(logFeatureSparsity(metrics.featureDensity)) }], { xLabel: 'log10 feature density', nbins: 40 });

// 5. Features: top-activating contexts (HTML), and the latents behind one activation.
const live = Array.from(metrics.featureDensity.keys()).filter((i) => metrics.featureDensity[i]! > 0).slice(0, 16);
const contexts = topActivatingContexts(model, loaded, evalRows, { features: live });
const tok = model.tokenizer;
await writeFeatureDashboard(join(resultsDir, 'features.html'), contexts, { density: metrics.featureDensity, ...(tok ? { decode: (id: number) => tok.decodeToken(id) } : {}) });
const [, cache] = model.runWithCache([evalRows[0]!], { namesFilter: [hook], stopAtLayer: model.cfg.nLayers });
const x = tf.tidy(() => tf.reshape(tf.slice(cache.get(hook), [0, 10, 0], [1, 1, -1]), [-1]));
console.log('latents behind the activation at position 10:', topFeaturesForActivation(loaded, x, { topN: 5 }));
tf.dispose([x]);
cache.dispose();
console.log(`saved ${dir}; plots and feature page in ${resultsDir}/`);
sae.dispose();
loaded.dispose();
model.dispose();
