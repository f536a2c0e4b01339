/**
 * Autoregressive generation (TL `HookedTransformer.generate`), outside the model class. By default
 * (TL `use_past_kv_cache=True`) the prompt runs once and each later step feeds only the new token,
 * reading the keys and values of earlier positions from a {@link KvCache}, so a step costs the same
 * at every length; `useKvCache: false` reruns the whole sequence at each step. Hooks attached with
 * `model.withHooks(...)` apply at every step (with the cache they see only the new positions, as in
 * TL). Batches of strings are left-padded, with masks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, TokenizerError } from '../errors.js';
import { encodeForDecoder } from '../tokenizers/batch.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { seededRng } from '../utils/rng.js';
import type { ModelConfig } from './config.js';
import { KvCache } from './forward.js';
import { tokensToRows, type ModelInput, type TokenInput } from './inputs.js';
import { checkSampling, sampleToken, type SamplingOptions } from './sampling.js';

/** Options of generate. @category Model */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add (default 10). */
  readonly maxNewTokens?: number;
  /** Seed of the sampler (default 0). */
  readonly seed?: number;
  /** Stop a row at EOS and pad it with EOS afterwards (default true). */
  readonly stopAtEos?: boolean;
  /** EOS id (default: the config's / tokenizer's). */
  readonly eosTokenId?: number;
  /** Prepend BOS to string prompts (default: the model's, TL `default_prepend_bos`). */
  readonly prependBos?: boolean;
  /** Reuse keys and values of earlier positions (default true; TL `use_past_kv_cache`). */
  readonly useKvCache?: boolean;
}

/** What {@link generate} needs from a model; {@link "tfjs-lens"!HookedTransformer} has it. @category Model */
export interface GenerativeModel {
  /** Architecture: `dVocab`, `nCtx` and `eosTokenId` are read. */
  readonly cfg: ModelConfig;
  /** Tokenizer for string prompts and outputs (undefined: token ids only). */
  readonly tokenizer: Tokenizer | undefined;
  /**
   * Logits of a batch of token ids.
   * @param input Token ids [batch, pos].
   * @param opts `attentionMask` [batch, pos] (1 = real, 0 = padding) for left-padded prompts.
   * @returns Logits [batch, pos, d_vocab].
   */
  logits(input: TokenInput, opts: { attentionMask?: TokenInput }): tf.Tensor3D;
  /**
   * Logits of new tokens given the keys and values of earlier ones (absent: no key/value cache).
   * @param rows New token ids [batch, new].
   * @param mask Attention mask over cached + new positions, or undefined.
   * @param cache The cache; extended by the new positions on success.
   * @returns Logits [batch, new, d_vocab].
   */
  logitsWithKvCache?(rows: number[][], mask: number[][] | undefined, cache: KvCache): tf.Tensor3D;
}

/** Generated output: strings for string prompts, token rows otherwise. @category Model */
export type GenerateOutput = string | string[] | number[][];

function lastLogits(model: GenerativeModel, rows: number[][], mask: number[][] | undefined, kv: KvCache | undefined): Float32Array[] {
  let logits: tf.Tensor3D;
  if (kv !== undefined && model.logitsWithKvCache !== undefined) {
    const done = kv.length;
    logits = model.logitsWithKvCache(rows.map((r) => r.slice(done)), mask, kv);
  } else {
    logits = model.logits(rows, mask === undefined ? {} : { attentionMask: mask });
  }
  try {
    const [batch, pos, vocab] = logits.shape;
    const lastT = tf.slice(logits, [0, pos - 1, 0], [batch, 1, vocab]); // [batch, 1, vocab]
    let last: Float32Array;
    try {
      last = lastT.dataSync() as Float32Array; // not returned from a tidy, which would walk every element
    } finally {
      lastT.dispose();
    }
    return Array.from({ length: batch }, (_, b) => last.subarray(b * vocab, (b + 1) * vocab));
  } finally {
    logits.dispose();
  }
}

/**
 * Continue prompts token by token.
 * @param model The model.
 * @param input Prompt text(s) or token ids [batch, pos].
 * @param opts maxNewTokens, temperature (0 = greedy), topK, topP, seed, stopAtEos, useKvCache.
 * @returns Full texts (prompt + continuation) for string input, else token rows.
 * @throws {@link "tfjs-lens"!ConfigError} on bad options or if the result would exceed n_ctx.
 * @category Model
 */
export function generate(model: GenerativeModel, input: ModelInput, opts: GenerateOptions = {}): GenerateOutput {
  checkSampling(opts);
  const maxNew = opts.maxNewTokens ?? 10;
  if (!(Number.isInteger(maxNew) && maxNew >= 0)) {
    throw new ConfigError(`generate: maxNewTokens must be a non-negative integer, got ${maxNew}`);
  }
  const isText = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string');
  const prependBos = opts.prependBos ?? model.cfg.defaultPrependBos ?? true;
  let rows: number[][];
  let mask: number[][] | undefined;
  if (isText) {
    const tok = model.tokenizer;
    if (tok === undefined) throw new TokenizerError('generate: string prompts need a tokenizer (pass token ids)');
    const enc = encodeForDecoder(tok, input as string | string[], { prependBos, paddingSide: 'left' });
    rows = enc.ids;
    if (enc.attentionMask.some((r) => r.includes(0))) mask = enc.attentionMask;
  } else {
    rows = tokensToRows(input as TokenInput, model.cfg.dVocab, 'generate');
  }
  if ((rows[0]?.length ?? 0) + maxNew > model.cfg.nCtx) {
    throw new ConfigError(`generate: prompt length ${rows[0]?.length} + maxNewTokens ${maxNew} exceeds n_ctx ${model.cfg.nCtx}`);
  }
  const eos = opts.eosTokenId ?? model.cfg.eosTokenId ?? model.tokenizer?.eosTokenId;
  const stopAtEos = opts.stopAtEos !== false && eos !== undefined;
  const rand = seededRng(opts.seed ?? 0);
  const finished = rows.map(() => false);
  const kv = opts.useKvCache !== false && model.logitsWithKvCache !== undefined ? new KvCache(model.cfg.nLayers) : undefined;
  try {
    for (let step = 0; step < maxNew; step++) {
      const next = lastLogits(model, rows, mask, kv).map((l) => sampleToken(l, opts, rand));
      rows = rows.map((r, b) => [...r, finished[b] === true && eos !== undefined ? eos : (next[b] as number)]);
      if (mask !== undefined) mask = mask.map((m) => [...m, 1]);
      if (stopAtEos) {
        next.forEach((t, b) => {
          if (t === eos) finished[b] = true;
        });
        if (finished.every((f) => f)) break;
      }
    }
  } finally {
    kv?.dispose();
  }
  if (!isText) return rows;
  const tok = model.tokenizer as Tokenizer;
  // Drop pads, and the BOS we prepended (TL decodes tokens[1:] when it prepended BOS).
  const skip = prependBos ? 1 : 0;
  const texts = rows.map((r, b) => tok.decode(r.filter((_, i) => mask?.[b]?.[i] !== 0).slice(skip)));
  return typeof input === 'string' ? (texts[0] ?? '') : texts;
}
