/**
 * Tokenisation helpers with TransformerLens semantics (`to_tokens`, `to_str_tokens`, `to_string`,
 * `to_single_token`, `get_token_position`). Plain functions over a Tokenizer; the model classes
 * expose them as methods.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, TokenizerError } from '../errors.js';
import { encodeForDecoder } from '../tokenizers/batch.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { tokensToRows, truncationWarning, type TokenInput, type TokenizeOptions } from './inputs.js';

/** Throw unless a tokenizer is present. */
export function needTokenizer(tok: Tokenizer | undefined, fn: string): Tokenizer {
  if (tok === undefined) {
    throw new TokenizerError(`${fn}: this model has no tokenizer (load one with a tokenizer folder, or pass token ids)`);
  }
  return tok;
}

/**
 * Tokenise text(s) to ids [batch, pos] (TL `to_tokens`). Texts that give no token at all (empty,
 * with `prependBos: false`) give an empty [batch, 0] tensor, as TL; a model refuses such a row with
 * a ShapeError.
 * @returns int32 tensor [batch, pos] (caller disposes).
 */
export function toTokens(tok: Tokenizer, input: string | readonly string[], nCtx: number, opts: TokenizeOptions = {}): tf.Tensor2D {
  const list = typeof input === 'string' ? [input] : input;
  // Cheap test first (a blank text), then the tokenizer (some map whitespace to no token).
  if (opts.prependBos === false && list.length > 0 && list.every((t) => typeof t === 'string' && t.trim() === '') && list.every((t) => tok.encode(t).length === 0)) {
    return tf.tensor2d([], [list.length, 0], 'int32');
  }
  const enc = encodeForDecoder(tok, input, { ...opts, maxLength: nCtx, onTruncate: truncationWarning('toTokens', opts) });
  return tf.tensor2d(enc.ids, [enc.ids.length, enc.ids[0]?.length ?? 0], 'int32');
}

/** Each token of one sequence as its own string (TL `to_str_tokens`). */
export function toStrTokens(
  tok: Tokenizer,
  input: string | TokenInput,
  nCtx: number,
  opts: TokenizeOptions = {},
): string[] {
  let row: number[];
  if (typeof input === 'string') {
    row = encodeForDecoder(tok, input, { ...opts, maxLength: nCtx, onTruncate: truncationWarning('toStrTokens', opts) }).ids[0] ?? [];
  } else {
    const rows = tokensToRows(input, tok.vocabSize, 'toStrTokens');
    if (rows.length !== 1) throw new ShapeError(`toStrTokens: expected one sequence, got batch ${rows.length}`);
    row = rows[0] ?? [];
  }
  return row.map((id) => tok.decodeToken(id));
}

/** Decode ids to text: one string for [pos], a list for [batch, pos] (TL `to_string`). */
export function toText(tok: Tokenizer, tokens: TokenInput): string | string[] {
  const isBatch =
    'shape' in tokens ? tokens.shape.length === 2 : Array.isArray(tokens) && Array.isArray(tokens[0]);
  const rows = tokensToRows(tokens, tok.vocabSize, 'toString');
  const texts = rows.map((r) => tok.decode(r));
  return isBatch ? texts : (texts[0] ?? '');
}

/** The id of a string that must be exactly one token; never prepends BOS (TL `to_single_token`). */
export function toSingleToken(tok: Tokenizer, text: string): number {
  const ids = tok.encode(text);
  if (ids.length !== 1 || ids[0] === undefined) {
    throw new TokenizerError(`toSingleToken: '${text}' is ${ids.length} tokens, expected exactly 1`);
  }
  return ids[0];
}

/**
 * Position of a token in a sequence (TL `get_token_position`).
 * @param single Token id or single-token string.
 * @param input Text or one sequence of ids.
 * @param mode 'first' (default) or 'last' occurrence.
 * @throws {@link "tfjs-lens"!TokenizerError} if absent.
 */
export function tokenPosition(
  tok: Tokenizer,
  single: string | number,
  input: string | TokenInput,
  nCtx: number,
  opts: TokenizeOptions & { mode?: 'first' | 'last' } = {},
): number {
  const id = typeof single === 'number' ? single : toSingleToken(tok, single);
  const row =
    typeof input === 'string'
      ? (encodeForDecoder(tok, input, { ...opts, maxLength: nCtx, onTruncate: truncationWarning('getTokenPosition', opts) }).ids[0] ?? [])
      : (tokensToRows(input, tok.vocabSize, 'getTokenPosition')[0] ?? []);
  const pos = opts.mode === 'last' ? row.lastIndexOf(id) : row.indexOf(id);
  if (pos < 0) throw new TokenizerError(`getTokenPosition: token ${id} ('${tok.decodeToken(id)}') is not in the input`);
  return pos;
}
