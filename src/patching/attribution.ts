/**
 * Attribution patching (Neel Nanda, "Attribution Patching: Activation Patching At Industrial
 * Scale", 2023): a first-order estimate of every activation patch from one forward and one backward
 * pass. For patching clean into corrupted, metric(patched) − metric(corrupted) ≈
 * Σ (clean − corrupted) · ∂metric/∂activation, with the gradient taken on the corrupted run; the sum
 * runs over batch and over the axes the preset does not index, giving the preset's index shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { actName } from '../hooks/act_name.js';
import type { ModelInput } from '../model/inputs.js';
import { requireFamilyHook } from '../analysis/families.js';
import { gradientsAtHooks, type DiffMetric, type GradientOptions, type GradModel } from './gradients.js';
import { PATCH_PRESETS, type PatchPreset, type PatchPresetName } from './presets.js';

/**
 * Corrupted-run activations and gradients at the needed hooks (from
 * `gradientsAtHooks(..., {cacheActivations: true})`), to reuse one backward pass.
 * @category Patching
 */
export interface CorruptedGrads {
  /** Corrupted-run activations. */
  readonly cache: ActivationCache;
  /** d metric / d activation on the corrupted run. */
  readonly grads: ActivationCache;
}

/**
 * Hook names attribution patching needs for the given presets (every layer).
 * @param nLayers Number of layers.
 * @param kinds Preset names.
 * @returns Full hook names, without duplicates.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown preset name.
 * @example attributionHookNames(2, ['resid_pre']) // ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre']
 * @category Patching
 */
export function attributionHookNames(nLayers: number, kinds: readonly PatchPresetName[]): string[] {
  const names = new Set<string>();
  for (const k of kinds) {
    const p: PatchPreset | undefined = PATCH_PRESETS[k];
    if (p === undefined) throw new ConfigError(`attributionPatch: unknown kind '${k}' (expected one of ${Object.keys(PATCH_PRESETS).join(', ')})`);
    for (let l = 0; l < nLayers; l++) names.add(actName(p.activation, l));
  }
  return [...names];
}

/** (clean − corrupted)·grad at one layer, summed over every axis the preset does not index. */
function layerAttribution(p: PatchPreset, clean: tf.Tensor, corrupted: tf.Tensor, grad: tf.Tensor): tf.Tensor {
  const keep = p.setter.actAxes ?? [];
  const prod = tf.mul(tf.sub(clean, corrupted), grad); // activation shape
  const sumAxes = prod.shape.map((_, ax) => ax).filter((ax) => !keep.includes(ax));
  const reduced = tf.sum(prod, sumAxes); // kept axes, in activation order
  const order = [...keep].sort((a, b) => a - b);
  const perm = keep.map((ax) => order.indexOf(ax));
  return perm.every((v, i) => v === i) ? reduced : tf.transpose(reduced, perm);
}

function isCorruptedGrads(x: ModelInput | CorruptedGrads): x is CorruptedGrads {
  return typeof x === 'object' && x !== null && 'grads' in x && 'cache' in x && !Array.isArray(x);
}

/**
 * Attribution patching for several presets from a single backward pass on the corrupted run.
 * @param model A hooked transformer.
 * @param cleanCache Clean-run cache holding each preset's activation at every layer.
 * @param corrupted Corrupted token ids / text, or precomputed {@link CorruptedGrads}.
 * @param metric Differentiable metric (logits → tf.Scalar); ignored when `corrupted` holds gradients.
 * @param kinds Preset names (the same index conventions and output shapes as the matching `getActPatch*` function).
 * @param opts Forward options for the corrupted run.
 * @returns Map kind → estimated metric change (patched − corrupted), shaped like the preset;
 *   the caller disposes the tensors.
 * @throws {@link "tfjs-lens"!ConfigError} for unknown kinds or a preset the model family lacks (resid_mid with parallel
 *   attention and MLP); {@link "tfjs-lens"!HookNameError} if a cache lacks an
 *   activation; errors of {@link gradientsAtHooks}.
 * @example
 * const attr = attributionPatchMany(model, cleanCache, corruptedTokens, metric, ['resid_pre', 'attn_head_out_all_pos']);
 * attr.get('resid_pre'); // [n_layers, pos]
 * @category Patching
 */
