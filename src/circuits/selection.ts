/**
 * Connected circuits from edge scores. EAP-IG's greedy selection (hannamw/EAP-IG `src/eap/graph.py`,
 * `Graph.apply_greedy`, commit 795f560): start from the logits and repeatedly add the highest-|score|
 * edge whose receiver is already in the circuit, so every kept edge reaches the logits. EAP-IG then
 * calls `Graph.prune`, which DELETES nodes with no incoming edge, and with them the edges they send
 * (how a previous-token head whose input edges scored low fell out of our induction circuit, issue 17).
 * Here the missing link is ADDED instead ({@link connectEdges}): a sender no kept edge reaches gets
 * its best-scoring incoming edge from a node that the input reaches (the input feeds every node, so
 * one always exists), by default on each of a head's q, k and v inputs. The result: every kept edge
 * lies on an input → logits path.
 */
import { ConfigError } from '../errors.js';
import { CHANNELS, type Channel, type CircuitEdge, type CircuitGraph } from './graph.js';

/**
 * What "reached from the input" asks of a kept attention head: 'node' (EAP-IG's `Graph.prune`: an
 * incoming edge on any of q, k, v) or 'channel' (an incoming edge on each of q, k and v, since the
 * head's output depends on all three; the default). @category Circuits
 */
export type Closure = 'node' | 'channel';

/** Score lookup: edge id → score (|score| ranks; a missing edge scores 0). @category Circuits */
export type EdgeScores = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

function scoreOf(scores: EdgeScores, id: string): number {
  const v = scores instanceof Map ? (scores as ReadonlyMap<string, number>).get(id) : (scores as Readonly<Record<string, number>>)[id];
  return v === undefined || Number.isNaN(v) ? 0 : Math.abs(v);
}

/** Highest |score| first; ties in graph order (stable sort over graph order). */
function byScore(edges: readonly CircuitEdge[], scores: EdgeScores): CircuitEdge[] {
  return [...edges].sort((a, b) => scoreOf(scores, b.id) - scoreOf(scores, a.id));
}

/**
 * Add the edges that put every kept edge on an input → logits path: first, in reverse topological
 * order, a receiver whose output reaches no logits gets its best outgoing edge into a node that does
 * (the logits at worst); then, in topological order, a sender no kept edge from the input reaches
 * gets its best incoming edge from a node the input reaches (the input at worst) — with 'channel'
 * closure, one on each of a head's q, k and v inputs that lacks one. Edges are only added, never
 * removed (unlike EAP-IG's `Graph.prune`, which deletes dangling edges).
 * @param graph The graph.
 * @param edgeIds Selected edge ids.
 * @param scores Edge scores: the edge added for a node is its highest-|score| candidate.
 * @param closure 'channel' (default) or 'node' (see {@link Closure}).
 * @returns The connected superset, in graph order.
 * @throws {@link "tfjs-lens"!ConfigError} for an edge id not in the graph.
 * @example connectEdges(graph, ['a0.2->a1.1<k>', 'a1.1->logits'], scores)  // adds input->a0.2<q|k|v> and input->a1.1<…>
 * @category Circuits
 */
export function connectEdges(graph: CircuitGraph, edgeIds: Iterable<string>, scores: EdgeScores, closure: Closure = 'channel'): string[] {
  const known = new Set(graph.edges.map((e) => e.id));
  const kept = new Set<string>();
  for (const id of edgeIds) {
    if (!known.has(id)) throw new ConfigError(`connectEdges: no edge '${id}' in a ${graph.nLayers}-layer, ${graph.nHeads}-head graph`);
    kept.add(id);
  }
  const keptEdges = (): CircuitEdge[] => graph.edges.filter((e) => kept.has(e.id));
  // 1. Descendant side: receivers of kept edges must reach the logits.
  const reachesOut = new Set<string>(['logits']);
  for (const v of [...graph.nodes].reverse()) {
    if (v.kind === 'logits' || v.kind === 'input') continue;
    const out = keptEdges().filter((e) => e.from === v.id);
    if (out.some((e) => reachesOut.has(e.to))) {
      reachesOut.add(v.id);
      continue;
    }
    if (!keptEdges().some((e) => e.to === v.id)) continue; // not in the circuit
    const best = byScore(graph.edges.filter((e) => e.from === v.id && reachesOut.has(e.to)), scores)[0];
    if (best !== undefined) {
      kept.add(best.id);
      reachesOut.add(v.id);
    }
  }
  // 2. Ancestor side: senders of kept edges must be reached from the input ('channel': on each of
  //    a head's q, k and v inputs, since the head reads all three).
  const reachedIn = new Set<string>(['input']);
  for (const u of graph.nodes) {
    if (u.kind === 'input' || u.kind === 'logits') continue;
    if (!keptEdges().some((e) => e.from === u.id)) {
      if (keptEdges().some((e) => e.to === u.id && reachedIn.has(e.from))) reachedIn.add(u.id);
      continue; // not a sender of the circuit
    }
    const channels: readonly (Channel | undefined)[] = closure === 'channel' && u.kind === 'head' ? CHANNELS : [undefined];
    for (const ch of channels) {
      const into = graph.edges.filter((e) => e.to === u.id && (ch === undefined || e.channel === ch));
      if (into.some((e) => kept.has(e.id) && reachedIn.has(e.from))) continue;
      const best = byScore(into.filter((e) => reachedIn.has(e.from)), scores)[0];
      if (best !== undefined) kept.add(best.id);
    }
    reachedIn.add(u.id);
  }
  return graph.edges.filter((e) => kept.has(e.id)).map((e) => e.id);
}

