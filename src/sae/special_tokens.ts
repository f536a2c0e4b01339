/**
 * Special-token masking of SAE evaluations (SAELens `evals.py` `run_evals(exclude_special_tokens=True)`
 * with `util.get_special_token_ids`): positions whose input token is a special token (BOS, EOS, PAD,
 * UNK, CLS, SEP, MASK) are left out of every metric, and the SAE is not spliced in there.
 * Read from SAELens v6.18.0 (jbloomAus/SAELens 91ca16cc) and decoderesearch/SAELens 191d44eb.
 */
import type { SpecialTokenIds } from '../tokenizers/tokenizer.js';

/** The parts of a model that carry special-token ids. @category SAE */
export interface SpecialTokenSource {
  /** Architecture facts: the BOS / EOS ids of the config. */
  readonly cfg: {
    /** Beginning-of-sequence id, if any. */
    readonly bosTokenId?: number | undefined;
    /** End-of-sequence id, if any. */
    readonly eosTokenId?: number | undefined;
  };
  /** The tokenizer, if loaded (its bos/eos/pad/unk/cls/sep/mask ids). */
  readonly tokenizer?: SpecialTokenIds | undefined;
}

/**
 * Which token ids an evaluation leaves out: `true` = every special token of the model
 * (SAELens's default), `false` = none, a list = exactly those ids.
 * @category SAE
 */
export type ExcludeSpecialTokens = boolean | readonly number[];

/**
 * All special-token ids of a model (SAELens `get_special_token_ids`: every `*_token_id` of the tokenizer),
 * from the tokenizer when loaded and from the config's BOS / EOS ids.
 * @param model A model (HookedTransformer or HookedEncoder).
 * @returns Distinct ids, ascending (GPT-2: [50256]; BERT: [0, 100, 101, 102, 103]).
 * @example specialTokenIds(model);   // [50256]
 * @throws Never.
 * @category SAE
 */
export function specialTokenIds(model: SpecialTokenSource): number[] {
  const t = model.tokenizer;
  const ids = [
    model.cfg.bosTokenId, model.cfg.eosTokenId,
    t?.bosTokenId, t?.eosTokenId, t?.padTokenId, t?.unkTokenId, t?.clsTokenId, t?.sepTokenId, t?.maskTokenId,
  ].filter((i): i is number => typeof i === 'number' && Number.isInteger(i));
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * Resolve an {@link ExcludeSpecialTokens} option to the ids to leave out.
 * @param model The model whose special tokens `true` means.
 * @param opt The option (default true).
 * @returns The ids (empty: nothing is masked).
 * @example excludedTokenIds(model, false);   // []
 * @throws Never.
 * @category SAE
 */
export function excludedTokenIds(model: SpecialTokenSource, opt: ExcludeSpecialTokens = true): number[] {
  if (opt === true) return specialTokenIds(model);
  if (opt === false) return [];
  return [...new Set(opt)];
}

/**
 * 1 where a position is scored, 0 where its input token is excluded (SAELens's `mask`).
 * @param rows Token rows [batch, pos].
 * @param excluded Ids to leave out.
 * @returns Flat row-major mask [batch · pos].
 * @example keepMask([[50256, 5, 6]], [50256]);   // Float32Array [0, 1, 1]
 * @throws Never.
 * @category SAE
 */
export function keepMask(rows: readonly (readonly number[])[], excluded: readonly number[]): Float32Array {
  const ex = new Set(excluded);
  const width = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, b) => r.forEach((t, p) => { out[b * width + p] = ex.has(t) ? 0 : 1; }));
  return out;
}
