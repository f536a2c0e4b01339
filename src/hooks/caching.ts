/**
 * Recording activations during a run: attach caching hooks to the chosen names for the duration of
 * `run` (removed in `finally`) and hand back an {@link ActivationCache} that owns the tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ActivationCache } from './activation_cache.js';
import type { HookFlags } from './hook_names.js';
import type { FwdHooks } from './hook_registry.js';

/** The part of a hooked model that caching needs. */
export interface Hookable {
  withHooks<T>(fwdHooks: FwdHooks, body: () => T, flags?: HookFlags): T;
}

/** Thrown by the last caching hook to end a run whose output is not wanted. */
class StopRun {}

/**
 * Whether a run can end at the first firing of the last recorded hook: its output is not wanted
 * and no hook fires more than once (ln1/ln2 hooks fire once per q/k/v input with split inputs).
 */
function canStopEarly(discardOutput: boolean, names: readonly string[], flags: HookFlags): boolean {
  return discardOutput && names.length > 0 && flags.useSplitQkvInput !== true && flags.useAttnIn !== true;
}

/**
 * Run `run` while caching the activations at `names`.
 * @param model A hooked model.
 * @param names Hook names to record (already validated and enabled), in forward order.
 * @param flags Flags in force for the run.
 * @param run The forward pass.
 * @param nLayers For negative layer indices in the cache.
 * @param discardOutput The caller drops the output (`returnType: 'none'`): the run then stops as
 *   soon as the last name is recorded, skipping the rest of the forward pass (the output is then
 *   undefined).
 * @returns The run's output and the cache (both owned by the caller).
 */
export function runRecording<T>(
  model: Hookable,
  names: readonly string[],
  flags: HookFlags,
  run: () => T,
  nLayers: number,
  discardOutput = false,
): [T | undefined, ActivationCache] {
  const store = new Map<string, tf.Tensor>();
  const last = canStopEarly(discardOutput, names, flags) ? names[names.length - 1] : undefined;
  const hooks: FwdHooks = names.map((n) => [
    n,
    (x: tf.Tensor) => {
      store.get(n)?.dispose(); // a hook that fires several times (ln1 with split inputs): keep the last
      store.set(n, tf.keep(tf.reshape(x, x.shape))); // a new handle on the same data (no copy)
      if (n === last && store.size === names.length) throw new StopRun();
    },
  ]);
  try {
    let out: T | undefined;
    try {
      out = model.withHooks(hooks, run, flags);
    } catch (err) {
      if (!(err instanceof StopRun)) throw err;
    }
    const ordered = new Map<string, tf.Tensor>();
    for (const n of names) {
      const t = store.get(n);
      if (t !== undefined) ordered.set(n, t);
    }
    return [out, new ActivationCache(ordered, nLayers)];
  } catch (err) {
    for (const t of store.values()) t.dispose();
    throw err;
  }
}

/**
 * Resolve a `namesFilter` (name, names or predicate) against the enabled names.
 * @param filter The filter; undefined = all.
 * @param enabled Enabled hook names in forward order.
 * @param check Validates an explicit name (throws HookNameError).
 */
export function filterNames(
  filter: string | readonly string[] | ((name: string) => boolean) | undefined,
  enabled: readonly string[],
  check: (name: string) => void,
): string[] {
  if (filter === undefined) return [...enabled];
  if (typeof filter === 'function') return enabled.filter((n) => filter(n));
  const list = typeof filter === 'string' ? [filter] : [...filter];
  for (const n of list) check(n);
  const set = new Set(list);
  return enabled.filter((n) => set.has(n));
}
