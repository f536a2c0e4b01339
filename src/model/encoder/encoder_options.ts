/**
 * Option and result types of {@link "tfjs-lens"!HookedEncoder.forward} and its run methods (re-exported by
 * `hooked_encoder.ts`), and the option keys its run path checks.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { HookFlags } from '../../hooks/hook_spec.js';
import type { OptionKeys } from '../../utils/options.js';
import type { CacheOption, HooksOption } from '../hooked_model.js';
import type { TokenInput } from '../inputs.js';
import type { ClassifierLogitsAndLoss, ClassLabels } from '../classifier/loss.js';

/** Encoder input: text(s), sentence pairs, or token ids [batch, pos]. @category Encoder */
export type EncoderInput = string | readonly string[] | readonly (readonly [string, string])[] | TokenInput;

/** Options of {@link HookedEncoder.forward}. @category Encoder */
export interface EncoderForwardOptions extends HookFlags {
  /**
   * 'logits' (default when the model has a head: MLM logits [batch, pos, d_vocab], or class logits
   * [batch, n_labels] with a sequence-classification head), 'embeddings' (final hidden states),
   * 'loss' / 'both' (classification head and `labels` only) or 'none' (undefined).
   */
  readonly returnType?: 'logits' | 'embeddings' | 'loss' | 'both' | 'none';
  /** Labels for 'loss' / 'both' (HF `labels=`): a class id per row, or [batch, num_labels] targets. */
  readonly labels?: ClassLabels;
  /** 1 = real token, 0 = padding, [batch, pos]; built automatically for text input. */
  readonly attentionMask?: TokenInput;
  /** Segment ids [batch, pos] (BERT; RoBERTa has one segment type); built automatically for sentence pairs. */
  readonly tokenTypeIds?: TokenInput;
  /**
   * Exclusive layer to stop at (an integer in [-n_layers, n_layers]); returns the residual stream
   * entering that block [batch, pos, d_model] (the MLM head does not run).
   */
  readonly stopAtLayer?: number;
  /** Truncate text input to this many tokens (default: the model's n_ctx; RoBERTa: n_ctx − pad_token_id − 1). */
  readonly maxLength?: number;
}

export const ENCODER_FORWARD_KEYS: OptionKeys<EncoderForwardOptions> = {
  returnType: true, attentionMask: true, tokenTypeIds: true, stopAtLayer: true, maxLength: true, labels: true,
  useAttnResult: true, useSplitQkvInput: true, useHookMlpIn: true, useAttnIn: true,
};

/** Options of {@link HookedEncoder.runWithCache}. @category Encoder */
export interface EncoderRunWithCacheOptions extends EncoderForwardOptions, CacheOption {}

/** Options of {@link HookedEncoder.runWithHooks}. @category Encoder */
export interface EncoderRunWithHooksOptions extends EncoderForwardOptions, HooksOption {}

/** Options selecting no output. @category Encoder */
export interface EncoderNoneOptions {
  /** 'none'. */
  readonly returnType: 'none';
}
/** Options selecting a tensor output (logits or hidden states). @category Encoder */
export interface EncoderTensorOptions {
  /** 'logits', 'embeddings' or absent (the model's default). */
  readonly returnType?: 'logits' | 'embeddings';
}

/** Everything {@link HookedEncoder.forward} can return. @category Encoder */
export type EncoderOutput = tf.Tensor | ClassifierLogitsAndLoss | undefined;

/** Options selecting a tensor or no output, not known at compile time. @category Encoder */
export interface EncoderTensorOrNoneOptions {
  /** 'logits', 'embeddings', 'none' or absent. */
  readonly returnType?: 'logits' | 'embeddings' | 'none';
}

/** Token ids, mask and segment ids as plain arrays. @category Encoder */
export interface EncoderBatch {
  /** Token ids [batch, pos]. */
  readonly ids: number[][];
  /** 1 = real token, 0 = padding [batch, pos]. */
  readonly attentionMask: number[][];
  /** Segment ids [batch, pos]. */
  readonly tokenTypeIds: number[][];
}
