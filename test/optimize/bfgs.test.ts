/** @file Tests for BFGS: Rosenbrock, inverse-Hessian update, bound rejection. */

import { describe, expect, it } from "vitest";
import { minimizeBfgs, updateInverseHessian } from "../../src/optimize/bfgs.js";
import { countingProblem, quadraticProblem, rosenbrock } from "./problems.js";

describe("minimizeBfgs", () => {
  it("solves 2-D Rosenbrock from (-1.2, 1)", () => {
    const { problem, counts } = countingProblem(rosenbrock());
    const result = minimizeBfgs(problem, Float64Array.of(-1.2, 1));
    // Measured: 38 iterations, 45 function / 45 gradient evaluations (scipy 1.17 BFGS: 32 / 39).
    expect(result.success).toBe(true);
    expect(result.stopReason).toBe("gradient-tolerance");
    expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-5);
    expect(Math.abs(result.x[1] - 1)).toBeLessThan(1e-5);
    expect(result.jacNorm).toBeLessThanOrEqual(1e-5);
    expect(result.iterations).toBeLessThanOrEqual(60);
    expect(result.functionEvaluations).toBe(counts.value);
  });

  it("solves chained Rosenbrock with n = 20", () => {
    const x0 = new Float64Array(20).map((_, i) => (i % 2 === 0 ? -1.2 : 1));
    const result = minimizeBfgs(rosenbrock(), x0);
    expect(result.success).toBe(true);
    for (const component of result.x) expect(Math.abs(component - 1)).toBeLessThan(1e-5);
  });

  it("finds the minimizer of a quadratic in at most n + few iterations", () => {
    const matrix = Float64Array.of(3, 1, 0, 1, 2, 0.5, 0, 0.5, 1);
    const linear = Float64Array.of(1, -2, 0.5);
    const result = minimizeBfgs(quadraticProblem(matrix, linear), new Float64Array(3), { gtol: 1e-10 });
    const gradient = quadraticProblem(matrix, linear).gradient(result.x);
    for (const component of gradient) expect(Math.abs(component)).toBeLessThan(1e-9);
    expect(result.iterations).toBeLessThanOrEqual(12);
  });

  it("rejects finite bounds but accepts infinite ones", () => {
    const bounds = { lower: Float64Array.of(-Infinity, 0), upper: Float64Array.of(Infinity, Infinity) };
    expect(() => minimizeBfgs(rosenbrock(), Float64Array.of(0, 0), { bounds })).toThrow(
      /BFGS does not support bounds/,
    );
    const infinite = {
      lower: Float64Array.of(-Infinity, -Infinity),
      upper: Float64Array.of(Infinity, Infinity),
    };
    expect(minimizeBfgs(rosenbrock(), Float64Array.of(-1.2, 1), { bounds: infinite }).success).toBe(true);
  });

  it("applies ftol only when given", () => {
    const loose = minimizeBfgs(rosenbrock(), Float64Array.of(-1.2, 1), { ftol: 1e-3 });
    expect(loose.stopReason).toBe("function-tolerance");
    expect(loose.iterations).toBeLessThan(38);
  });
});

describe("updateInverseHessian", () => {
  it("satisfies the secant equation H⁺y = s and stays symmetric", () => {
    const inverseHessian = Float64Array.of(2, 0.5, 0.5, 1);
    const step = Float64Array.of(0.3, -0.2);
    const change = Float64Array.of(1, 0.4);
    updateInverseHessian(inverseHessian, 2, step, change);
    const product = [
      inverseHessian[0] * change[0] + inverseHessian[1] * change[1],
      inverseHessian[2] * change[0] + inverseHessian[3] * change[1],
    ];
    expect(product[0]).toBeCloseTo(step[0], 14);
    expect(product[1]).toBeCloseTo(step[1], 14);
    expect(inverseHessian[1]).toBeCloseTo(inverseHessian[2], 14);
  });
});
