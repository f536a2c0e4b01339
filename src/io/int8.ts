/**
 * 8-bit weights: per-output-channel symmetric int8 quantisation of linear-layer weight matrices,
 * stored as safetensors (an `I8` tensor plus a `<name>.scale` F32 tensor of one scale per row) and
 * dequantised back to float32 on load. The scheme is that of PyTorch `quantize_dynamic` with
 * `torch.qint8` and `per_channel_symmetric` weights: zero point 0, one float32 scale per output
 * channel (row of an `nn.Linear` weight `[out, in]`), `q = round(w / scale)`. We use the restricted
 * range −127..127 with `scale = max|w_row| / 127` (PyTorch's observer uses −128..127 and /127.5), so
 * `−q` is always representable; the rounding error of every element is at most `scale / 2`.
 * Scales are per row of the stored matrix: the output channels of an `nn.Linear` weight; for GPT-2's
 * `Conv1D` weights (`[in, out]`) that is per input channel, with the same error bound.
 *
 * The gain is size on disk and in transit (about 4× for the quantised matrices), not speed: the
 * weights are dequantised on load and every backend (wasm included) computes in float32.
 * Plain typed arrays; no tfjs.
 */
import { ConfigError, SafetensorsError, ShapeError, WeightLoadError } from '../errors.js';
import { readSafetensorsFile, writeSafetensorsFile, type RawTensor, type SafetensorsContents, type TensorToWrite } from './safetensors.js';

/** `__metadata__` key that marks an int8 file. @category IO */
export const INT8_METADATA_KEY = 'tfjs_lens.quantization';
/** Its value: the scheme (symmetric, per output channel, int8, float32 scales). @category IO */
export const INT8_METADATA_VALUE = 'int8-per-channel-symmetric-v1';
/** Suffix of the scale tensor stored next to each quantised tensor. @category IO */
export const INT8_SCALE_SUFFIX = '.scale';

/** Chooses which tensors of a checkpoint are quantised (the others stay float). @category IO */
export type Int8Selector = (name: string, tensor: RawTensor) => boolean;

/** One int8 matrix: values row-major and one scale per row. @category IO */
export interface Int8Matrix {
  /** Quantised values, −127..127, row-major `[rows, cols]`. */
  readonly q: Int8Array;
  /** Scale of each row (`max|w_row| / 127`; 0 for an all-zero row). */
  readonly scale: Float32Array;
}

/** Options of {@link quantizeCheckpointTensors} and {@link writeInt8Safetensors}. @category IO */
export interface Int8Options {
  /** Which tensors to quantise; default {@link defaultInt8Selector}. Only 2-D float tensors can be. */
  readonly select?: Int8Selector;
}

/** What quantisation did to a checkpoint. @category IO */
export interface Int8Report {
  /** Names of the quantised tensors, in input order. */
  readonly quantized: readonly string[];
  /** Names of the tensors kept as they were. */
  readonly kept: readonly string[];
  /** Largest |w − dequantised w| over every quantised element. */
  readonly maxAbsError: number;
  /** Largest |w − dequantised w| / scale of its row (≤ 0.5 up to float32 rounding). */
  readonly maxErrorOverScale: number;
  /** Payload bytes with every tensor in float32 (4 bytes an element, headers not counted). */
  readonly float32Bytes: number;
  /** Payload bytes of the int8 layout (int8 values, F32 scales, kept tensors as stored). */
  readonly int8Bytes: number;
}

/** A checkpoint ready for {@link writeSafetensorsFile}, and its report. @category IO */
export interface QuantizedCheckpoint {
  /** Tensors to write: `I8` quantised matrices with their `.scale` tensors, the others unchanged. */
  readonly tensors: Map<string, TensorToWrite>;
  /** `__metadata__` marking the format (plus `format: 'pt'`, as Hugging Face writes). */
  readonly metadata: Record<string, string>;
  /** Sizes and errors. */
  readonly report: Int8Report;
}

/** Embedding tables by name (GPT-2 `wte`/`wpe`, HF `*_embeddings`, `embed_tokens`, `embed_in`, …). */
const EMBEDDING_NAME = /(^|\.)(wte|wpe|embed_tokens|embed_in|embed_positions|[a-z_]*embeddings?)(\.|$)/;

/**
 * The default selection: 2-D float tensors named `….weight` (linear layers) that are not embedding
 * tables (`wte`, `wpe`, `word_embeddings`, `position_embeddings`, `embed_tokens`, …). LayerNorm
 * weights and biases are 1-D, so they stay float.
 * @param name Tensor name in the checkpoint.
 * @param tensor The tensor.
 * @returns True to quantise it.
 * @throws nothing
 * @example defaultInt8Selector('distilbert.transformer.layer.0.ffn.lin1.weight', t)  // true for a [256, 64] F32 tensor
 * @category IO
 */
