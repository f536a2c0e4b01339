/** Model-level tokenisation helpers with TransformerLens semantics, on a GPT-2-vocabulary model. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../../src/errors.js';
import type { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { tinyGpt2VocabModel } from '../../helpers/tiny_gpt2_vocab.js';

let m: HookedTransformer;
beforeAll(async () => {
  m = await tinyGpt2VocabModel();
});
afterAll(() => m?.dispose());

describe('token helpers', () => {
  it('toTokens prepends BOS by default, pads right, truncates to n_ctx', () => {
    const t = m.toTokens('Hello world');
    expect(t.arraySync()).toEqual([[50256, 15496, 995]]);
    const nb = m.toTokens('Hello world', { prependBos: false });
    expect(nb.arraySync()).toEqual([[15496, 995]]);
    const batch = m.toTokens(['Hello world', 'Hi'], { paddingSide: 'left' });
    expect(batch.arraySync()).toEqual([[50256, 15496, 995], [50256, 50256, 17250]]);
    const long = m.toTokens('word '.repeat(100));
    expect(long.shape).toEqual([1, 32]);
    for (const x of [t, nb, batch, long]) x.dispose();
  });

  it('toStrTokens, toString, toSingleToken, getTokenPosition', () => {
    expect(m.toStrTokens('Hello world')).toEqual(['<|endoftext|>', 'Hello', ' world']);
    expect(m.toStrTokens([15496, 995])).toEqual(['Hello', ' world']);
    expect(m.toString([15496, 995])).toBe('Hello world');
    expect(m.toString([[15496, 995], [17250, 995]])).toEqual(['Hello world', 'Hi world']);
    expect(m.toString(15496)).toBe('Hello'); // TL to_string(int): one token
    const zeroD = tf.scalar(995, 'int32');
    expect(m.toString(zeroD)).toBe(' world');
    zeroD.dispose();
    expect(m.toSingleToken(' world')).toBe(995);
    expect(() => m.toSingleToken('Hello world')).toThrow(TokenizerError);
    expect(m.getTokenPosition(' world', 'Hello world world')).toBe(2);
    expect(m.getTokenPosition(' world', 'Hello world world', { mode: 'last' })).toBe(3);
    expect(() => m.getTokenPosition(' cat', 'Hello world')).toThrow(/not in the input/);
  });

  it('string forward equals token forward; TL weight properties have TL shapes', () => {
    const a = m.logits('Hello world');
    const t = m.toTokens('Hello world');
    const b = m.logits(t);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(m.W_Q.shape).toEqual([1, 2, 16, 8]);
    expect(m.W_O.shape).toEqual([1, 2, 8, 16]);
    expect(m.b_Q.shape).toEqual([1, 2, 8]);
    expect(m.W_in.shape).toEqual([1, 16, 32]);
    expect(m.W_U.shape).toEqual([16, 50257]);
    for (const x of [a, b, t]) x.dispose();
  });
});
