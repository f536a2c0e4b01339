// GPT-2 byte-level BPE: ids checked against an independent implementation (js-tiktoken r50k_base,
// GPT-2's encoding) and against ids hard-coded in public test suites; round trips; specials.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../../src/errors.js';
import { buildByteLevelBpeJson, createGpt2Tokenizer, parseMergesTxt } from '../../../src/tokenizers/gpt2_bpe.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import type { Tokenizer } from '../../../src/tokenizers/tokenizer.js';
import type { TokenizerJson } from '../../../src/tokenizers/tokenizer_config.js';

const DIR = shippedTokenizerDir('gpt2');
const tiktoken = getEncoding('r50k_base');

/** Varied strings; expected ids come from js-tiktoken (`'all'` lets `<|endoftext|>` map to 50256, as HF does). */
const VARIED = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  'café naïve résumé Ångström Ελληνικά Привет',
  'Ünïcödé ÀÉÎÕÜ ß ǅ İı',
  '日本語のテキスト 中文测试 한국어',
  'emoji 👍🏽 👨‍👩‍👧‍👦 ❤️ 🇺🇸🇯🇵 🏳️‍🌈',
  '   leading spaces',
  'trailing spaces   ',
  'tabs\t\tand\n\n\nnewlines \n \r\n',
  '    \n    \t   ',
  "I'm you'll we've they're he'd it's don't",
  "IT'S DON'T I'M WE'LL THEY'RE",
  "'s 't 're 've 'm 'll 'd",
  '0123456789 3.14159 -42 1e10 12345678901234567890123',
  'Hello!!! What?! (yes) [no] {maybe} "quoted" — dash … ellipsis',
  'function f(x) {\n\treturn x ** 2; // square\n}',
  'https://example.com/path/to?q=1&r=two#frag',
  'user@example.org <tag attr="v">text</tag>',
  'a<|endoftext|>b',
  '<|endoftext|>Start of a document',
  'Hello\u00a0world\u2009thin\u3000ideographic',
  'ＡＢＣ full-width ｆｕｌｌ',
  'mixed 𝒜𝒷𝒸 math alphanumerics and Ⅻ ½ ²',
  'Zero\u200bwidth\u200djoiner',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'x',
];

// transformers.js tests/models/gpt2/test_tokenization_gpt2.js, "Xenova/gpt2" (same vocab/merges as
// openai-community/gpt2); texts from tests/models/test_strings.js. Read at sroussey/transformers.js
// a8413a99 (a fork of huggingface/transformers.js) and xenova/transformers.js 2f9b2ed9.
const TRANSFORMERS_JS: readonly [string, number[]][] = [
  ['How are you doing?', [2437, 389, 345, 1804, 30]],
  ["You should've done this", [1639, 815, 1053, 1760, 428]],
  ['0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000', [486, 1954, 2231, 3134, 4531, 657, 352, 362, 513, 604, 642, 718, 767, 807, 860, 838, 1802, 8576]],
  ['The company was founded in 2016.', [464, 1664, 373, 9393, 287, 1584, 13]],
  ["A\n'll !!to?'d''d of, can't.", [32, 198, 1183, 37867, 1462, 8348, 67, 7061, 67, 286, 11, 460, 470, 13]],
  ['def main():\n\tpass', [4299, 1388, 33529, 198, 197, 6603]],
  ['let a = obj.toString();\ntoString();', [1616, 257, 796, 26181, 13, 1462, 10100, 9783, 198, 1462, 10100, 9783]],
  ['This\n\nis\na\ntest.', [1212, 198, 198, 271, 198, 64, 198, 9288, 13]],
  ['UNwant\u00e9d,running', [4944, 42949, 2634, 67, 11, 20270]],
  ['1\u00002\uFFFD3', [16, 188, 17, 4210, 18]],
  ['生活的真谛是', [37955, 162, 112, 119, 21410, 40367, 253, 164, 108, 249, 42468]],
  ['   leading space', [220, 220, 3756, 2272]],
  ['trailing space   ', [9535, 4386, 2272, 220, 220, 220]],
  ['Hi  Hello', [17250, 220, 18435]],
  ['test $1 R2 #3 €4 £5 ¥6 ₣7 ₹8 ₱9 test', [9288, 720, 16, 371, 17, 1303, 18, 10432, 19, 4248, 20, 38221, 21, 2343, 224, 96, 22, 2343, 224, 117, 23, 2343, 224, 109, 24, 1332]],
  ['you…  ', [5832, 1399, 220, 220]],
  ['you…\u00a0\u00a0you…\u00a0\u00a0', [5832, 1399, 1849, 1849, 5832, 1399, 4603]],
  ['weird \uFF5E edge \uFF5E case', [732, 1447, 27332, 121, 252, 5743, 27332, 121, 252, 1339]],
  ['▁This ▁is ▁a ▁test ▁.', [5008, 223, 1212, 11019, 223, 271, 11019, 223, 64, 11019, 223, 9288, 11019, 223, 13]],
];

