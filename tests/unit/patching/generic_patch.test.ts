/**
 * genericActivationPatch on the tiny GPT-2 fixture: one entry equals a hand-written
 * runWithHooks patch (the TL definition); batched == sequential (built-in and custom setters,
 * groups spanning layers, batch-averaging metrics); indexRows; the "every" stacks; validation;
 * progress; no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, HookNameError, ShapeError } from '../../../src/errors.js';
import type { ActivationCache } from '../../../src/hooks/activation_cache.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import {
  getActPatchAttnHeadAllPosEvery,
  getActPatchAttnHeadByPosEvery,
  getActPatchBlockEvery,
} from '../../../src/patching/every.js';
import { genericActivationPatch, metricValue, type PatchMetric } from '../../../src/patching/generic_patch.js';
import { logitDiffMetric } from '../../../src/patching/metrics.js';
import { actPatch, PATCH_PRESETS } from '../../../src/patching/presets.js';
import { layerPosPatchSetter, type PatchSetter } from '../../../src/patching/setters.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let model: HookedTransformer;
let clean: number[][];
let corrupted: number[][];
let cache: ActivationCache;
const metric = logitDiffMetric(992, 870);

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
  const ref = loadReference(FIXTURE);
  clean = refRows(ref, 'patching/clean_tokens');
  corrupted = refRows(ref, 'patching/corrupted_tokens');
  const [logits, c] = model.runWithCache(clean);
  (logits as tf.Tensor).dispose();
  cache = c;
});
afterAll(() => {
  cache?.dispose();
  model?.dispose();
});

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

describe('genericActivationPatch', () => {
  it('an entry equals one hand-written runWithHooks patch of clean z[:, pos, head] (TL definition)', () => {
    const out = actPatch('attn_head_out_by_pos', model, corrupted, cache, metric, { quiet: true });
    const [l, p, h] = [1, 7, 2];
    const cleanZ = cache.get('blocks.1.attn.hook_z');
    const byHand = tf.tidy(() => {
      const logits = model.runWithHooks(corrupted, {
        fwdHooks: [
          [
            'blocks.1.attn.hook_z',
            (z) => {
              const [b, pos, nh, dh] = z.shape as [number, number, number, number];
              const buf = z.bufferSync();
              const c = cleanZ.bufferSync();
              for (let bi = 0; bi < b; bi++) for (let e = 0; e < dh; e++) buf.set(c.get(bi, p, h, e), bi, p, h, e);
              void pos;
              void nh;
              return buf.toTensor();
            },
          ],
        ],
      }) as tf.Tensor3D;
      return metricValue(metric(logits), 'test');
    });
    expect(out.shape).toEqual([model.cfg.nLayers, 12, model.cfg.nHeads]);
    expect((out.arraySync() as number[][][])[l]?.[p]?.[h]).toBe(byHand);
    out.dispose();
  });

  it('batched equals sequential: built-in setter, custom function setter, groups spanning layers', () => {
    const seq = values(actPatch('attn_head_pattern_by_pos', model, corrupted, cache, metric, { quiet: true, batchSize: 1 }));
    for (const batchSize of [5, 7, 200]) {
      const bat = values(actPatch('attn_head_pattern_by_pos', model, corrupted, cache, metric, { quiet: true, batchSize }));
      expect(bat).toEqual(seq);
    }
    // A plain-function setter (no actAxes) takes the per-copy path.
    const custom: PatchSetter = (x, index, c) => layerPosPatchSetter(x, index, c);
    const opts = { indexAxisNames: ['layer', 'pos'] as const, quiet: true };
    const a = values(genericActivationPatch(model, corrupted, cache, metric, custom, 'mlp_out', { ...opts, batchSize: 1 }));
    const b = values(genericActivationPatch(model, corrupted, cache, metric, custom, 'mlp_out', { ...opts, batchSize: 5 }));
    expect(b).toEqual(a);
    // An attention mask is tiled with the tokens; all-ones changes nothing.
    const ones = corrupted.map((r) => r.map(() => 1));
    const m1 = values(actPatch('attn_out', model, corrupted, cache, metric, { quiet: true, batchSize: 1, attentionMask: ones }));
    const m5 = values(actPatch('attn_out', model, corrupted, cache, metric, { quiet: true, batchSize: 5, attentionMask: ones }));
    const plain = values(actPatch('attn_out', model, corrupted, cache, metric, { quiet: true }));
    expect(m5).toEqual(m1);
    m1.forEach((v, i) => expect(v).toBeCloseTo(plain[i] as number, 5));
  });

  it('the metric sees exactly one run: [batch, pos, d_vocab], also in batched mode', () => {
    const shapes: number[][] = [];
    const batchMean: PatchMetric = (logits) => {
      shapes.push(logits.shape);
      return tf.mean(logits) as tf.Scalar; // averages over the batch: must see one run's batch only
    };
    const seq = values(actPatch('resid_pre', model, corrupted, cache, batchMean, { quiet: true, batchSize: 1 }));
    const bat = values(actPatch('resid_pre', model, corrupted, cache, batchMean, { quiet: true, batchSize: 6 }));
    expect(new Set(shapes.map((s) => s.join(',')))).toEqual(new Set([`2,12,${model.cfg.dVocab}`]));
    bat.forEach((v, i) => expect(Math.abs(v - (seq[i] as number))).toBeLessThanOrEqual(1e-6 * Math.abs(seq[i] as number) + 1e-7));
  });

  it('indexRows gives a flattened output equal to the matching entries of the full sweep', () => {
    const full = actPatch('resid_mid', model, corrupted, cache, metric, { quiet: true });
    const grid = full.arraySync() as number[][];
    full.dispose();
    const rows = [[1, 11], [0, 3], [1, 7]];
    const out = expectNoLeak(
      () => genericActivationPatch(model, corrupted, cache, metric, layerPosPatchSetter, 'resid_mid', { indexRows: rows, quiet: true }),
      () => 1,
    );
    expect(out.shape).toEqual([3]);
    expect(values(out)).toEqual(rows.map(([l, p]) => grid[l as number]?.[p as number]));
  });

  it('the "every" sweeps stack the presets in TL order (pattern rearranged to [layer, pos, head])', () => {
    const block = getActPatchBlockEvery(model, corrupted, cache, metric, { quiet: true });
    expect(block.shape).toEqual([3, 2, 12]);
    const blockArr = block.arraySync() as number[][][];
    block.dispose();
    const attnOut = actPatch('attn_out', model, corrupted, cache, metric, { quiet: true });
    expect(blockArr[1]).toEqual(attnOut.arraySync());
    attnOut.dispose();
    const byPos = getActPatchAttnHeadByPosEvery(model, corrupted, cache, metric, { quiet: true });
    expect(byPos.shape).toEqual([5, 2, 12, 4]);
    const pattern = actPatch('attn_head_pattern_by_pos', model, corrupted, cache, metric, { quiet: true }); // [layer, head, dest]
    const expected = tf.transpose(pattern, [0, 2, 1]);
    const last = tf.squeeze(tf.slice(byPos, [4, 0, 0, 0], [1, 2, 12, 4]), [0]);
    expect(Array.from(last.dataSync())).toEqual(Array.from(expected.dataSync()));
    const allPos = getActPatchAttnHeadAllPosEvery(model, corrupted, cache, metric, { quiet: true });
    expect(allPos.shape).toEqual([5, 2, 4]);
    tf.dispose([byPos, pattern, expected, last, allPos]);
  });

  it('every preset returns its TL shape and leaks nothing but its result', () => {
    const shapes: Record<string, number[]> = {
      resid_pre: [2, 12], attn_head_q_by_pos: [2, 12, 4], attn_head_pattern_by_pos: [2, 4, 12],
      attn_head_pattern_dest_src_pos: [2, 4, 12, 12], attn_head_v_all_pos: [2, 4], attn_head_pattern_all_pos: [2, 4],
    };
    for (const [name, shape] of Object.entries(shapes)) {
      const out = expectNoLeak(() => actPatch(name as keyof typeof PATCH_PRESETS, model, corrupted, cache, metric, { quiet: true }), () => 1);
      expect(out.shape).toEqual(shape);
      out.dispose();
    }
  });

  it('reports progress and validates its arguments with typed errors', () => {
    const calls: [number, number][] = [];
    values(actPatch('attn_out', model, corrupted, cache, metric, { batchSize: 10, onProgress: (d, t) => calls.push([d, t]) }));
    expect(calls).toEqual([[10, 24], [20, 24], [24, 24]]);
    const run = (opts: object, setter: PatchSetter = layerPosPatchSetter, m: PatchMetric = metric, c = cache): tf.Tensor =>
      genericActivationPatch(model, corrupted, c, m, setter, 'resid_pre', { quiet: true, ...opts } as never);
    expect(() => run({ indexAxisNames: ['pos', 'layer'] })).toThrow(ConfigError);
    expect(() => run({ indexAxisNames: ['pos', 'layer'] })).toThrow(/must start with 'layer'/);
    expect(() => run({ indexAxisNames: ['layer', 'posn'] })).toThrow(/unknown index axis 'posn'/);
    expect(() => run({ indexAxisNames: ['layer', 'pos'], indexRows: [[0, 1]] })).toThrow(/not both/);
    expect(() => run({ indexRows: [[2, 1]] })).toThrow(ShapeError);
    expect(() => run({ indexRows: [[0, 12]] })).toThrow(/index entry 1 is 12/);
    expect(() => run({ indexAxisNames: ['layer', 'pos'], batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => run({ indexRows: [[0, 1]] }, layerPosPatchSetter, (l) => tf.sum(l, 0) as unknown as tf.Scalar)).toThrow(
      /the metric must return a scalar .* got a tensor of shape \[12, 1000\]/,
    );
    const [logits, embedOnly] = model.runWithCache(clean, { namesFilter: 'hook_embed' });
    expect(() => run({ indexRows: [[0, 1]] }, layerPosPatchSetter, metric, embedOnly)).toThrow(HookNameError);
    (logits as tf.Tensor).dispose();
    embedOnly.dispose();
    expect(model.hasHooks()).toBe(false);
  });
});
