/**
 * Safetensors reader and writer on plain typed arrays (no tfjs). Format: 8-byte little-endian
 * u64 header length N, N bytes of UTF-8 JSON header, then the tensor bytes
 * (https://github.com/huggingface/safetensors, `safetensors/src/tensor.rs`). Validation is strict.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NotFoundError, SafetensorsError, WeightLoadError } from '../errors.js';
import { decodeTensorBytes, encodeTensorBytes, type SafeDtype } from './safetensors_codec.js';
import { type HeaderEntry, parseHeader, readHeaderLength, stError } from './safetensors_header.js';

export type { SafeDtype } from './safetensors_codec.js';

/**
 * A decoded tensor: F32/F16/BF16 as Float32Array, I32/I64/I8 as Int32Array (row-major, `shape`).
 * @category IO
 */
export interface RawTensor {
  /** The dtype stored in the file. */
  readonly dtype: SafeDtype;
  /** Dimensions, outermost first; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Row-major values, length = product of `shape`. */
  readonly data: Float32Array | Int32Array;
}

/** The tensors and `__metadata__` of a safetensors file. @category IO */
export interface SafetensorsContents {
  /** Tensors in header order. */
  readonly tensors: Map<string, RawTensor>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Record<string, string>;
}

/** One tensor to serialise. F16 values are rounded to nearest even; I32 (I8) values must be int32 (int8) integers. @category IO */
export interface TensorToWrite {
  /** Stored dtype. */
  dtype: 'F32' | 'F16' | 'I32' | 'I8';
  /** Dimensions; product must equal `data.length`. */
  shape: readonly number[];
  /** Row-major values. */
  data: Float32Array | Int32Array | ArrayLike<number>;
}

/**
 * Parse a whole safetensors file held in memory.
 * @param bytes - the file contents (any byteOffset; unaligned tensors are copied)
 * @param source - name used in error messages (default `'<bytes>'`)
 * @returns tensors (fresh arrays, not views of `bytes`) and metadata
 * @throws {@link "tfjs-lens"!SafetensorsError} when the header, dtypes, shapes or offsets are malformed
 * @example
 * const { tensors } = parseSafetensors(new Uint8Array(await readFile('model.safetensors')));
 * tensors.get('transformer.wte.weight')?.shape; // [50257, 768]
 * @category IO
 */
export function parseSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsContents {
  const n = readHeaderLength(bytes, bytes.byteLength, source);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, source);
  const tensors = new Map<string, RawTensor>();
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, toRawTensor(e, raw, false, source));
  }
  return { tensors, metadata: header.metadata };
}

function toRawTensor(e: HeaderEntry, raw: Uint8Array, owned: boolean, source: string): RawTensor {
  const data = decodeTensorBytes(raw, e.dtype, owned, `tensor '${e.name}' of ${source}`);
  return { dtype: e.dtype, shape: e.shape, data };
}

/** Read exactly `length` bytes at `position`, in chunks (a single read is capped at 2 GiB). */
async function readExactly(fh: FileHandle, length: number, position: number, source: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const chunk = Math.min(length - done, 1 << 30);
    const { bytesRead } = await fh.read(out, done, chunk, position + done);
    if (bytesRead === 0) {
      throw stError(source, 'unexpected end of file', `expected ${length} bytes at offset ${position}, got ${done}`);
    }
    done += bytesRead;
  }
  return out;
}

