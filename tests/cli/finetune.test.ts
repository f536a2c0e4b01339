/**
 * `tfjs-lens finetune` and `tfjs-lens classify` as a user runs them (subprocesses, offline): a LoRA run
 * on a 60-row text CSV prints one JSON object and writes the PEFT adapter, metrics, report and pages;
 * classify reads the output folder back; a head-only 2-fold run on textualised Pima rows reports
 * per-fold figures and mean ± std; and the usual mistakes exit 2 with one line naming the option and
 * the fix, before any model loads.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun as Run } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-finetune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: readonly string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, HF_HUB_OFFLINE: '1', HF_HOME: join(tmp, 'hf') };
  for (const k of ['HF_HUB_CACHE', 'HF_ENDPOINT', 'TFJS_LENS_DEBUG']) delete env[k];
  return runCli(args, env);
}

function oneJson(r: Run): Record<string, unknown> {
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

/** 60 rows: spam-like texts vs ordinary ones, with a quoted comma in some. */
function toyCsv(path: string): string {
  const rows = ['"message","kind"'];
  for (let i = 0; i < 60; i++) {
    const spam = i % 3 === 0;
    rows.push(spam ? `"WIN a FREE prize ${i}, call 0800 ${1000 + i} now",spam` : `"see you at ${i % 12} at the station, ok",ham`);
  }
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

const inUnit = (x: unknown): boolean => typeof x === 'number' && x >= 0 && x <= 1;

describe('tfjs-lens finetune / classify', () => {
  const csv = toyCsv(join(tmp, 'toy.csv'));
  const out = join(tmp, 'lora');

  it('finetune --mode lora: one JSON object, adapter in PEFT format, metrics, report and pages', async () => {
    const j = oneJson(await cli(['finetune', '--data', csv, '--text-column', 'message', '--label-column', 'kind', '--mode', 'lora', '--lora-r', '4',
      '--epochs', '1', '--batch', '8', '--max-len', '24', '--out', out, '--json'])) as {
      class_names: string[]; runs: { metrics: Record<string, number>; calibration: { temperature: number }; threshold: { value: number } }[];
      saved: string; files: Record<string, string>; trainable: number; total: number;
    };
    expect(j.class_names).toEqual(['ham', 'spam']);
    expect(j.runs).toHaveLength(1);
    const m = j.runs[0]!.metrics;
    for (const k of ['accuracy', 'macroF1', 'f1', 'rocAuc', 'prAuc', 'eceBefore', 'eceAfter']) expect(inUnit(m[k]), k).toBe(true);
    expect(j.runs[0]!.calibration.temperature).toBeGreaterThan(0);
    expect(j.trainable / j.total).toBeLessThan(0.05);
    expect(existsSync(join(j.saved, 'adapter_config.json')) && existsSync(join(j.saved, 'adapter_model.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(j.saved, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4 });
    for (const f of Object.values(j.files)) expect(existsSync(f), f).toBe(true);
    expect(readFileSync(j.files['report']!, 'utf8')).toMatch(/spam/);
  }, 120_000);

  it('classify --model <finetune out>: a label and probabilities per text', async () => {
    const j = oneJson(await cli(['classify', '--model', out, '--text', 'WIN a FREE prize, call now', '--text', 'see you at the station', '--json'])) as {
      predictions: { label: string; probabilities: Record<string, number> }[]; class_names: string[];
    };
    expect(j.class_names).toEqual(['ham', 'spam']);
    expect(j.predictions).toHaveLength(2);
    for (const p of j.predictions) {
      expect(['ham', 'spam']).toContain(p.label);
      expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  }, 120_000);

  it('finetune --tabular pima --kfold 2 --mode head: per-fold figures and mean ± std, no model saved', async () => {
    const j = oneJson(await cli(['finetune', '--tabular', 'pima', '--schema', 'pima', '--format', 'keyValue', '--mode', 'head', '--loss', 'weighted',
      '--kfold', '2', '--max-rows', '40', '--epochs', '1', '--max-len', '48', '--out', join(tmp, 'pima'), '--json'])) as {
      runs: unknown[]; mean: Record<string, { mean: number; std: number; n: number }>; saved: string | null; class_names: string[];
    };
    expect(j.class_names).toEqual(['neg', 'pos']);
    expect(j.runs).toHaveLength(2);
    expect(j.mean['accuracy']!.n).toBe(2);
    expect(j.saved).toBeNull();
  }, 120_000);
});

const MISTAKES: readonly { args: string[]; says: RegExp }[] = [
  { args: ['finetune'], says: /pass exactly one of --data <csv\|sms_spam> and --tabular <csv>/ },
  { args: ['finetune', '--data', 'sms_spam', '--tabular', 'pima'], says: /pass exactly one of --data/ },
  { args: ['finetune', '--tabular', 'pima'], says: /--tabular needs --schema pima\|breast_cancer\|<schema\.json>/ },
  { args: ['finetune', '--data', 'sms_spam', '--mode', 'loar'], says: /--mode must be one of full, head, lora, got 'loar'; did you mean 'lora'\?/ },
  { args: ['finetune', '--data', 'sms_spam', '--mode', 'head', '--lora-r', '4'], says: /--lora-r needs --mode lora \(got --mode head\)/ },
  { args: ['finetune', '--data', 'sms_spam', '--focal-gamma', '2'], says: /--focal-gamma needs --loss focal/ },
  { args: ['finetune', '--data', 'sms_spam', '--label-fraction', '0'], says: /--label-fraction must be a number > 0 and ≤ 1, got '0'/ },
  { args: ['finetune', '--data', 'sms_spam', '--kfold', '1'], says: /--kfold must be an integer in \[2, 20\], got '1'/ },
  { args: ['finetune', '--data', 'sms_spam', '--epoch', '2'], says: /unknown option '--epoch'; did you mean '--epochs'\?/ },
  { args: ['finetune', '--data', 'sms_spam', '--lora-targets', 'q_lin,,v_lin'], says: /--lora-targets must be comma-separated module names without gaps/ },
  { args: ['finetune', '--data', 'nope.csv'], says: /--data file 'nope\.csv' does not exist/ },
  { args: ['finetune', '--data', 'sms_spam', '--text-column', 'txt'], says: /--text-column 'txt' is not a column of .*did you mean 'text'\?/ },
  { args: ['finetune', '--data', 'sms_spam', '--schema', 'pima'], says: /--schema is for --tabular files/ },
  { args: ['finetune', '--tabular', 'pima', '--schema', 'pima', '--format', 'json'], says: /--format must be one of sentence, keyValue, got 'json'/ },
  { args: ['classify', '--text', 'hi'], says: /--model <folder> is required/ },
  { args: ['classify', '--model', 'distilbert-mini'], says: /pass --text "…" or --data <csv>, not neither/ },
  { args: ['classify', '--model', 'distilbert-mini', '--text', 'hi', '--adapter', 'nowhere'], says: /--adapter 'nowhere' has no adapter_config\.json/ },
  { args: ['classify', '--model', 'distilbert-mini', '--text', 'hi'], says: /has no classification head \(DistilBertForMaskedLM\); pass --adapter <dir>/ },
];

describe('finetune / classify user mistakes: exit 2, one line naming the option and the fix', () => {
  it.each(MISTAKES.map((m) => [m.args.join(' '), m] as const))('tfjs-lens %s', async (_label, m) => {
    const r = await cli(m.args);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tfjs-lens: UsageError: /);
    expect(lines[0]).toMatch(m.says);
    expect(r.code).toBe(2);
  }, 60_000);
});
