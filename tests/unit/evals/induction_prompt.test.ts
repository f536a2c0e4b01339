/** Induction evals and testPrompt, on gpt2-tiny (token ids) and on a random GPT-2-vocabulary model (text). */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, TokenizerError } from '../../../src/errors.js';
import { inductionLoss, inductionScores, repeatedRandomTokens } from '../../../src/evals/induction.js';
import { testPrompt } from '../../../src/evals/test_prompt.js';
import { validateConfig } from '../../../src/model/config.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../../../src/model/random_init.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let model: HookedTransformer;
let textModel: HookedTransformer;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
  const cfg = validateConfig({
    modelType: 'gpt2', nLayers: 1, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 50257, nCtx: 32,
    actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 50256, eosTokenId: 50256,
  });
  textModel = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 3 }), await loadTokenizer(shippedTokenizerDir('gpt2')));
});
afterAll(() => {
  model?.dispose();
  textModel?.dispose();
});

describe('repeated random tokens and induction evals', () => {
  it('repeatedRandomTokens: seeded, repeated, in range, optional BOS overwrite', () => {
    const a = repeatedRandomTokens(3, 7, { low: 100, high: 200, seed: 4, bosOverwrite: 999 });
    expect(a).toEqual(repeatedRandomTokens(3, 7, { low: 100, high: 200, seed: 4, bosOverwrite: 999 }));
    for (const r of a) {
      expect(r.length).toBe(14);
      expect(r[0]).toBe(999);
      expect(r.slice(8)).toEqual(r.slice(1, 7));
      expect(r.slice(1).every((t) => t >= 100 && t < 200)).toBe(true);
    }
    expect(() => repeatedRandomTokens(1, 3, { low: 5, high: 5 })).toThrow(ConfigError);
  });

  it('inductionLoss: the mean per-token loss from subseqLen + 1 on (TL), BOS over position 0', () => {
    const before = tf.memory().numTensors;
    const loss = inductionLoss(model, { batchSize: 2, subseqLen: 20, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const rows = repeatedRandomTokens(2, 20, { low: 100, high: 1000, seed: 1, bosOverwrite: 999 });
    const per = model.loss(rows, { lossPerToken: true });
    const want = tf.tidy(() => tf.mean(tf.slice(per, [0, 21], [-1, -1])).dataSync()[0] as number);
    per.dispose();
    expect(loss).toBeCloseTo(want, 5);
    expect(Number.isFinite(loss) && loss > 0).toBe(true);
    expect(() => inductionLoss(model, { subseqLen: 65 })).toThrow(/2·seqLen <= n_ctx \(128\)/);
    expect(() => inductionLoss(model, { high: 5000 })).toThrow(ConfigError);
  });

  it('inductionScores: [n_layers][n_heads] means of the offset diagonal', () => {
    const before = tf.memory().numTensors;
    const { scores, tokens } = inductionScores(model, { batch: 3, seqLen: 10, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(tokens.length).toBe(3);
    expect(scores.length).toBe(2);
    expect(scores.every((r) => r.length === 4 && r.every((v) => v >= 0 && v <= 1))).toBe(true);
    const [, cache] = model.runWithCache(tokens, { returnType: 'none' });
    const p = cache.get('blocks.0.attn.hook_pattern').arraySync() as number[][][][];
    let sum = 0;
    for (let b = 0; b < 3; b++) for (let q = 9; q < 20; q++) sum += p[b]?.[1]?.[q]?.[q - 9] ?? 0;
    cache.dispose();
    expect(scores[0]?.[1]).toBeCloseTo(sum / 33, 5);
  });
});

describe('testPrompt', () => {
  it('token ids on a tokenizer-less model: rank, logit and prob match the logits; TL-style lines', () => {
    const lines: string[] = [];
    const prompt = [999, 10, 20, 30];
    const before = tf.memory().numTensors;
    const r = testPrompt(model, prompt, [40, 50], { print: (l) => lines.push(l), topK: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const logits = model.logits([[...prompt, 40, 50]]);
    const row = Array.from(tf.tidy(() => tf.slice(logits, [0, 3, 0], [1, 1, -1]).dataSync()));
    logits.dispose();
    const first = r.positions[0]?.answers[0];
    expect(first?.id).toBe(40);
    expect(first?.logit).toBeCloseTo(row[40] as number, 5);
    expect(first?.rank).toBe(row.filter((v) => v > (row[40] as number)).length);
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    expect(first?.prob).toBeCloseTo(Math.exp(row[40] as number) / z, 6);
    expect(r.positions[0]?.top.map((t) => t.rank)).toEqual([0, 1, 2]);
    expect(r.ranks).toEqual([['40', first?.rank], ['50', r.positions[1]?.answers[0]?.rank]]);
    expect(lines[0]).toBe('Tokenized prompt: ["999","10","20","30"]');
    expect(lines[2]).toBe('Performance on answer token:');
    expect(lines[3]).toMatch(/^Rank: \d+ +Logit: +-?\d+\.\d\d Prob: +\d+\.\d\d% Token: \|40\|$/);
    expect(lines[4]).toMatch(/^Top 0th token\. Logit:/);
    expect(lines.at(-1)).toMatch(/^Ranks of the answer tokens: \[\["40",\d+\],\["50",\d+\]\]$/);
    expect(() => testPrompt(model, 'text', 'x', { print: () => undefined })).toThrow(TokenizerError);
  });

  it('text on a GPT-2-vocabulary model: space prepended, BOS, several answers compare the next token', () => {
    const lines: string[] = [];
    const r = testPrompt(textModel, 'The Eiffel Tower is in', 'Paris', { print: (l) => lines.push(l) });
    expect(r.promptStrTokens[0]).toBe('<|endoftext|>');
    expect(r.answerStrTokens).toEqual([[' Paris']]);
    expect(lines[1]).toBe('Tokenized answer: [" Paris"]');
    expect(r.positions[0]?.top.length).toBe(10);
    const multi = testPrompt(textModel, 'The Eiffel Tower is in', ['Paris', ' London'], { printDetails: false, print: (l) => lines.push(l) });
    expect(multi.answerStrTokens).toEqual([[' Paris'], [' London']]);
    expect(multi.positions[0]?.answers.map((a) => a.token)).toEqual([' Paris', ' London']);
    expect(lines.at(-1)).toMatch(/^Ranks of the answer tokens: \[\[\[" Paris",\d+\],\[" London",\d+\]\]\]$/);
  });
});
