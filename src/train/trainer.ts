/**
 * A small, seeded training loop: loss closure → gradients (optionally accumulated over micro-batches
 * and averaged) → global-norm clipping → optimizer step (Adam or AdamW) with a scheduled rate,
 * progress on stderr, metrics as JSON lines, and optional early stopping on a validation metric with
 * best-weights restore (Keras `EarlyStopping(restore_best_weights=True)`). Leaks no tensors per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { appendMetricsLine, startMetricsFile } from './metrics_file.js';
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
  /**
   * Loss of step `step` (build the batch from a seeded generator inside); with gradient accumulation,
   * of its micro-batch `micro` in [0, accumulationSteps).
   */
  readonly loss: (step: number, micro: number) => tf.Scalar;
  /** Optimizer ({@link createAdam}, or {@link createAdamW} for decoupled weight decay). */
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
  /**
   * Micro-batches per optimizer step (default 1): their gradients are averaged (as a loss divided by
   * N, the Hugging Face Trainer's `gradient_accumulation_steps`) before clipping and one update.
   */
  readonly accumulationSteps?: number;
  /** Stop when a validation metric stops improving (default: run every step). */
  readonly earlyStopping?: EarlyStopping;
}

/** Early stopping on a validation metric. @category Training */
export interface EarlyStopping {
  /** Validation metric after step `step`'s update (e.g. macro-F1 on the validation split). */
  readonly metric: (step: number) => number;
  /** Evaluate every N optimizer steps (and after the last step). */
  readonly every: number;
  /** Stop after this many evaluations in a row without improvement. */
  readonly patience: number;
  /** 'max' (default: accuracy, F1) or 'min' (loss). */
  readonly mode?: 'max' | 'min';
  /** An improvement must exceed this (default 0). */
  readonly minDelta?: number;
  /** Put back the variables of the best evaluation when training ends (default true). */
  readonly restoreBest?: boolean;
}

/** One evaluation of the early-stopping metric. @category Training */
export interface Evaluation {
  /** 0-based step after whose update it was computed. */
  readonly step: number;
  /** Metric value. */
  readonly value: number;
}

/** What {@link trainLoopDetailed} returns. @category Training */
export interface TrainResult {
  /** Logged metrics, as {@link trainLoop} returns. */
  readonly history: StepMetrics[];
  /** Optimizer steps taken. */
  readonly stepsRun: number;
  /** True when early stopping ended the run before schedule.totalSteps. */
  readonly stoppedEarly: boolean;
  /** Every early-stopping evaluation (empty without earlyStopping). */
  readonly evaluations: Evaluation[];
  /** The best evaluation (undefined without earlyStopping); its variables are restored unless restoreBest is false. */
  readonly best: Evaluation | undefined;
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

/** Gradients of one optimizer step: averaged over `n` micro-batches. The caller disposes the grads. */
function stepGradients(o: TrainOptions, step: number, n: number): { lossValue: number; grads: tf.NamedTensorMap } {
  let sums: tf.NamedTensorMap = {};
  let lossSum = 0;
  try {
    for (let k = 0; k < n; k++) {
      const prev = sums;
      const { value, next } = tf.tidy(() => {
        const r = tf.variableGrads(() => o.loss(step, k), [...o.variables]);
        if (k === 0) return { value: r.value, next: r.grads };
        const added = Object.entries(r.grads).map(([name, g]) => [name, tf.add(prev[name] as tf.Tensor, g)] as const);
        return { value: r.value, next: Object.fromEntries(added) as tf.NamedTensorMap };
      });
      if (k > 0) tf.dispose(Object.values(prev));
      sums = next;
      try {
        lossSum += value.dataSync()[0] as number;
      } finally {
        value.dispose();
      }
    }
  } catch (err) {
    tf.dispose(Object.values(sums)); // the sums of the micro-batches before the one that threw
    throw err;
  }
  if (n === 1) return { lossValue: lossSum, grads: sums };
  const mean = tf.tidy(() => Object.fromEntries(Object.entries(sums).map(([name, g]) => [name, tf.div(g, n)])) as tf.NamedTensorMap);
  tf.dispose(Object.values(sums));
  return { lossValue: lossSum / n, grads: mean };
}

/** Clip to the global norm, then one optimizer step. Returns the norm before clipping. */
function applyStep(o: TrainOptions, grads: tf.NamedTensorMap): number {
  return tf.tidy(() => {
    const named = Object.entries(grads);
    const norm = globalNorm(named.map(([, g]) => g));
    const normV = norm.dataSync()[0] as number;
    const scale = o.clipNorm !== undefined && normV > o.clipNorm ? o.clipNorm / normV : 1;
    const applied = named.map(([name, g]) => ({ name, tensor: scale === 1 ? g : tf.mul(g, scale) }));
    o.optimizer.applyGradients(applied);
    return normV;
  });
}

/** Tracks the best evaluation and a copy of its variables. */
class BestTracker {
  readonly evaluations: Evaluation[] = [];
  best: Evaluation | undefined;
  private snapshot: tf.Tensor[] = [];
  private sinceBest = 0;

  constructor(private readonly es: EarlyStopping, private readonly variables: readonly tf.Variable[]) {}

