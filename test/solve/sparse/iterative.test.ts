import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cholesky } from "../../../src/solve/sparse/cholesky.js";
import { CsrMatrix } from "../../../src/solve/sparse/csr.js";
import {
  conjugateGradient,
  gmres,
  incompleteCholesky,
  incompleteLu,
  jacobiPreconditioner,
} from "../../../src/solve/sparse/iterative.js";
import { lu } from "../../../src/solve/sparse/lu.js";
import {
  laplacian2d,
  matrixSpec,
  randomNonsymmetric,
  randomSpd,
  randomVector,
  relativeError,
  tridiagonal,
} from "./helpers.js";

function norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

describe("preconditioned conjugate gradients", () => {
  it("converges to the direct solution with Jacobi, IC(0) and no preconditioner (property)", () => {
    fc.assert(
      fc.property(
        matrixSpec,
        fc.constantFrom("jacobi" as const, "ic0" as const, "none" as const),
        (spec, kind) => {
          const A = randomSpd(spec);
          const b = randomVector(spec.n, spec.seed);
          const result = conjugateGradient(A, b, { preconditioner: kind });
          expect(result.converged).toBe(true);
          expect(result.residualNorm).toBeLessThanOrEqual(1e-12 * norm(b));
          expect(relativeError(result.x, cholesky(A).solve(b))).toBeLessThan(1e-8);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("IC(0) needs fewer iterations than Jacobi on a 2D Laplacian", () => {
    const A = laplacian2d(30, 30);
    const b = randomVector(A.rows, 3);
    const jacobi = conjugateGradient(A, b, { preconditioner: "jacobi" });
    const ic0 = conjugateGradient(A, b, { preconditioner: "ic0" });
    expect(jacobi.converged && ic0.converged).toBe(true);
    expect(ic0.iterations).toBeLessThan(jacobi.iterations);
    expect(relativeError(ic0.x, cholesky(A).solve(b))).toBeLessThan(1e-9);
  });

  it("IC(0) is exact on a tridiagonal matrix (no fill is dropped)", () => {
    const A = tridiagonal(50);
    const b = randomVector(50, 4);
    const result = conjugateGradient(A, b, { preconditioner: "ic0" });
    expect(result.iterations).toBeLessThanOrEqual(2);
    expect(relativeError(result.x, cholesky(A).solve(b))).toBeLessThan(1e-12);
    const M = incompleteCholesky(A);
    expect(relativeError(M.apply(b, new Float64Array(50)), cholesky(A).solve(b))).toBeLessThan(1e-12);
  });

  it("reports non-convergence clearly", () => {
    const A = laplacian2d(20, 20);
    const b = randomVector(A.rows, 5);
    const result = conjugateGradient(A, b, { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(3);
    expect(result.residualNorm).toBeGreaterThan(1e-12 * norm(b));
    expect(Number.isFinite(result.residualNorm)).toBe(true);
  });

  it("uses an initial guess and handles b = 0", () => {
    const A = tridiagonal(10);
    const b = randomVector(10, 6);
    const exact = cholesky(A).solve(b);
    const warm = conjugateGradient(A, b, { initialGuess: exact });
    expect(warm.iterations).toBe(0);
    expect(warm.converged).toBe(true);
    const zero = conjugateGradient(A, new Float64Array(10));
    expect(zero.converged).toBe(true);
    expect(Array.from(zero.x)).toEqual(new Array(10).fill(0));
  });

  it("stops with converged: false on an indefinite matrix", () => {
    const A = CsrMatrix.fromDense(2, 2, [1, 0, 0, -1]);
    const result = conjugateGradient(A, [1, 1], { preconditioner: "none" });
    expect(result.converged).toBe(false);
  });

  it("IC(0) survives breakdown with a diagonal shift", () => {
    // Kershaw's SPD matrix: unshifted IC(0) meets a negative pivot (-5) at the last row.
    const A = CsrMatrix.fromDense(4, 4, [3, -2, 0, 2, -2, 3, -2, 0, 0, -2, 3, -2, 2, 0, -2, 3]);
    const b = [1, 2, 3, 4];
    const result = conjugateGradient(A, b, { preconditioner: incompleteCholesky(A) });
    expect(result.converged).toBe(true);
    expect(relativeError(result.x, cholesky(A).solve(b))).toBeLessThan(1e-10);
    const larger = randomSpd({ n: 60, density: 0.3, seed: 2024 });
    const rhs = randomVector(60, 7);
    expect(conjugateGradient(larger, rhs, { preconditioner: "ic0" }).converged).toBe(true);
  });
});

describe("restarted GMRES", () => {
  it("converges to the direct solution with ILU(0), Jacobi and no preconditioner (property)", () => {
    fc.assert(
      fc.property(
        matrixSpec,
        fc.constantFrom("ilu0" as const, "jacobi" as const, "none" as const),
        (spec, kind) => {
          const A = randomNonsymmetric(spec);
          const b = randomVector(spec.n, spec.seed);
          const result = gmres(A, b, { preconditioner: kind, restart: 20 });
          expect(result.converged).toBe(true);
          expect(result.residualNorm).toBeLessThanOrEqual(1e-12 * norm(b));
          expect(relativeError(result.x, lu(A).solve(b))).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("solves a convection-diffusion problem, ILU(0) beating Jacobi", () => {
    const A = laplacian2d(25, 25, 0.5);
    const b = randomVector(A.rows, 8);
    const ilu = gmres(A, b, { preconditioner: "ilu0", restart: 30 });
    const jacobi = gmres(A, b, { preconditioner: "jacobi", restart: 30 });
    expect(ilu.converged && jacobi.converged).toBe(true);
    expect(ilu.iterations).toBeLessThan(jacobi.iterations);
    expect(relativeError(ilu.x, lu(A).solve(b))).toBeLessThan(1e-9);
  });

  it("ILU(0) is exact on a tridiagonal nonsymmetric matrix", () => {
    const A = laplacian2d(1, 30, 0).add(CsrMatrix.fromTriplets(30, 30, [0, 5], [1, 4], [0.3, -0.2]));
    const b = randomVector(30, 9);
    const M = incompleteLu(A);
    expect(relativeError(M.apply(b, new Float64Array(30)), lu(A).solve(b))).toBeLessThan(1e-12);
  });

  it("needs pivoting-free ILU(0): handles a zero diagonal without crashing", () => {
    const A = randomNonsymmetric({ n: 30, density: 0.2, seed: 31 }, true);
    const b = randomVector(30, 10);
    const result = gmres(A, b, { preconditioner: "none", restart: 30, maxIterations: 200 });
    expect(result.converged).toBe(true);
    const withIlu = gmres(A, b, { preconditioner: "ilu0", maxIterations: 50 });
    expect(Number.isFinite(withIlu.residualNorm)).toBe(true);
  });

  it("reports non-convergence clearly", () => {
    const A = laplacian2d(20, 20, 0.3);
    const b = randomVector(A.rows, 11);
    const result = gmres(A, b, { preconditioner: "none", restart: 5, maxIterations: 10 });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(10);
    expect(result.residualNorm).toBeGreaterThan(1e-12 * norm(b));
  });

  it("Jacobi preconditioner divides by the diagonal", () => {
    const M = jacobiPreconditioner(CsrMatrix.fromDense(2, 2, [2, 1, 1, 4]));
    expect(Array.from(M.apply(Float64Array.of(2, 2), new Float64Array(2)))).toEqual([1, 0.5]);
  });
});
