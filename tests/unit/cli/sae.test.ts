/**
 * The `tfjs-lens sae` command: dataset specs (synthetic rows, token ranges, text windows with a
 * tokenizer, CSV/TSV columns) and a small end-to-end `sae train` + `sae eval` with `--json`.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { runSaeCommand } from '../../../src/cli/commands/sae.js';
import { datasetRows, type DatasetModel } from '../../../src/cli/commands/sae_dataset.js';
import type { Tokenizer } from '../../../src/tokenizers/tokenizer.js';

const tmp = mkdtempSync(join(tmpdir(), 'sae-cli-'));

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});
afterEach(() => vi.restoreAllMocks());

/** A character-level stand-in tokenizer: 'a' → 1, 'b' → 2, …; other characters → 0. */
const charTok = {
  encode: (t: string) => [...t].map((ch) => Math.max(0, ch.charCodeAt(0) - 96)),
} as unknown as Tokenizer;

describe('datasetRows', () => {
  const noTok: DatasetModel = { cfg: { dVocab: 50, nCtx: 32, bosTokenId: 49 }, tokenizer: undefined };
  it('synthetic rows: BOS first, repeated halves, optional token range', async () => {
    const rows = await datasetRows('repeated:3:10-20', noTok, { contextSize: 9, seed: 0 });
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r[0]).toBe(49);
      expect(r.slice(1, 5)).toEqual(r.slice(5, 9));
      expect(r.slice(1).every((t) => t >= 10 && t < 20)).toBe(true);
    }
    expect(await datasetRows('repeated:3:10-20', noTok, { contextSize: 9, seed: 0 })).toEqual(rows);
    await expect(datasetRows('random:2:40-60', noTok, { contextSize: 9, seed: 0 })).rejects.toThrow(ConfigError);
  });

  it('text files become BOS-joined context windows; text without a tokenizer is an error', async () => {
    const withTok: DatasetModel = { ...noTok, tokenizer: charTok };
    const csv = join(tmp, 'docs.csv');
    writeFileSync(csv, 'id,text\n1,"abc, de"\n2,fgh\n');
    const rows = await datasetRows(csv, withTok, { contextSize: 4, seed: 0 });
    expect(rows[0]).toEqual([49, 1, 2, 3]); // "abc" then ',' → 0
    const tsv = join(tmp, 'docs.tsv');
    writeFileSync(tsv, 'ham\tabcdef\nspam\tghi\n');
    expect(await datasetRows(tsv, withTok, { contextSize: 4, seed: 0 })).toEqual([[49, 1, 2, 3], [49, 4, 5, 6], [49, 49, 7, 8]]);
    await expect(datasetRows(tsv, noTok, { contextSize: 4, seed: 0 })).rejects.toThrow(/no tokenizer/);
  });
});

describe('tfjs-lens sae train / eval --json', () => {
  it('trains, saves SAELens files, evaluates and prints one JSON object each', async () => {
    const out = join(tmp, 'sae-out');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      lines.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const pages = join(tmp, 'sae-pages'); // --output-dir: nothing is written under the package's results/
    const common = ['--model', 'tests/fixtures/gpt2-tiny', '--hook', 'blocks.0.hook_resid_post', '--dataset', 'repeated:48', '--context-size', '32', '--json', '--output-dir', pages];
    expect(await runSaeCommand(['train', ...common, '--arch', 'standard', '--d-sae', '96', '--l1', '0.5', '--steps', '6', '--batch-size', '128', '--eval-rows', '8', '--out', out])).toBe(0);
    const train = JSON.parse(lines.join(''));
    expect(train).toMatchObject({ command: 'sae train', hook: 'blocks.0.hook_resid_post', d_in: 64, d_sae: 96, steps: 6, out });
    expect(train.eval.explainedVariance).toBeTypeOf('number');
    expect(train.eval.ceLossScore).toBeTypeOf('number');
    // One window of "dead" for the training log and the held-out evaluation: the scored held-out tokens (BOS left out).
    expect(train.eval.excludedTokenIds).toEqual([999]);
    expect(train.eval.deadWindowTokens).toBe(train.eval.nTokens);
    expect(train.eval.nTokens).toBeLessThanOrEqual(8 * 31);
    expect(train.eval.ceTokens).toBeLessThanOrEqual(8 * 30); // predictions from non-BOS positions
    expect(train.final_train.deadFeatures).toBeTypeOf('number');
    expect(train.files.metrics).toBe(join(pages, 'metrics.jsonl'));
    expect(existsSync(join(pages, 'training_curves.html'))).toBe(true);
    lines.length = 0;
    expect(await runSaeCommand(['eval', ...common, '--sae', out, '--batches', '2'])).toBe(0);
    const ev = JSON.parse(lines.join(''));
    expect(ev).toMatchObject({ command: 'sae eval', architecture: 'standard', d_sae: 96 });
    expect(ev.density_histogram.counts.reduce((a: number, c: number) => a + c, 0)).toBe(96);
  });
});