  /** Record an evaluation; returns true when patience has run out. */
  observe(step: number, value: number): boolean {
    if (Number.isNaN(value)) throw new ConfigError(`trainLoop: earlyStopping.metric returned NaN at step ${step} — return a number`);
    this.evaluations.push({ step, value });
    const sign = (this.es.mode ?? 'max') === 'max' ? 1 : -1;
    if (this.best === undefined || sign * (value - this.best.value) > (this.es.minDelta ?? 0)) {
      this.best = { step, value };
      this.sinceBest = 0;
      if (this.es.restoreBest !== false) {
        tf.dispose(this.snapshot);
        this.snapshot = this.variables.map((v) => tf.clone(v));
      }
      return false;
    }
    this.sinceBest += 1;
    return this.sinceBest >= this.es.patience;
  }

  /** Put the best variables back (if kept) and free the copy. */
  finish(): void {
    this.snapshot.forEach((t, i) => (this.variables[i] as tf.Variable).assign(t));
    tf.dispose(this.snapshot);
    this.snapshot = [];
  }
}

function checkOptions(o: TrainOptions): void {
  const n = o.accumulationSteps ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new ConfigError(`trainLoop: accumulationSteps must be an integer ≥ 1, got ${n}`);
  const es = o.earlyStopping;
  if (es === undefined) return;
  if (!(Number.isInteger(es.every) && es.every >= 1)) throw new ConfigError(`trainLoop: earlyStopping.every must be an integer ≥ 1, got ${es.every}`);
  if (!(Number.isInteger(es.patience) && es.patience >= 1)) {
    throw new ConfigError(`trainLoop: earlyStopping.patience must be an integer ≥ 1, got ${es.patience}`);
  }
  if (!((es.minDelta ?? 0) >= 0)) throw new ConfigError(`trainLoop: earlyStopping.minDelta must be ≥ 0, got ${es.minDelta}`);
}

/**
 * Run the training loop.
 * @param o Variables, loss closure, optimizer, schedule, logging.
 * @returns Logged metrics (every `logEvery` steps and the last step).
 * @throws {@link "tfjs-lens"!ConfigError} if the loss becomes non-finite, or for bad accumulation /
 *   early-stopping options.
 * @example const history = trainLoop({ variables, loss: (s) => lossOf(batch(s)), optimizer: createAdam(1e-3), schedule: { lr: 1e-3, totalSteps: 500 } });
 * @category Training
 */
export function trainLoop(o: TrainOptions): StepMetrics[] {
  return trainLoopDetailed(o).history;
}

/**
 * Run the training loop and report how it ended (early stopping, best evaluation).
 * @param o Variables, loss closure, optimizer, schedule, logging, accumulation, early stopping.
 * @returns History, steps run, evaluations and the best one.
 * @throws {@link "tfjs-lens"!ConfigError} if the loss becomes non-finite, the metric is NaN, or for bad
 *   accumulation / early-stopping options.
 * @example
 * const r = trainLoopDetailed({ variables, loss: (s, k) => lossOf(batch(s * 4 + k)), optimizer: createAdamW(2e-5),
 *   schedule: { lr: 2e-5, totalSteps: 1000, warmupRatio: 0.1, decay: 'linear', minRatio: 0 }, accumulationSteps: 4,
 *   earlyStopping: { metric: () => valMacroF1(), every: 100, patience: 3 } });
 * @category Training
 */
export function trainLoopDetailed(o: TrainOptions): TrainResult {
  checkOptions(o);
  const total = o.schedule.totalSteps;
  const logEvery = o.logEvery ?? 50;
  const nMicro = o.accumulationSteps ?? 1;
  const es = o.earlyStopping;
  const tracker = es === undefined ? undefined : new BestTracker(es, o.variables);
  const history: StepMetrics[] = [];
  if (o.metricsPath !== undefined) startMetricsFile(o.metricsPath);
  const t0 = performance.now();
  let step = 0;
  let stoppedEarly = false;
  try {
    for (; step < total && !stoppedEarly; step++) {
      const lr = lrAt(o.schedule, step);
      o.optimizer.setLearningRate(lr);
      const { lossValue, grads } = stepGradients(o, step, nMicro);
      let gradNorm: number;
      try {
        gradNorm = applyStep(o, grads);
      } finally {
        tf.dispose(Object.values(grads));
      }
      if (!Number.isFinite(lossValue)) {
        throw new ConfigError(`trainLoop: loss became ${lossValue} at step ${step} (lower the learning rate or clip gradients)`);
      }
      if (step % logEvery === 0 || step === total - 1) {
        const m: StepMetrics = {
          step, loss: lossValue, lr, gradNorm, elapsedS: (performance.now() - t0) / 1000,
          ...(o.evaluate?.(step) ?? {}),
        };
        history.push(m);
        if (o.metricsPath !== undefined) appendMetricsLine(o.metricsPath, m);
        if (o.quiet !== true) progress(o.label ?? 'train', m, total);
      }
      if (es !== undefined && tracker !== undefined && ((step + 1) % es.every === 0 || step === total - 1)) {
        stoppedEarly = tracker.observe(step, es.metric(step)) && step < total - 1;
      }
    }
  } finally {
    tracker?.finish();
  }
  return { history, stepsRun: step, stoppedEarly, evaluations: tracker?.evaluations ?? [], best: tracker?.best };
}
