/**
 * Batch encoding for the model classes, over plain number arrays. Decoder style follows
 * TransformerLens `to_tokens` (BOS, padding side, truncation to n_ctx keeping the first tokens);
 * encoder style follows HF `BertTokenizerFast.__call__` (`[CLS] A [SEP] (B [SEP])`, token types,
 * right padding, `longest_first` truncation ported from HF Rust `tokenizers` `truncate_encodings`)
 * or `RobertaTokenizerFast.__call__` (`<s> A </s> (</s> B </s>)`, token types all 0).
 */
import { ConfigError, TokenizerError } from '../errors.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * Token ids with masks. Rows are padded to one length unless `padding: false` was asked.
 * @category Tokenizers
 */
export interface BatchEncoding {
  /** Ids [batch, pos]. */
  ids: number[][];
  /** Attention mask [batch, pos]: 1 for real tokens (BOS, `[CLS]`, `[SEP]` included), 0 for padding. */
  attentionMask: number[][];
  /** Segment ids [batch, pos]: 0 for the first segment, 1 for the second (encoder style only; pads are 0). */
  tokenTypeIds?: number[][];
}

/** Options of {@link encodeForDecoder} (TL `to_tokens`). @category Tokenizers */
export interface DecoderEncodeOptions {
  /** Prepend `bosTokenId` to each text (default true). */
  readonly prependBos?: boolean | undefined;
  /** Side padding goes on (default 'right'). */
  readonly paddingSide?: 'left' | 'right' | undefined;
  /** Cut each row to `maxLength`, keeping the first tokens (default true). */
  readonly truncate?: boolean | undefined;
  /** Longest row kept (the model's n_ctx; default: the tokenizer's `modelMaxLength`). */
  readonly maxLength?: number | undefined;
  /** Called once per call when truncation cut tokens: how many in all, from how many rows. */
  readonly onTruncate?: ((cut: { readonly tokens: number; readonly rows: number; readonly maxLength: number }) => void) | undefined;
}

/** Options of {@link encodeForEncoder}. @category Tokenizers */
export interface EncoderEncodeOptions {
  /** Longest row including `[CLS]`/`[SEP]` (default: the tokenizer's `modelMaxLength`). */
  readonly maxLength?: number | undefined;
  /** Truncate rows longer than `maxLength` (default true; pairs use `longest_first`). */
  readonly truncate?: boolean | undefined;
  /** Pad rows on the right to the longest, with `padTokenId` (default true). */
  readonly padding?: boolean | undefined;
  /**
   * Special-token layout: 'bert' (default) `[CLS] A [SEP] B [SEP]`, token types 0…0 1…1; 'roberta'
   * (HF `RobertaProcessing`) `<s> A </s> </s> B </s>` with the tokenizer's cls = `<s>` and
   * sep = `</s>`, token types all 0.
   */
  readonly style?: 'bert' | 'roberta' | undefined;
}

function textList(texts: string | readonly string[], fn: string): readonly string[] {
  const list = typeof texts === 'string' ? [texts] : texts;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TokenizerError(`${fn}: texts must be a string or a non-empty array of strings — got ${Array.isArray(list) ? '[]' : typeof list}`);
  }
  list.forEach((t, i) => {
    if (typeof t !== 'string') throw new TokenizerError(`${fn}: texts[${i}] must be a string — got ${typeof t}`);
  });
  return list;
}

function checkMaxLength(n: number | undefined, fn: string, min: number): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError(`${fn}: maxLength must be an integer ≥ ${min} — got ${String(n)}`);
  }
  return n;
}

/** Pad rows (and their type ids) to the longest; mask 1 for real tokens. */
function padRows(
  rows: readonly number[][],
  types: readonly number[][] | undefined,
  padId: number | undefined,
  side: 'left' | 'right',
  fn: string,
): BatchEncoding {
  const width = Math.max(...rows.map((r) => r.length));
  if (padId === undefined && rows.some((r) => r.length < width)) {
    throw new TokenizerError(`${fn}: rows differ in length and the tokenizer has no pad token — expected padTokenId`);
  }
  const fill = (row: readonly number[], value: number): number[] => {
    const pads = new Array<number>(width - row.length).fill(value);
    return side === 'left' ? [...pads, ...row] : [...row, ...pads];
  };
  const out: BatchEncoding = {
    ids: rows.map((r) => fill(r, padId ?? 0)),
    attentionMask: rows.map((r) => fill(new Array<number>(r.length).fill(1), 0)),
  };
  if (types !== undefined) out.tokenTypeIds = types.map((t) => fill(t, 0));
  return out;
}

