/**
 * Backward hooks (TL `dir="bwd"`, `bwd_hooks`, `run_with_cache(incl_bwd=True)`) on each decoder
 * family and an encoder: the gradient a backward hook sees equals the one gradientsAtHooks (or a
 * hand-made zero-delta tf.grad) computes for the same loss; a replacement gradient propagates to
 * earlier hooks; `_grad` cache entries; when permanent backward hooks fire; no tensor leaks, also
 * when a hook throws.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, HookError } from '../../../src/errors.js';
import type { HookFn } from '../../../src/hooks/hook_point.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { gradientsAtHooks } from '../../../src/patching/gradients.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { expectNoLeak } from '../../helpers/memory.js';

const FAMILIES = ['gpt2-tiny', 'llama-tiny', 'pythia-tiny'] as const;
const tokens = [[5, 17, 42, 99, 3, 8], [1, 20, 30, 40, 50, 60]];
const models = new Map<string, HookedTransformer>();
let enc: HookedEncoder;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  for (const f of FAMILIES) models.set(f, await HookedTransformer.fromPretrained(fixtureDir(f), { quiet: true }));
  enc = await HookedEncoder.fromPretrained(fixtureDir('bert-tiny'), { quiet: true });
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
  enc?.dispose();
});

const model = (f: string): HookedTransformer => models.get(f) as HookedTransformer;

/** TL's next-token loss by its definition: −mean over (b, p < pos−1) of log_softmax(logits)[b, p, tokens[b, p+1]]. */
const nextTokenLoss = (logits: tf.Tensor3D): tf.Scalar =>
  tf.tidy(() => {
    const [b, p, v] = logits.shape;
    const lp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [b, p - 1, v]));
    const targets = tf.oneHot(tf.tensor2d(tokens.map((r) => r.slice(1)), [b, p - 1], 'int32'), v);
    return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(lp, targets), -1)));
  });

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
};
const maxAbs = (a: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0] as number);

/** A backward hook that keeps a copy of the gradient it receives (the last call's). */
function capture(): { fn: HookFn; get: () => tf.Tensor; dispose: () => void } {
  let g: tf.Tensor | undefined;
  return {
    fn: (grad) => {
      g?.dispose();
      g = tf.keep(tf.clone(grad));
    },
    get: () => {
      if (g === undefined) throw new Error('backward hook did not fire');
      return g;
    },
    dispose: () => g?.dispose(),
  };
}

