/**
 * HookedEncoder: BERT and DistilBERT with TransformerLens `HookedEncoder` hook points (post-LN
 * blocks), attention masks, token types and the masked-LM head. TransformerLens has no DistilBERT;
 * here both families share one implementation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ActivationCache } from '../../hooks/activation_cache.js';
import { filterNames, runRecording } from '../../hooks/caching.js';
import { encoderHookSpecs } from '../../hooks/encoder_hook_names.js';
import type { HookFlags } from '../../hooks/hook_names.js';
import { HookedRoot, type FwdHooks } from '../../hooks/hook_registry.js';
import { ConfigError, DisposedError, ShapeError } from '../../errors.js';
import { encodeForEncoder } from '../../tokenizers/batch.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { resolveStopAtLayer } from '../forward.js';
import { rowsToTensor, tokensToRows, type TokenInput } from '../inputs.js';
import { checkRunFits } from '../memory_guard.js';
import { needTokenizer } from '../token_helpers.js';
import type { EncoderConfig } from './encoder_config.js';
import { runEncoder } from './encoder_forward.js';
import { disposeEncoderParams, encoderStateDict, type EncoderParams } from './encoder_params.js';
import { loadEncoder, type EncoderFromPretrainedOptions } from './load_encoder.js';

function isTextInput(x: unknown): boolean {
  if (typeof x === 'string') return true;
  if (!Array.isArray(x) || x.length === 0) return false;
  const first: unknown = x[0];
  return typeof first === 'string' || (Array.isArray(first) && typeof first[0] === 'string');
}

/** Encoder input: text(s), sentence pairs, or token ids [batch, pos]. @category Encoder */
export type EncoderInput = string | readonly string[] | readonly (readonly [string, string])[] | TokenInput;

/** Options of {@link HookedEncoder.forward}. @category Encoder */
export interface EncoderForwardOptions extends HookFlags {
  /** 'logits' (MLM logits, default when the model has an MLM head), 'embeddings' (final hidden states) or 'none'. */
  readonly returnType?: 'logits' | 'embeddings' | 'none';
  /** 1 = real token, 0 = padding, [batch, pos]; built automatically for text input. */
  readonly attentionMask?: TokenInput;
  /** Segment ids [batch, pos] (BERT); built automatically for sentence pairs. */
  readonly tokenTypeIds?: TokenInput;
  /** Exclusive layer to stop at; returns that layer's input [batch, pos, d_model]. */
  readonly stopAtLayer?: number;
  /** Truncate text input to this many tokens (default: the model's n_ctx). */
  readonly maxLength?: number;
}

/** Options of {@link HookedEncoder.runWithCache}. @category Encoder */
export interface EncoderRunWithCacheOptions extends EncoderForwardOptions {
  /** Which hooks to cache: a name, names, or a predicate (default: all enabled hooks). */
  readonly namesFilter?: string | readonly string[] | ((name: string) => boolean);
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

/**
 * A BERT / DistilBERT encoder with TransformerLens hook points.
 * @example
 * const enc = await HookedEncoder.fromPretrained('distilbert-base-uncased');
 * const [logits, cache] = enc.runWithCache(['a short text', 'a longer text to pad against']);
 * cache.get('blocks.0.attn.hook_q');   // [2, pos, n_heads, d_head] = DistilBERT q_lin output
 * @category Encoder
 */
export class HookedEncoder extends HookedRoot {
  /** Architecture. */
  readonly cfg: EncoderConfig;
  /** Tokenizer for text input (undefined: token ids only). */
  readonly tokenizer: Tokenizer | undefined;
  private paramsOrUndefined: EncoderParams | undefined;

