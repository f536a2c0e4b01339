/**
 * Reliability suite, soak part (issue 18): the main entry points called over and over on one model
 * must leak no tensor, keep no hook behind and give the same numbers every time. CI runs a short soak
 * (RELIABILITY_SOAK_ITERS, default 25 rounds); `RELIABILITY_SOAK_ITERS=1000 npx vitest run
 * tests/reliability/soak.test.ts` is the long one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookNameError } from '../../src/errors.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { getActPatchBlockEvery } from '../../src/patching/every.js';
import { fixtureDir } from '../helpers/fixtures.js';

const ITERS = Number(process.env['RELIABILITY_SOAK_ITERS'] ?? '25');
const TOKENS = [[1, 5, 9, 14, 3, 7]];
const CORRUPT = [[1, 5, 9, 2, 3, 7]];

let model: HookedTransformer;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('gpt2-tiny'), { quiet: true });
});
afterAll(() => model.dispose());

/** Sum of a tensor's values, disposing it. */
function total(t: tf.Tensor): number {
  const v = tf.tidy(() => t.sum().dataSync()[0] as number);
  tf.dispose(t);
  return v;
}

describe(`soak: ${ITERS} rounds of the main entry points`, () => {
  it('forward, runWithCache, runWithHooks, withHooks and a patching sweep: no tensor leaked, no hook left, same numbers every round', () => {
    const ref = { forward: 0, cache: 0, hooked: 0, patch: 0 };
    const start = tf.memory().numTensors;
    for (let i = 0; i < ITERS; i++) {
      const forward = total(model.forward(TOKENS));
      const [logits, cache] = model.runWithCache(TOKENS);
      const cached = total(logits) + tf.tidy(() => cache.get('blocks.0.hook_resid_post').sum().dataSync()[0] as number);
      const keys = cache.keys().length;
      const hooked = total(model.runWithHooks(TOKENS, { fwdHooks: [['blocks.0.hook_resid_post', (x: tf.Tensor) => tf.mul(x, 0.5)]] }));
      const inBody = model.withHooks([['blocks.1.attn.hook_pattern', () => undefined]], () => total(model.forward(TOKENS)));
      const metric = (l: tf.Tensor): tf.Scalar => tf.tidy(() => l.slice([0, TOKENS[0]!.length - 1, 3], [1, 1, 1]).reshape([]) as tf.Scalar);
      const patch = total(getActPatchBlockEvery(model, CORRUPT, cache, metric));
      cache.dispose();
      if (i === 0) Object.assign(ref, { forward, cache: cached, hooked, patch });
      expect({ forward, cache: cached, hooked, patch, inBody }).toEqual({ forward: ref.forward, cache: ref.cache, hooked: ref.hooked, patch: ref.patch, inBody: ref.forward });
      expect(keys).toBeGreaterThan(10);
      expect(model.hasHooks()).toBe(false);
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  it('hostile hook names are refused with HookNameError naming the nearest valid name, every round', () => {
    const start = tf.memory().numTensors;
    for (let i = 0; i < Math.min(ITERS, 50); i++) {
      for (const bad of ['blocks.0.hook_resid_pst', 'blocks.99.hook_resid_pre', '', 'blocks.0.attn.hook_pattern\u0000', '../../etc/passwd', 'x'.repeat(10_000)]) {
        expect(() => model.runWithHooks(TOKENS, { fwdHooks: [[bad, () => undefined]] }), JSON.stringify(bad.slice(0, 40))).toThrow(HookNameError);
      }
      try {
        model.runWithCache(TOKENS, { namesFilter: ['blocks.0.hook_resid_pst'] });
        expect.unreachable('misspelt namesFilter entry accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(HookNameError);
        expect((err as Error).message).toContain('blocks.0.hook_resid_post');
      }
    }
    expect(model.hasHooks()).toBe(false);
    expect(tf.memory().numTensors).toBe(start);
  });
});
