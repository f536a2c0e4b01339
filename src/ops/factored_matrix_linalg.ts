/**
 * CPU linear algebra behind {@link "tfjs-lens"!FactoredMatrix}: TransformerLens's factored SVD and the
 * eigenvalues of BA, in float64 with ml-matrix (`SingularValueDecomposition`,
 * `EigenvalueDecomposition`), looping over the leading (batch) dimensions. tfjs has neither SVD
 * nor eig. Matrices are read from row-major flat arrays, one [rows, cols] block per batch entry.
 */
import { EigenvalueDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';

/** Factored SVD of every batch entry, flat row-major, float32 (the tensor dtype). */
export interface SvdData {
  /** Left singular vectors [batch, ldim, k]. */
  readonly u: Float32Array;
  /** Singular values, descending [batch, k]. */
  readonly s: Float32Array;
  /** Right singular vectors [batch, rdim, k] (TL's `Vh`: M = U·diag(S)·Vhᵀ). */
  readonly vh: Float32Array;
  /** k = min(ldim, mdim, rdim). */
  readonly k: number;
}

/** Eigenvalues of every batch entry, flat, float32 [batch, n]. */
export interface EigData {
  /** Real parts. */
  readonly real: Float32Array;
  /** Imaginary parts. */
  readonly imag: Float32Array;
}

/** Batch entry `i` of a flat [batch, rows, cols] array as a float64 matrix. */
function block(data: ArrayLike<number>, i: number, rows: number, cols: number): Matrix {
  const out = new Matrix(rows, cols);
  const off = i * rows * cols;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out.set(r, c, data[off + r * cols + c] as number);
  return out;
}

/** Copy `m` (rows × cols) into `out` at batch entry `i`. */
function put(out: Float32Array, m: Matrix, i: number): void {
  const { rows, columns } = m;
  const off = i * rows * columns;
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[off + r * columns + c] = m.get(r, c);
}

/**
 * Thin SVD (torch.svd semantics): U [m, k], s [k] descending, V [n, k] with M = U·diag(s)·Vᵀ,
 * k = min(m, n). A tall matrix is first reduced by QR (M = Q·R, svd(M) = Q·svd(R), as LAPACK's
 * R-SVD), which is about twice as fast with ml-matrix; a wide one goes through its transpose.
 */
function thinSvd(m: Matrix): { U: Matrix; s: number[]; V: Matrix } {
  if (m.columns > m.rows) {
    const t = thinSvd(m.transpose());
    return { U: t.V, s: t.s, V: t.U };
  }
  if (m.rows > m.columns) {
    const qr = new QrDecomposition(m);
    const r = thinSvd(qr.upperTriangularMatrix); // [n, n]
    return { U: qr.orthogonalMatrix.mmul(r.U), s: r.s, V: r.V }; // Q [m, n] · Ur [n, n]
  }
  const d = new SingularValueDecomposition(m);
  return { U: d.leftSingularVectors, s: d.diagonal, V: d.rightSingularVectors };
}

/** Scale the rows of `m` by `s` (diag(s)·m). */
function scaleRows(m: Matrix, s: readonly number[]): Matrix {
  const out = m.clone();
  for (let r = 0; r < out.rows; r++) for (let c = 0; c < out.columns; c++) out.set(r, c, out.get(r, c) * (s[r] as number));
  return out;
}

/** Scale the columns of `m` by `s` (m·diag(s)). */
function scaleCols(m: Matrix, s: readonly number[]): Matrix {
  const out = m.clone();
  for (let r = 0; r < out.rows; r++) for (let c = 0; c < out.columns; c++) out.set(r, c, out.get(r, c) * (s[c] as number));
  return out;
}

/**
 * TransformerLens `FactoredMatrix.svd` for each batch entry: SVD both factors, then the small
 * middle matrix diag(Sa)·Vaᵀ·Ub·diag(Sb), and rotate back: U = Ua·Um, Vh = Vb·Vm, S = Sm.
 * @param a A data [batch, l, m].
 * @param b B data [batch, m, r].
 * @param batch Number of batch entries.
 * @param l ldim.
 * @param m mdim.
 * @param r rdim.
 * @returns Flat float32 U [batch, l, k], S [batch, k], Vh [batch, r, k], k = min(l, m, r).
 */
export function factoredSvd(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, l: number, m: number, r: number): SvdData {
  const k = Math.min(l, m, r);
  const u = new Float32Array(batch * l * k);
  const s = new Float32Array(batch * k);
  const vh = new Float32Array(batch * r * k);
  for (let i = 0; i < batch; i++) {
    const sa = thinSvd(block(a, i, l, m)); // Ua [l, k1], Va [m, k1]
    const sb = thinSvd(block(b, i, m, r)); // Ub [m, k2], Vb [r, k2]
    const middle = scaleCols(scaleRows(sa.V.transpose(), sa.s).mmul(sb.U), sb.s); // [k1, k2]
    const sm = thinSvd(middle); // Um [k1, k], Vm [k2, k]
    put(u, sa.U.mmul(sm.U), i);
    put(vh, sb.V.mmul(sm.V), i);
    sm.s.forEach((v, j) => { s[i * k + j] = v; });
  }
  return { u, s, vh, k };
}

/**
 * Eigenvalues of B·A for each batch entry (general real matrix: Hessenberg reduction + shifted QR,
 * JAMA `hqr2`), in ml-matrix's order.
 * @param a A data [batch, n, m] (n = ldim = rdim).
 * @param b B data [batch, m, n].
 * @param batch Number of batch entries.
 * @param n ldim (= rdim).
 * @param m mdim.
 * @returns Flat float32 real and imaginary parts [batch, m].
 */
export function eigenvaluesOfBA(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, n: number, m: number): EigData {
  const real = new Float32Array(batch * m);
  const imag = new Float32Array(batch * m);
  for (let i = 0; i < batch; i++) {
    const ba = block(b, i, m, n).mmul(block(a, i, n, m)); // [m, m]
    const e = new EigenvalueDecomposition(ba);
    e.realEigenvalues.forEach((v, j) => { real[i * m + j] = v; });
    e.imaginaryEigenvalues.forEach((v, j) => { imag[i * m + j] = v; });
  }
  return { real, imag };
}
