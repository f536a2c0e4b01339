/**
 * EAP-IG on sender activations (igTarget 'senders'): by the completeness of integrated gradients,
 * the scores of a sender's out-edges sum to the metric change when that sender is ablated for
 * every receiver (up to the Riemann error of the steps), which plain EAP only estimates to first
 * order. Also: the planted path is recovered, no tensor leaks, bad options are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { eapScores, edgeAttributionPatching } from '../../../src/circuits/eap.js';
import { createSenderAblation, edgeCircuitMetric } from '../../../src/circuits/edge_patch.js';
import { buildCircuitGraph } from '../../../src/circuits/graph.js';
import { logitDiffCircuitMetric } from '../../../src/circuits/metrics.js';
import { plantedCircuitModel, type PlantedCircuit } from '../../../src/circuits/planted.js';
import { connectEdges } from '../../../src/circuits/selection.js';
import { expectNoLeak } from '../../helpers/memory.js';

let planted: PlantedCircuit;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  planted = plantedCircuitModel();
});
afterAll(() => planted?.model.dispose());

describe('EAP-IG on sender activations', () => {
  it("a sender's edge scores sum to the metric change of ablating it (completeness), closer than plain EAP", () => {
    const { model, task } = planted;
    const graph = buildCircuitGraph(model.cfg);
    const src = createSenderAblation(model, graph, task, 'resample');
    const metric = logitDiffCircuitMetric(task);
    try {
      const full = edgeCircuitMetric(model, graph, task.prompts, metric, new Set(), src);
      const ig = expectNoLeak(() => eapScores(model, graph, task, metric, src, 40, 'senders'));
      const plain = eapScores(model, graph, task, metric, src, 1);
      let igErr = 0;
      let plainErr = 0;
      let checked = 0;
      for (const sender of graph.nodes.filter((n) => n.kind !== 'logits')) {
        const out = graph.edges.filter((e) => e.from === sender.id).map((e) => e.id);
        const truth = edgeCircuitMetric(model, graph, task.prompts, metric, new Set(out), src) - full;
        const sum = (s: Map<string, number>): number => out.reduce((a, id) => a + (s.get(id) ?? 0), 0);
        if (Math.abs(truth) < 1e-3) continue;
        checked++;
        igErr += Math.abs(sum(ig) - truth);
        plainErr += Math.abs(sum(plain) - truth);
        expect(Math.abs(sum(ig) - truth)).toBeLessThan(0.05 * Math.abs(truth) + 0.02);
      }
      expect(checked).toBeGreaterThan(0);
      expect(igErr).toBeLessThanOrEqual(plainErr + 1e-6);
    } finally {
      src.dispose();
    }
  });

  it('recovers the planted path, leaks nothing, refuses a bad igTarget', () => {
    const { model, task } = planted;
    const res = expectNoLeak(() => edgeAttributionPatching(model, { ...task, threshold: 0.5, igSteps: 4, igTarget: 'senders' }));
    // Connected circuits ('channel' closure): the path plus the input links of its heads' other inputs (q, k).
    expect(res.edges).toEqual(connectEdges(buildCircuitGraph(model.cfg), planted.path.edges, res.edgeScores));
    expect(() => edgeAttributionPatching(model, { ...task, topN: 3, igSteps: 2, igTarget: 'bogus' as 'input' })).toThrow(/igTarget must be 'input' or 'senders'/);
  });
});
