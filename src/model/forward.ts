/**
 * The decoder forward pass: embed → blocks → ln_final → unembed, one `tf.tidy` per stage so only
 * the residual stream (and whatever hooks keep) survives each layer. Positions (learned or rotary)
 * are computed once per run from the attention mask and the key/value cache length.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DecoderHookName } from '../hooks/decoder_hooks.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { HookDispatch, RunContext } from '../hooks/run_context.js';
import { affine } from '../ops/matmul.js';
import type { KvSlot } from './components/attention.js';
import { block, type BlockSetup } from './components/block.js';
import { embed } from './components/embed.js';
import { layerNorm } from './components/layer_norm.js';
import { rotaryTables } from './components/rotary.js';
import { dVocabOut, isRms, isRotary, kvHeads, type ModelConfig } from './config.js';
import type { DecoderParams } from './params.js';
import { classifierHead } from './classifier/head.js';
import type { SequenceClassifier } from './classifier/head_params.js';

/** A sequence-classification head and the position it reads in each row. */
export interface DecoderClassifierRun {
  /** The head (`score`). */
  readonly clf: SequenceClassifier;
  /** Position read in each row ({@link lastTokenPositions}). */
  readonly positions: readonly number[];
}

/**
 * Additive mask [batch|1, 1, pos, past+pos]: 0 where allowed, -inf where masked (causal ∧ key
 * mask ∧ sliding window). Query q sits at absolute position past + q; with a window w it sees keys
 * k with q − w < k (HF Mistral).
 */
function buildMask(pos: number, past: number, mask: number[][] | undefined, window = Infinity): tf.Tensor4D {
  const total = past + pos;
  const rows = mask ?? [new Array<number>(total).fill(1)];
  const data = new Float32Array(rows.length * pos * total);
  rows.forEach((m, b) => {
    for (let q = 0; q < pos; q++) {
      for (let k = 0; k < total; k++) {
        const qAbs = past + q;
        data[(b * pos + q) * total + k] = k <= qAbs && qAbs - k < window && m[k] === 1 ? 0 : -Infinity;
      }
    }
  });
  return tf.tensor4d(data, [rows.length, 1, pos, total]);
}

/**
 * Position ids of the new tokens [batch, pos] (TL `get_offset_position_ids`): without a mask
 * past + 0 … past + pos − 1; with one, the count of real tokens before each token (pads 0).
 */
function positionIds(batch: number, pos: number, past: number, mask: number[][] | undefined): tf.Tensor2D {
  const data = new Int32Array(batch * pos);
  for (let b = 0; b < batch; b++) {
    const m = mask?.[b];
    let seen = 0;
    for (let k = 0; k < past + pos; k++) {
      const id = m === undefined ? k : Math.max(seen - 1 + (m[k] === 1 ? 1 : 0), 0);
      if (m?.[k] === 1) seen++;
      if (k >= past) data[b * pos + (k - past)] = id;
    }
  }
  return tf.tensor2d(data, [batch, pos], 'int32');
}

/**
 * Key/value cache of a generation run (TL `HookedTransformerKeyValueCache`): per layer, the keys
 * (after rotary) and values of every earlier position. The caller disposes it.
 * @category Model
 */
export class KvCache {
  /** One slot per layer. */
  readonly slots: KvSlot[];
  /** Positions already cached. */
  get length(): number {
    return this.slots[0]?.past?.k.shape[1] ?? 0;
  }

  /** @param nLayers Number of layers. */
  constructor(nLayers: number) {
    this.slots = Array.from({ length: nLayers }, () => ({ past: undefined, next: undefined }));
  }

  /** Make each layer's `next` its `past` (after a successful step). */
  commit(): void {
    for (const s of this.slots) {
      if (s.next === undefined) continue;
      s.past?.k.dispose();
      s.past?.v.dispose();
      s.past = s.next;
      s.next = undefined;
    }
  }

  /** Drop uncommitted entries (after a failed step). */
  rollback(): void {
    for (const s of this.slots) {
      s.next?.k.dispose();
      s.next?.v.dispose();
      s.next = undefined;
    }
  }

  /** Free every cached tensor. */
  dispose(): void {
    this.rollback();
    for (const s of this.slots) {
      s.past?.k.dispose();
      s.past?.v.dispose();
      s.past = undefined;
    }
  }
}

/**
 * Where a run starts when it skips the embedding (TL `start_at_layer`): the residual stream
 * entering block `layer` [batch, pos, d_model]. The caller keeps ownership of `residual`.
 */
export interface DecoderStart {
  /** First block to run, in [0, n_layers]. */
  readonly layer: number;
  /** Residual stream entering that block [batch, pos, d_model]. */
  readonly residual: tf.Tensor3D;
}

