/**
 * Activation patching (TransformerLens `patching.generic_activation_patch`): for every index
 * `[layer, …]`, run the corrupted input with the indexed slice of one clean activation patched in
 * (denoising) and record `metric(logits)`. Several patched runs can share one forward pass: the
 * corrupted batch is tiled K times and each copy gets its own patch, and the metric sees each
 * copy's logits separately, so results equal the one-at-a-time definition.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { actName } from '../hooks/act_name.js';
import type { HookFn } from '../hooks/hook_point.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { tokensToRows, type TokenInput } from '../model/inputs.js';
import { kvHeads } from '../model/config.js';
import { requireFamilyHook } from '../analysis/families.js';
import { rank3 } from '../utils/tensor_rank.js';
import { SweepProgress, type ProgressOptions } from './progress.js';
import { tiledAxisPatch, type PatchSetter } from './setters.js';

/** Index axis names, as TransformerLens `AxisNames`. @category Patching */
export type AxisName = 'layer' | 'pos' | 'head_index' | 'head' | 'src_pos' | 'dest_pos';

/**
 * A patching metric: logits [batch, pos, d_vocab] of one patched run → a scalar.
 * @category Patching
 */
export type PatchMetric = (logits: tf.Tensor3D) => tf.Scalar | number;

/** What patching needs from a model ({@link "tfjs-lens"!HookedTransformer} fits). @category Patching */
export type PatchableModel = Pick<HookedTransformer, 'cfg' | 'runWithHooks'>;

/** Options of every patching sweep. @category Patching */
export interface PatchOptions extends ProgressOptions {
  /**
   * Patched runs per forward pass (the corrupted batch is tiled this many times). 1 = the plain
   * sequential loop. Default: as many as fit in about 1024 token rows, at most 64.
   */
  readonly batchSize?: number;
  /** Attention mask of the corrupted tokens [batch, pos] (1 = attend, 0 = pad), if padded. */
  readonly attentionMask?: TokenInput;
}

/** Index given as axes to sweep fully (output shaped like the ranges). @category Patching */
export interface AxisIndex {
  /** First axis must be 'layer'; the output has one dimension per axis. */
  readonly indexAxisNames: readonly AxisName[];
}

/** Index given as explicit rows `[layer, …]` (output flattened, one value per row). @category Patching */
export interface RowIndex {
  /** Rows of indices; the first entry of each row is the layer. */
  readonly indexRows: readonly (readonly number[])[];
}

/** Options of {@link genericActivationPatch}. @category Patching */
export type GenericPatchOptions = PatchOptions & (AxisIndex | RowIndex);

/**
 * Heads of an activation: key/value activations (k, v, rot_k, k_input, v_input) have
 * n_key_value_heads heads under grouped-query attention; the others n_heads.
 */
function headsOf(activationName: string, model: PatchableModel): number {
  return /^(k|v|rot_k|k_input|v_input)$/.test(activationName) ? kvHeads(model.cfg) : model.cfg.nHeads;
}

/** Range of each axis for a model, an activation and an input. */
function axisRange(axis: AxisName, model: PatchableModel, pos: number, heads: number): number {
  switch (axis) {
    case 'layer':
      return model.cfg.nLayers;
    case 'pos':
    case 'src_pos':
    case 'dest_pos':
      return pos;
    case 'head':
    case 'head_index':
      return heads;
    default:
      throw new ConfigError(
        `genericActivationPatch: unknown index axis '${String(axis)}' (expected layer, pos, head_index, head, src_pos, dest_pos)`,
      );
  }
}

/**
 * Cartesian product of [0, r) ranges, last axis fastest (TL `make_df_from_ranges`).
 * @param ranges Size of each axis.
 * @returns Every index row, in row-major order.
 * @throws Nothing.
 * @example cartesianRows([2, 2]) // [[0, 0], [0, 1], [1, 0], [1, 1]]
 * @category Patching
 */
function cartesianRows(ranges: readonly number[]): number[][] {
  let rows: number[][] = [[]];
  for (const r of ranges) {
    const next: number[][] = [];
    for (const row of rows) for (let i = 0; i < r; i++) next.push([...row, i]);
    rows = next;
  }
  return rows;
}

