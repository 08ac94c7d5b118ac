import fc from "fast-check";
import { InvalidArgumentError } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { analyzeCholesky, cholesky, NotPositiveDefiniteError } from "../../../src/solve/sparse/cholesky.js";
import { CsrMatrix } from "../../../src/solve/sparse/csr.js";
import {
  denseSolve,
  laplacian2d,
  laplacian3d,
  matrixSpec,
  randomSpd,
  randomVector,
  relativeError,
  scaledResidual,
  tridiagonal,
} from "./helpers.js";

const orderings = fc.constantFrom("amd" as const, "rcm" as const, "natural" as const);

describe("sparse Cholesky", () => {
  it("solves random sparse SPD systems like a dense solver (property, n = 1..60)", () => {
    fc.assert(
      fc.property(matrixSpec, orderings, (spec, ordering) => {
        const A = randomSpd(spec);
        const b = randomVector(spec.n, spec.seed);
        const x = cholesky(A, { ordering }).solve(b);
        expect(relativeError(x, denseSolve(A, b))).toBeLessThan(1e-9);
        expect(scaledResidual(A, x, b)).toBeLessThan(1e-13);
      }),
    );
  });

  it("reconstructs P A P^T = L L^T", () => {
    const A = randomSpd({ n: 25, density: 0.15, seed: 99 });
    const factor = cholesky(A);
    const { n, columnStart, permutation } = factor.symbolic;
    const L = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      for (let p = columnStart[j]; p < columnStart[j + 1]; p++)
        L[factor.rowIndex[p] * n + j] = factor.values[p];
    }
    const dense = A.toDense();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += L[i * n + k] * L[j * n + k];
        expect(sum).toBeCloseTo(dense[permutation[i] * n + permutation[j]], 12);
      }
    }
  });

  it("solves tridiagonal and 2D 5-point Laplacian systems", () => {
    for (const A of [
      tridiagonal(1),
      tridiagonal(2),
      tridiagonal(57),
      laplacian2d(7, 9),
      laplacian2d(1, 12),
    ]) {
      const b = randomVector(A.rows, A.rows);
      const x = cholesky(A).solve(b);
      expect(relativeError(x, denseSolve(A, b))).toBeLessThan(1e-11);
      expect(cholesky(A).solveTranspose(b)).toEqual(x);
    }
  });

  it("handles wide supernodes: dense matrices and a 3D Laplacian", () => {
    const dense = randomSpd({ n: 60, density: 1, seed: 12 });
    const symbolic = analyzeCholesky(dense);
    expect(symbolic.supernodeCount).toBe(1);
    const b = randomVector(60, 2);
    expect(relativeError(symbolic.factor(dense).solve(b), denseSolve(dense, b))).toBeLessThan(1e-10);
    const A = laplacian3d(7);
    const widest = Math.max(
      ...Array.from({ length: analyzeCholesky(A).supernodeCount }, (_, s) => {
        const starts = analyzeCholesky(A).supernodeStart;
        return starts[s + 1] - starts[s];
      }),
    );
    expect(widest).toBeGreaterThan(8);
    const rhs = randomVector(A.rows, 3);
    const x = cholesky(A).solve(rhs);
    expect(relativeError(x, denseSolve(A, rhs))).toBeLessThan(1e-11);
    expect(scaledResidual(A, x, rhs)).toBeLessThan(1e-15);
  });

  it("reports the same failing pivot as a dense Cholesky of P A P^T (property)", () => {
    fc.assert(
      fc.property(
        matrixSpec,
        fc.double({ min: 0.2, max: 3, noNaN: true }),
        orderings,
        (spec, shift, ordering) => {
          const spd = randomSpd(spec);
          // Shift the spectrum so that the matrix is (usually) indefinite, keeping the pattern.
          const values = Float64Array.from(spd.values);
          const scale = shift * spd.maxAbs();
          for (let i = 0; i < spd.rows; i++) values[spd.indexOf(i, i)] -= scale;
          const A = spd.withValues(values);
          const symbolic = analyzeCholesky(A, { ordering, pivotTolerance: 0 });
          const { n, permutation } = symbolic;
          const dense = A.toDense();
          const C = new Float64Array(n * n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) C[i * n + j] = dense[permutation[i] * n + permutation[j]];
          }
          let failingStep = -1;
          for (let k = 0; k < n && failingStep < 0; k++) {
            const pivot = C[k * n + k];
            // A clear margin avoids ties decided by rounding differences between the two algorithms.
            if (Math.abs(pivot) < 1e-8 * scale) return;
            if (pivot < 0) {
              failingStep = k;
              break;
            }
            for (let i = k + 1; i < n; i++) {
              const factor = C[i * n + k] / pivot;
              for (let j = k + 1; j < n; j++) C[i * n + j] -= factor * C[k * n + j];
            }
          }
          const error = (() => {
            try {
              symbolic.factor(A);
            } catch (e) {
              return e;
            }
            return undefined;
          })();
          if (failingStep < 0) {
            expect(error).toBeUndefined();
          } else {
            expect(error).toBeInstanceOf(NotPositiveDefiniteError);
            expect((error as NotPositiveDefiniteError).step).toBe(failingStep);
            expect((error as NotPositiveDefiniteError).pivotIndex).toBe(permutation[failingStep]);
          }
        },
      ),
    );
  });

  it("refactorizes a pattern with new values through the symbolic analysis", () => {
    fc.assert(
      fc.property(matrixSpec, fc.integer({ min: 0, max: 1000 }), (spec, seed) => {
        const A = randomSpd(spec);
        const symbolic = analyzeCholesky(A);
        // New symmetric values on the same pattern, made SPD by a diagonal shift (every diagonal is stored).
        const shift = 2 * A.maxAbs() * spec.n;
        const values = new Float64Array(A.nnz);
        for (let i = 0; i < A.rows; i++) {
          for (let p = A.rowPtr[i]; p < A.rowPtr[i + 1]; p++) {
            const j = A.colIndex[p];
            values[p] = A.values[p] * (1 + 0.5 * Math.sin(seed + i * j + i + j)) + (i === j ? shift : 0);
          }
        }
        const B = A.withValues(values);
        const b = randomVector(spec.n, seed);
        const refactored = symbolic.factor(B);
        expect(relativeError(refactored.solve(b), denseSolve(B, b))).toBeLessThan(1e-10);
        expect(relativeError(cholesky(A).refactor(B).solve(b), refactored.solve(b))).toBe(0);
      }),
    );
  });

  it("CholeskySymbolic.factor / CholeskyFactor.refactor: repeated factorizations (work arrays reused, also after a failed pivot; values recycled) equal fresh analyses bit for bit", () => {
    fc.assert(
      fc.property(matrixSpec, fc.integer({ min: 0, max: 1000 }), (spec, seed) => {
        const A = randomSpd(spec);
        const symbolic = analyzeCholesky(A);
        const shifted = (amount: number, phase: number) => {
          const values = new Float64Array(A.nnz);
          for (let i = 0; i < A.rows; i++) {
            for (let p = A.rowPtr[i]; p < A.rowPtr[i + 1]; p++) {
              const j = A.colIndex[p];
              const scale = 1 + 0.5 * Math.sin(seed + phase + i * j + i + j);
              values[p] = A.values[p] * scale + (i === j ? amount : 0);
            }
          }
          return A.withValues(values);
        };
        const B = shifted(2 * A.maxAbs() * spec.n, 0);
        const C = shifted(3 * A.maxAbs() * spec.n, 1);
        const first = symbolic.factor(B);
        const firstValues = first.values.slice();
        // a matrix that is not positive definite fails part way, leaving its work arrays half written
        expect(() => symbolic.factor(shifted(-4 * A.maxAbs() * spec.n - 1, 2))).toThrow(
          NotPositiveDefiniteError,
        );
        for (const [M, factor] of [
          [C, symbolic.factor(C)],
          [B, symbolic.factor(B)],
          [C, symbolic.factor(C)],
        ] as const) {
          const fresh = analyzeCholesky(A).factor(M);
          expect(Array.from(factor.values)).toEqual(Array.from(fresh.values));
          expect(Array.from(factor.rowIndex)).toEqual(Array.from(fresh.rowIndex));
        }
        // an earlier factor keeps its own values
        expect(Array.from(first.values)).toEqual(Array.from(firstValues));
        // refactor(_, recycle): the new values go into the old factor's storage, bit for bit a fresh factor's
        const recycled = first.refactor(C, true);
        expect(recycled.values).toBe(first.values);
        expect(Array.from(recycled.values)).toEqual(Array.from(analyzeCholesky(A).factor(C).values));
        expect(() => symbolic.factor(C, new Float64Array(symbolic.factorNnz + 1))).toThrow(
          InvalidArgumentError,
        );
      }),
    );
  });

  it("rejects a matrix with a different pattern on refactorization", () => {
    const symbolic = analyzeCholesky(tridiagonal(4));
    expect(() => symbolic.factor(laplacian2d(2, 2))).toThrow(InvalidArgumentError);
    expect(() => symbolic.factor(tridiagonal(5))).toThrow(InvalidArgumentError);
  });

  it("throws NotPositiveDefiniteError with the failing pivot index", () => {
    const negative = CsrMatrix.fromDense(3, 3, [2, 0, 0, 0, -1, 0, 0, 0, 3]);
    const error = (() => {
      try {
        cholesky(negative);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NotPositiveDefiniteError);
    expect((error as NotPositiveDefiniteError).pivotIndex).toBe(1);
    expect((error as Error).message).toMatch(/not positive definite/);
    // Symmetric indefinite with positive diagonal.
    expect(() => cholesky(CsrMatrix.fromDense(2, 2, [1, 2, 2, 1]))).toThrow(NotPositiveDefiniteError);
    // Singular positive semidefinite (pure Neumann 1D Laplacian).
    const neumann = tridiagonal(10).withValues(
      tridiagonal(10).values.map((v, p, values) => (p === 0 || p === values.length - 1 ? 1 : v)),
    );
    expect(() => cholesky(neumann)).toThrow(NotPositiveDefiniteError);
    // Missing diagonal entry.
    expect(() => cholesky(CsrMatrix.fromDense(2, 2, [0, 1, 1, 0]))).toThrow(NotPositiveDefiniteError);
  });

  it("logDeterminant matches the product of pivots", () => {
    const A = tridiagonal(6); // det of [-1, 2, -1] of order n is n + 1
    expect(cholesky(A).logDeterminant()).toBeCloseTo(Math.log(7), 12);
  });
});
