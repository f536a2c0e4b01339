/** The residual-stream graph: sizes, ids, hook sites, connected-edge pruning. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  buildCircuitGraph,
  circuitFlags,
  connectedEdges,
  edgeId,
  nodeById,
  receiverSite,
  senderSite,
} from '../../../src/circuits/graph.js';

describe('buildCircuitGraph', () => {
  it('counts nodes and edges of an attention-only and an MLP model', () => {
    const a = buildCircuitGraph({ nLayers: 2, nHeads: 4, attnOnly: true });
    // input + 8 heads + logits; edges: input→L0 qkv (12), (input + 4 L0 heads)→L1 qkv (60), 9 senders→logits.
    expect(a.nodes.map((n) => n.id)).toEqual(['input', 'a0.0', 'a0.1', 'a0.2', 'a0.3', 'a1.0', 'a1.1', 'a1.2', 'a1.3', 'logits']);
    expect(a.edges.length).toBe(12 + 60 + 9);
    const m = buildCircuitGraph({ nLayers: 2, nHeads: 2, attnOnly: false });
    // L0 heads: 6; m0: 3; L1 heads: 6 × 4 senders = 24; m1: 6; logits: 7 senders.
    expect(m.edges.length).toBe(6 + 3 + 24 + 6 + 7);
    expect(m.edges.map((e) => e.id)).toContain('a0.1->m0');
    expect(m.edges.map((e) => e.id)).not.toContain('a0.0->a0.1<q>');
    expect(circuitFlags(m)).toEqual({ useSplitQkvInput: true, useAttnResult: true, useHookMlpIn: true });
  });

  it('maps nodes to sender and receiver hook sites', () => {
    const g = buildCircuitGraph({ nLayers: 2, nHeads: 2, attnOnly: false });
    expect(senderSite(nodeById(g, 'input'))).toEqual({ name: 'blocks.0.hook_resid_pre' });
    expect(senderSite(nodeById(g, 'a1.1'))).toEqual({ name: 'blocks.1.attn.hook_result', head: 1 });
    expect(senderSite(nodeById(g, 'm0'))).toEqual({ name: 'blocks.0.hook_mlp_out' });
    expect(receiverSite(nodeById(g, 'a1.0'), 'k', 2)).toEqual({ name: 'blocks.1.hook_k_input', head: 0 });
    expect(receiverSite(nodeById(g, 'm1'), undefined, 2)).toEqual({ name: 'blocks.1.hook_mlp_in' });
    expect(receiverSite(nodeById(g, 'logits'), undefined, 2)).toEqual({ name: 'blocks.1.hook_resid_post' });
    expect(edgeId('a0.1', 'a1.0', 'k')).toBe('a0.1->a1.0<k>');
  });

  it('throws typed errors for bad sizes, ids and sites', () => {
    expect(() => buildCircuitGraph({ nLayers: 0, nHeads: 2, attnOnly: true })).toThrow(ConfigError);
    const g = buildCircuitGraph({ nLayers: 1, nHeads: 1, attnOnly: true });
    expect(() => nodeById(g, 'a3.3')).toThrow(/nodeById: no node 'a3.3'/);
    expect(() => senderSite(nodeById(g, 'logits'))).toThrow(/senderSite: 'logits' is not a sender/);
    expect(() => receiverSite(nodeById(g, 'a0.0'), undefined, 1)).toThrow(/needs a channel/);
    expect(() => receiverSite(nodeById(g, 'input'), undefined, 1)).toThrow(ConfigError);
  });

  it('connectedEdges keeps only edges on an input → logits path', () => {
    const g = buildCircuitGraph({ nLayers: 2, nHeads: 2, attnOnly: true });
    const kept = connectedEdges(g, ['input->a0.0<v>', 'a0.0->a1.1<k>', 'a1.1->logits', 'a0.1->logits', 'input->a1.0<q>']);
    // a0.1 has no input edge; a1.0 reaches no output.
    expect(kept).toEqual(['input->a0.0<v>', 'a0.0->a1.1<k>', 'a1.1->logits']);
  });
});
