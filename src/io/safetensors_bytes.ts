/**
 * Safetensors on bytes held in memory (no file system; used by the Node file readers in
 * safetensors.ts and by the browser's URL loaders). Format: 8-byte little-endian u64 header
 * length N, N bytes of UTF-8 JSON header, then the tensor bytes
 * (https://github.com/huggingface/safetensors, `safetensors/src/tensor.rs`). Validation is strict.
 */
import { NotFoundError, SafetensorsError, WeightLoadError } from '../errors.js';
import { decodeTensorBytes, encodeTensorBytes, type SafeDtype } from './safetensors_codec.js';
import { type HeaderEntry, parseHeader, readHeaderLength } from './safetensors_header.js';

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

/** Decode one header entry's bytes (`owned`: `raw` may be kept as the data buffer). */
export function toRawTensor(e: HeaderEntry, raw: Uint8Array, owned: boolean, source: string): RawTensor {
  const data = decodeTensorBytes(raw, e.dtype, owned, `tensor '${e.name}' of ${source}`);
  return { dtype: e.dtype, shape: e.shape, data };
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
