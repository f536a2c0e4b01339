/**
 * Ablations as hooks (ACDC / auto-circuit `AblationType`): replace a component's activation by zero,
 * by its mean over a reference batch (per position), or by its value on other (corrupted) inputs
 * ("resample"). Node targets are heads (`attn.hook_z`, one head), MLPs (`hook_mlp_out`) and
 * residual positions (`hook_resid_pre` at one position); the slices are written with the patch setters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DisposedError, ShapeError } from '../errors.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { FwdHooks } from '../hooks/hook_registry.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { layerHeadVectorPatchSetter, layerPosPatchSetter } from '../patching/setters.js';
import { seededRng } from '../utils/rng.js';

/** How an ablated activation is replaced. @category Circuits */
export type AblationType = 'zero' | 'mean' | 'resample';

/** The ablation types, for validation and CLI help. @category Circuits */
export const ABLATION_TYPES: readonly AblationType[] = ['zero', 'mean', 'resample'];

/** A component node-level ablation can remove. @category Circuits */
export type AblationTarget =
  | {
    /** One attention head (at `attn.hook_z`). */
    readonly kind: 'head';
    /** Layer index. */
    readonly layer: number;
    /** Head index. */
    readonly head: number;
  }
  | {
    /** One MLP's output (at `hook_mlp_out`). */
    readonly kind: 'mlp';
    /** Layer index. */
    readonly layer: number;
  }
  | {
    /** The residual stream at one position (at `hook_resid_pre`). */
    readonly kind: 'resid';
    /** Layer whose input residual is ablated. */
    readonly layer: number;
    /** Sequence position. */
    readonly pos: number;
  };

/**
 * The hook a target is ablated at.
 * @param t The target.
 * @returns `blocks.{l}.attn.hook_z`, `blocks.{l}.hook_mlp_out` or `blocks.{l}.hook_resid_pre`.
 * @throws Never.
 * @example targetHookName({ kind: 'head', layer: 1, head: 2 })  // 'blocks.1.attn.hook_z'
 * @category Circuits
 */
export function targetHookName(t: AblationTarget): string {
  if (t.kind === 'head') return `blocks.${t.layer}.attn.hook_z`;
  if (t.kind === 'mlp') return `blocks.${t.layer}.hook_mlp_out`;
  return `blocks.${t.layer}.hook_resid_pre`;
}

/**
 * A short id for a target: 'a{l}.{h}', 'm{l}' or 'r{l}.{pos}'.
 * @param t The target.
 * @returns The id (heads and MLPs match the circuit-graph node ids).
 * @throws Never.
 * @example targetId({ kind: 'mlp', layer: 0 })  // 'm0'
 * @category Circuits
 */
export function targetId(t: AblationTarget): string {
  if (t.kind === 'head') return `a${t.layer}.${t.head}`;
  if (t.kind === 'mlp') return `m${t.layer}`;
  return `r${t.layer}.${t.pos}`;
}

/** Options of {@link AblationSource.create}. @category Circuits */
export interface AblationSourceOptions {
  /** 'mean': the batch averaged over; 'resample': the inputs activations are taken from. */
  readonly reference?: readonly (readonly number[])[];
  /** Rows of the runs the source will serve (resample: equal to the reference rows = paired). */
  readonly batch: number;
  /** Resample with unequal batches: rows are drawn with this seed (default 0). */
  readonly seed?: number;
  /** Hook flags for the reference run (needed for per-head results and split inputs). */
  readonly flags?: HookFlags;
}

/**
 * Replacement values for ablated activations at a set of hooks, computed once from a reference run.
 * Owns tensors: call `dispose()`.
 * @example
 * const src = AblationSource.create(model, 'mean', ['blocks.0.attn.hook_z'], { reference: rows, batch: rows.length });
 * const hooks = ablationHooks(src, [{ kind: 'head', layer: 0, head: 1 }]);
 * src.dispose();
 * @category Circuits
 */
export class AblationSource {
  private stats: Map<string, tf.Tensor> | undefined;

  private constructor(
    /** The ablation type. */
    readonly type: AblationType,
    stats: Map<string, tf.Tensor>,
    /** Rows of the runs served. */
    readonly batch: number,
    private readonly rows: tf.Tensor1D | undefined,
  ) {
    this.stats = stats;
  }

