/**
 * gradientsAtHooks against central finite differences at a few coordinates of several hooks, the
 * activations it can cache, its errors, and leaks. Attribution patching against a hand computation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, HookNameError } from '../../../src/errors.js';
import type { ActivationCache } from '../../../src/hooks/activation_cache.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { attributionHookNames, attributionPatch, attributionPatchMany } from '../../../src/patching/attribution.js';
import { metricValue } from '../../../src/patching/generic_patch.js';
import { gradientsAtHooks } from '../../../src/patching/gradients.js';
import { logitDiffMetric } from '../../../src/patching/metrics.js';
import { PATCH_PRESET_NAMES, PATCH_PRESETS } from '../../../src/patching/presets.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let model: HookedTransformer;
let clean: number[][];
let corrupted: number[][];
let cleanCache: ActivationCache;
const metric = logitDiffMetric(992, 870);

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  const ref = loadReference(FIXTURE);
  clean = refRows(ref, 'patching/clean_tokens');
  corrupted = refRows(ref, 'patching/corrupted_tokens');
  const [logits, c] = model.runWithCache(clean);
  (logits as tf.Tensor).dispose();
  cleanCache = c;
});
afterAll(() => {
  cleanCache?.dispose();
  model?.dispose();
});

/** Metric with `eps` added to one coordinate of the activation at `name`. */
function perturbed(name: string, at: number[], eps: number): number {
  return tf.tidy(() => {
    const logits = model.runWithHooks(corrupted, {
      fwdHooks: [
        [
          name,
          (x) => {
            const buf = x.bufferSync();
            buf.set((buf.get(...at) as number) + eps, ...at);
            return buf.toTensor();
          },
        ],
      ],
    }) as tf.Tensor3D;
    return metricValue(metric(logits), 'fd');
  });
}

describe('gradientsAtHooks', () => {
  // [hook, coordinate]: residual, head vector, pattern, MLP hidden, final LN scale.
  const COORDS: [string, number[]][] = [
    ['blocks.0.hook_resid_pre', [0, 3, 5]],
    ['blocks.0.hook_resid_pre', [1, 7, 40]],
    ['blocks.1.attn.hook_z', [0, 11, 2, 3]],
    ['blocks.0.attn.hook_pattern', [1, 2, 11, 4]],
    ['blocks.1.mlp.hook_post', [0, 11, 17]],
    ['blocks.0.attn.hook_q', [1, 9, 0, 1]],
  ];

  it('matches central finite differences (eps 1e-2, float32) at several coordinates', () => {
    const names = [...new Set(COORDS.map((c) => c[0]))];
    const { value, grads } = gradientsAtHooks(model, corrupted, metric, names);
    expect(Math.abs(value - perturbed(names[0] as string, [0, 0, 0], 0))).toBeLessThan(1e-6);
    for (const [name, at] of COORDS) {
      const eps = 1e-2;
      const fd = (perturbed(name, at, eps) - perturbed(name, at, -eps)) / (2 * eps);
      const g = grads.get(name).bufferSync().get(...at);
      console.log(`${name}[${at.join(', ')}]: autodiff ${g.toExponential(4)}, finite difference ${fd.toExponential(4)}`);
      expect(Math.abs(g - fd)).toBeLessThanOrEqual(2e-3 + 2e-2 * Math.abs(g));
    }
    grads.dispose();
  });

  it('returns one gradient per hook, shaped like the activation, plus the activations; leaks nothing else', () => {
    const names = ['blocks.0.hook_resid_pre', 'blocks.1.attn.hook_pattern', 'blocks.1.ln2.hook_scale'];
    const before = tf.memory().numTensors;
    const { grads, cache } = gradientsAtHooks(model, corrupted, metric, names, { cacheActivations: true });
    expect(tf.memory().numTensors - before).toBe(6);
    const [logits, ref] = model.runWithCache(corrupted, { namesFilter: names });
    for (const n of names) {
      expect(grads.get(n).shape).toEqual(ref.get(n).shape);
      expect(Array.from(cache?.get(n).dataSync() ?? [])).toEqual(Array.from(ref.get(n).dataSync()));
    }
    (logits as tf.Tensor).dispose();
    ref.dispose();
    grads.dispose();
    cache?.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(model.hasHooks()).toBe(false);
  });

  it('throws typed errors: unknown hook, number metric, metric not built from the logits', () => {
    const before = tf.memory().numTensors;
    expect(() => gradientsAtHooks(model, corrupted, metric, ['blocks.0.hook_resid_pree'])).toThrow(HookNameError);
    expect(() => gradientsAtHooks(model, corrupted, () => 1 as unknown as tf.Scalar, 'blocks.0.hook_resid_pre')).toThrow(
      /must return a tf.Scalar/,
    );
    expect(() =>
      gradientsAtHooks(model, corrupted, (l) => tf.scalar(l.dataSync()[0] as number), 'blocks.0.hook_resid_pre', { cacheActivations: true }),
    ).toThrow(ConfigError);
    expect(() => gradientsAtHooks(model, corrupted, metric, [])).toThrow(/no hook names selected/);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.hasHooks()).toBe(false);
  });
});

