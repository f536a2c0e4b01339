/**
 * One test per malformed-file case: each checks the error class (SafetensorsError) and a message
 * regex that names the file and the problem.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, SafetensorsError } from '../../../src/errors.js';
import { parseSafetensors, readSafetensorsFile } from '../../../src/io/safetensors.js';
import { makeTempDir, rawSafetensors, removeDir } from './st_helpers.js';

const SRC = 'bad.safetensors';
const f32 = (shape: number[], begin: number, end: number): object => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

/** Expect parseSafetensors(bytes, SRC) to throw a SafetensorsError matching `re`. */
function expectBad(bytes: Uint8Array, re: RegExp): void {
  let caught: unknown;
  try {
    parseSafetensors(bytes, SRC);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  expect((caught as Error).message).toMatch(/^parseSafetensors: .* in bad\.safetensors — /);
  expect((caught as Error).message).toMatch(re);
}

describe('parseSafetensors rejects malformed files', () => {
  it('file shorter than 8 bytes', () => {
    expectBad(new Uint8Array(3), /file too short .*expected at least 8 bytes.*got 3/);
    expectBad(new Uint8Array(0), /file too short/);
  });

  it('header length larger than the file', () => {
    expectBad(rawSafetensors('{}', new Uint8Array(0), { headerLength: 100n }), /header length exceeds file size .*expected at most 2 bytes, got 100/);
    expectBad(rawSafetensors('{}', new Uint8Array(0), { headerLength: 1n << 63n }), /header length exceeds file size/);
  });

  it('header length over the 100 MB cap', () => {
    const big = new Uint8Array(100_000_016);
    new DataView(big.buffer).setBigUint64(0, 100_000_001n, true);
    expectBad(big, /header too large .*expected at most 100000000 bytes, got 100000001/);
  });

  it('header not valid UTF-8', () => {
    expectBad(rawSafetensors(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /header is not valid UTF-8/);
  });

  it('header not valid JSON', () => {
    expectBad(rawSafetensors('{"a": '), /header is not valid JSON/);
  });

  it('header JSON is not an object', () => {
    expectBad(rawSafetensors('[1,2]'), /header is not a JSON object .*got an array/);
    expectBad(rawSafetensors('null'), /header is not a JSON object .*got null/);
    expectBad(rawSafetensors('"x"'), /header is not a JSON object .*got string/);
  });

  it('tensor entry is not an object', () => {
    expectBad(rawSafetensors({ w: 3 }), /bad entry for tensor 'w' .*expected an object/);
  });

  it('unknown dtype lists the allowed ones', () => {
    expectBad(
      rawSafetensors({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /unknown dtype for tensor 'w' .*expected one of F32, F16, BF16, I32, I64, I8, got "F64"/,
    );
  });

  it.each([[[-1]], [[1.5]], ['3'], [[1, null]], [undefined]])('shape %j is rejected', (shape) => {
    expectBad(
      rawSafetensors({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, new Uint8Array(4)),
      /bad shape for tensor 'w' .*expected an array of non-negative integers/,
    );
  });

  it.each([[[0]], [[4, 0]], [[0, 4, 8]], [[0, 4.5]], [[-4, 0]], ['0,4']])('data_offsets %j are rejected', (offsets) => {
    expectBad(
      rawSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: offsets } }, new Uint8Array(4)),
      /bad data_offsets for tensor 'w' .*begin <= end/,
    );
  });

  it('byte length does not match shape × itemsize', () => {
    expectBad(
      rawSafetensors({ w: f32([2, 3], 0, 20) }, new Uint8Array(20)),
      /byte length mismatch for tensor 'w' .*expected 24 bytes \(6 × 4 for F32 \[2, 3\]\), got 20/,
    );
  });

  it('data_offsets beyond the data buffer', () => {
    expectBad(
      rawSafetensors({ w: f32([4], 0, 16) }, new Uint8Array(8)),
      /data_offsets out of bounds for tensor 'w' .*expected end <= 8 .*got 16/,
    );
  });

  it('first tensor not at offset 0 (leading gap)', () => {
    expectBad(rawSafetensors({ w: f32([1], 4, 8) }, new Uint8Array(8)), /gap between tensors .*expected tensor 'w' to begin at 0/);
  });

  it('gap between tensors', () => {
    expectBad(
      rawSafetensors({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, new Uint8Array(12)),
      /gap between tensors .*expected tensor 'b' to begin at 4 \(end of tensor 'a'\), got 8/,
    );
  });

  it('overlapping tensors', () => {
    expectBad(
      rawSafetensors({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, new Uint8Array(12)),
      /overlapping tensors .*expected tensor 'b' to begin at 8 \(end of tensor 'a'\), got 4/,
    );
  });

  it('trailing bytes after the last tensor', () => {
    expectBad(
      rawSafetensors({ a: f32([1], 0, 4) }, new Uint8Array(12)),
      /tensors do not cover the data buffer .*expected the last tensor to end at 12 \(buffer size\), got 4/,
    );
  });

  it('__metadata__ values must be strings', () => {
    expectBad(rawSafetensors({ __metadata__: { epoch: 3 } }), /bad __metadata__ value for 'epoch' .*expected a string, got number/);
    expectBad(rawSafetensors({ __metadata__: [] }), /bad __metadata__ .*expected an object of strings/);
  });
});

describe('readSafetensorsFile errors name the path', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('st-err');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('missing file → NotFoundError', async () => {
    const p = join(dir, 'nope.safetensors');
    await expect(readSafetensorsFile(p)).rejects.toBeInstanceOf(NotFoundError);
    await expect(readSafetensorsFile(p)).rejects.toThrow(/readSafetensorsFile: file not found — expected .*nope\.safetensors/);
  });

  it('corrupt file on disk → SafetensorsError with the path', async () => {
    const p = join(dir, 'short.safetensors');
    await writeFile(p, new Uint8Array(5));
    await expect(readSafetensorsFile(p)).rejects.toBeInstanceOf(SafetensorsError);
    await expect(readSafetensorsFile(p)).rejects.toThrow(/file too short in .*short\.safetensors/);
    const q = join(dir, 'gap.safetensors');
    await writeFile(q, rawSafetensors({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, new Uint8Array(12)));
    await expect(readSafetensorsFile(q)).rejects.toThrow(/gap between tensors in .*gap\.safetensors/);
  });
});