describe.each(FAMILIES)('backward hooks on %s', (family) => {
  const A = 'blocks.0.hook_resid_pre';
  const B = 'blocks.1.hook_resid_pre';

  it('the gradient a bwd hook sees equals gradientsAtHooks for the same loss (returnType loss and bwdMetric)', () => {
    const m = model(family);
    const ref = gradientsAtHooks(m, tokens, nextTokenLoss, [A, 'blocks.0.attn.hook_pattern']);
    const c1 = capture();
    const c2 = capture();
    const loss = expectNoLeak(() => m.runWithHooks(tokens, { returnType: 'loss', bwdHooks: [[A, c1.fn], ['blocks.0.attn.hook_pattern', c2.fn]] }), () => 3);
    expect(Math.abs((loss.dataSync()[0] as number) - ref.value)).toBeLessThan(1e-5);
    const scale = maxAbs(ref.grads.get(A));
    expect(scale).toBeGreaterThan(0);
    expect(maxDiff(c1.get(), ref.grads.get(A))).toBeLessThan(1e-5 * Math.max(1, scale));
    expect(maxDiff(c2.get(), ref.grads.get('blocks.0.attn.hook_pattern'))).toBeLessThan(1e-5);
    loss.dispose();
    // The same through bwdMetric on the logits: the run returns the logits.
    const c3 = capture();
    const logits = m.runWithHooks(tokens, { bwdMetric: (l) => nextTokenLoss(l as tf.Tensor3D), bwdHooks: [[A, c3.fn]] });
    expect(logits.shape).toEqual([2, 6, m.cfg.dVocab]);
    expect(maxDiff(c3.get(), ref.grads.get(A))).toBeLessThan(1e-5 * Math.max(1, scale));
    for (const t of [logits, ref.grads]) t.dispose();
    for (const c of [c1, c2, c3]) c.dispose();
  });

  it('a bwd hook returning a scaled gradient scales the gradient seen at an earlier hook by that factor', () => {
    const m = model(family);
    const plain = capture();
    m.runWithHooks(tokens, { returnType: 'loss', bwdHooks: [[A, plain.fn]] }).dispose();
    const scaled = capture();
    const seenAtB = capture();
    const loss = expectNoLeak(
      () => m.runWithHooks(tokens, { returnType: 'loss', bwdHooks: [[B, seenAtB.fn], [B, (g) => tf.mul(g, 3)], [A, scaled.fn]] }),
      () => 3, // the loss + two kept gradients
    );
    loss.dispose();
    const expected = tf.mul(plain.get(), 3);
    expect(maxDiff(scaled.get(), expected)).toBeLessThan(1e-5 * Math.max(1, maxAbs(expected)));
    // Every bwd hook at a point sees the incoming gradient (TL / PyTorch full backward hooks): B's
    // capturing hook, before the scaling one, sees the unscaled gradient.
    const ref = gradientsAtHooks(m, tokens, nextTokenLoss, [B]);
    expect(maxDiff(seenAtB.get(), ref.grads.get(B))).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.grads.get(B))));
    for (const t of [expected, ref.grads]) t.dispose();
    for (const c of [plain, scaled, seenAtB]) c.dispose();
  });

  it('runWithCache inclBwd: <name>_grad entries have the activation shape and equal gradientsAtHooks', () => {
    const m = model(family);
    const names = [A, 'blocks.1.hook_mlp_out', 'ln_final.hook_normalized'];
    const ref = gradientsAtHooks(m, tokens, nextTokenLoss, names);
    const [loss, cache] = expectNoLeak(() => m.runWithCache(tokens, { returnType: 'loss', inclBwd: true, namesFilter: names }), ([, c]) => 1 + c.size);
    expect(cache.keys().slice(0, 3)).toEqual(names);
    expect(new Set(cache.keys().slice(3))).toEqual(new Set(names.map((n) => `${n}_grad`)));
    expect(cache.keys()[3]).toBe('ln_final.hook_normalized_grad'); // in the order the backward pass reaches them (TL)
    for (const n of names) {
      expect(cache.get(`${n}_grad`).shape).toEqual(cache.get(n).shape);
      expect(maxDiff(cache.get(`${n}_grad`), ref.grads.get(n))).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.grads.get(n))));
    }
    expect(Math.abs((loss.dataSync()[0] as number) - ref.value)).toBeLessThan(1e-5);
    loss.dispose();
    cache.dispose();
    ref.grads.dispose();
  });
});

describe('backward hooks on an encoder (bert-tiny)', () => {
  const ids = [[101, 7, 8, 9, 102]];
  const name = 'blocks.0.hook_resid_pre';
  /** d sum(logits) / d activation at `name`, by a zero delta and tf.grad (gradientsAtHooks' construction). */
  function referenceGrad(): tf.Tensor {
    const [, cache] = enc.runWithCache(ids, { namesFilter: name, returnType: 'none' });
    const zeros = tf.zerosLike(cache.get(name));
    cache.dispose();
    const g = tf.grad((d: tf.Tensor) => tf.sum(enc.runWithHooks(ids, { fwdHooks: [[name, (x) => tf.add(x, d)]] }) as tf.Tensor))(zeros);
    zeros.dispose();
    return g;
  }

  it('runWithHooks bwdHooks and runWithCache inclBwd with bwdMetric match tf.grad through a zero delta', () => {
    const ref = referenceGrad();
    const c = capture();
    const logits = expectNoLeak(() => enc.runWithHooks(ids, { bwdMetric: (l) => tf.sum(l), bwdHooks: [[name, c.fn]] }), () => 2);
    expect(maxDiff(c.get(), ref)).toBeLessThan(1e-4 * Math.max(1, maxAbs(ref)));
    (logits as tf.Tensor).dispose();
    const [out, cache] = enc.runWithCache(ids, { inclBwd: true, bwdMetric: (l) => tf.sum(l), namesFilter: name });
    expect(cache.keys()).toEqual([name, `${name}_grad`]);
    expect(maxDiff(cache.get(`${name}_grad`), ref)).toBeLessThan(1e-4 * Math.max(1, maxAbs(ref)));
    (out as tf.Tensor).dispose();
    cache.dispose();
    ref.dispose();
    c.dispose();
  });

  it('an encoder MLM output is not a scalar: bwdHooks without bwdMetric is a ConfigError naming the fix', () => {
    expect(() => enc.runWithHooks(ids, { bwdHooks: [[name, () => undefined]] })).toThrow(/bwdMetric/);
    expect(() => enc.runWithCache(ids, { inclBwd: true })).toThrow(ConfigError);
  });
});

