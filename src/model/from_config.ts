/**
 * A randomly initialised decoder for a config, TL `HookedTransformer(cfg, tokenizer)`: `dVocab`
 * may be inferred from the tokenizer (TL `d_vocab = max(tokenizer.vocab.values()) + 1`) and the
 * unembedding is `dVocabOut` wide (default dVocab).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { tfjsSeed } from '../utils/rng.js';
import { validateConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import type { DecoderParams } from './params.js';
import { randomDecoderParams } from './random_init.js';

/** Options of {@link HookedTransformer.fromConfig}. @category Model */
export interface FromConfigOptions {
  /** Tokenizer for string inputs; its vocabulary size is `dVocab` when the config leaves it out. */
  readonly tokenizer?: Tokenizer;
  /** Seed of the random weights (default 0). */
  readonly seed?: number;
  /** Standard deviation of the random weights (default 0.02, GPT-2's). */
  readonly std?: number;
  /** Optional hook points to enable. */
  readonly flags?: HookFlags;
  /** Padding side when a call gives none (default 'right'). */
  readonly defaultPaddingSide?: 'left' | 'right';
}

/**
 * The full config (dVocab filled in) and random parameters.
 * @throws {@link "tfjs-lens"!ConfigError} when dVocab is absent and there is no tokenizer, or the config is invalid.
 */
export function decoderFromConfig(input: ModelConfigInput, opts: FromConfigOptions): { cfg: ModelConfig; params: DecoderParams } {
  const dVocab = input.dVocab ?? opts.tokenizer?.vocabSize;
  if (dVocab === undefined) {
    throw new ConfigError('HookedTransformer.fromConfig: dVocab is missing and there is no tokenizer to infer it from; set cfg.dVocab or pass { tokenizer }');
  }
  const cfg = validateConfig({ ...input, dVocab });
  const params = randomDecoderParams(cfg, { seed: opts.seed ?? 0, std: opts.std ?? 0.02 });
  const out = cfg.dVocabOut;
  if (out === undefined || out === dVocab) return { cfg, params };
  // An unembedding of its own width [d_model, d_vocab_out] (the random init ties W_U to W_E).
  params.W_U.dispose();
  params.b_U.dispose();
  const W_U = tf.randomNormal<tf.Rank.R2>([cfg.dModel, out], 0, opts.std ?? 0.02, 'float32', tfjsSeed((opts.seed ?? 0) + 7919));
  return { cfg, params: { ...params, W_U, b_U: tf.zeros([out]) } };
}
