/**
 * HookedEncoder: BERT, DistilBERT and RoBERTa with TransformerLens `HookedEncoder` hook points
 * (post-LN blocks), attention masks, token types, the masked-LM head and the sequence-classification
 * heads of `*ForSequenceClassification` checkpoints (`classifier/`). TransformerLens has no
 * DistilBERT or RoBERTa; here the three families share one implementation (RoBERTa differs only in
 * its position ids, its tokenizer and its checkpoint names).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../../hooks/activation_cache.js';
import { encoderHookSpecs } from '../../hooks/encoder_hooks.js';
import type { HookFlags } from '../../hooks/hook_spec.js';
import { ConfigError, DisposedError, ShapeError } from '../../errors.js';
import { encodeForEncoder } from '../../tokenizers/batch.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { HookedModel, type ModelDims, type ResolvedRows } from '../hooked_model.js';
import { rowsToTensor, tokensToRows, type TokenInput } from '../inputs.js';
import { needTokenizer } from '../token_helpers.js';
import type { EncoderConfig } from './encoder_config.js';
import { runEncoder } from './encoder_forward.js';
import { disposeEncoderParams, encoderStateDict, type EncoderParams } from './encoder_params.js';
import { attnCircuitFromBlocks } from '../attn_circuits.js';
import type { FactoredMatrix } from '../../ops/factored_matrix.js';
import { loadEncoder, type EncoderFromPretrainedOptions } from './load_encoder.js';
import { encoderMaxLength } from './position_ids.js';
import { disposeClassifierParams, type SequenceClassifier } from '../classifier/head_params.js';
import { saveEncoderHf } from '../classifier/save_hf.js';
import { checkClassLabels, classifierOutput, type ClassifierLogitsAndLoss, type ClassLabels } from '../classifier/loss.js';
import { AdapterHost } from '../lora/adapter_host.js';
import { encoderAccess } from '../lora/model_access.js';
import {
  ENCODER_FORWARD_KEYS, type EncoderBatch, type EncoderForwardOptions, type EncoderInput, type EncoderNoneOptions, type EncoderOutput,
  type EncoderRunWithCacheOptions, type EncoderRunWithHooksOptions, type EncoderTensorOptions, type EncoderTensorOrNoneOptions,
} from './encoder_options.js';

export type {
  EncoderBatch, EncoderForwardOptions, EncoderInput, EncoderNoneOptions, EncoderOutput, EncoderRunWithCacheOptions,
  EncoderRunWithHooksOptions, EncoderTensorOptions, EncoderTensorOrNoneOptions,
} from './encoder_options.js';

function isTextInput(x: unknown): x is string | readonly string[] | readonly (readonly [string, string])[] {
  if (typeof x === 'string') return true;
  if (!Array.isArray(x) || x.length === 0) return false;
  const first: unknown = x[0];
  return typeof first === 'string' || (Array.isArray(first) && typeof first[0] === 'string');
}

/** A resolved encoder input. */
interface EncoderResolved extends ResolvedRows {
  /** Attention mask [batch, pos] (1 = real), or undefined when every token is real. */
  readonly mask: number[][] | undefined;
  /** Token-type ids [batch, pos], or undefined (all 0). */
  readonly types: number[][] | undefined;
}

/**
 * A BERT / DistilBERT / RoBERTa encoder with TransformerLens hook points. For RoBERTa,
 * `embed.hook_pos_embed` is W_pos gathered at its padding-aware position ids (padTokenId + 1, … for
 * real tokens, padTokenId for padding), computed from the token ids as HF does.
 * @example
 * const enc = await HookedEncoder.fromPretrained('distilbert-base-uncased');
 * const [logits, cache] = enc.runWithCache(['a short text', 'a longer text to pad against']);
 * cache.get('blocks.0.attn.hook_q');   // [2, pos, n_heads, d_head] = DistilBERT q_lin output
 * @category Encoder
 */
export class HookedEncoder extends HookedModel<EncoderForwardOptions, EncoderResolved, EncoderOutput> {
  /** Architecture. */
  readonly cfg: EncoderConfig;
  /** Tokenizer for text input (undefined: token ids only). */
  readonly tokenizer: Tokenizer | undefined;
  private paramsOrUndefined: EncoderParams | undefined;
  protected readonly forwardOptionKeys = ENCODER_FORWARD_KEYS;
  /** LoRA adapter state (PEFT format): what {@link HookedEncoder.loadAdapter} and the merge methods act on; used by fine-tuning. */
  readonly adapters: AdapterHost<EncoderParams>;

