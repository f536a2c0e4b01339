/**
 * Ablation hooks (zero / mean / resample on heads, MLPs, residual positions), edge patching against
 * whole-run identities, metrics, and the typed errors of the circuit API.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { acdc } from '../../../src/circuits/acdc.js';
import { AblationSource, ablationHooks } from '../../../src/circuits/ablation.js';
import { edgeAttributionPatching } from '../../../src/circuits/eap.js';
import { createSenderAblation, edgeCircuitMetric } from '../../../src/circuits/edge_patch.js';
import { buildCircuitGraph } from '../../../src/circuits/graph.js';
import { klCircuitMetric, logitDiffCircuitMetric, metricDamage } from '../../../src/circuits/metrics.js';
import { plantedCircuitModel, type PlantedCircuit } from '../../../src/circuits/planted.js';
import { iterativePruning } from '../../../src/circuits/prune.js';
import { circuitMetricValue, logitsAtPositions, selectPositions } from '../../../src/circuits/run.js';
import { inductionTask, validateTask } from '../../../src/circuits/task.js';
import { ConfigError, DisposedError, ShapeError } from '../../../src/errors.js';
import { expectNoLeak } from '../../helpers/memory.js';

let planted: PlantedCircuit;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  planted = plantedCircuitModel();
});
afterAll(() => planted?.model.dispose());

/** Activation at a hook under some forward hooks. */
function capture(name: string, hooks: Parameters<typeof ablationHooks>[1], src: AblationSource, rows: number[][]): number[] {
  let out: number[] = [];
  planted.model.runWithHooks(rows, {
    returnType: 'none',
    fwdHooks: [...ablationHooks(src, hooks, planted.model.cfg), [name, (x) => { out = Array.from(x.dataSync()); }]],
  });
  return out;
}

describe('AblationSource and ablationHooks', () => {
  const zName = 'blocks.0.attn.hook_z';

  it('zero / mean / resample write the expected values into one head of hook_z, and nothing else', () => {
    const { model, task } = planted;
    const rows = task.prompts.map((r) => [...r]);
    const corrupted = (task.corrupted ?? []).map((r) => [...r]);
    const [, clean] = model.runWithCache(rows, { namesFilter: [zName], returnType: 'none' });
    const [, corr] = model.runWithCache(corrupted, { namesFilter: [zName], returnType: 'none' });
    const cleanZ = clean.get(zName).arraySync() as number[][][][]; // [batch, pos, n_heads, d_head]
    const corrZ = corr.get(zName).arraySync() as number[][][][];
    for (const type of ['zero', 'mean', 'resample'] as const) {
      const src = AblationSource.create(model, type, [zName], { batch: rows.length, reference: type === 'mean' ? rows : corrupted });
      const got = tf.tensor(capture(zName, [{ kind: 'head', layer: 0, head: 0 }], src, rows), clean.get(zName).shape).arraySync() as number[][][][];
      src.dispose();
      const meanZ = (p: number, d: number): number => cleanZ.reduce((a, r) => a + (r[p]?.[0]?.[d] ?? 0), 0) / rows.length;
      const want = (b: number, p: number, d: number): number =>
        type === 'zero' ? 0 : type === 'mean' ? meanZ(p, d) : (corrZ[b]?.[p]?.[0]?.[d] as number);
      expect(got[1]?.[2]?.[0]?.[3]).toBeCloseTo(want(1, 2, 3), 5);
      expect(got[5]?.[4]?.[0]?.[0]).toBeCloseTo(want(5, 4, 0), 5);
      expect(got[1]?.[2]?.[1]).toEqual(cleanZ[1]?.[2]?.[1]); // head 1 untouched
    }
    clean.dispose();
    corr.dispose();
    expect(model.hasHooks()).toBe(false);
  });

  it('MLP and residual-position targets; resample rows drawn with a seed when batches differ', () => {
    const { model, task } = planted;
    const rows = task.prompts.map((r) => [...r]);
    const names = ['blocks.0.hook_mlp_out', 'blocks.1.hook_resid_pre'];
    const src = AblationSource.create(model, 'zero', names, { batch: rows.length });
    expect(capture('blocks.0.hook_mlp_out', [{ kind: 'mlp', layer: 0 }], src, rows).every((v) => v === 0)).toBe(true);
    const resid = capture('blocks.1.hook_resid_pre', [{ kind: 'resid', layer: 1, pos: 2 }], src, rows);
    const d = model.cfg.dModel;
    const pos = rows[0]?.length as number;
    expect(resid.slice(2 * d, 3 * d).every((v) => v === 0)).toBe(true); // batch 0, pos 2
    expect(resid.slice(3 * d, 4 * d).some((v) => v !== 0)).toBe(true); // batch 0, pos 3
    expect(resid.slice((pos + 2) * d, (pos + 3) * d).every((v) => v === 0)).toBe(true); // batch 1, pos 2
    src.dispose();
    const ref = (task.corrupted ?? []).slice(0, 3).map((r) => [...r]);
    const a = AblationSource.create(model, 'resample', [names[0] as string], { batch: 8, reference: ref, seed: 3 });
    const b = AblationSource.create(model, 'resample', [names[0] as string], { batch: 8, reference: ref, seed: 3 });
    const x = tf.zeros([8, pos, d]);
    const [va, vb] = [a.valueFor(names[0] as string, x), b.valueFor(names[0] as string, x)];
    expect(Array.from(va.dataSync())).toEqual(Array.from(vb.dataSync()));
    tf.dispose([x, va, vb]);
    a.dispose();
    b.dispose();
  });

  it('frees what it creates and throws typed errors', () => {
    const { model, task } = planted;
    const rows = task.prompts.map((r) => [...r]);
    const src = expectNoLeak(() => AblationSource.create(model, 'mean', [zName], { batch: 8, reference: rows }), () => 1); // the per-position mean
    expectNoLeak(() => capture(zName, [{ kind: 'head', layer: 0, head: 1 }], src, rows));
    expect(() => ablationHooks(src, [{ kind: 'head', layer: 0, head: 5 }], model.cfg)).toThrow(/ablationHooks: no component/);
    tf.tidy(() => {
      expect(() => src.valueFor('blocks.1.attn.hook_z', tf.zeros([8, 6, 2, 8]))).toThrow(ConfigError);
      expect(() => src.valueFor(zName, tf.zeros([8, 5, 2, 8]))).toThrow(/same positions needed/);
      src.dispose();
      expect(() => src.valueFor(zName, tf.zeros([8, 6, 2, 8]))).toThrow(DisposedError);
    });
    expect(() => AblationSource.create(model, 'resample', [zName], { batch: 8 })).toThrow(/needs reference inputs/);
    expect(() => AblationSource.create(model, 'noise' as 'zero', [zName], { batch: 8 })).toThrow(/unknown ablation 'noise'/);
  });
});

