/**
 * RunContext: what a component needs during one forward pass — the flags in force, the hook
 * dispatcher and the attention masks. The dispatcher is typed by the family's hook-name union, so a
 * component can only fire names its family's table has; at run time it also refuses a name that is
 * not registered or not enabled (HookNameError), so a misspelt name can never pass silently.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { HookFlags } from './hook_spec.js';

/**
 * Fire the hooks attached at `name` on `x` (identity when none). The result has x's shape, dtype
 * and type (hooks that return another shape are refused by the hook point).
 */
export type HookDispatch<H extends string> = {
  <T extends tf.Tensor>(name: H, x: T): T;
  /**
   * Whether anything is attached at `name` for this run (a forward or backward hook, a cache entry).
   * When it says no, a component may compute the activation in a fused kernel and not fire the hook
   * (the LayerNorm's `hook_scale` / `hook_normalized`); absent: assume yes.
   */
  readonly live?: (name: H) => boolean;
};

/** Per-run state shared by the components. */
export interface RunContext<H extends string = string> {
  /** Optional-hook flags in force for this run. */
  readonly flags: HookFlags;
  /** Apply the hooks attached at `name` (identity when none). */
  readonly hook: HookDispatch<H>;
  /**
   * Additive attention mask, 0 where attention is allowed and -inf elsewhere:
   * [1, 1, pos_q, pos_k] (causal) or [batch, 1, pos_q, pos_k] (causal + padding); undefined = none.
   */
  readonly additiveMask: tf.Tensor | undefined;
  /** Whether some rows may be fully masked (pattern NaN → 0 needed). */
  readonly mayHaveEmptyRows: boolean;
}

/**
 * The dispatcher of a run without hook points (training steps, circuit read-outs): every hook is
 * the identity. Component hook names are still checked by the compiler.
 */
export const NO_HOOKS: HookDispatch<string> = Object.assign(<T extends tf.Tensor>(_name: string, x: T): T => x, { live: () => false });
