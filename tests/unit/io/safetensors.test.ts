/**
 * safetensors reader/writer: round trips, half-precision rounding, BF16/I64 decoding,
 * unaligned data, and the real gpt2-tiny fixtures.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError, WeightLoadError } from '../../../src/errors.js';
import {
  parseSafetensors,
  readSafetensorsFile,
  serializeSafetensors,
  writeSafetensorsFile,
} from '../../../src/io/safetensors.js';
import { decodeTensorBytes, floatBitsToHalfBits } from '../../../src/io/safetensors_codec.js';
import { bytesOf, makeTempDir, rawSafetensors, removeDir } from './st_helpers.js';
import { bundledFixtureDir } from '../../helpers/fixtures.js';

const FIXTURES = bundledFixtureDir('gpt2-tiny');

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 bits of x */
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0] as number;
}
/** float32 value of bits */
function floatOf(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0] as number;
}
/** half bits → number through the reader's decoder */
function halfToNumber(h: number): number {
  return decodeTensorBytes(bytesOf(new Uint16Array([h])), 'F16', false, 't')[0] as number;
}

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir('st');
});
afterAll(async () => {
  await removeDir(tmp);
});

describe('serializeSafetensors / parseSafetensors round trip', () => {
  it('round-trips F32, F16, I32 and metadata; header sorted, space-padded to 8 bytes', () => {
    const w = new Float32Array([0.1, -2.5, 3e38, -0, Infinity, NaN]);
    const bytes = serializeSafetensors(
      {
        zeta: { dtype: 'F32', shape: [2, 3], data: w },
        alpha: { dtype: 'I32', shape: [4], data: [1, -2, 2147483647, -2147483648] },
        half: { dtype: 'F16', shape: [3], data: [1, 0.5, -65504] },
        scalar: { dtype: 'F32', shape: [], data: [7] },
        empty: { dtype: 'F32', shape: [0, 3], data: [] },
      },
      { format: 'pt', note: 'ünïcode' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(headerText.startsWith('{"__metadata__":')).toBe(true);
    expect(headerText.trimEnd().length).toBeLessThanOrEqual(n);
    const keys = Object.keys(JSON.parse(headerText) as object).filter((k) => k !== '__metadata__');
    expect(keys).toEqual(['alpha', 'empty', 'half', 'scalar', 'zeta']);

    const { tensors, metadata } = parseSafetensors(bytes, 'mem');
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    const z = tensors.get('zeta');
    expect(z?.dtype).toBe('F32');
    expect(z?.shape).toEqual([2, 3]);
    expect(z?.data).toBeInstanceOf(Float32Array);
    expect(Array.from(z?.data ?? [])).toEqual(Array.from(w));
    expect(Object.is(z?.data[3], -0)).toBe(true);
    const a = tensors.get('alpha');
    expect(a?.data).toBeInstanceOf(Int32Array);
    expect(Array.from(a?.data ?? [])).toEqual([1, -2, 2147483647, -2147483648]);
    expect(Array.from(tensors.get('half')?.data ?? [])).toEqual([1, 0.5, -65504]);
    expect(tensors.get('scalar')?.shape).toEqual([]);
    expect(Array.from(tensors.get('scalar')?.data ?? [])).toEqual([7]);
    expect(tensors.get('empty')?.data.length).toBe(0);
  });

  it('omits __metadata__ when none is given and accepts a Map', () => {
    const bytes = serializeSafetensors(new Map([['x', { dtype: 'F32' as const, shape: [1], data: [1] }]]));
    expect(new TextDecoder().decode(bytes.subarray(8, 24))).not.toContain('__metadata__');
    expect(parseSafetensors(bytes).metadata).toEqual({});
  });

  it('returns copies, not views of the input bytes', () => {
    const bytes = serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: [1, 2] } });
    const t = parseSafetensors(bytes).tensors.get('x');
    bytes.fill(0);
    expect(Array.from(t?.data ?? [])).toEqual([1, 2]);
  });

  it('reproduces the fixture model.safetensors byte for byte', async () => {
    const original = new Uint8Array(await readFile(join(FIXTURES, 'model.safetensors')));
    const { tensors, metadata } = parseSafetensors(original);
    const again = serializeSafetensors(
      new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }])),
      metadata,
    );
    expect(Buffer.from(again).equals(Buffer.from(original))).toBe(true);
  });

  it('rejects invalid tensors to write', () => {
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } })).toThrow(
      /serializeSafetensors: data length mismatch for tensor 'x' — expected 4 values/,
    );
    expect(() => serializeSafetensors({ x: { dtype: 'I32', shape: [1], data: [1.5] } })).toThrow(SafetensorsError);
    expect(() => serializeSafetensors({ x: { dtype: 'F64' as 'F32', shape: [1], data: [1] } })).toThrow(
      /unsupported dtype/,
    );
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [-1], data: [] } })).toThrow(/bad shape/);
    expect(() => serializeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: [1] } })).toThrow(/reserved name/);
    expect(() => serializeSafetensors({}, { a: 1 as unknown as string })).toThrow(/bad metadata value/);
  });
});

