/**
 * `FactoredMatrix` (TransformerLens 2.x `FactoredMatrix`): a matrix kept as the product of two
 * factors A [..., ldim, mdim] and B [..., mdim, rdim], with broadcast leading dimensions, and the
 * cheap algorithms TL gives it (factored SVD, eigenvalues from BA, Frobenius norm from the singular
 * values). TS has no operators: `@` is {@link "tfjs-lens"!FactoredMatrix.matmul} / {@link "tfjs-lens"!FactoredMatrix.rmatmul},
 * `*` is {@link "tfjs-lens"!FactoredMatrix.mul}, `fm[...]` is {@link "tfjs-lens"!FactoredMatrix.get}.
 *
 * Ownership: a FactoredMatrix holds its own handles on A and B (the constructor never takes over the
 * caller's tensors, and kept, so an enclosing `tf.tidy` does not free them); {@link "tfjs-lens"!FactoredMatrix.dispose}
 * frees them. `A`, `B` and `pair` return those handles (do not dispose them); every other method or
 * getter that returns tensors (`AB`, `BA`, `U`, `S`, `Vh`, `svd()`, `eigenvalues`, `norm()`, …)
 * builds new tensors the caller disposes, and every method returning a FactoredMatrix returns a new
 * one the caller disposes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, ShapeError } from '../errors.js';
import { indexLength, indexTensor, intToRange, type FactoredIndex } from './factored_matrix_index.js';
import { eigenvaluesOfBA, factoredSvd, type SvdData } from './factored_matrix_linalg.js';
import { broadcastShapes, cornerOf, fmt, handle, mT, type ComplexTensors, type FactoredSvd } from './factored_matrix_util.js';

/**
 * A low-rank matrix M = A·B over broadcast leading dimensions (TL `FactoredMatrix`), e.g. a model's
 * `OV` circuit [n_layers, n_heads, d_model, d_model] kept as W_V·W_O.
 * @example
 * const fm = new FactoredMatrix(a, b);        // a [5, 3], b [3, 7]
 * const { U, S, Vh } = fm.svd();              // U [5, 3], S [3], Vh [7, 3]
 * const prod = fm.matmul(c);                  // FactoredMatrix, c [7, n]
 * tf.dispose([U, S, Vh]); prod.dispose(); fm.dispose();
 * @category Utils
 */
export class FactoredMatrix {
  private a: tf.Tensor | undefined;
  private b: tf.Tensor | undefined;
  private svdCache: SvdData | undefined;
  /** Rows of M (A's second-to-last dimension). */
  readonly ldim: number;
  /** Inner dimension (A's last, B's second-to-last). */
  readonly mdim: number;
  /** Columns of M (B's last dimension). */
  readonly rdim: number;
  /** Whether A or B as given had more than two dimensions (TL `has_leading_dims`). */
  readonly hasLeadingDims: boolean;
  /** Shape of M: [...broadcast leading dims, ldim, rdim]. */
  readonly shape: readonly number[];

