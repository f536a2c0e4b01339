/**
 * Rotary position embeddings, "rotate half" form (HF Llama / GPT-NeoX, TL `apply_rotary` with
 * `rotary_adjacent_pairs=False`): the first `rotaryDim` dimensions of each head are split into two
 * halves (x1, x2) and rotated as (x1·cos − x2·sin, x2·cos + x1·sin) with angle pos / base^(2i/rotaryDim);
 * the remaining dimensions pass through (Pythia rotates a quarter of each head).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RopeScaling } from '../config.js';

/** cos and sin of every (row, position, rotated dimension) [batch, pos, 1, rotary_dim]. */
export interface RotaryTables {
  readonly cos: tf.Tensor4D;
  readonly sin: tf.Tensor4D;
}

/**
 * Llama 3 frequency scaling (HF `_compute_llama3_parameters`, TL `use_NTK_by_parts_rope`): long
 * wavelengths are divided by `factor`, short ones kept, the band between interpolated.
 */
function llama3Scale(f: number, s: RopeScaling): number {
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const wavelen = (2 * Math.PI) / f;
  if (wavelen < highWavelen) return f;
  if (wavelen > lowWavelen) return f / s.factor;
  const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return (1 - smooth) * (f / s.factor) + smooth * f;
}

/**
 * cos and sin tables for the given positions.
 * @param positions Position id of each (row, pos) [batch, pos] (int32).
 * @param rotaryDim Rotated dimensions per head (even).
 * @param base Rotary base θ.
 * @param scaling Llama 3 frequency scaling, if the config has it.
 * @returns `{cos, sin}` [batch, pos, 1, rotaryDim], the halves repeated ([f0 … f_{r/2-1}, f0 …]).
 */
export function rotaryTables(positions: tf.Tensor2D, rotaryDim: number, base: number, scaling?: RopeScaling): RotaryTables {
  return tf.tidy(() => {
    const half = rotaryDim / 2;
    const inv = new Float32Array(rotaryDim);
    for (let i = 0; i < half; i++) {
      // HF: inv_freq = 1 / base^(2i / dim), computed in float32 as torch does.
      let f = Math.fround(1 / Math.fround(Math.pow(base, Math.fround((2 * i) / rotaryDim))));
      if (scaling !== undefined) f = Math.fround(llama3Scale(f, scaling));
      inv[i] = f;
      inv[i + half] = f;
    }
    const [batch, pos] = positions.shape;
    const angles = tf.mul<tf.Tensor4D>(tf.reshape(tf.cast(positions, 'float32'), [batch, pos, 1, 1]), tf.tensor4d(inv, [1, 1, 1, rotaryDim])); // [batch, pos, 1, rotary_dim]
    return { cos: tf.cos<tf.Tensor4D>(angles), sin: tf.sin<tf.Tensor4D>(angles) };
  });
}

/**
 * Rotate q or k.
 * @param x Queries or keys [batch, pos, heads, d_head].
 * @param cos cos table [batch, pos, 1, rotaryDim].
 * @param sin sin table [batch, pos, 1, rotaryDim].
 * @returns x with its first rotaryDim dimensions rotated [batch, pos, heads, d_head].
 */
export function applyRotary(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const [batch, pos, heads, dHead] = x.shape;
  const r = cos.shape[3];
  const half = r / 2;
  const xRot = r === dHead ? x : tf.slice(x, [0, 0, 0, 0], [batch, pos, heads, r]); // [batch, pos, heads, rotary_dim]
  const x1 = tf.slice(xRot, [0, 0, 0, 0], [batch, pos, heads, half]);
  const x2 = tf.slice(xRot, [0, 0, 0, half], [batch, pos, heads, half]);
  const flipped = tf.concat([tf.neg(x2), x1], 3); // [batch, pos, heads, rotary_dim]
  const rotated = tf.add<tf.Tensor4D>(tf.mul(xRot, cos), tf.mul(flipped, sin));
  if (r === dHead) return rotated;
  return tf.concat([rotated, tf.slice(x, [0, 0, 0, r], [batch, pos, heads, dHead - r])], 3);
}