  /**
   * @param cfg Architecture.
   * @param params Parameters (ownership passes to the model).
   * @param tokenizer Tokenizer for text input (WordPiece for BERT/DistilBERT, byte-level BPE for RoBERTa).
   * @param flags Optional hook points to enable.
   * @param classifier Sequence-classification head (ownership passes to the model).
   */
  constructor(cfg: EncoderConfig, params: EncoderParams, tokenizer?: Tokenizer, flags: HookFlags = {}, classifier?: SequenceClassifier) {
    super();
    this.cfg = cfg;
    this.paramsOrUndefined = params;
    this.tokenizer = tokenizer;
    this.classifier = classifier;
    this.adapters = new AdapterHost(encoderAccess(cfg, () => ({ params: this.params, classifier: this.classifier }), (w) => {
      this.paramsOrUndefined = w.params;
      this.classifier = w.classifier;
    }));
    const table = { nLayers: cfg.nLayers, tokenTypes: params.W_token_type !== undefined, mlmHead: params.mlmHead !== undefined, classifier: classifier !== undefined };
    this.registerHooks((f) => encoderHookSpecs(table, f));
    this.setFlags(flags);
  }

  /**
   * Load a BERT / DistilBERT / RoBERTa checkpoint (local folder, HF cache or hub): `*ForMaskedLM`
   * with its MLM head, `*ForSequenceClassification` with its classification head (labels from
   * config.json in {@link HookedEncoder.labels}), or the base model (`BertModel`,
   * `DistilBertModel`, `RobertaModel`) without one. No weight processing.
   * @param nameOrPath Folder or hub id (e.g. 'distilbert-base-uncased', 'FacebookAI/roberta-base').
   * @param opts Hub options, flags, tokenizer.
   * @returns The encoder.
   * @throws {@link "tfjs-lens"!WeightLoadError}, {@link "tfjs-lens"!ConfigError} (also for a model_type other than
   *   bert, distilbert, roberta), {@link "tfjs-lens"!HubError}, {@link "tfjs-lens"!NotFoundError}.
   * @example const enc = await HookedEncoder.fromPretrained('./roberta-checkpoint');
   */
  static async fromPretrained(nameOrPath: string, opts: EncoderFromPretrainedOptions = {}): Promise<HookedEncoder> {
    const { cfg, params, tokenizer, classifier } = await loadEncoder(nameOrPath, opts);
    return new HookedEncoder(cfg, params, tokenizer, opts.flags, classifier);
  }

  /**
   * The same as {@link HookedEncoder.fromPretrained}: the encoder never processes its weights. Kept
   * so that code written for `HookedTransformer.fromPretrainedNoProcessing` works for encoders.
   * @param nameOrPath Folder or hub id.
   * @param opts Hub options, flags, tokenizer.
   * @returns The encoder.
   * @throws As {@link HookedEncoder.fromPretrained}.
   * @example const enc = await HookedEncoder.fromPretrainedNoProcessing('./roberta-checkpoint');
   */
  static async fromPretrainedNoProcessing(nameOrPath: string, opts: EncoderFromPretrainedOptions = {}): Promise<HookedEncoder> {
    return HookedEncoder.fromPretrained(nameOrPath, opts);
  }

  /** The parameters (owned by the model). @throws {@link "tfjs-lens"!DisposedError} after dispose. */
  get params(): EncoderParams {
    if (this.paramsOrUndefined === undefined) throw new DisposedError('HookedEncoder: model was disposed');
    return this.paramsOrUndefined;
  }

  /** Whether the model has a masked-LM head. */
  get hasMlmHead(): boolean {
    return this.params.mlmHead !== undefined;
  }

  /**
   * Tokenise text(s) or pairs: `[CLS] A [SEP] (B [SEP])`, or RoBERTa's `<s> A </s> (</s> B </s>)`
   * with token types all 0; right-padded, truncated to the model's longest row.
   * @returns Plain arrays (ids, attentionMask, tokenTypeIds).
   */
  encode(input: string | readonly string[] | readonly (readonly [string, string])[], maxLength?: number): EncoderBatch {
    const tok = needTokenizer(this.tokenizer, 'HookedEncoder.encode');
    const style = this.cfg.modelType === 'roberta' ? 'roberta' : 'bert';
    const enc = encodeForEncoder(tok, input, { maxLength: maxLength ?? encoderMaxLength(this.cfg), style });
    const ids = enc.ids;
    return { ids, attentionMask: enc.attentionMask, tokenTypeIds: enc.tokenTypeIds ?? ids.map((r) => r.map(() => 0)) };
  }

