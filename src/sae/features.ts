/**
 * Feature inspection: the top-activating contexts of SAE latents over a token dataset (the data
 * behind a Neuronpedia-style feature dashboard; the page itself is in `dashboard_html.ts`), and the
 * latents most responsible for one activation's reconstruction (each latent's share f_i·W_dec[i] of
 * x̂ − b_dec, projected on it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { CachingModel } from './activation_store.js';
import type { SparseAutoencoder } from './sae.js';
import { stopLayerAfterHook } from '../hooks/hook_point.js';

/** One activating context of a latent. @category SAE */
export interface FeatureExample {
  /** Row index in the dataset. */
  readonly row: number;
  /** Position of the max-activating token in the row. */
  readonly pos: number;
  /** The latent's activation there. */
  readonly activation: number;
  /** Token ids of the context window. */
  readonly tokens: number[];
  /** The latent's activation on each window token. */
  readonly acts: number[];
  /** Index of the max-activating token within the window. */
  readonly center: number;
}

/** Options of {@link topActivatingContexts}. @category SAE */
export interface TopContextsOptions {
  /** Latents to collect (default: all). */
  readonly features?: readonly number[];
  /** Examples per latent (default 10). */
  readonly topN?: number;
  /** Window tokens before the max token (default 8). */
  readonly before?: number;
  /** Window tokens after the max token (default 4). */
  readonly after?: number;
  /** Rows per forward pass (default 4). */
  readonly batchPrompts?: number;
  /** Hook to read (default: the SAE's metadata.hook_name). */
  readonly hookName?: string;
}

function insertTop(list: FeatureExample[], ex: FeatureExample, topN: number): void {
  if (list.length === topN && (list[topN - 1] as FeatureExample).activation >= ex.activation) return;
  let i = list.length;
  while (i > 0 && (list[i - 1] as FeatureExample).activation < ex.activation) i--;
  list.splice(i, 0, ex);
  if (list.length > topN) list.pop();
}

function latentsOfBatch(model: CachingModel, sae: SparseAutoencoder, hook: string, batch: number[][]): Float32Array {
  const stop = stopLayerAfterHook(hook, model.cfg.nLayers);
  const [out, cache] = model.runWithCache(batch, {
    namesFilter: [hook],
    ...(stop !== undefined ? { stopAtLayer: stop } : {}),
  });
  if (out instanceof tf.Tensor) out.dispose();
  try {
    const acts = sae.encode(cache.get(hook)); // [batch·pos, d_sae]
    const data = acts.dataSync() as Float32Array;
    acts.dispose();
    return data;
  } finally {
    cache.dispose();
  }
}

/**
 * The top-activating contexts of SAE latents: one example per (row, latent) at most, the row's
 * max-activating position, with a window of tokens and the latent's activation on each.
 * @param model A hooked model (decoder or encoder).
 * @param sae The SAE.
 * @param rows Token rows [n_rows, pos].
 * @param opts Latents, examples per latent, window, batch size, hook.
 * @returns Latent → examples, highest activation first (latents that never fire map to []).
 * @throws {@link "tfjs-lens"!ConfigError} for a latent index out of range or missing hook name.
 * @example const ctx = topActivatingContexts(model, sae, rows, { features: [0, 5, 9] });
 * @category SAE
 */
export function topActivatingContexts(
  model: CachingModel,
  sae: SparseAutoencoder,
  rows: readonly (readonly number[])[],
  opts: TopContextsOptions = {},
): Map<number, FeatureExample[]> {
  const { dSae } = sae.cfg;
  const hook = opts.hookName ?? sae.cfg.metadata.hook_name;
  if (typeof hook !== 'string') throw new ConfigError('topActivatingContexts: pass hookName (the SAE has no metadata.hook_name)');
  const feats = opts.features ?? Array.from({ length: dSae }, (_, i) => i);
  for (const f of feats) if (!(Number.isInteger(f) && f >= 0 && f < dSae)) throw new ConfigError(`topActivatingContexts: latent ${f} out of range [0, ${dSae})`);
  const [topN, before, after, per] = [opts.topN ?? 10, opts.before ?? 8, opts.after ?? 4, opts.batchPrompts ?? 4];
  const out = new Map<number, FeatureExample[]>(feats.map((f) => [f, []]));
  for (let r0 = 0; r0 < rows.length; r0 += per) {
    const batch = rows.slice(r0, r0 + per).map((r) => [...r]);
    const pos = batch[0]?.length ?? 0;
    const lat = latentsOfBatch(model, sae, hook, batch);
    for (let b = 0; b < batch.length; b++) {
      for (const f of feats) {
        let best = 0;
        let at = -1;
        for (let p = 0; p < pos; p++) {
          const v = lat[(b * pos + p) * dSae + f] as number;
          if (v > best) [best, at] = [v, p];
        }
        if (at < 0) continue;
        const lo = Math.max(0, at - before);
        const hi = Math.min(pos, at + after + 1);
        const acts = Array.from({ length: hi - lo }, (_, i) => lat[(b * pos + lo + i) * dSae + f] as number);
        insertTop(out.get(f) as FeatureExample[], { row: r0 + b, pos: at, activation: best, tokens: (batch[b] as number[]).slice(lo, hi), acts, center: at - lo }, topN);
      }
    }
  }
  return out;
}