function resolveIndex(model: PatchableModel, pos: number, heads: number, opts: GenericPatchOptions): { rows: number[][]; shape: number[] } {
  if ('indexRows' in opts && opts.indexRows !== undefined) {
    if ('indexAxisNames' in opts && (opts as Partial<AxisIndex>).indexAxisNames !== undefined) {
      throw new ConfigError('genericActivationPatch: give indexAxisNames or indexRows, not both');
    }
    const rows = opts.indexRows.map((r) => [...r]);
    rows.forEach((r, i) => {
      const l = r[0];
      if (l === undefined || !Number.isInteger(l) || l < 0 || l >= model.cfg.nLayers) {
        throw new ShapeError(`genericActivationPatch: indexRows[${i}][0] (layer) is ${l}, expected an integer in [0, ${model.cfg.nLayers})`);
      }
    });
    return { rows, shape: [rows.length] };
  }
  const axes = (opts as AxisIndex).indexAxisNames;
  if (axes === undefined || axes.length === 0 || axes[0] !== 'layer') {
    throw new ConfigError(
      `genericActivationPatch: indexAxisNames must start with 'layer', got [${(axes ?? []).join(', ')}] (or pass indexRows)`,
    );
  }
  const shape = axes.map((a) => axisRange(a, model, pos, heads));
  return { rows: cartesianRows(shape), shape };
}

/**
 * Default patched runs per forward pass: about 1024 token rows per pass, at most 64 runs.
 * @param batch Corrupted batch size.
 * @param pos Sequence length.
 * @returns Runs per forward pass (≥ 1).
 * @throws Nothing.
 * @example defaultPatchBatch(1, 20) // 51
 * @category Patching
 */
export function defaultPatchBatch(batch: number, pos: number): number {
  return Math.max(1, Math.min(64, Math.floor(1024 / (batch * pos))));
}

/**
 * Read a metric value as a number, checking it is a scalar (the tensor is not disposed).
 * @param m A tf.Scalar (or size-1 tensor) or a number.
 * @param fn Function name for the error message.
 * @returns The value.
 * @throws {@link "tfjs-lens"!ShapeError} if `m` is not a scalar.
 * @example metricValue(metric(logits), 'myFn') // 1.234
 * @category Patching
 */
export function metricValue(m: tf.Scalar | number, fn: string): number {
  if (typeof m === 'number') return m;
  if (!(m instanceof tf.Tensor) || m.size !== 1) {
    const got = m instanceof tf.Tensor ? `a tensor of shape [${m.shape.join(', ')}]` : typeof m;
    throw new ShapeError(`${fn}: the metric must return a scalar (tf.Scalar or number), got ${got}`);
  }
  return m.dataSync()[0] as number;
}

interface RunSpec {
  readonly model: PatchableModel;
  readonly tokens: number[][];
  readonly mask: number[][] | undefined;
  readonly cleanCache: ActivationCache;
  readonly metric: PatchMetric;
  readonly setter: PatchSetter;
  readonly activationName: string;
}

/**
 * Split a K-times tiled tensor [K·batch, …] into K tensors [batch, …] with one read-back and K
 * uploads: on the wasm backend this is ~50× cheaper than K slices or gathers (its Slice kernel
 * copies the whole input each time, its Gather is scalar), and it is exact on every backend.
 */
function splitCopies(x: tf.Tensor, k: number): tf.Tensor[] {
  const data = x.dataSync();
  const n = x.size / k;
  const shape = [x.shape[0] / k, ...x.shape.slice(1)];
  return Array.from({ length: k }, (_, c) => tf.tensor(data.subarray(c * n, (c + 1) * n), shape, x.dtype));
}

/** A hook that patches copy k of a K-times tiled batch with `group[k]` when that row's layer is `layer`. */
function groupHook(spec: RunSpec, group: readonly number[][], layer: number, clean: tf.Tensor): HookFn {
  const { setter } = spec;
  return (x) => {
    if (group.length === 1) return setter(x, group[0] as number[], clean); // the plain TL definition
    const rows = group.map((row) => (row[0] === layer ? row : undefined));
    if (setter.actAxes !== undefined) return tiledAxisPatch('genericActivationPatch', x, clean, rows, setter.actAxes);
    const copies = splitCopies(x, rows.length).map((copy, c) => {
      const row = rows[c];
      return row === undefined ? copy : setter(copy, row, clean);
    });
    return tf.concat(copies, 0); // [K·batch, …]
  };
}

