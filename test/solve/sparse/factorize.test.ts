import fc from "fast-check";
import { InvalidArgumentError } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { NotPositiveDefiniteError } from "../../../src/solve/sparse/cholesky.js";
import { CsrMatrix } from "../../../src/solve/sparse/csr.js";
import { factorize } from "../../../src/solve/sparse/factorize.js";
import { SingularMatrixError } from "../../../src/solve/sparse/lu.js";
import {
  denseSolve,
  laplacian2d,
  matrixSpec,
  randomNonsymmetric,
  randomSpd,
  randomVector,
  relativeError,
} from "./helpers.js";

describe("factorize", () => {
  it("auto picks Cholesky for SPD and LU for nonsymmetric matrices (property)", () => {
    fc.assert(
      fc.property(matrixSpec, fc.boolean(), (spec, symmetric) => {
        const A = symmetric ? randomSpd(spec) : randomNonsymmetric(spec, true);
        const b = randomVector(spec.n, spec.seed);
        const factorization = factorize(A);
        if (symmetric) expect(factorization.method).toBe("cholesky");
        else if (spec.n > 1 && !A.isNumericallySymmetric()) expect(factorization.method).toBe("lu");
        expect(factorization.n).toBe(spec.n);
        expect(factorization.factorNnz).toBeGreaterThanOrEqual(spec.n);
        expect(relativeError(factorization.solve(b), denseSolve(A, b))).toBeLessThan(1e-9);
        expect(relativeError(factorization.solveTranspose(b), denseSolve(A.transpose(), b))).toBeLessThan(
          1e-9,
        );
      }),
    );
  });

  it("auto falls back to LU for symmetric indefinite matrices", () => {
    const A = CsrMatrix.fromDense(3, 3, [1, 2, 0, 2, 1, 1, 0, 1, 3]);
    const factorization = factorize(A);
    expect(factorization.method).toBe("lu");
    const b = [1, 2, 3];
    expect(relativeError(factorization.solve(b), denseSolve(A, b))).toBeLessThan(1e-14);
  });

  it("explicit methods and their typed errors", () => {
    const indefinite = CsrMatrix.fromDense(2, 2, [1, 2, 2, 1]);
    expect(() => factorize(indefinite, { method: "cholesky" })).toThrow(NotPositiveDefiniteError);
    expect(factorize(laplacian2d(3, 3), { method: "lu" }).method).toBe("lu");
    expect(() => factorize(CsrMatrix.fromDense(2, 2, [1, 1, 1, 1]))).toThrow(SingularMatrixError);
    expect(() => factorize(CsrMatrix.fromDense(1, 2, [1, 1]))).toThrow(InvalidArgumentError);
  });

  it("refactor keeps working across value changes (SPD -> indefinite -> SPD)", () => {
    const A = laplacian2d(5, 5);
    const b = randomVector(A.rows, 1);
    let factorization = factorize(A);
    expect(factorization.method).toBe("cholesky");
    const shifted = A.add(CsrMatrix.identity(A.rows), -7); // symmetric indefinite, same pattern
    const sameValues = A.withValues(shifted.values);
    factorization = factorization.refactor(sameValues);
    expect(factorization.method).toBe("lu");
    expect(relativeError(factorization.solve(b), denseSolve(sameValues, b))).toBeLessThan(1e-12);
    factorization = factorization.refactor(A.scale(3));
    expect(relativeError(factorization.solve(b), denseSolve(A.scale(3), b))).toBeLessThan(1e-12);
    // Explicit Cholesky refactor with a non-SPD matrix throws.
    const explicit = factorize(A, { method: "cholesky" });
    expect(() => explicit.refactor(sameValues)).toThrow(NotPositiveDefiniteError);
    // Nonsymmetric values on a symmetric pattern switch to LU.
    const convective = laplacian2d(5, 5, 0.4);
    const switched = factorize(A).refactor(A.withValues(convective.values));
    expect(switched.method).toBe("lu");
    expect(relativeError(switched.solveTranspose(b), denseSolve(convective.transpose(), b))).toBeLessThan(
      1e-12,
    );
  });

  it("nearly symmetric matrices within symmetryTolerance use Cholesky on the lower triangle", () => {
    const A = laplacian2d(4, 4);
    const values = Float64Array.from(A.values);
    values[1] *= 1 + 1e-16 * 4; // roundoff-level asymmetry
    const B = A.withValues(values);
    expect(factorize(B).method).toBe("cholesky");
    expect(factorize(B, { symmetryTolerance: 0 }).method).toBe(values[1] === A.values[1] ? "cholesky" : "lu");
  });
});
