/**
 * Forward passes for circuit discovery: run the blocks with hooks, then apply `ln_final` and the
 * unembedding only at the positions a metric reads. With a 50k vocabulary the unembedding is most of
 * the cost of a small model, and pruning/ACDC run one forward pass per candidate.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { FwdHooks } from '../hooks/hook_registry.js';
import { layerNorm } from '../model/components/layer_norm.js';
import { affine } from '../ops/matmul.js';
import { NO_HOOKS, type RunContext } from '../hooks/run_context.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { itemAt } from '../utils/tensor_rank.js';
import { klCircuitMetric, logitDiffCircuitMetric, logProbCircuitMetric, type CircuitMetric, type MetricName } from './metrics.js';
import type { CircuitTask } from './task.js';

/** What the circuit methods need from a model ({@link "tfjs-lens"!HookedTransformer}). @category Circuits */
export type CircuitModel = HookedTransformer;

/** A metric given by name or as a {@link CircuitMetric}. @category Circuits */
export type MetricSpec = MetricName | CircuitMetric;

const NO_HOOKS_CTX: RunContext = { flags: {}, hook: NO_HOOKS, additiveMask: undefined, mayHaveEmptyRows: false };

/**
 * Take positions along axis 1 with one slice per run of consecutive positions (slices have
 * gradients on every backend; gather's gradient kernel is missing on wasm).
 * @typeParam T The tensor type (rank) of `x`, kept by the result.
 * @param x Tensor [batch, pos, …].
 * @param positions Positions to keep, in order.
 * @returns [batch, n_positions, …] (a new tensor).
 * @throws {@link "tfjs-lens"!ConfigError} with no positions.
 * @example selectPositions(logits, [3, 4, 5, 9])  // two slices, concatenated
 * @category Circuits
 */
export function selectPositions<T extends tf.Tensor>(x: T, positions: readonly number[]): T {
  if (positions.length === 0) throw new ConfigError('selectPositions: need at least one position');
  return tf.tidy(() => {
    const parts: T[] = [];
    let start = positions[0] as number;
    let len = 1;
    const flush = (): void => {
      const begin = x.shape.map((_, ax) => (ax === 1 ? start : 0));
      const size = x.shape.map((d, ax) => (ax === 1 ? len : d));
      parts.push(tf.slice(x, begin, size));
    };
    for (const p of positions.slice(1)) {
      if (p === start + len) len++;
      else {
        flush();
        start = p;
        len = 1;
      }
    }
    flush();
    return parts.length === 1 ? itemAt(parts, 0, 'selectPositions') : tf.concat(parts, 1);
  });
}

/**
 * Logits at some positions of a hooked run: blocks with `hooks`, then ln_final and the unembedding
 * at `positions` only (ln_final hooks do not fire).
 * @param model The model.
 * @param tokens Token rows [batch, pos].
 * @param positions Positions to unembed.
 * @param hooks Forward hooks for the run (removed afterwards).
 * @param flags Hook flags for the run.
 * @returns Logits [batch, n_positions, d_vocab] (caller disposes).
 * @throws Errors of the forward pass and of the hooks.
 * @example logitsAtPositions(model, task.prompts, task.answerPositions, [], {})
 * @category Circuits
 */
export function logitsAtPositions(
  model: CircuitModel,
  tokens: readonly (readonly number[])[],
  positions: readonly number[],
  hooks: FwdHooks,
  flags: HookFlags,
): tf.Tensor3D {
  const { cfg, params } = model;
  const resid = model.runWithHooks(tokens, { ...flags, fwdHooks: hooks, stopAtLayer: cfg.nLayers }); // [batch, pos, d_model]
  try {
    return tf.tidy(() => {
      const sel = selectPositions(resid, positions); // [batch, n, d_model]
      const [b, n, d] = sel.shape;
      const normed = layerNorm(sel, params.lnFinal, cfg.eps, 'ln_final', NO_HOOKS_CTX); // [batch, n, d_model]
      const logits = affine(tf.reshape(normed, [b * n, d]), params.W_U, params.b_U); // [batch*n, d_vocab]
      return tf.reshape<tf.Rank.R3>(logits, [b, n, cfg.dVocab]);
    });
  } finally {
    resid.dispose();
  }
}

/**
 * A metric's value on a hooked run.
 * @param model The model.
 * @param tokens Token rows [batch, pos].
 * @param metric The metric (its positions are unembedded).
 * @param hooks Forward hooks.
 * @param flags Hook flags.
 * @returns The value.
 * @throws Errors of the forward pass, hooks and metric.
 * @example circuitMetricValue(model, task.prompts, metric, ablationHooks, {})
 * @category Circuits
 */
export function circuitMetricValue(
  model: CircuitModel,
  tokens: readonly (readonly number[])[],
  metric: CircuitMetric,
  hooks: FwdHooks,
  flags: HookFlags,
): number {
  return tf.tidy(() => metric.fn(logitsAtPositions(model, tokens, metric.positions, hooks, flags)).dataSync()[0] as number);
}

/**
 * Turn a metric name into a metric for a task ('kl' runs the full model once for its reference).
 * @param model The model.
 * @param task The task.
 * @param spec 'logit_diff', 'logprob', 'kl', or a metric object (returned as is).
 * @returns The metric and whether the caller must dispose it.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown name.
 * @example const { metric, owned } = resolveMetric(model, task, 'kl');
 * @category Circuits
 */
export function resolveMetric(model: CircuitModel, task: CircuitTask, spec: MetricSpec): {
  /** The metric. */
  metric: CircuitMetric;
  /** True when it was built here and the caller must dispose it; false for a metric object passed in. */
  owned: boolean;
} {
  if (typeof spec !== 'string') return { metric: spec, owned: false };
  switch (spec) {
    case 'logit_diff':
      return { metric: logitDiffCircuitMetric(task), owned: true };
    case 'logprob':
      return { metric: logProbCircuitMetric(task), owned: true };
    case 'kl': {
      const full = logitsAtPositions(model, task.prompts, task.answerPositions, [], {});
      try {
        return { metric: klCircuitMetric(full, task.answerPositions), owned: true };
      } finally {
        full.dispose();
      }
    }
    default:
      throw new ConfigError(`resolveMetric: unknown metric '${String(spec)}' (expected logit_diff, logprob or kl)`);
  }
}
