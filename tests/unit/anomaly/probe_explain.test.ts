/**
 * The β-VAE probe's score as an explain target (issue 21, item 4), on the shipped distilbert-mini and
 * the shipped SMS-spam probe (√n-pooled, the CLI's dev choice `vae_recon_sqrtn`): the differentiable
 * score equals the CLI's scoring path (extractPooledFeatures → sqrtNPooled with the CLI's token counts
 * and the saved token mean → scaler → vaeScores) within 1e-4, and the same VAE read as a mean-pooled
 * probe (an old file without `pooling`) equals the mean-pooled path; integrated gradients are complete, the
 * SAE-feature attribution matches finite differences and an independent ablation through
 * `sae.forward` (editFeatures + error term), the node-free codec rebuilds the probe, and nothing leaks.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradTimesInput, integratedGradients, scoresOf, tokenizeForExplain } from '../../../src/anomaly/explain.js';
import { probePoolingOf, probeScoreOfPooled, probeTarget, type VaeProbe } from '../../../src/anomaly/probe_explain.js';
import { explainProbeBySaeFeatures, probeSaeLine } from '../../../src/anomaly/probe_explain_sae.js';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, ShapeError, WeightLoadError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { maskedMeanPool } from '../../../src/model/encoder/pooling.js';
import { extractPooledFeatures } from '../../../src/probe/features.js';
import { sqrtNPooled } from '../../../src/probe/length_correction.js';
import { applyScaler, type FeatureMatrix } from '../../../src/probe/matrix.js';
import { decodeBetaVae } from '../../../src/probe/vae_codec.js';
import { loadBetaVae, saveBetaVae } from '../../../src/probe/vae_io.js';
import { vaeScores } from '../../../src/probe/vae_scores.js';
import { saeConfig } from '../../../src/sae/config.js';
import { initSae } from '../../../src/sae/init.js';
import type { SparseAutoencoder } from '../../../src/sae/sae.js';
import { writeTokenExplanation } from '../../../src/viz/token_explanation.js';
import { expectNoLeak } from '../../helpers/memory.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const PROBE_DIR = join(ROOT, 'models/distilbert-mini/probe/sms_spam');
const HOOK = 'blocks.0.attn.hook_q';
const TEXTS = ['WINNER!! You have won a £1000 prize, call 09061701461 now to claim', 'ok see you at home later', 'Sorry, I will call you later'];

let enc: HookedEncoder;
let probe: Awaited<ReturnType<typeof loadBetaVae>>;
let sae: SparseAutoencoder;

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
  enc = await HookedEncoder.fromPretrained(join(ROOT, 'models/distilbert-mini'), { quiet: true });
  probe = await loadBetaVae(PROBE_DIR);
  sae = initSae(saeConfig({ architecture: 'standard', dIn: 128, dSae: 64 }), { seed: 3 });
});
afterAll(() => {
  enc?.dispose();
  probe?.vae.dispose();
  sae?.dispose();
});

/** Real tokens per text, as the CLI counts them (probe_text.ts tokenCounts: attention-mask sums at the max length). */
function tokenCounts(texts: readonly string[]): number[] {
  return enc.encode(texts, Math.min(128, enc.cfg.nCtx)).attentionMask.map((r) => r.reduce((a, v) => a + v, 0));
}

/** The CLI's scores: pooled features read to the CPU, √n-pooled by sqrtNPooled (√n probe only), scaled, scored by vaeScores. */
function reportedScores(texts: readonly string[], p: VaeProbe = probe): { recon: number[]; negElbo: number[] } {
  const mean = extractPooledFeatures(enc, texts, { hookName: HOOK, maxLength: 128 });
  const x = probePoolingOf(p) === 'sqrtn' ? sqrtNPooled(mean, tokenCounts(texts), Float64Array.from(p.tokenMean as Float32Array)) : mean;
  const s = vaeScores(p.vae, p.scaler === undefined ? x : applyScaler(p.scaler, x));
  return { recon: s.recon, negElbo: s.negElbo };
}

