/**
 * Masked-LM data: masking statistics (15% chosen; 80/10/10), specials and padding never chosen,
 * reproducibility; packing into [CLS] … [SEP] rows; unigram baselines.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { maskTokens, packTokenSequences, targetTokenCounts, unigramBaselines, type MaskingTokenizer } from '../../../src/train/mlm_data.js';
import { seededRng } from '../../../src/utils/rng.js';

/** The distilbert-base-uncased special ids. */
const TOK: MaskingTokenizer = {
  padTokenId: 0, unkTokenId: 100, clsTokenId: 101, sepTokenId: 102, maskTokenId: 103,
  bosTokenId: undefined, eosTokenId: undefined, vocabSize: 30522,
};

/** 400 rows of 64: [CLS] random ids [SEP], the last 8 positions of odd rows padded. */
function batch(): { ids: number[][]; mask: number[][] } {
  const rand = seededRng(42);
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (let b = 0; b < 400; b++) {
    const row = [101, ...Array.from({ length: 62 }, () => 1000 + Math.floor(rand() * 29000)), 102];
    const m = row.map((_, p) => (b % 2 === 1 && p >= 56 ? 0 : 1));
    ids.push(b % 2 === 1 ? row.map((t, p) => (p >= 56 ? 0 : t)) : row);
    mask.push(m);
  }
  return { ids, mask };
}

describe('maskTokens', () => {
  it('chooses ~15% of eligible tokens, corrupts them 80/10/10, never specials or padding', () => {
    const { ids, mask } = batch();
    const snapshot = JSON.stringify(ids);
    const mb = maskTokens(seededRng(1), ids, mask, TOK);
    expect(JSON.stringify(ids)).toBe(snapshot); // input untouched
    const eligible = ids.flatMap((r, b) => r.filter((t, p) => mask[b]?.[p] === 1 && t !== 101 && t !== 102)).length;
    const n = mb.positions.length;
    expect(n / eligible).toBeGreaterThan(0.14);
    expect(n / eligible).toBeLessThan(0.16);
    let masked = 0;
    let kept = 0;
    mb.positions.forEach(([b, p], i) => {
      const orig = ids[b]?.[p] as number;
      expect(mb.labels[i]).toBe(orig);
      expect(mask[b]?.[p]).toBe(1);
      expect([0, 101, 102]).not.toContain(orig);
      const now = mb.inputIds[b]?.[p];
      if (now === 103) masked++;
      else if (now === orig) kept++;
    });
    const random = n - masked - kept;
    expect(masked / n).toBeGreaterThan(0.77);
    expect(masked / n).toBeLessThan(0.83);
    expect(random / n).toBeGreaterThan(0.08);
    expect(random / n).toBeLessThan(0.12);
    expect(kept / n).toBeGreaterThan(0.08);
    expect(kept / n).toBeLessThan(0.12);
    // Positions not chosen are unchanged.
    const chosen = new Set(mb.positions.map(([b, p]) => `${b},${p}`));
    ids.forEach((r, b) => r.forEach((t, p) => { if (!chosen.has(`${b},${p}`)) expect(mb.inputIds[b]?.[p]).toBe(t); }));
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const { ids } = batch();
    const a = maskTokens(seededRng(7), ids, undefined, TOK);
    expect(maskTokens(seededRng(7), ids, undefined, TOK)).toEqual(a);
    expect(maskTokens(seededRng(8), ids, undefined, TOK).positions).not.toEqual(a.positions);
    expect(a.attentionMask).toBeUndefined();
  });

  it('chooses at least one token when the draw chose none (unless disabled)', () => {
    const ids = [[101, 5000, 6000, 102]];
    const one = maskTokens(seededRng(0), ids, undefined, TOK, { prob: 0 });
    expect(one.positions.length).toBe(1);
    expect([5000, 6000]).toContain(one.labels[0]);
    expect(maskTokens(seededRng(0), ids, undefined, TOK, { prob: 0, atLeastOne: false }).positions).toEqual([]);
  });

  it('rejects a tokenizer without [MASK], bad fractions and a mismatched mask', () => {
    expect(() => maskTokens(seededRng(0), [[1]], undefined, { ...TOK, maskTokenId: undefined })).toThrow(ConfigError);
    expect(() => maskTokens(seededRng(0), [[1]], undefined, TOK, { maskFraction: 0.95, randomFraction: 0.1 })).toThrow(/maskFraction/);
    expect(() => maskTokens(seededRng(0), [[1, 2]], [[1]], TOK)).toThrow(/mask shape/);
  });
});

describe('packing and baselines', () => {
  it('packTokenSequences: [SEP]-joined stream cut into [CLS] piece [SEP] rows, tail dropped', () => {
    const rows = packTokenSequences([[1, 2, 3], [4, 5], [6]], 5, TOK);
    // stream: 1 2 3 SEP 4 5 SEP 6 SEP → pieces of 3
    expect(rows).toEqual([[101, 1, 2, 3, 102], [101, 102, 4, 5, 102], [101, 102, 6, 102, 102]]);
    expect(packTokenSequences([[1]], 5, TOK)).toEqual([]); // stream 1 SEP: shorter than one piece
    expect(() => packTokenSequences([[1]], 2, TOK)).toThrow(ConfigError);
  });

  it('targetTokenCounts skips specials; unigramBaselines scores the most frequent token and the sampling expectation', () => {
    const small: MaskingTokenizer = { ...TOK, vocabSize: 200 };
    const counts = targetTokenCounts([[101, 7, 7, 7, 9, 102], [101, 9, 150, 0]], small);
    expect(counts[7]).toBe(3);
    expect(counts[9]).toBe(2);
    expect(counts[101]).toBe(0);
    const base = unigramBaselines(counts, [7, 9, 150, 42]);
    expect(base.mostFrequentId).toBe(7);
    expect(base.mostFrequentAccuracy).toBeCloseTo(0.25, 10);
    expect(base.samplingAccuracy).toBeCloseTo((3 / 6 + 2 / 6 + 1 / 6 + 0) / 4, 10);
    const p = (c: number) => (c + 1) / (6 + 200);
    expect(base.unigramLoss).toBeCloseTo(-(Math.log(p(3)) + Math.log(p(2)) + Math.log(p(1)) + Math.log(p(0))) / 4, 10);
    expect(() => targetTokenCounts([[500]], small)).toThrow(/outside/);
    expect(() => unigramBaselines(counts, [])).toThrow(ConfigError);
  });
});
