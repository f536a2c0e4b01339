/**
 * The decoder's run step behind {@link HookedTransformer}: a `startAtLayer` input (TL
 * `start_at_layer`: the residual stream entering a block, optional `tokens`), the forward pass with
 * its return type, and one key/value-cache step. Kept out of the class so it stays short.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { DecoderHookName } from '../hooks/decoder_hooks.js';
import type { HookFlags, HookSpec } from '../hooks/hook_spec.js';
import type { HookDispatch } from '../hooks/run_context.js';
import { dVocabOut, type ModelConfig } from './config.js';
import { runDecoder, type DecoderStart, type KvCache } from './forward.js';
import type { ForwardOptions, ForwardOutput } from './forward_options.js';
import { maskRows, rowsToTensor, tokensToRows, type ResolvedInput, type TensorLike } from './inputs.js';
import { lmCrossEntropy } from './loss.js';
import type { DecoderParams } from './params.js';
import type { RunWeights } from './lora/adapter_host.js';
import { lastTokenPositions } from './classifier/head.js';
import { classifierOutput } from './classifier/loss.js';

/** What a decoder run needs from the model. */
export interface DecoderExec {
  /** Architecture. */
  readonly cfg: ModelConfig;
  /** Weights for this run (base, or with an unmerged adapter); released by the run. */
  readonly runWeights: () => RunWeights<DecoderParams>;
  /** Hook dispatcher of the run. */
  readonly hook: HookDispatch<DecoderHookName>;
  /** Optional-hook flags in force. */
  readonly flags: HookFlags;
}

/**
 * The first block of a `startAtLayer` run, in [0, n_layers] (negative values count from the end,
 * as TL's slice `blocks[start_at_layer:]`), or undefined when none was given.
 * @throws {@link "tfjs-lens"!ConfigError} for a non-integer, a value outside [-n_layers, n_layers], or a start after stopAtLayer.
 */
export function startLayer(opts: Pick<ForwardOptions, 'startAtLayer' | 'stopAtLayer'>, nLayers: number, fn: string): number | undefined {
  const s = opts.startAtLayer;
  if (s === undefined) return undefined;
  if (!Number.isInteger(s) || s < -nLayers || s > nLayers) {
    throw new ConfigError(`${fn}: startAtLayer must be an integer in [${-nLayers}, ${nLayers}], got ${s}`);
  }
  const layer = s < 0 ? nLayers + s : s;
  const stop = opts.stopAtLayer;
  if (stop !== undefined && Number.isInteger(stop) && (stop < 0 ? nLayers + stop : stop) < layer) {
    throw new ConfigError(`${fn}: startAtLayer ${s} (block ${layer}) comes after stopAtLayer ${stop}; the start must not be later than the stop`);
  }
  return layer;
}

/** The recorded hooks of a run starting at `start`: no embedding hooks, no blocks before it. */
export function specsFromStart(specs: HookSpec[], start: number | undefined): HookSpec[] {
  if (start === undefined) return specs;
  return specs.filter((s) => s.stage === 'head' || (s.stage === 'block' && (s.layer ?? 0) >= start));
}

function isTensorLike(x: unknown): x is TensorLike {
  return typeof x === 'object' && x !== null && 'shape' in x && typeof (x as TensorLike).arraySync === 'function';
}

/**
 * Resolve a `startAtLayer` input: the residual [batch, pos, d_model], optional token ids and mask.
 * @param needTokens Whether the run needs token ids whatever the return type (a classification head).
 * @throws {@link "tfjs-lens"!ShapeError} for an input that is not a [batch, pos, d_model] tensor, or tokens / mask of another [batch, pos];
 *   {@link "tfjs-lens"!ConfigError} for a loss (or a classification head) without `tokens`, or a shortformerPosEmbed.
 */