export function attributionPatchMany(
  model: GradModel,
  cleanCache: ActivationCache,
  corrupted: ModelInput | CorruptedGrads,
  metric: DiffMetric,
  kinds: readonly PatchPresetName[],
  opts: Omit<GradientOptions, 'cacheActivations'> = {},
): Map<PatchPresetName, tf.Tensor> {
  return withCorruptedGrads(model, corrupted, metric, kinds, opts, (cg) => {
    const out = new Map<PatchPresetName, tf.Tensor>();
    try {
      for (const k of kinds) out.set(k, presetAttribution(model.cfg.nLayers, PATCH_PRESETS[k], cleanCache, cg));
      return out;
    } catch (err) {
      for (const t of out.values()) t.dispose();
      throw err;
    }
  });
}

/** Attribution for one preset, stacked over layers: [n_layers, …index axes]. */
function presetAttribution(nLayers: number, p: PatchPreset, cleanCache: ActivationCache, cg: CorruptedGrads): tf.Tensor {
  return tf.tidy(() => {
    const layers = Array.from({ length: nLayers }, (_, l) => {
      const n = actName(p.activation, l);
      return layerAttribution(p, cleanCache.get(n), cg.cache.get(n), cg.grads.get(n));
    });
    return tf.stack(layers, 0); // [n_layers, …index axes]
  });
}

/**
 * Run `fn` on the corrupted-run activations and gradients for `kinds`: `corrupted` itself when it
 * holds them, else one backward pass of {@link gradientsAtHooks}, whose caches are freed afterwards.
 */
function withCorruptedGrads<T>(
  model: GradModel,
  corrupted: ModelInput | CorruptedGrads,
  metric: DiffMetric,
  kinds: readonly PatchPresetName[],
  opts: Omit<GradientOptions, 'cacheActivations'>,
  fn: (cg: CorruptedGrads) => T,
): T {
  const names = attributionHookNames(model.cfg.nLayers, kinds);
  for (const n of names) requireFamilyHook(model.cfg, n, 'attributionPatch');
  const own = !isCorruptedGrads(corrupted);
  const cg: CorruptedGrads = isCorruptedGrads(corrupted)
    ? corrupted
    : (gradientsAtHooks(model, corrupted, metric, names, { ...opts, cacheActivations: true }) as CorruptedGrads);
  try {
    return fn(cg);
  } finally {
    if (own) {
      cg.cache.dispose();
      cg.grads.dispose();
    }
  }
}

/**
 * Attribution patching for one preset: (clean − corrupted) · ∂metric/∂activation on the corrupted
 * run, summed to the preset's index shape (linear approximation of activation patching).
 * @param model A hooked transformer.
 * @param cleanCache Clean-run cache holding the preset's activation at every layer.
 * @param corrupted Corrupted token ids / text, or precomputed {@link CorruptedGrads}.
 * @param metric Differentiable metric (logits → tf.Scalar).
 * @param kind Preset name, e.g. 'resid_pre' [n_layers, pos], 'attn_head_out_by_pos'
 *   [n_layers, pos, n_heads], 'attn_head_out_all_pos' [n_layers, n_heads].
 * @param opts Forward options for the corrupted run.
 * @returns Estimated metric change (patched − corrupted), shaped like the preset.
 * @throws As {@link attributionPatchMany}.
 * @example const attr = attributionPatch(model, cleanCache, corruptedTokens, metric, 'attn_out'); // [n_layers, pos]
 * @category Patching
 */
export function attributionPatch(
  model: GradModel,
  cleanCache: ActivationCache,
  corrupted: ModelInput | CorruptedGrads,
  metric: DiffMetric,
  kind: PatchPresetName,
  opts: Omit<GradientOptions, 'cacheActivations'> = {},
): tf.Tensor {
  return withCorruptedGrads(model, corrupted, metric, [kind], opts, (cg) => presetAttribution(model.cfg.nLayers, PATCH_PRESETS[kind], cleanCache, cg));
}