describe('edge patching', () => {
  it('no edges removed = the model; every edge removed (resample) = the corrupted run', () => {
    const { model, task } = planted;
    const graph = buildCircuitGraph(model.cfg);
    const metric = logitDiffCircuitMetric(task);
    const src = createSenderAblation(model, graph, task, 'resample');
    const none = edgeCircuitMetric(model, graph, task.prompts, metric, new Set(), src);
    const all = edgeCircuitMetric(model, graph, task.prompts, metric, new Set(graph.edges.map((e) => e.id)), src);
    src.dispose();
    expect(none).toBeCloseTo(circuitMetricValue(model, task.prompts, metric, [], {}), 5);
    expect(all).toBeCloseTo(circuitMetricValue(model, task.corrupted ?? [], metric, [], {}), 4);
    expect(() => createSenderAblation(model, graph, { ...task, corrupted: undefined }, 'resample')).toThrow(/needs corrupted prompts/);
  });
});

describe('metrics and run helpers', () => {
  it('selectPositions, logitsAtPositions (= model logits), KL and damage', () => {
    const { model, task } = planted;
    const x = tf.tensor3d(Array.from({ length: 12 }, (_, i) => i), [1, 6, 2]);
    expect(Array.from(selectPositions(x, [1, 2, 4]).dataSync())).toEqual([2, 3, 4, 5, 8, 9]);
    const full = model.logits(task.prompts);
    const at = logitsAtPositions(model, task.prompts, [2, 5], [], {});
    const ref = selectPositions(full, [2, 5]);
    expect(tf.max(tf.abs(tf.sub(at, ref))).dataSync()[0]).toBeLessThan(1e-5);
    const kl = klCircuitMetric(at, [2, 5]);
    expect(kl.fn(at).dataSync()[0]).toBeCloseTo(0, 6);
    kl.dispose?.();
    expect(() => kl.fn(at)).toThrow(/disposed/);
    tf.dispose([x, full, at, ref]);
    expect(metricDamage({ higherIsBetter: true }, 10, 7)).toBe(3);
    expect(metricDamage({ higherIsBetter: false }, 0.1, 0.5)).toBeCloseTo(0.4, 12);
  });

  it('validates tasks and options with typed errors', () => {
    const { model, task } = planted;
    const t = inductionTask({ batch: 2, segLen: 4, low: 0, high: 8, bos: 0 });
    expect(validateTask(t, model.cfg, 'test')).toBe(9);
    expect(() => validateTask({ ...t, answerPositions: [9] }, model.cfg, 'test')).toThrow(/answer position 9 is outside \[0, 9\)/);
    expect(() => validateTask({ ...t, prompts: [[0, 99]] }, model.cfg, 'test')).toThrow(ShapeError);
    expect(() => validateTask({ ...t, prompts: [] }, model.cfg, 'test')).toThrow(/has no prompts/);
    expect(() => validateTask({ ...t, answerTokens: [[1]] }, model.cfg, 'test')).toThrow(/answerTokens has 1 rows/);
    expect(() => inductionTask({ segLen: 1 })).toThrow(ConfigError);
    expect(() => iterativePruning(model, { ...task, threshold: NaN })).toThrow(/threshold must be a finite number/);
    expect(() => acdc(model, { ...task, threshold: Infinity })).toThrow(ConfigError);
    expect(() => edgeAttributionPatching(model, { ...task, topN: 0 })).toThrow(/topN must be an integer in \[1, \d+\]/);
    expect(() => edgeAttributionPatching(model, { ...task, selection: 'best' as 'greedy' })).toThrow(/selection must be 'greedy' or 'topn'/);
    expect(() => iterativePruning(model, { ...task, targetFaithfulness: -1 })).toThrow(/targetFaithfulness must be a positive number/);
    expect(() => edgeAttributionPatching(model, { ...task, topN: 3, metric: 'kl' })).toThrow(/zero gradient/);
    expect(() => acdc(model, { ...task, threshold: 0.1, metric: 'l2' as 'kl' })).toThrow(/unknown metric 'l2'/);
  });
});
