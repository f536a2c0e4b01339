// Batch helpers: decoder style (TL to_tokens: BOS, padding side, masks, truncation) and encoder
// style (BERT: [CLS]/[SEP], pairs, token types, padding, longest_first truncation), and their errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, TokenizerError } from '../../../src/errors.js';
import { encodeForDecoder, encodeForEncoder, longestFirstLengths } from '../../../src/tokenizers/batch.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import type { Tokenizer } from '../../../src/tokenizers/tokenizer.js';

let gpt2: Tokenizer;
let bert: Tokenizer;
beforeAll(async () => {
  gpt2 = await loadTokenizer(shippedTokenizerDir('gpt2'));
  bert = await loadTokenizer(shippedTokenizerDir('distilbert-base-uncased'));
});

const EOT = 50256;

/** A tokenizer that delegates to `tok` but with some special ids replaced. */
function withSpecials(tok: Tokenizer, overrides: Partial<Tokenizer>): Tokenizer {
  return {
    kind: tok.kind,
    vocabSize: tok.vocabSize,
    modelMaxLength: tok.modelMaxLength,
    bosTokenId: tok.bosTokenId,
    eosTokenId: tok.eosTokenId,
    padTokenId: tok.padTokenId,
    unkTokenId: tok.unkTokenId,
    clsTokenId: tok.clsTokenId,
    sepTokenId: tok.sepTokenId,
    maskTokenId: tok.maskTokenId,
    encode: (text) => tok.encode(text),
    decode: (ids) => tok.decode(ids),
    decodeToken: (id) => tok.decodeToken(id),
    idToToken: (id) => tok.idToToken(id),
    tokenToId: (token) => tok.tokenToId(token),
    ...overrides,
  };
}

describe('encodeForDecoder', () => {
  it('prepends BOS by default; one text gives one row', () => {
    expect(encodeForDecoder(gpt2, 'Hello world')).toEqual({ ids: [[EOT, 15496, 995]], attentionMask: [[1, 1, 1]] });
  });

  it('pads on the right by default, with pad = <|endoftext|>, mask 0 on pads only', () => {
    expect(encodeForDecoder(gpt2, ['Hello world', 'Hi'])).toEqual({
      ids: [
        [EOT, 15496, 995],
        [EOT, 17250, EOT],
      ],
      attentionMask: [
        [1, 1, 1],
        [1, 1, 0],
      ],
    });
  });

  it('pads on the left when asked (BOS stays next to its text)', () => {
    expect(encodeForDecoder(gpt2, ['Hello world', 'Hi'], { paddingSide: 'left' })).toEqual({
      ids: [
        [EOT, 15496, 995],
        [EOT, EOT, 17250],
      ],
      attentionMask: [
        [1, 1, 1],
        [0, 1, 1],
      ],
    });
  });

  it('omits BOS with prependBos: false', () => {
    const enc = encodeForDecoder(gpt2, ['Hello world', 'Hi'], { prependBos: false });
    expect(enc.ids).toEqual([
      [15496, 995],
      [17250, EOT],
    ]);
    expect(enc.attentionMask).toEqual([
      [1, 1],
      [1, 0],
    ]);
    expect(encodeForDecoder(gpt2, 'x', { prependBos: undefined }).ids).toEqual([[EOT, 87]]);
  });

  it('handles empty strings: [bos] with BOS, an all-pad row without', () => {
    expect(encodeForDecoder(gpt2, '')).toEqual({ ids: [[EOT]], attentionMask: [[1]] });
    expect(encodeForDecoder(gpt2, ['', 'Hi'], { prependBos: false })).toEqual({
      ids: [[EOT], [17250]],
      attentionMask: [[0], [1]],
    });
  });

  it('truncates to maxLength keeping the first tokens (BOS included)', () => {
    expect(encodeForDecoder(gpt2, 'Hello world again', { maxLength: 2 }).ids).toEqual([[EOT, 15496]]);
    expect(encodeForDecoder(gpt2, 'Hello world again', { maxLength: 2, truncate: false }).ids).toEqual([[EOT, 15496, 995, 757]]);
  });

  it('defaults maxLength to modelMaxLength (1024)', () => {
    const long = ' hello'.repeat(2000);
    expect(encodeForDecoder(gpt2, long).ids[0]).toHaveLength(1024);
    expect(encodeForDecoder(gpt2, long, { truncate: false }).ids[0]).toHaveLength(2001);
  });

  it('works with a tokenizer without BOS when prependBos is false', () => {
    const enc = encodeForDecoder(bert, ['hello world', 'hi'], { prependBos: false });
    expect(enc.ids).toEqual([
      [7592, 2088],
      [7632, 0],
    ]);
  });

  it('throws TokenizerError for no texts, no tokens, no BOS, no pad token', () => {
    expect(() => encodeForDecoder(gpt2, [])).toThrow(/encodeForDecoder: texts must be a string or a non-empty array of strings — got \[\]/);
    expect(() => encodeForDecoder(gpt2, ['', ''], { prependBos: false })).toThrow(/encodeForDecoder: no tokens/);
    expect(() => encodeForDecoder(bert, 'hello')).toThrow(/prependBos is true but this wordpiece tokenizer has no BOS token/);
    const noPad = withSpecials(gpt2, { padTokenId: undefined });
    expect(() => encodeForDecoder(noPad, ['Hello world', 'Hi'])).toThrow(TokenizerError);
    expect(() => encodeForDecoder(noPad, ['Hello world', 'Hi'])).toThrow(/no pad token — expected padTokenId/);
    expect(encodeForDecoder(noPad, ['Hi', 'Hi']).ids).toEqual([
      [EOT, 17250],
      [EOT, 17250],
    ]);
  });

  it('throws TokenizerError for a non-string text', () => {
    expect(() => encodeForDecoder(gpt2, ['ok', 3 as unknown as string])).toThrow(/texts\[1\] must be a string — got number/);
  });

  it('throws ConfigError for a bad maxLength or paddingSide', () => {
    expect(() => encodeForDecoder(gpt2, 'Hi', { maxLength: 0 })).toThrow(ConfigError);
    expect(() => encodeForDecoder(gpt2, 'Hi', { maxLength: 2.5 })).toThrow(/maxLength must be an integer ≥ 1 — got 2.5/);
    const side = 'middle' as unknown as 'left';
    expect(() => encodeForDecoder(gpt2, 'Hi', { paddingSide: side })).toThrow(/paddingSide must be 'left' or 'right' — got "middle"/);
  });
});

