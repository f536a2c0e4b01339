/**
 * A small, seeded training loop: loss closure → gradients (global-norm clipped) → Adam step with a
 * scheduled rate, progress on stderr, metrics as JSON lines. Leaks no tensors per step.
 */
import { mkdirSync, appendFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { lrAt, type LrSchedule, type ScheduledAdam } from '../ops/optimizer.js';

/** One logged step. @category Training */
export interface StepMetrics {
  /** 0-based step. */
  readonly step: number;
  /** Training loss at this step. */
  readonly loss: number;
  /** Learning rate used. */
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Seconds since the start of training. */
  readonly elapsedS: number;
  /** Extra figures returned by `evaluate`. */
  readonly [extra: string]: number;
}

/** Options of {@link trainLoop}. @category Training */
export interface TrainOptions {
  /** Trainable variables. */
  readonly variables: readonly tf.Variable[];
  /** Loss of step `step` (build the batch from a seeded generator inside). */
  readonly loss: (step: number) => tf.Scalar;
  /** Optimizer. */
  readonly optimizer: ScheduledAdam;
  /** Learning-rate schedule (its totalSteps is the number of steps). */
  readonly schedule: LrSchedule;
  /** Clip the global gradient norm to this (default: no clipping). */
  readonly clipNorm?: number;
  /** Log every N steps (default 50). */
  readonly logEvery?: number;
  /** Metrics JSONL path (truncated at start). */
  readonly metricsPath?: string;
  /** Extra figures computed at log steps (e.g. held-out loss). */
  readonly evaluate?: (step: number) => Record<string, number>;
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Label for the progress line. */
  readonly label?: string;
}

function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum<tf.Scalar>(tf.square(g))))));
}

function progress(label: string, m: StepMetrics, total: number): void {
  const done = m.step + 1;
  const eta = (m.elapsedS / done) * (total - done);
  const extra = Object.entries(m)
    .filter(([k]) => !['step', 'loss', 'lr', 'gradNorm', 'elapsedS'].includes(k))
    .map(([k, v]) => ` ${k} ${v.toFixed(4)}`)
    .join('');
  process.stderr.write(
    `${label} step ${done}/${total} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)}${extra} ` +
      `(${m.elapsedS.toFixed(0)} s, eta ${eta.toFixed(0)} s)\n`,
  );
}

/**
 * Run the training loop.
 * @param o Variables, loss closure, optimizer, schedule, logging.
 * @returns Logged metrics (every `logEvery` steps and the last step).
 * @throws {@link "tfjs-lens"!ConfigError} if the loss becomes non-finite.
 * @example const history = trainLoop({ variables, loss: (s) => lossOf(batch(s)), optimizer: createAdam(1e-3), schedule: { lr: 1e-3, totalSteps: 500 } });
 * @category Training
 */
export function trainLoop(o: TrainOptions): StepMetrics[] {
  const total = o.schedule.totalSteps;
  const logEvery = o.logEvery ?? 50;
  const history: StepMetrics[] = [];
  if (o.metricsPath !== undefined) {
    mkdirSync(dirname(o.metricsPath), { recursive: true });
    writeFileSync(o.metricsPath, '');
  }
  const t0 = performance.now();
  for (let step = 0; step < total; step++) {
    const lr = lrAt(o.schedule, step);
    o.optimizer.setLearningRate(lr);
    const { lossValue, gradNorm } = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => o.loss(step), [...o.variables]);
      const named = Object.entries(grads);
      const norm = globalNorm(named.map(([, g]) => g));
      const normV = norm.dataSync()[0] as number;
      const scale = o.clipNorm !== undefined && normV > o.clipNorm ? o.clipNorm / normV : 1;
      const applied = named.map(([name, g]) => ({ name, tensor: scale === 1 ? g : tf.mul(g, scale) }));
      o.optimizer.applyGradients(applied);
      return { lossValue: value.dataSync()[0] as number, gradNorm: normV };
    });
    if (!Number.isFinite(lossValue)) {
      throw new ConfigError(`trainLoop: loss became ${lossValue} at step ${step} (lower the learning rate or clip gradients)`);
    }
    if (step % logEvery === 0 || step === total - 1) {
      const m: StepMetrics = {
        step, loss: lossValue, lr, gradNorm, elapsedS: (performance.now() - t0) / 1000,
        ...(o.evaluate?.(step) ?? {}),
      };
      history.push(m);
      if (o.metricsPath !== undefined) appendFileSync(o.metricsPath, `${JSON.stringify(m)}\n`);
      if (o.quiet !== true) progress(o.label ?? 'train', m, total);
    }
  }
  return history;
}