/**
 * Read a safetensors file from disk. Reads the header, then each tensor straight into its own
 * buffer (no second copy of the file in memory; files over 2 GiB work).
 * @param path - file path
 * @returns tensors (header order) and metadata
 * @throws {@link "tfjs-lens"!NotFoundError} when the file does not exist
 * @throws {@link "tfjs-lens"!SafetensorsError} when the file is malformed
 * @throws {@link "tfjs-lens"!WeightLoadError} for other I/O errors
 * @example
 * const { tensors, metadata } = await readSafetensorsFile('gpt2/model.safetensors');
 * @category IO
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fsError('readSafetensorsFile', path, err);
  }
  try {
    const size = (await fh.stat()).size;
    const prefix = await readExactly(fh, Math.min(8, size), 0, path);
    const n = readHeaderLength(prefix, size, path);
    const header = parseHeader(await readExactly(fh, n, 8, path), size - 8 - n, path);
    const byOffset = [...header.entries].sort((a, b) => a.begin - b.begin);
    const decoded = new Map<string, RawTensor>();
    for (const e of byOffset) {
      const raw = await readExactly(fh, e.end - e.begin, header.dataStart + e.begin, path);
      decoded.set(e.name, toRawTensor(e, raw, true, path));
    }
    const tensors = new Map<string, RawTensor>();
    for (const e of header.entries) tensors.set(e.name, decoded.get(e.name) as RawTensor);
    return { tensors, metadata: header.metadata };
  } catch (err) {
    if (err instanceof SafetensorsError) throw err;
    throw fsError('readSafetensorsFile', path, err);
  } finally {
    await fh.close();
  }
}

/**
 * Map a Node fs error to a typed error (shared by the `src/io` readers).
 * @param fn - calling function's name, for the message
 * @param path - the file involved
 * @param err - the error fs threw
 * @returns NotFoundError for ENOENT, else WeightLoadError with `cause` set
 * @throws nothing
 * @example
 * try { await readFile(p); } catch (err) { throw fsError('readJsonFile', p, err); }
 * @category IO
 */
export function fsError(fn: string, path: string, err: unknown): NotFoundError | WeightLoadError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new NotFoundError(`${fn}: file not found — expected ${path} to exist`);
  const e = new WeightLoadError(`${fn}: I/O error on ${path} — ${(err as Error).message}`);
  e.cause = err;
  return e;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Check one tensor to write: name, dtype, shape, data length. */
function checkToWrite(name: string, t: TensorToWrite): void {
  const fail = (what: string, detail: string): SafetensorsError =>
    new SafetensorsError(`serializeSafetensors: ${what} for tensor '${name}' — ${detail}`);
  if (name === '__metadata__') throw fail('reserved name', "expected any name except '__metadata__'");
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'I32' && t.dtype !== 'I8') {
    throw fail('unsupported dtype', `expected F32, F16, I32 or I8, got ${JSON.stringify(t.dtype)}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail('bad shape', `expected an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  if (product(t.shape) !== t.data.length) {
    throw fail('data length mismatch', `expected ${product(t.shape)} values for shape [${t.shape.join(', ')}], got ${t.data.length}`);
  }
}

/**
 * Serialise tensors to safetensors bytes. Keys are sorted, the header is space-padded to a
 * multiple of 8 bytes (as the Rust library does), so every tensor starts 8-byte aligned.
 * @param tensors - name → tensor (Map or plain object)
 * @param metadata - optional `__metadata__` string map (omitted when empty)
 * @returns the file bytes
 * @throws {@link "tfjs-lens"!SafetensorsError} for bad dtype/shape/length, non-string metadata, or bad I32/I8 values
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: [1, 2] } }, { format: 'pt' });
 * @category IO
 */
export function serializeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new SafetensorsError(`serializeSafetensors: bad metadata value for '${k}' — expected a string, got ${typeof v}`);
      }
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    checkToWrite(name, t);
    const bytes = encodeTensorBytes(t.data, t.dtype, `tensor '${name}'`);
    const info = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    payloads.push(bytes);
    offset += bytes.byteLength;
  }
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(header.byteLength / 8) * 8;
  if (padded !== header.byteLength) {
    const withPad = new Uint8Array(padded).fill(0x20); // spaces
    withPad.set(header);
    header = withPad;
  }
  const out = new Uint8Array(8 + header.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  let pos = 8 + header.byteLength;
  for (const p of payloads) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/**
 * Write a safetensors file atomically: serialise, write a temp file in the same directory,
 * then rename over `path` (the temp file is removed on failure).
 * @param path - destination file
 * @param tensors - name → tensor
 * @param metadata - optional `__metadata__`
 * @returns nothing
 * @throws {@link "tfjs-lens"!SafetensorsError} for invalid tensors (nothing is written)
 * @throws {@link "tfjs-lens"!WeightLoadError} for I/O errors (`path` is left untouched)
 * @example
 * await writeSafetensorsFile('saes/gpt2/sae.safetensors', { W_enc: { dtype: 'F32', shape: [4, 8], data } });
 * @category IO
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const e = new WeightLoadError(`writeSafetensorsFile: could not write ${path} — ${(err as Error).message}`);
    e.cause = err;
    throw e;
  }
}