export function defaultInt8Selector(name: string, tensor: RawTensor): boolean {
  return tensor.shape.length === 2 && tensor.data instanceof Float32Array && /(^|\.)weight$/.test(name) && !EMBEDDING_NAME.test(name);
}

/** Round half to even (as `std::nearbyint`, which PyTorch's quantiser uses). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantise a float matrix row by row (symmetric int8, zero point 0): `scale = max|w_row| / 127`
 * (float32), `q = round(w / scale)` (half to even) clamped to −127..127.
 * @param data Row-major values, length `rows × cols`.
 * @param shape `[rows, cols]`; rows are the output channels of an `nn.Linear` weight.
 * @param name Tensor name for messages.
 * @returns The int8 values and one scale per row.
 * @throws {@link "tfjs-lens"!ShapeError} when the length does not match the shape.
 * @throws {@link "tfjs-lens"!WeightLoadError} when a value is NaN or ±Inf (naming the row).
 * @example const { q, scale } = quantizeRowsInt8(new Float32Array([1, -0.5, 0, 2]), [2, 2]);  // q [127, -64, 0, 127]
 * @category IO
 */
export function quantizeRowsInt8(data: Float32Array, shape: readonly [number, number], name = 'tensor'): Int8Matrix {
  const [rows, cols] = shape;
  if (rows * cols !== data.length) {
    throw new ShapeError(`quantizeRowsInt8: '${name}' has ${data.length} values, expected ${rows} × ${cols} = ${rows * cols} [pass the tensor's own shape]`);
  }
  const q = new Int8Array(data.length);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let amax = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[off + c] as number;
      if (v - v !== 0) {
        throw new WeightLoadError(`quantizeRowsInt8: '${name}' row ${r} holds ${v} — expected finite weights [fix or drop the tensor, or leave it out with the select option]`);
      }
      amax = Math.max(amax, Math.abs(v));
    }
    scale[r] = amax / 127;
    const s = scale[r] as number;
    if (s === 0) continue; // an all-zero row stays 0
    for (let c = 0; c < cols; c++) q[off + c] = Math.max(-127, Math.min(127, roundHalfEven((data[off + c] as number) / s)));
  }
  return { q, scale };
}

/**
 * Dequantise a row-wise int8 matrix to float32: `w = q × scale[row]`.
 * @param q Quantised values, row-major `[rows, cols]` (an Int8Array, or the Int32Array the reader gives for I8).
 * @param scale One scale per row.
 * @param cols Row length.
 * @returns The float32 values.
 * @throws nothing (shapes are checked by the callers).
 * @example dequantizeRowsInt8(new Int8Array([127, -64]), new Float32Array([0.01]), 2)  // [1.27, -0.64]
 * @category IO
 */
export function dequantizeRowsInt8(q: Int8Array | Int32Array, scale: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i] as number) * (scale[Math.floor(i / cols)] as number);
  return out;
}

/** Largest |w − q·s| and |w − q·s| / s over one quantised matrix. */
function matrixError(w: Float32Array, m: Int8Matrix, cols: number): { abs: number; rel: number } {
  const back = dequantizeRowsInt8(m.q, m.scale, cols);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < w.length; i++) {
    const e = Math.abs((w[i] as number) - (back[i] as number));
    const s = m.scale[Math.floor(i / cols)] as number;
    abs = Math.max(abs, e);
    if (s > 0) rel = Math.max(rel, e / s);
  }
  return { abs, rel };
}

const ITEM_BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, I8: 1 };

/** A loaded tensor in a form the writer accepts (F16 stays F16; BF16/I64 are written as F32/I32). */
function asWritable(t: RawTensor): TensorToWrite {
  const dtype = t.dtype === 'F16' ? 'F16' : t.data instanceof Float32Array ? 'F32' : 'I32';
  return { dtype, shape: t.shape, data: t.data };
}

/**
 * Quantise the selected tensors of a loaded checkpoint (the map from `loadCheckpointTensors` or
 * `readSafetensorsFile`). Each selected 2-D tensor `name` becomes an `I8` tensor `name` and an F32
 * tensor `name.scale` of shape `[rows]`; every other tensor is kept (F32 and F16 as they were, BF16 as F32, I64 as I32).
 * @param tensors Name → tensor.
 * @param opts `select`: which tensors to quantise (default {@link defaultInt8Selector}).
 * @returns Tensors and metadata to write, and a report (sizes, max abs error).
 * @throws {@link "tfjs-lens"!ConfigError} when `select` picks a tensor that is not a 2-D float matrix.
 * @throws {@link "tfjs-lens"!WeightLoadError} when a selected tensor holds NaN/Inf, or its `<name>.scale` name is taken.
 * @example
 * const { tensors, metadata, report } = quantizeCheckpointTensors(await loadCheckpointTensors(dir));
 * await writeSafetensorsFile(join(out, 'model.safetensors'), tensors, metadata);
 * @category IO
 */
