import fc from "fast-check";
import { InvalidArgumentError } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { CsrMatrix } from "../../../src/solve/sparse/csr.js";
import { analyzeLu, lu, SingularMatrixError } from "../../../src/solve/sparse/lu.js";
import {
  denseSolve,
  laplacian2d,
  matrixSpec,
  randomNonsymmetric,
  randomSpd,
  randomVector,
  relativeError,
  scaledResidual,
  tridiagonal,
} from "./helpers.js";

const orderings = fc.constantFrom("amd" as const, "rcm" as const, "natural" as const);

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("sparse LU", () => {
  it("solves random nonsymmetric systems like a dense solver (property, n = 1..60)", () => {
    fc.assert(
      fc.property(matrixSpec, orderings, fc.boolean(), (spec, ordering, needsPivoting) => {
        const A = randomNonsymmetric(spec, needsPivoting);
        const b = randomVector(spec.n, spec.seed);
        const factor = lu(A, { ordering });
        const x = factor.solve(b);
        expect(relativeError(x, denseSolve(A, b))).toBeLessThan(1e-9);
        expect(scaledResidual(A, x, b)).toBeLessThan(1e-13);
        const y = factor.solveTranspose(b);
        expect(relativeError(y, denseSolve(A.transpose(), b))).toBeLessThan(1e-9);
      }),
    );
  });

  it("solves SPD, tridiagonal, 2D Laplacian and convection-diffusion systems and their transposes", () => {
    const matrices = [
      randomSpd({ n: 40, density: 0.1, seed: 5 }),
      tridiagonal(1),
      tridiagonal(33),
      laplacian2d(6, 8),
      laplacian2d(9, 7, 0.4),
    ];
    for (const A of matrices) {
      const b = randomVector(A.rows, 17);
      const factor = lu(A);
      expect(relativeError(factor.solve(b), denseSolve(A, b))).toBeLessThan(1e-11);
      expect(relativeError(factor.solveTranspose(b), denseSolve(A.transpose(), b))).toBeLessThan(1e-11);
    }
  });

  it("pivots when the diagonal is zero or tiny", () => {
    const swap = CsrMatrix.fromDense(2, 2, [0, 1, 1, 0]);
    expect(Array.from(lu(swap).solve([2, 3]))).toEqual([3, 2]);
    const tiny = CsrMatrix.fromDense(3, 3, [1e-18, 1, 0, 1, 1, 1, 0, 1, 3]);
    const b = [1, 2, 3];
    const x = lu(tiny).solve(b);
    expect(relativeError(x, denseSolve(tiny, b))).toBeLessThan(1e-14);
    // Classic partial pivoting also works (pivotTolerance 1).
    const spec = { n: 50, density: 0.1, seed: 123 };
    const A = randomNonsymmetric(spec, true);
    const rhs = randomVector(50, 1);
    expect(relativeError(lu(A, { pivotTolerance: 1 }).solve(rhs), denseSolve(A, rhs))).toBeLessThan(1e-10);
  });

  it("solveTranspose is the adjoint of solve: <A^-T g, b> = <g, A^-1 b>", () => {
    const A = randomNonsymmetric({ n: 30, density: 0.15, seed: 8 }, true);
    const factor = lu(A);
    const b = randomVector(30, 1);
    const g = randomVector(30, 2);
    const x = factor.solve(b);
    const lambda = factor.solveTranspose(g);
    const left = lambda.reduce((sum, v, i) => sum + v * b[i], 0);
    const right = x.reduce((sum, v, i) => sum + v * g[i], 0);
    expect(left).toBeCloseTo(right, 12);
  });

  it("refactorizes with new values, keeping pivots when they stay acceptable and re-pivoting otherwise", () => {
    fc.assert(
      fc.property(
        matrixSpec,
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        (spec, seed, needsPivoting) => {
          const A = randomNonsymmetric(spec, needsPivoting);
          const factor = lu(A);
          // Perturb the values strongly (some pivot choices become bad) but keep the matrix nonsingular.
          const B = randomNonsymmetric({ ...spec, seed: spec.seed }, needsPivoting);
          const perturbation = randomVector(A.nnz, seed);
          const C = B.withValues(B.values.map((v, p) => v * (1 + 0.3 * perturbation[p])));
          const b = randomVector(spec.n, seed + 1);
          const refactored = factor.refactor(C);
          expect(relativeError(refactored.solve(b), denseSolve(C, b))).toBeLessThan(1e-9);
          expect(relativeError(refactored.solveTranspose(b), denseSolve(C.transpose(), b))).toBeLessThan(
            1e-9,
          );
        },
      ),
    );
    // A value change that makes the old pivot zero forces the fallback.
    const A = CsrMatrix.fromDense(2, 2, [2, 1, 1, 2]);
    const swapped = A.withValues([0, 1, 1, 2]);
    const x = lu(A).refactor(swapped).solve([1, 1]);
    expect(relativeError(x, denseSolve(swapped, [1, 1]))).toBeLessThan(1e-15);
    // Same pattern object through the symbolic analysis.
    const symbolic = analyzeLu(A);
    expect(Array.from(symbolic.factor(A.scale(2)).solve([3, 3]))).toEqual([0.5, 0.5]);
    expect(() => symbolic.factor(tridiagonal(3))).toThrow(InvalidArgumentError);
  });

  it("throws SingularMatrixError naming the column", () => {
    // Numerically singular: second column is twice the first.
    const dependent = CsrMatrix.fromDense(2, 2, [1, 2, 2, 4]);
    const error = caught(() => lu(dependent));
    expect(error).toBeInstanceOf(SingularMatrixError);
    expect((error as Error).message).toMatch(/singular/);
    // Structurally singular: column 2 is empty.
    const emptyColumn = CsrMatrix.fromDense(3, 3, [1, 2, 0, 3, 4, 0, 5, 6, 0]);
    const structural = caught(() => lu(emptyColumn, { ordering: "natural" }));
    expect(structural).toBeInstanceOf(SingularMatrixError);
    expect((structural as SingularMatrixError).column).toBe(2);
    // Rank-deficient random matrix: the last row repeats a combination of others.
    const n = 20;
    const base = randomNonsymmetric({ n, density: 0.3, seed: 77 }).toDense();
    for (let j = 0; j < n; j++) base[(n - 1) * n + j] = base[j] + 2 * base[n + j];
    expect(() => lu(CsrMatrix.fromDense(n, n, base))).toThrow(SingularMatrixError);
    expect(() => lu(CsrMatrix.fromDense(1, 1, [0]))).toThrow(SingularMatrixError);
  });

  it("rejects non-square matrices", () => {
    expect(() => lu(CsrMatrix.fromDense(1, 2, [1, 2]))).toThrow(InvalidArgumentError);
  });
});
