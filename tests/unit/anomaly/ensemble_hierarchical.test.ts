import { describe, expect, it } from 'vitest';
import { cascadeSavings, fitCascadeBand, runCascade } from '../../../src/anomaly/hierarchical.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';

describe('fitCascadeBand', () => {
  // sorted by score: labels 0 0 0 0 1 | 0 1 0 1 | 1 1 1
  const scores = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const labels: (0 | 1)[] = [0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1];
  it('cuts at the longest pure-enough runs on validation', () => {
    const b = fitCascadeBand(scores, labels, { targetPrecision: 1, targetNpv: 1 });
    // top run with precision 1: 12, 11, 10, 9 → upper between 8 and 9; bottom run all normal: 1..4 → lower between 4 and 5
    expect(b.upper).toBe(8.5);
    expect(b.lower).toBe(4.5);
    expect(b.valPrecision).toBe(1);
    expect(b.valNpv).toBe(1);
    expect(b.valEscalated).toBeCloseTo(4 / 12, 12);
    // a looser precision target widens stage 1: prefix of 6 (12..7) has 5/6 ≥ 0.8; of 7 (…6) 5/7 < 0.8
    expect(fitCascadeBand(scores, labels, { targetPrecision: 0.8, targetNpv: 1 }).upper).toBe(6.5);
  });
  it('rejects bad targets and lengths', () => {
    expect(() => fitCascadeBand(scores, labels, { targetPrecision: 0 })).toThrow(ConfigError);
    expect(() => fitCascadeBand([1], labels)).toThrow(ShapeError);
  });
});

describe('runCascade', () => {
  it('sends exactly the band to stage 2 and counts fractions right', async () => {
    const inputs = [0.1, 0.45, 0.5, 0.9, 0.3, 0.7, 0.2, 0.95];
    const band = { lower: 0.3, upper: 0.8, valPrecision: 1, valNpv: 1, valEscalated: 0 };
    const seen: number[][] = [];
    let cheapCalls = 0;
    const r = await runCascade(inputs, (xs) => {
      cheapCalls++;
      return xs.map((x) => x);
    }, (xs) => {
      seen.push([...xs]);
      return xs.map((x) => (x > 0.6 ? 1 : 0));
    }, band, 0.5);
    expect(cheapCalls).toBe(1);
    // band (0.3, 0.8]: 0.45, 0.5, 0.7 (0.3 is ≤ lower: stage 1)
    expect(seen).toEqual([[0.45, 0.5, 0.7]]);
    expect(r.escalated).toEqual([1, 2, 5]);
    expect(r.stage).toEqual([1, 2, 2, 1, 1, 2, 1, 1]);
    expect(r.fractions.stage2).toBeCloseTo(3 / 8, 12);
    expect(r.fractions.stage1).toBeCloseTo(5 / 8, 12);
    expect(r.predictions).toEqual([0, 0, 0, 1, 0, 1, 0, 1]);
    expect(r.seconds.total).toBeCloseTo(r.seconds.stage1 + r.seconds.stage2, 12);
    const sv = cascadeSavings(r, r.seconds.total * 4);
    expect(sv.speedup).toBeCloseTo(4, 6);
    expect(sv.savedFraction).toBeCloseTo(0.75, 6);
  });
  it('never calls the expensive detector with an empty band', async () => {
    let calls = 0;
    const r = await runCascade([1, 2], (xs) => xs, () => {
      calls++;
      return [];
    }, { lower: 1.5, upper: 1.5, valPrecision: 1, valNpv: 1, valEscalated: 0 }, 0);
    expect(calls).toBe(0);
    expect(r.predictions).toEqual([0, 1]);
    expect(r.fractions).toEqual({ stage1: 1, stage2: 0 });
  });
  it('checks the detectors’ output lengths', async () => {
    await expect(runCascade([1, 2], () => [1], () => [], { lower: 0, upper: 5, valPrecision: 1, valNpv: 1, valEscalated: 0 }, 0)).rejects.toThrow(ShapeError);
    await expect(runCascade([1, 2], (x) => x, () => [1], { lower: 0, upper: 5, valPrecision: 1, valNpv: 1, valEscalated: 0 }, 0)).rejects.toThrow(/2 escalated/);
  });
});

describe('fitBowLogistic (cheap stage)', () => {
  it('learns a planted spam word and is deterministic per seed', async () => {
    const { fitBowLogistic } = await import('../../../src/anomaly/hierarchical_cheap.js');
    const normal = Array.from({ length: 40 }, (_, i) => `see you at ${i} tonight`);
    const spam = Array.from({ length: 10 }, (_, i) => `claim your prize ${i} now`);
    const texts = [...normal, ...spam];
    const labels = texts.map((_, i): 0 | 1 => (i >= 40 ? 1 : 0));
    const a = fitBowLogistic(texts, labels, { seed: 3, bits: 12 });
    const [p, q] = a.score(['you won a prize', 'see you tonight']);
    expect(p as number).toBeGreaterThan(q as number);
    expect(fitBowLogistic(texts, labels, { seed: 3, bits: 12 }).score(['prize'])).toEqual(a.score(['prize']));
    expect(() => fitBowLogistic(texts, labels.map(() => 0))).toThrow(/both classes/);
  });
});