describe('probeTarget', () => {
  it("the shipped probe is the CLI's √n dev choice, with its token mean and threshold", () => {
    expect(probe.metadata['pooling']).toBe('sqrtn');
    expect(probe.metadata['devPick']).toBe('vae_recon_sqrtn');
    expect(probe.tokenMean?.length).toBe(128);
    expect(typeof probe.metadata['threshold']).toBe('number');
    expect(probeTarget(enc, probe).name).toContain('√n-pooled');
  });

  it("equals the CLI's vae_recon_sqrtn path (reconstruction MSE and −ELBO) within 1e-4", () => {
    const rows = tokenizeForExplain(enc, TEXTS, 128);
    const want = reportedScores(TEXTS);
    for (const kind of ['recon', 'negElbo'] as const) {
      const got = expectNoLeak(() => scoresOf(probeTarget(enc, probe, { score: kind }), rows.ids, rows.mask));
      got.forEach((v, i) => expect(Math.abs(v - (want[kind][i] as number))).toBeLessThan(1e-4));
    }
    // The √n correction matters: the same VAE on plain mean pooling scores differently.
    const asMean: VaeProbe = { vae: probe.vae, scaler: probe.scaler, metadata: { hookName: HOOK } };
    const plain = reportedScores(TEXTS, asMean).recon;
    expect(Math.max(...plain.map((v, i) => Math.abs(v - (want.recon[i] as number))))).toBeGreaterThan(1e-2);
  });

  it("a probe without metadata.pooling (old files) is mean-pooled and equals the mean-pooled path within 1e-4", () => {
    const asMean: VaeProbe = { vae: probe.vae, scaler: probe.scaler, metadata: { hookName: HOOK } };
    expect(probePoolingOf(asMean)).toBe('mean');
    const rows = tokenizeForExplain(enc, TEXTS, 128);
    const want = reportedScores(TEXTS, asMean).recon;
    const got = expectNoLeak(() => scoresOf(probeTarget(enc, asMean), rows.ids, rows.mask));
    got.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).toBeLessThan(1e-4));
  });

  it('integrated gradients are complete (gap < 2% of |score − baseline|) and grad × input matches a finite difference', () => {
    const target = probeTarget(enc, probe);
    const rows = tokenizeForExplain(enc, [TEXTS[0] as string], 128);
    const ids = rows.ids[0] as number[];
    const ig = expectNoLeak(() => integratedGradients(target, ids, undefined, { steps: 32 }));
    const diff = ig.score - (ig.baselineScore as number);
    expect(Math.abs(ig.completenessGap as number)).toBeLessThan(0.02 * Math.abs(diff) + 1e-3);
    expect(Math.abs(ig.score - (reportedScores([TEXTS[0] as string]).recon[0] as number))).toBeLessThan(1e-4);
    const gx = expectNoLeak(() => gradTimesInput(target, ids));
    // Scaling every token embedding by (1 + h): d score / dh = Σ_t attribution_t.
    const h = 1e-3;
    const scaled = (f: number): number => {
      const s = scoresOf({ ...target, fwdHooks: [['embed.hook_embed', (x: tf.Tensor) => tf.mul(x, f)], ...(target.fwdHooks ?? [])] }, [ids], [ids.map(() => 1)]);
      return s[0] as number;
    };
    const fd = (scaled(1 + h) - scaled(1 - h)) / (2 * h);
    const sum = gx.attributions.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - fd)).toBeLessThan(1e-2 * Math.abs(fd) + 1e-3);
  });

  it('refuses a probe without a hook name, pooled rows of the wrong width, and a √n probe without counts or token mean', () => {
    expect(() => probeTarget(enc, { vae: probe.vae })).toThrow(ConfigError);
    expect(() => probeScoreOfPooled(probe, tf.zeros([1, 7]) as tf.Tensor2D)).toThrow(ShapeError);
    const x = tf.zeros([2, 128]) as tf.Tensor2D;
    try {
      expect(() => probeScoreOfPooled(probe, x)).toThrow(/nTokens/);
      expect(() => probeScoreOfPooled(probe, x, 'recon', [3])).toThrow(ShapeError);
      expect(() => probeScoreOfPooled(probe, x, 'recon', [3, 0])).toThrow(ConfigError);
      expect(() => probeTarget(enc, { vae: probe.vae, metadata: { hookName: HOOK, pooling: 'sqrtn' } })).toThrow(/no token mean/);
      expect(() => probeTarget(enc, { vae: probe.vae, metadata: { hookName: HOOK, pooling: 'max' } })).toThrow(/'mean' or 'sqrtn'/);
    } finally {
      x.dispose();
    }
  });
});