export function resolveStartInput(input: unknown, opts: ForwardOptions, cfg: ModelConfig, needTokens: boolean, fn: string): ResolvedInput {
  const layer = startLayer(opts, cfg.nLayers, fn) ?? 0;
  if (opts.shortformerPosEmbed !== undefined) {
    throw new ConfigError(`${fn}: shortformerPosEmbed has no use here: this model's positions are '${cfg.positionalEmbeddingType ?? 'standard'}', not shortformer; leave it undefined`);
  }
  const got = isTensorLike(input) ? `shape [${input.shape.join(', ')}]` : typeof input === 'string' ? 'a string' : `${typeof input}`;
  if (!isTensorLike(input) || input.shape.length !== 3 || input.shape[2] !== cfg.dModel || (input.shape[0] ?? 0) < 1 || (input.shape[1] ?? 0) < 1) {
    throw new ShapeError(
      `${fn}: with startAtLayer the input must be the residual stream [batch, pos, d_model=${cfg.dModel}] entering block ${layer}, got ${got} [make it with inputToEmbed(input).residual or runWithCache]`,
    );
  }
  const dtype = (input as { readonly dtype?: string }).dtype;
  if (dtype !== undefined && dtype !== 'float32') {
    throw new ShapeError(`${fn}: with startAtLayer the residual stream must be float32, got ${dtype} (token ids go in { tokens }, not as the input)`);
  }
  const [batch = 0, pos = 0] = input.shape;
  if (pos > cfg.nCtx) throw new ShapeError(`${fn}: sequence length ${pos} exceeds n_ctx ${cfg.nCtx}`);
  const returnType = opts.returnType ?? 'logits';
  const hasTokens = opts.tokens !== undefined;
  if (!hasTokens && (returnType === 'loss' || returnType === 'both' || needTokens)) {
    const why = needTokens ? 'a sequence-classification head reads the last real token of each row' : `returnType '${returnType}' scores the next tokens`;
    throw new ConfigError(`${fn}: startAtLayer without tokens: ${why}; pass { tokens } [batch, pos] (e.g. inputToEmbed(input).tokens)`);
  }
  let rows: number[][];
  if (opts.tokens !== undefined) {
    rows = tokensToRows(opts.tokens, cfg.dVocab, `${fn} (tokens)`);
    if (rows.length !== batch || rows[0]?.length !== pos) {
      throw new ShapeError(`${fn}: tokens shape [${rows.length}, ${rows[0]?.length}] must equal the residual's [batch, pos] = [${batch}, ${pos}]`);
    }
  } else {
    rows = Array.from({ length: batch }, () => new Array<number>(pos).fill(0));
  }
  const mask = opts.attentionMask === undefined ? undefined : maskRows(opts.attentionMask, rows, fn);
  return { rows, mask, lossMask: mask, start: { layer, residual: input, hasTokens } };
}

/**
 * Run the decoder for a resolved input and shape the output by return type.
 * @param stop Resolved stop layer, or undefined.
 * @returns As {@link HookedTransformer.forward}.
 */
export function executeDecoder(x: DecoderExec, resolved: ResolvedInput, opts: ForwardOptions, stop: number | undefined, fn: string): ForwardOutput {
  const { rows, mask, lossMask, start } = resolved;
  const returnType = opts.returnType ?? 'logits';
  const width = dVocabOut(x.cfg);
  if ((returnType === 'loss' || returnType === 'both') && width < x.cfg.dVocab) {
    const bad = rows.flatMap((r) => r.slice(1)).find((id) => id >= width);
    if (bad !== undefined) throw new ShapeError(`${fn}: target token ${bad} is outside the unembedding [0, d_vocab_out=${width}); the next-token loss cannot score it`);
  }
  // A residual from another tfjs copy is rebuilt here (and freed after); ours is used as is.
  const copied = start !== undefined && !(start.residual instanceof tf.Tensor) ? tf.tensor3d(start.residual.arraySync() as number[][][]) : undefined;
  const tokens = start === undefined ? rowsToTensor(rows) : undefined;
  const input: tf.Tensor2D | DecoderStart = tokens ?? { layer: start?.layer ?? 0, residual: copied ?? (start?.residual as tf.Tensor3D) };
  const weights = x.runWeights(); // base weights, or W + s·B·A with an unmerged adapter
  const run = { cfg: x.cfg, params: weights.weights.params, hook: x.hook, flags: x.flags };
  const clf = weights.weights.classifier;
  let out: tf.Tensor3D;
  try {
    if (clf !== undefined && stop === undefined) {
      const logits = runDecoder(run, input, mask, undefined, undefined, { clf, positions: lastTokenPositions(rows, clf.padTokenId, fn) }); // [batch, n_labels]
      return classifierOutput(logits, returnType, opts.labels, clf.labels, fn);
    }
    out = runDecoder(run, input, mask, stop);
  } finally {
    weights.release();
    tokens?.dispose();
    copied?.dispose();
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
 * One generation step with a key/value cache: logits of the new tokens; the cache is extended on
 * success and unchanged on error.
 * @throws {@link "tfjs-lens"!ShapeError} on bad token ids, too many positions or a mask of the wrong length.
 */
export function kvCacheStep(x: DecoderExec, rows: number[][], mask: number[][] | undefined, cache: KvCache, fn: string): tf.Tensor3D {
  const tokenRows = tokensToRows(rows, x.cfg.dVocab, fn);
  const total = cache.length + (tokenRows[0]?.length ?? 0);
  if (total > x.cfg.nCtx) throw new ShapeError(`${fn}: ${total} positions exceed n_ctx ${x.cfg.nCtx}`);
  if (mask !== undefined && (mask.length !== tokenRows.length || mask.some((m) => m.length !== total))) {
    throw new ShapeError(`${fn}: attentionMask must be [${tokenRows.length}, ${total}] (cached + new positions)`);
  }
  const tokens = rowsToTensor(tokenRows);
  const weights = x.runWeights();
  try {
    const out = runDecoder({ cfg: x.cfg, params: weights.weights.params, hook: x.hook, flags: x.flags }, tokens, mask, undefined, cache);
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
