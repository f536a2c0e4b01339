/**
 * RunContext: what a component needs during one forward pass — the config, the flags in force,
 * the hook dispatcher and the attention masks.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { HookFlags } from '../../hooks/hook_names.js';

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
