/**
 * `tfjs-lens classify`: labels and class probabilities of texts from a sequence classifier: a
 * `*ForSequenceClassification` folder, a base model plus a PEFT adapter (`--adapter`), or a
 * `tfjs-lens finetune` output folder (its classifier.json names the base model, the adapter, the
 * class names and the temperature and threshold chosen on validation, which are applied).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initBackend } from '../../backend/backend.js';
import { softmaxRows } from '../../evals/calibration.js';
import { UsageError } from '../../errors.js';
import { resolveAlias } from '../../model/aliases.js';
import { intOption, parseCliArgs, type CliOptions } from '../cli_args.js';
import { readTexts } from './finetune_data.js';
import { loadClassifier, predictLogits, tokenizeTexts, type ClassifierModel } from './finetune_run.js';

const CMD = 'classify';

/** Options of `tfjs-lens classify`. */
export const CLASSIFY_OPTIONS = {
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  model: { type: 'string' }, adapter: { type: 'string' }, text: { type: 'string', multiple: true }, data: { type: 'string' },
  'text-column': { type: 'string' }, 'max-len': { type: 'string' }, limit: { type: 'string' },
} as const satisfies CliOptions;

/** Help text of `tfjs-lens classify`. */
export const CLASSIFY_USAGE = `usage: tfjs-lens classify --model <folder> [--adapter <dir>] (--text "…" [--text "…"] | --data <csv|sms_spam>) [options]

  --model <folder>      a *ForSequenceClassification folder, a base model (with --adapter), or a
                        tfjs-lens finetune output folder (classifier.json: adapter, classes, temperature, threshold)
  --adapter <dir>       PEFT LoRA folder (adapter_config.json + adapter_model.safetensors)
  --text "…"            text to classify (repeatable)   --data <csv>  --text-column <name|index> (default text)
  --max-len 64  --limit <n> (first n texts of --data)  --json (one JSON object on stdout)`;

type Values = ReturnType<typeof parseCliArgs<typeof CLASSIFY_OPTIONS, false>>['values'];

/** classifier.json written by `tfjs-lens finetune`. */
interface FinetuneMeta {
  readonly base_model: string;
  readonly adapter: string | null;
  readonly class_names: string[];
  readonly max_len: number;
  readonly temperature: number;
  readonly threshold: number | null;
}

function readMeta(dir: string | undefined): FinetuneMeta | undefined {
  for (const d of dir === undefined ? [] : [dir, dirname(dir)]) {
    const f = join(d, 'classifier.json');
    if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as FinetuneMeta;
  }
  return undefined;
}

async function load(v: Values, init: () => Promise<unknown>): Promise<{ model: ClassifierModel; meta: FinetuneMeta | undefined }> {
  const fromModel = readMeta(v.model);
  const meta = fromModel ?? readMeta(v.adapter);
  const base = fromModel?.base_model ?? (v.model as string);
  const adapter = v.adapter ?? fromModel?.adapter ?? undefined;
  if (adapter !== undefined && !existsSync(join(adapter, 'adapter_config.json'))) throw new UsageError(`${CMD}: --adapter '${adapter}' has no adapter_config.json; pass a PEFT LoRA folder (tfjs-lens finetune --mode lora|head writes <out>/adapter)`);
  const arch = (JSON.parse(readFileSync(join(resolveAlias(base), 'config.json'), 'utf8')) as { architectures?: string[] }).architectures ?? [];
  if (adapter === undefined && !arch.some((a) => a.endsWith('ForSequenceClassification'))) {
    throw new UsageError(`${CMD}: --model '${base}' has no classification head (${arch.join(', ') || 'no architectures'}); pass --adapter <dir> or a tfjs-lens finetune output folder`);
  }
  await init();
  // Without classifier.json the checkpoint's own head (and id2label) is kept whatever its width; a
  // random head is only built for a headless base, whose adapter then supplies the trained head.
  const model = await loadClassifier(base, meta?.class_names, 0);
  if (adapter !== undefined) await model.loadAdapter(adapter);
  return { model, meta };
}

/**
 * Run `tfjs-lens classify`.
 * @param argv Arguments after `classify`.
 * @returns The exit code.
 * @throws {@link "tfjs-lens"!UsageError} on bad options.
 */
export async function runClassifyCommand(argv: string[]): Promise<number> {
  const { values: v } = parseCliArgs(CMD, argv, CLASSIFY_OPTIONS);
  if (v.help) {
    process.stdout.write(`${CLASSIFY_USAGE}\n`);
    return 0;
  }
  if (v.model === undefined) throw new UsageError(`${CMD}: --model <folder> is required (a classifier folder or a tfjs-lens finetune output folder)`);
  if ((v.text === undefined) === (v.data === undefined)) throw new UsageError(`${CMD}: pass --text "…" or --data <csv>, not ${v.text === undefined ? 'neither' : 'both'}`);
  if (v['text-column'] !== undefined && v.data === undefined) throw new UsageError(`${CMD}: --text-column is for --data files; drop it with --text`);
  const limit = intOption(CMD, v.limit, 'limit', { dflt: undefined, min: 1 });
  const maxLenOpt = intOption(CMD, v['max-len'], 'max-len', { dflt: undefined, min: 2 });
  const texts = v.text ?? readTexts(CMD, v.data as string, v['text-column']).slice(0, limit);
  const { model, meta } = await load(v, () => initBackend(undefined, { quiet: v.json }));
  try {
    const classNames = meta?.class_names ?? Object.values(model.labels?.id2label ?? {});
    const temperature = meta?.temperature ?? 1;
    const threshold = classNames.length === 2 ? (meta?.threshold ?? null) : null;
    const probs = softmaxRows(predictLogits(model, tokenizeTexts(model, texts, maxLenOpt ?? meta?.max_len ?? 64)), temperature);
    const rows = texts.map((text, i) => {
      const p = probs[i] as number[];
      const id = threshold !== null ? ((p[1] as number) > threshold ? 1 : 0) : p.indexOf(Math.max(...p));
      return { text, label: classNames[id] ?? String(id), label_id: id, probabilities: Object.fromEntries(p.map((x, c) => [classNames[c] ?? String(c), +x.toFixed(6)])) };
    });
    const out = { command: 'classify', model: v.model, adapter: v.adapter ?? meta?.adapter ?? null, class_names: classNames, temperature, threshold, n: rows.length, predictions: rows };
    if (v.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else for (const r of rows) console.log(`${r.label}\t${JSON.stringify(r.probabilities)}\t${r.text.slice(0, 80)}`);
    return 0;
  } finally {
    model.dispose();
  }
}
