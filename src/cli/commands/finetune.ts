/**
 * `tfjs-lens finetune`: fine-tune a sequence classifier (full / head / LoRA) on a text CSV (or the
 * shipped SMS data) or on a tabular CSV textualised with a schema; one stratified train / val / test
 * split or stratified k-fold (per-fold and mean ± std); temperature and threshold chosen on
 * validation; writes the adapter (PEFT) or the full model (HF), metrics JSON, a classification report
 * and Plotly pages (training curve, ROC / PR) under `--out` (default results/finetune/<name>).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { initBackend } from '../../backend/backend.js';
import { aggregateFolds, formatMeanStd } from '../../data/kfold.js';
import { formatClassificationReport } from '../../evals/classification.js';
import { UsageError } from '../../errors.js';
import { resolveAlias } from '../../model/aliases.js';
import { writeLinePlot } from '../../viz/charts.js';
import { writeRocPr } from '../../viz/probe_plots.js';
import { choiceOption, floatOption, intOption, parseCliArgs, type CliOptions } from '../cli_args.js';
import { labelFraction, readTabularTexts, readTextData, runSplits, type LabelledTexts, type SplitIdx } from './finetune_data.js';
import { loadClassifier, trainAndEvaluate, type ClassifierModel, type Part, type RunResult, type RunSpec } from './finetune_run.js';
import { packageRoot } from './paths.js';

const CMD = 'finetune';

/** Options of `tfjs-lens finetune`. */
export const FINETUNE_OPTIONS = {
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  model: { type: 'string' }, data: { type: 'string' }, 'text-column': { type: 'string' }, 'label-column': { type: 'string' },
  tabular: { type: 'string' }, schema: { type: 'string' }, format: { type: 'string' }, mode: { type: 'string' },
  'lora-r': { type: 'string' }, 'lora-alpha': { type: 'string' }, 'lora-dropout': { type: 'string' }, 'lora-targets': { type: 'string' },
  loss: { type: 'string' }, 'focal-gamma': { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  'max-len': { type: 'string' }, seed: { type: 'string' }, 'label-fraction': { type: 'string' }, kfold: { type: 'string' },
  'max-rows': { type: 'string' }, out: { type: 'string' },
} as const satisfies CliOptions;

/** Help text of `tfjs-lens finetune`. */
export const FINETUNE_USAGE = `usage: tfjs-lens finetune (--data <csv|sms_spam> | --tabular <csv|pima|breast_cancer> --schema pima|breast_cancer|<json>) [options]

  --data <csv>          text CSV/TSV with a header row, or sms_spam (data/sms_spam/SMSSpamCollection)
    --text-column <name|index> (default text)   --label-column <name|index> (default label)
  --tabular <csv>       tabular CSV, rows textualised with --schema; --format sentence|keyValue (default sentence)
  --model <alias|folder>  distilbert-mini (default), llama-mini, or a BERT/DistilBERT/RoBERTa/Llama folder
  --mode full|head|lora (default lora)   --lora-r 8  --lora-alpha 16  --lora-dropout 0.1
    --lora-targets q_lin,v_lin (comma-separated module names; default PEFT's query/value for the family)
  --loss ce|weighted|focal (default ce)   --focal-gamma 2 (with --loss focal)
  --epochs 3  --batch 16  --lr <default 2e-5 full, 1e-3 head/lora>  --max-len 64  --seed 0
  --label-fraction 1 (fraction of training labels kept, stratified, ≥ 1 per class)
  --kfold <k>           stratified k-fold: per-fold figures and mean ± std (default: one 70/10/20 split)
  --max-rows <n>        stratified subsample of the data first (quick runs)
  --out <dir>           default results/finetune/<data>-<model>-<mode>
  --json                one JSON object on stdout (progress on stderr)

Temperature and threshold are fitted on the validation part; test figures are read once.`;

type Values = ReturnType<typeof parseCliArgs<typeof FINETUNE_OPTIONS, false>>['values'];

/** Checked options of a finetune run. */
interface Plan {
  readonly model: string;
  readonly spec: RunSpec;
  readonly fraction: number;
  readonly kfold: number;
  readonly maxRows: number | undefined;
  readonly out: string;
  readonly json: boolean;
}

function exclusive(v: Values): void {
  if ((v.data === undefined) === (v.tabular === undefined)) throw new UsageError(`${CMD}: pass exactly one of --data <csv|sms_spam> and --tabular <csv> (tfjs-lens finetune --help)`);
  if (v.tabular !== undefined && v.schema === undefined) throw new UsageError(`${CMD}: --tabular needs --schema pima|breast_cancer|<schema.json> to textualise its rows`);
  for (const k of ['text-column', 'label-column'] as const) if (v[k] !== undefined && v.data === undefined) throw new UsageError(`${CMD}: --${k} is for --data text files; a --tabular file takes its label column from --schema`);
  for (const k of ['schema', 'format'] as const) if (v[k] !== undefined && v.tabular === undefined) throw new UsageError(`${CMD}: --${k} is for --tabular files; drop it or use --tabular <csv>`);
  const mode = v.mode ?? 'lora';
  for (const k of ['lora-r', 'lora-alpha', 'lora-dropout', 'lora-targets'] as const) if (v[k] !== undefined && mode !== 'lora') throw new UsageError(`${CMD}: --${k} needs --mode lora (got --mode ${mode}); drop it or pass --mode lora`);
  if (v['focal-gamma'] !== undefined && v.loss !== 'focal') throw new UsageError(`${CMD}: --focal-gamma needs --loss focal; drop it or pass --loss focal`);
}

function targets(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const t = raw.split(',').map((s) => s.trim());
  if (t.some((s) => s === '')) throw new UsageError(`${CMD}: --lora-targets must be comma-separated module names without gaps, e.g. --lora-targets q_lin,v_lin; got '${raw}'`);
  return t;
}

/**
 * Check every option before any data or model loads.
 * @param v Parsed values.
 * @returns The plan.
 * @throws {@link "tfjs-lens"!UsageError} naming the option and the fix.
 */
export function finetunePlan(v: Values): Plan {
  exclusive(v);
  const mode = choiceOption(CMD, v.mode, 'mode', ['full', 'head', 'lora'] as const, 'lora');
  const r = intOption(CMD, v['lora-r'], 'lora-r', { dflt: 8, min: 1 });
  const lt = targets(v['lora-targets']);
  const lora = { r, alpha: floatOption(CMD, v['lora-alpha'], 'lora-alpha', { dflt: 16, exclusiveMin: 0 }), dropout: floatOption(CMD, v['lora-dropout'], 'lora-dropout', { dflt: 0.1, min: 0, max: 0.9 }), ...(lt === undefined ? {} : { targetModules: lt }) };
  const spec: RunSpec = {
    mode, lora, loss: choiceOption(CMD, v.loss, 'loss', ['ce', 'weighted', 'focal'] as const, 'ce'),
    focalGamma: floatOption(CMD, v['focal-gamma'], 'focal-gamma', { dflt: 2, min: 0 }), epochs: intOption(CMD, v.epochs, 'epochs', { dflt: 3, min: 1 }),
    batch: intOption(CMD, v.batch, 'batch', { dflt: 16, min: 1 }), lr: floatOption(CMD, v.lr, 'lr', { dflt: undefined, exclusiveMin: 0 }),
    maxLen: intOption(CMD, v['max-len'], 'max-len', { dflt: 64, min: 2 }), seed: intOption(CMD, v.seed, 'seed', { dflt: 0, min: 0 }),
  };
  const kfold = intOption(CMD, v.kfold, 'kfold', { dflt: 0, min: 2, max: 20 });
  const model = v.model ?? 'distilbert-mini';
  const dataName = v.data !== undefined ? basename(v.data).replace(/\.[^.]+$/, '') : `${basename(v.tabular ?? '').replace(/\.[^.]+$/, '')}`;
  const out = v.out ?? join(packageRoot(), 'results', 'finetune', `${dataName}-${basename(resolve(model))}-${mode}`);
  return {
    model, spec, kfold, out, json: v.json, fraction: floatOption(CMD, v['label-fraction'], 'label-fraction', { dflt: 1, exclusiveMin: 0, max: 1 }),
    maxRows: intOption(CMD, v['max-rows'], 'max-rows', { dflt: undefined, min: 10 }),
  };
}

async function readData(v: Values, p: Plan): Promise<LabelledTexts> {
  const d = v.data !== undefined
    ? readTextData(CMD, v.data, v['text-column'], v['label-column'])
    : await readTabularTexts(CMD, v.tabular as string, v.schema as string, choiceOption(CMD, v.format, 'format', ['sentence', 'keyValue'] as const, 'sentence', { 'key-value': 'keyValue', keyvalue: 'keyValue' }));
  if (p.maxRows === undefined || p.maxRows >= d.texts.length) return d;
  const keep = labelFraction(d.texts.map((_, i) => i), d.labels, p.maxRows / d.texts.length, p.spec.seed + 1);
  return { ...d, texts: keep.map((i) => d.texts[i] as string), labels: keep.map((i) => d.labels[i] as number) };
}

const part = (d: LabelledTexts, idx: readonly number[]): Part => ({ texts: idx.map((i) => d.texts[i] as string), labels: idx.map((i) => d.labels[i] as number) });
const log = (s: string): void => void process.stderr.write(`finetune: ${s}\n`);

/** Flat numeric figures of a run (for mean ± std). */
function figures(r: RunResult): Record<string, number> {
  const m = r.metrics;
  const f: Record<string, number> = { accuracy: m.accuracy, macroF1: m.macroF1, eceBefore: m.eceBefore, eceAfter: m.eceAfter };
  for (const k of ['f1', 'f1Argmax', 'rocAuc', 'prAuc'] as const) if (m[k] !== null) f[k] = m[k];
  return f;
}

async function saveModel(model: ClassifierModel, p: Plan, d: LabelledTexts, r: RunResult): Promise<string> {
  const dir = join(p.out, p.spec.mode === 'full' ? 'model' : 'adapter');
  if (p.spec.mode === 'full') await model.saveHf(dir);
  else await model.saveAdapter(dir);
  const meta = {
    base_model: p.spec.mode === 'full' ? dir : resolveAlias(p.model), adapter: p.spec.mode === 'full' ? null : dir, mode: p.spec.mode, class_names: d.classNames,
    max_len: p.spec.maxLen, temperature: r.calibration.temperature, threshold: r.threshold?.value ?? null,
  };
  writeFileSync(join(p.out, 'classifier.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return dir;
}

function writePages(p: Plan, runs: readonly RunResult[], d: LabelledTexts, suffix: (i: number) => string): Record<string, string> {
  const files: Record<string, string> = {};
  files['training_curve'] = writeLinePlot(join(p.out, 'training_curve.html'), runs.map((r, i) => ({ name: `training loss${suffix(i)}`, x: r.history.map((h) => h.step), y: r.history.map((h) => h.loss) })), {
    title: `Fine-tuning ${basename(p.model)} (${p.spec.mode}, ${p.spec.loss} loss) on ${basename(d.source)}`, xLabel: 'optimizer step', yLabel: 'training loss (nats)',
  });
  const curves = runs.filter((r) => r.metrics.rocAuc !== null).map((r, i) => ({ name: `${p.spec.mode}${suffix(i)}`, scores: r.testScores, labels: r.testLabels as (0 | 1)[] }));
  if (curves.length > 0) files['roc_pr'] = writeRocPr(join(p.out, 'roc_pr.html'), curves, { title: `ROC and PR on the test part: P(${d.classNames[1]}) after temperature scaling` });
  return files;
}

function printText(out: { runs: { fold: number; metrics: Record<string, number> }[]; mean?: Record<string, { mean: number; std: number; n: number }> | undefined; files: Record<string, string> }, reports: string[]): void {
  for (const [i, r] of out.runs.entries()) {
    console.log(`${out.runs.length > 1 ? `fold ${r.fold}: ` : ''}${Object.entries(r.metrics).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')}`);
    if (out.runs.length === 1) console.log(reports[i]);
  }
  if (out.mean !== undefined) console.log(`mean ± std over ${out.runs.length} folds: ${Object.entries(out.mean).map(([k, m]) => `${k} ${formatMeanStd(m)}`).join(', ')}`);
  console.log('files:', out.files);
}

async function runOne(p: Plan, d: LabelledTexts, s: SplitIdx, i: number, keep: boolean): Promise<{ r: RunResult; saved?: string }> {
  const train = labelFraction(s.train, d.labels, p.fraction, p.spec.seed);
  log(`${p.kfold >= 2 ? `fold ${i}: ` : ''}${train.length} training rows (of ${s.train.length}), ${s.val.length} validation, ${s.test.length} test; ${p.model} ${p.spec.mode}`);
  const model = await loadClassifier(p.model, d.classNames, p.spec.seed);
  try {
    const r = trainAndEvaluate(model, { train: part(d, train), val: part(d, s.val), test: part(d, s.test) }, p.spec, d.classNames, { quiet: p.json, metricsPath: join(p.out, `metrics${p.kfold >= 2 ? `_fold${i}` : ''}.jsonl`) });
    return keep ? { r, saved: await saveModel(model, p, d, r) } : { r };
  } finally {
    model.dispose();
  }
}

/**
 * Run `tfjs-lens finetune`.
 * @param argv Arguments after `finetune`.
 * @returns The exit code.
 * @throws {@link "tfjs-lens"!UsageError} on bad options (before any model loads).
 */
export async function runFinetuneCommand(argv: string[]): Promise<number> {
  const { values: v } = parseCliArgs(CMD, argv, FINETUNE_OPTIONS);
  if (v.help) {
    process.stdout.write(`${FINETUNE_USAGE}\n`);
    return 0;
  }
  const p = finetunePlan(v);
  const d = await readData(v, p);
  await initBackend(undefined, { quiet: p.json });
  mkdirSync(p.out, { recursive: true });
  const splits = runSplits(d.labels, p.kfold, p.spec.seed);
  const results: RunResult[] = [];
  let saved: string | undefined;
  for (const [i, s] of splits.entries()) {
    const one = await runOne(p, d, s, i, p.kfold < 2);
    results.push(one.r);
    saved = one.saved ?? saved;
  }
  const runs = results.map((r, i) => ({ fold: i, metrics: figures(r), threshold: r.threshold, calibration: r.calibration, seconds: +r.seconds.toFixed(2), report: r.report }));
  const mean = p.kfold >= 2 ? aggregateFolds(runs.map((r) => r.metrics)) : undefined;
  const reports = results.map((r) => formatClassificationReport(r.report, 3));
  writeFileSync(join(p.out, 'classification_report.txt'), reports.map((t, i) => (reports.length > 1 ? `fold ${i}\n${t}` : t)).join('\n\n'));
  const files = { ...writePages(p, results, d, (i) => (results.length > 1 ? ` fold ${i}` : '')), report: join(p.out, 'classification_report.txt'), metrics: join(p.out, 'metrics.json') };
  const out = {
    command: 'finetune', model: p.model, data: d.source, rows: d.texts.length, class_names: d.classNames, mode: p.spec.mode, loss: p.spec.loss,
    epochs: p.spec.epochs, label_fraction: p.fraction, kfold: p.kfold >= 2 ? p.kfold : null, trainable: results[0]?.trainable, total: results[0]?.total,
    runs, mean: mean ?? null, saved: saved ?? null, out: p.out, files,
  };
  writeFileSync(files.metrics, `${JSON.stringify(out, null, 2)}\n`);
  if (p.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else printText({ runs, mean, files }, reports);
  return 0;
}
