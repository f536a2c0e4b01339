/** Patch setters write exactly the indexed slice (all batch rows), copy values exactly, and validate. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import {
  layerHeadDestSrcPosPatternPatchSetter,
  layerHeadPatternPatchSetter,
  layerHeadPosPatternPatchSetter,
  layerHeadVectorPatchSetter,
  layerPosHeadVectorPatchSetter,
  layerPosPatchSetter,
  tiledAxisPatch,
  type PatchSetter,
} from '../../../src/patching/setters.js';
import { expectNoLeak } from '../../helpers/memory.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** Multi-index of flat offset i in a row-major shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let r = i;
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    const d = shape[ax] as number;
    out[ax] = r % d;
    r = Math.floor(r / d);
  }
  return out;
}

// [name, setter, activation shape, index, indexed activation axes] — TL's index conventions.
const CASES: [string, PatchSetter, number[], number[], number[]][] = [
  ['layerPosPatchSetter [layer, pos] on [b, pos, d]', layerPosPatchSetter, [2, 5, 3], [1, 3], [1]],
  ['layerPosHeadVectorPatchSetter [layer, pos, head] on [b, pos, h, e]', layerPosHeadVectorPatchSetter, [2, 5, 4, 3], [0, 2, 1], [1, 2]],
  ['layerHeadVectorPatchSetter [layer, head] on [b, pos, h, e]', layerHeadVectorPatchSetter, [2, 5, 4, 3], [1, 3], [2]],
  ['layerHeadPatternPatchSetter [layer, head] on [b, h, q, k]', layerHeadPatternPatchSetter, [2, 4, 5, 5], [0, 2], [1]],
  ['layerHeadPosPatternPatchSetter [layer, head, dest] on [b, h, q, k]', layerHeadPosPatternPatchSetter, [2, 4, 5, 5], [1, 1, 4], [1, 2]],
  ['layerHeadDestSrcPosPatternPatchSetter [layer, head, dest, src]', layerHeadDestSrcPosPatternPatchSetter, [2, 4, 5, 5], [0, 3, 4, 2], [1, 2, 3]],
];

describe('patch setters', () => {
  it.each(CASES)('%s writes exactly the indexed slice, every batch row', (_name, setter, shape, index, axes) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const corrupted = tf.tensor(Float32Array.from({ length: size }, (_, i) => -(i + 1) * 0.37), shape);
    const clean = tf.tensor(Float32Array.from({ length: size }, (_, i) => (i + 1) * 1.13), shape);
    const out = expectNoLeak(() => setter(corrupted, index, clean), () => 1);
    expect(out.shape).toEqual(shape);
    const o = out.dataSync();
    const c = clean.dataSync();
    const k = corrupted.dataSync();
    let patched = 0;
    for (let i = 0; i < size; i++) {
      const at = unravel(i, shape);
      const inSlice = axes.every((ax, j) => at[ax] === index[j + 1]);
      expect(o[i]).toBe(inSlice ? c[i] : k[i]); // exact copies, no arithmetic
      if (inSlice) patched++;
    }
    const expected = size / axes.reduce((a, ax) => a * (shape[ax] as number), 1);
    expect(patched).toBe(expected);
    expect(setter.actAxes).toEqual(axes);
    tf.dispose([corrupted, clean, out]);
  });

  it('tiledAxisPatch patches each copy with its own row (or none) = per-copy setter calls', () => {
    const shape = [2, 5, 4, 3];
    const clean = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const copies = [0, 1, 2].map((s) => tf.randomNormal(shape, 0, 1, 'float32', 10 + s));
    const tiled = tf.concat(copies, 0);
    const rows = [[0, 1, 2], undefined, [0, 4, 0]];
    const out = expectNoLeak(() => tiledAxisPatch('t', tiled, clean, rows, [1, 2]), () => 1);
    const expected = tf.concat(
      copies.map((c, i) => (rows[i] === undefined ? c.clone() : layerPosHeadVectorPatchSetter(c, rows[i] as number[], clean))),
      0,
    );
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([clean, tiled, out, expected, ...copies]);
  });

  it('rejects bad indices and shapes with ShapeError naming the setter', () => {
    const a = tf.zeros([2, 5, 3]);
    const b = tf.zeros([2, 5, 4]);
    expect(() => layerPosPatchSetter(a, [0, 5], a)).toThrow(ShapeError);
    expect(() => layerPosPatchSetter(a, [0, 5], a)).toThrow(/layerPosPatchSetter: index entry 1 is 5, expected an integer in \[0, 5\)/);
    expect(() => layerPosPatchSetter(a, [0], a)).toThrow(/index must have 2 entries/);
    expect(() => layerPosPatchSetter(a, [0, 1.5], a)).toThrow(ShapeError);
    expect(() => layerPosPatchSetter(a, [0, 1], b)).toThrow(/layerPosPatchSetter: corrupted activation has shape \[2, 5, 3\]/);
    expect(() => layerHeadDestSrcPosPatternPatchSetter(a, [0, 1, 1, 1], a)).toThrow(/has no axis 3/);
    expect(() => tiledAxisPatch('t', a, tf.zeros([1, 5, 3]), [[0, 1]], [1])).toThrow(/expected the clean shape/);
    tf.dispose([a, b]);
  });
});
