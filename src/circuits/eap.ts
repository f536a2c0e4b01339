/**
 * Edge Attribution Patching (Syed, Rager & Conmy 2023, "Attribution Patching Outperforms Automated
 * Circuit Discovery"): the effect of ablating edge u → v is estimated to first order as
 * (ablated(u) − u) · ∂metric/∂(input of v), from one clean forward + backward pass
 * ({@link gradientsAtHooks}) and the ablated sender outputs. Edges are ranked by |score|.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { gradientsAtHooks } from '../patching/gradients.js';
import { rank2 } from '../utils/tensor_rank.js';
import type { AblationSource } from './ablation.js';
import { buildCircuitGraph, circuitFlags, nodeById, receiverSite, senderSite, type CircuitGraph, type HookSite } from './graph.js';
import { createSenderAblation, edgeCircuitMetric } from './edge_patch.js';
import type { CircuitMetric } from './metrics.js';
import { edgeSizeCurve } from './curve.js';
import { faithfulnessOf, searchTask, sizeSelection, targetOf, type CircuitResult, type CircuitSearchOptions, type Faithfulness } from './result.js';
import { greedyConnectedEdges, topNConnectedEdges } from './selection.js';
import { resolveMetric, selectPositions, type CircuitModel } from './run.js';
import { validateTask, type CircuitTask } from './task.js';

/** Options of {@link edgeAttributionPatching}. @category Circuits */
export interface EapOptions extends CircuitSearchOptions {
  /** Report the circuit of this many selection picks (overrides `threshold` and the faithfulness target). */
  readonly topN?: number;
  /** Or as many picks as there are edges with |score| ≥ threshold (overrides the faithfulness target). */
  readonly threshold?: number;
  /**
   * How a circuit is built from the scores (default 'greedy'): 'greedy' is EAP-IG's
   * `Graph.apply_greedy` (from the logits up, the best edge whose receiver is already in the
   * circuit), 'topn' its `apply_topn` (the best n edges anywhere); both then add the links that put
   * every kept edge on an input → logits path (`connectEdges`) instead of dropping dangling edges.
   */
  readonly selection?: 'greedy' | 'topn';
  /** Integrated-gradients points (EAP-IG); default 1 = plain EAP. */
  readonly igSteps?: number;
  /**
   * What EAP-IG interpolates (with igSteps > 1): 'input' (default) the input embedding, all
   * downstream activations moving together (Hanna et al. 2024's EAP-IG); 'senders' each sender's own
   * output, one sender at a time (IG on activations), so an edge's gradient is taken where the
   * receiver sees the sender ablated and everything else clean — what the edge's ablation does.
   * That is what K-composition needs: with clean queries and resampled keys an induction head's
   * pattern breaks, which interpolating the whole input never shows (queries and keys move
   * together and still match). Costs 1 + n_senders·(igSteps − 1) gradient passes.
   */
  readonly igTarget?: 'input' | 'senders';
}

/** Flatten a site of an activation to one row: [batch, pos, d_model] → [1, batch·pos·d_model], per head → [n_heads, …]. */
function rows(x: tf.Tensor, perHead: boolean): tf.Tensor2D {
  if (!perHead) return tf.reshape(x, [1, x.size]);
  const h = x.shape[2] as number;
  return tf.reshape(tf.transpose(x, [2, 0, 1, 3]), [h, x.size / h]); // [n_heads, batch*pos*d_model]
}

/** Sender deltas ablated − clean, one row each: [n_senders, batch·pos·d_model]. */
function senderDeltas(graph: CircuitGraph, cache: ActivationCache, source: AblationSource): { ids: string[]; deltas: tf.Tensor2D } {
  const senders = graph.nodes.filter((n) => n.kind !== 'logits');
  const deltas = tf.tidy(() => {
    const values = new Map<string, tf.Tensor>();
    const one = (site: HookSite): tf.Tensor => {
      const clean = cache.get(site.name);
      let d = values.get(site.name);
      if (d === undefined) {
        d = tf.sub(source.valueFor(site.name, clean), clean);
        values.set(site.name, d);
      }
      if (site.head === undefined) return tf.reshape(d, [d.size]);
      const [b, p, , m] = d.shape as [number, number, number, number];
      return tf.reshape(tf.slice(d, [0, 0, site.head, 0], [b, p, 1, m]), [b * p * m]);
    };
    return rank2(tf.stack(senders.map((n) => one(senderSite(n)))), 'senderDeltas'); // [n_senders, batch*pos*d_model]
  });
  return { ids: senders.map((n) => n.id), deltas };
}

