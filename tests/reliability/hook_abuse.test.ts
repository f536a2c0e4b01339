/**
 * Hooks that cannot misbehave (issue 18), on the tiny GPT-2 fixture: each abuse a reviewer found ends
 * in the documented outcome, with no tensor leaked and no hook left behind.
 *   - a hook adding a hook to its own point: terminates; the new hook fires from the next run;
 *   - an async withHooks body pending: a concurrent forward() (or any run / hook change from outside
 *     the body) throws HookError; inside the body (sync part or reenter) the hooks apply;
 *   - resetHooks() in a hook during runWithCache: the cache is complete, the reset applies from the next run;
 *   - runWithCache nested in a hook: nothing leaks, the hook is not re-entered;
 *   - a hook disposing its input, or returning the wrong shape or dtype: HookError naming the hook;
 *   - a hook that throws: its error propagates, nothing leaks, the hooks are as before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookError } from '../../src/errors.js';
import type { HookFn } from '../../src/hooks/hook_point.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { fixtureDir } from '../helpers/fixtures.js';

let model: HookedTransformer;
let clean: number[];
const tokens = [[3, 17, 5, 99, 42, 7], [8, 9, 10, 11, 12, 13]];
const POINT = 'blocks.0.hook_resid_post';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('gpt2-tiny'), { quiet: true });
  clean = logitsOf(() => model.forward(tokens));
});
afterAll(() => model?.dispose());
afterEach(() => {
  // Every test leaves the model as it found it.
  expect(model.hasHooks()).toBe(false);
});

/** The values of a logits tensor a call returns (the tensor is freed). */
function logitsOf(run: () => tf.Tensor): number[] {
  const t = run();
  try {
    return Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}

function maxDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number))));
}

const zeroAblate: HookFn = (x) => tf.zerosLike(x);
const tick = (): Promise<void> => new Promise((res) => setTimeout(res, 5));

