/**
 * The first hour's mistakes against the real CLI (subprocesses): each exits with the right code (2 for
 * usage, 1 for other errors), prints exactly one line on stderr (`tfjs-lens: <ErrorName>: <message>`,
 * no stack unless TFJS_LENS_DEBUG=1) and names the fix where there is one. Offline: HF_HUB_OFFLINE=1
 * and an empty temporary HF cache, so nothing touches the network.
 */
import { runCli, type CliRun as Run } from '../helpers/cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-mistakes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Mistake {
  /** What the user typed after `tfjs-lens`. */
  readonly args: readonly string[];
  /** Expected exit code. */
  readonly code: 1 | 2;
  /** Expected error class in the line. */
  readonly error: string;
  /** What the line must say (the fix, the range, the nearest name). */
  readonly says: RegExp;
  readonly env?: Readonly<Record<string, string>>;
}

const MISTAKES: readonly Mistake[] = [
  { args: ['probe', '--epoch', '5'], code: 2, error: 'UsageError', says: /unknown option '--epoch'; did you mean '--epochs'\?/ },
  { args: ['dmeo'], code: 2, error: 'UsageError', says: /unknown command 'dmeo'; did you mean 'demo'\?/ },
  { args: ['probe', '--epochs', '-5'], code: 2, error: 'UsageError', says: /--epochs must be an integer ≥ 1, got '-5'/ },
  { args: ['sae', 'train', '--lr', '-1'], code: 2, error: 'UsageError', says: /--lr must be a number > 0, got '-1'/ },
  { args: ['circuit', 'eap', '--batch', '0'], code: 2, error: 'UsageError', says: /--batch must be an integer ≥ 1, got '0'/ },
  { args: ['demo', '--tokens', ''], code: 2, error: 'UsageError', says: /--tokens is empty; pass comma-separated token ids, e\.g\. --tokens 1,2,3/ },
  { args: ['demo', '--tokens', '1,,2'], code: 2, error: 'UsageError', says: /--tokens item 2 is empty in '1,,2'/ },
  { args: ['demo', '--tokens', '1,2,x'], code: 2, error: 'UsageError', says: /non-negative integer token ids, got 'x'/ },
  { args: ['demo', '--json', '--tokens', '1,2,99999'], code: 2, error: 'UsageError', says: /id 99999 is out of range; this model's token ids are in \[0, 2048\)/ },
  { args: ['demo', '--model', 'gpt3'], code: 1, error: 'NotFoundError', says: /unknown model 'gpt3'; did you mean 'gpt2'\?.*shipped \(offline\): .*llama-mini.*hub \(need the network once\)/ },
  { args: ['demo', '--model', 'induction-2L'], code: 1, error: 'NotFoundError', says: /did you mean 'induction-2l' \(names are case-sensitive\)\?/ },
  { args: ['demo', '--model', 'models/distilbert_mini'], code: 1, error: 'NotFoundError', says: /no model folder 'models\/distilbert_mini'.*never looked up on the hub.*did you mean 'models\/distilbert-mini'\?/ },
  { args: ['demo', '--model', './nonexistent'], code: 1, error: 'NotFoundError', says: /no model folder '\.\/nonexistent'.*the shipped models are/ },
  { args: ['hooks', '--model', 'gpt3'], code: 1, error: 'NotFoundError', says: /did you mean 'gpt2'\?/ },
  // --dataset liar is accepted: the run gets past the options and stops at the layer check.
  { args: ['probe', '--json', '--dataset', 'liar', '--layer', '99'], code: 1, error: 'ConfigError', says: /layer must be an integer in \[0, 2\), got 99/ },
  { args: ['probe', '--dataset', 'lair'], code: 2, error: 'UsageError', says: /--dataset must be one of sms_spam, imdb, ag_news, liar, all, got 'lair'; did you mean 'liar'\?/ },
  { args: ['probe', '--json', '--dataset', 'sms_spam', '--hook', 'resid_postt'], code: 1, error: 'ConfigError', says: /unknown hook 'resid_postt'; did you mean 'resid_post'\?/ },
  {
    args: ['sae', 'train', '--json', '--model', 'induction-2l', '--hook', 'blocks.0.hook_resid_prex', '--steps', '1', '--out', join(tmp, 'sae')],
    code: 1, error: 'HookNameError', says: /unknown hook name 'blocks\.0\.hook_resid_prex' \(nearest: blocks\.0\.hook_resid_pre/,
  },
  { args: ['probe', '--max-length', '0'], code: 2, error: 'UsageError', says: /--max-length must be an integer ≥ 3, got '0'/ },
  { args: ['probe', '--seed', 'abc'], code: 2, error: 'UsageError', says: /--seed must be an integer ≥ 0, got 'abc'/ },
  { args: ['probe', '--layer', '1.5'], code: 2, error: 'UsageError', says: /--layer must be an integer ≥ 0, got '1\.5'/ },
  { args: ['demo', '--model'], code: 2, error: 'UsageError', says: /option --model needs a value \(--model <value>\)/ },
  { args: ['demo', '--json=1'], code: 2, error: 'UsageError', says: /--json is a switch and takes no value/ },
  { args: ['demo', '--text', 'hi', '--tokens', '1'], code: 2, error: 'UsageError', says: /pass --text or --tokens, not both/ },
  { args: ['sae', 'trian'], code: 2, error: 'UsageError', says: /unknown subcommand 'trian'; did you mean 'train'\?/ },
  { args: ['sae', 'eval', '--steps', '5'], code: 2, error: 'UsageError', says: /--steps is an option of 'sae train'/ },
  { args: ['circuit', 'eapp'], code: 2, error: 'UsageError', says: /unknown method 'eapp'; did you mean 'eap'\?/ },
  { args: ['circuit', 'acdc', '--ablation', 'mena'], code: 2, error: 'UsageError', says: /--ablation must be one of .*got 'mena'; did you mean 'mean'\?/ },
  { args: ['circuit', 'prune', '--top-n', '3'], code: 2, error: 'UsageError', says: /--top-n is an option of 'circuit eap' only/ },
  { args: ['probe', 'sythetic'], code: 2, error: 'UsageError', says: /unknown subcommand 'sythetic'; did you mean 'synthetic'\?/ },
  { args: ['probe', 'synthetic', '--dataset', 'imdb'], code: 2, error: 'UsageError', says: /--dataset is an option of the text benchmark/ },
];

function cli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env, HF_HUB_OFFLINE: '1', HF_HOME: join(tmp, 'hf'), ...env };
  for (const k of ['HF_HUB_CACHE', 'HF_ENDPOINT', 'TFJS_LENS_BACKEND', 'TFJS_LENS_QUIET', ...('TFJS_LENS_DEBUG' in env ? [] : ['TFJS_LENS_DEBUG'])]) delete base[k];
  return runCli(args, base);
}

