/**
 * Node-level circuit discovery by iterative pruning: greedily ablate the attention head or MLP whose
 * ablation changes the metric least, while that change stays below a threshold (the node-level
 * analogue of ACDC, Conmy et al. 2023). Ablations are hooks on `attn.hook_z` (one head) and
 * `hook_mlp_out` ({@link ablationHooks}); the circuit's edges are all graph edges among kept nodes.
 */
import { ConfigError } from '../errors.js';
import { SweepProgress } from '../patching/progress.js';
import { AblationSource, ablationHooks, targetHookName, targetId, type AblationTarget } from './ablation.js';
import { buildCircuitGraph, type CircuitGraph } from './graph.js';
import { metricDamage, type CircuitMetric } from './metrics.js';
import {
  faithfulnessOf,
  searchTask,
  sizeSelection,
  smallestFaithful,
  targetOf,
  type CircuitResult,
  type CircuitSearchOptions,
  type CurvePoint,
  type Faithfulness,
  type SearchStep,
} from './result.js';
import { circuitMetricValue, resolveMetric, type CircuitModel } from './run.js';
import { validateTask, type CircuitTask } from './task.js';

/** Options of {@link iterativePruning}. @category Circuits */
export interface IterativePruningOptions extends CircuitSearchOptions {
  /**
   * Stop when the least damaging removal damages the metric by this much or more. Default: no
   * threshold; the removal order runs to the end and the reported circuit is the smallest along it
   * whose faithfulness reaches `targetFaithfulness`.
   */
  readonly threshold?: number;
  /** 'greedy' (default): each round removes the least damaging component (O(n²) passes);
   *  'reverse': one pass from the last layer back, removing each if below threshold (O(n)). */
  readonly strategy?: 'greedy' | 'reverse';
  /** Include MLPs as components (default true when the model has them). */
  readonly includeMlps?: boolean;
}

/**
 * Every head (and MLP) of a model as ablation targets, in forward order.
 * @param cfg Layers, heads, attention-only flag.
 * @param includeMlps Include MLPs (ignored for attention-only models).
 * @returns Targets.
 * @throws Never.
 * @example modelComponents(model.cfg)  // [{kind: 'head', layer: 0, head: 0}, …]
 * @category Circuits
 */
function modelComponents(cfg: { nLayers: number; nHeads: number; attnOnly: boolean }, includeMlps = true): AblationTarget[] {
  const out: AblationTarget[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    for (let h = 0; h < cfg.nHeads; h++) out.push({ kind: 'head', layer: l, head: h });
    if (!cfg.attnOnly && includeMlps) out.push({ kind: 'mlp', layer: l });
  }
  return out;
}

/**
 * A node source: ablation values for every head's hook_z and every MLP's output.
 * @param model The model.
 * @param task The task.
 * @param type Ablation type.
 * @param reference 'mean' reference batch (default: the prompts).
 * @returns The source (caller disposes).
 * @throws {@link "tfjs-lens"!ConfigError} for resample without corrupted prompts.
 * @example const src = createNodeAblation(model, task, 'mean');
 * @category Circuits
 */
function createNodeAblation(
  model: CircuitModel,
  task: CircuitTask,
  type: AblationSource['type'],
  reference?: readonly (readonly number[])[],
): AblationSource {
  if (type === 'resample' && task.corrupted === undefined) {
    throw new ConfigError(`createNodeAblation: resample ablation needs corrupted prompts; task '${task.name}' has none`);
  }
  const names = modelComponents(model.cfg).map(targetHookName);
  const ref = type === 'resample' ? task.corrupted : (reference ?? task.prompts);
  return AblationSource.create(model, type, names, { batch: task.prompts.length, ...(ref === undefined ? {} : { reference: ref }) });
}

/**
 * Faithfulness of a node circuit: the metric with every component outside `kept` ablated, over the
 * full model's, plus the empty circuit.
 * @param model The model.
 * @param task The task.
 * @param kept Components in the circuit.
 * @param source Node ablation values.
 * @param metric The metric.
 * @param all Every component that can be ablated (default: all heads and MLPs).
 * @returns The faithfulness record (3 forward passes).
 * @throws Errors of the forward pass.
 * @example nodeFaithfulness(model, task, kept, src, logitDiffCircuitMetric(task)).ratio
 * @category Circuits
 */
