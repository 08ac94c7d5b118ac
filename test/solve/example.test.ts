import { describe, expect, it } from "vitest";
import { solveExample } from "../../examples/solve.js";

describe("examples/solve.ts", () => {
  it("dense, sparse and nonlinear solves with gradients and Taylor rates about 2 and 3", () => {
    const { dense, sparse, nonlinear } = solveExample(60);
    // x = A^-1 b = [-1/9, 13/9, 20/9]; A is symmetric, so dJ/db = 2 A^-1 x = [-17, 62, 91] / 27
    expect(dense.value).toBeCloseTo(570 / 81, 13);
    const expected = [-17 / 27, 62 / 27, 91 / 27];
    (dense.dJdb as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 13);
    });
    expect(sparse.taylorRate).toBeGreaterThan(1.9);
    expect(sparse.taylorRateHessian).toBeGreaterThan(2.9);
    expect(nonlinear.newtonIterations).toBeGreaterThan(1);
    expect(nonlinear.taylorRate).toBeGreaterThan(1.9);
    expect(nonlinear.taylorRateHessian).toBeGreaterThan(2.9);
  });
});
