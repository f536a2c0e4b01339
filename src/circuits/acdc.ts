/**
 * ACDC, Automatic Circuit DisCovery (Conmy et al. 2023, `acdc/TLACDCExperiment.py`): visit the
 * receivers from the logits back (reverse topological order); for each incoming edge, ablate it and
 * re-evaluate the metric; if the damage (ACDC's `result = metric_new − metric_cur` for KL) is below τ
 * the edge stays removed, otherwise it is restored. A receiver with no remaining outgoing edges
 * loses all its incoming edges without a test (ACDC's `current_node_connected`).
 */
import { ConfigError } from '../errors.js';
import { SweepProgress } from '../patching/progress.js';
import { edgeFaithfulness, edgeNodes } from './eap.js';
import { createSenderAblation, edgeCircuitMetric } from './edge_patch.js';
import { buildCircuitGraph, CHANNELS, type CircuitEdge, type CircuitGraph, type CircuitNode } from './graph.js';
import { metricDamage } from './metrics.js';
import { searchTask, type CircuitResult, type CircuitSearchOptions, type SearchStep } from './result.js';
import { resolveMetric, type CircuitModel } from './run.js';
import { validateTask } from './task.js';

/** Options of {@link acdc}. @category Circuits */
export interface AcdcOptions extends CircuitSearchOptions {
  /** τ: an edge is removed when removing it damages the metric by less than this. */
  readonly threshold: number;
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

/**
 * ACDC: greedy edge pruning against a threshold τ, one forward pass per edge tested.
 * @param model The model.
 * @param opts Task fields, `threshold` τ, `metric` (default 'kl', against the full model's
 *   output), `ablationType` (default resample with corrupted prompts, else mean),
 *   `absValueThreshold`, progress options.
 * @returns The circuit: kept edges, the damage measured for every tested edge (`edgeScores`; edges
 *   dropped with a disconnected receiver score 0), the trajectory of decisions, faithfulness.
 * @throws {@link "tfjs-lens"!ConfigError}/{@link "tfjs-lens"!ShapeError} for a malformed task or threshold.
 * @example const res = acdc(model, { ...inductionTask(), threshold: 0.05 });
 * @category Circuits
 */
export function acdc(model: CircuitModel, opts: AcdcOptions): CircuitResult {
  if (!Number.isFinite(opts.threshold)) throw new ConfigError(`acdc: threshold must be a finite number, got ${opts.threshold}`);
  const { task, ablation } = searchTask(opts);
  validateTask(task, model.cfg, 'acdc');
  const graph = buildCircuitGraph(model.cfg);
  const { metric, owned } = resolveMetric(model, task, opts.metric ?? 'kl');
  const faith = resolveMetric(model, task, opts.faithfulnessMetric ?? 'logit_diff');
  const source = createSenderAblation(model, graph, task, ablation, { ...(opts.reference === undefined ? {} : { reference: opts.reference }) });
  const progress = new SweepProgress('acdc', graph.edges.length, opts);
  try {
    const removed = new Set<string>();
    const evalRemoved = (): number => edgeCircuitMetric(model, graph, task.prompts, metric, removed, source);
    const full = evalRemoved();
    let cur = full;
    let passes = 1;
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
        const value = evalRemoved();
        passes++;
        const damage = metricDamage(metric, cur, value);
        scores[e.id] = damage;
        const drop = (opts.absValueThreshold === true ? Math.abs(damage) : damage) < opts.threshold;
        if (drop) cur = value;
        else removed.delete(e.id);
        steps.push({ step: steps.length, target: e.id, action: drop ? 'remove' : 'keep', metric: cur, damage });
        progress.tick(1);
      }
    }
    const edges = graph.edges.filter((e) => !removed.has(e.id)).map((e) => e.id);
    return {
      method: 'acdc',
      level: 'edge',
      ablation,
      metric: { name: metric.name, higherIsBetter: metric.higherIsBetter, threshold: opts.threshold, full, circuit: cur },
      faithfulness: edgeFaithfulness(model, graph, task, edges, source, faith.metric),
      nodes: edgeNodes(graph, edges),
      edges,
      nodeScores: {},
      edgeScores: scores,
      trajectory: steps,
      forwardPasses: passes,
    };
  } finally {
    progress.end();
    source.dispose();
    if (owned) metric.dispose?.();
    if (faith.owned) faith.metric.dispose?.();
  }
}