/** What every gradient pass needs: the receiver hook names, the sender nodes, flags and the metric on logits. */
function gradientPlan(graph: CircuitGraph, metric: CircuitMetric): {
  receivers: string[];
  senderNodes: CircuitGraph['nodes'];
  flags: ReturnType<typeof circuitFlags>;
  diff: (logits: tf.Tensor3D) => tf.Scalar;
} {
  return {
    receivers: [...new Set(graph.edges.map((e) => receiverSite(nodeById(graph, e.to), e.channel, graph.nLayers).name))],
    senderNodes: graph.nodes.filter((n) => n.kind !== 'logits'),
    flags: circuitFlags(graph),
    diff: (logits) => metric.fn(selectPositions(logits, metric.positions)),
  };
}

/** acc[r] += grads[r] / steps for every receiver (created when absent); frees the tensors it replaces. */
function addScaled(acc: Map<string, tf.Tensor>, grads: { get(name: string): tf.Tensor }, receivers: readonly string[], steps: number): void {
  for (const r of receivers) {
    const prev = acc.get(r);
    acc.set(r, tf.keep(tf.tidy(() => (prev === undefined ? tf.div(grads.get(r), steps) : tf.add(prev, tf.div(grads.get(r), steps))))));
    prev?.dispose();
  }
}

/** Receiver gradients averaged over the integrated-gradients points, and the clean sender activations. */
function averagedGradients(
  model: CircuitModel,
  graph: CircuitGraph,
  task: CircuitTask,
  metric: CircuitMetric,
  source: AblationSource,
  steps: number,
): { grads: Map<string, tf.Tensor>; cache: ActivationCache } {
  const { receivers, senderNodes, flags, diff } = gradientPlan(graph, metric);
  const senders = [...new Set(senderNodes.map((n) => senderSite(n).name))];
  const input = senderSite(nodeById(graph, 'input')).name;
  const grads = new Map<string, tf.Tensor>();
  let cache: ActivationCache | undefined;
  try {
    for (let k = 1; k <= steps; k++) {
      const alpha = k / steps; // EAP-IG: from the ablated input (0, excluded) to the clean input (1)
      const last = k === steps;
      const run = (): ReturnType<typeof gradientsAtHooks> =>
        gradientsAtHooks(model, task.prompts, diff, last ? [...new Set([...receivers, ...senders])] : receivers, { ...flags, cacheActivations: last });
      const interpolate = (x: tf.Tensor): tf.Tensor => {
        const abl = source.valueFor(input, x);
        return tf.add(abl, tf.mul(tf.sub(x, abl), alpha));
      };
      const res = last ? run() : model.withHooks([[input, interpolate]], run, flags);
      if (last) cache = res.cache;
      addScaled(grads, res.grads, receivers, steps);
      res.grads.dispose();
    }
    return { grads, cache: cache as ActivationCache };
  } catch (err) {
    tf.dispose([...grads.values()]);
    cache?.dispose();
    throw err;
  }
}

/**
 * Receiver gradients per sender, each averaged over points where only that sender's output is
 * interpolated from ablated to clean; plus the clean cache.
 */