export function quantizeCheckpointTensors(tensors: ReadonlyMap<string, RawTensor>, opts: Int8Options = {}): QuantizedCheckpoint {
  const select = opts.select ?? defaultInt8Selector;
  const out = new Map<string, TensorToWrite>();
  const quantized: string[] = [];
  const kept: string[] = [];
  let maxAbsError = 0;
  let maxErrorOverScale = 0;
  let float32Bytes = 0;
  let int8Bytes = 0;
  for (const [name, t] of tensors) {
    const numel = t.data.length;
    float32Bytes += 4 * numel;
    if (!select(name, t)) {
      out.set(name, asWritable(t));
      kept.push(name);
      int8Bytes += (ITEM_BYTES[out.get(name)?.dtype ?? 'F32'] ?? 4) * numel;
      continue;
    }
    if (t.shape.length !== 2 || !(t.data instanceof Float32Array)) {
      throw new ConfigError(
        `quantizeCheckpointTensors: select picked '${name}' (${t.dtype} [${t.shape.join(', ')}]) — expected a 2-D float tensor [make select return false for it]`,
      );
    }
    const scaleName = name + INT8_SCALE_SUFFIX;
    if (tensors.has(scaleName)) {
      throw new WeightLoadError(`quantizeCheckpointTensors: cannot quantise '${name}' — the checkpoint already has a tensor '${scaleName}' [rename it or leave '${name}' out with select]`);
    }
    const [rows, cols] = t.shape as [number, number];
    const m = quantizeRowsInt8(t.data, [rows, cols], name);
    const err = matrixError(t.data, m, cols);
    maxAbsError = Math.max(maxAbsError, err.abs);
    maxErrorOverScale = Math.max(maxErrorOverScale, err.rel);
    out.set(name, { dtype: 'I8', shape: [rows, cols], data: m.q });
    out.set(scaleName, { dtype: 'F32', shape: [rows], data: m.scale });
    quantized.push(name);
    int8Bytes += numel + 4 * rows;
  }
  const metadata = { format: 'pt', [INT8_METADATA_KEY]: INT8_METADATA_VALUE };
  return { tensors: out, metadata, report: { quantized, kept, maxAbsError, maxErrorOverScale, float32Bytes, int8Bytes } };
}

/**
 * Quantise a checkpoint's tensors and write them as one int8 safetensors file (atomically). Name it
 * `model.safetensors` in a folder with the model's `config.json` and the loaders read it, dequantised.
 * The gain is size on disk and in transit, not speed or memory at run time: weights are dequantised
 * to float32 on load and the backends (wasm included) compute in float32.
 * @param path Destination file.
 * @param tensors Name → tensor, e.g. from `loadCheckpointTensors(dir)`.
 * @param opts `select`: which tensors to quantise (default {@link defaultInt8Selector}).
 * @returns The report (sizes, max abs error).
 * @throws {@link "tfjs-lens"!ConfigError} or {@link "tfjs-lens"!WeightLoadError} as {@link quantizeCheckpointTensors};
 *   WeightLoadError for I/O errors.
 * @example
 * const report = await writeInt8Safetensors('out/model.safetensors', await loadCheckpointTensors('models/distilbert-mini'));
 * console.log(report.int8Bytes / report.float32Bytes, report.maxAbsError);
 * @category IO
 */
export async function writeInt8Safetensors(path: string, tensors: ReadonlyMap<string, RawTensor>, opts: Int8Options = {}): Promise<Int8Report> {
  const { tensors: toWrite, metadata, report } = quantizeCheckpointTensors(tensors, opts);
  await writeSafetensorsFile(path, toWrite, metadata);
  return report;
}

/**
 * Whether a safetensors file's metadata marks it as int8 (written by {@link writeInt8Safetensors}).
 * @param metadata The file's `__metadata__`.
 * @returns True for an int8 file.
 * @throws nothing
 * @example isInt8Safetensors((await readSafetensorsFile(p)).metadata)
 * @category IO
 */
export function isInt8Safetensors(metadata: Readonly<Record<string, string>>): boolean {
  return metadata[INT8_METADATA_KEY] !== undefined;
}