describe('attributionPatch', () => {
  it('equals Σ_batch,d (clean − corrupted)·grad computed by hand (resid_pre, z by pos)', () => {
    const names = attributionHookNames(model.cfg.nLayers, ['resid_pre', 'attn_head_out_by_pos']);
    const cg = gradientsAtHooks(model, corrupted, metric, names, { cacheActivations: true }) as Required<ReturnType<typeof gradientsAtHooks>>;
    const resid = expectNoLeak(() => attributionPatch(model, cleanCache, cg, metric, 'resid_pre'), () => 1);
    const z = attributionPatch(model, cleanCache, cg, metric, 'attn_head_out_by_pos');
    const byHand = (name: string, axes: number[]): number[] =>
      tf.tidy(() => Array.from(tf.sum(tf.mul(tf.sub(cleanCache.get(name), cg.cache.get(name)), cg.grads.get(name)), axes).dataSync()));
    expect(resid.shape).toEqual([2, 12]);
    expect(z.shape).toEqual([2, 12, 4]);
    const r = resid.arraySync() as number[][];
    const zz = z.arraySync() as number[][][];
    for (let l = 0; l < 2; l++) {
      expect(r[l]).toEqual(byHand(`blocks.${l}.hook_resid_pre`, [0, 2]));
      expect((zz[l] as number[][]).flat()).toEqual(byHand(`blocks.${l}.attn.hook_z`, [0, 3]));
    }
    // positions before the first corrupted token (3) have identical activations: attribution 0
    expect(r[0]?.slice(0, 3)).toEqual([0, 0, 0]);
    tf.dispose([resid, z]);
    expect(cg.grads.isDisposed).toBe(false); // caller-owned gradients are left alone
    cg.grads.dispose();
    cg.cache.dispose();
  });

  it('gives every preset its patching shape from one backward pass, leaking only the results', () => {
    const before = tf.memory().numTensors;
    const out = attributionPatchMany(model, cleanCache, corrupted, metric, PATCH_PRESET_NAMES);
    expect(tf.memory().numTensors - before).toBe(PATCH_PRESET_NAMES.length);
    const pos = 12;
    const range: Record<string, number> = { layer: 2, pos, head: 4, head_index: 4, dest_pos: pos, src_pos: pos };
    for (const k of PATCH_PRESET_NAMES) {
      expect(out.get(k)?.shape).toEqual(PATCH_PRESETS[k].axes.map((a) => range[a]));
    }
    for (const t of out.values()) t.dispose();
    expect(() => attributionPatch(model, cleanCache, corrupted, metric, 'resid_post' as never)).toThrow(/unknown kind 'resid_post'/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