  /** Each token as a string (one sequence). */
  toStrTokens(input: string | TokenInput): string[] {
    const tok = needTokenizer(this.tokenizer, 'toStrTokens');
    const row = typeof input === 'string' ? (this.encode(input).ids[0] ?? []) : (tokensToRows(input, this.cfg.dVocab, 'toStrTokens')[0] ?? []);
    return row.map((id) => tok.decodeToken(id));
  }

  protected get dims(): ModelDims {
    return { ...this.cfg, nLabels: this.classifier?.labels.numLabels ?? 0 };
  }

  private returnTypeOf(opts: EncoderForwardOptions, fn: string): NonNullable<EncoderForwardOptions['returnType']> {
    const hasHead = this.hasMlmHead || this.classifier !== undefined;
    const returnType = opts.returnType ?? (hasHead ? 'logits' : 'embeddings');
    if (returnType === 'logits' && !hasHead) {
      throw new ConfigError(`${fn}: this checkpoint has no MLM head; use returnType 'embeddings'`);
    }
    if ((returnType === 'loss' || returnType === 'both') && (this.classifier === undefined || opts.labels === undefined)) {
      throw new ConfigError(
        this.classifier === undefined
          ? `${fn}: returnType '${returnType}' needs a sequence-classification head (load a *ForSequenceClassification checkpoint)`
          : `${fn}: returnType '${returnType}' needs labels: pass { labels: [...] } with one class id per row`,
      );
    }
    return returnType;
  }

  protected headRuns(opts: EncoderForwardOptions, fn: string): boolean {
    const r = this.returnTypeOf(opts, fn);
    return r === 'logits' || r === 'loss' || r === 'both';
  }

  protected computesLogits(opts: EncoderForwardOptions, fn: string): boolean {
    return this.classifier === undefined && this.headRuns(opts, fn); // MLM logits [batch, pos, d_vocab]; class logits are small
  }

  /** Resolve any input to ids, mask (undefined = all real) and token types. */
  protected resolveRun(input: unknown, opts: EncoderForwardOptions, fn: string): EncoderResolved {
    this.returnTypeOf(opts, fn);
    let ids: number[][];
    let mask: number[][] | undefined;
    let types: number[][] | undefined;
    if (isTextInput(input)) {
      const b = this.encode(input, opts.maxLength);
      ids = b.ids;
      mask = b.attentionMask;
      types = this.params.W_token_type !== undefined ? b.tokenTypeIds : undefined;
    } else {
      ids = tokensToRows(input as TokenInput, this.cfg.dVocab, fn);
    }
    if (opts.attentionMask !== undefined) mask = tokensToRows(opts.attentionMask, 2, `${fn} (attentionMask)`);
    if (opts.tokenTypeIds !== undefined) types = tokensToRows(opts.tokenTypeIds, Math.max(this.cfg.typeVocabSize, 1), `${fn} (tokenTypeIds)`);
    for (const [what, m] of [['attentionMask', mask], ['tokenTypeIds', types]] as const) {
      if (m !== undefined && (m.length !== ids.length || m[0]?.length !== ids[0]?.length)) {
        throw new ShapeError(`${fn}: ${what} shape [${m.length}, ${m[0]?.length}] must equal tokens [${ids.length}, ${ids[0]?.length}]`);
      }
    }
    this.checkLength(ids, fn);
    // Labels are checked before the run: a bad label costs no forward pass.
    if (opts.labels !== undefined && this.classifier === undefined) throw new ConfigError(`${fn}: labels need a sequence-classification head (a *ForSequenceClassification checkpoint)`);
    if (opts.labels !== undefined && this.classifier !== undefined) checkClassLabels(opts.labels, ids.length, this.classifier.labels, fn);
    if (mask !== undefined && mask.every((r) => r.every((v) => v === 1))) mask = undefined;
    return { rows: ids, mask, types };
  }

  /** Rows must fit W_pos: BERT/DistilBERT ≤ n_ctx tokens; RoBERTa ≤ n_ctx − pad_token_id − 1 non-padding tokens. */
  private checkLength(ids: readonly number[][], fn: string): void {
    const { modelType, nCtx, padTokenId } = this.cfg;
    const max = encoderMaxLength(this.cfg);
    if (modelType !== 'roberta') {
      if ((ids[0]?.length ?? 0) > max) throw new ShapeError(`${fn}: sequence length ${ids[0]?.length} exceeds n_ctx ${nCtx}`);
      return;
    }
    const longest = Math.max(0, ...ids.map((r) => r.filter((t) => t !== padTokenId).length));
    if (longest > max) {
      throw new ShapeError(
        `${fn}: ${longest} non-padding tokens exceed RoBERTa's ${max} positions (max_position_embeddings ${nCtx} − pad_token_id ${padTokenId} − 1)`,
      );
    }
  }

