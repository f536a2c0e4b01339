/**
 * Input normalisation: token ids as tf tensors (ours or another tfjs instance's), nested arrays,
 * typed arrays, or strings (tokenised by the model's tokenizer). Everything becomes plain
 * `number[][]` first, so callers never need to share our tfjs instance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, TokenizerError } from '../errors.js';
import { encodeForDecoder } from '../tokenizers/batch.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/**
 * Anything with a shape and a synchronous array view (a tfjs tensor from any tfjs copy).
 * @category Model
 */
export interface TensorLike {
  /** Shape: [batch, pos] or [pos] for token ids. */
  readonly shape: readonly number[];
  /** The values as nested arrays (as `tf.Tensor.arraySync`). */
  arraySync(): unknown;
}

/** Token ids: a tensor [batch, pos] or [pos], nested arrays, or typed arrays. @category Model */
export type TokenInput = TensorLike | readonly number[] | readonly (readonly number[])[] | Int32Array;

/** Model input: text(s) or token ids. @category Model */
export type ModelInput = string | readonly string[] | TokenInput;

/** Tokenisation options for string inputs (TL `to_tokens`). @category Model */
export interface TokenizeOptions {
  /** Prepend BOS (default true, as TL's default_prepend_bos). */
  readonly prependBos?: boolean;
  /** Side to pad a batch of strings on (default 'right'). */
  readonly paddingSide?: 'left' | 'right';
  /**
   * Truncate to n_ctx (TL `truncate`). Default (undefined): truncate with one stderr warning per call
   * stating the tokens cut (silenced by `TFJS_LENS_QUIET=1`); `true`: truncate silently; `false`: a
   * text longer than n_ctx is a ShapeError.
   */
  readonly truncate?: boolean;
}

/**
 * The stderr warning of a truncation the caller did not ask for (`truncate` left undefined).
 * @param fn Function name for the message.
 * @param opts The caller's tokenisation options.
 * @returns A callback for `encodeForDecoder`'s `onTruncate`, or undefined when no warning is due.
 */
export function truncationWarning(fn: string, opts: TokenizeOptions): ((cut: { tokens: number; rows: number; maxLength: number }) => void) | undefined {
  if (opts.truncate !== undefined || process.env['TFJS_LENS_QUIET'] === '1') return undefined;
  return (c) => {
    const rows = c.rows === 1 ? 'the text' : `${c.rows} texts`;
    process.stderr.write(
      `${fn}: warning: ${rows} exceeded the model's n_ctx ${c.maxLength}; cut ${c.tokens} token${c.tokens === 1 ? '' : 's'} from the end ` +
        '[pass truncate: true to cut silently, or truncate: false to raise an error]\n',
    );
  };
}

function isTensorLike(x: unknown): x is TensorLike {
  return typeof x === 'object' && x !== null && 'shape' in x && typeof (x as TensorLike).arraySync === 'function';
}

/**
 * Convert token ids to `number[][]`, checking rank, integrality and range.
 * @throws {@link "tfjs-lens"!ShapeError} for bad rank/ragged rows/non-integers/out-of-range ids.
 */
export function tokensToRows(input: TokenInput, dVocab: number, fn: string): number[][] {
  let rows: unknown;
  if (isTensorLike(input) && input.shape.some((d) => d === 0)) {
    // arraySync flattens an empty [1, 0] tensor to [], so its shape is reported from here.
    throw new ShapeError(`${fn}: tokens have shape [${input.shape.join(', ')}]; each sequence needs pos ≥ 1 token [an empty text with prependBos: false has none: prepend BOS or give some text]`);
  }
  if (isTensorLike(input)) rows = input.arraySync();
  else if (input instanceof Int32Array) rows = [Array.from(input)];
  else rows = input;
  if (!Array.isArray(rows)) throw new ShapeError(`${fn}: tokens must be an array or tensor, got ${typeof rows}`);
  if (rows.length > 0 && typeof rows[0] === 'number') rows = [rows];
  const out = rows as unknown[];
  if (out.length === 0) throw new ShapeError(`${fn}: tokens must have shape [batch, pos] with batch ≥ 1, got []`);
  const width = Array.isArray(out[0]) ? (out[0] as unknown[]).length : -1;
  for (const [i, r] of out.entries()) {
    if (!Array.isArray(r) || r.length !== width || width === 0) {
      throw new ShapeError(`${fn}: tokens must be a non-ragged [batch, pos] array with pos ≥ 1 (row ${i} is not)`);
    }
    for (const v of r) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= dVocab) {
        throw new ShapeError(`${fn}: token ids must be integers in [0, ${dVocab}), got ${String(v)} in row ${i}`);
      }
    }
  }
  return out as number[][];
}

