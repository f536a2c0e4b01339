/**
 * Backward hooks on tfjs (TransformerLens `add_hook(dir="bwd")`, `run_with_hooks(bwd_hooks=…)`,
 * `run_with_cache(incl_bwd=True)`). tfjs keeps no autograd graph after a forward pass (there is no
 * `loss.backward()`), so a backward pass exists only while a forward runs inside
 * `tf.grads` / `tf.valueAndGrads` / `engine.gradients`. While tfjs records such a tape, the hook
 * dispatcher routes each activation that has backward hooks through an identity op built with
 * `tf.customGrad`; its gradient function hands the incoming gradient to the hooks (as PyTorch's
 * `register_full_backward_hook`, which TL wraps) and passes on the replacement a hook returns, so a
 * modified gradient reaches earlier hooks exactly as in PyTorch.
 *
 * `runWithHooks` / `runWithCache(inclBwd)` make the tape themselves ({@link runBackward}): the
 * forward runs under `engine.gradients` with respect to a scalar zero "seed" that the dispatcher
 * adds to every backward-hooked activation (x + 0 = x), which puts those points on the path tfjs
 * differentiates; the backward pass runs before the call returns (TL `run_with_hooks` followed by
 * `loss.backward()`). The seed's gradient is dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookEntry, HookPoint } from './hook_point.js';

/** Whether tfjs records a gradient tape now (inside tf.grad / tf.valueAndGrads, outside a kernel). */
export function recordingGradients(): boolean {
  const s = tf.engine().state;
  return s.gradientDepth > 0 && s.kernelDepth === 0;
}

/**
 * Route `x` through an identity whose gradient runs the backward hooks of `hp` (`hooks`, a
 * snapshot). With `seed`, x + seed enters the identity, so a backward pass with respect to the seed
 * reaches this point.
 * @param hp The hook point.
 * @param hooks Its backward hooks (snapshot).
 * @param x Activation (float32).
 * @param seed Scalar zero of the run's backward pass, or undefined (a tape the caller made).
 * @returns A tensor equal to x (same shape and dtype).
 */
export function throughBackwardHooks<T extends tf.Tensor>(hp: HookPoint, hooks: readonly HookEntry[], x: T, seed: tf.Scalar | undefined): T {
  const input = seed === undefined ? x : tf.add(x, seed);
  const op = tf.customGrad<T>((...args) => {
    const a = args[0];
    if (!(a instanceof tf.Tensor)) throw new ConfigError(`backward hook at ${hp.name}: the identity op received no tensor`);
    // A new handle on the same data (reshape does not copy): customGrad needs a fresh output tensor.
    return { value: tf.reshape(a, a.shape) as T, gradFunc: (dy: T) => [hp.runBackwardSnapshot(dy, hooks)] };
  });
  return op(input);
}

/**
 * tfjs keeps the tensors saved for the backward pass on its tape and frees them only when the
 * backward pass completes; if the forward, a hook or the backward pass throws they would leak. Free
 * them here (nested tapes belong to the outer call).
 */
export function disposeTapeAfterError(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = [];
}

/** A metric for the backward pass: the run's output tensor → a scalar built with tf ops. @category Hooks */
export type BwdMetric = (output: tf.Tensor) => tf.Tensor;

/** The scalar to differentiate, checked. */
function scalarOf(t: unknown, what: string, fn: string): tf.Tensor {
  if (!(t instanceof tf.Tensor) || t.size !== 1) {
    const got = t instanceof tf.Tensor ? `a [${t.shape.join(', ')}] tensor` : typeof t;
    throw new ConfigError(
      `${fn}: the backward pass needs a scalar to differentiate, but ${what} is ${got}; ` +
        "use returnType: 'loss' (the mean loss), or pass bwdMetric: (output) => a tf.Scalar (e.g. (l) => tf.sum(l))",
    );
  }
  return t;
}

/**
 * Run `forward` with tfjs recording a tape, then the backward pass of its loss (or of
 * `metric(output)`), which fires the backward hooks the forward routed through
 * {@link throughBackwardHooks}.
 * @param forward The forward pass; it receives the seed its dispatcher adds at backward-hooked points.
 * @param metric Output → scalar; undefined: the output itself must be a scalar tensor.
 * @param fn Calling function, for messages.
 * @returns The forward's output (the caller owns it). If no backward-hooked point is on the path to
 *   the loss, no hook fires (as PyTorch) and no error is raised.
 * @throws {@link "tfjs-lens"!ConfigError} if what is differentiated is not a scalar tensor; whatever a
 *   hook throws. Nothing leaks either way.
 */
export function runBackward<T>(forward: (seed: tf.Scalar) => T, metric: BwdMetric | undefined, fn: string): T {
  const seed = tf.scalar(0);
  let kept: tf.Tensor[] = [];
  let out: T | undefined;
  try {
    const { value, grads } = tf.tidy(() =>
      tf.engine().gradients(
        () => {
          out = forward(seed);
          if (metric === undefined) return scalarOf(out, 'the output', fn);
          if (!(out instanceof tf.Tensor)) {
            throw new ConfigError(`${fn}: bwdMetric takes a tensor output, got ${typeof out}; use returnType 'logits' (or 'loss') with it`);
          }
          kept = [tf.keep(out)];
          return scalarOf(metric(out), 'bwdMetric(output)', fn);
        },
        [seed],
        undefined,
        true, // no backward-hooked point on the path to the loss: nothing fires, as in PyTorch
      ),
    );
    tf.dispose(grads); // the seed's gradient (undefined when no hooked point is on the path)
    if (metric !== undefined) value.dispose();
    return out as T;
  } catch (err) {
    tf.dispose(kept);
    disposeTapeAfterError();
    throw err;
  } finally {
    seed.dispose();
  }
}
