/** @file Tests for the small dense solvers. */

import { describe, expect, it } from "vitest";
import {
  choleskyFactorInPlace,
  choleskySolveInPlace,
  solveLinearSystemInPlace,
} from "../../src/optimize/dense.js";

describe("dense solvers", () => {
  it("Cholesky solves an SPD system and rejects an indefinite one", () => {
    const matrix = Float64Array.of(4, 2, 0.4, 2, 5, 1, 0.4, 1, 3);
    const factor = Float64Array.from(matrix);
    expect(choleskyFactorInPlace(factor, 3)).toBe(true);
    const solution = choleskySolveInPlace(factor, 3, Float64Array.of(1, 2, 3));
    for (let i = 0; i < 3; i++) {
      let entry = 0;
      for (let j = 0; j < 3; j++) entry += matrix[i * 3 + j] * solution[j];
      expect(entry).toBeCloseTo([1, 2, 3][i], 13);
    }
    expect(choleskyFactorInPlace(Float64Array.of(1, 2, 2, 1), 2)).toBe(false);
  });

  it("Gaussian elimination pivots and detects singular matrices", () => {
    const matrix = Float64Array.of(0, 2, 1, 1, 1, 0, 3, 0, 1);
    const solution = solveLinearSystemInPlace(Float64Array.from(matrix), 3, Float64Array.of(5, 2, 6));
    expect(solution).not.toBeNull();
    for (let i = 0; i < 3; i++) {
      let entry = 0;
      for (let j = 0; j < 3; j++) entry += matrix[i * 3 + j] * (solution as Float64Array)[j];
      expect(entry).toBeCloseTo([5, 2, 6][i], 13);
    }
    expect(solveLinearSystemInPlace(Float64Array.of(1, 2, 2, 4), 2, Float64Array.of(1, 1))).toBeNull();
  });
});