function perSenderGradients(
  model: CircuitModel,
  graph: CircuitGraph,
  task: CircuitTask,
  metric: CircuitMetric,
  source: AblationSource,
  steps: number,
): { grads: Map<string, Map<string, tf.Tensor>>; cache: ActivationCache } {
  const { receivers, senderNodes, flags, diff } = gradientPlan(graph, metric);
  const clean = gradientsAtHooks(model, task.prompts, diff, [...new Set([...receivers, ...senderNodes.map((n) => senderSite(n).name)])], { ...flags, cacheActivations: true });
  const cache = clean.cache as ActivationCache;
  const out = new Map<string, Map<string, tf.Tensor>>();
  try {
    for (const node of senderNodes) {
      const site = senderSite(node);
      const acc = new Map<string, tf.Tensor>();
      out.set(node.id, acc);
      addScaled(acc, clean.grads, receivers, steps); // α = 1: the shared clean pass
      for (let k = 1; k < steps; k++) {
        const alpha = k / steps; // 0 = this sender ablated (excluded), 1 = clean (the shared clean pass)
        const interpolate = (x: tf.Tensor): tf.Tensor => tf.tidy(() => {
          const abl = source.valueFor(site.name, x);
          const mixed = tf.add(abl, tf.mul(tf.sub(x, abl), alpha));
          if (site.head === undefined) return mixed;
          const h = x.shape[2] as number;
          const onlyThis = tf.reshape(tf.oneHot(tf.tensor1d([site.head], 'int32'), h), [1, 1, h, 1]); // [1, 1, n_heads, 1]
          return tf.add(x, tf.mul(tf.sub(mixed, x), onlyThis));
        });
        const res = model.withHooks([[site.name, interpolate]], () => gradientsAtHooks(model, task.prompts, diff, receivers, flags), flags);
        addScaled(acc, res.grads, receivers, steps);
        res.grads.dispose();
      }
    }
    return { grads: out, cache };
  } catch (err) {
    for (const m of out.values()) tf.dispose([...m.values()]);
    cache.dispose();
    throw err;
  } finally {
    clean.grads.dispose();
  }
}

/** Score edges: sender delta row · receiver gradient, for the receivers in `grads` (and senders in `from`, if given). */
function scoreEdges(graph: CircuitGraph, grads: Map<string, tf.Tensor>, deltas: tf.Tensor2D, senderRow: Map<string, number>, out: Map<string, number>, from?: string): void {
  for (const [name, g] of grads) {
    const d = from === undefined ? deltas : tf.slice(deltas, [senderRow.get(from) as number, 0], [1, -1]);
    const m = tf.tidy(() => tf.matMul(d, rows(g, g.rank === 4), false, true)); // [n_senders | 1, n_heads | 1]
    const vals = m.arraySync() as number[][];
    m.dispose();
    if (from !== undefined) d.dispose();
    for (const e of graph.edges) {
      if (from !== undefined && e.from !== from) continue;
      const site = receiverSite(nodeById(graph, e.to), e.channel, graph.nLayers);
      if (site.name === name) out.set(e.id, vals[from === undefined ? (senderRow.get(e.from) as number) : 0]?.[site.head ?? 0] as number);
    }
  }
}

/**
 * EAP score of every edge: estimated metric change when the edge alone is ablated. With
 * `igSteps` > 1 the gradients are averaged over inputs interpolated from the ablated to the clean
 * input embedding (EAP-IG, Hanna et al. 2024), which helps where attention saturates.
 * @param model The model.
 * @param graph Its graph.
 * @param task The task (clean prompts are differentiated).
 * @param metric The metric.
 * @param source Ablated sender outputs ({@link createSenderAblation}).
 * @param igSteps Gradient points (default 1: plain EAP at the clean input).
 * @param igTarget What the IG points interpolate: 'input' (default) or 'senders' (see {@link EapOptions.igTarget}).
 * @returns Edge id → score (metric(edge ablated) − metric(full), first order).
 * @throws {@link "tfjs-lens"!ConfigError} for igSteps < 1 or an unknown igTarget; errors of {@link gradientsAtHooks}.
 * @example const scores = eapScores(model, graph, task, logitDiffCircuitMetric(task), src, 5);
 * @category Circuits
 */