/** What one decoder run needs besides the tokens. */
interface DecoderRun {
  /** Architecture. */
  readonly cfg: ModelConfig;
  /** Parameters. */
  readonly params: DecoderParams;
  /** Hook dispatcher of the run ({@link NO_HOOKS} for none). */
  readonly hook: HookDispatch<DecoderHookName>;
  /** Optional-hook flags in force. */
  readonly flags: HookFlags;
}

/**
 * Run the decoder.
 * @param run Config, params, hook dispatcher and flags.
 * @param tokens Token ids [batch, pos] (int32), or a {@link DecoderStart}: the residual entering a
 *   block (embedding and earlier blocks skipped, their hooks silent; TL `start_at_layer`).
 * @param mask Attention mask rows (left padding / explicit) or undefined.
 * @param stop Exclusive layer to stop at (already resolved to [0, n_layers]); when given (even
 *   n_layers) the residual stream entering that block is returned, without ln_final (TL).
 * @param kvCache Keys/values of earlier positions; `mask` rows then cover past + new positions.
 *   Each layer writes its `next` entry; the caller commits (or rolls back) the cache.
 * @returns Logits [batch, pos, d_vocab], or the residual [batch, pos, d_model] with `stop`.
 */
export function runDecoder(
  run: DecoderRun,
  tokens: tf.Tensor2D | DecoderStart,
  mask: number[][] | undefined,
  stop: number | undefined,
  kvCache?: KvCache,
): tf.Tensor3D;
/**
 * Run the decoder and a sequence-classification head on the final-norm output.
 * @returns Class logits [batch, n_labels].
 */
export function runDecoder(
  run: DecoderRun,
  tokens: tf.Tensor2D | DecoderStart,
  mask: number[][] | undefined,
  stop: undefined,
  kvCache: undefined,
  classifier: DecoderClassifierRun,
): tf.Tensor2D;
export function runDecoder(
  run: DecoderRun,
  tokens: tf.Tensor2D | DecoderStart,
  mask: number[][] | undefined,
  stop: number | undefined,
  kvCache?: KvCache,
  classifier?: DecoderClassifierRun,
): tf.Tensor3D | tf.Tensor2D {
  const { cfg, params } = run;
  const start = 'residual' in tokens ? tokens : undefined;
  const [batch, pos] = start === undefined ? (tokens as tf.Tensor2D).shape : [start.residual.shape[0], start.residual.shape[1]];
  const past = kvCache?.length ?? 0;
  const additiveMask = buildMask(pos, past, mask, cfg.windowSize);
  const positions = positionIds(batch, pos, past, mask); // [batch, pos]
  const newMask = mask === undefined ? undefined : tf.tensor2d(mask.map((m) => m.slice(past)), [batch, pos], 'int32');
  const rotary = isRotary(cfg) ? rotaryTables(positions, cfg.rotaryDim ?? cfg.dHead, cfg.rotaryBase ?? 10000, cfg.ropeScaling) : undefined;
  const ctx: RunContext<DecoderHookName> = { flags: run.flags, hook: run.hook, additiveMask, mayHaveEmptyRows: mask !== undefined };
  let resid: tf.Tensor3D | undefined;
  try {
    // A clone shares the caller's data; the loop below may then dispose it like any residual.
    resid = start === undefined ? tf.tidy(() => embed(tokens as tf.Tensor2D, params, positions, newMask, ctx)) : tf.clone(start.residual); // [batch, pos, d_model]
    const end = stop ?? cfg.nLayers;
    const nKvHeads = kvHeads(cfg);
    for (let l = start?.layer ?? 0; l < end; l++) {
      const prev: tf.Tensor3D = resid;
      const blk = params.blocks[l];
      if (blk === undefined) break;
      const setup: BlockSetup = { nHeads: cfg.nHeads, nKvHeads, rotary, kv: kvCache?.slots[l] };
      resid = tf.tidy(() => block(prev, blk, cfg, setup, ctx, l));
      prev.dispose();
    }
    if (stop !== undefined) {
      const out = resid;
      resid = undefined;
      return out;
    }
    const final: tf.Tensor3D = resid;
    return tf.tidy((): tf.Tensor3D | tf.Tensor2D => {
      const normed = layerNorm(final, params.lnFinal, cfg.eps, 'ln_final', ctx, isRms(cfg)); // [batch, pos, d_model]
      if (classifier !== undefined) return classifierHead(normed, classifier.clf, classifier.positions, ctx); // [batch, n_labels]
      const [batch, , dModel] = normed.shape;
      const logits = affine(tf.reshape(normed, [batch * pos, dModel]), params.W_U, params.b_U); // [batch*pos, d_vocab]
      return tf.reshape<tf.Rank.R3>(logits, [batch, pos, dVocabOut(cfg)]);
    });
  } finally {
    resid?.dispose(); // the residual (on success it was consumed or returned; on error it is freed)
    additiveMask.dispose();
    positions.dispose();
    newMask?.dispose();
    rotary?.cos.dispose();
    rotary?.sin.dispose();
  }
}
