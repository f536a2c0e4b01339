/**
 * Plain feature matrices for the probe: a row-major Float32Array with its shape, validation
 * (rectangular, finite), row selection, and the two scalers the benchmarks use — StandardScaler
 * (z-scores, as scikit-learn: a zero-variance column keeps scale 1) and MinMax to [0, 1].
 */
import { DatasetError, ShapeError } from '../errors.js';

/**
 * A dense row-major matrix of features [n_samples, n_features].
 * @category Probe
 */
export interface FeatureMatrix {
  /** Number of rows (samples). */
  readonly rows: number;
  /** Number of columns (features). */
  readonly cols: number;
  /** Values, `data[i * cols + j]`, length rows·cols. */
  readonly data: Float32Array;
}

/**
 * Build a matrix from nested arrays or check an existing one.
 * @param x Rows as `number[][]` (rectangular) or a {@link FeatureMatrix}.
 * @param fn Calling function, for messages.
 * @returns The matrix (the same object when `x` already is one).
 * @throws {@link "tfjs-lens"!ShapeError} for no rows, no columns or ragged rows; {@link "tfjs-lens"!DatasetError} for a
 *   non-finite value (NaN or ±Infinity), naming its row and column.
 * @example const m = toFeatureMatrix([[0, 1], [2, 3]]);  // { rows: 2, cols: 2, data: Float32Array[0,1,2,3] }
 * @category Probe
 */
export function toFeatureMatrix(x: FeatureMatrix | readonly (readonly number[])[], fn = 'toFeatureMatrix'): FeatureMatrix {
  let m: FeatureMatrix;
  if (Array.isArray(x)) {
    const rows = x as readonly (readonly number[])[];
    const cols = rows[0]?.length ?? 0;
    if (rows.length === 0 || cols === 0) throw new ShapeError(`${fn}: features must be a non-empty [n_samples, n_features] array — got ${rows.length} rows, ${cols} columns`);
    const data = new Float32Array(rows.length * cols);
    rows.forEach((r, i) => {
      if (r.length !== cols) throw new ShapeError(`${fn}: row ${i} has ${r.length} values, expected ${cols}`);
      data.set(r, i * cols);
    });
    m = { rows: rows.length, cols, data };
  } else {
    m = x as FeatureMatrix;
    if (!(m.rows > 0 && m.cols > 0) || m.data.length !== m.rows * m.cols) {
      throw new ShapeError(`${fn}: matrix [${m.rows}, ${m.cols}] needs ${m.rows * m.cols} values, has ${m.data.length}`);
    }
  }
  checkFinite(m, fn);
  return m;
}

/**
 * Throw if any value is NaN or infinite.
 * @param m Matrix.
 * @param fn Calling function, for messages.
 * @returns Nothing.
 * @throws {@link "tfjs-lens"!DatasetError} naming the first bad row and column.
 * @example checkFinite({ rows: 1, cols: 1, data: Float32Array.of(NaN) }, 'f');  // throws
 * @category Probe
 */
export function checkFinite(m: FeatureMatrix, fn: string): void {
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i] as number;
    if (!Number.isFinite(v)) {
      throw new DatasetError(`${fn}: features contain ${v} at row ${Math.floor(i / m.cols)}, column ${i % m.cols} — expected finite numbers`);
    }
  }
}

/**
 * The rows at `idx`, in that order.
 * @param m Matrix.
 * @param idx Row indices.
 * @returns A new matrix [idx.length, cols].
 * @throws {@link "tfjs-lens"!ShapeError} for an index out of range.
 * @example selectRows(m, [2, 0]);
 * @category Probe
 */
export function selectRows(m: FeatureMatrix, idx: readonly number[]): FeatureMatrix {
  const data = new Float32Array(idx.length * m.cols);
  idx.forEach((r, k) => {
    if (!(r >= 0 && r < m.rows)) throw new ShapeError(`selectRows: row ${r} outside [0, ${m.rows})`);
    data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols);
  });
  return { rows: idx.length, cols: m.cols, data };
}

/**
 * A fitted per-column affine map x' = (x − shift) / scale.
 * @category Probe
 */
export interface ColumnScaler {
  /** 'standard' (z-score) or 'minmax' ([0, 1] on the fitted data). */
  readonly kind: 'standard' | 'minmax';
  /** Subtracted per column (mean or min) [n_features]. */
  readonly shift: Float32Array;
  /** Divisor per column (std or max − min; 1 for a constant column) [n_features]. */
  readonly scale: Float32Array;
}

/**
 * Fit a scaler on training rows (population std, as scikit-learn `StandardScaler`).
 * @param m Training matrix.
 * @param kind 'standard' or 'minmax'.
 * @returns The scaler.
 * @throws {@link "tfjs-lens"!DatasetError} for non-finite values.
 * @example const s = fitScaler(train, 'standard'); const z = applyScaler(s, test);
 * @category Probe
 */
export function fitScaler(m: FeatureMatrix, kind: 'standard' | 'minmax'): ColumnScaler {
  checkFinite(m, 'fitScaler');
  const { rows, cols, data } = m;
  const shift = new Float32Array(cols);
  const scale = new Float32Array(cols);
  for (let j = 0; j < cols; j++) {
    let a = 0;
    let b = 0;
    if (kind === 'standard') {
      for (let i = 0; i < rows; i++) a += data[i * cols + j] as number;
      a /= rows;
      for (let i = 0; i < rows; i++) b += ((data[i * cols + j] as number) - a) ** 2;
      b = Math.sqrt(b / rows);
    } else {
      a = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < rows; i++) {
        const v = data[i * cols + j] as number;
        a = Math.min(a, v);
        hi = Math.max(hi, v);
      }
      b = hi - a;
    }
    shift[j] = a;
    scale[j] = b > 1e-12 ? b : 1;
  }
  return { kind, shift, scale };
}

/**
 * Apply a fitted scaler.
 * @param s Scaler.
 * @param m Matrix with the same number of columns.
 * @returns A new scaled matrix.
 * @throws {@link "tfjs-lens"!ShapeError} if the column count differs.
 * @example applyScaler(fitScaler(train, 'minmax'), test);
 * @category Probe
 */
export function applyScaler(s: ColumnScaler, m: FeatureMatrix): FeatureMatrix {
  if (m.cols !== s.shift.length) throw new ShapeError(`applyScaler: matrix has ${m.cols} columns, scaler was fitted on ${s.shift.length}`);
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.data.length; i++) {
    const j = i % m.cols;
    out[i] = ((m.data[i] as number) - (s.shift[j] as number)) / (s.scale[j] as number);
  }
  return { rows: m.rows, cols: m.cols, data: out };
}
