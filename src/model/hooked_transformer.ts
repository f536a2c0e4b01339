/**
 * HookedTransformer: a decoder (GPT-2, Llama, Mistral, Qwen2, Pythia) with TransformerLens 2.x hook points, caching and
 * hook-based interventions (TL `HookedTransformer`). Loading lives in `load_decoder.ts`,
 * tokenisation helpers in `token_helpers.ts`, generation in `generate.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { decoderHookSpecs } from '../hooks/decoder_hooks.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { ConfigError, DisposedError, ShapeError } from '../errors.js';
import { checkOptionKeys, type OptionKeys } from '../utils/options.js';
import { validateConfig, type ModelConfig } from './config.js';
import { KvCache, runDecoder } from './forward.js';
import { HookedModel, type CacheOption, type HooksOption, type ModelDims } from './hooked_model.js';
import { resolveInput, rowsToTensor, tokensToRows, type ModelInput, type ResolvedInput, type TokenInput, type TokenizeOptions } from './inputs.js';
import { generate, type GenerateOptions, type GenerateOutput } from './generate.js';
import { lmCrossEntropy } from './loss.js';
import { disposeParams, type DecoderParams } from './params.js';
import { needTokenizer, toSingleToken, toStrTokens, toText, toTokens, tokenPosition } from './token_helpers.js';
import { tlStateDict, WeightsView } from './weights_view.js';
import { loadDecoder, type FromPretrainedOptions } from './load_decoder.js';
import { DEFAULT_PROCESSING, NO_PROCESSING, type ProcessingOptions } from './weight_processing.js';
import { lastTokenPositions } from './classifier/head.js';
import { disposeClassifierParams, type SequenceClassifier } from './classifier/head_params.js';
import { saveDecoderHf } from './classifier/save_hf.js';
import { checkClassLabels, classifierOutput, type ClassifierLogitsAndLoss, type ClassLabels } from './classifier/loss.js';
import { AdapterHost } from './lora/adapter_host.js';
import { decoderAccess } from './lora/model_access.js';

function pickProcessing(o: ProcessingOptions): ProcessingOptions {
  const out: { -readonly [K in keyof ProcessingOptions]: ProcessingOptions[K] } = {};
  if (o.foldLn !== undefined) out.foldLn = o.foldLn;
  if (o.centerWritingWeights !== undefined) out.centerWritingWeights = o.centerWritingWeights;
  if (o.centerUnembed !== undefined) out.centerUnembed = o.centerUnembed;
  if (o.foldValueBiases !== undefined) out.foldValueBiases = o.foldValueBiases;
  return out;
}

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
   * Labels of a sequence-classification checkpoint for 'loss' / 'both' (HF `labels=`): a class id
   * per row, or [batch, num_labels] targets.
   */
  readonly labels?: ClassLabels;
}

