/**
 * Element codecs for safetensors payloads: little-endian F32/F16/BF16/I32/I64/I8 bytes to
 * Float32Array/Int32Array and back. Half-precision conversion follows numpy `halffloat.c`
 * (round-to-nearest-even, NaN kept NaN). Internal to `src/io`; no tfjs.
 */
import { SafetensorsError } from '../errors.js';

/** Tensor dtypes the reader accepts. @category IO */
export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'I8';

/** Bytes per element of each dtype (also the list of accepted dtypes). @category IO */
export const ITEM_SIZE: Readonly<Record<SafeDtype, number>> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, I8: 1 };

/** True on little-endian hosts (all mainstream ones); the fast paths rely on it. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Uint32Array | undefined;

/** 65536-entry table: half bits -> float32 bits (exact, NaN payload kept). */
function getHalfTable(): Uint32Array {
  if (halfTable !== undefined) return halfTable;
  const table = new Uint32Array(65536);
  const asFloat = new Float32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      asFloat[h] = (sign !== 0 ? -1 : 1) * mant * 2 ** -24; // zero or subnormal
    } else if (exp === 31) {
      table[h] = (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN
    } else {
      table[h] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 -> 127
    }
  }
  halfTable = table;
  return table;
}

/** Swap byte order in place (big-endian hosts only). */
function swapBytes(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/**
 * An ArrayBuffer holding exactly `bytes`, starting at offset 0 (so any typed view is aligned).
 * Reuses the buffer when `owned` says nobody else sees it, else makes one copy.
 */
function alignedBuffer(bytes: Uint8Array, owned: boolean, itemSize: number): ArrayBufferLike {
  let buf: ArrayBufferLike;
  if (owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) buf = bytes.buffer;
  else buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (!LITTLE_ENDIAN) swapBytes(new Uint8Array(buf), itemSize);
  return buf;
}

/** Uint16 view of `bytes`, without a copy when it is 2-byte aligned and the host is little-endian. */
function u16View(bytes: Uint8Array, owned: boolean): Uint16Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }
  return new Uint16Array(alignedBuffer(bytes, owned, 2));
}

/** Decode F16 bits to float32 through the lookup table. */
function decodeF16(bytes: Uint8Array, owned: boolean): Float32Array {
  const src = u16View(bytes, owned);
  const table = getHalfTable();
  const out = new Float32Array(src.length);
  const out32 = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) out32[i] = table[src[i] as number] as number;
  return out;
}

/** Decode BF16 (the top half of a float32) to float32. */
function decodeBF16(bytes: Uint8Array, owned: boolean): Float32Array {
  const src = u16View(bytes, owned);
  const out = new Float32Array(src.length);
  const out32 = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) out32[i] = ((src[i] as number) << 16) >>> 0;
  return out;
}

/** Decode I64 to Int32Array, refusing values outside the int32 range. */
function decodeI64(bytes: Uint8Array, owned: boolean, where: string): Int32Array {
  const words = new Int32Array(alignedBuffer(bytes, owned, 8));
  const out = new Int32Array(words.length / 2);
  // After alignedBuffer the words are host order; pairs are (lo, hi) in little-endian element order.
  const loIdx = LITTLE_ENDIAN ? 0 : 1;
  for (let i = 0; i < out.length; i++) {
    const lo = words[2 * i + loIdx] as number;
    const hi = words[2 * i + 1 - loIdx] as number;
    if (hi !== lo >> 31) {
      const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
      throw new SafetensorsError(
        `parseSafetensors: I64 value out of int32 range in ${where} — expected ` +
          `-2147483648..2147483647, got ${value} at flat index ${i} [int64 tensors are read as int32]`,
      );
    }
    out[i] = lo;
  }
  return out;
}

/**
 * Decode the raw little-endian bytes of one tensor. Copies at most once (F32/I32: one aligned
 * copy, or none when `owned`); F16 goes through a 65536-entry table, BF16 through a shift.
 * @param bytes - exactly the tensor's bytes (length is a multiple of the item size), any byteOffset
 * @param dtype - the stored dtype
 * @param owned - true when `bytes` is a fresh buffer the caller gives away (enables zero-copy)
 * @param where - "tensor 'name' of file" for error messages
 * @returns Float32Array for float dtypes, Int32Array for integer dtypes (I8 widened; length = element count)
 * @throws {@link "tfjs-lens"!SafetensorsError} when an I64 value does not fit in int32
 * @example
 * decodeTensorBytes(new Uint8Array([0, 0x3c]), 'F16', false, 'x'); // Float32Array [1]
 * @category IO
 */
