/**
 * Hook semantics on the tiny GPT-2 fixture: replacement hooks change downstream values exactly as a
 * hand computation says, hooks never outlive a run (also when one throws), names are validated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookError, HookNameError, MemoryLimitError } from '../../../src/errors.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let model: HookedTransformer;
let tokens: number[][];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  tokens = refRows(loadReference(FIXTURE), 'inputs/input_ids');
});
afterAll(() => model?.dispose());

function arr(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('hooks', () => {
  it('zeroing one head changes attn_out and resid_mid exactly as computed by hand', () => {
    const H = model.cfg.nHeads;
    const E = model.cfg.dHead;
    const D = model.cfg.dModel;
    const head = 1;
    const zeroHead = (z: tf.Tensor): tf.Tensor =>
      tf.mul(z, tf.tensor1d(Array.from({ length: H }, (_, h) => (h === head ? 0 : 1))).reshape([1, 1, H, 1]));
    const [out, cache] = model.runWithCache(tokens, {
      namesFilter: ['blocks.0.attn.hook_z', 'blocks.0.hook_attn_out', 'blocks.0.hook_resid_pre', 'blocks.0.hook_resid_mid'],
    });
    (out as tf.Tensor).dispose();
    model.addHook('blocks.0.attn.hook_z', zeroHead);
    const [out2, patched] = model.runWithCache(tokens, {
      namesFilter: ['blocks.0.attn.hook_z', 'blocks.0.hook_attn_out', 'blocks.0.hook_resid_mid'],
    });
    model.resetHooks();
    (out2 as tf.Tensor).dispose();
    // Hand computation: attn_out[b,p,:] = Σ_{h≠head} z[b,p,h,:] · W_O[0,h] + b_O[0].
    const z = arr(cache.get('blocks.0.attn.hook_z'));
    const WO = arr(model.weights.W_O);
    const bO = arr(model.weights.b_O);
    const [B, P] = [tokens.length, tokens[0]?.length ?? 0];
    const expected = new Float32Array(B * P * D);
    for (let bp = 0; bp < B * P; bp++) {
      for (let d = 0; d < D; d++) {
        let s = bO[d] as number;
        for (let h = 0; h < H; h++) {
          if (h === head) continue;
          for (let e = 0; e < E; e++) s += (z[(bp * H + h) * E + e] as number) * (WO[(h * E + e) * D + d] as number);
        }
        expected[bp * D + d] = s;
      }
    }
    const got = arr(patched.get('blocks.0.hook_attn_out'));
    const maxErr = Math.max(...got.map((g, i) => Math.abs(g - (expected[i] as number))));
    expect(maxErr).toBeLessThan(1e-4);
    // Downstream: resid_mid = resid_pre + patched attn_out.
    const pre = arr(cache.get('blocks.0.hook_resid_pre'));
    const mid = arr(patched.get('blocks.0.hook_resid_mid'));
    expect(Math.max(...mid.map((m, i) => Math.abs(m - ((pre[i] as number) + (got[i] as number)))))).toBeLessThan(1e-5);
    // The patched head's z is zero in the cache (cache hooks run after the replacement).
    const zp = arr(patched.get('blocks.0.attn.hook_z'));
    for (let bp = 0; bp < B * P; bp++) for (let e = 0; e < E; e++) expect(Math.abs(zp[(bp * H + head) * E + e] as number)).toBe(0);
    // And the change differs from the clean run.
    expect(arr(cache.get('blocks.0.hook_attn_out'))).not.toEqual(got);
    cache.dispose();
    patched.dispose();
  });

  it('hooks are gone after every run, also when a hook throws', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      model.runWithHooks(tokens, {
        fwdHooks: [
          ['blocks.0.hook_resid_pre', () => undefined],
          ['blocks.1.attn.hook_pattern', () => { throw new Error('boom'); }],
        ],
      }),
    ).toThrow('boom');
    expect(model.hasHooks()).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    const [o, c] = model.runWithCache(tokens);
    expect(model.hasHooks()).toBe(false);
    (o as tf.Tensor).dispose();
    c.dispose();
    const r = model.withHooks([[(n: string) => n.endsWith('hook_q'), () => undefined]], () => model.hasHooks());
    expect(r).toBe(true);
    expect(model.hasHooks()).toBe(false);
  });

  it('withHooks removes hooks when an async body settles', async () => {
    const p = model.withHooks([['hook_embed', () => undefined]], async () => {
      await new Promise((res) => setTimeout(res, 1));
      return model.hasHooks();
    });
    expect(await p).toBe(true);
    expect(model.hasHooks()).toBe(false);
  });

  it('permanent hooks survive resetHooks unless includingPermanent', () => {
    let calls = 0;
    model.addPermanentHook('hook_embed', () => { calls++; });
    model.resetHooks();
    (model.forward(tokens) as tf.Tensor).dispose();
    expect(calls).toBe(1);
    model.resetHooks({ includingPermanent: true });
    expect(model.hasHooks()).toBe(false);
  });

  it('unknown and disabled hook names raise HookNameError naming the fix', () => {
    expect(() => model.addHook('blocks.0.attn.hook_patern', () => undefined)).toThrow(HookNameError);
    expect(() => model.addHook('blocks.0.attn.hook_patern', () => undefined)).toThrow(/nearest: blocks\.0\.attn\.hook_pattern/);
    expect(() => model.addHook('blocks.0.attn.hook_result', () => undefined)).toThrow(/useAttnResult/);
    expect(() => model.runWithCache(tokens, { namesFilter: ['blocks.0.hook_mlp_in'] })).toThrow(/useHookMlpIn/);
    expect(model.hasHooks()).toBe(false);
  });

  it('a replacement of the wrong shape raises HookError naming the hook point and leaves no hooks', () => {
    expect(() =>
      model.runWithHooks(tokens, { fwdHooks: [['hook_embed', () => tf.zeros([1, 2, 3])]] }),
    ).toThrow(HookError);
    expect(() =>
      model.runWithHooks(tokens, { fwdHooks: [['hook_embed', () => tf.zeros([1, 2, 3])]] }),
    ).toThrow(/hook_embed.*shape \[1, 2, 3\]/);
    expect(model.hasHooks()).toBe(false);
  });

  it('stopAtLayer returns the residual stream entering that layer', () => {
    const [logits, cache] = model.runWithCache(tokens, { namesFilter: 'blocks.1.hook_resid_pre' });
    const resid = model.forward(tokens, { stopAtLayer: 1 }) as tf.Tensor;
    const neg = model.forward(tokens, { stopAtLayer: -1 }) as tf.Tensor;
    expect(resid.shape).toEqual([tokens.length, tokens[0]?.length, model.cfg.dModel]);
    expect(arr(resid)).toEqual(arr(cache.get('blocks.1.hook_resid_pre')));
    expect(arr(neg)).toEqual(arr(resid));
    // TL: an explicit stopAtLayer = n_layers returns the final residual (before ln_final), not logits.
    const full = model.forward(tokens, { stopAtLayer: model.cfg.nLayers }) as tf.Tensor;
    expect(full.shape).toEqual([tokens.length, tokens[0]?.length, model.cfg.dModel]);
    full.dispose();
    const [, partial] = model.runWithCache(tokens, { stopAtLayer: 1 });
    expect(partial.keys().some((k) => k.startsWith('blocks.1.') || k.startsWith('ln_final'))).toBe(false);
    for (const t of [logits as tf.Tensor, resid, neg]) t.dispose();
    cache.dispose();
    partial.dispose();
  });

  it('200 runWithCache + dispose calls leave the tensor count where it was', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      const [out, cache] = model.runWithCache(tokens, { returnType: i % 2 === 0 ? 'logits' : 'loss' });
      (out as tf.Tensor).dispose();
      cache.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('forward returns exactly its outputs (no leaks) for every return type', () => {
    expectNoLeak(() => model.forward(tokens) as tf.Tensor, () => 1).dispose();
    expectNoLeak(() => model.forward(tokens, { returnType: 'loss' }) as tf.Tensor, () => 1).dispose();
    expectNoLeak(() => model.forward(tokens, { returnType: 'none' }), () => 0);
    const both = expectNoLeak(() => model.forward(tokens, { returnType: 'both' }) as { logits: tf.Tensor; loss: tf.Tensor }, () => 2);
    both.logits.dispose();
    both.loss.dispose();
  });

  it('refuses a run that would overflow the wasm heap with MemoryLimitError', () => {
    if (tf.getBackend() !== 'wasm') return;
    const big = Array.from({ length: 2048 }, () => Array.from({ length: 128 }, (_, i) => i % 1000));
    const before = tf.memory().numTensors;
    expect(() => model.runWithCache(big)).toThrow(MemoryLimitError);
    expect(() => model.runWithCache(big)).toThrow(/cache less|smaller batch/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('left padding with an attention mask does not change real positions', () => {
    const row = tokens[0] as number[];
    const padded = [[0, 0, 0, ...row]];
    const mask = [[0, 0, 0, ...row.map(() => 1)]];
    const a = model.logits([row]);
    const b = model.logits(padded, { attentionMask: mask });
    const V = model.cfg.dVocab;
    const av = arr(a);
    const bv = arr(b).slice(3 * V);
    expect(Math.max(...av.map((x, i) => Math.abs(x - (bv[i] as number))))).toBeLessThan(1e-4);
    a.dispose();
    b.dispose();
  });
});