  protected execute(resolved: EncoderResolved, opts: EncoderForwardOptions, flags: HookFlags, stop: number | undefined, fn: string): EncoderOutput {
    const returnType = this.returnTypeOf(opts, fn);
    const tokens = rowsToTensor(resolved.rows);
    const typeT = resolved.types === undefined ? undefined : rowsToTensor(resolved.types);
    const weights = this.adapters.runWeights(); // base weights, or W + s·B·A with an unmerged adapter
    try {
      const run = { cfg: this.cfg, params: weights.weights.params, hook: this.hookDispatch(flags, fn), flags };
      const clf = weights.weights.classifier;
      if (clf !== undefined && stop === undefined && returnType !== 'embeddings') {
        const logits = runEncoder(run, tokens, resolved.mask, typeT, clf, undefined); // [batch, n_labels]
        return classifierOutput(logits, returnType, opts.labels, clf.labels, fn);
      }
      const out = runEncoder(run, tokens, resolved.mask, typeT, returnType === 'logits', stop);
      if (returnType === 'none') {
        out.dispose();
        return undefined;
      }
      return out;
    } finally {
      weights.release();
      tokens.dispose();
      typeT?.dispose();
    }
  }

  /**
   * Run the encoder.
   * @param input Text(s), pairs, or token ids [batch, pos].
   * @param opts returnType, attentionMask, tokenTypeIds, stopAtLayer, maxLength, labels, flags.
   * @returns MLM logits [batch, pos, d_vocab], hidden states [batch, pos, d_model] ('embeddings'),
   *   the residual stream entering block stopAtLayer, or undefined ('none'). With a
   *   sequence-classification head: class logits [batch, n_labels] (the static type says
   *   Tensor3D; {@link HookedEncoder.classify} is typed Tensor2D), the loss ('loss') or both ('both').
   * @throws {@link "tfjs-lens"!ConfigError} for an unknown option, logits from a model without a head, or
   *   'loss' without labels; {@link "tfjs-lens"!ShapeError} for labels that do not match the batch.
   */
  forward(input: EncoderInput, opts?: EncoderForwardOptions & EncoderTensorOptions): tf.Tensor3D;
  forward(input: EncoderInput, opts: EncoderForwardOptions & EncoderNoneOptions): undefined;
  forward(input: EncoderInput, opts: EncoderForwardOptions & { readonly returnType: 'loss' }): tf.Scalar;
  forward(input: EncoderInput, opts: EncoderForwardOptions & { readonly returnType: 'both' }): ClassifierLogitsAndLoss;
  forward(input: EncoderInput, opts?: EncoderForwardOptions & EncoderTensorOrNoneOptions): tf.Tensor3D | undefined;
  forward(input: EncoderInput, opts?: EncoderForwardOptions): EncoderOutput;
  forward(input: EncoderInput, opts: EncoderForwardOptions = {}): EncoderOutput {
    return this.forwardImpl(input, opts, 'HookedEncoder.forward');
  }

  /**
   * Class logits of a sequence-classification checkpoint (HF `model(**inputs).logits`).
   * @param input Text(s), pairs, or token ids [batch, pos].
   * @param opts attentionMask, tokenTypeIds, maxLength, flags.
   * @returns Logits [batch, n_labels].
   * @throws {@link "tfjs-lens"!ConfigError} for a model without a classification head.
   * @example const logits = clf.classify(ids, { attentionMask });
   */
  classify(input: EncoderInput, opts: Omit<EncoderForwardOptions, 'returnType' | 'stopAtLayer' | 'labels'> = {}): tf.Tensor2D {
    const fn = 'HookedEncoder.classify';
    this.requireClassifier(fn);
    return this.forwardImpl(input, { ...opts, returnType: 'logits' }, fn) as tf.Tensor2D;
  }

