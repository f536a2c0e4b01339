/**
 * Gradients of a metric with respect to activations at hook points (TransformerLens
 * `run_with_cache(incl_bwd=True)` / backward hooks): a zero "delta" tensor is added at each hook
 * and tfjs autodiff (`tf.valueAndGrads`) differentiates the metric with respect to the deltas,
 * which equals d metric / d activation there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { ActivationCache } from '../hooks/activation_cache.js';
import { filterNames } from '../hooks/caching.js';
import { FLAG_NAMES, hookDims, specShape, type HookFlags } from '../hooks/hook_spec.js';
import type { HookFn } from '../hooks/hook_point.js';
import { disposeTapeAfterError } from '../hooks/bwd_hooks.js';
import type { ForwardOptions, HookedTransformer } from '../model/hooked_transformer.js';
import { resolveInput, type ModelInput } from '../model/inputs.js';
import { itemAt } from '../utils/tensor_rank.js';
import { requireFamilyHook } from '../analysis/families.js';

/** A differentiable metric: logits [batch, pos, d_vocab] → tf.Scalar built with tf ops. @category Patching */
export type DiffMetric = (logits: tf.Tensor3D) => tf.Scalar;

/** Which hooks to differentiate at: a name, names, or a predicate over enabled names. @category Patching */
export type HookSelection = string | readonly string[] | ((name: string) => boolean);

/** Options of {@link gradientsAtHooks}. @category Patching */
export interface GradientOptions extends Omit<ForwardOptions, 'returnType' | 'stopAtLayer' | 'lossPerToken' | 'startAtLayer' | 'tokens' | 'shortformerPosEmbed'> {
  /** Also return the forward activations at the same hooks (one pass; default false). */
  readonly cacheActivations?: boolean;
}

/** Result of {@link gradientsAtHooks}; the caller disposes the caches. @category Patching */
export interface GradientsResult {
  /** The metric value on the (unpatched) run. */
  readonly value: number;
  /** d metric / d activation at each hook, same shapes as the activations. */
  readonly grads: ActivationCache;
  /** Forward activations at the same hooks, with `cacheActivations: true`. */
  readonly cache?: ActivationCache;
}

/** The model features gradients need ({@link "tfjs-lens"!HookedTransformer} fits). @category Patching */
export type GradModel = Pick<
  HookedTransformer,
  'cfg' | 'tokenizer' | 'flags' | 'runWithHooks' | 'enabledHookNames' | 'checkHookName' | 'hookSpecs'
>;

function mergedFlags(model: GradModel, opts: HookFlags): HookFlags {
  const base = model.flags;
  const out: Record<string, boolean> = {};
  for (const f of FLAG_NAMES) out[f] = (opts[f] ?? base[f]) === true;
  return out as HookFlags;
}

/** Concrete shape of a hook for this input, from the symbolic hook table. */
function hookShape(model: GradModel, name: string, flags: HookFlags, batch: number, pos: number): number[] {
  const spec = model.hookSpecs(flags).find((s) => s.name === name);
  if (spec === undefined) throw new ConfigError(`gradientsAtHooks: no shape known for hook '${name}'`);
  return specShape(spec.shape, hookDims(model.cfg, batch, pos));
}

/**
 * The activation recorded at hook `name`. Every selected hook has run by then: tfjs's gradient check
 * has already thrown for a hook whose delta got no gradient.
 */
function recordedAt(recorded: ReadonlyMap<string, tf.Tensor>, name: string): tf.Tensor {
  const t = recorded.get(name);
  if (t === undefined) throw new ConfigError(`gradientsAtHooks: hook '${name}' did not run, so no activation was recorded`);
  return t;
}