export function decodeTensorBytes(
  bytes: Uint8Array,
  dtype: SafeDtype,
  owned: boolean,
  where: string,
): Float32Array | Int32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(alignedBuffer(bytes, owned, 4));
    case 'I32':
      return new Int32Array(alignedBuffer(bytes, owned, 4));
    case 'F16':
      return decodeF16(bytes, owned);
    case 'BF16':
      return decodeBF16(bytes, owned);
    case 'I64':
      return decodeI64(bytes, owned, where);
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)); // widened: int8 (e.g. quantised weights)
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * Convert float32 bits to IEEE half bits, rounding to nearest even (numpy `npy_floatbits_to_halfbits`).
 * @param f - float32 bit pattern (as an unsigned 32-bit number)
 * @returns half bit pattern (0..65535); overflow gives ±inf, NaN stays NaN
 * @throws nothing
 * @example
 * floatBitsToHalfBits(0x3f800000); // 0x3c00 (1.0)
 * @category IO
 */
export function floatBitsToHalfBits(f: number): number {
  const hSgn = (f >>> 16) & 0x8000;
  const fExp = f & 0x7f800000;
  if (fExp >= 0x47800000) {
    if (fExp === 0x7f800000 && (f & 0x7fffff) !== 0) {
      const ret = 0x7c00 + ((f & 0x7fffff) >>> 13); // NaN: keep the top payload bits...
      return hSgn | (ret === 0x7c00 ? 0x7c01 : ret); // ...but stay a NaN
    }
    return hSgn | 0x7c00; // inf, or overflow to inf
  }
  if (fExp <= 0x38000000) {
    if (fExp < 0x33000000) return hSgn; // below half the smallest subnormal: signed zero
    const e = fExp >>> 23;
    let sig = (0x800000 + (f & 0x7fffff)) >>> (113 - e);
    // Round half to even; the shift may have dropped up to 11 low bits, so check them in `f`.
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return hSgn | (sig >>> 13); // a carry into the exponent gives the smallest normal, correctly
  }
  const hExp = (fExp - 0x38000000) >>> 13;
  let sig = f & 0x7fffff;
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  return hSgn | ((sig >>> 13) + hExp); // mantissa carry bumps the exponent (up to inf)
}

/**
 * Encode numbers as little-endian F32, F16, I32 or I8 bytes.
 * @param data - values, length = number of elements
 * @param dtype - target dtype
 * @param where - "tensor 'name'" for error messages
 * @returns the bytes (may be a view of `data` for F32/I32 typed-array input; copy before mutating `data`)
 * @throws {@link "tfjs-lens"!SafetensorsError} when an I32 (I8) value is not an int32 (int8) integer
 * @example
 * encodeTensorBytes([1, 2], 'F16', "tensor 'x'"); // 4 bytes
 * @category IO
 */
export function encodeTensorBytes(
  data: Float32Array | Int32Array | ArrayLike<number>,
  dtype: 'F32' | 'F16' | 'I32' | 'I8',
  where: string,
): Uint8Array {
  const n = data.length;
  let out: Uint8Array;
  if (dtype === 'I8') return toInt8Bytes(data, where); // one byte per element: no byte order
  if (dtype === 'F16') {
    const half = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      f32Scratch[0] = data[i] as number;
      half[i] = floatBitsToHalfBits(u32Scratch[0] as number);
    }
    out = new Uint8Array(half.buffer);
  } else if (dtype === 'F32') {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    out = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  } else {
    out = new Uint8Array(toInt32(data, where).buffer);
  }
  if (!LITTLE_ENDIAN) {
    out = out.slice();
    swapBytes(out, dtype === 'F16' ? 2 : 4);
  }
  return out;
}

/** Copy to int8 bytes, checking every value is an integer in −128..127. */
function toInt8Bytes(data: Float32Array | Int32Array | ArrayLike<number>, where: string): Uint8Array {
  const out = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isInteger(v) || v < -128 || v > 127) {
      throw new SafetensorsError(
        `serializeSafetensors: bad I8 value in ${where} — expected an integer in -128..127, got ${v} at index ${i}`,
      );
    }
    out[i] = v;
  }
  return new Uint8Array(out.buffer);
}

/** Copy to an Int32Array, checking every value is an int32 integer. */
function toInt32(data: Float32Array | Int32Array | ArrayLike<number>, where: string): Int32Array {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new SafetensorsError(
        `serializeSafetensors: bad I32 value in ${where} — expected an integer in int32 range, got ${v} at index ${i}`,
      );
    }
    out[i] = v;
  }
  return out;
}
