/**
 * The hand-written SAE gradients (src/sae/grads.ts) against tfjs autodiff of a reference loss written
 * from SAELens's definitions (tf.grads; JumpReLU/Step as SAELens's custom autograd functions), and
 * against central finite differences; plus a leak check of one gradient evaluation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { saeConfig, type SaeConfig } from '../../../src/sae/config.js';
import { saeLossAndGrads, STATS_HEAD, type SaeGradOptions, type SaeTensors } from '../../../src/sae/grads.js';
import { topkMask } from '../../../src/sae/sae.js';
import { seededRng } from '../../../src/utils/rng.js';

const D_IN = 6;
const D_SAE = 10;
const BATCH = 7;
type P = [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D]; // W_enc, b_enc, W_dec, b_dec, threshold

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

function randn(n: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

function makeParams(seed: number): { p: P; x: tf.Tensor2D } {
  const r = seededRng(seed);
  return {
    p: [
      tf.tensor2d(randn(D_IN * D_SAE, r, 0.8), [D_IN, D_SAE]),
      tf.tensor1d(randn(D_SAE, r, 0.3)),
      tf.tensor2d(randn(D_SAE * D_IN, r, 0.8), [D_SAE, D_IN]),
      tf.tensor1d(randn(D_IN, r, 0.3)),
      tf.tensor1d(Float32Array.from({ length: D_SAE }, () => 0.05 + 0.3 * r())),
    ],
    x: tf.tensor2d(randn(BATCH * D_IN, r, 1.5), [BATCH, D_IN]),
  };
}

const norms = (W: tf.Tensor2D): tf.Tensor1D => tf.sqrt(tf.sum(tf.square(W), 1)) as tf.Tensor1D;
type CustomFn = Parameters<typeof tf.customGrad>[0];

/** SAELens JumpReLU.apply(x, θ, ε): x·H(x − θ); backward: dx = H·g, dθ = Σ_b −(θ/ε)·K·g. */
function jumpRelu(eps: number): (h: tf.Tensor, th: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((h: tf.Tensor, th: tf.Tensor, save: tf.GradSaveFunc) => {
    save([h, th]);
    return {
      value: tf.mul(h, tf.step(tf.sub(h, th))),
      gradFunc: (g: tf.Tensor, [hs, ts]: tf.Tensor[]) => {
        const u = tf.sub(hs as tf.Tensor, ts as tf.Tensor);
        const k = tf.cast(tf.logicalAnd(tf.greater(tf.div(u, eps), -0.5), tf.less(tf.div(u, eps), 0.5)), 'float32');
        return [tf.mul(tf.step(u), g), tf.sum(tf.mul(tf.mul(tf.div(ts as tf.Tensor, -eps), k), g), 0)];
      },
    };
  }) as unknown as CustomFn) as unknown as (h: tf.Tensor, th: tf.Tensor) => tf.Tensor;
}

/** SAELens Step.apply(x, θ, ε): H(x − θ); backward: dx = none (0), dθ = Σ_b −(1/ε)·K·g. */
function stepFn(eps: number): (h: tf.Tensor, th: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((h: tf.Tensor, th: tf.Tensor, save: tf.GradSaveFunc) => {
    save([h, th]);
    return {
      value: tf.step(tf.sub(h, th)),
      gradFunc: (g: tf.Tensor, [hs, ts]: tf.Tensor[]) => {
        const u = tf.div(tf.sub(hs as tf.Tensor, ts as tf.Tensor), eps);
        const k = tf.cast(tf.logicalAnd(tf.greater(u, -0.5), tf.less(u, 0.5)), 'float32');
        return [tf.zerosLike(hs as tf.Tensor), tf.sum(tf.mul(tf.mul(k, -1 / eps), g), 0)];
      },
    };
  }) as unknown as CustomFn) as unknown as (h: tf.Tensor, th: tf.Tensor) => tf.Tensor;
}

