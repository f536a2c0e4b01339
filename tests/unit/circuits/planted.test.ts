/**
 * On a hand-built model whose only working path is input → a0.0(v) → m0 → a1.1(v) → logits, node
 * pruning, EAP and ACDC each return exactly that path, and its circuit is fully faithful.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { acdc } from '../../../src/circuits/acdc.js';
import { edgeAttributionPatching } from '../../../src/circuits/eap.js';
import { plantedCircuitModel, type PlantedCircuit } from '../../../src/circuits/planted.js';
import { buildCircuitGraph } from '../../../src/circuits/graph.js';
import { iterativePruning } from '../../../src/circuits/prune.js';
import { logitsAtPositions } from '../../../src/circuits/run.js';
import { connectEdges } from '../../../src/circuits/selection.js';

let planted: PlantedCircuit;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  planted = plantedCircuitModel();
});
afterAll(() => planted?.model.dispose());

describe('planted circuit', () => {
  it('the model answers with the repeated token (logit difference > 5)', () => {
    const { model, task } = planted;
    const logits = logitsAtPositions(model, task.prompts, task.answerPositions, [], {});
    const rows = logits.arraySync() as number[][][];
    logits.dispose();
    rows.forEach((r, b) => {
      const row = r[0] as number[];
      const answer = task.answerTokens[b]?.[0] as number;
      expect(row.indexOf(Math.max(...row))).toBe(answer);
      expect((row[answer] as number) - (row[task.wrongTokens?.[b]?.[0] as number] as number)).toBeGreaterThan(5);
    });
  });

  it('iterative pruning keeps exactly the path nodes (resample and mean ablation)', () => {
    for (const ablationType of ['resample', 'mean'] as const) {
      const res = iterativePruning(planted.model, { ...planted.task, threshold: 0.5, ablationType, quiet: true });
      expect(res.nodes, ablationType).toEqual(planted.path.nodes);
      expect(res.faithfulness.ratio).toBeCloseTo(1, 5);
      expect(res.trajectory.map((s) => s.target).sort()).toEqual(['a0.1', 'a1.0', 'm1']);
    }
  });

  it('EAP ranks the path edges first and its threshold circuit is exactly the path', () => {
    const res = edgeAttributionPatching(planted.model, { ...planted.task, threshold: 0.5 });
    // Connected circuits ('channel' closure): the path plus the input links of its heads' other inputs (q, k).
    expect(res.edges).toEqual(connectEdges(buildCircuitGraph(planted.model.cfg), planted.path.edges, res.edgeScores));
    expect(res.edges.filter((e) => !planted.path.edges.includes(e)).every((e) => e.startsWith('input->'))).toBe(true);
    const ranked = Object.entries(res.edgeScores).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).map(([id]) => id);
    expect(new Set(ranked.slice(0, 4))).toEqual(new Set(planted.path.edges));
    expect(res.faithfulness.ratio).toBeCloseTo(1, 5);
  });

  it('ACDC (KL, resample) keeps exactly the path edges', () => {
    const res = acdc(planted.model, { ...planted.task, threshold: 0.05, quiet: true });
    // Connected circuits ('channel' closure): the path plus the input links of its heads' other inputs (q, k).
    expect(res.edges).toEqual(connectEdges(buildCircuitGraph(planted.model.cfg), planted.path.edges, res.edgeScores));
    expect(res.edges.filter((e) => !planted.path.edges.includes(e)).every((e) => e.startsWith('input->'))).toBe(true);
    expect(res.nodes).toEqual(planted.path.nodes);
    expect(res.metric.circuit).toBeLessThan(1e-4);
    expect(res.faithfulness.ratio).toBeCloseTo(1, 5);
    for (const e of planted.path.edges) expect(res.edgeScores[e]).toBeGreaterThan(1);
  });
});
