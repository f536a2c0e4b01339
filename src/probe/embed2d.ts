/**
 * 2-D embedding of probe latents for plots: UMAP (McInnes et al. 2018) from the maintained npm
 * implementation `umap-js` (PAIR-code), seeded through its `random` option so a run is reproducible.
 */
import { DatasetError } from '../errors.js';
import { UMAP } from 'umap-js';
import { seededRng } from '../utils/rng.js';
import { toFeatureMatrix, type FeatureMatrix } from './matrix.js';

/**
 * Options of {@link umapEmbed}.
 * @category Probe
 */
export interface UmapOptions {
  /** Seed of UMAP's random choices (default 0). */
  readonly seed?: number;
  /** Neighbours of the fuzzy graph (default 15, capped at n − 1). */
  readonly nNeighbors?: number;
  /** Minimum distance in the layout (default 0.1). */
  readonly minDist?: number;
  /** Optimisation epochs (default: umap-js's choice, 500 for small data). */
  readonly nEpochs?: number;
}

/**
 * Embed rows in 2-D with UMAP.
 * @param x Rows [n, d] (n ≥ 3), e.g. VAE posterior means.
 * @param o Seed and UMAP parameters.
 * @returns Coordinates [n][2].
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than 3 rows or non-finite values.
 * @example const xy = umapEmbed(result.testLatent, { seed: 0 });
 * @category Probe
 */
export function umapEmbed(x: FeatureMatrix, o: UmapOptions = {}): number[][] {
  const m = toFeatureMatrix(x, 'umapEmbed');
  if (m.rows < 3) throw new DatasetError(`umapEmbed: need at least 3 rows, got ${m.rows}`);
  const rows = Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(o.nNeighbors ?? 15, m.rows - 1),
    minDist: o.minDist ?? 0.1,
    random: seededRng(o.seed ?? 0),
    ...(o.nEpochs === undefined ? {} : { nEpochs: o.nEpochs }),
  });
  return umap.fit(rows);
}
