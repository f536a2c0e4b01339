/**
 * Recording activations during a run: attach caching hooks to the chosen names for the duration of
 * `run` (removed in `finally`) and hand back an {@link ActivationCache} that owns the tensors. With
 * `inclBwd`, backward caching hooks also record the gradient at each name as `<name>_grad` (TL
 * `run_with_cache(incl_bwd=True)`); `run` must then make the backward pass (bwd_hooks.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ActivationCache } from './activation_cache.js';
import type { HookFlags, HookSpec } from './hook_spec.js';
import type { BwdHooks, FwdHooks, ScopedHooks } from './hook_registry.js';

/** Which hooks to cache: a name, names, or a predicate over names. @category Hooks */
export type NamesFilter = string | readonly string[] | ((name: string) => boolean);

/** The part of a hooked model that caching needs. */
interface Hookable {
  withHooks<T>(hooks: ScopedHooks, body: () => T, flags?: HookFlags): T;
}

/** Thrown by the last caching hook to end a run whose output is not wanted. */
class StopRun {}

/**
 * Run `run` while caching the activations at `specs`.
 * @param model A hooked model.
 * @param specs Hooks to record (already validated and enabled), in forward order.
 * @param flags Flags in force for the run.
 * @param run The forward pass.
 * @param nLayers For negative layer indices in the cache.
 * @param discardOutput The caller drops the output (`returnType: 'none'`): the run then stops as
 *   soon as the last hook has fired as often as its spec says, skipping the rest of the forward
 *   pass (the output is then undefined).
 * @param inclBwd Also record gradients as `<name>_grad`, after the activations, in the order the
 *   backward pass reaches them (as TL). A point the loss does not depend on gets no entry; a hook
 *   that fires several times per run gets the sum of the gradients of its calls (TL keeps one).
 * @returns The run's output and the cache (both owned by the caller).
 */
export function runRecording<T>(
  model: Hookable,
  specs: readonly HookSpec[],
  flags: HookFlags,
  run: () => T,
  nLayers: number,
  discardOutput = false,
  inclBwd = false,
): [T | undefined, ActivationCache] {
  const store = new Map<string, tf.Tensor>();
  const grads = new Map<string, tf.Tensor>();
  const last = discardOutput ? specs[specs.length - 1] : undefined;
  let lastFired = 0;
  const hooks: FwdHooks = specs.map((s) => [
    s.name,
    (x: tf.Tensor) => {
      store.get(s.name)?.dispose(); // a hook that fires several times (ln1 with split inputs): keep the last
      store.set(s.name, tf.keep(tf.reshape(x, x.shape))); // a new handle on the same data (no copy)
      if (s === last && ++lastFired === s.fires && store.size === specs.length) throw new StopRun();
    },
  ]);
  const bwdHooks: BwdHooks = !inclBwd
    ? []
    : specs.map((s) => [
        s.name,
        (g: tf.Tensor) => {
          const key = `${s.name}_grad`;
          const prev = grads.get(key);
          grads.set(key, tf.keep(prev === undefined ? tf.reshape(g, g.shape) : tf.add(prev, g)));
          prev?.dispose();
        },
      ]);
  try {
    let out: T | undefined;
    try {
      out = model.withHooks({ fwdHooks: hooks, bwdHooks }, run, flags);
    } catch (err) {
      if (!(err instanceof StopRun)) throw err;
    }
    const ordered = new Map<string, tf.Tensor>();
    for (const s of specs) {
      const t = store.get(s.name);
      if (t !== undefined) ordered.set(s.name, t);
    }
    for (const [k, g] of grads) ordered.set(k, g);
    return [out, new ActivationCache(ordered, nLayers)];
  } catch (err) {
    for (const t of store.values()) t.dispose();
    for (const t of grads.values()) t.dispose();
    throw err;
  }
}

/**
 * Resolve a `namesFilter` (name, names or predicate) against the enabled names.
 * @param filter The filter; undefined = all.
 * @param enabled Enabled hook names in forward order.
 * @param check Validates an explicit name (throws HookNameError).
 * @returns The chosen names in forward order.
 */
export function filterNames(filter: NamesFilter | undefined, enabled: readonly string[], check: (name: string) => void): string[] {
  if (filter === undefined) return [...enabled];
  if (typeof filter === 'function') return enabled.filter((n) => filter(n));
  const list = typeof filter === 'string' ? [filter] : [...filter];
  for (const n of list) check(n);
  const set = new Set(list);
  return enabled.filter((n) => set.has(n));
}