/** The SAELens v6 training loss, written directly with tf ops (autodiff reference). */
function referenceLoss(cfg: SaeConfig, o: SaeGradOptions, x: tf.Tensor2D, consts: { topk?: tf.Tensor; aux?: tf.Tensor; resid?: tf.Tensor }) {
  return (We: tf.Tensor2D, be: tf.Tensor1D, Wd: tf.Tensor2D, bd: tf.Tensor1D, th: tf.Tensor1D): tf.Scalar => {
    const h = tf.add(tf.matMul(tf.sub(x, bd), We), be);
    const n = norms(Wd);
    let f: tf.Tensor;
    let fd: tf.Tensor;
    let extra: tf.Tensor = tf.scalar(0);
    if (cfg.architecture === 'standard') {
      f = tf.relu(h);
      fd = f;
      extra = tf.mul(tf.mean(tf.sum(tf.mul(f, n), 1)), o.sparsityCoefficient);
    } else if (cfg.architecture === 'topk') {
      const hs = cfg.rescaleActsByDecoderNorm ? tf.mul(h, n) : h;
      f = tf.mul(tf.relu(hs), consts.topk as tf.Tensor);
      fd = cfg.rescaleActsByDecoderNorm ? tf.div(f, n) : f;
      if (consts.aux !== undefined) {
        const half = Math.floor(D_IN / 2);
        const scale = Math.min((o.nDead ?? 0) / half, 1);
        const acts = tf.mul(hs, consts.aux);
        const rec = tf.add(tf.matMul(cfg.rescaleActsByDecoderNorm ? tf.div(acts, n) : acts, Wd), bd);
        extra = tf.mul(tf.mean(tf.sum(tf.square(tf.sub(rec, consts.resid as tf.Tensor)), 1)), scale * (o.auxLossCoefficient ?? 1));
      }
    } else {
      const eps = o.bandwidth ?? 0.05;
      f = jumpRelu(eps)(h, th);
      fd = f;
      extra = o.sparsityLossMode === 'tanh'
        ? tf.mul(tf.mean(tf.sum(tf.tanh(tf.mul(tf.mul(f, n), o.tanhScale ?? 4)), 1)), o.sparsityCoefficient)
        : tf.mul(tf.mean(tf.sum(stepFn(eps)(h, th), 1)), o.sparsityCoefficient);
    }
    const xhat = tf.add(tf.matMul(fd as tf.Tensor2D, Wd), bd);
    return tf.add(tf.mean(tf.sum(tf.square(tf.sub(xhat, x)), 1)), extra) as tf.Scalar;
  };
}

function maxRelErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const num = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
    const den = Math.max(tf.max(tf.abs(b)).dataSync()[0] as number, 1e-6);
    return num / den;
  });
}

interface Case {
  readonly name: string;
  readonly cfg: SaeConfig;
  readonly o: SaeGradOptions;
  readonly deadEvery?: number;
}