  /**
   * @param cfg Architecture.
   * @param params Parameters (ownership passes to the model).
   * @param tokenizer WordPiece tokenizer for text input.
   * @param flags Optional hook points to enable.
   */
  constructor(cfg: EncoderConfig, params: EncoderParams, tokenizer?: Tokenizer, flags: HookFlags = {}) {
    super();
    this.cfg = cfg;
    this.paramsOrUndefined = params;
    this.tokenizer = tokenizer;
    this.registerHooks(
      encoderHookSpecs({ nLayers: cfg.nLayers, tokenTypes: params.W_token_type !== undefined, mlmHead: params.mlmHead !== undefined }),
    );
    this.setFlags(flags);
  }

  /**
   * Load a BERT / DistilBERT checkpoint (local folder, HF cache or hub). No weight processing.
   * @param nameOrPath Folder or hub id (e.g. 'distilbert-base-uncased').
   * @param opts Hub options, flags, tokenizer.
   * @returns The encoder.
   * @throws {@link WeightLoadError}, {@link ConfigError}, {@link HubError}, {@link NotFoundError}.
   */
  static async fromPretrained(nameOrPath: string, opts: EncoderFromPretrainedOptions = {}): Promise<HookedEncoder> {
    const { cfg, params, tokenizer } = await loadEncoder(nameOrPath, opts);
    return new HookedEncoder(cfg, params, tokenizer, opts.flags);
  }

  /** The parameters (owned by the model). @throws {@link DisposedError} after dispose. */
  get params(): EncoderParams {
    if (this.paramsOrUndefined === undefined) throw new DisposedError('HookedEncoder: model was disposed');
    return this.paramsOrUndefined;
  }

  /** Whether the model has a masked-LM head. */
  get hasMlmHead(): boolean {
    return this.params.mlmHead !== undefined;
  }

  /**
   * Tokenise text(s) or pairs: `[CLS] A [SEP] (B [SEP])`, right-padded, truncated to n_ctx.
   * @returns Plain arrays (ids, attentionMask, tokenTypeIds).
   */
  encode(input: string | readonly string[] | readonly (readonly [string, string])[], maxLength?: number): EncoderBatch {
    const tok = needTokenizer(this.tokenizer, 'HookedEncoder.encode');
    const enc = encodeForEncoder(tok, input as string | string[] | [string, string][], { maxLength: maxLength ?? this.cfg.nCtx });
    const ids = enc.ids;
    return { ids, attentionMask: enc.attentionMask, tokenTypeIds: enc.tokenTypeIds ?? ids.map((r) => r.map(() => 0)) };
  }

  /** Each token as a string (one sequence). */
  toStrTokens(input: string | TokenInput): string[] {
    const tok = needTokenizer(this.tokenizer, 'toStrTokens');
    const row = typeof input === 'string' ? (this.encode(input).ids[0] ?? []) : (tokensToRows(input, this.cfg.dVocab, 'toStrTokens')[0] ?? []);
    return row.map((id) => tok.decodeToken(id));
  }

