/**
 * Circuit graphs over the residual stream of a pre-LN decoder, as ACDC (Conmy et al. 2023,
 * `TLACDCCorrespondence`) and EAP (Syed et al. 2023) define them: senders are the input (token +
 * positional embedding), every attention head (`attn.hook_result`) and every MLP (`hook_mlp_out`);
 * receivers are each head's query/key/value input (`hook_q_input`/`hook_k_input`/`hook_v_input`),
 * each MLP input (`hook_mlp_in`) and the logits (the final residual, before `ln_final`). With
 * parallel attention and MLP (GPT-NeoX/Pythia) a layer's MLP sits in its heads' column: both read
 * resid_pre, so no edge joins them.
 */
import { ConfigError } from '../errors.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { ModelConfig } from '../model/config.js';

/** Kinds of circuit nodes. @category Circuits */
export type NodeKind = 'input' | 'head' | 'mlp' | 'logits';

/** Which input of an attention head an edge feeds. @category Circuits */
export type Channel = 'q' | 'k' | 'v';

/** The three head inputs, in the order ACDC visits them. @category Circuits */
export const CHANNELS: readonly Channel[] = ['q', 'k', 'v'];

/** One node of the graph. @category Circuits */
export interface CircuitNode {
  /** 'input', 'a{layer}.{head}', 'm{layer}' or 'logits'. */
  readonly id: string;
  /** What the node is. */
  readonly kind: NodeKind;
  /** Layer index; -1 for the input, n_layers for the logits. */
  readonly layer: number;
  /** Head index (heads only). */
  readonly head?: number;
  /** Topological column: input 0, heads of layer l at 2l+1, MLP l at 2l+2 (2l+1 with parallel attention and MLP), logits last. */
  readonly column: number;
}

/** One edge u → v: u's output as it enters one input of v. @category Circuits */
export interface CircuitEdge {
  /** 'from->to' or 'from->to<q|k|v>' for edges into heads, e.g. 'a0.1->a1.2<k>'. */
  readonly id: string;
  /** Sender node id. */
  readonly from: string;
  /** Receiver node id. */
  readonly to: string;
  /** Head input fed (edges into heads only). */
  readonly channel?: Channel;
}

/** The full graph of a model. @category Circuits */
export interface CircuitGraph {
  /** Number of layers. */
  readonly nLayers: number;
  /** Heads per layer. */
  readonly nHeads: number;
  /** Whether the blocks have MLPs. */
  readonly hasMlp: boolean;
  /** Nodes in topological order. */
  readonly nodes: readonly CircuitNode[];
  /** Every edge, grouped by receiver (topological order), senders in topological order. */
  readonly edges: readonly CircuitEdge[];
}

/** A hook and, for per-head hooks, the head index it is read or written at. @category Circuits */
export interface HookSite {
  /** Full hook name. */
  readonly name: string;
  /** Head index on the `n_heads` axis (axis 2), for per-head hooks. */
  readonly head?: number;
}

/**
 * Id of head `h` in layer `l`.
 * @param layer Layer index.
 * @param head Head index.
 * @returns 'a{layer}.{head}'.
 * @throws Never.
 * @example headId(1, 2)  // 'a1.2'
 * @category Circuits
 */
function headId(layer: number, head: number): string {
  return `a${layer}.${head}`;
}

/**
 * Id of the MLP of layer `l`.
 * @param layer Layer index.
 * @returns 'm{layer}'.
 * @throws Never.
 * @example mlpId(0)  // 'm0'
 * @category Circuits
 */
function mlpId(layer: number): string {
  return `m${layer}`;
}

/**
 * Id of an edge.
 * @param from Sender id.
 * @param to Receiver id.
 * @param channel Head input, for edges into heads.
 * @returns 'from->to' or 'from->to<channel>'.
 * @throws Never.
 * @example edgeId('a0.1', 'a1.2', 'k')  // 'a0.1->a1.2<k>'
 * @category Circuits
 */
export function edgeId(from: string, to: string, channel?: Channel): string {
  return channel === undefined ? `${from}->${to}` : `${from}->${to}<${channel}>`;
}