const CASES: Case[] = [
  { name: 'standard (L1 × decoder norms)', cfg: saeConfig({ architecture: 'standard', dIn: D_IN, dSae: D_SAE }), o: { sparsityCoefficient: 0.7 } },
  { name: 'topk, rescaled by decoder norm (sparse path)', cfg: saeConfig({ architecture: 'topk', dIn: D_IN, dSae: D_SAE, k: 3 }), o: { sparsityCoefficient: 0 } },
  { name: 'topk, not rescaled', cfg: saeConfig({ architecture: 'topk', dIn: D_IN, dSae: D_SAE, k: 4, rescaleActsByDecoderNorm: false }), o: { sparsityCoefficient: 0 } },
  {
    name: 'topk + AuxK on dead latents', cfg: saeConfig({ architecture: 'topk', dIn: D_IN, dSae: D_SAE, k: 3 }),
    o: { sparsityCoefficient: 0, auxLossCoefficient: 0.5 }, deadEvery: 2,
  },
  { name: 'topk, dense path', cfg: saeConfig({ architecture: 'topk', dIn: D_IN, dSae: D_SAE, k: 3 }), o: { sparsityCoefficient: 0, sparse: false } },
  {
    name: 'topk + AuxK, dense path', cfg: saeConfig({ architecture: 'topk', dIn: D_IN, dSae: D_SAE, k: 3 }),
    o: { sparsityCoefficient: 0, auxLossCoefficient: 0.5, sparse: false }, deadEvery: 3,
  },
  {
    name: 'jumprelu, step L0 (wide bandwidth so the kernel is hit)', cfg: saeConfig({ architecture: 'jumprelu', dIn: D_IN, dSae: D_SAE }),
    o: { sparsityCoefficient: 0.3, bandwidth: 0.5 },
  },
  {
    name: 'jumprelu, tanh sparsity', cfg: saeConfig({ architecture: 'jumprelu', dIn: D_IN, dSae: D_SAE }),
    o: { sparsityCoefficient: 0.3, bandwidth: 0.5, sparsityLossMode: 'tanh', tanhScale: 2 },
  },
];

describe('hand-written SAE gradients match autodiff of the SAELens loss', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { p, x } = makeParams(CASES.indexOf(c) + 1);
      const params: SaeTensors = { W_enc: p[0], b_enc: p[1], W_dec: p[2], b_dec: p[3], ...(c.cfg.architecture === 'jumprelu' ? { threshold: p[4] } : {}) };
      let o = c.o;
      const consts: { topk?: tf.Tensor; aux?: tf.Tensor; resid?: tf.Tensor } = {};
      if (c.cfg.architecture === 'topk') {
        const h = tf.add(tf.matMul(tf.sub(x, p[3]), p[0]), p[1]);
        const hs = c.cfg.rescaleActsByDecoderNorm ? tf.mul(h, norms(p[2])) : h;
        consts.topk = topkMask(hs, c.cfg.k as number);
        if (c.deadEvery !== undefined) {
          const dead = Float32Array.from({ length: D_SAE }, (_, i) => (i % c.deadEvery! === 0 ? 1 : 0));
          const nDead = dead.reduce((a, v) => a + v, 0);
          const deadT = tf.tensor1d(dead);
          o = { ...o, deadMask: deadT, nDead };
          const masked = tf.add(tf.mul(hs, deadT), tf.mul(tf.sub(deadT, 1), 1e30));
          consts.aux = tf.mul(topkMask(masked, Math.min(Math.floor(D_IN / 2), nDead)), deadT);
          const f = tf.mul(tf.relu(hs), consts.topk);
          const fd = c.cfg.rescaleActsByDecoderNorm ? tf.div(f, norms(p[2])) : f;
          consts.resid = tf.sub(x, tf.add(tf.matMul(fd as tf.Tensor2D, p[2]), p[3])); // detached x − x̂
        }
      }
      const nParams = c.cfg.architecture === 'jumprelu' ? 5 : 4;
      const lossFn = referenceLoss(c.cfg, o, x, consts);
      const ref = tf.grads((...a: tf.Tensor[]) => lossFn(a[0] as tf.Tensor2D, a[1] as tf.Tensor1D, a[2] as tf.Tensor2D, a[3] as tf.Tensor1D, (a[4] ?? p[4]) as tf.Tensor1D))(p.slice(0, nParams));
      const loss = tf.tidy(() => referenceLoss(c.cfg, o, x, consts)(...p).dataSync()[0] as number);
      const { grads, stats } = saeLossAndGrads(c.cfg, params, x, o);
      const s = stats.dataSync();
      expect(s[0]! + s[1]! + s[2]!).toBeCloseTo(loss, 4);
      const names = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'] as const;
      for (let i = 0; i < nParams; i++) {
        const mine = grads[names[i] as keyof typeof grads] as tf.Tensor;
        expect(mine.shape, names[i]).toEqual((ref[i] as tf.Tensor).shape);
        expect(maxRelErr(mine, ref[i] as tf.Tensor), `${names[i]} vs tf.grads`).toBeLessThan(2e-4);
      }
      if (c.deadEvery !== undefined) expect(s[2]).toBeGreaterThan(0); // AuxK active
    });
  }
});