/**
 * Encode texts for a decoder (GPT-2), as TransformerLens `to_tokens`: optional BOS, then the text's
 * ids; rows cut to `maxLength` keeping the first tokens; padded to the longest row with
 * `padTokenId` on `paddingSide`. An empty text gives `[bos]` (or `[]` without BOS, padded).
 * @param tok The tokenizer.
 * @param texts One text or a batch.
 * @param opts BOS, padding side, truncation, maxLength.
 * @returns `ids` and `attentionMask` [batch, pos].
 * @throws {@link "tfjs-lens"!TokenizerError} for no texts, BOS asked but absent, padding needed but no pad token,
 *   or no tokens at all (every text empty, no BOS).
 * @throws {@link "tfjs-lens"!ConfigError} for a bad `maxLength` or `paddingSide`.
 * @example
 * encodeForDecoder(gpt2, ['Hello world', 'Hi'], { paddingSide: 'left' });
 * // ids [[50256, 15496, 995], [50256, 50256, 17250]], attentionMask [[1, 1, 1], [0, 1, 1]]
 * @category Tokenizers
 */
export function encodeForDecoder(
  tok: Tokenizer,
  texts: string | readonly string[],
  opts: DecoderEncodeOptions = {},
): BatchEncoding {
  const fn = 'encodeForDecoder';
  const list = textList(texts, fn);
  const side = opts.paddingSide ?? 'right';
  if (side !== 'left' && side !== 'right') {
    throw new ConfigError(`${fn}: paddingSide must be 'left' or 'right' — got ${JSON.stringify(side)}`);
  }
  const maxLength = checkMaxLength(opts.maxLength ?? tok.modelMaxLength, fn, 1);
  const bos = tok.bosTokenId;
  const prependBos = opts.prependBos ?? true;
  if (prependBos && bos === undefined) {
    throw new TokenizerError(`${fn}: prependBos is true but this ${tok.kind} tokenizer has no BOS token [pass prependBos: false]`);
  }
  let rows = list.map((t) => (prependBos && bos !== undefined ? [bos, ...tok.encode(t)] : tok.encode(t)));
  if ((opts.truncate ?? true) && maxLength !== undefined) {
    const long = rows.filter((r) => r.length > maxLength);
    if (long.length > 0) opts.onTruncate?.({ tokens: long.reduce((a, r) => a + r.length - maxLength, 0), rows: long.length, maxLength });
    rows = rows.map((r) => r.slice(0, maxLength));
  }
  if (rows.every((r) => r.length === 0)) {
    throw new TokenizerError(`${fn}: no tokens — every text is empty and prependBos is false; expected ≥ 1 token in the batch`);
  }
  return padRows(rows, undefined, tok.padTokenId, side, fn);
}

/**
 * Lengths to keep of a pair under HF's `longest_first`: trim the longer first; when both are too
 * long, split the budget evenly (the longer gets the odd token). Ported from HF Rust `tokenizers`
 * `truncate_encodings`; equal to tokenizers ≤ 0.22 and transformers' Python `truncate_sequences`.
 * (tokenizers 0.23 caps both lengths at max_length before comparing them, which changes which
 * segment gets the odd token when both exceed max_length.)
 * @param n1 Length of the first segment.
 * @param n2 Length of the second segment.
 * @param budget Tokens available for both (maxLength − 3).
 * @returns Lengths to keep for the first and second segment.
 * @example longestFirstLengths(10, 10, 15); // [7, 8]
 * @category Tokenizers
 */
export function longestFirstLengths(n1: number, n2: number, budget: number): [number, number] {
  if (n1 + n2 <= budget) return [n1, n2];
  const swap = n1 > n2;
  let short = swap ? n2 : n1;
  let long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return swap ? [long, short] : [short, long];
}

type EncoderItem = readonly [string] | readonly [string, string];

function encoderItems(texts: unknown, fn: string): EncoderItem[] {
  if (typeof texts === 'string') return [[texts]];
  if (!Array.isArray(texts) || texts.length === 0) {
    throw new TokenizerError(`${fn}: texts must be a string, strings, or [text, textPair] pairs — got ${Array.isArray(texts) ? '[]' : typeof texts}`);
  }
  return texts.map((t: unknown, i): EncoderItem => {
    if (typeof t === 'string') return [t];
    if (Array.isArray(t) && t.length === 2 && typeof t[0] === 'string' && typeof t[1] === 'string') return [t[0], t[1]];
    throw new TokenizerError(`${fn}: texts[${i}] must be a string or a [text, textPair] pair of strings — got ${JSON.stringify(t)}`);
  });
}

