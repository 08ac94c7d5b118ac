/** @file Tests for the truncated Newton method (Newton-CG), unbounded and bound-constrained. */

import { describe, expect, it } from "vitest";
import { minimizeLbfgsb } from "../../src/optimize/lbfgsb.js";
import { minimizeNewtonCg, truncatedConjugateGradient } from "../../src/optimize/newton-cg.js";
import {
  boxQuadraticByEnumeration,
  countingProblem,
  kktViolation,
  quadraticProblem,
  rosenbrock,
} from "./problems.js";

const INF = Infinity;

/** Tridiagonal 4-1 matrix of size n (eigenvalues in (2, 6)). */
function wellConditionedMatrix(size: number): Float64Array {
  const matrix = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    matrix[i * size + i] = 4;
    if (i + 1 < size) {
      matrix[i * size + i + 1] = 1;
      matrix[(i + 1) * size + i] = 1;
    }
  }
  return matrix;
}

describe("minimizeNewtonCg", () => {
  it("solves 2-D Rosenbrock from (-1.2, 1)", () => {
    const { problem, counts } = countingProblem(rosenbrock());
    const result = minimizeNewtonCg(problem, Float64Array.of(-1.2, 1));
    // Measured: 64 iterations, 77 function / 77 gradient evaluations, 115 Hessian actions
    // (scipy 1.17 Newton-CG: 83 / 105 / 142 Hessian products). The Hessian is indefinite along part of the
    // valley, where CG stops on negative curvature and the steps stay short.
    expect(result.success).toBe(true);
    expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-5);
    expect(Math.abs(result.x[1] - 1)).toBeLessThan(1e-5);
    expect(result.hessianActions).toBe(counts.hessianAction);
    expect(result.hessianActions).toBeGreaterThan(0);
    expect(result.iterations).toBeLessThanOrEqual(100);
  });

  it("handles the active bound x0 <= 0.5 on Rosenbrock", () => {
    const lower = Float64Array.of(-INF, -INF);
    const upper = Float64Array.of(0.5, INF);
    const result = minimizeNewtonCg(rosenbrock(), Float64Array.of(-1.2, 1), { bounds: { lower, upper } });
    expect(result.success).toBe(true);
    expect(result.x[0]).toBe(0.5);
    expect(result.x[1]).toBeCloseTo(0.25, 5);
    expect(kktViolation(result.x, result.jac, lower, upper)).toBeLessThan(1e-5);
  });

  it("solves chained Rosenbrock with n = 20", () => {
    const x0 = new Float64Array(20).map((_, i) => (i % 2 === 0 ? -1.2 : 1));
    const result = minimizeNewtonCg(rosenbrock(), x0, { gtol: 1e-8 });
    expect(result.success).toBe(true);
    for (const component of result.x) expect(Math.abs(component - 1)).toBeLessThan(1e-5);
  });

  it("takes fewer iterations than L-BFGS-B on a well-conditioned quadratic-plus-quartic problem", () => {
    const size = 30;
    const linear = new Float64Array(size).map((_, i) => 3 * Math.sin(i + 1));
    const problem = quadraticProblem(wellConditionedMatrix(size), linear, 1);
    const newton = minimizeNewtonCg(problem, new Float64Array(size), { gtol: 1e-8 });
    const quasiNewton = minimizeLbfgsb(problem, new Float64Array(size), { gtol: 1e-8, ftol: 0 });
    expect(newton.success).toBe(true);
    expect(quasiNewton.success).toBe(true);
    expect(newton.iterations).toBeLessThan(quasiNewton.iterations);
    for (let i = 0; i < size; i++) expect(newton.x[i]).toBeCloseTo(quasiNewton.x[i], 7);
  });

  it("solves a non-diagonal box quadratic (agreement with active-set enumeration)", () => {
    const matrix = Float64Array.of(4, 1, 0.5, 1, 3, -1, 0.5, -1, 2);
    const linear = Float64Array.of(8, -6, 3);
    const lower = Float64Array.of(-1, -1, -1);
    const upper = Float64Array.of(1, 1, 1);
    const problem = quadraticProblem(matrix, linear);
    const result = minimizeNewtonCg(problem, Float64Array.of(0.9, 0.9, -0.9), {
      bounds: { lower, upper },
      gtol: 1e-10,
    });
    expect(result.success).toBe(true);
    expect(kktViolation(result.x, problem.gradient(result.x), lower, upper)).toBeLessThan(1e-9);
    const expected = boxQuadraticByEnumeration(matrix, linear, lower, upper);
    for (let i = 0; i < 3; i++) expect(result.x[i]).toBeCloseTo(expected[i], 8);
  });

  it("converges at once on a degenerate, strongly coupled box problem", () => {
    // Minimum at the corner 0 where both gradient components vanish (no strict complementarity); without the
    // coupling term H_FA Δx_A the free and active variable would alternate and converge only linearly.
    const problem = quadraticProblem(Float64Array.of(4.7, 4, 4, 4.7), Float64Array.of(0, 0));
    const lower = Float64Array.of(-INF, 0);
    const upper = Float64Array.of(0, INF);
    const result = minimizeNewtonCg(problem, Float64Array.of(0, 1.2e-4), {
      bounds: { lower, upper },
      gtol: 1e-12,
    });
    expect(result.success).toBe(true);
    expect(result.iterations).toBeLessThanOrEqual(3);
    expect(Array.from(result.x)).toEqual([0, 0]);
  });

  it("escapes a saddle along negative curvature", () => {
    // f = x² - y² + y⁴/4 has a saddle at the origin and minima at (0, ±√2).
    const problem = {
      value: (x: Float64Array) => x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4,
      gradient: (x: Float64Array) => Float64Array.of(2 * x[0], -2 * x[1] + x[1] ** 3),
      hessianAction: (x: Float64Array, v: Float64Array) =>
        Float64Array.of(2 * v[0], (3 * x[1] ** 2 - 2) * v[1]),
    };
    const result = minimizeNewtonCg(problem, Float64Array.of(0.5, 0.1), { gtol: 1e-9 });
    expect(result.success).toBe(true);
    expect(Math.abs(result.x[0])).toBeLessThan(1e-9);
    expect(Math.abs(result.x[1])).toBeCloseTo(Math.SQRT2, 8);
  });

  it("throws a clear error without hessianAction", () => {
    const { value, gradient } = rosenbrock();
    expect(() => minimizeNewtonCg({ value, gradient }, Float64Array.of(0, 0))).toThrow(/hessianAction/);
  });
});