describe('when permanent backward hooks fire', () => {
  const m = (): HookedTransformer => model('gpt2-tiny');
  const name = 'blocks.1.hook_resid_pre';

  it('fire on runWithHooks with a loss, inclBwd and gradientsAtHooks; not on forward or a logits run', () => {
    let fired = 0;
    m().addHook(name, () => {
      fired += 1;
    }, { dir: 'bwd' });
    try {
      expect(m().hookDict.get(name)?.bwdHooks.length).toBe(1);
      expect(m().hookDict.get(name)?.fwdHooks.length).toBe(0);
      m().forward(tokens, { returnType: 'loss' }).dispose();
      m().runWithHooks(tokens).dispose();
      expect(fired).toBe(0);
      m().runWithHooks(tokens, { returnType: 'loss' }).dispose();
      expect(fired).toBe(1);
      const [l, c] = m().runWithCache(tokens, { returnType: 'loss', inclBwd: true, namesFilter: 'hook_embed' });
      l.dispose();
      c.dispose();
      expect(fired).toBe(2);
      gradientsAtHooks(m(), tokens, nextTokenLoss, ['blocks.0.hook_resid_pre']).grads.dispose(); // backward goes through blocks.1
      expect(fired).toBe(3);
      gradientsAtHooks(m(), tokens, nextTokenLoss, ['blocks.1.hook_resid_post']).grads.dispose(); // downstream only
      expect(fired).toBe(3);
      // A user's own tf.grad around forward fires it too (TL: forward, then loss.backward()).
      const [, cache] = m().runWithCache(tokens, { namesFilter: 'hook_embed', returnType: 'none' });
      const z = tf.zerosLike(cache.get('hook_embed'));
      cache.dispose();
      tf.grad((d: tf.Tensor) => m().runWithHooks(tokens, { returnType: 'loss', fwdHooks: [['hook_embed', (x) => tf.add(x, d)]] }))(z).dispose();
      z.dispose();
      expect(fired).toBe(5); // runWithHooks made its own backward pass (loss + attached bwd hook), then tf.grad did
    } finally {
      m().resetHooks({ includingPermanent: true });
    }
  });

  it('a bwd hook receives the point context, and prepend puts it first', () => {
    const seen: string[] = [];
    m().addHook(name, (_g, ctx) => void seen.push(`a:${ctx.name}:${String(ctx.layer)}`), { dir: 'bwd' });
    m().addHook(name, () => void seen.push('b'), { dir: 'bwd', prepend: true });
    try {
      m().runWithHooks(tokens, { returnType: 'loss' }).dispose();
      expect(seen).toEqual(['b', `a:${name}:1`]);
    } finally {
      m().resetHooks();
    }
  });

  it('resetHooks / removeAllHookFns / HookPoint.removeHooks honour dir and includingPermanent', () => {
    const noop = (): void => undefined;
    const hp = m().hookDict.get(name);
    m().addHook(name, noop);
    m().addHook(name, noop, { dir: 'bwd' });
    m().addPermanentHook(name, noop, 'bwd');
    m().resetHooks({ dir: 'fwd' });
    expect([hp?.fwdHooks.length, hp?.bwdHooks.length]).toEqual([0, 2]);
    m().removeAllHookFns({ dir: 'bwd' });
    expect(hp?.bwdHooks.length).toBe(1); // the permanent one stays
    hp?.addHook(noop, { dir: 'bwd' });
    hp?.removeHooks(); // TL default dir: 'fwd'
    expect(hp?.bwdHooks.length).toBe(2);
    hp?.addHook(noop, { dir: 'bwd', isPermanent: true });
    hp?.removeHooks({ dir: 'bwd' });
    expect(hp?.bwdHooks.length).toBe(2); // two permanent ones
    hp?.removeHooks({ dir: 'both', includingPermanent: true });
    expect(hp?.hasHooks()).toBe(false);
    m().withHooks({ bwdHooks: [[name, noop]] }, () => expect(hp?.bwdHooks.length).toBe(1));
    expect(hp?.bwdHooks.length).toBe(0);
  });
});

