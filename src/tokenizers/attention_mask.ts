/**
 * TL `utils.get_attention_mask`: the attention mask of padded token rows, from the pad token alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * Attention mask of padded token rows (TL `utils.get_attention_mask`): 1 everywhere except the
 * pad tokens at the padded end: with right padding, the trailing run of pad ids; with left padding,
 * the leading run — and when BOS was prepended and BOS is the pad token (GPT-2), the last of that
 * run is the BOS and is kept. Pad ids elsewhere (an `<|endoftext|>` inside a text) stay 1.
 * @param tokenizer Supplies `padTokenId` (none: nothing is padding, all ones) and `bosTokenId`.
 * @param tokens Token rows [batch, pos] (arrays or a tensor).
 * @param prependBos Whether the rows start with a prepended BOS.
 * @param paddingSide The side the rows were padded on (TL reads `tokenizer.padding_side`; default 'right').
 * @returns The mask [batch, pos] of 0/1 (plain arrays; pass them as `attentionMask`).
 * @throws {@link "tfjs-lens"!ShapeError} for ragged rows; {@link "tfjs-lens"!ConfigError} for a bad padding side.
 * @example getAttentionMask(gpt2, [[50256, 50256, 15496]], true, 'left'); // [[0, 1, 1]]
 * @category Tokenizers
 */
export function getAttentionMask(
  tokenizer: Tokenizer,
  tokens: readonly (readonly number[])[] | tf.Tensor2D,
  prependBos: boolean,
  paddingSide: 'left' | 'right' = 'right',
): number[][] {
  const fn = 'getAttentionMask';
  if (paddingSide !== 'left' && paddingSide !== 'right') throw new ConfigError(`${fn}: paddingSide must be 'left' or 'right', got ${JSON.stringify(paddingSide)}`);
  const rows = tokens instanceof tf.Tensor ? (tokens.arraySync() as number[][]) : tokens;
  const width = rows[0]?.length ?? 0;
  if (rows.some((r) => r.length !== width)) throw new ShapeError(`${fn}: tokens must be [batch, pos] with rows of one length`);
  const pad = tokenizer.padTokenId;
  return rows.map((row) => {
    const mask = row.map(() => 1);
    if (pad === undefined) return mask;
    if (paddingSide === 'right') {
      for (let p = width - 1; p >= 0 && row[p] === pad; p--) mask[p] = 0;
      return mask;
    }
    let lead = 0;
    while (lead < width && row[lead] === pad) mask[lead++] = 0;
    if (prependBos && tokenizer.bosTokenId === pad && lead > 0) mask[lead - 1] = 1; // the BOS closing the run
    return mask;
  });
}
