/** Head detector: hand-made patterns give the expected scores; on the fixture it scores [layer, head]. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import {
  detectHead,
  duplicateTokenPattern,
  headAttentionSimilarity,
  inductionPattern,
  previousTokenPattern,
} from '../../../src/evals/head_detector.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

describe('detection patterns (TL get_*_detection_pattern)', () => {
  it('previous, duplicate and induction patterns', () => {
    expect(previousTokenPattern(3)).toEqual([[0, 0, 0], [1, 0, 0], [0, 1, 0]]);
    const toks = [5, 6, 7, 5, 6, 7];
    const dup = duplicateTokenPattern(toks);
    expect(dup[3]).toEqual([1, 0, 0, 0, 0, 0]);
    expect(dup[5]).toEqual([0, 0, 1, 0, 0, 0]);
    expect(dup[0]).toEqual([0, 0, 0, 0, 0, 0]);
    const ind = inductionPattern(toks);
    expect(ind[3]).toEqual([0, 1, 0, 0, 0, 0]);
    expect(ind[4]).toEqual([0, 0, 1, 0, 0, 0]);
    expect(ind[5]).toEqual([0, 0, 0, 1, 0, 0]);
    expect(ind.slice(0, 3).flat().every((v) => v === 0)).toBe(true);
  });
});

describe('headAttentionSimilarity on hand-made patterns', () => {
  // Row 0 must attend to itself; every later row attends to the previous token.
  const prevHead = [[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  it('mul: fraction of attention on the pattern, with exclusions', () => {
    expect(headAttentionSimilarity(prevHead, previousTokenPattern(4))).toBeCloseTo(0.75, 12);
    expect(headAttentionSimilarity(prevHead, previousTokenPattern(4), { excludeCurrentToken: true })).toBeCloseTo(1, 12);
    // excludeBos drops column 0: rows 0 and 1 vanish, leaving 2 of 2 on the pattern.
    expect(headAttentionSimilarity(prevHead, previousTokenPattern(4), { excludeBos: true })).toBeCloseTo(1, 12);
    expect(headAttentionSimilarity([[1, 0], [0.5, 0.5]], previousTokenPattern(2))).toBeCloseTo(0.25, 12);
  });

  it('abs: 1 - round(mean |diff| · n, 3)', () => {
    expect(headAttentionSimilarity(prevHead, previousTokenPattern(4), { errorMeasure: 'abs' })).toBeCloseTo(0.75, 12);
    expect(headAttentionSimilarity([[1, 0], [0.5, 0.5]], previousTokenPattern(2), { errorMeasure: 'abs' })).toBeCloseTo(0, 12);
    const exact = [[0, 0], [1, 0]];
    expect(headAttentionSimilarity(exact, previousTokenPattern(2), { errorMeasure: 'abs' })).toBe(1);
    expect(headAttentionSimilarity([[1, 0], [0.3333, 0.6667]], previousTokenPattern(2), { errorMeasure: 'abs' })).toBeCloseTo(1 - 1.167, 12); // 2.3334 / 4 · 2 → 1.167
  });

  it('errors: size mismatch, attention above the diagonal with abs', () => {
    expect(() => headAttentionSimilarity([[1]], previousTokenPattern(2))).toThrow(ShapeError);
    expect(() => headAttentionSimilarity([[0.5, 0.5], [0, 1]], previousTokenPattern(2), { errorMeasure: 'abs' })).toThrow(/lower triangular/);
  });
});

describe('detectHead on gpt2-tiny', () => {
  const FIXTURE = fixtureDir('gpt2-tiny');
  let model: HookedTransformer;
  let rows: number[][];
  beforeAll(async () => {
    await initBackend(undefined, { quiet: true });
    rows = refRows(loadReference(FIXTURE), 'inputs/input_ids');
    model = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
  });
  afterAll(() => model?.dispose());

  it('returns [n_layers][n_heads] scores that match a direct computation from the pattern', () => {
    const row = rows[0] as number[];
    const before = tf.memory().numTensors;
    const scores = detectHead(model, row, 'previous_token_head');
    expect(tf.memory().numTensors).toBe(before);
    expect(scores.length).toBe(2);
    expect(scores.every((r) => r.length === 4 && r.every((v) => v >= 0 && v <= 1))).toBe(true);
    const [out, cache] = model.runWithCache([row], { returnType: 'none' });
    expect(out).toBeUndefined();
    const pattern = (cache.get('blocks.1.attn.hook_pattern').arraySync() as number[][][][])[0]?.[2] as number[][];
    let hit = 0;
    for (let i = 1; i < row.length; i++) hit += pattern[i]?.[i - 1] ?? 0;
    expect(scores[1]?.[2]).toBeCloseTo(hit / row.length, 5);
    expect(detectHead(model, row, previousTokenPattern(row.length))).toEqual(scores);
    expect(detectHead(model, row, 'previous_token_head', { cache })).toEqual(scores);
    cache.dispose();
  });

  it('induction and duplicate patterns, head subsets, several sequences averaged', () => {
    const rep = [...(rows[0] as number[]).slice(0, 6), ...(rows[0] as number[]).slice(0, 6)];
    const ind = detectHead(model, rep, 'induction_head', { heads: [[0, 1], [1, 3]] });
    expect(ind[0]?.[0]).toBe(-1);
    expect(ind[1]?.[3]).toBeGreaterThanOrEqual(0);
    const byLayer = detectHead(model, rep, 'duplicate_token_head', { heads: { 1: [0, 1] }, errorMeasure: 'abs', excludeBos: true });
    expect(byLayer[0]).toEqual([-1, -1, -1, -1]);
    const both = detectHead(model, rows, 'previous_token_head');
    const a = detectHead(model, rows[0] as number[], 'previous_token_head');
    const b = detectHead(model, rows[1] as number[], 'previous_token_head');
    both.forEach((r, l) => r.forEach((v, h) => expect(v).toBeCloseTo(((a[l]?.[h] ?? 0) + (b[l]?.[h] ?? 0)) / 2, 6)));
  });

  it('errors: bad names, patterns, heads, lengths and caches', () => {
    const row = rows[0] as number[];
    expect(() => detectHead(model, row, 'nope' as 'induction_head')).toThrow(ConfigError);
    expect(() => detectHead(model, row, previousTokenPattern(5))).toThrow(/lower-triangular \[12, 12\]/);
    const upper = previousTokenPattern(12).map((r, i) => r.map((v, j) => (j === i + 1 ? 1 : v)));
    expect(() => detectHead(model, row, upper)).toThrow(ShapeError);
    expect(() => detectHead(model, row, 'previous_token_head', { heads: [[2, 0]] })).toThrow(/no head L2H0/);
    expect(() => detectHead(model, [5], 'previous_token_head')).toThrow(/2 to n_ctx/);
    expect(() => detectHead(model, 'text', 'previous_token_head')).toThrow(/no tokenizer/);
    const [, cache] = model.runWithCache(rows, { returnType: 'none' });
    expect(() => detectHead(model, row, 'previous_token_head', { cache })).toThrow(/this one sequence/);
    expect(() => detectHead(model, rows, 'previous_token_head', { cache })).toThrow(/one sequence/);
    cache.dispose();
  });
});