/**
 * Build the residual-stream graph of a decoder: every sender feeds every receiver in a later
 * column (heads of one layer feed that layer's MLP, not each other; with parallel attention and
 * MLP they do not feed it either).
 * @param cfg Layers, heads, whether the model is attention-only or parallel, and its key/value heads.
 * @returns Nodes and edges (for n_layers L, n_heads H with MLPs: 1 + L(H+1) senders).
 * @throws {@link "tfjs-lens"!ConfigError} for non-positive sizes, or a grouped-query-attention model (edge-level
 *   circuit discovery patches per-head k/v inputs, which such a model shares between query heads).
 * @example buildCircuitGraph({ nLayers: 2, nHeads: 4, attnOnly: true }).edges.length  // 81
 * @category Circuits
 */
export function buildCircuitGraph(cfg: Pick<ModelConfig, 'nLayers' | 'nHeads' | 'attnOnly' | 'nKeyValueHeads' | 'parallelAttnMlp'>): CircuitGraph {
  const { nLayers, nHeads } = cfg;
  if (cfg.nKeyValueHeads !== undefined && cfg.nKeyValueHeads !== nHeads) {
    // Receivers are per-head k/v inputs; with GQA a key/value input serves a group of query heads,
    // so removing an edge into one head's keys would remove it from the whole group.
    throw new ConfigError(
      `buildCircuitGraph: grouped-query attention (${nHeads} query heads, ${cfg.nKeyValueHeads} key/value heads) is not supported by ` +
        `edge-level circuit discovery (ACDC, EAP: its receivers are per-head k/v inputs); use node-level iterativePruning, or ` +
        `activation or attribution patching (tfjs-lens/patching) instead`,
    );
  }
  if (!(Number.isInteger(nLayers) && nLayers > 0 && Number.isInteger(nHeads) && nHeads > 0)) {
    throw new ConfigError(`buildCircuitGraph: nLayers and nHeads must be positive integers, got ${nLayers}, ${nHeads}`);
  }
  const hasMlp = !cfg.attnOnly;
  const nodes: CircuitNode[] = [{ id: 'input', kind: 'input', layer: -1, column: 0 }];
  for (let l = 0; l < nLayers; l++) {
    for (let h = 0; h < nHeads; h++) nodes.push({ id: headId(l, h), kind: 'head', layer: l, head: h, column: 2 * l + 1 });
    // Parallel attention and MLP: the MLP reads resid_pre, as the heads do (same column, no edges between them).
    if (hasMlp) nodes.push({ id: mlpId(l), kind: 'mlp', layer: l, column: 2 * l + (cfg.parallelAttnMlp === true ? 1 : 2) });
  }
  nodes.push({ id: 'logits', kind: 'logits', layer: nLayers, column: 2 * nLayers + 1 });
  const edges: CircuitEdge[] = [];
  for (const v of nodes) {
    if (v.kind === 'input') continue;
    const senders = nodes.filter((u) => u.kind !== 'logits' && u.column < v.column);
    const channels: readonly (Channel | undefined)[] = v.kind === 'head' ? CHANNELS : [undefined];
    for (const ch of channels) {
      for (const u of senders) edges.push({ id: edgeId(u.id, v.id, ch), from: u.id, to: v.id, ...(ch === undefined ? {} : { channel: ch }) });
    }
  }
  return { nLayers, nHeads, hasMlp, nodes, edges };
}

/**
 * Hook flags an edge-level run needs: split q/k/v inputs, per-head results and MLP inputs.
 * @param graph The graph (MLP inputs only when the blocks have MLPs).
 * @returns Flags to pass per call.
 * @throws Never.
 * @example circuitFlags(graph)  // { useSplitQkvInput: true, useAttnResult: true, useHookMlpIn: false }
 * @category Circuits
 */
export function circuitFlags(graph: Pick<CircuitGraph, 'hasMlp'>): HookFlags {
  return { useSplitQkvInput: true, useAttnResult: true, useHookMlpIn: graph.hasMlp };
}