function nodeFaithfulness(
  model: CircuitModel,
  task: CircuitTask,
  kept: readonly AblationTarget[],
  source: AblationSource,
  metric: CircuitMetric,
  all: readonly AblationTarget[] = modelComponents(model.cfg),
): Faithfulness {
  const keptIds = new Set(kept.map(targetId));
  const run = (ablated: readonly AblationTarget[]): number =>
    circuitMetricValue(model, task.prompts, metric, ablationHooks(source, ablated, model.cfg), {});
  const full = run([]);
  const circuit = run(all.filter((c) => !keptIds.has(targetId(c))));
  return faithfulnessOf(metric.name, full, circuit, run(all));
}

interface PruneState {
  removed: AblationTarget[];
  kept: AblationTarget[];
  cur: number;
  passes: number;
  readonly steps: SearchStep[];
  readonly scores: Record<string, number>;
}

function pruneLoop(state: PruneState, opts: IterativePruningOptions, evalWith: (c: AblationTarget) => number, metric: CircuitMetric, progress: SweepProgress): void {
  const record = (c: AblationTarget, value: number, damage: number): void => {
    state.removed.push(c);
    state.kept = state.kept.filter((k) => targetId(k) !== targetId(c));
    state.cur = value;
    state.steps.push({ step: state.steps.length, target: targetId(c), action: 'remove', metric: value, damage });
  };
  if (opts.strategy === 'reverse') {
    for (const c of [...state.kept].reverse()) {
      const v = evalWith(c);
      const dmg = metricDamage(metric, state.cur, v);
      state.scores[targetId(c)] = dmg;
      progress.tick(1);
      if (dmg < (opts.threshold ?? Infinity)) record(c, v, dmg);
    }
    return;
  }
  for (let round = 0; state.kept.length > 0; round++) {
    let best: { c: AblationTarget; v: number; dmg: number } | undefined;
    for (const c of state.kept) {
      const v = evalWith(c);
      const dmg = metricDamage(metric, state.cur, v);
      if (round === 0) state.scores[targetId(c)] = dmg;
      if (best === undefined || dmg < best.dmg) best = { c, v, dmg };
      progress.tick(1);
    }
    if (best === undefined || !(best.dmg < (opts.threshold ?? Infinity))) return;
    record(best.c, best.v, best.dmg);
  }
}

/** The node circuit after the first `k` removals: kept components, node ids, edges among them. */
function nodeCircuit(graph: CircuitGraph, all: readonly AblationTarget[], removed: readonly AblationTarget[], k: number): { kept: AblationTarget[]; nodes: string[]; edges: string[] } {
  const gone = new Set(removed.slice(0, k).map(targetId));
  const keptIds = new Set(graph.nodes.filter((n) => !gone.has(n.id)).map((n) => n.id));
  return {
    kept: all.filter((c) => !gone.has(targetId(c))),
    nodes: [...keptIds],
    edges: graph.edges.filter((e) => keptIds.has(e.from) && keptIds.has(e.to)).map((e) => e.id),
  };
}

/**
 * Iterative (greedy) node pruning: starting from the full model, repeatedly ablate the head or MLP
 * whose ablation changes the metric least. Each removal gives a smaller circuit, so the removal
 * order is a faithfulness-vs-size curve; the reported circuit is where the least damaging removal
 * first costs `threshold` or more, or (default) the smallest along the order whose faithfulness
 * reaches `targetFaithfulness`. Node circuits are connected: the input feeds, and the logits read,
 * every kept node.
 * @param model The model.
 * @param opts Task fields (prompts, answer positions/tokens, corrupted prompts), `threshold`
 *   (optional), `targetFaithfulness`, `metric` (default 'logit_diff'), `ablationType` (default
 *   resample with corrupted prompts, else mean), `strategy`, `includeMlps`, progress options.
 * @returns The circuit: kept components as nodes, the edges among them, single-ablation damage per
 *   component (`nodeScores`), the metric trajectory, faithfulness, the curve along the removal order.
 * @throws {@link "tfjs-lens"!ConfigError}/{@link "tfjs-lens"!ShapeError} for a malformed task or a bad threshold.
 * @example
 * const res = iterativePruning(model, { ...inductionTask() });
 * res.nodes  // ['input', 'a0.2', 'a1.1', …, 'logits']
 * @category Circuits
 */