  /**
   * The loss HF computes with `labels=`: cross-entropy over class ids, MSE for one-label
   * regression, BCE-with-logits for [batch, num_labels] multi-label targets.
   * @param input Text(s), pairs, or token ids [batch, pos].
   * @param labels A class id per row (-100 ignores a row), or [batch, num_labels] targets.
   * @param opts attentionMask, tokenTypeIds, maxLength, flags.
   * @returns Scalar loss.
   * @throws {@link "tfjs-lens"!ShapeError} for labels of the wrong length; {@link "tfjs-lens"!ConfigError} for a class id
   *   outside [0, num_labels) or a model without a classification head.
   * @example const loss = clf.classifierLoss(ids, [0, 1, 0], { attentionMask });
   */
  classifierLoss(input: EncoderInput, labels: ClassLabels, opts: Omit<EncoderForwardOptions, 'returnType' | 'stopAtLayer' | 'labels'> = {}): tf.Scalar {
    return this.forwardImpl(input, { ...opts, returnType: 'loss', labels }, 'HookedEncoder.classifierLoss') as tf.Scalar;
  }

  /**
   * Run with temporary hooks (removed afterwards, also when a hook throws).
   * @returns As {@link forward}.
   */
  runWithHooks(input: EncoderInput, opts?: EncoderRunWithHooksOptions & EncoderTensorOptions): tf.Tensor3D;
  runWithHooks(input: EncoderInput, opts: EncoderRunWithHooksOptions & EncoderNoneOptions): undefined;
  runWithHooks(input: EncoderInput, opts?: EncoderRunWithHooksOptions & EncoderTensorOrNoneOptions): tf.Tensor3D | undefined;
  runWithHooks(input: EncoderInput, opts?: EncoderRunWithHooksOptions): EncoderOutput;
  runWithHooks(input: EncoderInput, opts: EncoderRunWithHooksOptions = {}): EncoderOutput {
    return this.runWithHooksImpl(input, opts, 'HookedEncoder.runWithHooks');
  }

  /**
   * Run and record activations. With `returnType: 'none'` and no hooks attached to the model, the
   * forward pass ends right after the last recorded hook (nothing later is needed).
   * @returns `[output, cache]`; both are owned by the caller.
   * @throws {@link "tfjs-lens"!HookNameError} for unknown/disabled names in namesFilter.
   */
  runWithCache(input: EncoderInput, opts?: EncoderRunWithCacheOptions & EncoderTensorOptions): [tf.Tensor3D, ActivationCache];
  runWithCache(input: EncoderInput, opts: EncoderRunWithCacheOptions & EncoderNoneOptions): [undefined, ActivationCache];
  runWithCache(input: EncoderInput, opts?: EncoderRunWithCacheOptions & EncoderTensorOrNoneOptions): [tf.Tensor3D | undefined, ActivationCache];
  runWithCache(input: EncoderInput, opts?: EncoderRunWithCacheOptions): [EncoderOutput, ActivationCache];
  runWithCache(input: EncoderInput, opts: EncoderRunWithCacheOptions = {}): [EncoderOutput, ActivationCache] {
    return this.runWithCacheImpl(input, opts, 'HookedEncoder.runWithCache');
  }

  /**
   * Save as a Hugging Face checkpoint folder (config.json + model.safetensors with HF names):
   * `*ForSequenceClassification` (head and labels) or the base model; MLM heads are not written.
   * @param dir Output folder (created).
   * @returns The folder.
   * @throws {@link "tfjs-lens"!ConfigError} for a model with an MLM head.
   * @example await clf.saveHf('out/bert-cls'); await HookedEncoder.fromPretrained('out/bert-cls');
   */
  saveHf(dir: string): Promise<string> {
    return saveEncoderHf(dir, this.cfg, this.params, this.classifier);
  }

  /** TL `model.OV`: FactoredMatrix(W_V, W_O) [n_layers, n_heads, d_model, d_model]. A new FactoredMatrix the caller disposes. */
  get OV(): FactoredMatrix { return attnCircuitFromBlocks(this.params.blocks, this.cfg.nHeads, 'OV'); }

  /** TL `model.QK`: FactoredMatrix(W_Q, W_Kᵀ) [n_layers, n_heads, d_model, d_model]. A new FactoredMatrix the caller disposes. */
  get QK(): FactoredMatrix { return attnCircuitFromBlocks(this.params.blocks, this.cfg.nHeads, 'QK'); }

  /** Parameters under TL HookedEncoder state-dict names; new tensors the caller disposes. */
  stateDict(): Map<string, tf.Tensor> {
    return encoderStateDict(this.params, this.cfg);
  }

  /** Free the parameters. The model is unusable afterwards. */
  dispose(): void {
    if (this.paramsOrUndefined === undefined) return;
    disposeEncoderParams(this.paramsOrUndefined);
    if (this.classifier !== undefined) disposeClassifierParams(this.classifier.params);
    this.adapters.dispose();
    this.paramsOrUndefined = undefined;
  }
}
