/**
 * The part of {@link HookedTransformer} that is not the run: its config and tokenizer with TL's
 * tokenisation defaults (`default_prepend_bos`, the padding side, `set_tokenizer`), the
 * tokenisation helpers (`to_tokens`, `to_str_tokens`, …) and TL's stacked weight properties
 * (`W_Q`, `W_U`, …). Split out to keep the model class short.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { checkOptionKeys } from '../utils/options.js';
import type { ModelConfig } from './config.js';
import type { ForwardOptions, ForwardOutput, SetTokenizerOptions } from './forward_options.js';
import { HookedModel } from './hooked_model.js';
import type { ResolvedInput, TokenInput, TokenizeOptions } from './inputs.js';
import { checkDefaults } from './load_decoder.js';
import { needTokenizer, toSingleToken, toStrTokens, toText, toTokens, tokenPosition } from './token_helpers.js';
import type { WeightsView } from './weights_view.js';

/**
 * Base of {@link HookedTransformer}: config, tokenizer, tokenisation defaults and helpers, TL weight properties.
 * @category Model
 */
export abstract class HookedDecoderBase extends HookedModel<ForwardOptions, ResolvedInput, ForwardOutput> {
  /** The config (replaced, not mutated, when a default changes). */
  protected cfgValue: ModelConfig;
  /** The tokenizer for string inputs. */
  protected tokenizerValue: Tokenizer | undefined;
  /** Padding side used when a call gives none. */
  protected paddingSideValue: 'left' | 'right' = 'right';
  /** TL-named weights (W_E, W_Q [n_layers, n_heads, d_model, d_head], …), built on first use. */
  abstract readonly weights: WeightsView;

  /**
   * @param cfg Architecture (already validated).
   * @param tokenizer Tokenizer for string inputs.
   */
  protected constructor(cfg: ModelConfig, tokenizer: Tokenizer | undefined) {
    super();
    this.cfgValue = cfg;
    this.tokenizerValue = tokenizer;
  }

  /** Architecture, checked by `validateConfig` (`normalizationType` 'LNPre' once LayerNorm is folded). */
  get cfg(): ModelConfig {
    return this.cfgValue;
  }

  /** Tokenizer used for string inputs (undefined: token ids only); replaced by {@link HookedTransformer.setTokenizer}. */
  get tokenizer(): Tokenizer | undefined {
    return this.tokenizerValue;
  }

  /**
   * Whether string inputs get BOS when a call does not say (TL `cfg.default_prepend_bos`; settable,
   * and `cfg.defaultPrependBos` follows). A call's `prependBos` overrides it for that call only.
   */
  get defaultPrependBos(): boolean {
    return this.cfgValue.defaultPrependBos ?? true;
  }
  /** Set the BOS default (TL `model.cfg.default_prepend_bos = v`). @throws {@link "tfjs-lens"!ConfigError} for a non-boolean. */
  set defaultPrependBos(v: boolean) {
    checkDefaults({ defaultPrependBos: v }, 'HookedTransformer.defaultPrependBos');
    this.cfgValue = { ...this.cfgValue, defaultPrependBos: v };
  }

  /** Padding side of string batches when a call does not say (TL `tokenizer.padding_side`; default 'right'; settable). */
  get defaultPaddingSide(): 'left' | 'right' {
    return this.paddingSideValue;
  }
  /** Set the padding-side default (TL `tokenizer.padding_side = v`). @throws {@link "tfjs-lens"!ConfigError} for another value. */
  set defaultPaddingSide(v: 'left' | 'right') {
    checkDefaults({ defaultPaddingSide: v }, 'HookedTransformer.defaultPaddingSide');
    this.paddingSideValue = v;
  }

  /**
   * Use another tokenizer for string inputs (TL `set_tokenizer`). The tokenizer is used as given
   * and `cfg.dVocab` stays: ids the model cannot embed are refused per call. Unlike TL, a missing
   * pad or BOS token is not filled in from EOS: string batches that need padding, and BOS
   * prepending, then throw a TokenizerError naming the missing token.
   * @param tokenizer The tokenizer.
   * @param opts `defaultPaddingSide` ('right' when left out, as TL).
   * @example model.setTokenizer(tok, { defaultPaddingSide: 'left' });
   */
  setTokenizer(tokenizer: Tokenizer, opts: SetTokenizerOptions = {}): void {
    checkOptionKeys(opts, { defaultPaddingSide: true }, 'setTokenizer');
    checkDefaults(opts, 'setTokenizer');
    this.tokenizerValue = tokenizer;
    this.paddingSideValue = opts.defaultPaddingSide ?? 'right';
  }

  /** Tokenisation options with the model's defaults (TL `default_prepend_bos`, padding side) filled in. */
  protected tokenizeDefaults<T extends TokenizeOptions>(opts: T): T {
    return { ...opts, prependBos: opts.prependBos ?? this.defaultPrependBos, paddingSide: opts.paddingSide ?? this.paddingSideValue };
  }

