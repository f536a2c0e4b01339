/**
 * What a circuit-discovery method returns, and faithfulness: the metric of the circuit run (every
 * component or edge outside the circuit ablated) divided by the metric of the full model, with the
 * empty circuit (everything ablated) reported alongside (EAP-IG `evaluate_graph`; auto-circuit).
 */
import { ConfigError } from '../errors.js';
import type { ProgressOptions } from '../patching/progress.js';
import type { AblationType } from './ablation.js';
import type { MetricSpec } from './run.js';
import type { CircuitTask } from './task.js';

/** The discovery methods. @category Circuits */
export type CircuitMethod = 'prune' | 'eap' | 'acdc';

/** Faithfulness of a circuit under one metric. @category Circuits */
export interface Faithfulness {
  /** Metric name (default 'logit_diff'). */
  readonly metric: string;
  /** Metric of the full model. */
  readonly full: number;
  /** Metric with everything outside the circuit ablated. */
  readonly circuit: number;
  /** Metric with everything ablated (the empty circuit). */
  readonly empty: number;
  /** circuit / full. */
  readonly ratio: number;
}

/** One decision of a search: a component or edge removed or kept, and the metric after it. @category Circuits */
export interface SearchStep {
  /** 0-based step. */
  readonly step: number;
  /** Node id (pruning) or edge id (ACDC). */
  readonly target: string;
  /** 'remove' or 'keep'. */
  readonly action: 'remove' | 'keep';
  /** Metric after the decision. */
  readonly metric: number;
  /** Damage of removing the target, measured before the decision (ACDC's `result`). */
  readonly damage: number;
}

/**
 * Default faithfulness a circuit must reach when no size is given: each method reports the smallest
 * circuit on its faithfulness-vs-size curve whose faithfulness (circuit / full logit difference) is at
 * least this. 0.8 = the circuit alone keeps 80% of the model's behaviour (the level issue 17 asks of a
 * circuit before it is called one). @category Circuits
 */
export const DEFAULT_TARGET_FAITHFULNESS = 0.8;

/** One point of a faithfulness-vs-size curve. @category Circuits */
export interface CurvePoint {
  /** Edges kept (connected circuit). */
  readonly edges: number;
  /** Nodes kept (input and logits included). */
  readonly nodes: number;
  /** The method's size parameter: EAP greedy picks, ACDC τ, pruning components removed. */
  readonly parameter: number;
  /** Faithfulness metric of this circuit. */
  readonly circuit: number;
  /** circuit / full (the faithfulness ratio). */
  readonly ratio: number;
}

/** How the reported circuit's size was chosen. @category Circuits */
export interface SizeSelection {
  /** 'target': the smallest circuit on the curve with faithfulness ≥ target; 'topN' / 'threshold': given by the caller. */
  readonly rule: 'target' | 'topN' | 'threshold';
  /** The faithfulness target of the 'target' rule (reported for the others too). */
  readonly targetFaithfulness: number;
  /** Whether the reported circuit reaches the target. */
  readonly reached: boolean;
  /** One sentence for reports. */
  readonly text: string;
}

/**
 * The smallest point of a curve whose ratio is at least `target` (fewest edges, then fewest nodes).
 * @param curve The curve.
 * @param target Faithfulness target.
 * @returns The point, or undefined when none reaches the target.
 * @throws Never.
 * @example smallestFaithful(res.curve, 0.8)?.edges
 * @category Circuits
 */
export function smallestFaithful(curve: readonly CurvePoint[], target: number): CurvePoint | undefined {
  const ok = curve.filter((p) => Number.isFinite(p.ratio) && p.ratio >= target);
  return ok.sort((a, b) => a.edges - b.edges || a.nodes - b.nodes)[0];
}

/** A discovered circuit. @category Circuits */
export interface CircuitResult {
  /** Method that found it. */
  readonly method: CircuitMethod;
  /** 'node' (pruning: whole components) or 'edge' (EAP, ACDC). */
  readonly level: 'node' | 'edge';
  /** Ablation used for removed components/edges. */
  readonly ablation: AblationType;
  /** The search metric: name, direction, threshold, value of the full model and of the circuit. */
  readonly metric: {
    /** Metric name ('logit_diff', 'logprob', 'kl' or a custom name). */
    readonly name: string;
    /** Whether larger values mean the behaviour is better preserved (false for KL). */
    readonly higherIsBetter: boolean;
    /** Threshold the search used (pruning/ACDC damage τ, EAP |score|); undefined for EAP with topN only. */
    readonly threshold: number | undefined;
    /** Metric of the full model. */
    readonly full: number;
    /** Metric of the circuit (everything outside it ablated). */
    readonly circuit: number;
  };
  /** Faithfulness (default metric: the logit difference). */
  readonly faithfulness: Faithfulness;
  /** Node ids in the circuit (input and logits included), in graph order. */
  readonly nodes: readonly string[];
  /** Edge ids in the circuit, in graph order. */
  readonly edges: readonly string[];
  /** Scores of every component tested (pruning: damage of ablating it alone). */
  readonly nodeScores: Readonly<Record<string, number>>;
  /** Scores of every edge scored (EAP: estimated metric change; ACDC: damage when tested). */
  readonly edgeScores: Readonly<Record<string, number>>;
  /** Decisions in order (pruning and ACDC). */
  readonly trajectory: readonly SearchStep[];
  /** Forward passes used by the search (and its curve). */
  readonly forwardPasses: number;
  /** Faithfulness vs circuit size (edges), increasing in edges; every point is a connected circuit. */
  readonly curve: readonly CurvePoint[];
  /** How the reported size was chosen. */
  readonly selection: SizeSelection;
}