/** One `[CLS] A [SEP] (B [SEP])` (RoBERTa: `<s> A </s> (</s> B </s>)`) row and its token types, truncated to `limit` if given. */
function encodeItem(
  tok: Tokenizer,
  item: EncoderItem,
  specials: { cls: number; sep: number; roberta: boolean },
  limit: number | undefined,
  fn: string,
): { ids: number[]; types: number[] } {
  const { cls, sep, roberta } = specials;
  let a = tok.encode(item[0]);
  let b = item[1] === undefined ? undefined : tok.encode(item[1]);
  if (limit !== undefined) {
    const nSpecial = b === undefined ? 2 : roberta ? 4 : 3;
    const budget = limit - nSpecial;
    if (budget < 0) {
      throw new ConfigError(`${fn}: maxLength ${limit} leaves no room for [CLS]/[SEP] — expected ≥ ${nSpecial}`);
    }
    if (b === undefined) {
      a = a.slice(0, budget);
    } else {
      const [n1, n2] = longestFirstLengths(a.length, b.length, budget);
      a = a.slice(0, n1);
      b = b.slice(0, n2);
    }
  }
  const first = [cls, ...a, sep];
  if (b === undefined) return { ids: first, types: new Array<number>(first.length).fill(0) };
  if (roberta) {
    const ids = [...first, sep, ...b, sep];
    return { ids, types: new Array<number>(ids.length).fill(0) };
  }
  return {
    ids: [...first, ...b, sep],
    types: [...new Array<number>(first.length).fill(0), ...new Array<number>(b.length + 1).fill(1)],
  };
}

/**
 * Encode texts or text pairs for an encoder (BERT/DistilBERT/RoBERTa), as HF `tokenizer(texts,
 * padding, truncation)`: `[CLS] A [SEP]`, or `[CLS] A [SEP] B [SEP]` with token types 0…0 1…1
 * (`style: 'roberta'`: `<s> A </s>`, or `<s> A </s> </s> B </s>` with token types all 0);
 * truncation to `maxLength` (pairs: HF `longest_first`); right padding with `padTokenId`.
 * @param tok A tokenizer with cls and sep tokens (`[CLS]`/`[SEP]`, RoBERTa `<s>`/`</s>`) and a pad token when padding.
 * @param texts One text, texts, or `[text, textPair]` pairs (a batch may mix singles and pairs).
 * @param opts maxLength, truncate, padding, style.
 * @returns `ids`, `attentionMask`, `tokenTypeIds` [batch, pos].
 * @throws {@link "tfjs-lens"!TokenizerError} for no texts, a malformed item, or missing `[CLS]`/`[SEP]`/`[PAD]`.
 * @throws {@link "tfjs-lens"!ConfigError} when `maxLength` is not an integer or leaves no room for the specials.
 * @example
 * encodeForEncoder(bert, [['hello', 'world']]);
 * // ids [[101, 7592, 102, 2088, 102]], tokenTypeIds [[0, 0, 0, 1, 1]]
 * @category Tokenizers
 */
export function encodeForEncoder(
  tok: Tokenizer,
  texts: string | readonly (string | readonly [string, string])[],
  opts: EncoderEncodeOptions = {},
): BatchEncoding {
  const fn = 'encodeForEncoder';
  const { clsTokenId: cls, sepTokenId: sep } = tok;
  if (cls === undefined || sep === undefined) {
    throw new TokenizerError(`${fn}: this ${tok.kind} tokenizer has no [CLS]/[SEP] tokens — expected a BERT-style (wordpiece) or RoBERTa tokenizer`);
  }
  const style = opts.style ?? 'bert';
  if (style !== 'bert' && style !== 'roberta') {
    throw new ConfigError(`${fn}: style must be 'bert' or 'roberta' — got ${JSON.stringify(style)}`);
  }
  const items = encoderItems(texts, fn);
  const maxLength = checkMaxLength(opts.maxLength ?? tok.modelMaxLength, fn, 1);
  const limit = (opts.truncate ?? true) ? maxLength : undefined;
  const encoded = items.map((item) => encodeItem(tok, item, { cls, sep, roberta: style === 'roberta' }, limit, fn));
  const rows = encoded.map((e) => e.ids);
  const types = encoded.map((e) => e.types);
  if (opts.padding ?? true) return padRows(rows, types, tok.padTokenId, 'right', fn);
  return { ids: rows, attentionMask: rows.map((r) => new Array<number>(r.length).fill(1)), tokenTypeIds: types };
}