/** A latent's share of one reconstruction. @category SAE */
export interface FeatureAttribution {
  /** Latent index. */
  readonly feature: number;
  /** Its activation. */
  readonly activation: number;
  /** ‖f_i · W_dec[i]‖ (decoder-norm-corrected for rescaled TopK). */
  readonly contributionNorm: number;
  /** (f_i·W_dec[i]) · (x̂ − b_dec) / ‖x̂ − b_dec‖²; the shares of all latents sum to 1. */
  readonly fractionOfReconstruction: number;
  /** cosine(W_dec[i], x − b_dec). */
  readonly cosineWithInput: number;
}

/**
 * The latents most responsible for reconstructing one activation.
 * @param sae The SAE.
 * @param x One activation [d_in] (array or tensor).
 * @param opts topN (default 10).
 * @returns Active latents sorted by their share of the reconstruction, largest first.
 * @throws {@link "tfjs-lens"!ShapeError} if x does not have d_in values.
 * @example topFeaturesForActivation(sae, cache.get('blocks.1.hook_resid_pre').slice([0, 5, 0], [1, 1, -1]));
 * @category SAE
 */
export function topFeaturesForActivation(sae: SparseAutoencoder, x: ArrayLike<number> | tf.Tensor, opts: { topN?: number } = {}): FeatureAttribution[] {
  const { dIn, dSae } = sae.cfg;
  const xs = x instanceof tf.Tensor ? (x.dataSync() as Float32Array) : Float32Array.from(x);
  if (xs.length !== dIn) throw new ShapeError(`topFeaturesForActivation: x must have d_in = ${dIn} values, got ${xs.length}`);
  const { W_dec, b_dec } = sae.params;
  const [acts, wd, bd] = tf.tidy(() => {
    const f = sae.encode(tf.tensor2d(xs, [1, dIn])); // [1, d_sae]
    return [f.dataSync(), W_dec.dataSync(), b_dec.dataSync()];
  });
  const rescale = (sae.cfg.architecture === 'topk' || sae.cfg.architecture === 'batchtopk') && sae.cfg.rescaleActsByDecoderNorm === true;
  const active: { i: number; c: Float64Array; a: number }[] = [];
  const recon = new Float64Array(dIn);
  for (let i = 0; i < dSae; i++) {
    const a = acts[i] as number;
    if (a === 0) continue;
    let n = 1;
    if (rescale) {
      n = 0;
      for (let j = 0; j < dIn; j++) n += (wd[i * dIn + j] as number) ** 2;
      n = Math.sqrt(n);
    }
    const c = Float64Array.from({ length: dIn }, (_, j) => ((a / n) * (wd[i * dIn + j] as number)));
    for (let j = 0; j < dIn; j++) recon[j] = (recon[j] as number) + (c[j] as number);
    active.push({ i, c, a });
  }
  const rr = recon.reduce((s, v) => s + v * v, 0);
  const xc = Float64Array.from(xs, (v, j) => v - (bd[j] as number));
  const xn = Math.sqrt(xc.reduce((s, v) => s + v * v, 0));
  const out = active.map(({ i, c, a }) => {
    let dot = 0;
    let cc = 0;
    let cx = 0;
    for (let j = 0; j < dIn; j++) {
      dot += (c[j] as number) * (recon[j] as number);
      cc += (c[j] as number) ** 2;
      cx += (c[j] as number) * (xc[j] as number);
    }
    const norm = Math.sqrt(cc);
    return {
      feature: i, activation: a, contributionNorm: norm,
      fractionOfReconstruction: rr > 0 ? dot / rr : 0,
      cosineWithInput: norm > 0 && xn > 0 ? (Math.sign(a) * cx) / (norm * xn) : 0,
    };
  });
  out.sort((p, q) => q.fractionOfReconstruction - p.fractionOfReconstruction);
  return out.slice(0, opts.topN ?? 10);
}
