/**
 * The shipped anomaly probe of distilbert-mini (a β-VAE on √n-pooled `blocks.0.attn.hook_q`, the
 * CLI's dev choice `vae_recon_sqrtn`, `models/distilbert-mini/probe/sms_spam/`): its score for a text,
 * the verdict against the threshold saved in its metadata (95th percentile of hold-out ham scores),
 * and a token explanation by integrated gradients of that score (the library's `probeTarget` +
 * `integratedGradients`; `probeTarget` reads the pooling and token mean from the probe itself).
 */
import type { integratedGradients, tokenizeForExplain } from '../src/anomaly/explain.js';
import type { probeTarget } from '../src/anomaly/probe_explain.js';
import type { decodeBetaVae } from '../src/probe/vae_codec.js';
import type { HookedEncoder, LensApi } from './lens_api.js';
import type { ProbeView } from './types.js';

/** Score and explain one text. */
export type ProbeRunner = (model: HookedEncoder, text: string) => Promise<ProbeView>;

const PROBE_DIR = 'models/distilbert-mini/probe/sms_spam/';
const STEPS = 16;

/** The probe runner of a model; throws a readable message when none ships or the bundle lacks a piece. */
export async function probeForModel(api: LensApi, model: string, base: string): Promise<ProbeRunner> {
  if (model !== 'distilbert-mini') throw new Error('the anomaly probe ships with distilbert-mini');
  const names = ['decodeBetaVae', 'probeTarget', 'tokenizeForExplain', 'integratedGradients'] as const;
  const missing = names.filter((n) => typeof api[n] !== 'function');
  if (missing.length > 0) throw new Error(`this tfjs-lens bundle does not export ${missing.join(', ')}`);
  const decode = api['decodeBetaVae'] as typeof decodeBetaVae;
  const target = api['probeTarget'] as typeof probeTarget;
  const tokenize = api['tokenizeForExplain'] as typeof tokenizeForExplain;
  const ig = api['integratedGradients'] as typeof integratedGradients;
  const dir = new URL(PROBE_DIR, base);
  const [cfgR, wR] = await Promise.all([fetch(new URL('vae_config.json', dir)), fetch(new URL('vae_weights.safetensors', dir))]);
  if (!cfgR.ok || !wR.ok) throw new Error(`${PROBE_DIR} is not shipped (HTTP ${cfgR.ok ? wR.status : cfgR.status})`);
  const probe = decode(await cfgR.text(), new Uint8Array(await wR.arrayBuffer()));
  const dataset = typeof probe.metadata['dataset'] === 'string' ? probe.metadata['dataset'] : 'sms_spam';
  const thr = probe.metadata['threshold'];
  const threshold = typeof thr === 'number' && Number.isFinite(thr) ? { threshold: thr } : {};
  const pooling = probe.metadata['pooling'] === 'sqrtn' ? '√n' : 'mean';
  return async (enc, text) => {
    await Promise.resolve();
    const t = target(enc, probe);
    const rows = tokenize(enc, [text]);
    const a = ig(t, rows.ids[0] ?? [], rows.mask[0], { steps: STEPS });
    return {
      dataset,
      score: a.score,
      ...threshold,
      tokens: a.ids.map((id) => enc.tokenizer?.decodeToken(id) ?? `#${id}`),
      contributions: a.attributions,
      method: `integrated gradients of the reconstruction-MSE score (${pooling}-pooled hook_q) at hook_embed, ${STEPS} steps, from the all-[PAD] input (score ${(a.baselineScore ?? NaN).toFixed(3)}); completeness gap ${(a.completenessGap ?? 0).toExponential(1)}`,
    };
  };
}
