/**
 * Determinism (same seed, same result, bit for bit) and memory: a full ACDC run, EAP and pruning
 * leave the tensor count unchanged; the building blocks free what they create.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { acdc } from '../../../src/circuits/acdc.js';
import { edgeAttributionPatching } from '../../../src/circuits/eap.js';
import { createSenderAblation, edgeCircuitMetric } from '../../../src/circuits/edge_patch.js';
import { buildCircuitGraph } from '../../../src/circuits/graph.js';
import { logitDiffCircuitMetric } from '../../../src/circuits/metrics.js';
import { plantedCircuitModel, type PlantedCircuit } from '../../../src/circuits/planted.js';
import { iterativePruning } from '../../../src/circuits/prune.js';
import { connectEdges } from '../../../src/circuits/selection.js';
import { inductionTask } from '../../../src/circuits/task.js';
import { expectNoLeak } from '../../helpers/memory.js';

let planted: PlantedCircuit;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  planted = plantedCircuitModel();
});
afterAll(() => planted?.model.dispose());

describe('determinism', () => {
  it('inductionTask is a function of its seed', () => {
    expect(inductionTask({ batch: 3, seed: 7 })).toEqual(inductionTask({ batch: 3, seed: 7 }));
    expect(inductionTask({ batch: 3, seed: 7 }).prompts).not.toEqual(inductionTask({ batch: 3, seed: 8 }).prompts);
  });

  it('ACDC, EAP and pruning give identical results on a second run (mean ablation)', () => {
    const { model, task } = planted;
    const opts = { ...task, threshold: 0.05, ablationType: 'mean' as const, quiet: true };
    expect(acdc(model, opts)).toEqual(acdc(model, opts));
    expect(edgeAttributionPatching(model, { ...task, topN: 6 })).toEqual(edgeAttributionPatching(model, { ...task, topN: 6 }));
    expect(iterativePruning(model, { ...opts, threshold: 0.5 })).toEqual(iterativePruning(model, { ...opts, threshold: 0.5 }));
  });
});

describe('no tensor leaks', () => {
  it('a full ACDC run (KL metric, resample ablation) leaves the tensor count unchanged', () => {
    const { model, task } = planted;
    const res = expectNoLeak(() => acdc(model, { ...task, threshold: 0.05, quiet: true }));
    expect(res.forwardPasses).toBeGreaterThan(10);
  });

  it('EAP and pruning leave the tensor count unchanged', () => {
    const { model, task } = planted;
    expectNoLeak(() => edgeAttributionPatching(model, { ...task, threshold: 0.5 }));
    const ig = expectNoLeak(() => edgeAttributionPatching(model, { ...task, threshold: 0.5, igSteps: 3 })); // EAP-IG
    // Connected circuits ('channel' closure): the path plus the input links of its heads' other inputs (q, k).
    expect(ig.edges).toEqual(connectEdges(buildCircuitGraph(model.cfg), planted.path.edges, ig.edgeScores));
    expect(() => edgeAttributionPatching(model, { ...task, topN: 3, igSteps: 0 })).toThrow(/igSteps must be a positive integer/);
    expectNoLeak(() => iterativePruning(model, { ...task, threshold: 0.5, quiet: true }));
  });

  it('an edge-patched run frees its sender deltas, also when the metric throws', () => {
    const { model, task } = planted;
    const graph = buildCircuitGraph(model.cfg);
    const src = createSenderAblation(model, graph, task, 'resample');
    const metric = logitDiffCircuitMetric(task);
    const all = new Set(graph.edges.map((e) => e.id));
    expectNoLeak(() => edgeCircuitMetric(model, graph, task.prompts, metric, all, src));
    const bad = { ...metric, fn: () => { throw new RangeError('boom'); } };
    expectNoLeak(() => expect(() => edgeCircuitMetric(model, graph, task.prompts, bad, all, src)).toThrow('boom'));
    const before = tf.memory().numTensors;
    src.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    expect(model.hasHooks()).toBe(false);
  });
});
