/**
 * RunContext: what a component needs during one forward pass — the config, the flags in force,
 * the hook dispatcher and the attention masks.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { HookFlags } from './hook_names.js';
import type { HookPoint } from './hook_point.js';

/** Per-run state shared by the components. */
export interface RunContext {
  readonly flags: HookFlags;
  /** Apply the hooks attached at `name` (identity when none). */
  hook(name: string, x: tf.Tensor): tf.Tensor;
  /**
   * Additive attention mask, 0 where attention is allowed and -inf elsewhere:
   * [1, 1, pos_q, pos_k] (causal) or [batch, 1, pos_q, pos_k] (causal + padding); undefined = none.
   */
  readonly additiveMask: tf.Tensor | undefined;
  /** Whether some rows may be fully masked (pattern NaN → 0 needed). */
  readonly mayHaveEmptyRows: boolean;
}

/**
 * The hook dispatcher of a forward pass: runs the hooks attached at a name (identity when none).
 * @param hookDict The model's hook points.
 * @returns `(name, x) => x'`.
 */
export function hookDispatcher(hookDict: ReadonlyMap<string, HookPoint>): RunContext['hook'] {
  return (name, x) => {
    const hp = hookDict.get(name);
    return hp !== undefined && hp.hasHooks() ? hp.run(x) : x;
  };
}
