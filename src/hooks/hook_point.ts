/**
 * HookPoint: a named identity on the forward pass where hook functions can read or replace an
 * activation (TransformerLens `hook_points.HookPoint`). The hook list is replaced, never mutated, on
 * every add/remove, so a run can hold a snapshot of it: hooks added or removed while it runs (from a
 * hook) take effect from the next run. A hook is never re-entered, and what it returns is checked
 * (HookError naming the hook) before the forward pass uses it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookError } from '../errors.js';

/** Context passed to a hook function. @category Hooks */
export interface HookContext {
  /** Full hook name, e.g. `blocks.0.attn.hook_pattern`. */
  readonly name: string;
  /** Layer index parsed from the name (`blocks.{l}.`), or undefined for global hooks. */
  readonly layer: number | undefined;
}

/**
 * A forward hook: receives the activation and may return a replacement tensor of the same shape and
 * dtype (returning nothing keeps the activation). It must not dispose the activation it receives.
 * Tensors it creates are freed after the layer runs, except the one it returns; use `tf.keep` to
 * retain a tensor beyond the run. A hook is not re-entered: a run started from inside it (e.g. a
 * nested `runWithCache`) fires the model's other hooks, not this one.
 * @category Hooks
 */
export type HookFn = (activation: tf.Tensor, ctx: HookContext) => tf.Tensor | void | undefined;

/** One attached hook (internal: the snapshot a run holds is a list of these). */
export interface HookEntry {
  readonly fn: HookFn;
  readonly permanent: boolean;
  readonly level: number;
  /** Whether the hook is executing now (it is then skipped by nested runs). */
  running: boolean;
}

/** Parse the layer index out of a hook name. */
export function layerOfHookName(name: string): number | undefined {
  const m = /^blocks\.(\d+)\./.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * The `stopAtLayer` that ends a run right after the block holding a hook (the hook still fires):
 * layer + 1 (at most n_layers) for a block hook, 0 for an embedding hook, undefined (run the whole
 * model) for a hook after the blocks.
 * @param name Hook name.
 * @param nLayers Number of blocks.
 * @returns Exclusive layer to stop at, or undefined.
 * @example stopLayerAfterHook('blocks.3.hook_resid_post', 12)  // 4
 */
export function stopLayerAfterHook(name: string, nLayers: number): number | undefined {
  const layer = layerOfHookName(name);
  if (layer !== undefined) return Math.min(layer + 1, nLayers);
  if (name.startsWith('hook_') || name.startsWith('embed.')) return 0;
  return undefined;
}

/**
 * Check what hook `index` of `point` did: its input must still be live, and what it returned must be
 * nothing or a live tensor of the input's shape and dtype.
 * @param input The activation the hook received.
 * @param r What it returned.
 * @returns The replacement, or undefined to keep `input`.
 * @throws {@link "tfjs-lens"!HookError} naming the hook, its point, and expected vs got.
 */
function checkHookResult(point: string, index: number, fn: HookFn, input: tf.Tensor, r: unknown): tf.Tensor | undefined {
  const who = `hook '${fn.name === '' ? 'anonymous' : fn.name}' (#${index + 1}) at ${point}`;
  if (input.isDisposed) {
    throw new HookError(
      `${who}: disposed its input [${input.shape.join(', ')}] ${input.dtype}; a hook must not dispose the ` +
        'activation it receives (the forward pass still uses it): return a new tensor instead',
    );
  }
  if (r === undefined || r === null) return undefined;
  if (!(r instanceof tf.Tensor)) {
    throw new HookError(`${who}: must return a tf.Tensor or nothing, got ${typeof r}`);
  }
  if (r.isDisposed) {
    throw new HookError(`${who}: returned a disposed tensor; expected a live [${input.shape.join(', ')}] ${input.dtype} tensor`);
  }
  if (!tf.util.arraysEqual(r.shape, input.shape)) {
    throw new HookError(`${who}: returned shape [${r.shape.join(', ')}], expected [${input.shape.join(', ')}] (the activation's shape)`);
  }
  if (r.dtype !== input.dtype) {
    throw new HookError(`${who}: returned dtype ${r.dtype}, expected ${input.dtype} (cast it with tf.cast(t, '${input.dtype}'))`);
  }
  return r;
}

/**
 * A named identity point in the forward pass.
 * @category Hooks
 */
export class HookPoint {
  private hooks: readonly HookEntry[] = [];
  /** The context passed to every hook run here: this point's name and layer. */
  readonly ctx: HookContext;

  /** @param name Full hook name, e.g. `blocks.0.attn.hook_pattern`. */
  constructor(readonly name: string) {
    this.ctx = { name, layer: layerOfHookName(name) };
  }

  /** Attach a hook; `level` is the hooks context that owns it (0 = none). */
  add(fn: HookFn, opts: { permanent?: boolean; level?: number; prepend?: boolean } = {}): void {
    const entry: HookEntry = { fn, permanent: opts.permanent === true, level: opts.level ?? 0, running: false };
    // A new list, so a run holding the old one (a snapshot) is not changed.
    this.hooks = opts.prepend === true ? [entry, ...this.hooks] : [...this.hooks, entry];
  }

  /** Remove hooks; permanent ones only when asked, and only those of `level` when given. */
  remove(opts: { includingPermanent?: boolean; level?: number } = {}): void {
    this.hooks = this.hooks.filter(
      (h) =>
        (h.permanent && opts.includingPermanent !== true) ||
        (opts.level !== undefined && h.level !== opts.level),
    );
  }

  /** Whether any hook is attached. */
  hasHooks(): boolean {
    return this.hooks.length > 0;
  }

  /**
   * The hooks attached now, as an immutable list (later adds and removes make a new one).
   * @internal
   */
  attached(): readonly HookEntry[] {
    return this.hooks;
  }

  /**
   * Apply the attached hooks in order (a snapshot: a hook that adds a hook here does not extend this
   * pass).
   * @param x Activation.
   * @returns The (possibly replaced) activation: same shape and dtype as `x`.
   * @throws {@link "tfjs-lens"!HookError} if a hook disposes its input or returns something other
   *   than a live tensor of x's shape and dtype.
   */
  run<T extends tf.Tensor>(x: T): T {
    return this.runSnapshot(x, this.hooks);
  }

  /**
   * Apply `hooks` (a snapshot taken from {@link attached}) in order, skipping any that is running.
   * @internal
   */
  runSnapshot<T extends tf.Tensor>(x: T, hooks: readonly HookEntry[]): T {
    let out: tf.Tensor = x;
    let replaced = false;
    for (const [i, h] of hooks.entries()) {
      if (h.running) continue; // a run started from inside this hook: do not re-enter it
      let r: unknown;
      h.running = true;
      try {
        r = h.fn(out, this.ctx);
      } finally {
        h.running = false;
      }
      const next = checkHookResult(this.name, i, h.fn, out, r);
      if (next === undefined) continue;
      out = next;
      replaced = true;
    }
    if (!replaced) return x;
    // A fresh tensor object sharing the data (reshape does not copy), so the forward pass can free
    // its own handle without disposing a tensor the hook owns (e.g. one from another cache). Its
    // shape and dtype were checked above to equal x's, so it is a T.
    return tf.reshape(out, out.shape) as T;
  }
}