  /**
   * @param A Left factor [..., ldim, mdim] (not taken over: the caller still owns it).
   * @param B Right factor [..., mdim, rdim]; leading dimensions broadcast with A's.
   * @throws {@link "tfjs-lens"!ShapeError} for a factor of rank < 2, mismatched inner dimensions, or
   *   leading dimensions that do not broadcast (the message gives both shapes).
   */
  constructor(A: tf.Tensor, B: tf.Tensor) {
    const shapes = `shapes were a: ${fmt(A.shape)}, b: ${fmt(B.shape)}`;
    if (A.rank < 2 || B.rank < 2) throw new ShapeError(`FactoredMatrix: both factors need at least 2 dimensions, ${shapes}`);
    const [l, m] = A.shape.slice(-2) as [number, number];
    const [m2, r] = B.shape.slice(-2) as [number, number];
    if (m !== m2) throw new ShapeError(`FactoredMatrix: factors must match on the inner dimension (a's last, b's second-to-last), ${shapes}`);
    const lead = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2), 'FactoredMatrix', shapes);
    this.ldim = l;
    this.mdim = m;
    this.rdim = r;
    this.hasLeadingDims = A.rank > 2 || B.rank > 2;
    this.shape = [...lead, l, r];
    // keep: the factors belong to this object, so an enclosing tf.tidy must not free them.
    this.a = tf.keep(handle(A, [...lead, l, m]));
    this.b = tf.keep(handle(B, [...lead, m, r]));
  }

  /** Build from factors computed in `f` (its intermediates are freed). */
  private static of(f: () => [tf.Tensor, tf.Tensor]): FactoredMatrix {
    const ab = tf.tidy(f);
    try {
      return new FactoredMatrix(ab[0], ab[1]);
    } finally {
      tf.dispose(ab);
    }
  }

  private live(what: string): [tf.Tensor, tf.Tensor] {
    if (this.a === undefined || this.b === undefined) throw new DisposedError(`FactoredMatrix.${what}: this FactoredMatrix was disposed`);
    return [this.a, this.b];
  }

  /** Left factor [..., ldim, mdim], broadcast to the leading shape (owned by this object; do not dispose). */
  get A(): tf.Tensor { return this.live('A')[0]; }

  /** Right factor [..., mdim, rdim], broadcast to the leading shape (owned by this object; do not dispose). */
  get B(): tf.Tensor { return this.live('B')[1]; }

  /** [A, B] (TL `pair`; owned by this object; do not dispose). */
  get pair(): [tf.Tensor, tf.Tensor] { return this.live('pair'); }

  /** Number of dimensions of M. */
  get ndim(): number { return this.shape.length; }

  /** Whether {@link "tfjs-lens"!FactoredMatrix.dispose} was called. */
  get isDisposed(): boolean { return this.a === undefined; }

  /** Shape of the leading (batch) dimensions. */
  private get lead(): number[] { return this.shape.slice(0, -2); }

  /**
   * this @ other (TL `__matmul__`). A vector [rdim] gives the vector A·(B·v) [..., ldim]; a matrix
   * [..., rdim, n] gives FactoredMatrix(A, B·other) when rdim > mdim, else FactoredMatrix(AB, other);
   * a FactoredMatrix gives (this @ other.A) @ other.B.
   * @param other Vector, matrix (leading dimensions broadcast) or FactoredMatrix.
   * @returns A new tensor or FactoredMatrix (the caller disposes it).
   * @throws {@link "tfjs-lens"!ShapeError} for mismatched inner or leading dimensions (both shapes named).
   */
  matmul(other: FactoredMatrix | tf.Tensor2D | tf.Tensor3D | tf.Tensor4D | tf.Tensor5D): FactoredMatrix;
  matmul(other: tf.Tensor1D): tf.Tensor;
  matmul(other: FactoredMatrix | tf.Tensor): FactoredMatrix | tf.Tensor;
  matmul(other: FactoredMatrix | tf.Tensor): FactoredMatrix | tf.Tensor {
    const [A, B] = this.live('matmul');
    if (other instanceof FactoredMatrix) {
      const left = this.matmulMatrix(other.A);
      try {
        return left.matmulMatrix(other.B);
      } finally {
        left.dispose();
      }
    }
    if (other.rank >= 2) return this.matmulMatrix(other);
    if (other.rank !== 1 || other.shape[0] !== this.rdim) {
      throw new ShapeError(`FactoredMatrix.matmul: a vector must have length rdim = ${this.rdim}, shapes were self: ${fmt(this.shape)}, other: ${fmt(other.shape)}`);
    }
    return tf.tidy(() => tf.squeeze(tf.matMul(A, tf.matMul(B, tf.reshape(other, [this.rdim, 1]))), [-1])); // [..., ldim, 1] -> [..., ldim]
  }

  private matmulMatrix(other: tf.Tensor): FactoredMatrix {
    const [A, B] = this.live('matmul');
    const shapes = `shapes were self: ${fmt(this.shape)}, other: ${fmt(other.shape)}`;
    if (other.shape[other.rank - 2] !== this.rdim) {
      throw new ShapeError(`FactoredMatrix.matmul: right matrix must match on inner dimension (its second-to-last = rdim ${this.rdim}), ${shapes}`);
    }
    broadcastShapes(this.lead, other.shape.slice(0, -2), 'FactoredMatrix.matmul', shapes);
    if (this.rdim > this.mdim) return FactoredMatrix.of(() => [tf.reshape(A, A.shape), tf.matMul(B, other)]);
    return FactoredMatrix.of(() => [tf.matMul(A, B), tf.reshape(other, other.shape)]);
  }

  /**
   * other @ this (TL `__rmatmul__`). A vector [ldim] gives (v·A)·B [..., rdim]; a matrix
   * [..., n, ldim] gives FactoredMatrix(other·A, B) when ldim > mdim, else FactoredMatrix(other, AB);
   * a FactoredMatrix gives other.A @ (other.B @ this).
   * @param other Vector, matrix (leading dimensions broadcast) or FactoredMatrix.
   * @returns A new tensor or FactoredMatrix (the caller disposes it).
   * @throws {@link "tfjs-lens"!ShapeError} for mismatched inner or leading dimensions (both shapes named).
   */
  rmatmul(other: FactoredMatrix | tf.Tensor2D | tf.Tensor3D | tf.Tensor4D | tf.Tensor5D): FactoredMatrix;
  rmatmul(other: tf.Tensor1D): tf.Tensor;
  rmatmul(other: FactoredMatrix | tf.Tensor): FactoredMatrix | tf.Tensor;
  rmatmul(other: FactoredMatrix | tf.Tensor): FactoredMatrix | tf.Tensor {
    const [A, B] = this.live('rmatmul');
    if (other instanceof FactoredMatrix) {
      const right = this.rmatmulMatrix(other.B);
      try {
        return right.rmatmulMatrix(other.A);
      } finally {
        right.dispose();
      }
    }
    if (other.rank >= 2) return this.rmatmulMatrix(other);
    if (other.rank !== 1 || other.shape[0] !== this.ldim) {
      throw new ShapeError(`FactoredMatrix.rmatmul: a vector must have length ldim = ${this.ldim}, shapes were self: ${fmt(this.shape)}, other: ${fmt(other.shape)}`);
    }
    return tf.tidy(() => tf.squeeze(tf.matMul(tf.matMul(tf.reshape(other, [1, this.ldim]), A), B), [-2])); // [..., 1, rdim] -> [..., rdim]
  }

  private rmatmulMatrix(other: tf.Tensor): FactoredMatrix {
    const [A, B] = this.live('rmatmul');
    const shapes = `shapes were self: ${fmt(this.shape)}, other: ${fmt(other.shape)}`;
    if (other.shape[other.rank - 1] !== this.ldim) {
      throw new ShapeError(`FactoredMatrix.rmatmul: left matrix must match on inner dimension (its last = ldim ${this.ldim}), ${shapes}`);
    }
    broadcastShapes(other.shape.slice(0, -2), this.lead, 'FactoredMatrix.rmatmul', shapes);
    if (this.ldim > this.mdim) return FactoredMatrix.of(() => [tf.matMul(other, A), tf.reshape(B, B.shape)]);
    return FactoredMatrix.of(() => [tf.reshape(other, other.shape), tf.matMul(A, B)]);
  }

  /**
   * Scalar multiplication (TL `__mul__` / `__rmul__`): the scalar multiplies A.
   * @param scalar A number, or a tensor with one element.
   * @returns A new FactoredMatrix (the caller disposes it).
   * @throws {@link "tfjs-lens"!ShapeError} for a tensor with more than one element (use matmul for matrices).
   */
  mul(scalar: number | tf.Tensor): FactoredMatrix {
    const [A, B] = this.live('mul');
    if (scalar instanceof tf.Tensor && scalar.size !== 1) {
      throw new ShapeError(`FactoredMatrix.mul: tensor must be a scalar for mul but was of shape ${fmt(scalar.shape)}; for matrix multiplication use matmul`);
    }
    return FactoredMatrix.of(() => [tf.mul(A, typeof scalar === 'number' ? scalar : tf.reshape(scalar, [])), tf.reshape(B, B.shape)]);
  }

  /**
   * The same as {@link "tfjs-lens"!FactoredMatrix.mul} (TL `__rmul__`: scalar multiplication commutes).
   * @param scalar A number, or a tensor with one element.
   * @returns A new FactoredMatrix (the caller disposes it).
   * @throws {@link "tfjs-lens"!ShapeError} as `mul`.
   */
  rmul(scalar: number | tf.Tensor): FactoredMatrix {
    return this.mul(scalar);
  }

  /** The product A·B [..., ldim, rdim]: a new tensor the caller disposes (can be large). */
  get AB(): tf.Tensor {
    const [A, B] = this.live('AB');
    return tf.matMul(A, B);
  }

  /**
   * The reverse product B·A [..., mdim, mdim], only when ldim == rdim: a new tensor the caller disposes.
   * @throws {@link "tfjs-lens"!ShapeError} when ldim != rdim.
   */
  get BA(): tf.Tensor {
    const [A, B] = this.live('BA');
    this.needSquare('BA');
    return tf.matMul(B, A);
  }

  private needSquare(what: string): void {
    if (this.ldim !== this.rdim) throw new ShapeError(`FactoredMatrix.${what}: needs ldim == rdim, shape was ${fmt(this.shape)}`);
  }

  /** The transpose, FactoredMatrix(Bᵀ, Aᵀ): a new FactoredMatrix the caller disposes. */
  get T(): FactoredMatrix {
    const [A, B] = this.live('T');
    return FactoredMatrix.of(() => [mT(B), mT(A)]);
  }

  /** The factored SVD on the CPU (computed once per object, float64). */
  private svdData(): SvdData {
    const [A, B] = this.live('svd');
    if (this.svdCache === undefined) {
      const batch = this.lead.reduce((x, y) => x * y, 1);
      this.svdCache = factoredSvd(A.dataSync(), B.dataSync(), batch, this.ldim, this.mdim, this.rdim);
    }
    return this.svdCache;
  }

  /**
   * Singular value decomposition by TL's factored algorithm (SVD of each factor, then of the small
   * middle matrix), on the CPU with ml-matrix, looping over leading dimensions: M = U·diag(S)·Vhᵀ.
   * The decomposition is cached on this object; the tensors are new each call.
   * @returns New tensors U [..., ldim, k], S [..., k] (descending), Vh [..., rdim, k], k = min(ldim, mdim, rdim); the caller disposes them.
   */
  svd(): FactoredSvd {
    return { U: this.U, S: this.S, Vh: this.Vh };
  }

  /** Left singular vectors [..., ldim, k] (see {@link "tfjs-lens"!FactoredMatrix.svd}): a new tensor the caller disposes. */
  get U(): tf.Tensor {
    const d = this.svdData();
    return tf.tensor(d.u, [...this.lead, this.ldim, d.k], 'float32');
  }

  /** Singular values [..., k], descending: a new tensor the caller disposes. */
  get S(): tf.Tensor {
    const d = this.svdData();
    return tf.tensor(d.s, [...this.lead, d.k], 'float32');
  }

  /** Right singular vectors [..., rdim, k] (M = U·diag(S)·Vhᵀ): a new tensor the caller disposes. */
  get Vh(): tf.Tensor {
    const d = this.svdData();
    return tf.tensor(d.vh, [...this.lead, this.rdim, d.k], 'float32');
  }

  /**
   * Eigenvalues of B·A [..., mdim] (TL `eigenvalues`): the nonzero eigenvalues of AB are those of BA.
   * Computed on the CPU in float64 with ml-matrix (real input, complex output), in ml-matrix's order.
   * @returns New tensors {real, imag} [..., mdim]; the caller disposes them.
   * @throws {@link "tfjs-lens"!ShapeError} when ldim != rdim.
   */
  get eigenvalues(): ComplexTensors {
    const [A, B] = this.live('eigenvalues');
    this.needSquare('eigenvalues');
    const batch = this.lead.reduce((x, y) => x * y, 1);
    const e = eigenvaluesOfBA(A.dataSync(), B.dataSync(), batch, this.ldim, this.mdim);
    const shape = [...this.lead, this.mdim];
    return { real: tf.tensor(e.real, shape, 'float32'), imag: tf.tensor(e.imag, shape, 'float32') };
  }

  /**
   * Index the leading dimensions (TL `__getitem__`), one entry per axis as Python's `fm[i, j, …]`;
   * an index one longer than the leading dimensions also selects rows of A, two longer selects rows
   * of A and columns of B. Integers on those last two axes keep their axis (TL converts them to
   * one-element slices). `fm[:, 1]` is `fm.get(null, 1)`; `fm[:, :, [0, 1], 0]` is `fm.get(null, null, [0, 1], 0)` (no Ellipsis).
   * @param idx Index entries ({@link "tfjs-lens"!FactoredIndex}).
   * @returns A new FactoredMatrix (the caller disposes it).
   * @throws {@link "tfjs-lens"!ShapeError} for an index longer than the shape, or an index out of range.
   */
  get(...idx: FactoredIndex[]): FactoredMatrix {
    const [A, B] = this.live('get');
    const n = indexLength(idx);
    const lead = this.ndim - 2;
    const what = 'FactoredMatrix.get';
    if (n <= lead) return FactoredMatrix.of(() => [indexTensor(A, idx, what), indexTensor(B, idx, what)]);
    if (n === lead + 1) {
      const i = intToRange(idx, -1, this.shape, what);
      return FactoredMatrix.of(() => [indexTensor(A, i, what), indexTensor(B, i.slice(0, -1), what)]);
    }
    if (n === lead + 2) {
      const i = intToRange(intToRange(idx, -1, this.shape, what), -2, this.shape, what);
      return FactoredMatrix.of(() => [indexTensor(A, i.slice(0, -1), what), indexTensor(B, [...i.slice(0, -2), null, i[i.length - 1]], what)]);
    }
    throw new ShapeError(`${what}: an index of ${n} entries is too long for a FactoredMatrix with shape ${fmt(this.shape)}`);
  }

  /**
   * Frobenius norm per leading index, sqrt(Σ S²) (TL `norm`).
   * @returns A new tensor of the leading shape (a scalar without leading dimensions); the caller disposes it.
   */
  norm(): tf.Tensor {
    return this.withSvd(({ S }) => tf.tidy(() => tf.sqrt(tf.sum(tf.square(S), -1))));
  }

  /** Run `f` on a fresh SVD and free it afterwards. */
  private withSvd<T>(f: (d: FactoredSvd) => T): T {
    const d = this.svd();
    try {
      return f(d);
    } finally {
      tf.dispose([d.U, d.S, d.Vh]);
    }
  }

  /**
   * The equivalent, balanced factorisation (U·√S, √S·Vhᵀ) (TL `make_even`).
   * @returns A new FactoredMatrix (the caller disposes it).
   */
  makeEven(): FactoredMatrix {
    return this.withSvd(({ U, S, Vh }) =>
      FactoredMatrix.of(() => {
        const r = tf.sqrt(S);
        return [tf.mul(U, tf.expandDims(r, -2)), tf.mul(tf.expandDims(r, -1), mT(Vh))]; // [..., ldim, k], [..., k, rdim]
      }),
    );
  }

  /**
   * Top-left corner of M (TL `get_corner`): the first `k` entries of every dimension of
   * A[..., :k, :]·B[..., :, :k].
   * @param k Corner size (default 3).
   * @returns A new tensor the caller disposes.
   */
  getCorner(k = 3): tf.Tensor {
    const [A, B] = this.live('getCorner');
    return cornerOf(A, B, k);
  }

  /**
   * The left orthogonal factor removed: diag(S)·Vhᵀ [..., k, rdim] (TL `collapse_l`).
   * @returns A new tensor the caller disposes.
   */
  collapseL(): tf.Tensor {
    return this.withSvd(({ S, Vh }) => tf.tidy(() => tf.mul(tf.expandDims(S, -1), mT(Vh)))); // [..., k, 1] * [..., k, rdim]
  }

  /**
   * The right orthogonal factor removed: U·diag(S) [..., ldim, k] (TL `collapse_r`).
   * @returns A new tensor the caller disposes.
   */
  collapseR(): tf.Tensor {
    return this.withSvd(({ U, S }) => tf.tidy(() => tf.mul(U, tf.expandDims(S, -2)))); // [..., ldim, k] * [..., 1, k]
  }

  /**
   * Insert an axis of length 1 at `k` in both factors (TL `unsqueeze`; k in [-(ndim+1), ndim]).
   * @param k Axis position; negative counts from the end as torch's `unsqueeze`.
   * @returns A new FactoredMatrix (the caller disposes it).
   * @throws {@link "tfjs-lens"!ShapeError} for k out of range.
   */
  unsqueeze(k: number): FactoredMatrix {
    const [A, B] = this.live('unsqueeze');
    const r = A.rank;
    if (!Number.isInteger(k) || k < -(r + 1) || k > r) throw new ShapeError(`FactoredMatrix.unsqueeze: k must be an integer in [${-(r + 1)}, ${r}], got ${k}`);
    const axis = k < 0 ? k + r + 1 : k;
    return FactoredMatrix.of(() => [tf.expandDims(A, axis), tf.expandDims(B, axis)]);
  }

  /** TL's repr: `FactoredMatrix: Shape([…]), Hidden Dim(mdim)`. */
  toString(): string {
    return `FactoredMatrix: Shape(${fmt(this.shape)}), Hidden Dim(${this.mdim})`;
  }

  /** Free A and B. Idempotent; any later use throws DisposedError. */
  dispose(): void {
    this.a?.dispose();
    this.b?.dispose();
    this.a = undefined;
    this.b = undefined;
    this.svdCache = undefined;
  }
}
