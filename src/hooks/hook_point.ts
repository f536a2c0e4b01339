/**
 * HookPoint: a named identity on the forward pass where hook functions can read or replace an
 * activation (TransformerLens `hook_points.HookPoint`), and, in a backward pass, the gradient with
 * respect to it (`dir: 'bwd'`, see bwd_hooks.ts). The hook lists are replaced, never mutated, on
 * every add/remove, so a run can hold a snapshot of them: hooks added or removed while it runs (from
 * a hook) take effect from the next run. A hook is never re-entered, and what it returns is checked
 * (HookError naming the hook) before the forward (or backward) pass uses it.
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

/**
 * Direction of a hook (TL `dir`): 'fwd' sees the activation, 'bwd' the gradient of the loss with
 * respect to it in a backward pass. @category Hooks
 */
export type HookDir = 'fwd' | 'bwd';

/** Which hooks a removal acts on (TL `direction`): 'fwd', 'bwd' or 'both'. @category Hooks */
export type HookDirection = HookDir | 'both';

/**
 * Options of {@link HookPoint.addHook} (TL `HookPoint.add_hook`).
 * @category Hooks
 */
export interface HookPointAddOptions {
  /** 'fwd' (default) or 'bwd' (a backward hook: receives the gradient, may return a replacement). */
  readonly dir?: HookDir;
  /** Survives removals unless `includingPermanent`. */
  readonly isPermanent?: boolean;
  /** Insert before the hooks already there. */
  readonly prepend?: boolean;
  /** Id of the hooks context that owns the hook (0 = none). */
  readonly level?: number;
}

/**
 * Options of {@link HookPoint.removeHooks} (TL `HookPoint.remove_hooks`).
 * @category Hooks
 */
export interface HookPointRemoveOptions {
  /** Which hooks: 'fwd' (default, as TL), 'bwd' or 'both'. */
  readonly dir?: HookDirection;
  /** Also remove permanent hooks. */
  readonly includingPermanent?: boolean;
  /** Only the non-permanent hooks of this hooks context. */
  readonly level?: number;
}

