/**
 * NumPy `.npz` reading (what `np.savez` / `np.savez_compressed` write: a zip of `.npy` files), for
 * Gemma Scope's `params.npz`. The zip is opened with `fflate` (small, dependency-free, stored and
 * deflated entries, zip64); each `.npy` is parsed here (format versions 1–3: magic, header length,
 * a Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape': (d0, d1), }`, raw data).
 * Float arrays (`f2`, `f4`, `f8`, either byte order) are returned as Float32Array in C order.
 */
import { unzipSync } from 'fflate';
import { WeightLoadError } from '../errors.js';

/** One array of an `.npz` file, as float32. */
export interface NpyArray {
  /** The `.npy` dtype string as stored (e.g. '<f4'). */
  readonly descr: string;
  /** Shape (C order). */
  readonly shape: readonly number[];
  /** Values, row-major (C order), converted to float32. */
  readonly data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Parse the Python-literal header dict of an `.npy` file. */
function parseHeader(text: string, name: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new WeightLoadError(`readNpz: ${name}: unreadable .npy header ${JSON.stringify(text.slice(0, 120))}`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new WeightLoadError(`readNpz: ${name}: bad shape (${shapeText})`);
  return { descr, fortran: fortran === 'True', shape };
}

/** Fortran (column-major) → C (row-major) order. */
function toCOrder(a: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length < 2) return a;
  const n = shape.length;
  const out = new Float32Array(a.length);
  const fStrides: number[] = [];
  let s = 1;
  for (let i = 0; i < n; i++) {
    fStrides.push(s);
    s *= shape[i] as number;
  }
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < a.length; c++) {
    let f = 0;
    for (let i = 0; i < n; i++) f += (idx[i] as number) * (fStrides[i] as number);
    out[c] = a[f] as number;
    for (let i = n - 1; i >= 0; i--) {
      idx[i] = (idx[i] as number) + 1;
      if ((idx[i] as number) < (shape[i] as number)) break;
      idx[i] = 0;
    }
  }
  return out;
}

/**
 * Parse one `.npy` file.
 * @param bytes The file's bytes.
 * @param name For messages.
 * @returns The array as float32, C order.
 * @throws {@link "tfjs-lens"!WeightLoadError} for a bad magic or header, a non-float dtype, or a data size that does
 *   not match the shape.
 * @example const { shape, data } = parseNpy(readFileSync('W_enc.npy'));
 */
export function parseNpy(bytes: Uint8Array, name = 'array.npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new WeightLoadError(`readNpz: ${name} is not a .npy file (bad magic)`);
  const major = bytes[6] as number;
  if (major < 1 || major > 3 || bytes.length < (major === 1 ? 10 : 12)) throw new WeightLoadError(`readNpz: ${name}: unsupported .npy version ${major} or truncated header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (major < 1 || major > 3 || start + headerLen > bytes.length) throw new WeightLoadError(`readNpz: ${name}: unsupported .npy version ${major} or truncated header`);
  const { descr, fortran, shape } = parseHeader(new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen)), name);
  const m = /^([<>|=])f([248])$/.exec(descr);
  if (m === null) throw new WeightLoadError(`readNpz: ${name}: dtype '${descr}' is not supported — expected a float array (f2, f4 or f8)`);
  const little = m[1] !== '>';
  const width = Number(m[2]);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (bytes.length - offset !== count * width) {
    throw new WeightLoadError(`readNpz: ${name}: holds ${bytes.length - offset} data bytes, expected ${count * width} for shape (${shape.join(', ')}) of '${descr}'`);
  }
  let data: Float32Array = new Float32Array(count);
  if (width === 4 && little && (bytes.byteOffset + offset) % 4 === 0) data.set(new Float32Array(bytes.buffer, bytes.byteOffset + offset, count));
  else {
    for (let i = 0; i < count; i++) {
      const p = offset + i * width;
      data[i] = width === 4 ? view.getFloat32(p, little) : width === 8 ? view.getFloat64(p, little) : halfToFloat(view.getUint16(p, little));
    }
  }
  if (fortran) data = toCOrder(data, shape);
  return { descr, shape, data };
}

/**
 * Read the arrays of an `.npz` file (keys without the `.npy` suffix, as `np.load` gives them).
 * @param bytes The file's bytes.
 * @param source For messages (a path).
 * @returns Name → array.
 * @throws {@link "tfjs-lens"!WeightLoadError} for a file that is not a zip, or an entry {@link parseNpy} refuses.
 * @example const arrays = readNpz(await readFile('params.npz'));   // W_enc, W_dec, b_enc, b_dec, threshold
 */
export function readNpz(bytes: Uint8Array, source = 'params.npz'): Map<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new WeightLoadError(`readNpz: ${source} is not a valid .npz (zip) file — ${(err as Error).message}`);
  }
  const out = new Map<string, NpyArray>();
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    out.set(name.replace(/\.npy$/, ''), parseNpy(data, `${source}:${name}`));
  }
  return out;
}
