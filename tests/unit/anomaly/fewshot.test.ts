/**
 * Few-shot detection (issue 21, item 2): the similarity-weighted kNN vote against a hand computation
 * on planted features; the prompt builder (query kept, least similar examples dropped to fit n_ctx,
 * typed error when the query alone does not fit); label log-probabilities against a hand
 * log-softmax of the model's logits on a tiny random model; fitFewShot end to end without leaks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DatasetError } from '../../../src/errors.js';
import type { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { extractPooledFeatures } from '../../../src/probe/features.js';
import { cosineSimilarities, knnScores, knnVote } from '../../../src/anomaly/fewshot_knn.js';
import { buildFewShotPrompt, labelLogProbs, labelSoftmax, labelTokenIds, promptText, type FewShotExample } from '../../../src/anomaly/fewshot_prompt.js';
import { defaultFewShotHook, drawFewShot, fitFewShot } from '../../../src/anomaly/fewshot.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { tinyGpt2VocabModel } from '../../helpers/tiny_gpt2_vocab.js';

const m = (rows: number[][]): { rows: number; cols: number; data: Float32Array } => ({ rows: rows.length, cols: rows[0]?.length ?? 0, data: Float32Array.from(rows.flat()) });

describe('kNN vote', () => {
  it('is the softmax(cos/τ)-weighted share of anomalous neighbours (no centring)', () => {
    const support = m([[1, 0], [0, 1], [1, 1]]);
    const labels = [0, 1, 1];
    const q = m([[2, 1]]);
    // Hand: cos(q, s) = q·s / (|q||s|).
    const nq = Math.sqrt(5);
    const cos = [2 / nq, 1 / nq, 3 / (nq * Math.sqrt(2))];
    const tau = 0.5;
    const w = cos.map((c) => Math.exp(c / tau)) as [number, number, number];
    const expected = (w[1] + w[2]) / (w[0] + w[1] + w[2]);
    const sims = cosineSimilarities(q, support, false)[0] as number[];
    sims.forEach((s, i) => expect(s).toBeCloseTo(cos[i] as number, 6));
    expect(knnScores(q, support, labels, { temperature: tau, center: false })[0]).toBeCloseTo(expected, 6);
    // Two neighbours: the least similar (row 1) does not vote.
    const w2 = w[2] / (w[0] + w[2]);
    expect(knnVote(sims, labels, { temperature: tau, neighbours: 2 })).toBeCloseTo(w2, 6);
  });

  it('centres on the support mean before the cosine', () => {
    const support = m([[1, 2], [3, 2], [2, 5]]);
    const mu = [2, 3];
    const q = [4, 1];
    const c = (a: number[], b: number[]): number => {
      const x = a.map((v, i) => v - (mu[i] as number));
      const y = b.map((v, i) => v - (mu[i] as number));
      return (x[0]! * y[0]! + x[1]! * y[1]!) / (Math.hypot(x[0]!, x[1]!) * Math.hypot(y[0]!, y[1]!));
    };
    const got = cosineSimilarities(m([q]), support)[0] as number[];
    [[1, 2], [3, 2], [2, 5]].forEach((s, i) => expect(got[i]).toBeCloseTo(c(q, s), 6));
  });

  it('rejects a bad temperature and mismatched widths', () => {
    expect(() => knnVote([0.1], [1], { temperature: 0 })).toThrow(ConfigError);
    expect(() => cosineSimilarities(m([[1, 2, 3]]), m([[1, 2]]))).toThrow(/features/);
  });
});

describe('prompt builder', () => {
  const encode = (t: string): number[] => [...t].map((ch) => ch.charCodeAt(0) % 50); // one token per character
  const ex: FewShotExample[] = [{ text: 'most similar', label: 1 }, { text: 'second', label: 0 }, { text: 'least similar one', label: 0 }];
  const words = ['ham', 'spam'] as const;

  it('writes examples least similar first and ends with the query and the label prefix', () => {
    const t = promptText('q?', [ex[1] as FewShotExample, ex[0] as FewShotExample], words);
    expect(t).toBe('Message: second\nLabel: ham\n\nMessage: most similar\nLabel: spam\n\nMessage: q?\nLabel:');
  });

  it('keeps the query and drops the least similar examples until it fits n_ctx', () => {
    const full = promptText('the query', [...ex].reverse(), words).length;
    const two = promptText('the query', [ex[1] as FewShotExample, ex[0] as FewShotExample], words).length;
    const budget = { nCtx: two + 1 + 2, bos: 7, labelTokens: 2 }; // fits two examples, not three
    expect(full + 3).toBeGreaterThan(budget.nCtx);
    const b = buildFewShotPrompt(encode, 'the query', ex, words, budget);
    expect(b.shots).toBe(2);
    expect(b.text.endsWith('Message: the query\nLabel:')).toBe(true);
    expect(b.text).not.toContain('least similar one');
    expect(b.ids[0]).toBe(7);
    expect(b.ids.length + budget.labelTokens).toBeLessThanOrEqual(budget.nCtx);
  });

  it('throws a ConfigError when the query alone does not fit', () => {
    const q = 'x'.repeat(40);
    expect(() => buildFewShotPrompt(encode, q, ex, words, { nCtx: 30, bos: undefined, labelTokens: 1 })).toThrow(ConfigError);
    expect(() => buildFewShotPrompt(encode, q, ex, words, { nCtx: 30, bos: undefined, labelTokens: 1 })).toThrow(/query alone/);
  });
});

describe('prompt scoring on a tiny random model', () => {
  let model: HookedTransformer;
  beforeAll(async () => {
    model = await tinyGpt2VocabModel();
  });

  it('label log-probs equal a hand log-softmax of the logits, summed over label tokens', () => {
    const tok = model.tokenizer;
    if (tok === undefined) throw new Error('no tokenizer');
    const encode = (t: string): number[] => tok.encode(t);
    const labels = labelTokenIds(encode, ['normal', 'anomalous!']); // a multi-token label too
    const prompts = [[50256, ...encode('Message: hi\nLabel:')], [50256, ...encode('Message: free prize\nLabel:')]];
    const got = expectNoLeak(() => labelLogProbs(model, prompts, labels, 3));
    prompts.forEach((p, q) => labels.forEach((lab, l) => {
      const row = [...p, ...lab];
      const logits = model.logits([row]);
      const a = (logits.arraySync() as number[][][])[0] as number[][];
      logits.dispose();
      let hand = 0;
      lab.forEach((t, j) => {
        const z = a[p.length + j - 1] as number[];
        const mx = Math.max(...z);
        const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
        hand += (z[t] as number) - lse;
      });
      expect((got[q] as number[])[l]).toBeCloseTo(hand, 4);
    }));
    expect(labelSoftmax([Math.log(0.2), Math.log(0.6)])).toBeCloseTo(0.75, 6);
  });

  it('fitFewShot: prompt scores are softmax over label log-probs; kNN scores match knnScores; no leak', () => {
    const examples: FewShotExample[] = [
      { text: 'see you at lunch', label: 0 }, { text: 'call me later please', label: 0 },
      { text: 'WIN a free prize now', label: 1 }, { text: 'claim your cash reward', label: 1 },
    ];
    const queries = ['are we still on for lunch', 'free cash prize'];
    const det = expectNoLeak(() => fitFewShot(model, examples, { method: 'prompt', labelWords: ['ham', 'spam'] }));
    const d = expectNoLeak(() => det.scoreDetailed(queries));
    d.forEach((s) => {
      expect(s.score).toBeCloseTo(labelSoftmax(s.labelLogProbs as readonly number[]), 9);
      expect(s.shots).toBeGreaterThanOrEqual(0);
      expect(s.shots).toBeLessThanOrEqual(4);
    });
    expect(det.supportScores).toHaveLength(4);
    const knn = expectNoLeak(() => fitFewShot(model, examples, { method: 'knn', temperature: 0.2 }));
    const hook = defaultFewShotHook(model);
    const sup = extractPooledFeatures(model, examples.map((e) => e.text), { hookName: hook });
    const qf = extractPooledFeatures(model, queries, { hookName: hook });
    const want = knnScores(qf, sup, examples.map((e) => e.label), { temperature: 0.2 });
    knn.score(queries).forEach((s, i) => expect(s).toBeCloseTo(want[i] as number, 6));
    expect(knn.predict(queries).every((p) => p === 0 || p === 1)).toBe(true);
    const thr = fitFewShot(model, examples, { method: 'knn', threshold: 'support' }).threshold;
    expect(Number.isFinite(thr)).toBe(true);
  });

  it('exampleMaxTokens cuts the labelled examples (never the query) so that more fit n_ctx 32', () => {
    const long = 'this is a rather long message about many things that goes on and on and on, never ending at all';
    const examples: FewShotExample[] = [{ text: `${long} one`, label: 0 }, { text: `${long} two`, label: 1 }, { text: `${long} three`, label: 0 }];
    const plain = fitFewShot(model, examples, { method: 'prompt' }).scoreDetailed(['hello there'])[0];
    const cut = fitFewShot(model, examples, { method: 'prompt', exampleMaxTokens: 2 }).scoreDetailed(['hello there'])[0];
    expect(plain?.shots).toBe(0);
    expect(cut?.shots).toBeGreaterThan(1);
    expect(() => fitFewShot(model, examples, { method: 'prompt' }).score(['word '.repeat(40)])).toThrow(/query alone/);
  });

  it('rejects one-class examples and an unknown method', () => {
    expect(() => fitFewShot(model, [{ text: 'a', label: 0 }, { text: 'b', label: 0 }], { method: 'knn' })).toThrow(DatasetError);
    expect(() => fitFewShot(model, [{ text: 'a', label: 0 }, { text: 'b', label: 1 }], { method: 'nope' as 'knn' })).toThrow(/unknown method/);
  });
});

describe('drawFewShot', () => {
  it('draws k per class, deterministic per seed', () => {
    const rows: FewShotExample[] = Array.from({ length: 30 }, (_, i) => ({ text: `t${i}`, label: i % 3 === 0 ? 1 : 0 }));
    const a = drawFewShot(rows, 4, 0);
    expect(a.examples.filter((e) => e.label === 1)).toHaveLength(4);
    expect(a.examples.filter((e) => e.label === 0)).toHaveLength(4);
    expect(drawFewShot(rows, 4, 0).indices).toEqual(a.indices);
    expect(drawFewShot(rows, 4, 1).indices).not.toEqual(a.indices);
    expect(() => drawFewShot(rows, 11, 0)).toThrow(DatasetError);
  });
});
