/**
 * Faithfulness-vs-size curves of edge circuits (EAP-IG's `evaluate_graph` at several sizes, as the
 * EAP-IG paper's faithfulness plots; hannamw/EAP-IG `src/eap/evaluate.py`, commit 795f560, which
 * prunes dangling edges before it evaluates — here the circuits are already connected): evaluate
 * the circuit a selection rule gives at sizes on a log-ish grid ({@link curveSizes}), then bisect
 * between the last grid size below a faithfulness target and the first at or above it, so the
 * smallest size reaching the target is found to one edge (exact where faithfulness is monotone
 * between those two grid sizes).
 */
import type { CircuitGraph } from './graph.js';
import type { CurvePoint } from './result.js';
import { curveSizes } from './selection.js';

/** A curve and what it cost. @category Circuits */
export interface EdgeCurve {
  /** Points in increasing edge count (one per distinct edge set). */
  readonly curve: CurvePoint[];
  /** Smallest size parameter whose circuit reaches the target, if any. */
  readonly smallest: number | undefined;
  /** Forward passes spent (one per distinct edge set). */
  readonly passes: number;
}

/**
 * Evaluate a nested family of edge circuits on the size grid and bisect towards a target.
 * @param graph The graph (its edge count is the largest size).
 * @param select Size parameter n (1 … edges) → edge ids of the connected circuit.
 * @param evaluate Edge ids → metric of the circuit (everything else ablated; one forward pass).
 * @param full Metric of the full model (the ratio's denominator).
 * @param target Faithfulness target.
 * @returns The curve, the smallest n reaching the target, and the passes spent.
 * @throws Errors of `select` and `evaluate`.
 * @example const { curve, smallest } = edgeSizeCurve(graph, (n) => greedyConnectedEdges(graph, scores, n), run, full, 0.8);
 * @category Circuits
 */
export function edgeSizeCurve(
  graph: CircuitGraph,
  select: (n: number) => string[],
  evaluate: (edges: readonly string[]) => number,
  full: number,
  target: number,
): EdgeCurve {
  const seen = new Map<string, CurvePoint>();
  let passes = 0;
  const point = (n: number): CurvePoint => {
    const edges = select(n);
    const key = edges.join(',');
    const old = seen.get(key);
    if (old !== undefined) return old;
    const circuit = evaluate(edges);
    passes++;
    const nodes = new Set(['input', 'logits']);
    const set = new Set(edges);
    for (const e of graph.edges) if (set.has(e.id)) nodes.add(e.from).add(e.to);
    const p: CurvePoint = { edges: edges.length, nodes: nodes.size, parameter: n, circuit, ratio: circuit / full };
    seen.set(key, p);
    return p;
  };
  const ok = (p: CurvePoint): boolean => Number.isFinite(p.ratio) && p.ratio >= target;
  let lo = 0;
  let hi: number | undefined;
  for (const n of curveSizes(graph.edges.length)) {
    if (ok(point(n))) {
      hi ??= n;
    } else if (hi === undefined) lo = n;
  }
  if (hi !== undefined) {
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (ok(point(mid))) hi = mid;
      else lo = mid;
    }
  }
  const curve = [...seen.values()].sort((a, b) => a.edges - b.edges || a.parameter - b.parameter);
  return { curve, smallest: hi, passes };
}
