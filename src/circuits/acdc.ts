/**
 * ACDC, Automatic Circuit DisCovery (Conmy et al. 2023, `acdc/TLACDCExperiment.py`): visit the
 * receivers from the logits back (reverse topological order); for each incoming edge, ablate it and
 * re-evaluate the metric; if the damage (ACDC's `result = metric_new − metric_cur` for KL) is below τ
 * the edge stays removed, otherwise it is restored. A receiver with no remaining outgoing edges
 * loses all its incoming edges without a test (ACDC's `current_node_connected`). A kept edge whose
 * sender lost every incoming edge would hang off the circuit; the sender's most damaging incoming
 * edge is added back (`connectEdges`), so every kept edge lies on an input → logits path. Without a
 * given τ, ACDC bisects a descending τ grid for the smallest circuit whose faithfulness reaches the
 * target.
 */
import { ConfigError } from '../errors.js';
import { SweepProgress } from '../patching/progress.js';
import { edgeNodes } from './eap.js';
import { createSenderAblation, edgeCircuitMetric } from './edge_patch.js';
import { buildCircuitGraph, CHANNELS, type CircuitEdge, type CircuitGraph, type CircuitNode } from './graph.js';
import { metricDamage, type CircuitMetric } from './metrics.js';
import { faithfulnessOf, searchTask, sizeSelection, targetOf, type CircuitResult, type CircuitSearchOptions, type CurvePoint, type SearchStep } from './result.js';
import { resolveMetric, type CircuitModel } from './run.js';
import { connectEdges } from './selection.js';
import { validateTask } from './task.js';

/**
 * Default τ grid of ACDC without a given threshold, as fractions of the damage of removing every
 * edge (|metric(empty) − metric(full)|): τ from 10% down to 0.01% of it, half a decade apart. The
 * grid is searched by bisection (faithfulness taken to fall as τ rises), about 3 ACDC runs.
 * @category Circuits
 */
export const ACDC_THRESHOLD_FRACTIONS: readonly number[] = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001];

/** Options of {@link acdc}. @category Circuits */
export interface AcdcOptions extends CircuitSearchOptions {
  /** τ: an edge is removed when removing it damages the metric by less than this (default: the τ sweep). */
  readonly threshold?: number;
  /** τ values to sweep, largest first (default {@link ACDC_THRESHOLD_FRACTIONS} × the damage of the empty circuit). */
  readonly thresholds?: readonly number[];
  /** Compare |damage| with τ (ACDC `--abs-value-threshold`; default false). */
  readonly absValueThreshold?: boolean;
}

/** Receivers from the logits back; each head's channels q, k, v; senders latest first. */
function visitOrder(graph: CircuitGraph): { receiver: CircuitNode; edges: CircuitEdge[] }[] {
  const out: { receiver: CircuitNode; edges: CircuitEdge[] }[] = [];
  for (const v of [...graph.nodes].reverse()) {
    if (v.kind === 'input') continue;
    const incoming = graph.edges.filter((e) => e.to === v.id);
    const channels = v.kind === 'head' ? CHANNELS : [undefined];
    const edges = channels.flatMap((ch) => incoming.filter((e) => e.channel === ch).reverse());
    out.push({ receiver: v, edges });
  }
  return out;
}

interface AcdcRun {
  readonly removed: Set<string>;
  readonly scores: Record<string, number>;
  readonly steps: SearchStep[];
  readonly passes: number;
  readonly cur: number;
}

/** One ACDC pass over the graph at threshold τ. */
function acdcOnce(
  graph: CircuitGraph,
  evalRemoved: (removed: ReadonlySet<string>) => number,
  metric: CircuitMetric,
  full: number,
  tau: number,
  abs: boolean,
  progress: SweepProgress,
): AcdcRun {
  const removed = new Set<string>();
  let cur = full;
  let passes = 0;
  const scores: Record<string, number> = {};
  const steps: SearchStep[] = [];
  for (const { receiver, edges } of visitOrder(graph)) {
    const connected = receiver.kind === 'logits' || graph.edges.some((e) => e.from === receiver.id && !removed.has(e.id));
    if (!connected) {
      for (const e of edges) {
        removed.add(e.id);
        scores[e.id] = 0;
      }
      progress.tick(edges.length);
      continue;
    }
    for (const e of edges) {
      removed.add(e.id);
      const value = evalRemoved(removed);
      passes++;
      const damage = metricDamage(metric, cur, value);
      scores[e.id] = damage;
      const drop = (abs ? Math.abs(damage) : damage) < tau;
      if (drop) cur = value;
      else removed.delete(e.id);
      steps.push({ step: steps.length, target: e.id, action: drop ? 'remove' : 'keep', metric: cur, damage });
      progress.tick(1);
    }
  }
  return { removed, scores, steps, passes, cur };
}

