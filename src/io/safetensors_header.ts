/**
 * Safetensors header validation: the 8-byte length prefix and the JSON header, checked as strictly
 * as the Rust reference (`safetensors/src/tensor.rs`, `Metadata::validate`). Internal to `src/io`.
 */
import { SafetensorsError } from '../errors.js';
import { ITEM_SIZE, type SafeDtype } from './safetensors_codec.js';

/** Largest JSON header we accept (the Rust library uses the same 100 MB cap). @category IO */
const MAX_HEADER_BYTES = 100_000_000;

/** One validated tensor entry; offsets are relative to the start of the data buffer. @category IO */
export interface HeaderEntry {
  readonly name: string;
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A validated header. @category IO */
interface ParsedHeader {
  readonly entries: HeaderEntry[];
  readonly metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + header length). */
  readonly dataStart: number;
}

/**
 * Build a SafetensorsError that names the file: `parseSafetensors: {what} in {source} — {detail}`.
 * @param source - file name
 * @param what - the problem
 * @param detail - expected vs got, plus any hint
 * @returns the error (not thrown)
 * @throws nothing
 * @example
 * throw stError('m.safetensors', 'file too short', 'expected at least 8 bytes, got 3');
 * @category IO
 */
export function stError(source: string, what: string, detail: string): SafetensorsError {
  return new SafetensorsError(`parseSafetensors: ${what} in ${source} — ${detail}`);
}

/**
 * Read and check the 8-byte little-endian header length.
 * @param prefix - the first bytes of the file (at least 8 when the file is long enough)
 * @param fileSize - total file size in bytes
 * @param source - file name for messages
 * @returns the header length N
 * @throws {@link "tfjs-lens"!SafetensorsError} when the file is shorter than 8 bytes or N is too large
 * @example
 * const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, 'm.safetensors');
 * @category IO
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw stError(source, 'file too short', `expected at least 8 bytes (u64 header length), got ${fileSize}`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw stError(
      source,
      'header length exceeds file size',
      `expected at most ${fileSize - 8} bytes, got ${n} [file truncated or not safetensors]`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw stError(source, 'header too large', `expected at most ${MAX_HEADER_BYTES} bytes, got ${n}`);
  }
  return Number(n);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse the header bytes as a UTF-8 JSON object. */
function parseHeaderJson(headerBytes: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw stError(source, 'header is not valid UTF-8', `expected ${headerBytes.length} bytes of UTF-8 JSON`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw stError(source, 'header is not valid JSON', `${(err as Error).message}, got ${JSON.stringify(text.slice(0, 60))}…`);
  }
  if (!isPlainObject(json)) {
    throw stError(source, 'header is not a JSON object', `expected {name: {dtype, shape, data_offsets}}, got ${describe(json)}`);
  }
  return json;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Validate one `{dtype, shape, data_offsets}` entry. */
function parseEntry(name: string, raw: unknown, bufferLen: number, source: string): HeaderEntry {
  const t = `tensor '${name}'`;
  if (!isPlainObject(raw)) throw stError(source, `bad entry for ${t}`, `expected an object, got ${describe(raw)}`);
  const dtype = raw['dtype'];
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
    throw stError(
      source,
      `unknown dtype for ${t}`,
      `expected one of ${Object.keys(ITEM_SIZE).join(', ')}, got ${JSON.stringify(dtype)}`,
    );
  }
  const shape = raw['shape'];
  if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
    throw stError(source, `bad shape for ${t}`, `expected an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const offsets = raw['data_offsets'];
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || (offsets[0] as number) > (offsets[1] as number)) {
    throw stError(
      source,
      `bad data_offsets for ${t}`,
      `expected [begin, end] non-negative integers with begin <= end, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const itemSize = ITEM_SIZE[dtype as SafeDtype];
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== numel * itemSize) {
    throw stError(
      source,
      `byte length mismatch for ${t}`,
      `expected ${numel * itemSize} bytes (${numel} × ${itemSize} for ${dtype} [${shape.join(', ')}]), got ${end - begin}`,
    );
  }
  if (end > bufferLen) {
    throw stError(source, `data_offsets out of bounds for ${t}`, `expected end <= ${bufferLen} (data buffer size), got ${end}`);
  }
  return { name, dtype: dtype as SafeDtype, shape: shape as number[], begin, end };
}

/** Check `__metadata__` is a string→string map (null/absent allowed). */
function parseMetadata(raw: unknown, source: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) throw stError(source, 'bad __metadata__', `expected an object of strings, got ${describe(raw)}`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw stError(source, `bad __metadata__ value for '${k}'`, `expected a string, got ${describe(v)}`);
    }
  }
  return Object.fromEntries(Object.entries(raw)) as Record<string, string>; // own props, even '__proto__'
}

/** Tensors must tile the buffer exactly: sorted by offset, no gaps, no overlaps, nothing left over. */
function checkContiguous(entries: readonly HeaderEntry[], bufferLen: number, source: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = '(start of buffer)';
  for (const e of sorted) {
    if (e.begin !== pos) {
      const what = e.begin < pos ? 'overlapping tensors' : 'gap between tensors';
      throw stError(source, what, `expected tensor '${e.name}' to begin at ${pos} (end of ${prev}), got ${e.begin}`);
    }
    pos = e.end;
    prev = `tensor '${e.name}'`;
  }
  if (pos !== bufferLen) {
    throw stError(
      source,
      'tensors do not cover the data buffer',
      `expected the last tensor to end at ${bufferLen} (buffer size), got ${pos} [trailing bytes or truncated header]`,
    );
  }
}

/**
 * Validate the JSON header of a safetensors file.
 * @param headerBytes - the N header bytes
 * @param bufferLen - size of the data buffer (file size - 8 - N)
 * @param source - file name for messages
 * @returns entries (in header order) and metadata
 * @throws {@link "tfjs-lens"!SafetensorsError} for any malformed header (UTF-8, JSON, dtype, shape, offsets, tiling, metadata)
 * @example
 * const { entries } = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, 'm.safetensors');
 * @category IO
 */
export function parseHeader(headerBytes: Uint8Array, bufferLen: number, source: string): ParsedHeader {
  const json = parseHeaderJson(headerBytes, source);
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    entries.push(parseEntry(name, raw, bufferLen, source));
  }
  const metadata = parseMetadata(json['__metadata__'], source);
  checkContiguous(entries, bufferLen, source);
  return { entries, metadata, dataStart: 8 + headerBytes.length };
}