// openai/tiktoken tests/test_encoding.py (1a730c52), encoding "gpt2" (= r50k_base):
// test_simple and test_simple_repeated.
const TIKTOKEN_SUITE: readonly [string, number[]][] = [
  ['hello world', [31373, 995]],
  ['hello <|endoftext|>', [31373, 220, 50256]],
  ['0', [15]],
  ['00', [405]],
  ['000', [830]],
  ['0000', [2388]],
  ['00000', [20483]],
  ['000000', [10535]],
  ['0000000', [24598]],
  ['00000000', [8269]],
  ['000000000', [10535, 830]],
  ['0000000000', [8269, 405]],
  ['0000000000000000', [25645]],
  ['00000000000000000', [8269, 10535, 830]],
];

let gpt2: Tokenizer;
beforeAll(async () => {
  gpt2 = await loadTokenizer(DIR);
});

describe('GPT-2 BPE: ids', () => {
  it.each(VARIED)('matches js-tiktoken r50k_base on %j', (text) => {
    expect(gpt2.encode(text)).toEqual(tiktoken.encode(text, 'all'));
  });

  it.each(TRANSFORMERS_JS)('matches transformers.js expected ids for %j', (text, ids) => {
    expect(gpt2.encode(text)).toEqual(ids);
  });

  it.each(TIKTOKEN_SUITE)('matches tiktoken test-suite ids for %j', (text, ids) => {
    expect(gpt2.encode(text)).toEqual(ids);
  });

  it('maps a literal <|endoftext|> to 50256 (HF marks it special)', () => {
    expect(gpt2.encode('<|endoftext|>')).toEqual([50256]);
    expect(gpt2.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]);
  });

  // Engine fix (gpt2_bpe.ts): GPT-2's regex reads \s as Unicode White_Space, which has U+0085 and
  // lacks U+FEFF; JS \s is the other way round (so js-tiktoken differs here too). Expected ids
  // computed offline with Hugging Face `tokenizers` 0.23.2 (Rust) on the same tokenizer.json.
  it.each([
    ['  \u0085\u007f', [220, 220, 126, 227, 221]],
    ['line1\u0085line2', [1370, 16, 126, 227, 1370, 17]],
    ['a \ufeffb', [64, 27332, 119, 123, 65]],
  ] as const)('treats whitespace as HF does on %j', (text, ids) => {
    expect(gpt2.encode(text)).toEqual(ids);
  });

  it('encodes the empty string to []', () => {
    expect(gpt2.encode('')).toEqual([]);
  });
});