/** Check a scale tensor against its int8 tensor; returns the scales. */
function checkScale(name: string, q: RawTensor, s: RawTensor | undefined, source: string): Float32Array {
  const bad = (what: string, detail: string): SafetensorsError =>
    new SafetensorsError(`dequantizeInt8Tensors: ${what} for '${name}' in ${source} — ${detail} [the file is corrupt: re-export it with writeInt8Safetensors]`);
  if (q.shape.length !== 2) throw bad('bad int8 tensor', `expected a 2-D I8 tensor, got I8 [${q.shape.join(', ')}]`);
  if (s === undefined) throw bad('missing scale tensor', `expected an F32 tensor '${name}${INT8_SCALE_SUFFIX}' of shape [${q.shape[0]}]`);
  if (s.dtype !== 'F32' || s.shape.length !== 1 || s.shape[0] !== q.shape[0] || !(s.data instanceof Float32Array)) {
    throw bad('bad scale tensor', `expected '${name}${INT8_SCALE_SUFFIX}' F32 [${q.shape[0]}], got ${s.dtype} [${s.shape.join(', ')}]`);
  }
  for (let r = 0; r < s.data.length; r++) {
    const v = s.data[r] as number;
    if (!(v >= 0 && v < Infinity)) throw bad('bad scale value', `expected finite scales ≥ 0, got ${v} at row ${r}`);
  }
  return s.data;
}

/**
 * Dequantise the contents of an int8 safetensors file: every `I8` tensor with its `<name>.scale`
 * becomes a float32 tensor of the same name (dtype `F32`); the scales are dropped; other tensors pass through.
 * @param contents Parsed file (`readSafetensorsFile` / `parseSafetensors`).
 * @param source File name for messages.
 * @returns Name → float tensors, as `loadCheckpointTensors` gives for a float checkpoint.
 * @throws {@link "tfjs-lens"!SafetensorsError} when the metadata does not mark an int8 file, or a scale
 *   tensor is missing, of the wrong dtype or shape, negative or not finite, or left without its int8 tensor.
 * @example const tensors = dequantizeInt8Tensors(parseSafetensors(bytes), 'model.safetensors');
 * @category IO
 */
export function dequantizeInt8Tensors(contents: SafetensorsContents, source: string): Map<string, RawTensor> {
  if (!isInt8Safetensors(contents.metadata)) {
    throw new SafetensorsError(
      `dequantizeInt8Tensors: ${source} is not an int8 file — expected __metadata__ ${INT8_METADATA_KEY}=${INT8_METADATA_VALUE} [read a float file with readSafetensorsFile]`,
    );
  }
  if (contents.metadata[INT8_METADATA_KEY] !== INT8_METADATA_VALUE) {
    throw new SafetensorsError(
      `dequantizeInt8Tensors: unsupported int8 scheme in ${source} — expected ${INT8_METADATA_VALUE}, got ${contents.metadata[INT8_METADATA_KEY]} [upgrade tfjs-lens or re-export the file]`,
    );
  }
  const { tensors } = contents;
  const out = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    if (t.dtype === 'I8') {
      const scale = checkScale(name, t, tensors.get(name + INT8_SCALE_SUFFIX), source);
      out.set(name, { dtype: 'F32', shape: t.shape, data: dequantizeRowsInt8(t.data as Int32Array, scale, t.shape[1] as number) });
    } else if (name.endsWith(INT8_SCALE_SUFFIX) && tensors.get(name.slice(0, -INT8_SCALE_SUFFIX.length))?.dtype === 'I8') {
      continue; // consumed with its int8 tensor
    } else if (name.endsWith(INT8_SCALE_SUFFIX) && !tensors.has(name.slice(0, -INT8_SCALE_SUFFIX.length))) {
      throw new SafetensorsError(
        `dequantizeInt8Tensors: scale tensor '${name}' in ${source} has no int8 tensor '${name.slice(0, -INT8_SCALE_SUFFIX.length)}' [the file is corrupt: re-export it with writeInt8Safetensors]`,
      );
    } else {
      out.set(name, t);
    }
  }
  return out;
}

/**
 * Read an int8 safetensors file and dequantise it to float32 tensors. (`loadCheckpointTensors` does
 * this itself for a checkpoint folder whose `model.safetensors` is an int8 file.)
 * @param path The file.
 * @returns Name → float tensors, ready for the `*ParamsFromHf` mappers.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file does not exist.
 * @throws {@link "tfjs-lens"!SafetensorsError} when it is malformed, not an int8 file, or a scale tensor is corrupt.
 * @example const params = encoderParamsFromHf(await readInt8Safetensors('q/model.safetensors'), cfg);
 * @category IO
 */
export async function readInt8Safetensors(path: string): Promise<Map<string, RawTensor>> {
  return dequantizeInt8Tensors(await readSafetensorsFile(path), path);
}