describe('encodeForEncoder', () => {
  it('wraps one text in [CLS] ... [SEP] with token types 0', () => {
    expect(encodeForEncoder(bert, 'Hello world')).toEqual({
      ids: [[101, 7592, 2088, 102]],
      attentionMask: [[1, 1, 1, 1]],
      tokenTypeIds: [[0, 0, 0, 0]],
    });
  });

  it('pads a batch on the right with [PAD] and masks the pads', () => {
    expect(encodeForEncoder(bert, ['hello world', 'hi', ''])).toEqual({
      ids: [
        [101, 7592, 2088, 102],
        [101, 7632, 102, 0],
        [101, 102, 0, 0],
      ],
      attentionMask: [
        [1, 1, 1, 1],
        [1, 1, 1, 0],
        [1, 1, 0, 0],
      ],
      tokenTypeIds: [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
    });
  });

  it('encodes pairs as [CLS] A [SEP] B [SEP] with types 0/1, mixed with singles', () => {
    const enc = encodeForEncoder(bert, [['hello', 'world'], 'hi']);
    expect(enc.ids).toEqual([
      [101, 7592, 102, 2088, 102],
      [101, 7632, 102, 0, 0],
    ]);
    expect(enc.tokenTypeIds).toEqual([
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0],
    ]);
    expect(enc.attentionMask).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
  });

  it('leaves rows unpadded with padding: false', () => {
    const enc = encodeForEncoder(bert, ['hello world', 'hi'], { padding: false });
    expect(enc.ids).toEqual([[101, 7592, 2088, 102], [101, 7632, 102]]);
    expect(enc.attentionMask).toEqual([[1, 1, 1, 1], [1, 1, 1]]);
  });

  it('truncates singles to maxLength including [CLS]/[SEP]', () => {
    expect(encodeForEncoder(bert, 'a b c d e', { maxLength: 4 }).ids).toEqual([[101, 1037, 1038, 102]]);
    expect(encodeForEncoder(bert, 'a b c d e', { maxLength: 4, truncate: false }).ids[0]).toHaveLength(7);
    expect(encodeForEncoder(bert, 'a '.repeat(600)).ids[0]).toHaveLength(512);
  });

  it('truncates pairs longest_first (x = 1060, y = 1061)', () => {
    const x = (n: number) => 'x '.repeat(n);
    const y = (n: number) => 'y '.repeat(n);
    // Both too long: budget 15 split 7 / 8.
    const both = encodeForEncoder(bert, [[x(10), y(10)]], { maxLength: 18 });
    expect(both.ids[0]).toEqual([101, ...Array<number>(7).fill(1060), 102, ...Array<number>(8).fill(1061), 102]);
    expect(both.tokenTypeIds?.[0]).toEqual([...Array<number>(9).fill(0), ...Array<number>(9).fill(1)]);
    // Only the longer is cut.
    const one = encodeForEncoder(bert, [[x(20), y(3)]], { maxLength: 13 });
    expect(one.ids[0]).toEqual([101, ...Array<number>(7).fill(1060), 102, 1061, 1061, 1061, 102]);
  });

  it('computes longest_first lengths as HF tokenizers truncate_encodings_longest_first', () => {
    // huggingface/tokenizers tokenizers/src/utils/truncation.rs (011340b3), max_length 7, lengths 0/2/4/8.
    const cases: [number, number, number, number][] = [
      [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7],
      [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
      [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4],
      [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
    ];
    for (const [a, b, ka, kb] of cases) expect(longestFirstLengths(a, b, 7)).toEqual([ka, kb]);
    expect(longestFirstLengths(5, 4, 0)).toEqual([0, 0]);
  });

  it('throws TokenizerError without [CLS]/[SEP] or for malformed items', () => {
    expect(() => encodeForEncoder(gpt2, 'hello')).toThrow(/this bpe tokenizer has no \[CLS\]\/\[SEP\] tokens/);
    expect(() => encodeForEncoder(bert, [])).toThrow(TokenizerError);
    const bad = [['only one']] as unknown as [string, string][];
    expect(() => encodeForEncoder(bert, bad)).toThrow(/texts\[0\] must be a string or a \[text, textPair\] pair of strings/);
  });

  it('throws TokenizerError when padding is needed but there is no [PAD]', () => {
    const noPad = withSpecials(bert, { padTokenId: undefined });
    expect(() => encodeForEncoder(noPad, ['hello world', 'hi'])).toThrow(/encodeForEncoder: rows differ in length/);
  });

  it('throws ConfigError when maxLength leaves no room for the specials', () => {
    expect(() => encodeForEncoder(bert, 'hello', { maxLength: 1 })).toThrow(/maxLength 1 leaves no room for \[CLS\]\/\[SEP\] — expected ≥ 2/);
    expect(() => encodeForEncoder(bert, [['a', 'b']], { maxLength: 2 })).toThrow(ConfigError);
    expect(encodeForEncoder(bert, 'hello', { maxLength: 2 }).ids).toEqual([[101, 102]]);
  });
});
