/**
 * Option and result types of {@link HookedTransformer.forward} and its siblings (`runWithCache`,
 * `runWithHooks`, `inputToEmbed`, `lossFn`), and the runtime key lists used to reject unknown
 * options. Re-exported by `hooked_transformer.ts` so public imports keep working.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { OptionKeys } from '../utils/options.js';
import type { CacheOption, HooksOption } from './hooked_model.js';
import type { TokenInput, TokenizeOptions } from './inputs.js';
import type { ClassifierLogitsAndLoss, ClassLabels } from './classifier/loss.js';

/** What `forward` returns: 'logits', 'loss', 'both' or 'none'. @category Model */
export type ForwardReturnType = 'logits' | 'loss' | 'both' | 'none';

/** Options of {@link HookedTransformer.forward}. @category Model */
export interface ForwardOptions extends TokenizeOptions, HookFlags {
  /** 'logits' (default), 'loss', 'both' or 'none' (returns undefined). */
  readonly returnType?: ForwardReturnType;
  /** With 'loss'/'both': per-token losses [batch, pos-1] instead of the mean. */
  readonly lossPerToken?: boolean;
  /** 1 = attend, 0 = padding, [batch, pos]. Enables offset positions (TL left-padding semantics). */
  readonly attentionMask?: TokenInput;
  /**
   * Exclusive layer to stop at (an integer in [-n_layers, n_layers]); the output is then the
   * residual stream entering that block [batch, pos, d_model] instead of logits. Not with 'loss'/'both'.
   */
  readonly stopAtLayer?: number;
  /**
   * Inclusive layer to start at (TL `start_at_layer`; an integer in [-n_layers, n_layers], negative
   * counting from the end): the input is then the residual stream entering that block
   * [batch, pos, d_model] (a tensor, e.g. from {@link "tfjs-lens"!HookedTransformer.inputToEmbed}); the
   * embedding and the blocks before it are skipped and their hooks do not fire. Rotary positions
   * and padding come from `attentionMask` (none: positions 0 … pos-1, nothing masked).
   */
  readonly startAtLayer?: number;
  /**
   * Token ids [batch, pos] of a `startAtLayer` run (TL `tokens`): needed for 'loss' / 'both' and
   * for a sequence-classification head; ignored otherwise.
   */
  readonly tokens?: TokenInput;
  /**
   * TL `shortformer_pos_embed`: accepted so TL-style calls keep their shape, but none of the decoder
   * families here use shortformer positions; it must be undefined (as `inputToEmbed` returns it).
   */
  readonly shortformerPosEmbed?: undefined;
  /**
   * Labels of a sequence-classification checkpoint for 'loss' / 'both' (HF `labels=`): a class id
   * per row, or [batch, num_labels] targets.
   */
  readonly labels?: ClassLabels;
}

/** Runtime keys of {@link ForwardOptions} (checked for plain-JS callers). */
export const FORWARD_KEYS: OptionKeys<ForwardOptions> = {
  labels: true, startAtLayer: true, tokens: true, shortformerPosEmbed: true,
  returnType: true, lossPerToken: true, attentionMask: true, stopAtLayer: true, prependBos: true, paddingSide: true,
  truncate: true, useAttnResult: true, useSplitQkvInput: true, useHookMlpIn: true, useAttnIn: true,
};

/** Options of {@link HookedTransformer.runWithCache}. @category Model */
export interface RunWithCacheOptions extends ForwardOptions, CacheOption {}

/** Options of {@link HookedTransformer.runWithHooks}. @category Model */
export interface RunWithHooksOptions extends ForwardOptions, HooksOption {}

/** `returnType: 'both'` result. @category Model */
export interface LogitsAndLoss {
  /** Logits [batch, pos, d_vocab]. */
  readonly logits: tf.Tensor3D;
  /** Mean next-token loss (scalar), or per-token losses [batch, pos-1] with `lossPerToken`. */
  readonly loss: tf.Tensor;
}

/** Output of forward for a return type not known at compile time. @category Model */
export type ForwardOutput = tf.Tensor | LogitsAndLoss | ClassifierLogitsAndLoss | undefined;

/** Options selecting logits (the default) or, with stopAtLayer, the residual stream. @category Model */
export interface LogitsOptions {
  /** 'logits' or absent. */
  readonly returnType?: 'logits';
}
/** Options selecting the mean loss. @category Model */
export interface LossOptions {
  /** 'loss'. */
  readonly returnType: 'loss';
  /** false or absent: the mean over tokens. */
  readonly lossPerToken?: false;
}
/** Options selecting per-token losses. @category Model */
export interface LossPerTokenOptions {
  /** 'loss'. */
  readonly returnType: 'loss';
  /** true: [batch, pos-1]. */
  readonly lossPerToken: true;
}
/** Options selecting logits and loss. @category Model */
export interface BothOptions {
  /** 'both'. */
  readonly returnType: 'both';
}
/** Options selecting no output. @category Model */
export interface NoneOptions {
  /** 'none'. */
  readonly returnType: 'none';
}

/** Options of {@link HookedTransformer.inputToEmbed} (TL `input_to_embed`). @category Model */
export interface InputToEmbedOptions extends TokenizeOptions, HookFlags {
  /** Explicit attention mask [batch, pos] (1 = attend); returned as given. */
  readonly attentionMask?: TokenInput;
}

/** Runtime keys of {@link InputToEmbedOptions}. */
export const INPUT_TO_EMBED_KEYS: OptionKeys<InputToEmbedOptions> = {
  attentionMask: true, prependBos: true, paddingSide: true, truncate: true,
  useAttnResult: true, useSplitQkvInput: true, useHookMlpIn: true, useAttnIn: true,
};

/**
 * What {@link HookedTransformer.inputToEmbed} returns (TL's 4-tuple `(residual, tokens,
 * shortformer_pos_embed, attention_mask)`); every tensor is new and owned by the caller.
 * @category Model
 */
export interface EmbedOutput {
  /** The residual stream entering block 0 [batch, pos, d_model] (embedding, plus W_pos for learned positions). */
  readonly residual: tf.Tensor3D;
  /** Token ids [batch, pos] (int32). */
  readonly tokens: tf.Tensor2D;
  /** Always undefined: no family here uses shortformer positions. */
  readonly shortformerPosEmbed: undefined;
  /**
   * Attention mask [batch, pos] (int32) when TL would make one: an explicit mask, left padding
   * (the model's or the call's padding side), or a left-padded batch; undefined otherwise.
   */
  readonly attentionMask: tf.Tensor2D | undefined;
}

/** Options of {@link HookedTransformer.lossFn} (TL `loss_fn`). @category Model */
export interface LossFnOptions {
  /** Attention mask [batch, pos] (1 = real token): a position counts if it and the next are real. */
  readonly attentionMask?: TokenInput;
  /** Per-token losses [batch, pos-1] instead of the mean (TL `per_token`). */
  readonly perToken?: boolean;
}

/** Options of {@link HookedTransformer.setTokenizer} (TL `set_tokenizer`). @category Model */
export interface SetTokenizerOptions {
  /** Padding side used when a call gives none (TL `default_padding_side`; default 'right'). */
  readonly defaultPaddingSide?: 'left' | 'right';
}
