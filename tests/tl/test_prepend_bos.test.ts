/**
 * Port of TransformerLens v2.18.0 tests/integration/test_prepend_bos.py (5 test functions; all
 * ported, test_override_prepend_bos for both of its parameters) on a random-init model with GPT-2's
 * real tokenizer (tests/helpers/tiny_gpt2_vocab.ts) instead of pretrained gpt2.
 * Adaptations:
 * - TL parametrises over "gpt2" and "facebook/opt-125m"; the OPT tokenizer is not in the repo, so
 *   only the GPT-2 case runs.
 * - test_default_prepend_bos_to_false: `fromPretrained(…, { defaultPrependBos: false })` is checked on
 *   the gpt2-tiny fixture (vocabulary 1000, too small for GPT-2's ids, so loaded without tokenizer);
 *   the tokenisation and logits checks run on the random model with `model.defaultPrependBos = false`,
 *   the same state (TL's from_pretrained does nothing else with the flag).
 * - Expected lengths are recomputed as TL does: the tokenizer without BOS (`encode` adds no special
 *   token, as HF's GPT-2 tokenizer with add_bos_token=False) plus one when BOS is intended.
 * Extra: TL's `to_tokens('', prepend_bos=False)` gives an empty [1, 0] tensor (the bug fixed here),
 * and the model then refuses that row with a ShapeError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, TokenizerError } from '../../src/errors.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { expectNoLeak } from '../helpers/memory.js';
import { tinyGpt2VocabModel } from '../helpers/tiny_gpt2_vocab.js';

const PROMPT = 'Hello world!';
let model: HookedTransformer;
let tok: Tokenizer;

beforeAll(async () => {
  model = await tinyGpt2VocabModel();
  tok = model.tokenizer as Tokenizer;
});
afterAll(() => model.dispose());

const numTokensInPrompt = (prompt: string, intended: boolean): number => tok.encode(prompt).length + (intended ? 1 : 0);

function checkFirstToken(strTokens: string[], tokens: tf.Tensor2D, intended: boolean): void {
  const first = (tokens.arraySync()[0] ?? [])[0];
  const bosText = tok.decodeToken(tok.bosTokenId as number);
  if (intended) {
    expect(strTokens[0]).toBe(bosText);
    expect(first).toBe(tok.bosTokenId);
  } else {
    expect(strTokens[0]).not.toBe(bosText);
    expect(first).not.toBe(tok.bosTokenId);
  }
}

function checkTokensLength(logits: tf.Tensor3D, strTokens: string[], tokens: tf.Tensor2D, intended: boolean): void {
  const expected = numTokensInPrompt(PROMPT, intended);
  expect(logits.shape[1]).toBe(expected);
  expect(strTokens.length).toBe(expected);
  expect(tokens.shape[1]).toBe(expected);
}

function runAll(opts: { prependBos?: boolean }, intended: boolean): void {
  const logits = model.forward(PROMPT, opts);
  const strTokens = model.toStrTokens(PROMPT, opts);
  const tokens = model.toTokens(PROMPT, opts);
  checkFirstToken(strTokens, tokens, intended);
  checkTokensLength(logits, strTokens, tokens, intended);
  tf.dispose([logits, tokens]);
}

describe('TestPrependBos (gpt2 tokenizer)', () => {
  it('test_default_prepend_bos', () => {
    model.defaultPrependBos = true; // a fresh model's default
    expect(model.defaultPrependBos).toBe(true);
    expect(model.cfg.defaultPrependBos ?? true).toBe(true);
    runAll({}, true);
    expect(model.getTokenPosition(tok.bosTokenId as number, PROMPT)).toBe(0);
  });

  it('test_default_prepend_bos_to_false', async () => {
    const loaded = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { defaultPrependBos: false, tokenizer: null });
    expect(loaded.defaultPrependBos).toBe(false);
    expect(loaded.cfg.defaultPrependBos).toBe(false);
    loaded.dispose();
    const other = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { tokenizer: null });
    expect(other.defaultPrependBos).toBe(true);
    other.dispose();
    await expect(HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { defaultPaddingSide: 'middle' as 'left' })).rejects.toThrow(ConfigError);
    model.defaultPrependBos = false;
    try {
      runAll({}, false);
    } finally {
      model.defaultPrependBos = true;
    }
  });

  for (const intended of [true, false]) {
    it(`test_override_prepend_bos[${intended}]`, () => {
      try {
        for (const def of [true, false]) {
          model.defaultPrependBos = def;
          runAll({ prependBos: intended }, intended);
        }
      } finally {
        model.defaultPrependBos = true;
      }
    });
  }

  it('test_prepend_bos_with_get_token_position', () => {
    const bos = tok.bosTokenId as number;
    expect(model.getTokenPosition(bos, PROMPT)).toBe(0);
    expect(() => model.getTokenPosition(bos, PROMPT, { prependBos: false })).toThrow(TokenizerError);
    model.defaultPrependBos = false;
    try {
      expect(() => model.getTokenPosition(bos, PROMPT)).toThrow(TokenizerError);
      expect(model.getTokenPosition(bos, PROMPT, { prependBos: true })).toBe(0);
    } finally {
      model.defaultPrependBos = true;
    }
  });

  it('test_same_tokenization', () => {
    const prompts = ['Italy is in Europe.', 'Pyeongchang Olympics was held in 2018', '2023-09-09', '287594812673495'];
    model.defaultPaddingSide = 'right';
    for (const input of [PROMPT, prompts]) {
      const withBos = model.toTokens(input, { prependBos: true });
      const withoutBos = model.toTokens(input, { prependBos: false });
      const sliced = tf.slice(withBos, [0, 1], [-1, -1]); // tokens_with_bos[..., 1:]
      expect(sliced.arraySync()).toEqual(withoutBos.arraySync());
      tf.dispose([withBos, withoutBos, sliced]);
      if (typeof input === 'string') {
        expect(model.toStrTokens(input, { prependBos: true }).slice(1)).toEqual(model.toStrTokens(input, { prependBos: false }));
      } else {
        const a = model.toStrTokens(input, { prependBos: true });
        const b = model.toStrTokens(input, { prependBos: false });
        expect(a.length).toBe(input.length);
        for (let i = 0; i < a.length; i++) expect(a[i]?.slice(1)).toEqual(b[i]);
      }
    }
  });
});

describe('defaults and the empty-text bug', () => {
  it("toTokens('', { prependBos: false }) is an empty [1, 0] tensor, as TL; a forward of it is a ShapeError", () => {
    const t = expectNoLeak(() => model.toTokens('', { prependBos: false }), () => 1);
    expect(t.shape).toEqual([1, 0]);
    expect(t.dtype).toBe('int32');
    expect(() => model.forward(t)).toThrow(ShapeError);
    expect(() => model.forward(t)).toThrow(/pos ≥ 1/);
    t.dispose();
    const two = model.toTokens(['', ''], { prependBos: false });
    expect(two.shape).toEqual([2, 0]);
    two.dispose();
    const withBos = model.toTokens('');
    expect(withBos.arraySync()).toEqual([[tok.bosTokenId]]);
    withBos.dispose();
    expect(() => model.forward('', { prependBos: false })).toThrow(TokenizerError);
  });

  it('defaultPaddingSide and setTokenizer (TL set_tokenizer default_padding_side)', () => {
    const prompts = ['Hello world!', 'Hi'];
    model.setTokenizer(tok, { defaultPaddingSide: 'left' });
    try {
      expect(model.defaultPaddingSide).toBe('left');
      const left = model.toTokens(prompts);
      const row = left.arraySync()[1] ?? [];
      expect(row[row.length - 1]).toBe(tok.encode('Hi').at(-1)); // the short row is padded on the left
      const explicit = model.toTokens(prompts, { paddingSide: 'right' });
      expect((explicit.arraySync()[1] ?? [])[1]).toBe(tok.encode('Hi')[0]);
      tf.dispose([left, explicit]);
      expect(() => model.setTokenizer(tok, { defaultPaddingSide: 'up' as 'left' })).toThrow(ConfigError);
    } finally {
      model.setTokenizer(tok);
    }
    expect(model.defaultPaddingSide).toBe('right');
  });
});
