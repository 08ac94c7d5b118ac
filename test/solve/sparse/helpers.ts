/** @file Test helpers for the sparse solvers: seeded random matrices, grid Laplacians and a dense reference solver. */

import fc from "fast-check";
import { CsrMatrix } from "../../../src/solve/sparse/csr.js";

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arbitrary for (size, density, seed) describing a random sparse test matrix. */
export const matrixSpec = fc.record({
  n: fc.integer({ min: 1, max: 60 }),
  density: fc.double({ min: 0.01, max: 0.3, noNaN: true }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});
export type MatrixSpec = { n: number; density: number; seed: number };

/** Dense row-major random sparse matrix with entries in [-1, 1] at the given density. */
function randomSparseDense(rows: number, cols: number, density: number, random: () => number): Float64Array {
  const dense = new Float64Array(rows * cols);
  for (let k = 0; k < rows * cols; k++) if (random() < density) dense[k] = 2 * random() - 1;
  return dense;
}

/** Random sparse SPD matrix: either symmetric diagonally dominant, or B^T B + 0.1 I (not dominant). */
export function randomSpd({ n, density, seed }: MatrixSpec): CsrMatrix {
  const random = seededRandom(seed);
  const dense = new Float64Array(n * n);
  if (random() < 0.5) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        if (random() < density) {
          const v = 2 * random() - 1;
          dense[i * n + j] = v;
          dense[j * n + i] = v;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.abs(dense[i * n + j]);
      dense[i * n + i] = sum + 0.5 + random();
    }
  } else {
    const b = randomSparseDense(n, n, Math.min(1, density * 0.5), random);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += b[k * n + i] * b[k * n + j];
        dense[i * n + j] = sum;
      }
      dense[i * n + i] += 0.1;
    }
  }
  return CsrMatrix.fromDense(n, n, dense);
}

/**
 * Random sparse nonsymmetric nonsingular matrix. With `needsPivoting`, the rows of a diagonally dominant
 * matrix are permuted, so most diagonal entries are zero and pivoting is unavoidable.
 */
export function randomNonsymmetric({ n, density, seed }: MatrixSpec, needsPivoting = false): CsrMatrix {
  const random = seededRandom(seed);
  const dense = randomSparseDense(n, n, density, random);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.abs(dense[i * n + j]);
    dense[i * n + i] = (random() < 0.5 ? -1 : 1) * (sum + 0.5 + random());
  }
  if (!needsPivoting) return CsrMatrix.fromDense(n, n, dense);
  const permutation = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [permutation[i], permutation[j]] = [permutation[j], permutation[i]];
  }
  const permuted = new Float64Array(n * n);
  for (let i = 0; i < n; i++) permuted.set(dense.subarray(permutation[i] * n, permutation[i] * n + n), i * n);
  return CsrMatrix.fromDense(n, n, permuted);
}

/** Random vector with entries in [-1, 1]. */
export function randomVector(n: number, seed: number): Float64Array {
  const random = seededRandom(seed ^ 0x5bd1e995);
  return Float64Array.from({ length: n }, () => 2 * random() - 1);
}

/** Symmetric tridiagonal [-1, 2 + shift, -1] of order n. */
export function tridiagonal(n: number, shift = 0): CsrMatrix {
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    rows.push(i);
    cols.push(i);
    values.push(2 + shift);
    if (i > 0) {
      rows.push(i, i - 1);
      cols.push(i - 1, i);
      values.push(-1, -1);
    }
  }
  return CsrMatrix.fromTriplets(n, n, rows, cols, values);
}

/** 5-point Laplacian on an nx-by-ny grid with Dirichlet boundary (SPD), optional convection making it nonsymmetric. */
export function laplacian2d(nx: number, ny: number, convection = 0): CsrMatrix {
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  const id = (i: number, j: number): number => i * ny + j;
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const k = id(i, j);
      rows.push(k);
      cols.push(k);
      values.push(4);
      const neighbors: [number, number, number][] = [
        [i - 1, j, -1 - convection],
        [i + 1, j, -1 + convection],
        [i, j - 1, -1],
        [i, j + 1, -1],
      ];
      for (const [a, b, v] of neighbors) {
        if (a < 0 || a >= nx || b < 0 || b >= ny) continue;
        rows.push(k);
        cols.push(id(a, b));
        values.push(v);
      }
    }
  }
  return CsrMatrix.fromTriplets(nx * ny, nx * ny, rows, cols, values);
}

/** 7-point Laplacian on an m x m x m grid (SPD). */
export function laplacian3d(m: number): CsrMatrix {
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  const id = (i: number, j: number, k: number): number => (i * m + j) * m + k;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < m; k++) {
        rows.push(id(i, j, k));
        cols.push(id(i, j, k));
        values.push(6);
        for (const [a, b, c] of [
          [i - 1, j, k],
          [i + 1, j, k],
          [i, j - 1, k],
          [i, j + 1, k],
          [i, j, k - 1],
          [i, j, k + 1],
        ]) {
          if (a < 0 || b < 0 || c < 0 || a >= m || b >= m || c >= m) continue;
          rows.push(id(i, j, k));
          cols.push(id(a, b, c));
          values.push(-1);
        }
      }
    }
  }
  return CsrMatrix.fromTriplets(m ** 3, m ** 3, rows, cols, values);
}

/** Dense solve with partial pivoting (reference); throws on exact singularity. */
export function denseSolve(A: CsrMatrix, b: ArrayLike<number>): Float64Array {
  const n = A.rows;
  const a = A.toDense();
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i * n + k]) > Math.abs(a[p * n + k])) p = i;
    if (a[p * n + k] === 0) throw new Error("denseSolve: singular");
    if (p !== k) {
      for (let j = 0; j < n; j++) [a[k * n + j], a[p * n + j]] = [a[p * n + j], a[k * n + j]];
      [x[k], x[p]] = [x[p], x[k]];
    }
    for (let i = k + 1; i < n; i++) {
      const m = a[i * n + k] / a[k * n + k];
      if (m === 0) continue;
      for (let j = k; j < n; j++) a[i * n + j] -= m * a[k * n + j];
      x[i] -= m * x[k];
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    let sum = x[k];
    for (let j = k + 1; j < n; j++) sum -= a[k * n + j] * x[j];
    x[k] = sum / a[k * n + k];
  }
  return x;
}

/** max_i |a_i - b_i| / (1 + max_i |b_i|). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    difference = Math.max(difference, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return difference / (1 + scale);
}

/** ||b - A x||_inf / (||A||_max ||x||_inf + ||b||_inf), a backward-error style residual. */
export function scaledResidual(A: CsrMatrix, x: ArrayLike<number>, b: ArrayLike<number>): number {
  const r = A.matvec(x);
  let residual = 0;
  let xMax = 0;
  let bMax = 0;
  for (let i = 0; i < r.length; i++) {
    residual = Math.max(residual, Math.abs(b[i] - r[i]));
    bMax = Math.max(bMax, Math.abs(b[i]));
  }
  for (let i = 0; i < x.length; i++) xMax = Math.max(xMax, Math.abs(x[i]));
  return residual / (A.maxAbs() * xMax + bMax || 1);
}