/** Score of the text with the SAE spliced in at every token (error term kept) and feature `i` scaled by `keep`. */
function editedScore(sae: SparseAutoencoder, text: string, i: number, keep: number): number {
  return tf.tidy(() => {
    const rows = tokenizeForExplain(enc, [text], 128);
    const [, cache] = enc.runWithCache(rows.ids, { attentionMask: rows.mask, namesFilter: HOOK, returnType: 'none' });
    const a = cache.get(HOOK); // [1, pos, 4, 32]
    const flat = tf.reshape(a, [-1, 128]); // [pos, 128]
    const edited = sae.forward(flat, { useErrorTerm: true, editFeatures: (acts) => tf.mul(acts, tf.tensor1d(Array.from({ length: sae.cfg.dSae }, (_, j) => (j === i ? keep : 1)))) as tf.Tensor2D });
    const pooled = maskedMeanPool(tf.reshape(edited, [1, -1, 128]), rows.mask); // [1, 128]
    cache.dispose();
    const mean: FeatureMatrix = { rows: 1, cols: 128, data: Float32Array.from(pooled.dataSync()) };
    const x = sqrtNPooled(mean, tokenCounts([text]), Float64Array.from(probe.tokenMean as Float32Array));
    return vaeScores(probe.vae, applyScaler(probe.scaler as NonNullable<typeof probe.scaler>, x)).recon[0] as number;
  });
}

