/** @file Tests for minimizeProblem / maximizeProblem: dispatch, callbacks, validation, KKT property test. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maximizeProblem, minimizeProblem } from "../../src/optimize/minimize-problem.js";
import type { IterationState, OptimizationMethod, OptimizationProblem } from "../../src/optimize/problem.js";
import { boxQuadraticByEnumeration, kktViolation, quadraticProblem, rosenbrock } from "./problems.js";

const METHODS: OptimizationMethod[] = ["L-BFGS-B", "BFGS", "Newton-CG"];

describe("minimizeProblem", () => {
  it("defaults to L-BFGS-B and dispatches every method", () => {
    expect(minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1)).method).toBe("L-BFGS-B");
    for (const method of METHODS) {
      const result = minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1), { method });
      expect(result.method).toBe(method);
      expect(result.success).toBe(true);
      expect(result.message).toContain(method);
      expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-5);
      expect(Math.abs(result.x[1] - 1)).toBeLessThan(1e-5);
    }
  });

  it("calls the callback once per iteration with the history's states", () => {
    for (const method of METHODS) {
      const seen: IterationState[] = [];
      const result = minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1), {
        method,
        callback: (state) => {
          seen.push(state);
        },
      });
      expect(seen).toHaveLength(result.iterations);
      expect(result.history).toHaveLength(result.iterations);
      seen.forEach((state, index) => {
        expect(state.iteration).toBe(index + 1);
        expect(state.value).toBe(result.history[index].value);
        expect(Array.from(state.x)).toEqual(Array.from(result.history[index].x));
      });
      const last = seen[seen.length - 1];
      expect(Array.from(last.x)).toEqual(Array.from(result.x));
      expect(last.gradientNorm).toBe(result.jacNorm);
      // Values never increase between iterations (every accepted step decreases f).
      for (let i = 1; i < seen.length; i++) expect(seen[i].value).toBeLessThanOrEqual(seen[i - 1].value);
    }
  });

  it("stops early when the callback returns true", () => {
    for (const method of METHODS) {
      let calls = 0;
      const result = minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1), {
        method,
        callback: (state) => {
          calls++;
          return state.iteration >= 3;
        },
      });
      expect(calls).toBe(3);
      expect(result.iterations).toBe(3);
      expect(result.stopReason).toBe("callback");
      expect(result.success).toBe(false);
      expect(result.message).toMatch(/callback/);
    }
  });

  it("does not record history when asked not to", () => {
    const result = minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1), { recordHistory: false });
    expect(result.history).toHaveLength(0);
    expect(result.iterations).toBeGreaterThan(0);
  });

  it("treats tol as the default gtol (and ftol for L-BFGS-B)", () => {
    const tight = minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1), { tol: 1e-12 });
    expect(Math.abs(tight.x[0] - 1)).toBeLessThan(1e-8);
    const loose = minimizeProblem(rosenbrock(), Float64Array.of(-1.2, 1), { tol: 1e-2 });
    expect(loose.iterations).toBeLessThan(tight.iterations);
  });

  it("rejects invalid input with messages naming the problem", () => {
    const problem = rosenbrock();
    const x0 = Float64Array.of(0, 0);
    const bounds = (lower: number[], upper: number[]) => ({
      bounds: { lower: Float64Array.from(lower), upper: Float64Array.from(upper) },
    });
    expect(() => minimizeProblem(problem, x0, bounds([0], [1]))).toThrow(/length.*x0 has length 2/);
    expect(() => minimizeProblem(problem, x0, bounds([0, 2], [1, 1]))).toThrow(
      /lower bound 2 exceeds upper bound 1 at index 1/,
    );
    expect(() => minimizeProblem(problem, x0, bounds([0, Number.NaN], [1, 1]))).toThrow(/NaN/);
    expect(() => minimizeProblem(problem, Float64Array.of(0, Number.NaN))).toThrow(/x0 contains non-finite/);
    expect(() => minimizeProblem(problem, new Float64Array(0))).toThrow(/x0 is empty/);
    const singular: OptimizationProblem = {
      value: (x) => 1 / x[0],
      gradient: (x) => Float64Array.of(-1 / x[0] ** 2),
    };
    expect(() => minimizeProblem(singular, Float64Array.of(0))).toThrow(/not finite at the starting point/);
    const nanGradient: OptimizationProblem = { value: () => 0, gradient: () => Float64Array.of(Number.NaN) };
    expect(() => minimizeProblem(nanGradient, Float64Array.of(0))).toThrow(/gradient is not finite/);
    const wrongLength: OptimizationProblem = { value: () => 0, gradient: () => new Float64Array(3) };
    expect(() => minimizeProblem(wrongLength, x0)).toThrow(/gradient has length 3, expected 2/);
    expect(() => minimizeProblem(problem, x0, { method: "Nelder-Mead" as OptimizationMethod })).toThrow(
      /unknown method "Nelder-Mead"/,
    );
    expect(() => minimizeProblem(problem, x0, { gtol: -1 })).toThrow(/gtol must be >= 0/);
    expect(() => minimizeProblem(problem, x0, { memory: 0 })).toThrow(/memory must be a positive integer/);
    expect(() => minimizeProblem(problem, x0, { method: "BFGS", ...bounds([0, 0], [1, 1]) })).toThrow(
      /BFGS does not support bounds/,
    );
    const { value, gradient } = problem;
    expect(() => minimizeProblem({ value, gradient }, x0, { method: "Newton-CG" })).toThrow(/hessianAction/);
  });

  it("projects x0 outside the bounds and leaves the caller's x0 untouched", () => {
    const x0 = Float64Array.of(5, 5);
    const lower = Float64Array.of(-1, -1);
    const upper = Float64Array.of(0.5, 1);
    for (const method of ["L-BFGS-B", "Newton-CG"] as const) {
      const result = minimizeProblem(rosenbrock(), x0, { method, bounds: { lower, upper } });
      expect(Array.from(x0)).toEqual([5, 5]);
      expect(result.x[0]).toBe(0.5);
      expect(result.x[1]).toBeCloseTo(0.25, 5);
    }
  });
});

describe("maximizeProblem", () => {
  it("maximizes by negation and reports the original objective", () => {
    // f = 5 - (x - 3)² - 2 (y + 1)², maximum 5 at (3, -1).
    const problem: OptimizationProblem = {
      value: (x) => 5 - (x[0] - 3) ** 2 - 2 * (x[1] + 1) ** 2,
      gradient: (x) => Float64Array.of(-2 * (x[0] - 3), -4 * (x[1] + 1)),
      hessianAction: (_x, v) => Float64Array.of(-2 * v[0], -4 * v[1]),
    };
    for (const method of METHODS) {
      const values: number[] = [];
      const result = maximizeProblem(problem, Float64Array.of(0, 0), {
        method,
        callback: (state) => {
          values.push(state.value);
        },
      });
      expect(result.success).toBe(true);
      expect(result.fun).toBeCloseTo(5, 9);
      expect(result.x[0]).toBeCloseTo(3, 5);
      expect(result.x[1]).toBeCloseTo(-1, 5);
      expect(Math.abs(result.jac[0])).toBeLessThan(1e-5);
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      expect(result.history[result.history.length - 1].value).toBeCloseTo(5, 9);
    }
  });

  it("maximizes with an active bound (x <= 2): the gradient points outward at the solution", () => {
    const problem: OptimizationProblem = {
      value: (x) => -((x[0] - 3) ** 2),
      gradient: (x) => Float64Array.of(-2 * (x[0] - 3)),
      hessianAction: (_x, v) => Float64Array.of(-2 * v[0]),
      valueAndGradient: (x) => ({ value: -((x[0] - 3) ** 2), gradient: Float64Array.of(-2 * (x[0] - 3)) }),
    };
    const bounds = { lower: Float64Array.of(-10), upper: Float64Array.of(2) };
    for (const method of ["L-BFGS-B", "Newton-CG"] as const) {
      const result = maximizeProblem(problem, Float64Array.of(0), { method, bounds });
      expect(result.x[0]).toBe(2);
      expect(result.fun).toBe(-1);
      expect(result.jac[0]).toBe(2);
    }
  });
});

describe("KKT property test", () => {
  /** Random SPD matrix Rᵀ R + δ I from a flat list of entries. */
  function spdMatrix(entries: number[], size: number, shift: number): Float64Array {
    const matrix = new Float64Array(size * size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let entry = 0;
        for (let k = 0; k < size; k++) entry += entries[k * size + i] * entries[k * size + j];
        matrix[i * size + j] = entry + (i === j ? shift : 0);
      }
    }
    return matrix;
  }

  const boxQuadratic = fc.integer({ min: 1, max: 5 }).chain((size) =>
    fc.record({
      size: fc.constant(size),
      entries: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), {
        minLength: size * size,
        maxLength: size * size,
      }),
      shift: fc.double({ min: 0.05, max: 2, noNaN: true }),
      linear: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: size, maxLength: size }),
      start: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: size, maxLength: size }),
      boxes: fc.array(
        fc.record({
          low: fc.double({ min: -3, max: 3, noNaN: true }),
          width: fc.double({ min: 0, max: 4, noNaN: true }),
          kind: fc.constantFrom("both", "lower", "upper", "none", "fixed"),
        }),
        { minLength: size, maxLength: size },
      ),
    }),
  );

  it("random convex quadratics with random boxes satisfy KKT at the returned point", () => {
    fc.assert(
      fc.property(boxQuadratic, ({ size, entries, shift, linear, start, boxes }) => {
        const matrix = spdMatrix(entries, size, shift);
        const linearTerm = Float64Array.from(linear);
        const lower = new Float64Array(size);
        const upper = new Float64Array(size);
        boxes.forEach(({ low, width, kind }, i) => {
          lower[i] = kind === "both" || kind === "lower" || kind === "fixed" ? low : -Infinity;
          upper[i] = kind === "both" || kind === "upper" ? low + width : kind === "fixed" ? low : Infinity;
        });
        const problem = quadraticProblem(matrix, linearTerm);
        const expected = boxQuadraticByEnumeration(matrix, linearTerm, lower, upper);
        // Size of the gradient's terms at the solution: the accuracy a float64 gradient can reach scales with it.
        const expectedGradient = problem.gradient(expected);
        let termSize = 0;
        for (let i = 0; i < size; i++) {
          termSize = Math.max(termSize, Math.abs(expectedGradient[i] + linear[i]));
        }
        const scale = 1 + Math.max(...linear.map(Math.abs)) + termSize;
        for (const method of ["L-BFGS-B", "Newton-CG"] as const) {
          const result = minimizeProblem(problem, Float64Array.from(start), {
            method,
            bounds: { lower, upper },
            gtol: 1e-9 * scale,
            ftol: 0,
          });
          const violation = kktViolation(result.x, problem.gradient(result.x), lower, upper);
          // Typically ≤ 1e-9·scale; near the float64 limit a line search may stop a little earlier.
          expect(violation).toBeLessThanOrEqual(1e-6 * scale);
          for (let i = 0; i < size; i++) {
            expect(result.x[i]).toBeGreaterThanOrEqual(lower[i]);
            expect(result.x[i]).toBeLessThanOrEqual(upper[i]);
          }
          // Objective at the returned point matches the exact box minimizer (strict convexity).
          expect(result.fun).toBeLessThanOrEqual(problem.value(expected) + 1e-8 * scale * scale);
        }
      }),
      { numRuns: 150 },
    );
  });
});
