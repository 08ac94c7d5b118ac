/** @file Tests for the Moré–Thuente strong Wolfe line search on the test functions of Moré & Thuente (1994). */

import { describe, expect, it } from "vitest";
import { type LineSearchTrial, strongWolfeLineSearch } from "../../src/optimize/line-search.js";

type ScalarFunction = (step: number) => LineSearchTrial;

/** φ(α) = -α / (α² + β), β = 2 (Moré–Thuente function 1). */
const rational: ScalarFunction = (a) => ({
  value: -a / (a * a + 2),
  derivative: (a * a - 2) / (a * a + 2) ** 2,
});

/** φ(α) = (α + β)⁵ - 2(α + β)⁴, β = 0.004 (function 2). */
const quintic: ScalarFunction = (a) => {
  const shifted = a + 0.004;
  return { value: shifted ** 5 - 2 * shifted ** 4, derivative: 5 * shifted ** 4 - 8 * shifted ** 3 };
};

/** φ₀(α) + 2(1 - β)/(lπ) sin(lπα/2) with β = 0.01, l = 39 (function 3, a wiggly but convex-ish trend). */
const wiggly: ScalarFunction = (a) => {
  const beta = 0.01;
  const frequency = 39;
  let value: number;
  let derivative: number;
  if (a <= 1 - beta) {
    value = 1 - a;
    derivative = -1;
  } else if (a >= 1 + beta) {
    value = a - 1;
    derivative = 1;
  } else {
    value = (a - 1) ** 2 / (2 * beta) + beta / 2;
    derivative = (a - 1) / beta;
  }
  value += ((2 * (1 - beta)) / (frequency * Math.PI)) * Math.sin((frequency * Math.PI * a) / 2);
  derivative += (1 - beta) * Math.cos((frequency * Math.PI * a) / 2);
  return { value, derivative };
};

function expectStrongWolfe(
  phi: ScalarFunction,
  sufficientDecrease: number,
  curvature: number,
  initialStep: number,
): number {
  const start = phi(0);
  const result = strongWolfeLineSearch(phi, start.value, start.derivative, initialStep, {
    sufficientDecrease,
    curvature,
    relativeStepTolerance: 1e-10,
    maxEvaluations: 40,
  });
  expect(result.status).toBe("converged");
  expect(result.accepted).toBe(true);
  expect(result.wolfeSatisfied).toBe(true);
  const trial = phi(result.step);
  expect(result.trial?.value).toBe(trial.value);
  expect(trial.value).toBeLessThanOrEqual(start.value + sufficientDecrease * result.step * start.derivative);
  expect(Math.abs(trial.derivative)).toBeLessThanOrEqual(curvature * Math.abs(start.derivative));
  return result.evaluations;
}

describe("strongWolfeLineSearch", () => {
  it("satisfies the strong Wolfe conditions on the Moré–Thuente test functions with the paper's counts", () => {
    // Evaluation counts for initial steps 1e-3, 1e-1, 1e1, 1e3 as reported in Tables 1-3 of the paper.
    const initialSteps = [1e-3, 1e-1, 1e1, 1e3];
    const cases: [ScalarFunction, number, number, number[]][] = [
      [rational, 1e-3, 0.1, [6, 3, 1, 4]],
      [quintic, 0.1, 0.1, [12, 8, 8, 11]],
      [wiggly, 0.1, 0.1, [12, 12, 10, 13]],
    ];
    for (const [phi, sufficientDecrease, curvature, expectedEvaluations] of cases) {
      const evaluations = initialSteps.map((step) =>
        expectStrongWolfe(phi, sufficientDecrease, curvature, step),
      );
      expect(evaluations).toEqual(expectedEvaluations);
    }
  });

  it("accepts the unit step of an exact quadratic model at once", () => {
    let calls = 0;
    const result = strongWolfeLineSearch(
      (a) => {
        calls++;
        return { value: (a - 1) ** 2, derivative: 2 * (a - 1) };
      },
      1,
      -2,
      1,
    );
    expect(result.step).toBe(1);
    expect(calls).toBe(1);
  });

  it("refuses a direction that is not a descent direction", () => {
    const result = strongWolfeLineSearch(() => ({ value: 0, derivative: 0 }), 0, 1, 1);
    expect(result.accepted).toBe(false);
    expect(result.status).toBe("not-descent");
    expect(result.evaluations).toBe(0);
  });

  it("backs off from non-finite values", () => {
    // φ(α) = (α - 0.5)² on [0, 1), +∞ beyond.
    const phi: ScalarFunction = (a) =>
      a < 1
        ? { value: (a - 0.5) ** 2, derivative: 2 * (a - 0.5) }
        : { value: Infinity, derivative: Number.NaN };
    const result = strongWolfeLineSearch(phi, 0.25, -1, 8, { sufficientDecrease: 1e-4, curvature: 0.9 });
    expect(result.accepted).toBe(true);
    expect(result.step).toBeLessThan(1);
    expect(result.trial?.value).toBeLessThan(0.25);
  });

  it("stops at the maximum step when the function keeps decreasing", () => {
    const result = strongWolfeLineSearch((a) => ({ value: -a, derivative: -1 }), 0, -1, 1, { maxStep: 5 });
    expect(result.status).toBe("at-max-step");
    expect(result.accepted).toBe(true);
    expect(result.step).toBe(5);
  });
});