describe('explainProbeBySaeFeatures (encode per token, then pool)', () => {
  const saes: [string, () => SparseAutoencoder][] = [
    ['standard', () => sae],
    ['topk, decoder-norm rescaling', () => initSae(saeConfig({ architecture: 'topk', dIn: 128, dSae: 96, k: 8 }), { seed: 4 })],
    ['standard, layer_norm normalisation', () => initSae(saeConfig({ architecture: 'standard', dIn: 128, dSae: 48, normalizeActivations: 'layer_norm' }), { seed: 5 })],
  ];
  it.each(saes)('%s SAE: scores as the probe, ablations agree with sae.forward edits, attributions with finite differences', (_name, make) => {
    const sae = make();
    const text = TEXTS[0] as string;
    const r = expectNoLeak(() => explainProbeBySaeFeatures(probe, sae, enc, text, { topK: 5 }));
    expect(Math.abs(r.score - (reportedScores([text]).recon[0] as number))).toBeLessThan(1e-4);
    expect(r.features.length).toBeGreaterThan(0);
    expect(r.features.length).toBeLessThanOrEqual(5);
    for (let k = 1; k < r.features.length; k++) expect(Math.abs(r.features[k - 1]?.attribution as number)).toBeGreaterThanOrEqual(Math.abs(r.features[k]?.attribution as number));
    expect(Math.abs(r.featureTotal + r.errorTerm + r.biasTerm - r.total)).toBeLessThan(1e-4);
    // The split is exact under √n pooling (μ_tok in the bias term): the first-order total is z·∇_z s,
    // z = √n·(x̄ − μ_tok), i.e. d/dh s(μ_tok + (1 + h)(x̄ − μ_tok)) at h = 0.
    const n = tokenCounts([text]);
    const xbar = tf.tensor2d(extractPooledFeatures(enc, [text], { hookName: HOOK, maxLength: 128 }).data, [1, 128]);
    const mu = tf.tensor1d(probe.tokenMean as Float32Array);
    const at = (f: number): number => tf.tidy(() => probeScoreOfPooled(probe, tf.add(mu, tf.mul(tf.sub(xbar, mu), f)) as tf.Tensor2D, 'recon', n).dataSync()[0] as number);
    const hh = 1e-3;
    const zGrad = (at(1 + hh) - at(1 - hh)) / (2 * hh);
    tf.dispose([xbar, mu]);
    expect(Math.abs(r.total - zGrad)).toBeLessThan(1e-2 * Math.abs(zGrad) + 1e-3);
    const d = 1e-2;
    for (const f of r.features.slice(0, 3)) {
      // True ablation, recomputed through the SAE's own forward with the error term.
      expect(Math.abs(f.ablationEffect - (r.score - editedScore(sae, text, f.index, 0)))).toBeLessThan(1e-4);
      // Attribution patching = d/dδ of score − score(feature scaled by 1 − δ) at δ = 0.
      const fd = (editedScore(sae, text, f.index, 1 + d) - editedScore(sae, text, f.index, 1 - d)) / (2 * d);
      expect(Math.abs(f.attribution - fd)).toBeLessThan(2e-2 * Math.abs(fd) + 1e-4);
      expect(f.activation).toBeGreaterThan(0);
    }
    expect(probeSaeLine(r)).toMatch(/^anomaly score \d+\.\d\d carried by SAE features #\d+ \([+−]\d/);
    // The token page's optional SAE section: the line in the header and one bar figure more.
    const dir = mkdtempSync(join(tmpdir(), 'probe-page-'));
    try {
      const page = writeTokenExplanation(join(dir, 'p.html'), ['[CLS]', 'win', '[SEP]'], [{ method: 'grad × input', values: [0, 1, 0] }], {
        title: 't', score: r.score, scoreName: 'recon', saeFeatures: { summary: probeSaeLine(r), features: r.features },
      });
      const html = readFileSync(page, 'utf8');
      expect(html).toContain('SAE features carrying the score');
      expect(html).toContain(`#${r.features[0]?.index as number} (`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (_name !== 'standard') sae.dispose();
    }
  });

  it('integrated gradients over features are complete: Σ = score − score(no features)', () => {
    const r = expectNoLeak(() => explainProbeBySaeFeatures(probe, sae, enc, TEXTS[1] as string, { topK: 64, method: 'integrated_gradients', steps: 64 }));
    const sum = r.features.reduce((a, f) => a + f.attribution, 0);
    expect(Math.abs(r.featureTotal - sum)).toBeLessThan(1e-4); // topK 64 = every active feature
    expect(Math.abs(r.featureTotal - r.total)).toBeLessThan(1e-2 * Math.abs(r.total) + 1e-4);
    expect(r.baselineScore).toBeDefined();
  });

  it('refuses an SAE of another width and topK < 1', () => {
    const bad = initSae(saeConfig({ architecture: 'standard', dIn: 32, dSae: 8 }), { seed: 0 });
    try {
      expect(() => explainProbeBySaeFeatures(probe, bad, enc, 'hello there')).toThrow(/d_in is 32/);
      expect(() => explainProbeBySaeFeatures(probe, sae, enc, 'hello there', { topK: 0 })).toThrow(ConfigError);
    } finally {
      bad.dispose();
    }
  });
});

describe('vae_codec (node-free)', () => {
  it('decodeBetaVae rebuilds the shipped probe from its bytes, scaler included', () => {
    const cfg = readFileSync(join(PROBE_DIR, 'vae_config.json'), 'utf8');
    const bytes = new Uint8Array(readFileSync(join(PROBE_DIR, 'vae_weights.safetensors')));
    const d = decodeBetaVae(cfg, bytes);
    try {
      expect(d.metadata['hookName']).toBe(HOOK);
      expect(d.metadata['pooling']).toBe('sqrtn');
      expect(Array.from(d.scaler?.shift ?? [])).toEqual(Array.from(probe.scaler?.shift ?? []));
      expect(Array.from(d.tokenMean ?? [])).toEqual(Array.from(probe.tokenMean ?? []));
      const x = tf.randomNormal([2, 128], 0, 1, 'float32', 1) as tf.Tensor2D;
      const [a, b] = [probeScoreOfPooled(probe, x, 'recon', [5, 20]), probeScoreOfPooled(d, x, 'recon', [5, 20])];
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([x, a, b]);
    } finally {
      d.vae.dispose();
    }
    expect(() => decodeBetaVae('{not json', bytes)).toThrow(ConfigError);
  });

  it('saveBetaVae / loadBetaVae round-trip the token mean (pooling.mu); a mis-sized one is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-sqrtn-'));
    try {
      const mu = Float32Array.from({ length: 128 }, (_, i) => i / 7);
      await saveBetaVae(probe.vae, dir, { scaler: probe.scaler, tokenMean: mu, metadata: { hookName: HOOK, pooling: 'sqrtn' } });
      const back = await loadBetaVae(dir);
      expect(Array.from(back.tokenMean ?? [])).toEqual(Array.from(mu));
      back.vae.dispose();
      await saveBetaVae(probe.vae, dir, { scaler: probe.scaler, tokenMean: mu.subarray(0, 5), metadata: { hookName: HOOK, pooling: 'sqrtn' } });
      await expect(loadBetaVae(dir)).rejects.toThrow(WeightLoadError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has no node: module in its import graph', () => {
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1] as string;
        if (/^import\s+type\s/.test(m[0])) continue;
        expect(spec.startsWith('node:'), `${file} imports ${spec}`).toBe(false);
        if (spec.startsWith('.')) walk(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    walk(join(ROOT, 'src/probe/vae_codec.ts'));
    expect(seen.size).toBeGreaterThan(3);
  });
});