/**
 * Where a sender's output is read: `blocks.0.hook_resid_pre` (= embed + pos_embed) for the input,
 * `attn.hook_result` at the head for heads, `hook_mlp_out` for MLPs.
 * @param node A sender node.
 * @returns The hook site.
 * @throws {@link "tfjs-lens"!ConfigError} for the logits node.
 * @example senderSite({ id: 'a0.1', kind: 'head', layer: 0, head: 1, column: 1 })  // blocks.0.attn.hook_result, head 1
 * @category Circuits
 */
export function senderSite(node: CircuitNode): HookSite {
  switch (node.kind) {
    case 'input':
      return { name: 'blocks.0.hook_resid_pre' };
    case 'head':
      return { name: `blocks.${node.layer}.attn.hook_result`, head: node.head as number };
    case 'mlp':
      return { name: `blocks.${node.layer}.hook_mlp_out` };
    default:
      throw new ConfigError(`senderSite: '${node.id}' is not a sender`);
  }
}

/**
 * Where a receiver's input is written: `hook_{q,k,v}_input` at the head, `hook_mlp_in`, or the
 * final residual `blocks.{L-1}.hook_resid_post` for the logits.
 * @param node A receiver node.
 * @param channel Head input (heads only).
 * @param nLayers Number of layers.
 * @returns The hook site.
 * @throws {@link "tfjs-lens"!ConfigError} for the input node or a head without a channel.
 * @example receiverSite(node, 'k', 2)  // blocks.1.hook_k_input, head 2 (for node a1.2)
 * @category Circuits
 */
export function receiverSite(node: CircuitNode, channel: Channel | undefined, nLayers: number): HookSite {
  if (node.kind === 'head') {
    if (channel === undefined) throw new ConfigError(`receiverSite: head '${node.id}' needs a channel (q, k or v)`);
    return { name: `blocks.${node.layer}.hook_${channel}_input`, head: node.head as number };
  }
  if (node.kind === 'mlp') return { name: `blocks.${node.layer}.hook_mlp_in` };
  if (node.kind === 'logits') return { name: `blocks.${nLayers - 1}.hook_resid_post` };
  throw new ConfigError(`receiverSite: '${node.id}' is not a receiver`);
}

/**
 * Look a node up by id.
 * @param graph The graph.
 * @param id Node id.
 * @returns The node.
 * @throws {@link "tfjs-lens"!ConfigError} naming the id when it is not in the graph.
 * @example nodeById(graph, 'a1.2').head  // 2
 * @category Circuits
 */
export function nodeById(graph: CircuitGraph, id: string): CircuitNode {
  const n = graph.nodes.find((x) => x.id === id);
  if (n === undefined) throw new ConfigError(`nodeById: no node '${id}' in a ${graph.nLayers}-layer, ${graph.nHeads}-head graph`);
  return n;
}

/**
 * Keep only edges on some input → logits path of the given edge set (drop edges into nodes that
 * reach no output, and out of nodes no kept edge reaches), as EAP-IG's `Graph.prune`.
 * @param graph The graph.
 * @param edgeIds Selected edge ids.
 * @returns The connected subset, in graph order.
 * @throws Never.
 * @example connectedEdges(graph, ['input->a0.0<v>', 'a0.0->logits', 'a0.1->logits'])  // drops a0.1->logits
 * @category Circuits
 */
export function connectedEdges(graph: CircuitGraph, edgeIds: Iterable<string>): string[] {
  const chosen = new Set(edgeIds);
  const edges = graph.edges.filter((e) => chosen.has(e.id));
  const reachesOut = new Set<string>(['logits']);
  for (const v of [...graph.nodes].reverse()) {
    if (edges.some((e) => e.from === v.id && reachesOut.has(e.to))) reachesOut.add(v.id);
  }
  const reachedIn = new Set<string>(['input']);
  for (const v of graph.nodes) {
    if (edges.some((e) => e.to === v.id && reachedIn.has(e.from))) reachedIn.add(v.id);
  }
  return edges.filter((e) => reachedIn.has(e.from) && reachesOut.has(e.to)).map((e) => e.id);
}