export function eapScores(
  model: CircuitModel,
  graph: CircuitGraph,
  task: CircuitTask,
  metric: CircuitMetric,
  source: AblationSource,
  igSteps = 1,
  igTarget: 'input' | 'senders' = 'input',
): Map<string, number> {
  if (!Number.isInteger(igSteps) || igSteps < 1) throw new ConfigError(`eapScores: igSteps must be a positive integer, got ${igSteps}`);
  if (igTarget !== 'input' && igTarget !== 'senders') throw new ConfigError(`eapScores: igTarget must be 'input' or 'senders', got '${String(igTarget)}'`);
  const perSender = igTarget === 'senders' && igSteps > 1;
  const g = perSender ? perSenderGradients(model, graph, task, metric, source, igSteps) : undefined;
  const a = perSender ? undefined : averagedGradients(model, graph, task, metric, source, igSteps);
  const cache = (g ?? a)?.cache as ActivationCache;
  const out = new Map<string, number>();
  let deltas: tf.Tensor2D | undefined;
  try {
    const sd = senderDeltas(graph, cache, source);
    deltas = sd.deltas;
    const senderRow = new Map(sd.ids.map((id, i) => [id, i]));
    if (g !== undefined) for (const [from, m] of g.grads) scoreEdges(graph, m, deltas, senderRow, out, from);
    else scoreEdges(graph, (a as { grads: Map<string, tf.Tensor> }).grads, deltas, senderRow, out);
    return out;
  } finally {
    deltas?.dispose();
    if (g !== undefined) for (const m of g.grads.values()) tf.dispose([...m.values()]);
    if (a !== undefined) tf.dispose([...a.grads.values()]);
    cache.dispose();
  }
}

/**
 * Faithfulness of an edge circuit: the metric with every other edge ablated, over the full model's.
 * @param model The model.
 * @param graph Its graph.
 * @param task The task.
 * @param kept Edge ids in the circuit.
 * @param source Ablated sender outputs.
 * @param metric The metric.
 * @returns The faithfulness record (3 forward passes).
 * @throws {@link "tfjs-lens"!ConfigError} for unknown edge ids.
 * @example edgeFaithfulness(model, graph, task, res.edges, src, logitDiffCircuitMetric(task)).ratio
 * @category Circuits
 */
export function edgeFaithfulness(
  model: CircuitModel,
  graph: CircuitGraph,
  task: CircuitTask,
  kept: readonly string[],
  source: AblationSource,
  metric: CircuitMetric,
): Faithfulness {
  const keep = new Set(kept);
  const run = (removed: Set<string>): number => edgeCircuitMetric(model, graph, task.prompts, metric, removed, source);
  const all = new Set(graph.edges.map((e) => e.id));
  return faithfulnessOf(metric.name, run(new Set()), run(new Set([...all].filter((id) => !keep.has(id)))), run(all));
}

/**
 * Nodes touched by a set of edges, in graph order (input and logits always included).
 * @param graph The graph.
 * @param edgeIds Edge ids.
 * @returns Node ids.
 * @throws Never.
 * @example edgeNodes(graph, ['a0.1->a1.2<k>'])  // ['input', 'a0.1', 'a1.2', 'logits']
 * @category Circuits
 */
export function edgeNodes(graph: CircuitGraph, edgeIds: readonly string[]): string[] {
  const ids = new Set(['input', 'logits']);
  const set = new Set(edgeIds);
  for (const e of graph.edges) if (set.has(e.id)) ids.add(e.from).add(e.to);
  return graph.nodes.filter((n) => ids.has(n.id)).map((n) => n.id);
}

/**
 * Edge Attribution Patching: score every edge from one backward pass, then build a connected circuit
 * from the scores (EAP-IG's greedy selection from the logits up, with the missing input links added:
 * {@link greedyConnectedEdges}) and evaluate faithfulness at sizes on a log-ish grid. The reported
 * size is `topN` (greedy picks), or the picks whose |score| ≥ `threshold`, or by default the smallest
 * size on the curve whose faithfulness reaches `targetFaithfulness` (0.8).
 * @param model The model.
 * @param opts Task fields, `topN` or `threshold` (optional), `selection` ('greedy' default, or
 *   'topn'), `targetFaithfulness`, `metric` (default 'logit_diff'), `ablationType` (default resample
 *   with corrupted prompts, else mean), `igSteps`, `igTarget`.
 * @returns The circuit: selected edges (every one on an input → logits path), every edge's score
 *   (`edgeScores`), faithfulness, the faithfulness-vs-size curve and how the size was chosen.
 * @throws {@link "tfjs-lens"!ConfigError} for a malformed task, a KL metric (its gradient vanishes on the clean
 *   run), a topN outside [1, edges] or an unknown selection.
 * @example const res = edgeAttributionPatching(model, { ...inductionTask(), igSteps: 5 });
 * @category Circuits
 */
