/** @file Tests for L-BFGS-B: Rosenbrock (free, bounded, n = 20), box quadratics, compact representation. */

import { describe, expect, it } from "vitest";
import { LimitedMemoryMatrix, minimizeLbfgsb } from "../../src/optimize/lbfgsb.js";
import { projectedGradientInfinityNorm } from "../../src/optimize/vector.js";
import {
  boxQuadraticByEnumeration,
  countingProblem,
  kktViolation,
  quadraticProblem,
  rosenbrock,
} from "./problems.js";

const INF = Infinity;

describe("minimizeLbfgsb", () => {
  it("solves 2-D Rosenbrock from (-1.2, 1) in scipy-like iteration counts", () => {
    const { problem, counts } = countingProblem(rosenbrock());
    const result = minimizeLbfgsb(problem, Float64Array.of(-1.2, 1));
    // Measured: 36 iterations, 44 function and 44 gradient evaluations, stop on ftol (relative reduction),
    // x = [0.99999895, 0.99999802]; scipy 1.17 L-BFGS-B reports nit = 36, nfev = 44 and the same x.
    expect(result.success).toBe(true);
    expect(result.iterations).toBeLessThanOrEqual(45);
    expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-5);
    expect(Math.abs(result.x[1] - 1)).toBeLessThan(1e-5);
    expect(result.functionEvaluations).toBe(counts.value);
    expect(result.gradientEvaluations).toBe(counts.gradient);
    expect(result.functionEvaluations).toBeLessThanOrEqual(60);
    expect(result.hessianActions).toBe(0);
    expect(result.history).toHaveLength(result.iterations);
    expect(result.fun).toBeCloseTo(problem.value(result.x), 15);
  });

  it("handles an active bound on Rosenbrock (x0 <= 0.5): optimum (0.5, 0.25), KKT holds", () => {
    const lower = Float64Array.of(-INF, -INF);
    const upper = Float64Array.of(0.5, INF);
    const result = minimizeLbfgsb(rosenbrock(), Float64Array.of(-1.2, 1), { bounds: { lower, upper } });
    // Measured: 19 iterations, 29 evaluations (scipy 1.17: 20 / 29).
    expect(result.success).toBe(true);
    expect(result.x[0]).toBe(0.5);
    expect(result.x[1]).toBeCloseTo(0.25, 5);
    expect(result.jac[0]).toBeLessThan(0); // gradient pushes against the upper bound
    expect(projectedGradientInfinityNorm(result.x, result.jac, lower, upper)).toBeLessThan(1e-5);
    expect(kktViolation(result.x, result.jac, lower, upper)).toBeLessThan(1e-5);
  });

  it("solves chained Rosenbrock with n = 20", () => {
    const x0 = new Float64Array(20).map((_, i) => (i % 2 === 0 ? -1.2 : 1));
    const result = minimizeLbfgsb(rosenbrock(), x0, { gtol: 1e-9, ftol: 1e-14 });
    for (const component of result.x) expect(Math.abs(component - 1)).toBeLessThan(1e-5);
    expect(result.jacNorm).toBeLessThan(1e-6);
    // With the scipy defaults it takes 121 iterations / 149 evaluations (scipy: 124 / 154).
    const defaults = minimizeLbfgsb(rosenbrock(), x0);
    expect(defaults.success).toBe(true);
    expect(defaults.iterations).toBeLessThan(200);
  });

  it("returns the clip of the unconstrained minimizer for a diagonal quadratic", () => {
    const diagonal = [1, 2, 3, 4, 5];
    const size = diagonal.length;
    const matrix = new Float64Array(size * size);
    diagonal.forEach((d, i) => {
      matrix[i * size + i] = d;
    });
    const linear = Float64Array.of(3, -4, 0.5, 8, -10);
    const lower = Float64Array.of(0, -1, -INF, -1, -1);
    const upper = Float64Array.of(2, 1, 1, 1, INF);
    const result = minimizeLbfgsb(quadraticProblem(matrix, linear), new Float64Array(size), {
      bounds: { lower, upper },
      gtol: 1e-10,
    });
    for (let i = 0; i < size; i++) {
      const unconstrained = linear[i] / diagonal[i];
      expect(result.x[i]).toBeCloseTo(Math.min(Math.max(unconstrained, lower[i]), upper[i]), 9);
    }
  });

  it("solves a non-diagonal box quadratic (KKT and agreement with active-set enumeration)", () => {
    const matrix = Float64Array.of(4, 1, 0.5, 1, 3, -1, 0.5, -1, 2);
    const linear = Float64Array.of(8, -6, 3);
    const lower = Float64Array.of(-1, -1, -1);
    const upper = Float64Array.of(1, 1, 1);
    const problem = quadraticProblem(matrix, linear);
    const result = minimizeLbfgsb(problem, Float64Array.of(0, 0, 0), {
      bounds: { lower, upper },
      gtol: 1e-10,
    });
    expect(result.success).toBe(true);
    expect(kktViolation(result.x, problem.gradient(result.x), lower, upper)).toBeLessThan(1e-9);
    const expected = boxQuadraticByEnumeration(matrix, linear, lower, upper);
    for (let i = 0; i < 3; i++) expect(result.x[i]).toBeCloseTo(expected[i], 8);
    expect(result.x[0]).toBe(1); // the first bound is active
  });

  it("projects a starting point outside the box and never evaluates outside it", () => {
    const { problem, counts } = countingProblem(rosenbrock());
    const lower = Float64Array.of(-2, -2);
    const upper = Float64Array.of(0.5, 2);
    const result = minimizeLbfgsb(problem, Float64Array.of(3, -5), { bounds: { lower, upper } });
    expect(Array.from(counts.points[0])).toEqual([0.5, -2]);
    for (const point of counts.points) {
      for (let i = 0; i < 2; i++) {
        expect(point[i]).toBeGreaterThanOrEqual(lower[i]);
        expect(point[i]).toBeLessThanOrEqual(upper[i]);
      }
    }
    expect(result.x[0]).toBe(0.5);
    expect(result.x[1]).toBeCloseTo(0.25, 5);
  });

  it("handles fixed variables (lower = upper) and a start at the optimum", () => {
    const lower = Float64Array.of(0.3, -INF);
    const upper = Float64Array.of(0.3, INF);
    const result = minimizeLbfgsb(rosenbrock(), Float64Array.of(0, 0), { bounds: { lower, upper } });
    expect(result.x[0]).toBe(0.3);
    expect(result.x[1]).toBeCloseTo(0.09, 6);
    const atOptimum = minimizeLbfgsb(rosenbrock(), Float64Array.of(1, 1));
    expect(atOptimum.iterations).toBe(0);
    expect(atOptimum.stopReason).toBe("gradient-tolerance");
  });

  it("uses valueAndGradient when the problem provides it", () => {
    const inner = rosenbrock();
    let combined = 0;
    const problem = {
      value: () => {
        throw new Error("value should not be called");
      },
      gradient: () => {
        throw new Error("gradient should not be called");
      },
      valueAndGradient: (x: Float64Array) => {
        combined++;
        return { value: inner.value(x), gradient: inner.gradient(x) };
      },
    };
    const result = minimizeLbfgsb(problem, Float64Array.of(-1.2, 1));
    expect(result.success).toBe(true);
    expect(result.functionEvaluations).toBe(combined);
    expect(result.gradientEvaluations).toBe(combined);
  });

  it("respects maxIter and maxFunEvals", () => {
    const limited = minimizeLbfgsb(rosenbrock(), Float64Array.of(-1.2, 1), { maxIter: 5 });
    expect(limited.iterations).toBe(5);
    expect(limited.stopReason).toBe("max-iterations");
    expect(limited.success).toBe(false);
    const fewEvaluations = minimizeLbfgsb(rosenbrock(), Float64Array.of(-1.2, 1), { maxFunEvals: 10 });
    expect(fewEvaluations.stopReason).toBe("max-function-evaluations");
    expect(fewEvaluations.functionEvaluations).toBeLessThanOrEqual(10);
  });

  it("works with memory 1 and memory 30", () => {
    for (const memory of [1, 30]) {
      const result = minimizeLbfgsb(rosenbrock(), Float64Array.of(-1.2, 1), { memory, gtol: 1e-8, ftol: 0 });
      expect(result.success).toBe(true);
      expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-6);
    }
  });
});