/** Resolved model input: ids, and the attention mask TL would use (undefined = no mask). */
export interface ResolvedInput {
  /** Token ids [batch, pos]; zeros of the residual's [batch, pos] in a `startAtLayer` run without `tokens`. */
  readonly rows: number[][];
  /** A `startAtLayer` run: the first block and the caller's residual [batch, pos, d_model]. */
  readonly start?: { readonly layer: number; readonly residual: TensorLike; readonly hasTokens: boolean };
  /** Mask used by attention and positions (left padding or explicit). */
  readonly mask: number[][] | undefined;
  /** Mask used by the loss (any padding we introduced, or explicit). */
  readonly lossMask: number[][] | undefined;
}

/**
 * Resolve any model input to token rows and masks.
 * @param input Strings or token ids.
 * @param tokenizer Tokenizer for strings (undefined → strings are an error).
 * @param dVocab Vocabulary size (range check).
 * @param nCtx Context length.
 * @param opts Tokenisation options.
 * @param explicitMask A caller's attention mask [batch, pos] (1 = keep).
 */
export function resolveInput(
  input: ModelInput,
  tokenizer: Tokenizer | undefined,
  dVocab: number,
  nCtx: number,
  opts: TokenizeOptions & { attentionMask?: TokenInput | undefined },
  fn: string,
): ResolvedInput {
  let rows: number[][];
  let padMask: number[][] | undefined;
  if (typeof input === 'string' || (Array.isArray(input) && input.length > 0 && typeof input[0] === 'string')) {
    if (tokenizer === undefined) {
      throw new TokenizerError(`${fn}: string input needs a tokenizer, and this model has none (pass token ids)`);
    }
    const enc = encodeForDecoder(tokenizer, input as string | string[], { ...opts, maxLength: nCtx, onTruncate: truncationWarning(fn, opts) });
    rows = enc.ids;
    const padded = enc.attentionMask.some((r) => r.some((v) => v === 0));
    if (padded) padMask = enc.attentionMask;
    if (padded && opts.paddingSide !== 'left') {
      // Right padding: TL passes no mask to attention (causality already hides trailing pads).
      const lossMask = opts.attentionMask === undefined ? padMask : maskRows(opts.attentionMask, rows, fn);
      return { rows: tokensToRows(rows, dVocab, fn), mask: undefined, lossMask };
    }
  } else {
    rows = tokensToRows(input as TokenInput, dVocab, fn);
  }
  rows = tokensToRows(rows, dVocab, fn);
  if ((rows[0]?.length ?? 0) > nCtx) {
    const fix = opts.truncate === false && typeof input === 'string' ? ' [truncate: false was passed; shorten the text, or leave truncate unset to cut it with a warning]' : '';
    throw new ShapeError(`${fn}: sequence length ${rows[0]?.length} exceeds n_ctx ${nCtx}${fix}`);
  }
  const mask = opts.attentionMask !== undefined ? maskRows(opts.attentionMask, rows, fn) : padMask;
  return { rows, mask, lossMask: mask };
}

/**
 * Check an attention mask (0/1 ids) against the token rows' shape.
 * @throws {@link "tfjs-lens"!ShapeError} for values outside {0, 1} or a shape other than the rows'.
 */
export function maskRows(m: TokenInput, rows: readonly number[][], fn: string): number[][] {
  const mr = tokensToRows(m, 2, `${fn} (attentionMask)`);
  if (mr.length !== rows.length || mr[0]?.length !== rows[0]?.length) {
    throw new ShapeError(
      `${fn}: attentionMask shape [${mr.length}, ${mr[0]?.length}] must equal tokens [${rows.length}, ${rows[0]?.length}]`,
    );
  }
  return mr;
}

/** Make an int32 tensor from token rows. */
export function rowsToTensor(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]?.length ?? 0], 'int32');
}
