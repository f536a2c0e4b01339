/**
 * Next-token choice from one row of logits: greedy (temperature 0), or sampling with temperature,
 * top-k and top-p (nucleus) filtering, as TransformerLens `utils.sample_logits`.
 */
import { ConfigError } from '../errors.js';
import type { Rng } from '../utils/rng.js';

/** Sampling options. @category Model */
export interface SamplingOptions {
  /** 0 = greedy (argmax); default 1. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens. */
  readonly topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p. */
  readonly topP?: number;
}

/** Validate sampling options. @throws {@link "tfjs-lens"!ConfigError} */
export function checkSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 1;
  if (!(t >= 0)) throw new ConfigError(`generate: temperature must be ≥ 0, got ${t}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) {
    throw new ConfigError(`generate: topK must be a positive integer, got ${o.topK}`);
  }
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) {
    throw new ConfigError(`generate: topP must be in (0, 1], got ${o.topP}`);
  }
}

/**
 * Choose the next token.
 * @param logits One row of logits [d_vocab].
 * @param o Sampling options.
 * @param rand Seeded uniform generator.
 * @returns Token id.
 */
export function sampleToken(logits: Float32Array, o: SamplingOptions, rand: Rng): number {
  const t = o.temperature ?? 1;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  if (t === 0) return best;
  const max = logits[best] as number;
  let idx = Array.from(logits.keys());
  if (o.topK !== undefined || o.topP !== undefined) idx.sort((a, b) => (logits[b] as number) - (logits[a] as number));
  if (o.topK !== undefined) idx = idx.slice(0, o.topK);
  let probs = idx.map((i) => Math.exp(((logits[i] as number) - max) / t));
  let total = probs.reduce((a, v) => a + v, 0);
  if (o.topP !== undefined) {
    let cum = 0;
    let keep = idx.length;
    for (let j = 0; j < probs.length; j++) {
      cum += (probs[j] as number) / total;
      // Keep tokens while the mass before them is below p (the first is always kept).
      if (cum >= o.topP) {
        keep = j + 1;
        break;
      }
    }
    idx = idx.slice(0, keep);
    probs = probs.slice(0, keep);
    total = probs.reduce((a, v) => a + v, 0);
  }
  let u = rand() * total;
  for (let j = 0; j < idx.length; j++) {
    u -= probs[j] as number;
    if (u <= 0) return idx[j] as number;
  }
  return idx[idx.length - 1] as number;
}