describe('GPT-2 BPE: decode', () => {
  it.each([...VARIED, ...TRANSFORMERS_JS.map(([t]) => t), '  \u0085 x', ''])('round-trips %j', (text) => {
    expect(gpt2.decode(gpt2.encode(text))).toBe(text);
  });

  it('decodes single tokens as TL to_str_tokens does', () => {
    expect(gpt2.decodeToken(995)).toBe(' world');
    expect(gpt2.decodeToken(50256)).toBe('<|endoftext|>');
    expect(gpt2.encode(' Hello world!').map((id) => gpt2.decodeToken(id))).toEqual([' Hello', ' world', '!']);
  });

  it('does no clean-up of spaces (clean_up_tokenization_spaces = false)', () => {
    expect(gpt2.decode(gpt2.encode("hello , world . isn 't"))).toBe("hello , world . isn 't");
  });

  it('rejects invalid ids with TokenizerError', () => {
    expect(() => gpt2.decode([50257])).toThrow(TokenizerError);
    expect(() => gpt2.decode([1, -1])).toThrow(/decode: invalid token id at index 1 — expected an integer in \[0, 50257\), got -1/);
    expect(() => gpt2.decode([1.5])).toThrow(TokenizerError);
    expect(() => gpt2.decodeToken(99999)).toThrow(/decodeToken: invalid token id/);
  });

  it('rejects a non-string text with TokenizerError', () => {
    expect(() => gpt2.encode(42 as unknown as string)).toThrow(/encode: text must be a string — got number/);
  });
});

describe('GPT-2 BPE: vocabulary and specials', () => {
  it('has 50257 ids, <|endoftext|> as bos = eos = pad, and model_max_length 1024', () => {
    expect(gpt2.kind).toBe('bpe');
    expect(gpt2.vocabSize).toBe(50257);
    expect([gpt2.bosTokenId, gpt2.eosTokenId, gpt2.padTokenId]).toEqual([50256, 50256, 50256]);
    expect([gpt2.unkTokenId, gpt2.clsTokenId, gpt2.sepTokenId, gpt2.maskTokenId]).toEqual([undefined, undefined, undefined, undefined]);
    expect(gpt2.modelMaxLength).toBe(1024);
  });

  it('maps ids and tokens both ways', () => {
    expect(gpt2.idToToken(995)).toBe('Ġworld');
    expect(gpt2.tokenToId('Ġworld')).toBe(995);
    expect(gpt2.tokenToId('Hello')).toBe(15496);
    expect(gpt2.tokenToId('<|endoftext|>')).toBe(50256);
    expect(gpt2.idToToken(50257)).toBeUndefined();
    expect(gpt2.idToToken(-1)).toBeUndefined();
    expect(gpt2.tokenToId('not a token')).toBeUndefined();
  });

  it('takes bos/eos/pad from the config when it names them', () => {
    const json = JSON.parse(readFileSync(join(DIR, 'tokenizer.json'), 'utf8')) as TokenizerJson;
    const tok = createGpt2Tokenizer(json, { pad_token: { content: '!' }, bos_token: 'Hello' });
    expect([tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([15496, 50256, 0]);
  });
});

describe('GPT-2 BPE: vocab.json + merges.txt', () => {
  it('builds the same tokenizer.json object as the shipped one', () => {
    const vocab = JSON.parse(readFileSync(join(DIR, 'vocab.json'), 'utf8')) as Record<string, number>;
    const merges = parseMergesTxt(readFileSync(join(DIR, 'merges.txt'), 'utf8'));
    expect(merges).toHaveLength(50000);
    const built = buildByteLevelBpeJson(vocab, merges);
    const shipped = JSON.parse(readFileSync(join(DIR, 'tokenizer.json'), 'utf8')) as TokenizerJson;
    expect({ ...built, model: { ...built.model, type: undefined } }).toEqual({
      ...shipped,
      model: { ...shipped.model, type: undefined },
    });
  });

  it('rejects a malformed merges.txt', () => {
    expect(() => parseMergesTxt('#version: 0.2\na b\nabc\n')).toThrow(/parseMergesTxt: bad merge on line 3/);
    expect(() => parseMergesTxt('#version: 0.2\n')).toThrow(TokenizerError);
  });

  it('rejects a malformed vocab', () => {
    expect(() => buildByteLevelBpeJson({ a: 1.5 }, ['a b'])).toThrow(/vocab id of "a" must be an integer/);
    expect(() => buildByteLevelBpeJson({}, ['a b'])).toThrow(/vocab is empty/);
  });

  it('rejects a WordPiece tokenizer.json', () => {
    const json = { model: { type: 'WordPiece', vocab: { a: 0 } } } as unknown as TokenizerJson;
    expect(() => createGpt2Tokenizer(json)).toThrow(/model must be BPE with merges — got type WordPiece/);
  });
});
