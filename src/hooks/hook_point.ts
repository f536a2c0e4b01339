/**
 * HookPoint: a named identity on the forward pass where hook functions can read or replace an
 * activation (TransformerLens `hook_points.HookPoint`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

/** Context passed to a hook function. @category Hooks */
export interface HookContext {
  /** Full hook name, e.g. `blocks.0.attn.hook_pattern`. */
  readonly name: string;
  /** Layer index parsed from the name (`blocks.{l}.`), or undefined for global hooks. */
  readonly layer: number | undefined;
}

/**
 * A forward hook: receives the activation and may return a replacement tensor of the same shape
 * (returning nothing keeps the activation). Tensors it creates are freed after the layer runs,
 * except the one it returns; use `tf.keep` to retain a tensor beyond the run.
 * @category Hooks
 */
export type HookFn = (activation: tf.Tensor, ctx: HookContext) => tf.Tensor | void | undefined;

interface Registered {
  readonly fn: HookFn;
  readonly permanent: boolean;
  readonly level: number;
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
 * A named identity point in the forward pass.
 * @category Hooks
 */
export class HookPoint {
  private hooks: Registered[] = [];
  /** The context passed to every hook run here: this point's name and layer. */
  readonly ctx: HookContext;

  /** @param name Full hook name, e.g. `blocks.0.attn.hook_pattern`. */
  constructor(readonly name: string) {
    this.ctx = { name, layer: layerOfHookName(name) };
  }

  /** Attach a hook; `level` is the hooks-context depth that owns it (0 = none). */
  add(fn: HookFn, opts: { permanent?: boolean; level?: number; prepend?: boolean } = {}): void {
    const entry = { fn, permanent: opts.permanent === true, level: opts.level ?? 0 };
    if (opts.prepend === true) this.hooks.unshift(entry);
    else this.hooks.push(entry);
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
   * Apply the attached hooks in order.
   * @param x Activation.
   * @returns The (possibly replaced) activation: same shape and dtype as `x`.
   * @throws {@link "tfjs-lens"!ShapeError} if a hook returns something other than a tensor of x's shape.
   */
  run<T extends tf.Tensor>(x: T): T {
    let out: tf.Tensor = x;
    let replaced = false;
    for (const h of this.hooks) {
      const r = h.fn(out, this.ctx);
      if (r === undefined || r === null) continue;
      if (!(r instanceof tf.Tensor)) {
        throw new ShapeError(`hook ${this.name}: a hook must return a tf.Tensor or nothing, got ${typeof r}`);
      }
      if (!tf.util.arraysEqual(r.shape, out.shape)) {
        throw new ShapeError(
          `hook ${this.name}: replacement has shape [${r.shape.join(', ')}], expected [${out.shape.join(', ')}]`,
        );
      }
      out = r.dtype === out.dtype ? r : tf.cast(r, out.dtype);
      replaced = true;
    }
    if (!replaced) return x;
    // A fresh tensor object sharing the data (reshape does not copy), so the forward pass can free
    // its own handle without disposing a tensor the hook owns (e.g. one from another cache). Its
    // shape and dtype were checked above to equal x's, so it is a T.
    return tf.reshape(out, out.shape) as T;
  }
}
