/**
 * The SAEs shipped under saes/ (scripts/train_shipped_saes.ts): each loads by name, encodes/decodes with
 * the right shapes (the distilbert-mini q SAE takes [..., n_heads, d_head] as SAELens's hook_z reshape),
 * save → load is bit-exact, and the metrics stored in its evals.json for the held-out sample (`check`: 8
 * rows kept in the file) are recomputed here within 1e-4 (absolute; relative for the CE-loss score, whose
 * denominator can be small). Unknown names give a ConfigError naming the nearest shipped name. No leaks.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { encoderCeLossRecovered, evaluateSaeOnEncoderTokens } from '../../../src/sae/evals_encoder.js';
import { evaluateSaeOnTokens } from '../../../src/sae/evals.js';
import { loadSae, saeDir, saveSae } from '../../../src/sae/io.js';
import { ceLossRecovered } from '../../../src/sae/recons_loss.js';
import { listShippedSaes, loadShippedSae } from '../../../src/sae/shipped.js';
import type { SparseAutoencoder } from '../../../src/sae/sae.js';
import { expectNoLeak } from '../../helpers/memory.js';

const TOL = 1e-4;
const SHIPPED = [
  { model: 'induction-2l', hook: 'blocks.0.hook_resid_post', dIn: 64, dSae: 512, input: [2, 5, 64] },
  { model: 'distilbert-mini', hook: 'blocks.0.attn.hook_q', dIn: 128, dSae: 1024, input: [2, 5, 4, 32] },
] as const;

interface StoredEvals {
  readonly metrics: Record<string, number>;
  readonly check: { readonly rows: number[][]; readonly mask_seed?: number; readonly metrics: Record<string, number> };
}
const evalsOf = (model: string, hook: string): StoredEvals => JSON.parse(readFileSync(join(saeDir(model, hook), 'evals.json'), 'utf8')) as StoredEvals;

/** Compare recomputed metrics with the stored ones. */
function expectMetrics(got: Record<string, number>, want: Record<string, number>): void {
  for (const k of ['explained_variance', 'l0', 'dead_fraction', 'mse', 'ce_loss_without_sae', 'ce_loss_with_sae', 'ce_loss_with_ablation']) {
    expect(Math.abs((got[k] as number) - (want[k] as number)), k).toBeLessThan(TOL);
  }
  const s = want['ce_loss_score'] as number;
  expect(Math.abs((got['ce_loss_score'] as number) - s) / Math.max(1, Math.abs(s)), 'ce_loss_score').toBeLessThan(1e-3);
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('shipped SAEs', () => {
  it('lists both shipped SAEs', async () => {
    const names = (await listShippedSaes()).map((e) => `${e.model}/${e.hook}`);
    for (const s of SHIPPED) expect(names).toContain(`${s.model}/${s.hook}`);
  });

  for (const s of SHIPPED) {
    it(`${s.model} ${s.hook}: loads by name, shapes, save → load bit-exact, no leak`, async () => {
      const before = tf.memory().numTensors;
      const sae = await loadShippedSae(s.model, s.hook);
      try {
        expect([sae.cfg.dIn, sae.cfg.dSae, sae.cfg.architecture]).toEqual([s.dIn, s.dSae, 'topk']);
        expect(sae.cfg.metadata.hook_name).toBe(s.hook);
        expect(sae.cfg.reshapeActivations).toBe(s.input.length === 4 ? 'hook_z' : 'none');
        const x = tf.randomNormal([...s.input], 0, 1, 'float32', 1);
        const [acts, recon] = expectNoLeak(() => {
          const a = sae.encode(x);
          return [a, sae.decode(a)] as const;
        }, () => 2);
        expect(acts.shape).toEqual([2, 5, s.dSae]);
        expect(recon.shape).toEqual([2, 5, s.dIn]);
        const l0 = tf.tidy(() => tf.sum(tf.step(acts)).dataSync()[0] as number) / 10;
        expect(l0).toBeLessThanOrEqual(sae.cfg.k as number);
        const out = expectNoLeak(() => sae.forward(x), () => 1);
        expect(out.shape).toEqual([...s.input]);
        tf.dispose([x, acts, recon, out]);
        const dir = mkdtempSync(join(tmpdir(), 'shipped-sae-'));
        await saveSae(sae, dir);
        const back = await loadSae(dir);
        const [a, b] = [sae.toArrays(), back.toArrays()];
        for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) expect(b[k], k).toEqual(a[k]);
        expect(back.cfg).toEqual(sae.cfg);
        back.dispose();
      } finally {
        sae.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('induction-2l: the stored held-out sample metrics are recomputed (evaluateSaeOnTokens, ceLossRecovered)', async () => {
    const { model, hook } = SHIPPED[0];
    const stored = evalsOf(model, hook);
    const tl = await HookedTransformer.fromPretrained('induction-2l', { quiet: true });
    const sae = await loadShippedSae(model, hook);
    try {
      const before = tf.memory().numTensors;
      const m = evaluateSaeOnTokens(tl, sae, stored.check.rows);
      const ce = ceLossRecovered(tl, { sae }, stored.check.rows);
      expect(tf.memory().numTensors).toBe(before);
      expectMetrics({
        explained_variance: m.explainedVariance, l0: m.l0, dead_fraction: m.deadFraction, mse: m.mse,
        ce_loss_without_sae: ce.ceLossWithoutSae, ce_loss_with_sae: ce.ceLossWithSae, ce_loss_with_ablation: ce.ceLossWithAblation, ce_loss_score: ce.ceLossScore,
      }, stored.check.metrics);
    } finally {
      sae.dispose();
      tl.dispose();
    }
  });

  it('distilbert-mini: the stored held-out sample metrics are recomputed (evaluateSaeOnEncoderTokens, encoderCeLossRecovered)', async () => {
    const { model, hook } = SHIPPED[1];
    const stored = evalsOf(model, hook);
    const enc = await HookedEncoder.fromPretrained('models/distilbert-mini');
    let sae: SparseAutoencoder | undefined;
    try {
      sae = await loadShippedSae(model, hook);
      const before = tf.memory().numTensors;
      const m = await evaluateSaeOnEncoderTokens(enc, sae, stored.check.rows);
      const ce = encoderCeLossRecovered(enc, { sae }, stored.check.rows, { seed: stored.check.mask_seed as number });
      expect(tf.memory().numTensors).toBe(before);
      expectMetrics({
        explained_variance: m.explainedVariance, l0: m.l0, dead_fraction: m.deadFraction, mse: m.mse,
        ce_loss_without_sae: ce.ceLossWithoutSae, ce_loss_with_sae: ce.ceLossWithSae, ce_loss_with_ablation: ce.ceLossWithAblation, ce_loss_score: ce.ceLossScore,
      }, stored.check.metrics);
      // The zero-ablated loss must differ from the clean one for the score to mean anything.
      expect(ce.ceLossWithAblation).not.toBe(ce.ceLossWithoutSae);
    } finally {
      sae?.dispose();
      enc.dispose();
    }
  });

  it('unknown model or hook: ConfigError naming the nearest shipped name and listing the shipped SAEs', async () => {
    await expect(loadShippedSae('induction-2', 'blocks.0.hook_resid_post')).rejects.toThrow(ConfigError);
    await expect(loadShippedSae('induction-2', 'blocks.0.hook_resid_post')).rejects.toThrow(/did you mean 'induction-2l'.*'distilbert-mini' 'blocks\.0\.attn\.hook_q'/);
    await expect(loadShippedSae('induction-2l', 'blocks.0.hook_resid_pst')).rejects.toThrow(/hook 'blocks\.0\.hook_resid_pst' — did you mean 'blocks\.0\.hook_resid_post'/);
    await expect(loadShippedSae('gpt2', 'blocks.0.hook_resid_post')).rejects.toThrow(/no shipped SAE for model 'gpt2'; shipped:/);
  });
});
