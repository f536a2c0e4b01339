/**
 * HookedTransformer: a decoder (GPT-2, Llama, Mistral, Qwen2, Pythia) with TransformerLens 2.x hook points, caching and
 * hook-based interventions (TL `HookedTransformer`). Loading lives in `load_decoder.ts`, random
 * init from a config in `from_config.ts`, option types in `forward_options.ts`, the run step
 * (`startAtLayer`, return types, the key/value-cache step) in `decoder_run.ts`, tokenisation
 * defaults and helpers and the TL weight properties in `decoder_base.ts`, generation in `generate.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { decoderHookSpecs } from '../hooks/decoder_hooks.js';
import type { HookFlags, HookSpec } from '../hooks/hook_spec.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { ConfigError, DisposedError } from '../errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { dVocabOut, validateConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import type { KvCache } from './forward.js';
import type { CacheOption, ModelDims } from './hooked_model.js';
import { HookedDecoderBase } from './decoder_base.js';
import { resolveInput, rowsToTensor, type ModelInput, type ResolvedInput, type TokenInput } from './inputs.js';
import { generate, type GenerateOptions, type GenerateOutput } from './generate.js';
import { lossFromTokens } from './loss.js';
import { disposeParams, type DecoderParams } from './params.js';
import { tlStateDict, WeightsView } from './weights_view.js';
import { ovCircuit, qkCircuit } from './attn_circuits.js';
import type { FactoredMatrix } from '../ops/factored_matrix.js';
import { loadDecoder, pickProcessing, type FromPretrainedOptions } from './load_decoder.js';
import { DEFAULT_PROCESSING, NO_PROCESSING } from './weight_processing.js';
import { lastTokenPositions } from './classifier/head.js';
import { disposeClassifierParams, type SequenceClassifier } from './classifier/head_params.js';
import { saveDecoderHf } from './classifier/save_hf.js';
import { checkClassLabels, type ClassLabels } from './classifier/loss.js';
import { AdapterHost } from './lora/adapter_host.js';
import { decoderAccess } from './lora/model_access.js';
import { executeDecoder, kvCacheStep, resolveStartInput, specsFromStart, startLayer, type DecoderExec } from './decoder_run.js';
import { decoderFromConfig, type FromConfigOptions } from './from_config.js';
import {
  FORWARD_KEYS, INPUT_TO_EMBED_KEYS, type BothOptions, type EmbedOutput, type ForwardOptions, type ForwardOutput, type InputToEmbedOptions,
  type LogitsAndLoss, type LogitsOptions, type LossFnOptions, type LossOptions, type LossPerTokenOptions, type NoneOptions,
  type RunWithCacheOptions, type RunWithHooksOptions,
} from './forward_options.js';

export type {
  BothOptions, EmbedOutput, ForwardOptions, ForwardOutput, ForwardReturnType, InputToEmbedOptions, LogitsAndLoss, LogitsOptions,
  LossFnOptions, LossOptions, LossPerTokenOptions, NoneOptions, RunWithCacheOptions, RunWithHooksOptions, SetTokenizerOptions,
} from './forward_options.js';
export type { FromConfigOptions } from './from_config.js';

/**
 * A decoder-only transformer (GPT-2, Llama, Mistral, Qwen2, Pythia/GPT-NeoX) with TransformerLens hook points.
 * @example
 * const model = await HookedTransformer.fromPretrained('gpt2');
 * const [logits, cache] = model.runWithCache('The Eiffel Tower is in');
 * cache.get('blocks.5.attn.hook_pattern');   // [1, 12, pos, pos]
 * cache.dispose(); logits.dispose();
 * @category Model
 */