describe("truncatedConjugateGradient", () => {
  it("solves an SPD system exactly in n steps when the tolerance is tight", () => {
    const apply = (v: Float64Array) =>
      Float64Array.of(4 * v[0] + v[1], v[0] + 3 * v[1] + v[2], v[1] + 2 * v[2]);
    const gradient = Float64Array.of(1, 2, 3);
    const { direction, iterations, negativeCurvature } = truncatedConjugateGradient(
      apply,
      gradient,
      1e-13,
      10,
    );
    expect(negativeCurvature).toBe(false);
    expect(iterations).toBeLessThanOrEqual(3);
    const product = apply(direction);
    for (let i = 0; i < 3; i++) expect(product[i]).toBeCloseTo(-gradient[i], 12);
  });

  it("returns -g when the first direction has negative curvature", () => {
    const apply = (v: Float64Array) => Float64Array.of(-v[0], -2 * v[1]);
    const result = truncatedConjugateGradient(apply, Float64Array.of(1, 1), 1e-10, 10);
    expect(result.negativeCurvature).toBe(true);
    expect(Array.from(result.direction)).toEqual([-1, -1]);
  });

  it("returns the current iterate when negative curvature appears later", () => {
    const apply = (v: Float64Array) => Float64Array.of(2 * v[0], -v[1]);
    const result = truncatedConjugateGradient(apply, Float64Array.of(1, 0.1), 1e-12, 10);
    expect(result.negativeCurvature).toBe(true);
    expect(result.iterations).toBe(2);
    let slope = 0;
    for (let i = 0; i < 2; i++) slope += result.direction[i] * [1, 0.1][i];
    expect(slope).toBeLessThan(0);
  });
});