  /**
   * Run the reference batch once (not for 'zero') and keep per-position means or the activations.
   * @param model The model.
   * @param type Ablation type.
   * @param hookNames Hooks whose activations will be replaced.
   * @param opts Reference rows, served batch size, seed, flags.
   * @returns The source.
   * @throws {@link "tfjs-lens"!ConfigError} for an unknown type or a missing reference; {@link "tfjs-lens"!HookNameError}
   *   for bad hook names.
   */
  static create(model: HookedTransformer, type: AblationType, hookNames: readonly string[], opts: AblationSourceOptions): AblationSource {
    if (!ABLATION_TYPES.includes(type)) throw new ConfigError(`AblationSource.create: unknown ablation '${String(type)}' (zero, mean or resample)`);
    if (type === 'zero') return new AblationSource(type, new Map(), opts.batch, undefined);
    const ref = opts.reference;
    if (ref === undefined || ref.length === 0) {
      throw new ConfigError(`AblationSource.create: '${type}' ablation needs reference inputs (corrupted prompts for resample)`);
    }
    const [, cache] = model.runWithCache(ref, { ...(opts.flags ?? {}), namesFilter: [...new Set(hookNames)], returnType: 'none' }); // no output: returnType 'none'
    const stats = new Map<string, tf.Tensor>();
    let rows: tf.Tensor1D | undefined;
    try {
      for (const [name, act] of cache.entries()) {
        stats.set(name, type === 'mean' ? tf.tidy(() => tf.mean(act, 0, true)) : tf.clone(act)); // [1, …] or [ref_batch, …]
      }
      if (type === 'resample' && ref.length !== opts.batch) {
        const rand = seededRng(opts.seed ?? 0);
        rows = tf.tensor1d(Array.from({ length: opts.batch }, () => Math.floor(rand() * ref.length)), 'int32');
      }
    } catch (err) {
      tf.dispose([...stats.values()]);
      throw err;
    } finally {
      cache.dispose();
    }
    return new AblationSource(type, stats, opts.batch, rows);
  }

  /**
   * The replacement for an activation.
   * @param name Hook name (one given to `create`, except for 'zero').
   * @param x The current activation [batch, …].
   * @returns A new tensor shaped like `x` (zeros, the broadcast mean, or the reference rows).
   * @throws {@link "tfjs-lens"!ShapeError} if `x` does not match the reference activation or the served batch;
   *   {@link "tfjs-lens"!ConfigError} for a hook the source was not built for; {@link "tfjs-lens"!DisposedError} after dispose.
   */
  valueFor(name: string, x: tf.Tensor): tf.Tensor {
    if (this.stats === undefined) throw new DisposedError('AblationSource.valueFor: the source was disposed');
    if (this.type === 'zero') return tf.zerosLike(x);
    const s = this.stats.get(name);
    if (s === undefined) throw new ConfigError(`AblationSource.valueFor: no reference activation for '${name}'`);
    if (!tf.util.arraysEqual(s.shape.slice(1), x.shape.slice(1))) {
      throw new ShapeError(`AblationSource.valueFor: '${name}' is [${x.shape.join(', ')}], the reference [${s.shape.join(', ')}] (same positions needed)`);
    }
    if (this.type === 'mean') return tf.broadcastTo(s, x.shape);
    if (x.shape[0] !== this.batch) {
      throw new ShapeError(`AblationSource.valueFor: '${name}' has batch ${x.shape[0]}, the source serves batch ${this.batch}`);
    }
    return this.rows === undefined ? tf.reshape(s, s.shape) : tf.gather(s, this.rows, 0);
  }

  /** Free the reference values. */
  dispose(): void {
    if (this.stats === undefined) return;
    tf.dispose([...this.stats.values()]);
    this.rows?.dispose();
    this.stats = undefined;
  }
}

function checkTarget(t: AblationTarget, nLayers: number, nHeads: number): void {
  const bad =
    !Number.isInteger(t.layer) || t.layer < 0 || t.layer >= nLayers ||
    (t.kind === 'head' && !(Number.isInteger(t.head) && t.head >= 0 && t.head < nHeads)) ||
    (t.kind === 'resid' && !(Number.isInteger(t.pos) && t.pos >= 0));
  if (bad) throw new ConfigError(`ablationHooks: no component ${JSON.stringify(t)} in a ${nLayers}-layer, ${nHeads}-head model`);
}

/**
 * Forward hooks that ablate the targets (removed after the run by `runWithHooks`).
 * @param source Replacement values (its hooks must include every target's hook).
 * @param targets Heads, MLPs and residual positions to ablate.
 * @param shape Layers and heads, to check the targets.
 * @returns One `[hookName, fn]` pair per hook touched.
 * @throws {@link "tfjs-lens"!ConfigError} for a target outside the model; errors of `valueFor` when run.
 * @example model.runWithHooks(tokens, { fwdHooks: ablationHooks(src, [{ kind: 'mlp', layer: 0 }], model.cfg) });
 * @category Circuits
 */
export function ablationHooks(
  source: AblationSource,
  targets: readonly AblationTarget[],
  shape: { readonly nLayers: number; readonly nHeads: number },
): FwdHooks {
  const byHook = new Map<string, AblationTarget[]>();
  for (const t of targets) {
    checkTarget(t, shape.nLayers, shape.nHeads);
    const name = targetHookName(t);
    byHook.set(name, [...(byHook.get(name) ?? []), t]);
  }
  return [...byHook.entries()].map(([name, ts]) => [
    name,
    (x: tf.Tensor) => {
      const value = source.valueFor(name, x); // [batch, …] like x
      let out = x;
      for (const t of ts) {
        if (t.kind === 'mlp') return value;
        if (t.kind === 'head') out = layerHeadVectorPatchSetter(out, [t.layer, t.head], value); // [batch, pos, n_heads, d_head]
        else out = layerPosPatchSetter(out, [t.layer, t.pos], value); // [batch, pos, d_model]
      }
      return out;
    },
  ]);
}