/** The standard SAE loss in float64 plain JS (for central differences without float32 rounding). */
function jsStandardLoss(We: Float64Array, be: Float64Array, Wd: Float64Array, bd: Float64Array, x: Float32Array, lam: number): number {
  const n = new Float64Array(D_SAE);
  for (let i = 0; i < D_SAE; i++) for (let j = 0; j < D_IN; j++) n[i] = n[i]! + Wd[i * D_IN + j]! ** 2;
  for (let i = 0; i < D_SAE; i++) n[i] = Math.sqrt(n[i]!);
  let total = 0;
  for (let b = 0; b < BATCH; b++) {
    const f = new Float64Array(D_SAE);
    for (let i = 0; i < D_SAE; i++) {
      let h = be[i]!;
      for (let j = 0; j < D_IN; j++) h += (x[b * D_IN + j]! - bd[j]!) * We[j * D_SAE + i]!;
      f[i] = Math.max(h, 0);
      total += lam * f[i]! * n[i]!;
    }
    for (let j = 0; j < D_IN; j++) {
      let r = bd[j]! - x[b * D_IN + j]!;
      for (let i = 0; i < D_SAE; i++) r += f[i]! * Wd[i * D_IN + j]!;
      total += r * r;
    }
  }
  return total / BATCH;
}

describe('finite differences', () => {
  it('standard: every gradient entry matches float64 central differences', () => {
    const cfg = saeConfig({ architecture: 'standard', dIn: D_IN, dSae: D_SAE });
    const { p, x } = makeParams(42);
    const lam = 0.4;
    const { grads } = saeLossAndGrads(cfg, { W_enc: p[0], b_enc: p[1], W_dec: p[2], b_dec: p[3] }, x, { sparsityCoefficient: lam });
    const base = p.slice(0, 4).map((t) => Float64Array.from(t.dataSync()));
    const xs = x.dataSync() as Float32Array;
    const mine = [grads.W_enc, grads.b_enc, grads.W_dec, grads.b_dec].map((g) => g.dataSync());
    const h = 1e-6;
    let worst = 0;
    for (let which = 0; which < 4; which++) {
      for (let idx = 0; idx < base[which]!.length; idx++) {
        const at = (d: number): number => {
          const q = base.map((a) => Float64Array.from(a));
          q[which]![idx] = q[which]![idx]! + d;
          return jsStandardLoss(q[0]!, q[1]!, q[2]!, q[3]!, xs, lam);
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        worst = Math.max(worst, Math.abs(mine[which]![idx]! - fd) / Math.max(1, Math.abs(fd)));
      }
    }
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('leaks', () => {
  it('one gradient evaluation returns exactly its tensors', () => {
    const cfg = saeConfig({ architecture: 'topk', dIn: D_IN, dSae: D_SAE, k: 3 });
    const { p, x } = makeParams(7);
    const dead = tf.tensor1d(Float32Array.from({ length: D_SAE }, (_, i) => i % 3 === 0 ? 1 : 0));
    const before = tf.memory().numTensors;
    const r = saeLossAndGrads(cfg, { W_enc: p[0], b_enc: p[1], W_dec: p[2], b_dec: p[3] }, x, { sparsityCoefficient: 0, deadMask: dead, nDead: 4 });
    expect(tf.memory().numTensors - before).toBe(5); // 4 grads + stats
    expect(r.stats.shape).toEqual([STATS_HEAD + D_SAE]);
    tf.dispose([r.stats, ...Object.values(r.grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