  /** Tokenise text(s) to ids [batch, pos] (TL `to_tokens`; BOS prepended by default). */
  toTokens(input: string | readonly string[], opts: TokenizeOptions = {}): tf.Tensor2D {
    return toTokens(needTokenizer(this.tokenizer, 'toTokens'), input, this.cfg.nCtx, this.tokenizeDefaults(opts));
  }

  /** Each token as a string (TL `to_str_tokens`); a list of texts gives one list per text, unpadded (as TL). */
  toStrTokens(input: readonly string[], opts?: TokenizeOptions): string[][];
  toStrTokens(input: string | TokenInput, opts?: TokenizeOptions): string[];
  toStrTokens(input: string | readonly string[] | TokenInput, opts: TokenizeOptions = {}): string[] | string[][] {
    const tok = needTokenizer(this.tokenizer, 'toStrTokens');
    if (Array.isArray(input) && typeof input[0] === 'string') return (input as readonly string[]).map((t) => toStrTokens(tok, t, this.cfg.nCtx, this.tokenizeDefaults(opts)));
    return toStrTokens(tok, input as string | TokenInput, this.cfg.nCtx, this.tokenizeDefaults(opts));
  }

  /** Decode ids: a string for one id or [pos], a list for [batch, pos] (TL `to_string`). */
  override toString(tokens?: TokenInput | number): string;
  override toString(tokens: TokenInput | number): string | string[];
  override toString(tokens?: TokenInput | number): string | string[] {
    if (tokens === undefined) return `HookedTransformer(${this.cfg.modelType}, ${this.cfg.nLayers} layers)`;
    const tok = needTokenizer(this.tokenizer, 'toString');
    if (typeof tokens === 'number') return toText(tok, [tokens]); // TL: an int (or 0-d tensor) is one token
    if ('shape' in tokens && tokens.shape.length === 0) return toText(tok, [Number(tokens.arraySync())]);
    return toText(tok, tokens);
  }

  /** Id of a string that must be exactly one token (TL `to_single_token`). */
  toSingleToken(text: string): number {
    return toSingleToken(needTokenizer(this.tokenizer, 'toSingleToken'), text);
  }

  /** Position of a token in the input (TL `get_token_position`). */
  getTokenPosition(
    single: string | number,
    input: string | TokenInput,
    opts: TokenizeOptions & { mode?: 'first' | 'last' } = {},
  ): number {
    return tokenPosition(needTokenizer(this.tokenizer, 'getTokenPosition'), single, input, this.cfg.nCtx, this.tokenizeDefaults(opts));
  }

  // TransformerLens weight properties (stacked over layers, built on first use, owned by the model).
  /** W_E [d_vocab, d_model] (model-owned; do not dispose). */
  get W_E(): tf.Tensor2D { return this.weights.W_E; }
  /** W_pos [n_ctx, d_model] (not in rotary models). */
  get W_pos(): tf.Tensor2D { return this.weights.W_pos; }
  /** W_Q [n_layers, n_heads, d_model, d_head]. */
  get W_Q(): tf.Tensor4D { return this.weights.W_Q; }
  /** W_K [n_layers, n_heads, d_model, d_head] (expanded per query head with grouped-query attention, as TL). */
  get W_K(): tf.Tensor4D { return this.weights.W_K; }
  /** W_V [n_layers, n_heads, d_model, d_head] (expanded per query head with grouped-query attention). */
  get W_V(): tf.Tensor4D { return this.weights.W_V; }
  /** W_O [n_layers, n_heads, d_head, d_model]. */
  get W_O(): tf.Tensor4D { return this.weights.W_O; }
  /** b_Q [n_layers, n_heads, d_head]. */
  get b_Q(): tf.Tensor3D { return this.weights.b_Q; }
  /** b_K [n_layers, n_heads, d_head]. */
  get b_K(): tf.Tensor3D { return this.weights.b_K; }
  /** b_V [n_layers, n_heads, d_head]. */
  get b_V(): tf.Tensor3D { return this.weights.b_V; }
  /** b_O [n_layers, d_model]. */
  get b_O(): tf.Tensor2D { return this.weights.b_O; }
  /** W_in [n_layers, d_model, d_mlp]. */
  get W_in(): tf.Tensor3D { return this.weights.W_in; }
  /** b_in [n_layers, d_mlp]. */
  get b_in(): tf.Tensor2D { return this.weights.b_in; }
  /** W_out [n_layers, d_mlp, d_model]. */
  get W_out(): tf.Tensor3D { return this.weights.W_out; }
  /** b_out [n_layers, d_model]. */
  get b_out(): tf.Tensor2D { return this.weights.b_out; }
  /** W_gate [n_layers, d_model, d_mlp] (gated MLPs: Llama, Mistral, Qwen2). */
  get W_gate(): tf.Tensor3D { return this.weights.W_gate; }
  /** W_U [d_model, d_vocab]. */
  get W_U(): tf.Tensor2D { return this.weights.W_U; }
  /** b_U [d_vocab]. */
  get b_U(): tf.Tensor1D { return this.weights.b_U; }
}
