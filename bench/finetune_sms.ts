/**
 * Benchmark (issue 19, 8a): SMS spam with distilbert-mini. Full fine-tuning vs LoRA vs head-only vs
 * the unsupervised probe (β-VAE and baselines on pooled layer-0 q activations, best detector chosen on
 * dev), at several fractions of the training labels, over seeds; mean ± std of test F1 and ROC-AUC.
 * The splits are the probe benchmark's (src/probe/probe_splits.ts: deduplicated texts, a text in both
 * classes dropped; dev and test as there); supervised training adds the spam texts that are in neither
 * dev nor test. Every choice (temperature, threshold, best model for int8) is made on dev; test is read
 * once per number. The best fine-tuned model (by mean dev F1 at the largest fraction) is also run with
 * all 2-D matrices in int8 (size vs float32, F1 change). Progress on stderr; one markdown table on
 * stdout, or one JSON object with --json; results in results/finetune/sms.{json,md}.
 * Run: npx tsx bench/finetune_sms.ts [--seeds 0,1,2] [--fractions 0.01,0.1,1] [--modes full,lora,head]
 *   [--epochs 3] [--quick] [--json]
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/backend.js';
import { chooseThreshold } from '../src/evals/classification.js';
import { softmaxRows, temperatureScaling } from '../src/evals/calibration.js';
import { readSafetensorsFile } from '../src/io/safetensors.js';
import { writeInt8Safetensors } from '../src/io/int8.js';
import { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import { extractPooledFeatures } from '../src/probe/features.js';
import { loadProbeSplits, normaliseProbeText, type ProbeSplits } from '../src/probe/probe_splits.js';
import { probeDatasetPools } from '../src/probe/text_datasets.js';
import { runTextProbe } from '../src/cli/probe_bench/text_bench.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { labelFraction } from '../src/cli/commands/finetune_data.js';
import { loadClassifier, predictLogits, scoreLogits, tokenizeTexts, trainAndEvaluate, type ClassifierModel, type Part, type RunSpec } from '../src/cli/commands/finetune_run.js';
import { cell, choiceList, markdownTable, meanStd, numberList, progress, writeResults } from './finetune_common.js';

const NAME = 'bench/finetune_sms';
const OPTIONS = {
  seeds: { type: 'string' }, fractions: { type: 'string' }, modes: { type: 'string' }, epochs: { type: 'string' },
  'max-train': { type: 'string' }, 'max-len': { type: 'string' }, 'probe-epochs': { type: 'string' }, model: { type: 'string' },
  quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
} as const;
type Mode = 'full' | 'lora' | 'head';
const LR: Readonly<Record<Mode, number>> = { full: 1e-4, lora: 3e-3, head: 3e-3 };
const CLASSES = ['ham', 'spam'];

/** One supervised split: train (normal + the spam in neither dev nor test), dev, test. */
async function supervised(s: ProbeSplits, maxAnomalies: number): Promise<{ train: Part; dev: Part; test: Part }> {
  const [, , anomPool] = await probeDatasetPools('sms_spam', {});
  const held = new Set([...s.dev.texts, ...s.test.texts, ...s.train.texts].map(normaliseProbeText));
  const seen = new Set<string>();
  const extra = anomPool.filter((t) => {
    const k = normaliseProbeText(t);
    if (held.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  }).slice(0, maxAnomalies);
  return {
    train: { texts: [...s.train.texts, ...extra], labels: [...s.train.texts.map(() => 0), ...extra.map(() => 1)] },
    dev: { texts: s.dev.texts, labels: s.dev.labels }, test: { texts: s.test.texts, labels: s.test.labels },
  };
}

/**
 * The probe arm: the published probe benchmark's detectors and settings (`tfjs-lens probe`: layer-0
 * q activations pooled over up to 128 tokens, β-VAE latent 64 / βmax 0.3 / seeded, Mahalanobis, kNN,
 * PCA, the ensemble, length, √n pooling, TF-IDF baselines; not the masked-LM pseudo-perplexity), best
 * detector chosen on dev (no training labels); test F1 at the probe's own threshold (95th percentile
 * of held-out normal training scores), and ROC-AUC.
 */
function probeArm(enc: HookedEncoder, s: ProbeSplits, epochs: number, seed: number): { f1: number; rocAuc: number; chosen: string } {
  const hookName = 'blocks.0.attn.hook_q';
  const maxLength = Math.min(PROBE_MAX_LENGTH, enc.cfg.nCtx);
  const f = (t: readonly string[]) => extractPooledFeatures(enc, t, { hookName, maxLength });
  const n = (t: readonly string[]): number[] => enc.encode(t, maxLength).attentionMask.map((r) => r.reduce((a, v) => a + v, 0));
  const r = runTextProbe({
    trainX: f(s.train.texts), devX: f(s.dev.texts), devLabels: s.dev.labels, testX: f(s.test.texts), testLabels: s.test.labels, ids: { dev: s.dev.ids, test: s.test.ids },
    texts: { train: s.train.texts, dev: s.dev.texts, test: s.test.texts }, lengths: { train: n(s.train.texts), dev: n(s.dev.texts), test: n(s.test.texts) },
  }, { vae: { seed }, train: { epochs, seed }, quiet: true });
  r.vae.dispose();
  const best = r.detectors.find((d) => d.name === 'best_on_dev');
  return { f1: best?.f1 ?? NaN, rocAuc: best?.auroc ?? NaN, chosen: best?.chosen ?? '?' };
}

/** The probe benchmark's default max length (`tfjs-lens probe --max-length`). */
const PROBE_MAX_LENGTH = 128;

/** The trained model with every 2-D matrix in int8: size ratio, dev-refitted test F1 / ROC-AUC. */
async function int8Variant(model: ClassifierModel, parts: { dev: Part; test: Part }, maxLen: number): Promise<{ sizeRatio: number; f1: number | null; rocAuc: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'finetune-int8-'));
  try {
    if (model.adapters.adapter !== undefined) model.mergeAdapter();
    await model.saveHf(join(dir, 'f32'));
    mkdirSync(join(dir, 'i8'), { recursive: true });
    const raw = (await readSafetensorsFile(join(dir, 'f32', 'model.safetensors'))).tensors;
    const report = await writeInt8Safetensors(join(dir, 'i8', 'model.safetensors'), raw, { select: (_n, t) => t.shape.length === 2 });
    copyFileSync(join(dir, 'f32', 'config.json'), join(dir, 'i8', 'config.json'));
    const q = await loadClassifier(join(dir, 'i8'), CLASSES, 0);
    try {
      const dev = predictLogits(q, tokenizeTexts(q, parts.dev.texts, maxLen));
      const t = temperatureScaling(dev, parts.dev.labels).temperature;
      const th = chooseThreshold(softmaxRows(dev, t).map((p) => p[1] as number), parts.dev.labels).threshold;
      const m = scoreLogits(predictLogits(q, tokenizeTexts(q, parts.test.texts, maxLen)), parts.test.labels, t, th, CLASSES).metrics;
      return { sizeRatio: report.int8Bytes / report.float32Bytes, f1: m.f1, rocAuc: m.rocAuc };
    } finally {
      q.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row { seed: number; fraction: number; arm: string; trainRows: number; devF1: number | null; f1: number | null; rocAuc: number | null; seconds: number; int8?: { sizeRatio: number; f1: number | null; rocAuc: number | null } }

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const q = v.quick;
  const seeds = numberList(NAME, v.seeds, 'seeds', q ? [0] : [0, 1, 2], (x) => Number.isInteger(x) && x >= 0, 'integers ≥ 0');
  const fractions = numberList(NAME, v.fractions, 'fractions', q ? [1] : [0.01, 0.1, 1], (x) => x > 0 && x <= 1, 'numbers in (0, 1]');
  const modes = choiceList<Mode>(NAME, v.modes, 'modes', ['full', 'lora', 'head'], q ? ['lora', 'head'] : ['full', 'lora', 'head']);
  const epochs = intOption(NAME, v.epochs, 'epochs', { dflt: q ? 1 : 3, min: 1 });
  const maxTrain = intOption(NAME, v['max-train'], 'max-train', { dflt: q ? 60 : 1000, min: 4 });
  const maxLen = intOption(NAME, v['max-len'], 'max-len', { dflt: q ? 32 : 64, min: 4 });
  const probeEpochs = intOption(NAME, v['probe-epochs'], 'probe-epochs', { dflt: q ? 5 : 60, min: 1 });
  const model = v.model ?? 'distilbert-mini';
  await initBackend(undefined, { quiet: true });
  const rows: Row[] = [];
  const top = fractions.reduce((a, f) => Math.max(a, f), -Infinity);
  for (const seed of seeds) {
    const s = await loadProbeSplits('sms_spam', { seed, maxTrain, ...(q ? { maxDev: 40, maxTest: 60 } : {}) });
    const parts = await supervised(s, Math.round(maxTrain * 0.3));
    const enc = await HookedEncoder.fromPretrained(model, { quiet: true });
    const t0 = performance.now();
    const p = probeArm(enc, s, probeEpochs, seed);
    enc.dispose();
    rows.push({ seed, fraction: 0, arm: `probe (${p.chosen}, no labels)`, trainRows: s.train.texts.length, devF1: null, f1: p.f1, rocAuc: p.rocAuc, seconds: (performance.now() - t0) / 1000 });
    progress(NAME, `seed ${seed}: probe test F1 ${p.f1.toFixed(3)}, ROC-AUC ${p.rocAuc.toFixed(3)} (${p.chosen})`);
    for (const fraction of fractions) {
      const idx = labelFraction(parts.train.labels.map((_, i) => i), parts.train.labels, fraction, seed);
      const train = { texts: idx.map((i) => parts.train.texts[i] as string), labels: idx.map((i) => parts.train.labels[i] as number) };
      for (const mode of modes) {
        const spec: RunSpec = { mode, lora: { r: 8, alpha: 16, dropout: 0.1 }, loss: 'weighted', focalGamma: 2, epochs, batch: 16, lr: LR[mode], maxLen, seed };
        const m = await loadClassifier(model, CLASSES, seed);
        try {
          const r = trainAndEvaluate(m, { train, val: parts.dev, test: parts.test }, spec, CLASSES, { quiet: true });
          const int8 = fraction === top ? await int8Variant(m, parts, maxLen) : undefined;
          rows.push({ seed, fraction, arm: mode, trainRows: train.texts.length, devF1: r.threshold?.valF1 ?? null, f1: r.metrics.f1, rocAuc: r.metrics.rocAuc, seconds: r.seconds, ...(int8 === undefined ? {} : { int8 }) });
          progress(NAME, `seed ${seed}, ${(100 * fraction).toFixed(0)}% labels (${train.texts.length} rows), ${mode}: test F1 ${r.metrics.f1?.toFixed(3)}, ROC-AUC ${r.metrics.rocAuc?.toFixed(3)} (${r.seconds.toFixed(1)} s)`);
        } finally {
          m.dispose();
        }
      }
    }
  }
  return report(v.json, rows, { seeds, fractions, modes, epochs, maxTrain, maxLen, model, quick: q });
}

function report(json: boolean, rows: readonly Row[], config: Record<string, unknown>): number {
  const groups = [...new Set(rows.map((r) => `${r.fraction}\u0000${r.arm.startsWith('probe') ? 'probe' : r.arm}`))];
  const table = groups.map((g) => {
    const [fraction, arm] = g.split('\u0000') as [string, string];
    const rs = rows.filter((r) => String(r.fraction) === fraction && (r.arm === arm || (arm === 'probe' && r.arm.startsWith('probe'))));
    return { fraction: Number(fraction), arm, n: rs.length, trainRows: meanStd(rs.map((r) => r.trainRows)).mean, f1: meanStd(rs.map((r) => r.f1)), rocAuc: meanStd(rs.map((r) => r.rocAuc)), devF1: meanStd(rs.map((r) => r.devF1)), seconds: meanStd(rs.map((r) => r.seconds)).mean };
  });
  const top = Math.max(...rows.map((r) => r.fraction));
  const ft = table.filter((t) => t.fraction === top && t.arm !== 'probe');
  const best = ft.sort((a, b) => b.devF1.mean - a.devF1.mean)[0];
  const i8rows = rows.filter((r) => r.arm === best?.arm && r.fraction === top && r.int8 !== undefined);
  const int8 = best === undefined ? null : {
    chosenOnDev: best.arm, sizeRatio: meanStd(i8rows.map((r) => r.int8?.sizeRatio ?? null)), f1: meanStd(i8rows.map((r) => r.int8?.f1 ?? null)),
    f1Change: meanStd(i8rows.map((r) => (r.int8?.f1 ?? NaN) - (r.f1 ?? NaN))), rocAuc: meanStd(i8rows.map((r) => r.int8?.rocAuc ?? null)),
  };
  const md = [
    markdownTable(['labels', 'model', 'training rows', 'test F1', 'test ROC-AUC', 'dev F1', 'train s'], table.map((t) => [
      t.arm === 'probe' ? '0 (dev only)' : `${(100 * t.fraction).toFixed(0)}%`, t.arm, t.trainRows.toFixed(0), cell(t.f1), cell(t.rocAuc), cell(t.devF1), t.seconds.toFixed(1),
    ])),
    '\nThe probe row uses no labels: its F1 is at its own threshold (95th percentile of held-out normal training scores), the fine-tuned rows\' at a threshold chosen on dev; compare the probe on ROC-AUC. The probe\'s detector is chosen on dev in each seed (`best_on_dev`).',
    int8 === null ? '' : `\nint8 (all 2-D matrices) of ${int8.chosenOnDev} (best dev F1 at ${(100 * top).toFixed(0)}% labels): size ${cell(int8.sizeRatio)} of float32; test F1 ${cell(int8.f1)} (change ${cell(int8.f1Change)}); ROC-AUC ${cell(int8.rocAuc)}`,
  ].join('\n');
  const files = writeResults(config['quick'] === true ? 'sms_quick' : 'sms', { config, table, int8, rows }, md);
  if (json) process.stdout.write(`${JSON.stringify({ benchmark: 'finetune_sms', config, table, int8, rows, files })}\n`);
  else console.log(md);
  return 0;
}

void runCliMain(NAME, main);
