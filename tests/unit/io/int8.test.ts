/**
 * 8-bit weights: per-row symmetric int8 quantisation (error ≤ scale/2), the int8 safetensors layout
 * (I8 + `.scale` F32), its size against float32, transparent dequantisation in loadCheckpointTensors
 * (so HookedEncoder.fromPretrained reads an int8 folder), and typed errors for corrupt scale tensors.
 */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, SafetensorsError, ShapeError, WeightLoadError } from '../../../src/errors.js';
import { loadCheckpointTensors } from '../../../src/io/checkpoint.js';
import {
  defaultInt8Selector,
  dequantizeInt8Tensors,
  dequantizeRowsInt8,
  INT8_METADATA_KEY,
  INT8_METADATA_VALUE,
  quantizeCheckpointTensors,
  quantizeRowsInt8,
  readInt8Safetensors,
  writeInt8Safetensors,
} from '../../../src/io/int8.js';
import { parseSafetensors, serializeSafetensors, type RawTensor, type TensorToWrite } from '../../../src/io/safetensors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { bundledFixtureDir } from '../../helpers/fixtures.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { makeTempDir, removeDir } from './st_helpers.js';

const DISTIL = bundledFixtureDir('distilbert-tiny');
const MINI = 'models/distilbert-mini';

/** Deterministic pseudo-random floats in (−a, a). */
function randomFloats(n: number, a: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * a;
  }
  return out;
}

let dir: string;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  dir = await makeTempDir('int8');
});
afterAll(async () => removeDir(dir));