export class HookedTransformer extends HookedDecoderBase {
  private paramsOrUndefined: DecoderParams | undefined;
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
    super(validateConfig(cfg), tokenizer);
    this.paramsOrUndefined = params;
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
    return HookedTransformer.loaded(await loadDecoder(nameOrPath, { ...DEFAULT_PROCESSING, ...pickProcessing(opts) }, opts), opts);
  }

  /**
   * Load a checkpoint with no weight processing: activations equal Hugging Face's
   * (TL `from_pretrained_no_processing`). Individual steps can still be turned on.
   * @example const raw = await HookedTransformer.fromPretrainedNoProcessing('gpt2');
   */
  static async fromPretrainedNoProcessing(nameOrPath: string, opts: FromPretrainedOptions = {}): Promise<HookedTransformer> {
    return HookedTransformer.loaded(await loadDecoder(nameOrPath, { ...NO_PROCESSING, ...pickProcessing(opts) }, opts), opts);
  }

  private static loaded(l: Awaited<ReturnType<typeof loadDecoder>>, opts: FromPretrainedOptions): HookedTransformer {
    const model = new HookedTransformer(l.cfg, l.params, l.tokenizer, opts.flags, l.classifier);
    model.paddingSideValue = opts.defaultPaddingSide ?? 'right';
    return model;
  }

  /**
   * A randomly initialised model for a config (TL `HookedTransformer(cfg, tokenizer)`): `dVocab`
   * may be left out and is then the tokenizer's (TL: largest vocabulary id + 1); `dVocabOut`
   * (the unembedding width) defaults to `dVocab`.
   * @param cfg Architecture; `dVocab` optional when a tokenizer is given.
   * @param opts Tokenizer, seed, init scale, hook flags, tokenisation defaults.
   * @returns The model (it owns its new parameters).
   * @throws {@link "tfjs-lens"!ConfigError} for a config without dVocab and no tokenizer, or an invalid config.
   * @example const model = HookedTransformer.fromConfig({ ...cfg, dVocab: undefined }, { tokenizer }); // model.cfg.dVocab === 50257
   */
  static fromConfig(cfg: ModelConfigInput, opts: FromConfigOptions = {}): HookedTransformer {
    const { cfg: full, params } = decoderFromConfig(cfg, opts);
    const model = new HookedTransformer(full, params, opts.tokenizer, opts.flags);
    model.paddingSideValue = opts.defaultPaddingSide ?? 'right';
    return model;
  }

  /** The parameters (owned by the model). @throws {@link "tfjs-lens"!DisposedError} after dispose. */
  get params(): DecoderParams {
    if (this.paramsOrUndefined === undefined) throw new DisposedError('HookedTransformer: model was disposed');
    return this.paramsOrUndefined;
  }

  protected get dims(): ModelDims {
    return { ...this.cfg, dVocab: dVocabOut(this.cfg), nLabels: this.classifier?.labels.numLabels ?? 0 };
  }

  protected resolveRun(input: unknown, opts: ForwardOptions, fn: string): ResolvedInput {
    const resolved = opts.startAtLayer !== undefined
      ? resolveStartInput(input, opts, this.cfg, this.classifier !== undefined, fn)
      : resolveInput(input as ModelInput, this.tokenizer, this.cfg.dVocab, this.cfg.nCtx, this.tokenizeDefaults(opts), fn);
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

  private exec(flags: HookFlags, fn: string): DecoderExec {
    return { cfg: this.cfg, runWeights: () => this.adapters.runWeights(), hook: this.hookDispatch(flags, fn), flags };
  }

  protected override recordedSpecs(opts: ForwardOptions & CacheOption, flags: HookFlags, stop: number | undefined, fn: string): HookSpec[] {
    return specsFromStart(super.recordedSpecs(opts, flags, stop, fn), startLayer(opts, this.cfg.nLayers, fn));
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
    return executeDecoder(this.exec(flags, fn), resolved, opts, stop, fn); // the dispatcher may refuse the run before any tensor is made
  }

  /**
   * Run the model.
   * @param input Text(s) or token ids [batch, pos]; with `startAtLayer`, the residual stream
   *   [batch, pos, d_model] entering that block (TL `start_at_layer`; `tokens` for a loss).
   * @param opts Return type, mask, startAtLayer / stopAtLayer, flags, tokenisation (the model's
   *   {@link HookedDecoderBase.defaultPrependBos} / padding side unless given).
   * @returns Logits [batch, pos, d_vocab] (the residual [batch, pos, d_model] with stopAtLayer); the
   *   loss (scalar, or [batch, pos-1] with lossPerToken); `{logits, loss}`; or undefined ('none').
   *   A sequence-classification checkpoint returns class logits [batch, n_labels] (typed Tensor3D
   *   here; {@link HookedTransformer.classify} is typed Tensor2D) and, with `labels`, HF's loss.
   * @throws {@link "tfjs-lens"!ConfigError} for an unknown option, stopAtLayer with a loss, or
   *   startAtLayer with a loss but no tokens; {@link "tfjs-lens"!ShapeError} on bad token ids or residual; {@link "tfjs-lens"!HookNameError} if a hook sits on a disabled point.
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
    const flags = this.flags;
    this.checkAttachedHooks(flags, 'logitsWithKvCache');
    return kvCacheStep(this.exec(flags, 'logitsWithKvCache'), rows, mask, cache, 'logitsWithKvCache');
  }

  /**
   * The residual stream entering block 0, with the tokens and mask a `startAtLayer` run needs (TL
   * `input_to_embed`). Embedding hooks fire. With `forward(residual, { startAtLayer: 0, tokens,
   * attentionMask })` the logits equal `forward(input)`'s; the loss of a right-padded string batch
   * does not (as in TL: no mask is returned for right padding, so the padding positions count in
   * the loss, where `forward(texts)` leaves them out).
   * @param input Text(s) or token ids.
   * @param opts Tokenisation (the model's defaults apply), `attentionMask`, hook flags.
   * @returns `{ residual, tokens, shortformerPosEmbed, attentionMask }`; the caller disposes the tensors.
   * @throws As {@link HookedTransformer.forward}.
   * @example const { residual, tokens, attentionMask } = model.inputToEmbed('Hello'); model.forward(residual, { startAtLayer: 0, tokens, attentionMask, returnType: 'loss' });
   */
  inputToEmbed(input: ModelInput, opts: InputToEmbedOptions = {}): EmbedOutput {
    const fn = 'inputToEmbed';
    checkOptionKeys(opts, INPUT_TO_EMBED_KEYS, fn);
    const { rows, mask } = resolveInput(input, this.tokenizer, this.cfg.dVocab, this.cfg.nCtx, this.tokenizeDefaults(opts), fn);
    // TL makes a mask whenever the padding side is left (all ones without pads).
    const left = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string') ? (opts.paddingSide ?? this.paddingSideValue) === 'left' : false;
    const maskOut = mask ?? (left ? rows.map((r) => r.map(() => 1)) : undefined);
    const { attentionMask: _m, prependBos: _b, paddingSide: _p, truncate: _t, ...flags } = opts;
    const residual = this.forward(rows, { ...flags, attentionMask: mask, stopAtLayer: 0 });
    return { residual, tokens: rowsToTensor(rows), shortformerPosEmbed: undefined, attentionMask: maskOut === undefined ? undefined : rowsToTensor(maskOut) };
  }

  /**
   * Next-token cross-entropy of logits against tokens (TL `loss_fn`): position p is scored against
   * token p+1; with a mask, only where both are real.
   * @param logits [batch, pos, d_vocab_out].
   * @param tokens Token ids [batch, pos].
   * @param opts `attentionMask` [batch, pos]; `perToken` for [batch, pos-1] losses.
   * @returns Scalar mean loss, or [batch, pos-1] per-token losses (caller disposes).
   * @throws {@link "tfjs-lens"!ShapeError} when tokens or mask do not match the logits.
   * @example const loss = model.lossFn(logits, tokens, { perToken: true });
   */
  lossFn(logits: tf.Tensor3D, tokens: TokenInput, opts: LossFnOptions = {}): tf.Tensor {
    checkOptionKeys(opts, { attentionMask: true, perToken: true }, 'lossFn');
    return lossFromTokens(logits, tokens, opts, 'lossFn');
  }

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

  /** TL `model.OV`: FactoredMatrix(W_V, W_O) [n_layers, n_heads, d_model, d_model] (GQA: per query head). A new FactoredMatrix the caller disposes. */
  get OV(): FactoredMatrix { return ovCircuit(this.weights); }

  /** TL `model.QK`: FactoredMatrix(W_Q, W_Kᵀ) [n_layers, n_heads, d_model, d_model] (GQA: per query head). A new FactoredMatrix the caller disposes. */
  get QK(): FactoredMatrix { return qkCircuit(this.weights); }

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
