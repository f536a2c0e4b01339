/**
 * Example 7: fine-tune a sequence classifier with LoRA (PEFT format) and use it. distilbert-mini
 * gets a new classification head, LoRA factors on q_lin / v_lin are trained on a stratified subset of
 * the SMS Spam Collection (ham vs spam), a temperature and a decision threshold are fitted on the
 * validation part (ECE before / after), the test part is scored once, and the adapter is saved,
 * loaded back into a fresh model and used to classify two new messages. The full command is
 * `tfjs-lens finetune` (and `tfjs-lens classify`); the benchmarks are bench/finetune_sms.ts and
 * bench/finetune_tabular.ts.
 * Run: npx tsx examples/07_finetune.ts [--model distilbert-mini] [--rows 240] [--epochs 1] [--mode lora]
 *   [--out results/examples/07_finetune] [--json]
 */
import { join } from 'node:path';
import { initBackend } from '../src/index.js';
import { formatClassificationReport } from '../src/evals/index.js';
import { writeRocPr } from '../src/viz/index.js';
import { choiceOption, intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { labelFraction, readTextData, runSplits } from '../src/cli/commands/finetune_data.js';
import { loadClassifier, predictLogits, tokenizeTexts, trainAndEvaluate, type Part } from '../src/cli/commands/finetune_run.js';

const NAME = 'examples/07_finetune';
const OPTIONS = {
  model: { type: 'string', default: 'distilbert-mini' },
  rows: { type: 'string' },
  epochs: { type: 'string' },
  mode: { type: 'string' },
  out: { type: 'string', default: 'results/examples/07_finetune' },
  json: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const rows = intOption(NAME, v.rows, 'rows', { dflt: 240, min: 40 });
  const epochs = intOption(NAME, v.epochs, 'epochs', { dflt: 1, min: 1 });
  const mode = choiceOption(NAME, v.mode, 'mode', ['full', 'head', 'lora'] as const, 'lora');
  const log = (line: string): void => void (v.json ? process.stderr : process.stdout).write(`${line}\n`);
  await initBackend(undefined, { quiet: true });

  // A stratified subset of the SMS data, then a stratified 70 / 10 / 20 train / val / test split.
  const all = readTextData(NAME, 'sms_spam');
  const keep = labelFraction(all.texts.map((_, i) => i), all.labels, rows / all.texts.length, 1);
  const texts = keep.map((i) => all.texts[i] as string);
  const labels = keep.map((i) => all.labels[i] as number);
  const split = runSplits(labels, 0, 0)[0];
  if (split === undefined) throw new Error('no split');
  const part = (idx: readonly number[]): Part => ({ texts: idx.map((i) => texts[i] as string), labels: idx.map((i) => labels[i] as number) });

  const model = await loadClassifier(v.model, all.classNames, 0); // a new head on the masked LM, as AutoModelForSequenceClassification
  const spec = { mode, lora: { r: 8, alpha: 16, dropout: 0.1 }, loss: 'weighted' as const, focalGamma: 2, epochs, batch: 16, lr: mode === 'full' ? 5e-5 : 3e-3, maxLen: 48, seed: 0 };
  const adapterDir = join(v.out, 'adapter');
  let r;
  try {
    r = trainAndEvaluate(model, { train: part(split.train), val: part(split.val), test: part(split.test) }, spec, all.classNames, { quiet: true });
    if (mode !== 'full') await model.saveAdapter(adapterDir);
  } finally {
    model.dispose();
  }
  log(`${v.model} ${mode}: trained ${r.trainable} of ${r.total} parameters (${((100 * r.trainable) / r.total).toFixed(2)}%) on ${split.train.length} messages in ${r.seconds.toFixed(1)} s`);
  log(`temperature ${r.calibration.temperature.toFixed(3)} (validation ECE ${r.calibration.valEceBefore.toFixed(3)} → ${r.calibration.valEceAfter.toFixed(3)}); threshold ${r.threshold?.value.toFixed(3)}`);
  log(formatClassificationReport(r.report, 3));

  // The saved adapter on a fresh copy of the base model.
  const messages = ['URGENT! You have won a 1 week FREE membership. Call 09061701461 to claim', 'ok, see you at the station at 6'];
  let probs: number[][] = [];
  if (mode !== 'full') {
    const fresh = await loadClassifier(v.model, all.classNames, 1);
    try {
      await fresh.loadAdapter(adapterDir);
      probs = predictLogits(fresh, tokenizeTexts(fresh, messages, 48)).map((l) => {
        const e = l.map((x) => Math.exp(x / r.calibration.temperature));
        return e.map((x) => x / e.reduce((a, b) => a + b, 0));
      });
    } finally {
      fresh.dispose();
    }
    messages.forEach((m, i) => log(`P(spam) = ${(probs[i]?.[1] ?? 0).toFixed(3)}  ${m}`));
  }
  const files = [writeRocPr(join(v.out, 'roc_pr.html'), [{ name: `${v.model} ${mode}`, scores: r.testScores, labels: r.testLabels as (0 | 1)[] }], { title: 'SMS spam: ROC and PR on the test part' })];
  if (v.json) {
    process.stdout.write(`${JSON.stringify({
      model: v.model, mode, rows: texts.length, trainable: r.trainable, total: r.total, metrics: r.metrics, calibration: r.calibration, threshold: r.threshold,
      adapter: mode === 'full' ? null : adapterDir, reloaded: messages.map((text, i) => ({ text, pSpam: probs[i]?.[1] ?? null })), files,
    })}\n`);
  }
  return 0;
}

void runCliMain(NAME, main);