/**
 * ACDC: greedy edge pruning against a threshold τ, one forward pass per edge tested; the kept edges
 * are then connected (a sender that lost every incoming edge gets its most damaging one back).
 * @param model The model.
 * @param opts Task fields, `threshold` τ (or `thresholds` to sweep; default a grid relative to the
 *   empty circuit's damage, {@link ACDC_THRESHOLD_FRACTIONS}), `targetFaithfulness`, `metric`
 *   (default 'kl', against the full model's output), `ablationType` (default resample with
 *   corrupted prompts, else mean), `absValueThreshold`, progress options.
 * @returns The circuit: kept edges, the damage measured for every tested edge (`edgeScores`; edges
 *   dropped with a disconnected receiver score 0), the trajectory of decisions, faithfulness, the
 *   faithfulness-vs-size curve over the τ tried (the default grid is bisected for the largest τ
 *   reaching the target; the reported circuit is the smallest reaching it, else the largest tried).
 * @throws {@link "tfjs-lens"!ConfigError}/{@link "tfjs-lens"!ShapeError} for a malformed task or threshold.
 * @example const res = acdc(model, { ...inductionTask() });
 * @category Circuits
 */
export function acdc(model: CircuitModel, opts: AcdcOptions): CircuitResult {
  const given = opts.threshold !== undefined ? [opts.threshold] : opts.thresholds;
  if (given !== undefined && (given.length === 0 || given.some((t) => !Number.isFinite(t)))) {
    throw new ConfigError(`acdc: thresholds must be finite numbers, got [${given.join(', ')}]`);
  }
  const target = targetOf(opts, 'acdc');
  const { task, ablation } = searchTask(opts);
  validateTask(task, model.cfg, 'acdc');
  const graph = buildCircuitGraph(model.cfg);
  const { metric, owned } = resolveMetric(model, task, opts.metric ?? 'kl');
  const faith = resolveMetric(model, task, opts.faithfulnessMetric ?? 'logit_diff');
  const source = createSenderAblation(model, graph, task, ablation, { ...(opts.reference === undefined ? {} : { reference: opts.reference }) });
  const all = new Set(graph.edges.map((e) => e.id));
  const evalWith = (m: CircuitMetric) => (removed: ReadonlySet<string>): number => edgeCircuitMetric(model, graph, task.prompts, m, removed, source);
  const full = evalWith(metric)(new Set());
  const empty = evalWith(metric)(all);
  const taus = given ?? ACDC_THRESHOLD_FRACTIONS.map((f) => f * Math.abs(metricDamage(metric, full, empty)));
  const progress = new SweepProgress('acdc', graph.edges.length * taus.length, opts);
  try {
    const fullFaith = evalWith(faith.metric)(new Set());
    const emptyFaith = evalWith(faith.metric)(all);
    let passes = 4;
    const curve: CurvePoint[] = [];
    const runs: { run: AcdcRun; edges: string[]; tau: number; circuit: number; ratio: number }[] = [];
    const runAt = (tau: number): boolean => {
      const run = acdcOnce(graph, evalWith(metric), metric, full, tau, opts.absValueThreshold === true, progress);
      const edges = connectEdges(graph, graph.edges.filter((e) => !run.removed.has(e.id)).map((e) => e.id), run.scores);
      const kept = new Set(edges);
      const circuit = evalWith(faith.metric)(new Set([...all].filter((id) => !kept.has(id))));
      passes += run.passes + 1;
      curve.push({ edges: edges.length, nodes: edgeNodes(graph, edges).length, parameter: tau, circuit, ratio: circuit / fullFaith });
      runs.push({ run, edges, tau, circuit, ratio: circuit / fullFaith });
      return circuit / fullFaith >= target;
    };
    if (given !== undefined) for (const tau of given) runAt(tau);
    else {
      // Bisection over the descending τ grid for the largest τ (smallest circuit) reaching the target.
      let lo = -1; // last index known to miss the target (τ too large)
      let hi = taus.length; // first index known to reach it
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (runAt(taus[mid] as number)) hi = mid;
        else lo = mid;
      }
    }
    // The smallest circuit reaching the target; else the largest one tried.
    const reaching = runs.filter((r) => r.ratio >= target).sort((x, y) => x.edges.length - y.edges.length);
    const b = reaching[0] ?? [...runs].sort((x, y) => y.edges.length - x.edges.length)[0] as (typeof runs)[number];
    const faithfulness = faithfulnessOf(faith.metric.name, fullFaith, b.circuit, emptyFaith);
    const sameMetric = faith.metric.name === metric.name;
    const circuit = sameMetric ? b.circuit : evalWith(metric)(new Set([...all].filter((id) => !b.edges.includes(id))));
    const rule = opts.threshold !== undefined ? 'threshold' : 'target';
    return {
      method: 'acdc',
      level: 'edge',
      ablation,
      metric: { name: metric.name, higherIsBetter: metric.higherIsBetter, threshold: b.tau, full, circuit },
      faithfulness,
      nodes: edgeNodes(graph, b.edges),
      edges: b.edges,
      nodeScores: {},
      edgeScores: b.run.scores,
      trajectory: b.run.steps,
      forwardPasses: passes + (sameMetric ? 0 : 1),
      curve: [...curve].sort((x, y) => x.edges - y.edges),
      selection: sizeSelection(rule, target, faithfulness.ratio, `τ = ${Number(b.tau.toPrecision(3))} (${metric.name}), ${b.edges.length} connected edges`),
    };
  } finally {
    progress.end();
    source.dispose();
    if (owned) metric.dispose?.();
    if (faith.owned) faith.metric.dispose?.();
  }
}