describe('quantizeRowsInt8 / dequantizeRowsInt8', () => {
  it('uses scale = max|row| / 127, rounds half to even, and keeps an all-zero row exact', () => {
    const { q, scale } = quantizeRowsInt8(new Float32Array([127, 2.5, -127, -3.5, 0, 0, 0.25, 0]), [4, 2]);
    expect(Array.from(scale)).toEqual([1, 1, 0, Math.fround(0.25 / 127)]);
    expect(Array.from(q)).toEqual([127, 2, -127, -4, 0, 0, 127, 0]); // 2.5 → 2 and -3.5 → -4 (half to even)
    const back = dequantizeRowsInt8(q, scale, 2);
    expect(Array.from(back)).toEqual([127, 2, -127, -4, 0, 0, Math.fround(127 * Math.fround(0.25 / 127)), 0]);
  });

  it('round-trip error of every element is at most scale/2 (random 64×200 matrix, rows of different ranges)', () => {
    const rows = 64;
    const cols = 200;
    const w = randomFloats(rows * cols, 1, 7);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = (w[r * cols + c] as number) * 10 ** ((r % 7) - 3);
    const { q, scale } = quantizeRowsInt8(w, [rows, cols]);
    const back = dequantizeRowsInt8(q, scale, cols);
    let worst = 0;
    for (let i = 0; i < w.length; i++) {
      const s = scale[Math.floor(i / cols)] as number;
      worst = Math.max(worst, Math.abs((w[i] as number) - (back[i] as number)) / s);
      expect(Math.abs(q[i] as number)).toBeLessThanOrEqual(127);
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(worst).toBeGreaterThan(0.45); // the bound is nearly reached: rounding really happens
  });

  it('refuses NaN/Inf and a shape that does not match the data', () => {
    expect(() => quantizeRowsInt8(new Float32Array([1, NaN]), [1, 2], 'w')).toThrow(WeightLoadError);
    expect(() => quantizeRowsInt8(new Float32Array([1, NaN]), [1, 2], 'w')).toThrow(/'w' row 0 holds NaN — expected finite weights/);
    expect(() => quantizeRowsInt8(new Float32Array(5), [2, 2], 'w')).toThrow(ShapeError);
  });
});

describe('int8 checkpoint files (distilbert-tiny)', () => {
  let float: Map<string, RawTensor>;
  beforeAll(async () => {
    float = await loadCheckpointTensors(DISTIL);
  });

  it('the default selection quantises linear weights only: not embeddings, LayerNorm or biases', () => {
    const picked = [...float].filter(([n, t]) => defaultInt8Selector(n, t)).map(([n]) => n);
    expect(picked).toHaveLength(13); // 2 layers × (q, k, v, out, lin1, lin2) + vocab_transform
    expect(picked).toContain('distilbert.transformer.layer.0.attention.q_lin.weight');
    expect(picked).toContain('vocab_transform.weight');
    expect(picked.some((n) => /embeddings|LayerNorm|layer_norm|bias/.test(n))).toBe(false);
  });

  it('writes I8 + .scale tensors with metadata, reads back within scale/2, and reports sizes', async () => {
    const path = join(dir, 'tiny.int8.safetensors');
    const report = await writeInt8Safetensors(path, float);
    expect(report.quantized).toHaveLength(13);
    expect(report.maxErrorOverScale).toBeLessThanOrEqual(0.5 + 1e-5);
    const { tensors, metadata } = parseSafetensors(new Uint8Array(await readFile(path)));
    expect(metadata[INT8_METADATA_KEY]).toBe(INT8_METADATA_VALUE);
    expect(tensors.get('vocab_transform.weight')?.dtype).toBe('I8');
    expect(tensors.get('vocab_transform.weight.scale')?.shape).toEqual([64]);
    expect(tensors.get('distilbert.embeddings.word_embeddings.weight')?.dtype).toBe('F32');
    const back = await readInt8Safetensors(path);
    expect([...back.keys()].sort()).toEqual([...float.keys()].sort());
    let maxAbs = 0;
    for (const name of report.quantized) {
      const a = float.get(name)?.data as Float32Array;
      const b = back.get(name)?.data as Float32Array;
      const s = tensors.get(`${name}.scale`)?.data as Float32Array;
      const cols = a.length / s.length;
      for (let i = 0; i < a.length; i++) {
        const e = Math.abs((a[i] as number) - (b[i] as number));
        maxAbs = Math.max(maxAbs, e);
        expect(e).toBeLessThanOrEqual((s[Math.floor(i / cols)] as number) * (0.5 + 1e-5));
      }
    }
    expect(maxAbs).toBeCloseTo(report.maxAbsError, 7);
    for (const name of report.kept) expect(back.get(name)?.data).toEqual(float.get(name)?.data);
    const ratio = (await stat(path)).size / (await stat(join(DISTIL, 'model.safetensors'))).size;
    console.log(`distilbert-tiny int8 (default selection): ${(await stat(path)).size} B, ratio ${ratio.toFixed(3)} of the float32 file, max abs error ${report.maxAbsError.toExponential(3)}`);
    // Honest bound: the 1000×64 word embeddings (kept float) are 40% of this tiny model's weights.
    expect(ratio).toBeLessThan(0.6);
  });

  it('quantising every 2-D float tensor (embeddings too) gets under 30% of the float32 file', async () => {
    const path = join(dir, 'tiny.all2d.safetensors');
    const report = await writeInt8Safetensors(path, float, { select: (_n, t) => t.shape.length === 2 && t.data instanceof Float32Array });
    const ratio = (await stat(path)).size / (await stat(join(DISTIL, 'model.safetensors'))).size;
    console.log(`distilbert-tiny int8 (all 2-D incl. embeddings): ratio ${ratio.toFixed(3)}, max abs error ${report.maxAbsError.toExponential(3)}`);
    expect(ratio).toBeLessThanOrEqual(0.3);
  });

  it('an int8 model.safetensors loads through HookedEncoder.fromPretrained; MLM logits stay close to the float model', async () => {
    const qdir = join(dir, 'distil-q');
    await mkdir(qdir);
    await copyFile(join(DISTIL, 'config.json'), join(qdir, 'config.json'));
    await writeInt8Safetensors(join(qdir, 'model.safetensors'), float);
    const ref = loadReference(DISTIL);
    const ids = refRows(ref, 'inputs/input_ids');
    const mask = refRows(ref, 'inputs/attention_mask');
    const a = await HookedEncoder.fromPretrained(DISTIL, { quiet: true, tokenizer: null });
    const b = await HookedEncoder.fromPretrained(qdir, { quiet: true, tokenizer: null });
    const la = a.forward(ids, { attentionMask: mask });
    const lb = b.forward(ids, { attentionMask: mask });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(la, lb))).dataSync()[0] as number);
    const range = tf.tidy(() => tf.max(tf.abs(la)).dataSync()[0] as number);
    console.log(`distilbert-tiny logits: max |float − int8| = ${diff.toExponential(3)} (max |logit| ${range.toFixed(3)})`);
    // A random-init fixture (initializer_range 0.2) amplifies weight noise; the trained
    // distilbert-mini below stays within 1% of its logit range.
    expect(diff).toBeLessThan(0.1 * range);
    expect(diff).toBeGreaterThan(0); // the weights really changed
    tf.dispose([la, lb]);
    a.dispose();
    b.dispose();
  });
});