/** Options shared by the discovery methods: the task fields plus metric and ablation. @category Circuits */
export interface CircuitSearchOptions extends Omit<CircuitTask, 'name'>, ProgressOptions {
  /** Task name (default 'task'). */
  readonly name?: string;
  /** Search metric (default: 'logit_diff' for pruning and EAP, 'kl' for ACDC). */
  readonly metric?: MetricSpec;
  /** Ablation (default 'resample' when corrupted prompts are given, else 'mean'). */
  readonly ablationType?: AblationType;
  /** 'mean' ablation: batch averaged over (default: the prompts). */
  readonly reference?: readonly (readonly number[])[];
  /** Metric for faithfulness (default 'logit_diff'). */
  readonly faithfulnessMetric?: MetricSpec;
  /**
   * Without an explicit size (topN/threshold) the reported circuit is the smallest on the
   * faithfulness curve reaching this (default {@link DEFAULT_TARGET_FAITHFULNESS}).
   */
  readonly targetFaithfulness?: number;
}

/**
 * Split search options into the task and the ablation type in force.
 * @param opts Search options.
 * @returns The task and the ablation type.
 * @throws Never.
 * @example const { task, ablation } = searchTask(opts);
 * @category Circuits
 */
export function searchTask(opts: CircuitSearchOptions): {
  /** The task (name defaulted to 'task'). */
  task: CircuitTask;
  /** The ablation in force: `ablationType`, else 'resample' with corrupted prompts, else 'mean'. */
  ablation: AblationType;
} {
  const task: CircuitTask = {
    name: opts.name ?? 'task',
    prompts: opts.prompts,
    answerPositions: opts.answerPositions,
    answerTokens: opts.answerTokens,
    ...(opts.corrupted === undefined ? {} : { corrupted: opts.corrupted }),
    ...(opts.wrongTokens === undefined ? {} : { wrongTokens: opts.wrongTokens }),
  };
  return { task, ablation: opts.ablationType ?? (opts.corrupted === undefined ? 'mean' : 'resample') };
}

/**
 * Faithfulness from three metric values.
 * @param metric Metric name.
 * @param full Full model.
 * @param circuit Circuit run.
 * @param empty Empty circuit.
 * @returns The record, ratio = circuit / full.
 * @throws Never.
 * @example faithfulnessOf('logit_diff', 10, 9, 0).ratio  // 0.9
 * @category Circuits
 */
export function faithfulnessOf(metric: string, full: number, circuit: number, empty: number): Faithfulness {
  return { metric, full, circuit, empty, ratio: circuit / full };
}

/**
 * The faithfulness target in force: `targetFaithfulness` or {@link DEFAULT_TARGET_FAITHFULNESS}.
 * @param opts Search options.
 * @param fn Calling function, for messages.
 * @returns The target.
 * @throws {@link "tfjs-lens"!ConfigError} for a target that is not a positive finite number.
 * @example targetOf({}, 'acdc')  // 0.8
 * @category Circuits
 */
export function targetOf(opts: { readonly targetFaithfulness?: number }, fn: string): number {
  const t = opts.targetFaithfulness ?? DEFAULT_TARGET_FAITHFULNESS;
  if (!(Number.isFinite(t) && t > 0)) throw new ConfigError(`${fn}: targetFaithfulness must be a positive number, got ${t}`);
  return t;
}

/**
 * The size-selection record of a result.
 * @param rule How the size was chosen.
 * @param target Faithfulness target.
 * @param ratio Faithfulness of the reported circuit.
 * @param what What was kept (method-specific words).
 * @returns The record.
 * @throws Never.
 * @example sizeSelection('target', 0.8, 0.93, 'greedy selection, 12 picks → 13 connected edges')
 * @category Circuits
 */
export function sizeSelection(rule: SizeSelection['rule'], target: number, ratio: number, what: string): SizeSelection {
  const reached = Number.isFinite(ratio) && ratio >= target;
  const how =
    rule === 'target'
      ? reached
        ? `the smallest circuit on the faithfulness curve reaching ${target}`
        : `no circuit on the curve reaches faithfulness ${target}; the largest is reported`
      : rule === 'topN'
        ? 'size given by topN'
        : 'size given by the threshold';
  return { rule, targetFaithfulness: target, reached, text: `${how}: ${what}` };
}