  /** Resolve any input to ids, mask (undefined = all real) and token types. */
  resolve(input: EncoderInput, opts: EncoderForwardOptions, fn: string): {
    /** Token ids [batch, pos]. */
    ids: number[][];
    /** Attention mask [batch, pos] (1 = real), or undefined when every token is real. */
    mask: number[][] | undefined;
    /** Token-type ids [batch, pos]: `opts.tokenTypeIds`, else built from text if the model has a token-type embedding. */
    types: number[][] | undefined;
  } {
    const isText = isTextInput(input);
    let ids: number[][];
    let mask: number[][] | undefined;
    let types: number[][] | undefined;
    if (isText) {
      const b = this.encode(input as string | string[], opts.maxLength);
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
    if ((ids[0]?.length ?? 0) > this.cfg.nCtx) throw new ShapeError(`${fn}: sequence length ${ids[0]?.length} exceeds n_ctx ${this.cfg.nCtx}`);
    if (mask !== undefined && mask.every((r) => r.every((v) => v === 1))) mask = undefined;
    return { ids, mask, types };
  }

  /**
   * Run the encoder.
   * @param input Text(s), pairs, or token ids [batch, pos].
   * @param opts returnType, attentionMask, tokenTypeIds, stopAtLayer, flags.
   * @returns MLM logits [batch, pos, d_vocab], hidden states [batch, pos, d_model] ('embeddings' or
   *   stopAtLayer), or undefined ('none').
   * @throws {@link ConfigError} when logits are requested from a model without an MLM head.
   */
  forward(input: EncoderInput, opts: EncoderForwardOptions = {}): tf.Tensor3D | undefined {
    const flags = this.effectiveFlags(opts);
    this.checkAttachedHooks(flags, 'HookedEncoder.forward');
    const returnType = opts.returnType ?? (this.hasMlmHead ? 'logits' : 'embeddings');
    if (returnType === 'logits' && !this.hasMlmHead) {
      throw new ConfigError("HookedEncoder.forward: this checkpoint has no MLM head; use returnType 'embeddings'");
    }
    const { ids, mask, types } = this.resolve(input, opts, 'HookedEncoder.forward');
    const stop = resolveStopAtLayer(opts.stopAtLayer, this.cfg.nLayers);
    const { dModel, dMlp, nHeads, dVocab } = this.cfg;
    checkRunFits({ batch: ids.length, pos: ids[0]?.length ?? 0, dModel, dMlp, nHeads, dVocab, cacheBytes: 0, logits: returnType === 'logits' }, 'HookedEncoder.forward');
    const tokens = rowsToTensor(ids);
    const typeT = types === undefined ? undefined : rowsToTensor(types);
    try {
      const out = runEncoder(this, tokens, mask, typeT, flags, returnType === 'logits', stop);
      if (returnType === 'none') {
        out.dispose();
        return undefined;
      }
      return out;
    } finally {
      tokens.dispose();
      typeT?.dispose();
    }
  }

  /**
   * Run with temporary hooks (removed afterwards, also when a hook throws).
   * @returns As {@link forward}.
   */
  runWithHooks(input: EncoderInput, opts: EncoderForwardOptions & { fwdHooks?: FwdHooks } = {}): tf.Tensor3D | undefined {
    return this.withHooks(opts.fwdHooks ?? [], () => this.forward(input, opts), this.effectiveFlags(opts));
  }

  /**
   * Run and record activations. With `returnType: 'none'` and no hooks attached to the model, the
   * forward pass ends right after the last recorded hook (nothing later is needed).
   * @returns `[output, cache]`; both are owned by the caller.
   * @throws {@link HookNameError} for unknown/disabled names in namesFilter.
   */
  runWithCache(input: EncoderInput, opts: EncoderRunWithCacheOptions = {}): [tf.Tensor3D | undefined, ActivationCache] {
    const flags = this.effectiveFlags(opts);
    const stop = resolveStopAtLayer(opts.stopAtLayer, this.cfg.nLayers);
    const names = filterNames(opts.namesFilter, this.enabledHookNames(flags), (n) => this.checkHookName(n, flags, 'runWithCache')).filter((n) => {
      const m = /^blocks\.(\d+)\./.exec(n);
      return m === null ? !n.startsWith('mlm_head') || stop === this.cfg.nLayers : Number(m[1]) < stop;
    });
    // returnType 'none' and no user hooks attached: nothing after the last recorded hook is needed,
    // so the run stops there.
    return runRecording(this, names, flags, () => this.forward(input, opts), this.cfg.nLayers, opts.returnType === 'none' && !this.hasHooks());
  }

  /** Parameters under TL HookedEncoder state-dict names; new tensors the caller disposes. */
  stateDict(): Map<string, tf.Tensor> {
    return encoderStateDict(this.params, this.cfg);
  }

  /** Free the parameters. The model is unusable afterwards. */
  dispose(): void {
    if (this.paramsOrUndefined === undefined) return;
    disposeEncoderParams(this.paramsOrUndefined);
    this.paramsOrUndefined = undefined;
  }
}