describe('a hook that adds a hook to its own hook point', () => {
  it('terminates, and the added hook fires from the next run on', () => {
    let added = 0;
    let fired = 0;
    const before = tf.memory().numTensors;
    model.addHook(POINT, () => {
      added += 1;
      model.addHook(POINT, () => {
        fired += 1;
      });
    });
    try {
      logitsOf(() => model.forward(tokens));
      expect([added, fired]).toEqual([1, 0]);
      logitsOf(() => model.forward(tokens));
      expect([added, fired]).toEqual([2, 1]);
      logitsOf(() => model.forward(tokens));
      expect([added, fired]).toEqual([3, 3]); // the hooks added in runs 1 and 2
    } finally {
      model.resetHooks();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('an async withHooks body next to other calls', () => {
  it('a concurrent forward() (and any run or hook change from outside the body) throws HookError', async () => {
    const before = tf.memory().numTensors;
    let inBody: number[] = [];
    const p = model.withHooks([[POINT, zeroAblate]], async (reenter) => {
      await tick();
      inBody = reenter(() => logitsOf(() => model.forward(tokens)));
      return model.hasHooks();
    });
    // While the body is pending, the model refuses calls its hooks would leak into.
    expect(() => model.forward(tokens)).toThrow(HookError);
    expect(() => model.forward(tokens)).toThrow(/forward: an async withHooks body is pending on this model/);
    expect(() => model.runWithCache(tokens)).toThrow(HookError);
    expect(() => model.runWithHooks(tokens, { fwdHooks: [] })).toThrow(HookError);
    expect(() => model.generate(tokens, { maxNewTokens: 1 })).toThrow(HookError);
    expect(() => model.addHook(POINT, () => undefined)).toThrow(/addHook: an async withHooks body is pending/);
    expect(() => model.resetHooks()).toThrow(/resetHooks: an async withHooks body is pending/);
    expect(await p).toBe(true); // the body's hooks were attached throughout
    // Inside the body (through reenter) the hooks applied; after it settles, they are gone.
    expect(maxDiff(inBody, clean)).toBeGreaterThan(1e-3);
    expect(maxDiff(logitsOf(() => model.forward(tokens)), clean)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs in the body before its first await see the hooks; a run after an await without reenter is refused', async () => {
    const before = tf.memory().numTensors;
    const sync = await model.withHooks([[POINT, zeroAblate]], async () => {
      const first = logitsOf(() => model.forward(tokens)); // synchronous part: inside the scope
      await tick();
      return first;
    });
    expect(maxDiff(sync, clean)).toBeGreaterThan(1e-3);
    await expect(
      model.withHooks([[POINT, zeroAblate]], async () => {
        await tick();
        return logitsOf(() => model.forward(tokens)); // resumed by the event loop: outside the scope
      }),
    ).rejects.toThrow(HookError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reenter after the body settled throws HookError', async () => {
    let saved: (<U>(fn: () => U) => U) | undefined;
    await model.withHooks([[POINT, zeroAblate]], async (reenter) => {
      saved = reenter;
      await tick();
    });
    expect(() => saved?.(() => 1)).toThrow(/reenter was called after the body settled/);
  });
});

describe('resetHooks() inside a hook during runWithCache', () => {
  it('takes effect from the next run: the cache has every key, with the clean values', () => {
    const [ref, refCache] = model.runWithCache(tokens);
    ref.dispose();
    const before = tf.memory().numTensors;
    let calls = 0;
    model.addHook('blocks.0.attn.hook_q', () => {
      calls += 1;
      model.resetHooks();
    });
    const [out, cache] = model.runWithCache(tokens);
    expect(model.hasHooks()).toBe(false); // the reset applied
    expect(cache.keys()).toEqual(refCache.keys());
    expect(cache.size).toBe(model.enabledHookNames().length);
    for (const k of refCache.keys()) expect(Array.from(cache.get(k).dataSync()), k).toEqual(Array.from(refCache.get(k).dataSync()));
    out.dispose();
    cache.dispose();
    logitsOf(() => model.forward(tokens));
    expect(calls).toBe(1); // removed for the next run
    expect(tf.memory().numTensors).toBe(before);
    refCache.dispose();
  });
});

describe('runWithCache nested in a hook', () => {
  it('leaks nothing over 20 calls, and the hook is not re-entered by the nested run', () => {
    const nKeys = model.enabledHookNames().length;
    let calls = 0;
    const sizes: number[] = [];
    const nested: HookFn = () => {
      calls += 1;
      const [out, cache] = model.runWithCache(tokens); // fires POINT again: this hook is skipped there
      sizes.push(cache.size);
      out.dispose();
      cache.dispose();
    };
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      logitsOf(() => model.runWithHooks(tokens, { fwdHooks: [[POINT, nested]] }));
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toBe(20);
    expect(sizes.every((s) => s === nKeys)).toBe(true);
  });
});

describe('a hook that breaks the contract gets HookError naming it', () => {
  const cases: [string, HookFn, RegExp][] = [
    ['disposes its input', function disposeInput(x) { x.dispose(); }, /hook 'disposeInput' \(#1\) at blocks\.0\.hook_resid_post: disposed its input \[2, 6, 64\] float32/],
    ['returns the wrong shape', function sliceFirst(x) { return tf.slice(x, [0, 0, 0], [1, -1, -1]); }, /hook 'sliceFirst' \(#1\) at blocks\.0\.hook_resid_post: returned shape \[1, 6, 64\], expected \[2, 6, 64\]/],
    ['returns the wrong dtype', function toInt(x) { return tf.cast(x, 'int32'); }, /hook 'toInt' \(#1\) at blocks\.0\.hook_resid_post: returned dtype int32, expected float32/],
  ];

  it.each(cases)('a hook that %s (runWithHooks and runWithCache; nothing leaks, no hook left)', (_label, fn, message) => {
    const before = tf.memory().numTensors;
    expect(() => model.runWithHooks(tokens, { fwdHooks: [[POINT, fn]] })).toThrow(HookError);
    expect(() => model.runWithHooks(tokens, { fwdHooks: [[POINT, fn]] })).toThrow(message);
    model.addHook(POINT, fn);
    try {
      expect(() => model.runWithCache(tokens)).toThrow(message);
    } finally {
      model.resetHooks();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(maxDiff(logitsOf(() => model.forward(tokens)), clean)).toBe(0); // the model still works
  });
});

describe('a hook that throws', () => {
  it('propagates its error, leaks nothing and restores the hooks (a permanent hook stays)', () => {
    let permanent = 0;
    model.addPermanentHook('hook_embed', () => {
      permanent += 1;
    });
    const boom = new Error('boom');
    const thrower: HookFn = () => {
      throw boom;
    };
    const before = tf.memory().numTensors;
    try {
      let caught: unknown;
      try {
        model.runWithHooks(tokens, { fwdHooks: [['blocks.1.attn.hook_pattern', thrower]] });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(boom);
      model.addHook('blocks.1.hook_mlp_out', thrower);
      expect(() => model.runWithCache(tokens)).toThrow(boom);
      model.resetHooks();
      expect(tf.memory().numTensors).toBe(before);
      expect(model.hookDict.get('hook_embed')?.hasHooks()).toBe(true);
      expect(model.hookDict.get('blocks.1.attn.hook_pattern')?.hasHooks()).toBe(false);
      expect(maxDiff(logitsOf(() => model.forward(tokens)), clean)).toBe(0);
      expect(permanent).toBe(3);
    } finally {
      model.resetHooks({ includingPermanent: true });
    }
  });
});