describe("LimitedMemoryMatrix", () => {
  it("compact representation θI - W M Wᵀ equals the BFGS recursion started from θI", () => {
    const dimension = 4;
    const pairs: [Float64Array, Float64Array][] = [
      [Float64Array.of(1, 0.5, -0.2, 0.1), Float64Array.of(2, 0.7, -0.1, 0.3)],
      [Float64Array.of(-0.3, 1, 0.4, 0), Float64Array.of(-0.2, 1.5, 0.9, 0.1)],
      [Float64Array.of(0.2, -0.1, 1, 0.6), Float64Array.of(0.5, 0.1, 2.2, 1.1)],
    ];
    const memory = new LimitedMemoryMatrix(2, dimension); // keeps the newest two pairs
    for (const [step, change] of pairs) memory.add(step, change);
    expect(memory.count).toBe(2);
    expect(memory.prepare()).toBe(true);

    // Explicit BFGS recursion from θI over the two kept pairs: B ← B - B s sᵀB / sᵀBs + y yᵀ / yᵀs.
    const theta = memory.theta;
    let explicit = new Float64Array(dimension * dimension);
    for (let i = 0; i < dimension; i++) explicit[i * dimension + i] = theta;
    for (const [step, change] of pairs.slice(1)) {
      const bs = new Float64Array(dimension);
      for (let i = 0; i < dimension; i++) {
        for (let j = 0; j < dimension; j++) bs[i] += explicit[i * dimension + j] * step[j];
      }
      let sBs = 0;
      let yTs = 0;
      for (let i = 0; i < dimension; i++) {
        sBs += step[i] * bs[i];
        yTs += change[i] * step[i];
      }
      const next = new Float64Array(dimension * dimension);
      for (let i = 0; i < dimension; i++) {
        for (let j = 0; j < dimension; j++) {
          next[i * dimension + j] =
            explicit[i * dimension + j] - (bs[i] * bs[j]) / sBs + (change[i] * change[j]) / yTs;
        }
      }
      explicit = next;
    }

    const row = new Float64Array(2 * memory.count);
    for (let column = 0; column < dimension; column++) {
      const unit = new Float64Array(dimension);
      unit[column] = 1;
      const middle = memory.applyMiddle(memory.transposeWTimes(unit));
      for (let i = 0; i < dimension; i++) {
        memory.rowOfW(i, row);
        let correction = 0;
        for (let a = 0; a < row.length; a++) correction += row[a] * middle[a];
        const compact = theta * unit[i] - correction;
        expect(compact).toBeCloseTo(explicit[i * dimension + column], 10);
      }
    }

    // middleInverse() is the inverse of the operator applied by applyMiddle().
    const inverse = memory.middleInverse();
    const vector = Float64Array.of(0.3, -1, 2, 0.5);
    const applied = memory.applyMiddle(vector);
    for (let i = 0; i < 4; i++) {
      let entry = 0;
      for (let j = 0; j < 4; j++) entry += inverse[i * 4 + j] * applied[j];
      expect(entry).toBeCloseTo(vector[i], 10);
    }
  });
});
