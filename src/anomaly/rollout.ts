/**
 * Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): per layer,
 * average the attention pattern over heads, add the identity for the residual connection and
 * renormalise rows, Â_l = (mean_h A_l,h + I) / 2 (rows of a softmax sum to 1, so the renormalisation
 * is the division by 2); the rollout is Â_L · … · Â_1. Row q of the rollout says how much of each
 * input token flows into position q at the top; the explained position is the classifier's
 * (encoders: [CLS] = 0; decoders: the last real token).
 */
import { ShapeError } from '../errors.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import type { ExplainModel, TokenAttribution } from './explain.js';

/**
 * Rollout of per-layer attention patterns of one row.
 * @param patterns One pattern per layer, each [n_heads][q][k] (plain arrays, rows summing to 1).
 * @returns The rollout [q][k] (rows sum to 1).
 * @throws {@link "tfjs-lens"!ShapeError} for no layers or patterns of different sizes.
 * @example attentionRollout([[[[1, 0], [0.5, 0.5]]]]) // [[1, 0], [0.25, 0.75]]
 * @category Anomaly
 */
export function attentionRollout(patterns: readonly (readonly (readonly (readonly number[])[])[])[]): number[][] {
  const first = patterns[0]?.[0];
  if (first === undefined) throw new ShapeError('attentionRollout: needs at least one layer with at least one head, each pattern [n_heads][q][k]');
  const n = first.length;
  let roll: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  patterns.forEach((heads, l) => {
    const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (const h of heads) {
        const v = h[i]?.[j];
        if (v === undefined || h.length !== n) throw new ShapeError(`attentionRollout: layer ${l} has a pattern that is not [${n}][${n}]; every layer must cover the same positions`);
        s += v;
      }
      return s / heads.length + (i === j ? 1 : 0);
    }));
    for (const r of a) {
      const z = r.reduce((x, y) => x + y, 0);
      for (let j = 0; j < n; j++) r[j] = (r[j] as number) / z;
    }
    // roll ← Â_l · roll: Â_l mixes the positions the lower layers already mixed.
    roll = a.map((ar) => Array.from({ length: n }, (_, j) => ar.reduce((s, v, k) => s + v * ((roll[k] as number[])[j] as number), 0)));
  });
  return roll;
}

/**
 * Attention-rollout attribution of one row at the classifier's position, from cached `hook_pattern`s.
 * @param model The model.
 * @param ids Token ids of the row (no padding).
 * @param position Position explained (default: 0 for encoders, the last token for decoders).
 * @returns The attribution (the rollout row; sums to 1); `score` is NaN (rollout explains no score).
 * @category Anomaly
 */
export function rolloutAttribution(model: ExplainModel, ids: readonly number[], position?: number): TokenAttribution {
  const rows = [[...ids]];
  const filter = (name: string): boolean => name.endsWith('attn.hook_pattern');
  const cache = model instanceof HookedEncoder
    ? model.runWithCache(rows, { namesFilter: filter, returnType: 'none' })[1]
    : model.runWithCache(rows, { namesFilter: filter, returnType: 'none' })[1];
  try {
    const patterns = Array.from({ length: model.cfg.nLayers }, (_, l) => (cache.get(`blocks.${l}.attn.hook_pattern`).arraySync() as number[][][][])[0] as number[][][]);
    const roll = attentionRollout(patterns);
    const q = position ?? (model instanceof HookedEncoder ? 0 : ids.length - 1);
    return { method: 'attention_rollout', ids: [...ids], attributions: [...(roll[q] ?? [])], score: NaN };
  } finally {
    cache.dispose();
  }
}