/**
 * d metric / d activation at named hooks, from one forward and one backward pass. A hook that fires
 * several times per run (ln1 with split-input flags) gets the sum of the gradients of its calls.
 * @param model A hooked transformer.
 * @param input Text(s) or token ids [batch, pos].
 * @param metricFn Logits [batch, pos, d_vocab] → tf.Scalar, computed with tf ops (differentiable).
 * @param names Hook names (or a predicate over enabled names) to take gradients at.
 * @param opts Forward options (flags, attention mask, tokenisation) and `cacheActivations`.
 * @returns `{value, grads, cache?}`: the metric, gradients (each shaped like its activation), and
 *   optionally the activations; the caller owns (disposes) the caches.
 * @throws {@link "tfjs-lens"!HookNameError} for unknown/disabled names; {@link "tfjs-lens"!ConfigError} for a hook the
 *   model family lacks (resid_mid with parallel attention and MLP, pos_embed with rotary positions), or if the metric is not
 *   a differentiable tf.Scalar of the logits; {@link "tfjs-lens"!ShapeError} on a shape mismatch at a hook.
 * @example
 * const { value, grads } = gradientsAtHooks(model, tokens, logitDiffMetric(992, 870), ['blocks.0.hook_resid_pre']);
 * grads.get('blocks.0.hook_resid_pre'); // [batch, pos, d_model]
 * grads.dispose();
 * @category Patching
 */
export function gradientsAtHooks(
  model: GradModel,
  input: ModelInput,
  metricFn: DiffMetric,
  names: HookSelection,
  opts: GradientOptions = {},
): GradientsResult {
  const { cacheActivations, ...fwdOpts } = opts;
  const flags = mergedFlags(model, opts);
  if (typeof names !== 'function') for (const n of typeof names === 'string' ? [names] : names) requireFamilyHook(model.cfg, n, 'gradientsAtHooks');
  const list = filterNames(names, model.enabledHookNames(flags), (n) => model.checkHookName(n, flags, 'gradientsAtHooks'));
  if (list.length === 0) throw new ConfigError('gradientsAtHooks: no hook names selected');
  const { rows } = resolveInput(input, model.tokenizer, model.cfg.dVocab, model.cfg.nCtx, opts, 'gradientsAtHooks');
  const [batch, pos] = [rows.length, (rows[0] as number[]).length];
  const recorded = new Map<string, tf.Tensor>();
  const deltas = list.map((n) => tf.zeros(hookShape(model, n, flags, batch, pos)));
  const f = (...ds: tf.Tensor[]): tf.Scalar => {
    const hooks = list.map((n, i): readonly [string, HookFn] => [
      n,
      (x) => {
        const d = itemAt(ds, i, 'gradientsAtHooks');
        if (!tf.util.arraysEqual(x.shape, d.shape)) {
          throw new ShapeError(`gradientsAtHooks: '${n}' has shape [${x.shape.join(', ')}], expected [${d.shape.join(', ')}]`);
        }
        if (cacheActivations === true) {
          recorded.get(n)?.dispose();
          recorded.set(n, tf.keep(tf.reshape(x, x.shape)));
        }
        return tf.add(x, d);
      },
    ]);
    const logits = model.runWithHooks(input, { ...fwdOpts, fwdHooks: hooks, returnType: 'logits' });
    const m = metricFn(logits);
    if (!(m instanceof tf.Tensor) || m.size !== 1) {
      throw new ConfigError('gradientsAtHooks: the metric must return a tf.Scalar computed from the logits with tf ops');
    }
    return tf.reshape<tf.Rank.R0>(m, []);
  };
  try {
    // tidy: frees the forward output if tfjs throws after f (e.g. "Cannot compute gradient").
    const { value, grads } = tf.tidy(() => tf.valueAndGrads(f)(deltas));
    const v = value.dataSync()[0] as number;
    value.dispose();
    const gradMap = new Map(list.map((n, i) => [n, itemAt(grads, i, 'gradientsAtHooks')]));
    const result: GradientsResult = { value: v, grads: new ActivationCache(gradMap, model.cfg.nLayers) };
    return cacheActivations === true ? { ...result, cache: new ActivationCache(new Map(list.map((n) => [n, recordedAt(recorded, n)])), model.cfg.nLayers) } : result;
  } catch (err) {
    for (const t of recorded.values()) t.dispose();
    disposeTapeAfterError();
    if (err instanceof Error && /Cannot compute gradient/.test(err.message)) {
      throw new ConfigError(`gradientsAtHooks: the metric does not depend on every selected hook through tf ops (${err.message})`);
    }
    throw err;
  } finally {
    tf.dispose(deltas);
  }
}