export function edgeAttributionPatching(model: CircuitModel, opts: EapOptions): CircuitResult {
  if (opts.metric === 'kl') throw new ConfigError('edgeAttributionPatching: the KL metric has zero gradient on the clean run; use logit_diff or logprob');
  const selection = opts.selection ?? 'greedy';
  if (selection !== 'greedy' && selection !== 'topn') throw new ConfigError(`edgeAttributionPatching: selection must be 'greedy' or 'topn', got '${String(selection)}'`);
  const target = targetOf(opts, 'edgeAttributionPatching');
  const { task, ablation } = searchTask(opts);
  validateTask(task, model.cfg, 'edgeAttributionPatching');
  const graph = buildCircuitGraph(model.cfg);
  if (opts.topN !== undefined && !(Number.isInteger(opts.topN) && opts.topN >= 1 && opts.topN <= graph.edges.length)) {
    throw new ConfigError(`edgeAttributionPatching: topN must be an integer in [1, ${graph.edges.length}], got ${opts.topN}`);
  }
  const { metric, owned } = resolveMetric(model, task, opts.metric ?? 'logit_diff');
  const faith = resolveMetric(model, task, opts.faithfulnessMetric ?? 'logit_diff');
  const source = createSenderAblation(model, graph, task, ablation, { ...(opts.reference === undefined ? {} : { reference: opts.reference }) });
  try {
    const igSteps = opts.igSteps ?? 1;
    const scores = eapScores(model, graph, task, metric, source, igSteps, opts.igTarget ?? 'input');
    const pick = (n: number): string[] => (selection === 'greedy' ? greedyConnectedEdges(graph, scores, n) : topNConnectedEdges(graph, scores, n));
    const removedFor = (kept: readonly string[]): Set<string> => {
      const k = new Set(kept);
      return new Set(graph.edges.filter((e) => !k.has(e.id)).map((e) => e.id));
    };
    const run = (m: CircuitMetric, kept: readonly string[]): number => edgeCircuitMetric(model, graph, task.prompts, m, removedFor(kept), source);
    const fullFaith = run(faith.metric, graph.edges.map((e) => e.id));
    const curve = edgeSizeCurve(graph, pick, (kept) => run(faith.metric, kept), fullFaith, target);
    const aboveThreshold = graph.edges.filter((e) => Math.abs(scores.get(e.id) ?? 0) >= (opts.threshold ?? Infinity)).length;
    const n = opts.topN ?? (opts.threshold !== undefined ? Math.max(1, aboveThreshold) : (curve.smallest ?? graph.edges.length));
    const rule = opts.topN !== undefined ? 'topN' : opts.threshold !== undefined ? 'threshold' : 'target';
    const edges = pick(n);
    const faithfulness = faithfulnessOf(faith.metric.name, fullFaith, run(faith.metric, edges), run(faith.metric, []));
    const sameMetric = faith.metric.name === metric.name;
    const circuit = sameMetric ? faithfulness.circuit : run(metric, edges);
    const full = sameMetric ? faithfulness.full : run(metric, graph.edges.map((e) => e.id));
    const gradientPasses = opts.igTarget === 'senders' && igSteps > 1 ? 1 + graph.nodes.filter((x) => x.kind !== 'logits').length * (igSteps - 1) : igSteps;
    return {
      method: 'eap',
      level: 'edge',
      ablation,
      metric: { name: metric.name, higherIsBetter: metric.higherIsBetter, threshold: opts.threshold, full, circuit },
      faithfulness,
      nodes: edgeNodes(graph, edges),
      edges,
      nodeScores: {},
      edgeScores: Object.fromEntries(graph.edges.map((e) => [e.id, scores.get(e.id) ?? 0])),
      trajectory: [],
      forwardPasses: 1 + gradientPasses + curve.passes + 3 + (sameMetric ? 0 : 2),
      curve: curve.curve,
      selection: sizeSelection(rule, target, faithfulness.ratio, `${selection} selection, ${n} pick${n === 1 ? '' : 's'} → ${edges.length} connected edges`),
    };
  } finally {
    source.dispose();
    if (owned) metric.dispose?.();
    if (faith.owned) faith.metric.dispose?.();
  }
}