/** One forward pass for a group of index rows; returns one metric value per row. */
function runGroup(spec: RunSpec, group: readonly number[][]): number[] {
  const b = spec.tokens.length;
  const k = group.length;
  const layers = [...new Set(group.map((r) => r[0] as number))];
  const hooks = layers.map((l) => {
    const name = actName(spec.activationName, l);
    const clean = spec.cleanCache.get(name);
    if (clean.shape[0] !== b) {
      throw new ShapeError(`genericActivationPatch: clean cache '${name}' has batch ${clean.shape[0]}, corrupted tokens have ${b}`);
    }
    return [name, groupHook(spec, group, l, clean)] as const;
  });
  const tiled = k === 1 ? spec.tokens : Array.from({ length: k }, () => spec.tokens).flat();
  const mask = spec.mask === undefined || k === 1 ? spec.mask : Array.from({ length: k }, () => spec.mask as number[][]).flat();
  return tf.tidy(() => {
    const logits = spec.model.runWithHooks(tiled, {
      fwdHooks: hooks,
      returnType: 'logits',
      ...(mask === undefined ? {} : { attentionMask: mask }),
    }); // [K·batch, pos, d_vocab]
    if (k === 1) return [metricValue(spec.metric(logits), 'genericActivationPatch')];
    return splitCopies(logits, k).map((one) => metricValue(spec.metric(rank3(one, 'genericActivationPatch')), 'genericActivationPatch')); // one: [batch, pos, d_vocab]
  });
}

/**
 * Patch one clean activation slice into the corrupted run for every index and record the metric
 * (TL `generic_activation_patch`; direction clean → corrupted, "denoising").
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Cache of the clean run; must hold `activationName` at every patched layer.
 * @param metric Logits [batch, pos, d_vocab] of one patched run → scalar (tf.Scalar or number).
 * @param setter Writes the indexed clean slice into the corrupted activation.
 * @param activationName TL short name ('resid_pre', 'z', 'pattern', …); the layer is `index[0]`.
 * @param opts `indexAxisNames` (output shaped like the axis ranges) or `indexRows` (flattened
 *   output, one value per row), plus `batchSize`, `attentionMask`, `onProgress`, `quiet`.
 * @returns Patched metric values: shape = the axis ranges, or [n_rows] for `indexRows` (float32).
 * @throws {@link "tfjs-lens"!ConfigError} for bad axis names / both index forms, or an activation the model family lacks
 *   (resid_mid with parallel attention and MLP, pos_embed with rotary positions); {@link "tfjs-lens"!ShapeError} for
 *   out-of-range indices, batch mismatch or a non-scalar metric; {@link "tfjs-lens"!HookNameError} when the
 *   clean cache lacks the activation. Whatever the metric throws propagates, with no tensor leaked.
 * @example
 * const out = genericActivationPatch(model, corrupted, cleanCache, metric, layerPosPatchSetter,
 *   'resid_pre', { indexAxisNames: ['layer', 'pos'] }); // [n_layers, pos]
 * @category Patching
 */
export function genericActivationPatch(
  model: PatchableModel,
  corruptedTokens: TokenInput,
  cleanCache: ActivationCache,
  metric: PatchMetric,
  setter: PatchSetter,
  activationName: string,
  opts: GenericPatchOptions,
): tf.Tensor {
  requireFamilyHook(model.cfg, actName(activationName, 0), 'genericActivationPatch');
  const tokens = tokensToRows(corruptedTokens, model.cfg.dVocab, 'genericActivationPatch');
  const pos = (tokens[0] as number[]).length;
  const mask = opts.attentionMask === undefined ? undefined : tokensToRows(opts.attentionMask, 2, 'genericActivationPatch');
  const { rows, shape } = resolveIndex(model, pos, headsOf(activationName, model), opts);
  const batchSize = opts.batchSize ?? defaultPatchBatch(tokens.length, pos);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigError(`genericActivationPatch: batchSize must be a positive integer, got ${batchSize}`);
  }
  const spec: RunSpec = { model, tokens, mask, cleanCache, metric, setter, activationName };
  const out = new Float32Array(rows.length);
  const progress = new SweepProgress(`patching ${activationName} [${shape.join(' × ')}]`, rows.length, opts);
  try {
    for (let i = 0; i < rows.length; i += batchSize) {
      const group = rows.slice(i, i + batchSize);
      runGroup(spec, group).forEach((v, j) => {
        out[i + j] = v;
      });
      progress.tick(group.length);
    }
  } finally {
    progress.end();
  }
  return tf.tensor(out, shape, 'float32');
}