/**
 * Whether every edge of a set lies on an input → logits path made of edges of the set.
 * @param graph The graph.
 * @param edgeIds Edge ids.
 * @returns True for a connected circuit (and for the empty set).
 * @throws Never.
 * @example isConnectedCircuit(graph, ['input->logits'])  // true
 * @category Circuits
 */
export function isConnectedCircuit(graph: CircuitGraph, edgeIds: Iterable<string>): boolean {
  const set = new Set(edgeIds);
  const edges = graph.edges.filter((e) => set.has(e.id));
  const reachesOut = new Set<string>(['logits']);
  for (const v of [...graph.nodes].reverse()) if (edges.some((e) => e.from === v.id && reachesOut.has(e.to))) reachesOut.add(v.id);
  const reachedIn = new Set<string>(['input']);
  for (const v of graph.nodes) if (edges.some((e) => e.to === v.id && reachedIn.has(e.from))) reachedIn.add(v.id);
  return edges.length === set.size && edges.every((e) => reachedIn.has(e.from) && reachesOut.has(e.to));
}

/**
 * EAP-IG's greedy selection (`Graph.apply_greedy`) followed by {@link connectEdges}: from the
 * logits up, take `n` times the highest-|score| edge whose receiver is in the circuit (its sender
 * joins the circuit, and the sender's incoming edges become candidates); then add, for each sender
 * the input does not reach, its best incoming edge. The result has `n` edges plus those links.
 * @param graph The graph.
 * @param scores Edge scores.
 * @param n Greedy picks (1 … number of edges).
 * @param closure Input links per head: 'channel' (default) or 'node' ({@link Closure}).
 * @returns Edge ids of the connected circuit, in graph order.
 * @throws {@link "tfjs-lens"!ConfigError} for n outside [1, edges].
 * @example greedyConnectedEdges(graph, res.edgeScores, 10)
 * @category Circuits
 */
export function greedyConnectedEdges(graph: CircuitGraph, scores: EdgeScores, n: number, closure: Closure = 'channel'): string[] {
  if (!Number.isInteger(n) || n < 1 || n > graph.edges.length) {
    throw new ConfigError(`greedyConnectedEdges: n must be an integer in [1, ${graph.edges.length}], got ${n}`);
  }
  const inCircuit = new Set<string>(['logits']);
  const kept = new Set<string>();
  for (let k = 0; k < n; k++) {
    // Candidates: edges not yet kept whose receiver is in the circuit (a sorted merge in EAP-IG; a scan here).
    const best = byScore(graph.edges.filter((e) => !kept.has(e.id) && inCircuit.has(e.to)), scores)[0];
    if (best === undefined) break;
    kept.add(best.id);
    inCircuit.add(best.from);
  }
  return connectEdges(graph, kept, scores, closure);
}

/**
 * Top-n edges by |score| (EAP-IG `Graph.apply_topn`), then {@link connectEdges} adds the links that
 * put every kept edge on an input → logits path.
 * @param graph The graph.
 * @param scores Edge scores.
 * @param n Edges taken by score (1 … number of edges).
 * @param closure Input links per head: 'channel' (default) or 'node' ({@link Closure}).
 * @returns Edge ids of the connected circuit, in graph order.
 * @throws {@link "tfjs-lens"!ConfigError} for n outside [1, edges].
 * @example topNConnectedEdges(graph, res.edgeScores, 16)
 * @category Circuits
 */
export function topNConnectedEdges(graph: CircuitGraph, scores: EdgeScores, n: number, closure: Closure = 'channel'): string[] {
  if (!Number.isInteger(n) || n < 1 || n > graph.edges.length) {
    throw new ConfigError(`topNConnectedEdges: n must be an integer in [1, ${graph.edges.length}], got ${n}`);
  }
  return connectEdges(graph, byScore(graph.edges, scores).slice(0, n).map((e) => e.id), scores, closure);
}

/**
 * Sizes at which a faithfulness curve is evaluated: every size up to 8, then steps of about ×1.25
 * (…, 10, 12, 16, 20, 24, 32, 40, 48, 64, …), always ending at `total`.
 * @param total Largest size (the number of edges of the graph).
 * @returns Increasing sizes in [1, total].
 * @throws Never.
 * @example curveSizes(81)  // [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 81]
 * @category Circuits
 */
export function curveSizes(total: number): number[] {
  const out: number[] = [];
  for (let s = 1; s <= Math.min(8, total); s++) out.push(s);
  for (let base = 8; base < total; base *= 2) {
    for (const m of [1.25, 1.5, 2]) {
      const s = Math.round(base * m);
      if (s < total) out.push(s);
    }
  }
  if (out[out.length - 1] !== total && total >= 1) out.push(total);
  return [...new Set(out)].sort((a, b) => a - b);
}