/** One attached hook (the snapshot a run holds is a list of these). @category Hooks */
export interface HookEntry {
  /** The hook function. */
  readonly fn: HookFn;
  /** Whether it survives removals without `includingPermanent`. */
  readonly permanent: boolean;
  /** Id of the hooks context that owns it (0 = none). */
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
 * @param input The activation (or gradient) the hook received.
 * @param r What it returned.
 * @param dir Direction of the hook (for messages).
 * @returns The replacement, or undefined to keep `input`.
 * @throws {@link "tfjs-lens"!HookError} naming the hook, its point, and expected vs got.
 * @internal
 */
export function checkHookResult(point: string, index: number, fn: HookFn, input: tf.Tensor, r: unknown, dir: HookDir = 'fwd'): tf.Tensor | undefined {
  const who = `${dir === 'bwd' ? 'backward ' : ''}hook '${fn.name === '' ? 'anonymous' : fn.name}' (#${index + 1}) at ${point}`;
  const what = dir === 'bwd' ? 'gradient' : 'activation';
  if (input.isDisposed) {
    throw new HookError(
      `${who}: disposed its input [${input.shape.join(', ')}] ${input.dtype}; a hook must not dispose the ` +
        `${what} it receives (the ${dir === 'bwd' ? 'backward' : 'forward'} pass still uses it): return a new tensor instead`,
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
    throw new HookError(`${who}: returned shape [${r.shape.join(', ')}], expected [${input.shape.join(', ')}] (the ${what}'s shape)`);
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
  private backHooks: readonly HookEntry[] = [];
  /** The context passed to every hook run here: this point's name and layer. */
  readonly ctx: HookContext;

  /** @param name Full hook name, e.g. `blocks.0.attn.hook_pattern`. */
  constructor(readonly name: string) {
    this.ctx = { name, layer: layerOfHookName(name) };
  }

  /**
   * Attach a hook (TL `HookPoint.add_hook`). A backward hook (`dir: 'bwd'`) receives the gradient of
   * the loss with respect to this point's output and may return a replacement (see
   * {@link "tfjs-lens"!HookedModel} `runWithHooks` for when a backward pass runs).
   * @param fn Hook function.
   * @param opts Direction, permanence, prepend, owning context.
   * @example model.hookDict.get('hook_embed')?.addHook((g) => tf.mul(g, 0), { dir: 'bwd' });
   */
  addHook(fn: HookFn, opts: HookPointAddOptions = {}): void {
    this.add(fn, { permanent: opts.isPermanent, level: opts.level, prepend: opts.prepend, dir: opts.dir });
  }

  /**
   * Remove hooks (TL `HookPoint.remove_hooks`): non-permanent ones of `dir` (of `level` when given);
   * every one of `dir` with `includingPermanent`.
   * @param opts Direction ('fwd' by default, as TL), includingPermanent, level.
   */
  removeHooks(opts: HookPointRemoveOptions = {}): void {
    this.remove({ ...opts, dir: opts.dir ?? 'fwd' });
  }

  /** Attach a hook; `level` is the hooks context that owns it (0 = none); `dir` defaults to 'fwd'. */
  add(fn: HookFn, opts: { permanent?: boolean; level?: number; prepend?: boolean; dir?: HookDir } = {}): void {
    const entry: HookEntry = { fn, permanent: opts.permanent === true, level: opts.level ?? 0, running: false };
    // A new list, so a run holding the old one (a snapshot) is not changed.
    const add = (list: readonly HookEntry[]): readonly HookEntry[] => (opts.prepend === true ? [entry, ...list] : [...list, entry]);
    if (opts.dir === 'bwd') this.backHooks = add(this.backHooks);
    else this.hooks = add(this.hooks);
  }

  /**
   * Remove hooks; permanent ones only when asked, and only those of `level` when given. `dir`
   * defaults to 'both' here (internal callers); {@link removeHooks} defaults to 'fwd' as TL.
   */
  remove(opts: { includingPermanent?: boolean; level?: number; dir?: HookDirection } = {}): void {
    const keep = (list: readonly HookEntry[]): readonly HookEntry[] =>
      list.filter((h) => (h.permanent && opts.includingPermanent !== true) || (opts.level !== undefined && h.level !== opts.level));
    const dir = opts.dir ?? 'both';
    if (dir !== 'bwd') this.hooks = keep(this.hooks);
    if (dir !== 'fwd') this.backHooks = keep(this.backHooks);
  }

  /** Whether any hook (forward or backward) is attached. */
  hasHooks(): boolean {
    return this.hooks.length > 0 || this.backHooks.length > 0;
  }

  /** The forward hooks attached now (TL `fwd_hooks`), in firing order. */
  get fwdHooks(): readonly HookEntry[] {
    return this.hooks;
  }

  /** The backward hooks attached now (TL `bwd_hooks`), in firing order. */
  get bwdHooks(): readonly HookEntry[] {
    return this.backHooks;
  }

  /**
   * The forward hooks attached now, as an immutable list (later adds and removes make a new one).
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
   * Apply `hooks` (a snapshot taken from {@link attached} or {@link bwdHooks}) in order, skipping
   * any that is running; `dir` 'bwd' when `x` is a gradient (for messages).
   * @internal
   */
  runSnapshot<T extends tf.Tensor>(x: T, hooks: readonly HookEntry[], dir: HookDir = 'fwd'): T {
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
      const next = checkHookResult(this.name, i, h.fn, out, r, dir);
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

  /**
   * Apply backward hooks (a snapshot taken from {@link bwdHooks}) to the gradient `dy` arriving at
   * this point's output, as TL (PyTorch full backward hooks): every hook receives `dy` itself, and
   * the last one that returns a tensor sets the gradient passed on to earlier points.
   * @internal
   */
  runBackwardSnapshot(dy: tf.Tensor, hooks: readonly HookEntry[]): tf.Tensor {
    let out: tf.Tensor | undefined;
    for (const [i, h] of hooks.entries()) {
      if (h.running) continue;
      let r: unknown;
      h.running = true;
      try {
        r = h.fn(dy, this.ctx);
      } finally {
        h.running = false;
      }
      out = checkHookResult(this.name, i, h.fn, dy, r, 'bwd') ?? out;
    }
    // A fresh handle: tfjs frees gradients it accumulates, which must not be a tensor a hook owns.
    return out === undefined ? dy : tf.reshape(out, out.shape);
  }
}
