/**
 * Reference fixtures: read a fixture folder's reference.json + reference.safetensors and compare
 * tensors with each entry's stated tolerance (|a - ref| <= atol + rtol·|ref|; -inf must match).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { parseSafetensors, type RawTensor } from '../../src/io/safetensors.js';

export interface RefEntry {
  shape: number[];
  atol?: number | null;
  rtol?: number | null;
  meaning?: string;
}

export interface Reference {
  dir: string;
  json: {
    model: Record<string, unknown>;
    inputs: Record<string, unknown>;
    transformer_lens?: { cfg: Record<string, { cache_keys: string[] }>; patching?: Record<string, unknown> };
    tensors: Record<string, RefEntry>;
  } & Record<string, unknown>;
  tensors: Map<string, RawTensor>;
}

export function loadReference(dir: string): Reference {
  const json = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference['json'];
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'reference.safetensors'))), dir);
  return { dir, json, tensors };
}

/** Names in the reference under a prefix (without the prefix). */
export function namesUnder(ref: Reference, prefix: string): string[] {
  return Object.keys(ref.json.tensors)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
}

export function refRows(ref: Reference, name: string): number[][] {
  const t = ref.tensors.get(name);
  if (t === undefined) throw new Error(`reference lacks ${name}`);
  const [b, p] = t.shape as [number, number];
  return Array.from({ length: b }, (_, i) => Array.from(t.data.subarray(i * p, (i + 1) * p)));
}

/** Max violation of the tolerance (<= 0 means within tolerance) and the max abs error. */
export function compare(actual: ArrayLike<number>, ref: RawTensor, atol: number, rtol: number): { worst: number; maxAbs: number; at: number } {
  let worst = -Infinity;
  let maxAbs = 0;
  let at = -1;
  for (let i = 0; i < ref.data.length; i++) {
    const r = ref.data[i] as number;
    const a = actual[i] as number;
    if (!Number.isFinite(r)) {
      if (a !== r) return { worst: Infinity, maxAbs: Infinity, at: i };
      continue;
    }
    const err = Math.abs(a - r);
    if (!(err <= maxAbs)) maxAbs = Number.isNaN(err) ? Infinity : Math.max(maxAbs, err);
    const v = Number.isNaN(err) ? Infinity : err - (atol + rtol * Math.abs(r));
    if (v > worst) {
      worst = v;
      at = i;
    }
  }
  return { worst, maxAbs, at };
}

/** Assert a tensor matches reference entry `name` within its stated tolerance. */
export function expectMatchesRef(actual: tf.Tensor, ref: Reference, name: string): number {
  const entry = ref.json.tensors[name];
  const t = ref.tensors.get(name);
  expect(entry, `reference.json lacks ${name}`).toBeDefined();
  expect(t, `reference.safetensors lacks ${name}`).toBeDefined();
  if (entry === undefined || t === undefined) return Infinity;
  expect(actual.shape, `shape of ${name}`).toEqual(entry.shape);
  const atol = entry.atol ?? 1e-5;
  const rtol = entry.rtol ?? 1e-4;
  const { worst, maxAbs, at } = compare(actual.dataSync(), t, atol, rtol);
  expect(worst, `${name}: max abs err ${maxAbs} at flat index ${at} (atol ${atol}, rtol ${rtol})`).toBeLessThanOrEqual(0);
  return maxAbs;
}

/**
 * Largest |a − b| over two tensors of the same shape (asserted; no broadcasting), element by element.
 * @param a A tensor.
 * @param b A tensor of a's shape.
 * @returns The largest absolute difference: 0 when every element is equal, NaN when either holds a NaN.
 */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const [av, bv] = [a.dataSync(), b.dataSync()];
  let m = 0;
  for (let i = 0; i < av.length; i++) m = Math.max(m, Math.abs((av[i] as number) - (bv[i] as number)));
  return m;
}