export function iterativePruning(model: CircuitModel, opts: IterativePruningOptions): CircuitResult {
  if (opts.threshold !== undefined && !Number.isFinite(opts.threshold)) throw new ConfigError(`iterativePruning: threshold must be a finite number, got ${opts.threshold}`);
  const target = targetOf(opts, 'iterativePruning');
  const { task, ablation } = searchTask(opts);
  validateTask(task, model.cfg, 'iterativePruning');
  const { metric, owned } = resolveMetric(model, task, opts.metric ?? 'logit_diff');
  const faith = resolveMetric(model, task, opts.faithfulnessMetric ?? 'logit_diff');
  const source = createNodeAblation(model, task, ablation, opts.reference);
  const all = modelComponents(model.cfg, opts.includeMlps ?? true);
  const total = opts.strategy === 'reverse' ? all.length : (all.length * (all.length + 1)) / 2;
  const progress = new SweepProgress('iterative pruning', total, opts);
  try {
    const runWith = (m: CircuitMetric, ablated: readonly AblationTarget[]): number =>
      circuitMetricValue(model, task.prompts, m, ablationHooks(source, ablated, model.cfg), {});
    const full = runWith(metric, []);
    const state: PruneState = { removed: [], kept: [...all], cur: full, passes: 1, steps: [], scores: {} };
    pruneLoop(state, opts, (c) => (state.passes++, runWith(metric, [...state.removed, c])), metric, progress);
    // Node pruning ablates hook_z per query head, so it works with grouped-query attention too; the
    // graph only names the nodes and the edges among kept ones, the same with or without GQA.
    const graph = buildCircuitGraph({ ...model.cfg, nKeyValueHeads: undefined });
    const sameMetric = faith.metric.name === metric.name;
    const fullFaith = sameMetric ? full : (state.passes++, runWith(faith.metric, []));
    const curve: CurvePoint[] = [];
    for (let k = 0; k <= state.removed.length; k++) {
      const c = nodeCircuit(graph, all, state.removed, k);
      const value = sameMetric ? (k === 0 ? full : (state.steps[k - 1] as SearchStep).metric) : (state.passes++, runWith(faith.metric, state.removed.slice(0, k)));
      curve.push({ edges: c.edges.length, nodes: c.nodes.length, parameter: k, circuit: value, ratio: value / fullFaith });
    }
    const chosen = opts.threshold !== undefined ? state.removed.length : (smallestFaithful(curve, target)?.parameter ?? 0);
    const c = nodeCircuit(graph, all, state.removed, chosen);
    const faithfulness = nodeFaithfulness(model, task, c.kept, source, faith.metric, all);
    return {
      method: 'prune',
      level: 'node',
      ablation,
      metric: { name: metric.name, higherIsBetter: metric.higherIsBetter, threshold: opts.threshold, full, circuit: chosen === 0 ? full : (state.steps[chosen - 1] as SearchStep).metric },
      faithfulness,
      nodes: c.nodes,
      edges: c.edges,
      nodeScores: state.scores,
      edgeScores: {},
      trajectory: state.steps,
      forwardPasses: state.passes + 3,
      curve: [...curve].reverse(),
      selection: sizeSelection(opts.threshold !== undefined ? 'threshold' : 'target', target, faithfulness.ratio, `${chosen} of ${all.length} components removed, ${c.nodes.length} nodes, ${c.edges.length} edges`),
    };
  } finally {
    progress.end();
    source.dispose();
    if (owned) metric.dispose?.();
    if (faith.owned) faith.metric.dispose?.();
  }
}