describe('F16 encoding (round to nearest even) and decoding', () => {
  it('every finite/inf half decodes and re-encodes to itself', () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads
      if (floatBitsToHalfBits(bitsOf(halfToNumber(h))) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('ties round to even; just above/below a tie round away/toward', () => {
    const bad: string[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (halfToNumber(h) + halfToNumber(h + 1)) / 2; // exact in float32 (half has 11 significant bits)
      const even = h % 2 === 0 ? h : h + 1;
      if (floatBitsToHalfBits(bitsOf(mid)) !== even) bad.push(`tie ${h}`);
      if (floatBitsToHalfBits(bitsOf(mid) + 1) !== h + 1) bad.push(`above ${h}`); // next float32 above the tie
      if (floatBitsToHalfBits(bitsOf(mid) - 1) !== h) bad.push(`below ${h}`); // next float32 below the tie
    }
    expect(bad).toEqual([]);
  });

  it('handles subnormals, overflow, signed zero, inf and NaN', () => {
    const enc = (x: number): number => floatBitsToHalfBits(bitsOf(x));
    expect(enc(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(enc(2 ** -25)).toBe(0x0000); // tie with 0 → even (0)
    expect(enc(floatOf(bitsOf(2 ** -25) + 1))).toBe(0x0001);
    expect(enc(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 → 2
    expect(enc(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the smallest normal
    expect(enc(1e-10)).toBe(0);
    expect(enc(-1e-10)).toBe(0x8000);
    expect(enc(-0)).toBe(0x8000);
    expect(enc(65504)).toBe(0x7bff);
    expect(enc(65519.99)).toBe(0x7bff);
    expect(enc(65520)).toBe(0x7c00); // tie → even → inf
    expect(enc(1e6)).toBe(0x7c00);
    expect(enc(-Infinity)).toBe(0xfc00);
    const nan = enc(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
    expect(floatBitsToHalfBits(0x7f800001)).toBe(0x7c01); // payload only in the low bits: still NaN
    expect(halfToNumber(0x0001)).toBe(2 ** -24);
    expect(halfToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(Object.is(halfToNumber(0x8000), -0)).toBe(true);
    expect(halfToNumber(0xfc00)).toBe(-Infinity);
    expect(halfToNumber(0x7e00)).toBeNaN();
  });

  it('round-trips special values through a file', () => {
    const values = [0, -0, 1, -1, 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, NaN, 0.1];
    const bytes = serializeSafetensors({ h: { dtype: 'F16', shape: [values.length], data: values } });
    const out = Array.from(parseSafetensors(bytes).tensors.get('h')?.data ?? []);
    expect(out.slice(0, 10)).toEqual([0, -0, 1, -1, 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, NaN]);
    expect(out[10]).toBe(halfToNumber(0x2e66)); // 0.1 → 0.0999755859375
  });
});

describe('BF16, I64, I8 and unaligned data', () => {
  it('decodes BF16 (top 16 bits of float32)', () => {
    const halves = new Uint16Array([0x3f80, 0xc020, 0x7f80, 0x0001, 0x8000]);
    const file = rawSafetensors({ b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, bytesOf(halves));
    const t = parseSafetensors(file).tensors.get('b');
    expect(t?.dtype).toBe('BF16');
    expect(t?.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t?.data ?? [])).toEqual([1, -2.5, Infinity, floatOf(0x00010000), -0]);
  });

  it('decodes I64 within int32 range to Int32Array', () => {
    const v = new BigInt64Array([0n, -3n, 2147483647n, -2147483648n]);
    const file = rawSafetensors({ ids: { dtype: 'I64', shape: [2, 2], data_offsets: [0, 32] } }, bytesOf(v));
    const t = parseSafetensors(file).tensors.get('ids');
    expect(t?.data).toBeInstanceOf(Int32Array);
    expect(Array.from(t?.data ?? [])).toEqual([0, -3, 2147483647, -2147483648]);
  });

  it.each([[2147483648n], [-2147483649n], [1n << 40n]])('rejects I64 value %s outside int32', (big) => {
    const v = new BigInt64Array([1n, big]);
    const file = rawSafetensors({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, bytesOf(v));
    expect(() => parseSafetensors(file, 'ids.safetensors')).toThrow(SafetensorsError);
    expect(() => parseSafetensors(file, 'ids.safetensors')).toThrow(
      new RegExp(`I64 value out of int32 range in tensor 'ids' of ids.safetensors — .*got ${big} at flat index 1`),
    );
  });

  it('round-trips I8 (written as one byte each, read widened to Int32Array)', () => {
    const bytes = serializeSafetensors({ q: { dtype: 'I8', shape: [2, 3], data: [-127, -1, 0, 1, 127, -128] } });
    const t = parseSafetensors(bytes).tensors.get('q');
    expect(t?.dtype).toBe('I8');
    expect(t?.data).toBeInstanceOf(Int32Array);
    expect(Array.from(t?.data ?? [])).toEqual([-127, -1, 0, 1, 127, -128]);
    const raw = rawSafetensors({ q: { dtype: 'I8', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([0xff, 0x80, 0x05]));
    expect(Array.from(parseSafetensors(raw).tensors.get('q')?.data ?? [])).toEqual([-1, -128, 5]);
  });

  it.each([[128], [-129], [1.5]])('refuses to write I8 value %s', (v) => {
    expect(() => serializeSafetensors({ q: { dtype: 'I8', shape: [2], data: [0, v] } })).toThrow(
      /bad I8 value in tensor 'q' — expected an integer in -128\.\.127, got .* at index 1/,
    );
  });

  it('decodes tensors at unaligned offsets (odd header length, odd byteOffset)', () => {
    const a = new Float32Array([1.5, -2.25]);
    const b = new Int32Array([7, -9]);
    const c = new Uint16Array([0x3c00, 0xc000]); // F16 1, -2
    const data = new Uint8Array(22);
    data.set(bytesOf(c), 0);
    data.set(bytesOf(a), 4);
    data.set(bytesOf(b), 12);
    data.set(bytesOf(new Uint16Array([0x4000])), 20); // BF16 2
    const header = {
      c: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      b: { dtype: 'I32', shape: [2], data_offsets: [12, 20] },
      d: { dtype: 'BF16', shape: [1], data_offsets: [20, 22] },
    };
    let text = JSON.stringify(header);
    if (text.length % 2 === 0) text += ' '; // data starts at an odd offset
    const file = rawSafetensors(text, data);
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    for (const bytes of [file, shifted.subarray(3)]) {
      const { tensors } = parseSafetensors(bytes);
      expect(Array.from(tensors.get('a')?.data ?? [])).toEqual([1.5, -2.25]);
      expect(Array.from(tensors.get('b')?.data ?? [])).toEqual([7, -9]);
      expect(Array.from(tensors.get('c')?.data ?? [])).toEqual([1, -2]);
      expect(Array.from(tensors.get('d')?.data ?? [])).toEqual([2]);
    }
  });
});

describe('files on disk', () => {
  it('reads the gpt2-tiny checkpoint fixture', async () => {
    const p = join(FIXTURES, 'model.safetensors');
    const { tensors, metadata } = await readSafetensorsFile(p);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.size).toBe(28);
    expect(tensors.get('transformer.wte.weight')?.shape).toEqual([1000, 64]);
    expect(tensors.get('transformer.wpe.weight')?.shape).toEqual([128, 64]);
    expect(tensors.get('transformer.h.1.attn.c_attn.weight')?.shape).toEqual([64, 192]);
    const fromBytes = parseSafetensors(new Uint8Array(await readFile(p)), p).tensors;
    for (const [name, t] of tensors) {
      expect(t.data.length).toBe(t.shape.reduce((x, y) => x * y, 1));
      expect(Array.from(t.data)).toEqual(Array.from(fromBytes.get(name)?.data ?? []));
    }
  });

  it('reads reference.safetensors; names, dtypes and shapes match reference.json', async () => {
    const ref = JSON.parse(await readFile(join(FIXTURES, 'reference.json'), 'utf8')) as {
      tensors: Record<string, { dtype: string; shape: number[] }>;
    };
    const { tensors, metadata } = await readSafetensorsFile(join(FIXTURES, 'reference.safetensors'));
    expect(metadata['format']).toBe('np');
    expect([...tensors.keys()].sort()).toEqual(Object.keys(ref.tensors).sort());
    for (const [name, info] of Object.entries(ref.tensors)) {
      expect(tensors.get(name)?.shape, name).toEqual(info.shape);
      expect(tensors.get(name)?.dtype, name).toBe(info.dtype);
    }
    const ids = tensors.get('inputs/input_ids');
    expect(ids?.data).toBeInstanceOf(Int32Array);
  });

  it('writes atomically and reads back; no temp files remain', async () => {
    const p = join(tmp, 'w.safetensors');
    await writeSafetensorsFile(p, { x: { dtype: 'F16', shape: [2], data: [0.5, 2] } }, { k: 'v' });
    const { tensors, metadata } = await readSafetensorsFile(p);
    expect(Array.from(tensors.get('x')?.data ?? [])).toEqual([0.5, 2]);
    expect(metadata).toEqual({ k: 'v' });
    expect(await readdir(tmp)).toEqual(['w.safetensors']);
  });

  it('leaves the destination untouched and removes the temp file when the write fails', async () => {
    const p = join(tmp, 'no-such-dir', 'x.safetensors');
    await expect(writeSafetensorsFile(p, { x: { dtype: 'F32', shape: [1], data: [1] } })).rejects.toThrow(
      /writeSafetensorsFile: could not write .*no-such-dir/,
    );
    await expect(writeSafetensorsFile(p, { x: { dtype: 'F32', shape: [1], data: [1] } })).rejects.toBeInstanceOf(
      WeightLoadError,
    );
    const target = join(tmp, 'target.safetensors');
    await writeFile(target, 'old');
    await expect(writeSafetensorsFile(target, { x: { dtype: 'F32', shape: [2], data: [1] } })).rejects.toThrow(
      SafetensorsError,
    );
    expect(await readFile(target, 'utf8')).toBe('old');
    const isDir = join(tmp, 'is-a-dir');
    await mkdir(isDir);
    await expect(writeSafetensorsFile(isDir, { x: { dtype: 'F32', shape: [1], data: [1] } })).rejects.toThrow(
      WeightLoadError,
    ); // the temp file was written, the rename failed
    expect((await readdir(tmp)).filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});
