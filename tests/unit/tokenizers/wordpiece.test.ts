// DistilBERT / BERT uncased WordPiece: ids from public test suites, tokens checked against
// vocab.txt line numbers, the vocab.txt-only path against tokenizer.json, specials, decode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../../src/errors.js';
import { encodeForEncoder } from '../../../src/tokenizers/batch.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import type { Tokenizer } from '../../../src/tokenizers/tokenizer.js';
import type { TokenizerJson } from '../../../src/tokenizers/tokenizer_config.js';
import {
  buildWordPieceJson,
  createWordPieceTokenizer,
  parseVocabTxt,
} from '../../../src/tokenizers/wordpiece.js';

const DIR = shippedTokenizerDir('distilbert-base-uncased');
const VOCAB_LINES = readFileSync(join(DIR, 'vocab.txt'), 'utf8').split('\n');
const SHIPPED_JSON = JSON.parse(readFileSync(join(DIR, 'tokenizer.json'), 'utf8')) as TokenizerJson;

// huggingface/transformers.js tests/models/bert/test_tokenization_bert.js (54292541),
// "Xenova/bert-base-uncased" (bert-base-uncased = distilbert-base-uncased vocabulary and settings);
// texts from tests/models/test_strings.js (xenova/transformers.js 2f9b2ed9). Ids include [CLS]/[SEP];
// `decoded` is HF's decode (special tokens kept, spaces cleaned up).
const TRANSFORMERS_JS: readonly { text: string; ids: number[]; decoded: string }[] = [
  { text: 'How are you doing?', ids: [101, 2129, 2024, 2017, 2725, 1029, 102], decoded: '[CLS] how are you doing? [SEP]' },
  { text: "You should've done this", ids: [101, 2017, 2323, 1005, 2310, 2589, 2023, 102], decoded: "[CLS] you should've done this [SEP]" },
  { text: 'The company was founded in 2016.', ids: [101, 1996, 2194, 2001, 2631, 1999, 2355, 1012, 102], decoded: '[CLS] the company was founded in 2016. [SEP]' },
  {
    text: "A\n'll !!to?'d''d of, can't.",
    ids: [101, 1037, 1005, 2222, 999, 999, 2000, 1029, 1005, 1040, 1005, 1005, 1040, 1997, 1010, 2064, 1005, 1056, 1012, 102],
    decoded: "[CLS] a'll!! to?'d'' d of, can't. [SEP]",
  },
  { text: 'def main():\n\tpass', ids: [101, 13366, 2364, 1006, 1007, 1024, 3413, 102], decoded: '[CLS] def main ( ) : pass [SEP]' },
  {
    text: 'let a = obj.toString();\ntoString();',
    ids: [101, 2292, 1037, 1027, 27885, 3501, 1012, 2000, 3367, 4892, 1006, 1007, 1025, 2000, 3367, 4892, 1006, 1007, 1025, 102],
    decoded: '[CLS] let a = obj. tostring ( ) ; tostring ( ) ; [SEP]',
  },
  { text: 'This\n\nis\na\ntest.', ids: [101, 2023, 2003, 1037, 3231, 1012, 102], decoded: '[CLS] this is a test. [SEP]' },
  { text: 'UNwant\u00e9d,running', ids: [101, 18162, 1010, 2770, 102], decoded: '[CLS] unwanted, running [SEP]' },
  { text: '1\u00002\uFFFD3', ids: [101, 13138, 102], decoded: '[CLS] 123 [SEP]' },
  { text: 'Hello World', ids: [101, 7592, 2088, 102], decoded: '[CLS] hello world [SEP]' },
  { text: '生活的真谛是', ids: [101, 1910, 100, 1916, 1921, 100, 100, 102], decoded: '[CLS] 生 [UNK] 的 真 [UNK] [UNK] [SEP]' },
  { text: '   leading space', ids: [101, 2877, 2686, 102], decoded: '[CLS] leading space [SEP]' },
  { text: 'trailing space   ', ids: [101, 12542, 2686, 102], decoded: '[CLS] trailing space [SEP]' },
  { text: 'Hi  Hello', ids: [101, 7632, 7592, 102], decoded: '[CLS] hi hello [SEP]' },
  {
    text: 'test $1 R2 #3 €4 £5 ¥6 ₣7 ₹8 ₱9 test',
    ids: [101, 3231, 1002, 1015, 1054, 2475, 1001, 1017, 1574, 2549, 27813, 1071, 2575, 100, 1576, 2620, 1575, 2683, 3231, 102],
    decoded: '[CLS] test $ 1 r2 # 3 €4 £5 ¥6 [UNK] ₹8 ₱9 test [SEP]',
  },
  {
    text: 'I bought an apple for $1.00 at the store.',
    ids: [101, 1045, 4149, 2019, 6207, 2005, 1002, 1015, 1012, 4002, 2012, 1996, 3573, 1012, 102],
    decoded: '[CLS] i bought an apple for $ 1. 00 at the store. [SEP]',
  },
  { text: 'you…  ', ids: [101, 2017, 1529, 102], decoded: '[CLS] you … [SEP]' },
  { text: 'you…\u00a0\u00a0you…\u00a0\u00a0', ids: [101, 2017, 1529, 2017, 1529, 102], decoded: '[CLS] you … you … [SEP]' },
  { text: 'weird \uFF5E edge \uFF5E case', ids: [101, 6881, 1995, 3341, 1995, 2553, 102], decoded: '[CLS] weird ～ edge ～ case [SEP]' },
  { text: '▁This ▁is ▁a ▁test ▁.', ids: [101, 100, 100, 100, 100, 100, 1012, 102], decoded: '[CLS] [UNK] [UNK] [UNK] [UNK] [UNK]. [SEP]' },
  { text: 'ah\u535a\u63a8zz', ids: [101, 6289, 1786, 100, 1062, 2480, 102], decoded: '[CLS] ah 博 [UNK] zz [SEP]' },
  { text: 'H\u00e9llo', ids: [101, 7592, 102], decoded: '[CLS] hello [SEP]' },
  { text: ' \tHeLLo!how  \n Are yoU?  ', ids: [101, 7592, 999, 2129, 2024, 2017, 1029, 102], decoded: '[CLS] hello! how are you? [SEP]' },
  { text: ' \tHäLLo!how  \n Are yoU?  ', ids: [101, 2534, 2080, 999, 2129, 2024, 2017, 1029, 102], decoded: '[CLS] hallo! how are you? [SEP]' },
  { text: ' ', ids: [101, 102], decoded: '[CLS] [SEP]' },
];