describe.skipIf(!existsSync(join(MINI, 'model.safetensors')))('int8 sizes of models/distilbert-mini', () => {
  it('reports the size ratio and max abs error (default and all-2-D selection)', async () => {
    const float = await loadCheckpointTensors(MINI);
    const orig = (await stat(join(MINI, 'model.safetensors'))).size;
    const p1 = join(dir, 'mini.int8.safetensors');
    const r1 = await writeInt8Safetensors(p1, float);
    const p2 = join(dir, 'mini.all2d.safetensors');
    const r2 = await writeInt8Safetensors(p2, float, { select: (_n, t) => t.shape.length === 2 && t.data instanceof Float32Array });
    const s1 = (await stat(p1)).size;
    const s2 = (await stat(p2)).size;
    const dtypes = [...new Set([...float.values()].map((t) => t.dtype))].join('/');
    console.log(
      `distilbert-mini (${dtypes} file, ${orig} B; float32 payload ${r1.float32Bytes} B): default int8 ${s1} B = ${(s1 / r1.float32Bytes).toFixed(3)} of float32, ` +
        `max abs error ${r1.maxAbsError.toExponential(3)}; all 2-D int8 ${s2} B = ${(s2 / r2.float32Bytes).toFixed(3)} of float32, max abs error ${r2.maxAbsError.toExponential(3)}`,
    );
    expect(s2 / r2.float32Bytes).toBeLessThanOrEqual(0.3);
    expect(r1.maxErrorOverScale).toBeLessThanOrEqual(0.5 + 1e-5);
  });

  it('the dequantised model gives logits within 1% of the float model and the same argmax', async () => {
    const qdir = join(dir, 'mini-q');
    await mkdir(qdir);
    await copyFile(join(MINI, 'config.json'), join(qdir, 'config.json'));
    await writeInt8Safetensors(join(qdir, 'model.safetensors'), await loadCheckpointTensors(MINI));
    const a = await HookedEncoder.fromPretrained(MINI, { quiet: true, tokenizer: null });
    const b = await HookedEncoder.fromPretrained(qdir, { quiet: true, tokenizer: null });
    const ids = [[101, 1996, 4937, 2938, 2006, 1996, 13523, 102], [101, 7592, 2088, 2003, 2307, 2651, 1012, 102]];
    const la = a.forward(ids);
    const lb = b.forward(ids);
    const [diff, range, agree] = tf.tidy(() => [
      tf.max(tf.abs(tf.sub(la, lb))).dataSync()[0] as number,
      tf.max(tf.abs(la)).dataSync()[0] as number,
      tf.mean(tf.cast(tf.equal(tf.argMax(la, -1), tf.argMax(lb, -1)), 'float32')).dataSync()[0] as number,
    ]);
    console.log(`distilbert-mini logits: max |float − int8| = ${diff.toExponential(3)} (max |logit| ${range.toFixed(3)}), argmax agreement ${agree}`);
    expect(diff).toBeLessThan(0.01 * range);
    expect(agree).toBe(1);
    tf.dispose([la, lb]);
    a.dispose();
    b.dispose();
  });
});