const FORWARD_KEYS: OptionKeys<ForwardOptions> = {
  labels: true,
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

/**
 * A decoder-only transformer (GPT-2, Llama, Mistral, Qwen2, Pythia/GPT-NeoX) with TransformerLens hook points.
 * @example
 * const model = await HookedTransformer.fromPretrained('gpt2');
 * const [logits, cache] = model.runWithCache('The Eiffel Tower is in');
 * cache.get('blocks.5.attn.hook_pattern');   // [1, 12, pos, pos]
 * cache.dispose(); logits.dispose();
 * @category Model
 */
export class HookedTransformer extends HookedModel<ForwardOptions, ResolvedInput, ForwardOutput> {
  /** Architecture, checked by {@link validateConfig} (`normalizationType` 'LNPre' once LayerNorm is folded). */
  readonly cfg: ModelConfig;
  private paramsOrUndefined: DecoderParams | undefined;
  /** Tokenizer used for string inputs (undefined: token ids only). */
  readonly tokenizer: Tokenizer | undefined;
  /** TL-named weights (W_E, W_Q [n_layers, n_heads, d_model, d_head], …), built on first use. */
  readonly weights: WeightsView;
  /** LoRA adapter state (PEFT format; unprocessed Llama / Mistral / Qwen2): what {@link HookedTransformer.loadAdapter} and the merge methods act on; used by fine-tuning. */
  readonly adapters: AdapterHost<DecoderParams>;
  protected readonly forwardOptionKeys = FORWARD_KEYS;

  /**
   * @param cfg Architecture.
   * @param params Parameters (ownership passes to the model).
   * @param tokenizer Tokenizer for string inputs.
   * @param flags Optional hook points to enable.
   * @param classifier Sequence-classification (`score`) head; ownership passes to the model.
   */
  constructor(cfg: ModelConfig, params: DecoderParams, tokenizer?: Tokenizer, flags: HookFlags = {}, classifier?: SequenceClassifier) {
    super();
    this.cfg = validateConfig(cfg);
    this.paramsOrUndefined = params;
    this.tokenizer = tokenizer;
    this.classifier = classifier;
    this.registerHooks((f) => decoderHookSpecs({ ...cfg, classifier: classifier !== undefined }, f));
    this.setFlags(flags);
    this.weights = new WeightsView(() => this.params, cfg);
    this.adapters = new AdapterHost(decoderAccess(this.cfg, () => ({ params: this.params, classifier: this.classifier }), (w) => {
      this.paramsOrUndefined = w.params;
      this.classifier = w.classifier;
      this.weights.dispose(); // stacked views are rebuilt from the new weights
    }));
  }

  /**
   * Load a GPT-2, Llama, Mistral, Qwen2 or GPT-NeoX (Pythia) checkpoint with TransformerLens 2.x
   * default weight processing (fold_ln, center_writing_weights, center_unembed, fold_value_biases;
   * each can be turned off; RMSNorm models fold only the norm weights, as TL).
   * @param nameOrPath Local folder (config.json + model.safetensors), or a hub id such as 'gpt2'.
   * @param opts Processing flags, hub options (revision, cacheDir, offline…), hook flags, tokenizer.
   * @returns The model.
   * @throws {@link "tfjs-lens"!WeightLoadError} listing missing/unexpected tensors; {@link "tfjs-lens"!HubError}; {@link "tfjs-lens"!NotFoundError}.
   * @example const model = await HookedTransformer.fromPretrained('gpt2');
   */
  static async fromPretrained(nameOrPath: string, opts: FromPretrainedOptions = {}): Promise<HookedTransformer> {
    const processing = { ...DEFAULT_PROCESSING, ...pickProcessing(opts) };
    const { cfg, params, tokenizer, classifier } = await loadDecoder(nameOrPath, processing, opts);
    return new HookedTransformer(cfg, params, tokenizer, opts.flags, classifier);
  }

  /**
   * Load a checkpoint with no weight processing: activations equal Hugging Face's
   * (TL `from_pretrained_no_processing`). Individual steps can still be turned on.
   * @example const raw = await HookedTransformer.fromPretrainedNoProcessing('gpt2');
   */
  static async fromPretrainedNoProcessing(nameOrPath: string, opts: FromPretrainedOptions = {}): Promise<HookedTransformer> {
    const processing = { ...NO_PROCESSING, ...pickProcessing(opts) };
    const { cfg, params, tokenizer, classifier } = await loadDecoder(nameOrPath, processing, opts);
    return new HookedTransformer(cfg, params, tokenizer, opts.flags, classifier);
  }

  /** The parameters (owned by the model). @throws {@link "tfjs-lens"!DisposedError} after dispose. */
  get params(): DecoderParams {
    if (this.paramsOrUndefined === undefined) throw new DisposedError('HookedTransformer: model was disposed');
    return this.paramsOrUndefined;
  }

  protected get dims(): ModelDims {
    return { ...this.cfg, nLabels: this.classifier?.labels.numLabels ?? 0 };
  }

  protected resolveRun(input: unknown, opts: ForwardOptions, fn: string): ResolvedInput {
    const resolved = resolveInput(input as ModelInput, this.tokenizer, this.cfg.dVocab, this.cfg.nCtx, this.tokenizeDefaults(opts), fn);
    const clf = this.classifier;
    if (clf === undefined && opts.labels !== undefined) throw new ConfigError(`${fn}: labels need a sequence-classification head (a *ForSequenceClassification checkpoint); the next-token loss takes none`);
    if (clf !== undefined && (opts.returnType === 'loss' || opts.returnType === 'both')) {
      // Checked before the run: a bad label costs no forward pass.
      if (opts.labels === undefined) throw new ConfigError(`${fn}: returnType '${opts.returnType}' of a sequence-classification model needs labels: pass { labels: [...] } with one class id per row`);
      if (opts.lossPerToken === true) throw new ConfigError(`${fn}: lossPerToken has no meaning for a sequence-classification model (one loss per batch, as HF)`);
      checkClassLabels(opts.labels, resolved.rows.length, clf.labels, fn);
    }
    if (clf !== undefined) lastTokenPositions(resolved.rows, clf.padTokenId, fn); // a batch without pad_token_id fails here
    return resolved;
  }

  /** Tokenisation options with the model's BOS default (TL `default_prepend_bos`) filled in. */
  private tokenizeDefaults<T extends TokenizeOptions>(opts: T): T {
    return opts.prependBos === undefined && this.cfg.defaultPrependBos === false ? { ...opts, prependBos: false } : opts;
  }

  protected headRuns(): boolean {
    return true;
  }

  protected computesLogits(): boolean {
    // runDecoder computes logits even for 'none' (they are dropped after); only an early-stopped
    // runWithCache skips them, so the memory check counts them always.
    return true;
  }

  protected execute(resolved: ResolvedInput, opts: ForwardOptions, flags: HookFlags, stop: number | undefined, fn: string): ForwardOutput {
    const { rows, mask, lossMask } = resolved;
    const returnType = opts.returnType ?? 'logits';
    const hook = this.hookDispatch(flags, fn); // may refuse the run (HookError): before any tensor is made
    const tokens = rowsToTensor(rows);
    const weights = this.adapters.runWeights(); // base weights, or W + s·B·A with an unmerged adapter
    const run = { cfg: this.cfg, params: weights.weights.params, hook, flags };
    const clf = weights.weights.classifier;
    let out: tf.Tensor3D;
    try {
      if (clf !== undefined && stop === undefined) {
        const logits = runDecoder(run, tokens, mask, undefined, undefined, { clf, positions: lastTokenPositions(rows, clf.padTokenId, fn) }); // [batch, n_labels]
        return classifierOutput(logits, returnType, opts.labels, clf.labels, fn);
      }
      out = runDecoder(run, tokens, mask, stop);
    } finally {
      weights.release();
      tokens.dispose();
    }
    if (returnType === 'logits') return out;
    if (returnType === 'none') {
      out.dispose();
      return undefined;
    }
    const loss = lmCrossEntropy(out, rows, lossMask, opts.lossPerToken === true);
    if (returnType === 'loss') {
      out.dispose();
      return loss;
    }
    return { logits: out, loss };
  }

  /**
   * Run the model.
   * @param input Text(s) or token ids [batch, pos].
   * @param opts Return type, mask, stopAtLayer, flags, tokenisation.
   * @returns Logits [batch, pos, d_vocab] (the residual [batch, pos, d_model] with stopAtLayer); the
   *   loss (scalar, or [batch, pos-1] with lossPerToken); `{logits, loss}`; or undefined ('none').
   *   A sequence-classification checkpoint returns class logits [batch, n_labels] (typed Tensor3D
   *   here; {@link HookedTransformer.classify} is typed Tensor2D) and, with `labels`, HF's loss.
   * @throws {@link "tfjs-lens"!ConfigError} for an unknown option or stopAtLayer with a loss;
   *   {@link "tfjs-lens"!ShapeError} on bad token ids; {@link "tfjs-lens"!HookNameError} if a hook sits on a disabled point.
   */
  forward(input: ModelInput, opts?: ForwardOptions & LogitsOptions): tf.Tensor3D;
  forward(input: ModelInput, opts: ForwardOptions & LossOptions): tf.Scalar;
  forward(input: ModelInput, opts: ForwardOptions & LossPerTokenOptions): tf.Tensor2D;
  forward(input: ModelInput, opts: ForwardOptions & BothOptions): LogitsAndLoss;
  forward(input: ModelInput, opts: ForwardOptions & NoneOptions): undefined;
  forward(input: ModelInput, opts?: ForwardOptions): ForwardOutput;
  forward(input: ModelInput, opts: ForwardOptions = {}): ForwardOutput {
    return this.forwardImpl(input, opts, 'forward');
  }

  /** Logits for an input: `forward(input, {returnType: 'logits'})`. */
  logits(input: ModelInput, opts: Omit<ForwardOptions, 'returnType' | 'stopAtLayer' | 'lossPerToken'> = {}): tf.Tensor3D {
    checkOptionKeys(opts, FORWARD_KEYS, 'logits');
    return this.forward(input, { ...opts, returnType: 'logits' });
  }

  /**
   * Class logits of a sequence-classification checkpoint (HF `model(**inputs).logits`): `score` at
   * each row's last real token (the position before its first pad_token_id; with left padding, or
   * no padding, the last position).
   * @returns Logits [batch, n_labels].
   * @throws {@link "tfjs-lens"!ConfigError} for a model without a classification head.
   * @example const logits = clf.classify(ids, { attentionMask });
   */
  classify(input: ModelInput, opts: Omit<ForwardOptions, 'returnType' | 'stopAtLayer' | 'lossPerToken' | 'labels'> = {}): tf.Tensor2D {
    this.requireClassifier('classify');
    return this.forwardImpl(input, { ...opts, returnType: 'logits' }, 'classify') as tf.Tensor2D;
  }

  /**
   * The loss HF computes with `labels=` (cross-entropy over class ids; MSE for one-label regression;
   * BCE-with-logits for [batch, num_labels] targets).
   * @param labels A class id per row (-100 ignores a row), or [batch, num_labels] targets.
   * @returns Scalar loss.
   * @throws {@link "tfjs-lens"!ShapeError} for labels of the wrong length; {@link "tfjs-lens"!ConfigError} for a class id outside [0, num_labels).
   * @example const loss = clf.classifierLoss(ids, [0, 1, 0], { attentionMask });
   */
  classifierLoss(input: ModelInput, labels: ClassLabels, opts: Omit<ForwardOptions, 'returnType' | 'stopAtLayer' | 'lossPerToken' | 'labels'> = {}): tf.Scalar {
    this.requireClassifier('classifierLoss');
    return this.forwardImpl(input, { ...opts, returnType: 'loss', labels }, 'classifierLoss') as tf.Scalar;
  }

  /** Mean next-token loss (scalar) or per-token losses [batch, pos-1]. */
  loss(input: ModelInput, opts: Omit<ForwardOptions, 'returnType' | 'stopAtLayer'> = {}): tf.Tensor {
    checkOptionKeys(opts, FORWARD_KEYS, 'loss');
    return opts.lossPerToken === true
      ? this.forward(input, { ...opts, returnType: 'loss', lossPerToken: true })
      : this.forward(input, { ...opts, returnType: 'loss', lossPerToken: false });
  }

  /**
   * Run with temporary hooks (removed afterwards, also when a hook throws).
   * @param input Text(s) or token ids.
   * @param opts `fwdHooks` plus {@link ForwardOptions}.
   * @returns As {@link forward}.
   */
  runWithHooks(input: ModelInput, opts?: RunWithHooksOptions & LogitsOptions): tf.Tensor3D;
  runWithHooks(input: ModelInput, opts: RunWithHooksOptions & LossOptions): tf.Scalar;
  runWithHooks(input: ModelInput, opts: RunWithHooksOptions & LossPerTokenOptions): tf.Tensor2D;
  runWithHooks(input: ModelInput, opts: RunWithHooksOptions & BothOptions): LogitsAndLoss;
  runWithHooks(input: ModelInput, opts: RunWithHooksOptions & NoneOptions): undefined;
  runWithHooks(input: ModelInput, opts?: RunWithHooksOptions): ForwardOutput;
  runWithHooks(input: ModelInput, opts: RunWithHooksOptions = {}): ForwardOutput {
    return this.runWithHooksImpl(input, opts, 'runWithHooks');
  }

  /**
   * Run and record activations. With `returnType: 'none'` and no hooks attached to the model, the
   * forward pass ends right after the last recorded hook (its output is dropped).
   * @param input Text(s) or token ids.
   * @param opts `namesFilter` plus {@link ForwardOptions}.
   * @returns `[output, cache]`; both are owned by the caller (dispose them).
   * @throws {@link "tfjs-lens"!HookNameError} for unknown/disabled names in namesFilter;
   *   {@link "tfjs-lens"!MemoryLimitError} if the cache would overflow the wasm heap.
   */
  runWithCache(input: ModelInput, opts?: RunWithCacheOptions & LogitsOptions): [tf.Tensor3D, ActivationCache];
  runWithCache(input: ModelInput, opts: RunWithCacheOptions & LossOptions): [tf.Scalar, ActivationCache];
  runWithCache(input: ModelInput, opts: RunWithCacheOptions & LossPerTokenOptions): [tf.Tensor2D, ActivationCache];
  runWithCache(input: ModelInput, opts: RunWithCacheOptions & BothOptions): [LogitsAndLoss, ActivationCache];
  runWithCache(input: ModelInput, opts: RunWithCacheOptions & NoneOptions): [undefined, ActivationCache];
  runWithCache(input: ModelInput, opts?: RunWithCacheOptions): [ForwardOutput, ActivationCache];
  runWithCache(input: ModelInput, opts: RunWithCacheOptions = {}): [ForwardOutput, ActivationCache] {
    return this.runWithCacheImpl(input, opts, 'runWithCache');
  }

  /**
   * Continue prompts (TL `generate`): temperature 0 is greedy; topK/topP/seed for sampling.
   * @returns Full texts for string prompts, token rows for token input.
   * @example model.generate('The Eiffel Tower is in', { maxNewTokens: 5, temperature: 0 });
   */
  generate(input: ModelInput, opts: GenerateOptions = {}): GenerateOutput {
    return generate(this, input, opts);
  }

  /**
   * Logits of new tokens given the keys and values of earlier positions (one generation step with
   * TL's `past_kv_cache`). Attached hooks fire on the new positions only.
   * @param rows New token ids [batch, new].
   * @param mask Attention mask over cached + new positions [batch, past + new], or undefined.
   * @param cache Key/value cache ({@link KvCache}); extended by the new positions on success,
   *   unchanged on error.
   * @returns Logits [batch, new, d_vocab].
   * @throws {@link "tfjs-lens"!ShapeError} on bad token ids or a mask of the wrong length.
   * @example const kv = new KvCache(model.cfg.nLayers); const l1 = model.logitsWithKvCache([[1, 2]], undefined, kv);
   */
  logitsWithKvCache(rows: number[][], mask: number[][] | undefined, cache: KvCache): tf.Tensor3D {
    const fn = 'logitsWithKvCache';
    const tokenRows = tokensToRows(rows, this.cfg.dVocab, fn);
    const total = cache.length + (tokenRows[0]?.length ?? 0);
    if (total > this.cfg.nCtx) throw new ShapeError(`${fn}: ${total} positions exceed n_ctx ${this.cfg.nCtx}`);
    if (mask !== undefined && (mask.length !== tokenRows.length || mask.some((m) => m.length !== total))) {
      throw new ShapeError(`${fn}: attentionMask must be [${tokenRows.length}, ${total}] (cached + new positions)`);
    }
    const flags = this.flags;
    this.checkAttachedHooks(flags, fn);
    const tokens = rowsToTensor(tokenRows);
    const weights = this.adapters.runWeights();
    try {
      const out = runDecoder({ cfg: this.cfg, params: weights.weights.params, hook: this.hookDispatch(flags, fn), flags }, tokens, mask, undefined, cache);
      cache.commit();
      return out;
    } catch (err) {
      cache.rollback();
      throw err;
    } finally {
      weights.release();
      tokens.dispose();
    }
  }

  /** Tokenise text(s) to ids [batch, pos] (TL `to_tokens`; BOS prepended by default). */
  toTokens(input: string | readonly string[], opts: TokenizeOptions = {}): tf.Tensor2D {
    return toTokens(needTokenizer(this.tokenizer, 'toTokens'), input, this.cfg.nCtx, this.tokenizeDefaults(opts));
  }

  /** Each token as a string (TL `to_str_tokens`). */
  toStrTokens(input: string | TokenInput, opts: TokenizeOptions = {}): string[] {
    return toStrTokens(needTokenizer(this.tokenizer, 'toStrTokens'), input, this.cfg.nCtx, this.tokenizeDefaults(opts));
  }

  /** Decode ids: a string for [pos], a list for [batch, pos] (TL `to_string`). */
  override toString(tokens?: TokenInput): string;
  override toString(tokens: TokenInput): string | string[];
  override toString(tokens?: TokenInput): string | string[] {
    if (tokens === undefined) return `HookedTransformer(${this.cfg.modelType}, ${this.cfg.nLayers} layers)`;
    return toText(needTokenizer(this.tokenizer, 'toString'), tokens);
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

  /**
   * Save as a Hugging Face checkpoint folder (config.json + model.safetensors): unprocessed
   * Llama / Mistral / Qwen2 models, as `*ForSequenceClassification` (with `score` and the labels)
   * or `*ForCausalLM`.
   * @param dir Output folder (created).
   * @returns The folder.
   * @throws {@link "tfjs-lens"!ConfigError} for other families or processed weights.
   * @example await clf.saveHf('out/llama-cls'); await HookedTransformer.fromPretrainedNoProcessing('out/llama-cls');
   */
  saveHf(dir: string): Promise<string> {
    return saveDecoderHf(dir, this.cfg, this.params, this.classifier);
  }

  /** Parameters under TL state-dict names (`blocks.0.attn.W_Q` …); new tensors the caller disposes. */
  stateDict(): Map<string, tf.Tensor> {
    return tlStateDict(this.params, this.cfg);
  }

  /** Free the parameters and derived weights. The model is unusable afterwards. */
  dispose(): void {
    if (this.paramsOrUndefined === undefined) return;
    this.weights.dispose();
    disposeParams(this.paramsOrUndefined);
    if (this.classifier !== undefined) disposeClassifierParams(this.classifier.params);
    this.adapters.dispose();
    this.paramsOrUndefined = undefined;
  }
}