// Tokens worked out by hand from the BERT basic tokenizer rules (lowercase, strip accents, split
// punctuation and CJK, greedy longest-match ##pieces); ids are their line numbers in vocab.txt.
const BY_HAND: readonly [string, string[]][] = [
  ['Héllo', ['hello']],
  ['naïve café résumé', ['naive', 'cafe', 'resume']],
  ['HeLLo WoRLD', ['hello', 'world']],
  ['unaffable', ['una', '##ffa', '##ble']],
  ['supercalifragilisticexpialidocious', ['super', '##cal', '##if', '##rag', '##ilis', '##tic', '##ex', '##pia', '##lid', '##oc', '##ious']],
  ['I bought 3,000,000 apples!', ['i', 'bought', '3', ',', '000', ',', '000', 'apples', '!']],
  ['東京タワー', ['東', '京', 'タ', '##ワ', '##ー']],
  ['tab\tsep\nnew', ['tab', 'sep', 'new']],
  ['[CLS] hello [SEP]', ['[CLS]', 'hello', '[SEP]']],
  ['[cls]', ['[', 'cl', '##s', ']']],
  ['smile 👍 ok', ['smile', '[UNK]', 'ok']],
  // Engine fix (wordpiece.ts): CJK Ext. B ideographs outside the BMP are split off as HF does.
  ['a\u{20000}b', ['a', '[UNK]', 'b']],
  // HF Rust's range skips U+2B820–U+2B91F, so this stays one (unknown) word.
  ['a\u{2B820}b', ['[UNK]']],
];

let bert: Tokenizer;
let bertFromVocab: Tokenizer;
beforeAll(async () => {
  bert = await loadTokenizer(DIR);
  bertFromVocab = createWordPieceTokenizer(buildWordPieceJson(parseVocabTxt(VOCAB_LINES.join('\n'))), {});
});