/** Run every case, four subprocesses at a time (each is mostly tsx start-up). */
async function runAll(cases: readonly Mistake[]): Promise<Run[]> {
  const out: Run[] = new Array<Run>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i] as Mistake;
      out[i] = await cli(c.args, c.env);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

let runs: Run[] = [];
let debugRun: Run;

beforeAll(async () => {
  [runs, [debugRun]] = await Promise.all([runAll(MISTAKES), runAll([{ args: ['demo', '--model', 'gpt3'], code: 1, error: '', says: /./, env: { TFJS_LENS_DEBUG: '1' } }]) as Promise<[Run]>]);
}, 240_000);

describe('user mistakes on the CLI: exit code, one line, the fix', () => {
  it('has at least 20 cases', () => {
    expect(MISTAKES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(MISTAKES.map((m, i) => [m.args.join(' ') || '(none)', i] as const))('tfjs-lens %s', (_label, i) => {
    const m = MISTAKES[i] as Mistake;
    const r = runs[i] as Run;
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^tfjs-lens: ${m.error}: `));
    expect(lines[0]).toMatch(m.says);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code, r.stderr).toBe(m.code);
  });

  it('TFJS_LENS_DEBUG=1 adds a short stack after the same line', () => {
    const lines = debugRun.stderr.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^tfjs-lens: NotFoundError: resolveAlias: unknown model 'gpt3'; did you mean 'gpt2'\?/);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.length).toBeLessThanOrEqual(9);
    expect(lines.slice(1).every((l) => /^\s+at /.test(l))).toBe(true);
    expect(debugRun.code).toBe(1);
  });
});
