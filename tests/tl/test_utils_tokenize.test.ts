/**
 * Port of part of TransformerLens v2.18.0 tests/unit/test_utils.py: the TestTokenizeAndConcatenate
 * class (1 test function), the two module-level tokenize_and_concatenate tests, and TestAttentionMask
 * (1 test function, 8 parameter cases), with GPT-2's real tokenizer (the shipped HF files).
 * The file's other tests (TestSlice, is_square, lower_triangular, init_*, calc_fan_in_fan_out, …)
 * belong to other utilities and are not part of this port.
 * Adaptations:
 * - test_tokenize_and_concatenate_no_spurious_sequence_length_warning uses t5-small, whose tokenizer
 *   is not in the repo; it runs with GPT-2's (model_max_length 1024) and checks that nothing is
 *   written to stderr / console.warn, and the (rows, max_length) shape.
 * - TestAttentionMask runs for "gpt2-small" only (the OPT tokenizer is not in the repo); TL sets
 *   `tokenizer.padding_side`, here the padding side is the call's option.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { getAttentionMask } from '../../src/tokenizers/attention_mask.js';
import { tokenizeAndConcatenate } from '../../src/tokenizers/concatenate.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { tinyGpt2VocabModel } from '../helpers/tiny_gpt2_vocab.js';

let model: HookedTransformer;
let tok: Tokenizer;

beforeAll(async () => {
  model = await tinyGpt2VocabModel();
  tok = model.tokenizer as Tokenizer;
});
afterAll(() => model.dispose());

describe('TestTokenizeAndConcatenate', () => {
  it('test_no_split_tokens_across_chunks', () => {
    const text = 'Military '.repeat(500);
    const result = tokenizeAndConcatenate([{ text }], tok, { maxLength: 64, addBosToken: false });
    const clean = tok.encode(text);
    const cleanPairs = new Set(clean.slice(0, -1).map((t, i) => `${t},${clean[i + 1]}`));
    const out = result.flat();
    for (let i = 0; i < out.length - 1; i++) expect(cleanPairs.has(`${out[i]},${out[i + 1]}`), `pair at ${i}`).toBe(true);
    // Stronger than TL's check: whitespace-aligned chunks give exactly the clean tokens, cut into full rows.
    expect(result.every((r) => r.length === 64)).toBe(true);
    expect(out).toEqual(clean.slice(0, Math.floor(clean.length / 64) * 64));
  });
});

describe('test_utils.py tokenize_and_concatenate functions', () => {
  it('test_tokenize_and_concatenate_no_spurious_sequence_length_warning', () => {
    const maxLength = tok.modelMaxLength as number;
    expect(maxLength).toBe(1024);
    expect(tok.eosTokenId).toBeDefined();
    const longText = 'word '.repeat(20000);
    const stderr = vi.spyOn(process.stderr, 'write');
    const warn = vi.spyOn(console, 'warn');
    let result: number[][];
    try {
      result = tokenizeAndConcatenate([{ text: longText }], tok, { maxLength, addBosToken: false, streaming: true });
      for (const call of [...stderr.mock.calls, ...warn.mock.calls]) expect(String(call[0])).not.toContain('longer than the specified maximum');
      expect(stderr).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      warn.mockRestore();
    }
    expect(result.length).toBeGreaterThanOrEqual(1);
    expect(result[0]?.length).toBe(maxLength);
  });

  it('test_tokenize_and_concatenate_short_sequence_no_invalid_tokens', () => {
    expect(tok.vocabSize).toBe(50257);
    const result = tokenizeAndConcatenate([{ text: 'Hello' }, { text: 'world' }, { text: 'today' }], tok, { columnName: 'text', addBosToken: true, streaming: true });
    const tokens = result[0] ?? [];
    expect(Math.min(...tokens)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...tokens)).toBeLessThan(tok.vocabSize);
    // TL's definition (streaming: one batch): one row of max_length 1024: BOS, the joined text's tokens, then EOS padding.
    expect(result.length).toBe(1);
    expect(tokens.length).toBe(1024);
    expect(tokens[0]).toBe(tok.bosTokenId);
    const eosText = tok.idToToken(tok.eosTokenId as number) as string;
    const joined = ['Hello', 'world', 'today'].join(eosText);
    let end = tokens.length;
    while (end > 1 && tokens[end - 1] === tok.eosTokenId) end--;
    expect(tok.decode(tokens.slice(1, end))).toBe(joined);
    expect(tokens.slice(end).every((t) => t === tok.eosTokenId)).toBe(true);
  });
});

describe('tokenizeAndConcatenate details', () => {
  it('short texts are cut by characters, as TL (20 chunks of 3 characters here)', () => {
    const rows = tokenizeAndConcatenate(['Hello', 'world', 'today'], tok, { maxLength: 8, addBosToken: false, numProc: 1 });
    const eosText = tok.idToToken(tok.eosTokenId as number) as string;
    // TL: full_text has 41 characters, chunk_length (41 - 1) // 20 + 1 = 3, lookahead 3 // 10 = 0: 3-character
    // chunks, so '<|endoftext|>' is cut and tokenised as text, not as the EOS id.
    const full = ['Hello', 'world', 'today'].join(eosText);
    expect(full.length).toBe(41);
    const chunks = Array.from({ length: 20 }, (_, i) => full.slice(3 * i, 3 * i + 3));
    const want = chunks.flatMap((c) => tok.encode(c));
    expect(want).not.toContain(tok.eosTokenId);
    expect(rows.flat()).toEqual(want.slice(0, Math.floor(want.length / 8) * 8));
  });

  it('string rows, BOS per row, remainder dropped per batch, blank batches give no row, errors name the fix', () => {
    // Texts long enough that each chunk end can reach whitespace (lookahead = chunk / 10 > 13 chars,
    // the length of '<|endoftext|>'): the chunks then tokenise as the whole text does.
    const texts = ['one two three four five six seven eight nine ten '.repeat(40), 'alpha beta gamma delta '.repeat(100)];
    const rows = tokenizeAndConcatenate(texts, tok, { maxLength: 5, numProc: 1 });
    const eosText = tok.idToToken(tok.eosTokenId as number) as string;
    const stream = tok.encode(texts.join(eosText));
    expect(stream).toContain(tok.eosTokenId);
    expect(rows.every((r) => r.length === 5 && r[0] === tok.bosTokenId)).toBe(true);
    expect(rows.map((r) => r.slice(1)).flat()).toEqual(stream.slice(0, Math.floor(stream.length / 4) * 4));
    // batchSize 1: each text is its own batch, nothing crosses between them.
    const perRow = tokenizeAndConcatenate(texts, tok, { maxLength: 5, batchSize: 1, numProc: 1 });
    const a = tok.encode(texts[0] as string);
    expect(perRow[0]?.slice(1)).toEqual(a.slice(0, 4));
    expect(perRow.length).toBe(Math.floor(a.length / 4) + Math.floor(tok.encode(texts[1] as string).length / 4));
    expect(tokenizeAndConcatenate([' ', ''], tok, { batchSize: 1 })).toEqual([]);
    expect(() => tokenizeAndConcatenate([{ txt: 'x' }], tok)).toThrow(/did you mean 'txt'/);
    expect(() => tokenizeAndConcatenate(['x'], tok, { maxLength: 1 })).toThrow(ConfigError);
    expect(() => tokenizeAndConcatenate(['x'], tok, { max_length: 4 } as never)).toThrow(ConfigError);
    expect(() => tokenizeAndConcatenate(['x'], tok, { numProc: 0 })).toThrow(/numProc/);
  });

  it('numProc shards as HF datasets.map(num_proc) under TL: min(p, n) contiguous shards, each batched on its own', () => {
    const texts = ['a b c d e f g h i j k l m n o p q r s t u v w x y z '.repeat(12), 'one two three four five six seven '.repeat(12), 'red green blue yellow '.repeat(20)];
    const maxLength = 6;
    const alone = (t: string[]): number[][] => tokenizeAndConcatenate(t, tok, { maxLength, numProc: 1 });
    // Default num_proc 10 > 3 texts: 3 shards of one text, so no text's tokens reach another's rows.
    expect(tokenizeAndConcatenate(texts, tok, { maxLength })).toEqual(texts.flatMap((t) => alone([t])));
    // num_proc 2 over 3 texts: shards [0, 2) and [2, 3) (HF: floor(3/2) = 1 each, the first one longer).
    expect(tokenizeAndConcatenate(texts, tok, { maxLength, numProc: 2 })).toEqual([...alone(texts.slice(0, 2)), ...alone(texts.slice(2))]);
    // streaming: TL passes num_proc=None, one batch.
    expect(tokenizeAndConcatenate(texts, tok, { maxLength, streaming: true })).toEqual(alone(texts));
  });
});

describe('TestAttentionMask', () => {
  const prompts = ['Hello world!', 'How are you today?', "I'm fine, thank you.", 'I am happy.'];
  const promptsWithSep = ['I like cats<|endoftext|>Cats are so cute', 'Hello world!', 'How are you<|endoftext|>I am fine, thanks'];
  for (const paddingSide of ['left', 'right'] as const) {
    for (const prependBos of [true, false]) {
      for (const withSep of [true, false]) {
        it(`test_get_attention_mask[gpt2-small-${paddingSide}-${prependBos}-${withSep}]`, () => {
          const ps = withSep ? promptsWithSep : prompts;
          const t = model.toTokens(ps, { prependBos, paddingSide });
          const tokens = t.arraySync();
          t.dispose();
          const mask = getAttentionMask(tok, tokens, prependBos, paddingSide);
          expect([mask.length, mask[0]?.length]).toEqual([tokens.length, tokens[0]?.length]);
          const attended = model.toStrTokens(ps, { prependBos }).map((s) => s.length);
          expect(mask.map((r) => r.reduce((x, y) => x + y, 0))).toEqual(attended);
          mask.forEach((r, b) => r.forEach((m, p) => { if (m === 0) expect(tokens[b]?.[p]).toBe(tok.padTokenId); }));
          if (paddingSide === 'right') {
            expect(mask.every((r) => r[0] === 1)).toBe(true);
            attended.forEach((n, b) => expect(mask[b]?.slice(0, n).every((m) => m === 1)).toBe(true));
          } else {
            expect(mask.every((r) => r[r.length - 1] === 1)).toBe(true);
            attended.forEach((n, b) => expect(mask[b]?.slice(-n).every((m) => m === 1)).toBe(true));
          }
          if (!withSep) {
            let attendedButNonPad = 0;
            mask.forEach((r, b) => r.forEach((m, p) => { if (m !== (tokens[b]?.[p] !== tok.padTokenId ? 1 : 0)) attendedButNonPad++; }));
            const bosIsPad = tok.bosTokenId === tok.padTokenId;
            expect(attendedButNonPad).toBe(bosIsPad && prependBos ? tokens.length : 0);
          }
        });
      }
    }
  }

  it('a tensor input gives the same mask; no pad token means all ones', () => {
    const rows = [[50256, 50256, 15496], [50256, 40, 50256]];
    const t = tf.tensor2d(rows, [2, 3], 'int32');
    expect(getAttentionMask(tok, t, true, 'left')).toEqual(getAttentionMask(tok, rows, true, 'left'));
    expect(getAttentionMask(tok, rows, true, 'left')).toEqual([[0, 1, 1], [1, 1, 1]]);
    expect(getAttentionMask(tok, rows, false, 'right')).toEqual([[1, 1, 1], [1, 1, 0]]);
    t.dispose();
    expect(getAttentionMask({ ...tok, padTokenId: undefined } as Tokenizer, rows, true)).toEqual([[1, 1, 1], [1, 1, 1]]);
  });
});