describe('WordPiece: ids', () => {
  it.each(TRANSFORMERS_JS)('matches transformers.js ids for $text', ({ text, ids }) => {
    expect(encodeForEncoder(bert, text, { padding: false }).ids[0]).toEqual(ids);
    expect(bert.encode(text)).toEqual(ids.slice(1, -1));
  });

  it.each(BY_HAND)('tokenizes %j as worked out by hand against vocab.txt', (text, tokens) => {
    const ids = tokens.map((t) => VOCAB_LINES.indexOf(t));
    expect(ids).not.toContain(-1);
    expect(bert.encode(text)).toEqual(ids);
  });

  it('matches HF tokenizers test_bert_wordpiece.py for a pair', () => {
    // huggingface/tokenizers bindings/python/tests/implementations/test_bert_wordpiece.py (019a8390),
    // bert-base-uncased vocab.txt.
    const enc = encodeForEncoder(bert, [['My name is John', 'pair']]);
    expect(enc.ids).toEqual([[101, 2026, 2171, 2003, 2198, 102, 3940, 102]]);
    expect(enc.tokenTypeIds).toEqual([[0, 0, 0, 0, 0, 0, 1, 1]]);
    expect(bert.encode('My name is John pair')).toEqual([2026, 2171, 2003, 2198, 3940]);
  });

  it('matches the transformers.js TEXT_PAIR case', () => {
    expect(encodeForEncoder(bert, [['hello', 'world']]).ids).toEqual([[101, 7592, 102, 2088, 102]]);
  });

  it('gives the same ids from vocab.txt alone as from tokenizer.json', () => {
    const texts = [...TRANSFORMERS_JS.map((c) => c.text), ...BY_HAND.map(([t]) => t)];
    for (const text of texts) expect(bertFromVocab.encode(text)).toEqual(bert.encode(text));
    expect(bertFromVocab.vocabSize).toBe(bert.vocabSize);
  });
});

describe('WordPiece: decode', () => {
  it.each(TRANSFORMERS_JS)('decodes as HF for $text', ({ ids, decoded }) => {
    expect(bert.decode(ids)).toBe(decoded);
  });

  it('decodes single tokens, keeping ## on a continuation piece', () => {
    expect(bert.decodeToken(7592)).toBe('hello');
    expect(bert.decodeToken(2075)).toBe('##ing');
    expect(bert.decode([])).toBe('');
  });

  it('rejects invalid ids with TokenizerError', () => {
    expect(() => bert.decode([30522])).toThrow(/decode: invalid token id at index 0 — expected an integer in \[0, 30522\)/);
    expect(() => bert.decodeToken(Number.NaN)).toThrow(TokenizerError);
  });
});

describe('WordPiece: vocabulary and specials', () => {
  it('finds the specials by token string though tokenizer_config.json names none', () => {
    expect(bert.kind).toBe('wordpiece');
    expect(bert.vocabSize).toBe(30522);
    expect([bert.padTokenId, bert.unkTokenId, bert.clsTokenId, bert.sepTokenId, bert.maskTokenId]).toEqual([0, 100, 101, 102, 103]);
    expect([bert.bosTokenId, bert.eosTokenId]).toEqual([undefined, undefined]);
    expect(bert.modelMaxLength).toBe(512);
    expect(bert.idToToken(103)).toBe('[MASK]');
    expect(bert.tokenToId('hello')).toBe(7592);
  });

  it('builds the same tokenizer.json object from vocab.txt as the shipped one', () => {
    const built = buildWordPieceJson(parseVocabTxt(VOCAB_LINES.join('\n')));
    expect({ ...built, model: { ...built.model, type: undefined } }).toEqual({
      ...SHIPPED_JSON,
      model: { ...SHIPPED_JSON.model, type: undefined },
    });
  });

  it('lets do_lower_case: false in the config turn lowercasing off (as BertTokenizerFast)', () => {
    const cased = createWordPieceTokenizer(SHIPPED_JSON, { do_lower_case: false });
    expect(cased.encode('Hello hello')).toEqual([100, 7592]);
  });

  it('takes special-token names from the config', () => {
    const tok = createWordPieceTokenizer(SHIPPED_JSON, { cls_token: '[SEP]', mask_token: { content: 'hello' } });
    expect([tok.clsTokenId, tok.maskTokenId]).toEqual([102, 7592]);
  });

  it('rejects a vocab.txt without [UNK], an empty one, and a BPE tokenizer.json', () => {
    expect(() => buildWordPieceJson(parseVocabTxt('[PAD]\nhello\n'))).toThrow(/lacks the unknown token — expected a line '\[UNK\]'/);
    expect(() => parseVocabTxt('')).toThrow(/vocab.txt is empty/);
    const bpe = { model: { type: 'BPE', vocab: {}, merges: [] } } as unknown as TokenizerJson;
    expect(() => createWordPieceTokenizer(bpe)).toThrow(/model must be WordPiece — got type BPE/);
  });
});