describe('typed errors', () => {
  const w = new Float32Array([0.5, -1, 0.25, 0.75]);
  const { tensors: good, metadata } = quantizeCheckpointTensors(new Map([['lin.weight', { dtype: 'F32', shape: [2, 2], data: w }]]));
  const file = (edit: (m: Map<string, TensorToWrite>) => void, meta: Record<string, string> = metadata): Uint8Array => {
    const m = new Map(good);
    edit(m);
    return serializeSafetensors(m, meta);
  };
  const read = (bytes: Uint8Array): Map<string, RawTensor> => dequantizeInt8Tensors(parseSafetensors(bytes, 'q.safetensors'), 'q.safetensors');

  it('a good file dequantises', () => {
    expect(read(file(() => undefined)).get('lin.weight')?.dtype).toBe('F32');
  });

  it.each([
    ['missing', (m: Map<string, TensorToWrite>) => m.delete('lin.weight.scale'), /missing scale tensor for 'lin.weight' in q.safetensors — expected an F32 tensor 'lin.weight.scale' of shape \[2\]/],
    ['wrong shape', (m: Map<string, TensorToWrite>) => m.set('lin.weight.scale', { dtype: 'F32', shape: [3], data: [1, 1, 1] }), /bad scale tensor .*expected 'lin.weight.scale' F32 \[2\], got F32 \[3\]/],
    ['wrong dtype', (m: Map<string, TensorToWrite>) => m.set('lin.weight.scale', { dtype: 'I32', shape: [2], data: [1, 1] }), /bad scale tensor .*got I32 \[2\]/],
    ['negative', (m: Map<string, TensorToWrite>) => m.set('lin.weight.scale', { dtype: 'F32', shape: [2], data: [0.1, -0.1] }), /bad scale value .*got -0.1\d* at row 1/],
    ['NaN', (m: Map<string, TensorToWrite>) => m.set('lin.weight.scale', { dtype: 'F32', shape: [2], data: [NaN, 0.1] }), /bad scale value .*got NaN at row 0/],
    ['orphan', (m: Map<string, TensorToWrite>) => m.set('other.scale', { dtype: 'F32', shape: [1], data: [1] }), /scale tensor 'other.scale' in q.safetensors has no int8 tensor 'other'/],
  ])('a %s scale tensor is a SafetensorsError with the fix', (_what, edit, message) => {
    const bytes = file(edit);
    expect(() => read(bytes)).toThrow(SafetensorsError);
    expect(() => read(bytes)).toThrow(message);
    expect(() => read(bytes)).toThrow(/re-export it with writeInt8Safetensors/);
  });

  it('a float file or an unknown scheme is refused; the loader stops a corrupt int8 folder', async () => {
    expect(() => read(file(() => undefined, { format: 'pt' }))).toThrow(/q.safetensors is not an int8 file .*read a float file with readSafetensorsFile/);
    expect(() => read(file(() => undefined, { [INT8_METADATA_KEY]: 'int4-v9' }))).toThrow(/unsupported int8 scheme .*got int4-v9/);
    const bad = join(dir, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'model.safetensors'), file((m) => m.delete('lin.weight.scale')));
    await expect(loadCheckpointTensors(bad)).rejects.toThrow(SafetensorsError);
  });

  it('a selection that picks a non-matrix is a ConfigError', () => {
    const t = new Map([['ln.weight', { dtype: 'F32' as const, shape: [4], data: w }]]);
    expect(() => quantizeCheckpointTensors(t, { select: () => true })).toThrow(ConfigError);
    expect(() => quantizeCheckpointTensors(t, { select: () => true })).toThrow(/select picked 'ln.weight' \(F32 \[4\]\) — expected a 2-D float tensor/);
  });
});