describe('backward runs: errors and memory', () => {
  const m = (): HookedTransformer => model('llama-tiny');
  const name = 'blocks.0.hook_resid_post';

  it('a non-scalar output with bwdHooks or inclBwd is a ConfigError naming the fix; unknown keys are refused', () => {
    expect(() => m().runWithHooks(tokens, { bwdHooks: [[name, () => undefined]] })).toThrow(/returnType: 'loss'.*bwdMetric/);
    expect(() => m().runWithHooks(tokens, { returnType: 'loss', lossPerToken: true, bwdHooks: [[name, () => undefined]] })).toThrow(ConfigError);
    expect(() => m().runWithCache(tokens, { inclBwd: true })).toThrow(ConfigError);
    expect(() => m().runWithCache(tokens, { bwdMetric: (l) => tf.sum(l) })).toThrow(/inclBwd/);
    expect(() => m().runWithHooks(tokens, { bwdMetric: (l) => l, fwdHooks: [] })).toThrow(/scalar/);
    expect(() => m().runWithHooks(tokens, { bwdHook: [] } as never)).toThrow(/bwdHooks/);
    expect(tf.memory().numTensors).toBeGreaterThan(0);
  });

  it('no leak when a backward hook throws, returns a bad gradient, or a forward hook throws in a backward run', () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    expectNoLeak(() => expect(() => m().runWithHooks(tokens, { returnType: 'loss', bwdHooks: [[name, boom]] })).toThrow('boom'));
    expectNoLeak(() => expect(() => m().runWithHooks(tokens, { returnType: 'loss', bwdHooks: [[name, (g) => tf.sum(g)]] })).toThrow(HookError));
    expectNoLeak(() => expect(() => m().runWithHooks(tokens, { returnType: 'loss', fwdHooks: [[name, boom]], bwdHooks: [[name, () => undefined]] })).toThrow('boom'));
    expectNoLeak(() => expect(() => m().runWithHooks(tokens, { bwdMetric: () => { throw new Error('metric'); }, bwdHooks: [[name, () => undefined]] })).toThrow('metric'));
    expect(m().hasHooks()).toBe(false);
    // And the model still runs a backward pass afterwards.
    const c = capture();
    m().runWithHooks(tokens, { returnType: 'loss', bwdHooks: [[name, c.fn]] }).dispose();
    expect(c.get().shape).toEqual([2, 6, m().cfg.dModel]);
    c.dispose();
  });

  it('removeBatchDim drops the batch axis (batch 1) and refuses a larger batch', () => {
    const [logits, cache] = expectNoLeak(() => m().runWithCache([tokens[0] as number[]], { namesFilter: name, removeBatchDim: true, returnType: 'loss', inclBwd: true }), ([, c]) => 1 + c.size);
    expect(cache.get(name).shape).toEqual([6, m().cfg.dModel]);
    expect(cache.get(`${name}_grad`).shape).toEqual([6, m().cfg.dModel]);
    logits.dispose();
    cache.dispose();
    expectNoLeak(() => expect(() => m().runWithCache(tokens, { removeBatchDim: true })).toThrow(ConfigError));
  });
});
