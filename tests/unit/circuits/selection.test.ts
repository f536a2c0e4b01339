/** Connected circuits from edge scores: closure adds links, greedy from the logits, top-n, curve grid, size curve. */
import { describe, expect, it } from 'vitest';
import { edgeSizeCurve } from '../../../src/circuits/curve.js';
import { buildCircuitGraph } from '../../../src/circuits/graph.js';
import { smallestFaithful } from '../../../src/circuits/result.js';
import { connectEdges, curveSizes, greedyConnectedEdges, isConnectedCircuit, topNConnectedEdges } from '../../../src/circuits/selection.js';
import { ConfigError } from '../../../src/errors.js';

const g = buildCircuitGraph({ nLayers: 2, nHeads: 2, attnOnly: true });

describe('connected selection', () => {
  // The induction shape of issue 17: a0.1 → a1.0 (K) and a1.0 → logits score high, every edge into a0.1 scores ≈ 0.
  const scores: Record<string, number> = { 'a1.0->logits': -5, 'a0.1->a1.0<k>': -3, 'input->a1.0<q>': -2, 'input->a0.1<v>': 0.01, 'input->a0.1<q>': 0.002 };

  it('connectEdges adds the missing input links instead of dropping the dangling edge', () => {
    // 'node' closure (EAP-IG's notion of a connected node): one link, the best-scoring edge into a0.1.
    const node = connectEdges(g, ['a0.1->a1.0<k>', 'a1.0->logits'], scores, 'node');
    expect(node).toEqual(['input->a0.1<v>', 'a0.1->a1.0<k>', 'a1.0->logits']);
    expect(isConnectedCircuit(g, node)).toBe(true);
    // 'channel' closure (default): each of a0.1's and a1.0's q, k, v inputs gets its best link.
    const channel = connectEdges(g, ['a0.1->a1.0<k>', 'a1.0->logits'], scores);
    for (const id of ['input->a0.1<q>', 'input->a0.1<k>', 'input->a0.1<v>', 'input->a1.0<q>', 'input->a1.0<v>']) expect(channel).toContain(id);
    expect(channel).not.toContain('input->a1.0<k>'); // its k input is already reached (from a0.1)
    expect(isConnectedCircuit(g, channel)).toBe(true);
  });

  it('connectEdges adds an output link for a receiver that reaches no logits', () => {
    const kept = connectEdges(g, ['input->a0.0<q>'], { 'a0.0->logits': 1 }, 'node');
    expect(kept).toEqual(['input->a0.0<q>', 'a0.0->logits']);
    expect(isConnectedCircuit(g, kept)).toBe(true);
    expect(() => connectEdges(g, ['nope'], {})).toThrow(ConfigError);
  });

  it('greedy keeps the previous-token head whose own input edges score ≈ 0', () => {
    const kept = greedyConnectedEdges(g, scores, 2, 'node');
    expect(kept).toEqual(['input->a0.1<v>', 'a0.1->a1.0<k>', 'a1.0->logits']);
    expect(greedyConnectedEdges(g, scores, 2)).toContain('a0.1->a1.0<k>');
    for (let n = 1; n <= g.edges.length; n += 7) expect(isConnectedCircuit(g, greedyConnectedEdges(g, scores, n))).toBe(true);
    expect(() => greedyConnectedEdges(g, scores, 0)).toThrow(/n must be an integer in \[1, \d+\]/);
  });

  it('top-n with closure is connected and contains the top-n edges', () => {
    const kept = topNConnectedEdges(g, scores, 3);
    for (const id of ['a1.0->logits', 'a0.1->a1.0<k>', 'input->a1.0<q>']) expect(kept).toContain(id);
    expect(isConnectedCircuit(g, kept)).toBe(true);
  });

  it('isConnectedCircuit rejects dangling edges and unknown ids', () => {
    expect(isConnectedCircuit(g, ['a0.1->a1.0<k>', 'a1.0->logits'])).toBe(false);
    expect(isConnectedCircuit(g, ['input->logits', 'x->y'])).toBe(false);
    expect(isConnectedCircuit(g, [])).toBe(true);
  });
});

describe('faithfulness curves', () => {
  it('curveSizes is a log-ish grid ending at the total', () => {
    expect(curveSizes(81)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 81]);
    expect(curveSizes(3)).toEqual([1, 2, 3]);
  });

  it('edgeSizeCurve bisects to the smallest size reaching the target', () => {
    const n = g.edges.length;
    // A monotone toy: faithfulness = edges / total; target 0.5 is first reached at ceil(n / 2) edges.
    const pick = (k: number): string[] => g.edges.slice(0, k).map((e) => e.id);
    const res = edgeSizeCurve(g, pick, (edges) => edges.length / n, 1, 0.5);
    expect(res.smallest).toBe(Math.ceil(n / 2));
    expect(res.curve.map((p) => p.edges)).toEqual([...res.curve.map((p) => p.edges)].sort((a, b) => a - b));
    expect(smallestFaithful(res.curve, 0.5)?.edges).toBe(Math.ceil(n / 2));
    expect(res.passes).toBe(res.curve.length);
    expect(edgeSizeCurve(g, pick, () => 0, 1, 0.5).smallest).toBeUndefined();
  });
});
