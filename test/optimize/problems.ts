/** @file Test objectives for the optimizer tests: Rosenbrock (2-D and chained n-D), quadratics, quartic terms. */

import type { OptimizationProblem } from "../../src/optimize/problem.js";

/**
 * Chained Rosenbrock f(x) = Σ 100 (x_{i+1} - x_i²)² + (1 - x_i)², minimum 0 at (1, …, 1), with exact gradient and
 * Hessian-vector product.
 *
 * @example
 * rosenbrock().value(Float64Array.of(1, 1)); // 0
 */
export function rosenbrock(): OptimizationProblem {
  return {
    value(x) {
      let sum = 0;
      for (let i = 0; i + 1 < x.length; i++) sum += 100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2;
      return sum;
    },
    gradient(x) {
      const gradient = new Float64Array(x.length);
      for (let i = 0; i + 1 < x.length; i++) {
        const residual = x[i + 1] - x[i] * x[i];
        gradient[i] += -400 * x[i] * residual - 2 * (1 - x[i]);
        gradient[i + 1] += 200 * residual;
      }
      return gradient;
    },
    hessianAction(x, direction) {
      const product = new Float64Array(x.length);
      for (let i = 0; i + 1 < x.length; i++) {
        const diagonal = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
        const offDiagonal = -400 * x[i];
        product[i] += diagonal * direction[i] + offDiagonal * direction[i + 1];
        product[i + 1] += offDiagonal * direction[i] + 200 * direction[i + 1];
      }
      return product;
    },
  };
}

/**
 * Quadratic f(x) = ½ xᵀAx - bᵀx + (quartic/4) Σ x_i⁴ for a symmetric n×n row-major A.
 *
 * @example
 * quadraticProblem(Float64Array.of(2), Float64Array.of(2)).value(Float64Array.of(1)); // -1
 */
export function quadraticProblem(
  matrix: Float64Array,
  linear: Float64Array,
  quartic = 0,
): OptimizationProblem {
  const size = linear.length;
  const multiply = (vector: Float64Array): Float64Array => {
    const product = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      let entry = 0;
      for (let j = 0; j < size; j++) entry += matrix[i * size + j] * vector[j];
      product[i] = entry;
    }
    return product;
  };
  return {
    value(x) {
      const ax = multiply(x);
      let sum = 0;
      for (let i = 0; i < size; i++) sum += 0.5 * x[i] * ax[i] - linear[i] * x[i] + (quartic / 4) * x[i] ** 4;
      return sum;
    },
    gradient(x) {
      const gradient = multiply(x);
      for (let i = 0; i < size; i++) gradient[i] += -linear[i] + quartic * x[i] ** 3;
      return gradient;
    },
    hessianAction(x, direction) {
      const product = multiply(direction);
      for (let i = 0; i < size; i++) product[i] += 3 * quartic * x[i] * x[i] * direction[i];
      return product;
    },
  };
}

/**
 * Exact minimizer of the strictly convex box-constrained quadratic ½ xᵀAx - bᵀx over [lower, upper], found by
 * enumerating every assignment of each variable to {free, at lower, at upper} (3ⁿ cases, small n only) and
 * keeping the one that satisfies the KKT conditions. Independent of the optimizers under test.
 *
 * @example
 * boxQuadraticByEnumeration(Float64Array.of(1), Float64Array.of(5), Float64Array.of(0), Float64Array.of(2)); // [2]
 */
export function boxQuadraticByEnumeration(
  matrix: Float64Array,
  linear: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
): Float64Array {
  const size = linear.length;
  const cases = 3 ** size;
  for (let code = 0; code < cases; code++) {
    const status = new Int32Array(size); // 0 free, 1 lower, 2 upper
    let rest = code;
    let feasibleCase = true;
    for (let i = 0; i < size; i++) {
      status[i] = rest % 3;
      rest = Math.floor(rest / 3);
      if ((status[i] === 1 && lower[i] === -Infinity) || (status[i] === 2 && upper[i] === Infinity)) {
        feasibleCase = false;
      }
    }
    if (!feasibleCase) continue;
    const x = new Float64Array(size);
    const freeIndices: number[] = [];
    for (let i = 0; i < size; i++) {
      if (status[i] === 1) x[i] = lower[i];
      else if (status[i] === 2) x[i] = upper[i];
      else freeIndices.push(i);
    }
    const freeCount = freeIndices.length;
    // Solve A_FF x_F = b_F - A_FB x_B by Gaussian elimination (A_FF is SPD).
    const system = new Float64Array(freeCount * freeCount);
    const rhs = new Float64Array(freeCount);
    for (let a = 0; a < freeCount; a++) {
      const i = freeIndices[a];
      let entry = linear[i];
      for (let j = 0; j < size; j++) if (status[j] !== 0) entry -= matrix[i * size + j] * x[j];
      rhs[a] = entry;
      for (let c = 0; c < freeCount; c++) system[a * freeCount + c] = matrix[i * size + freeIndices[c]];
    }
    for (let column = 0; column < freeCount; column++) {
      for (let row = column + 1; row < freeCount; row++) {
        const factor = system[row * freeCount + column] / system[column * freeCount + column];
        for (let k = column; k < freeCount; k++) {
          system[row * freeCount + k] -= factor * system[column * freeCount + k];
        }
        rhs[row] -= factor * rhs[column];
      }
    }
    for (let row = freeCount - 1; row >= 0; row--) {
      let entry = rhs[row];
      for (let k = row + 1; k < freeCount; k++) entry -= system[row * freeCount + k] * rhs[k];
      rhs[row] = entry / system[row * freeCount + row];
    }
    let valid = true;
    for (let a = 0; a < freeCount; a++) {
      const i = freeIndices[a];
      x[i] = rhs[a];
      if (x[i] < lower[i] - 1e-12 || x[i] > upper[i] + 1e-12) valid = false;
    }
    if (!valid) continue;
    for (let i = 0; i < size && valid; i++) {
      let gradient = -linear[i];
      for (let j = 0; j < size; j++) gradient += matrix[i * size + j] * x[j];
      if (status[i] === 1 && gradient < -1e-10) valid = false;
      if (status[i] === 2 && gradient > 1e-10) valid = false;
    }
    if (valid) return x;
  }
  throw new Error("boxQuadraticByEnumeration: no KKT point found");
}

/**
 * Wraps a problem so that every call is counted (to cross-check the optimizer's own counters).
 *
 * @example
 * const { problem, counts } = countingProblem(rosenbrock());
 * problem.value(Float64Array.of(0, 0)); // counts.value === 1
 */
export function countingProblem(inner: OptimizationProblem): {
  problem: OptimizationProblem;
  counts: { value: number; gradient: number; hessianAction: number; points: Float64Array[] };
} {
  const counts = { value: 0, gradient: 0, hessianAction: 0, points: [] as Float64Array[] };
  const problem: OptimizationProblem = {
    value(x) {
      counts.value++;
      counts.points.push(Float64Array.from(x));
      return inner.value(x);
    },
    gradient(x) {
      counts.gradient++;
      return inner.gradient(x);
    },
  };
  const hessianAction = inner.hessianAction;
  if (hessianAction !== undefined) {
    problem.hessianAction = (x, direction) => {
      counts.hessianAction++;
      return hessianAction.call(inner, x, direction);
    };
  }
  return { problem, counts };
}

/**
 * Checks the first-order (KKT) conditions of min f on a box at x: feasibility, and the projected gradient
 * P(x - g) - x vanishing (free components of g ≈ 0, at a lower bound g ≥ 0, at an upper bound g ≤ 0).
 * Returns the largest violation.
 *
 * @example
 * kktViolation(Float64Array.of(1), Float64Array.of(-2), Float64Array.of(0), Float64Array.of(1)); // 0
 */
export function kktViolation(
  x: Float64Array,
  gradient: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
): number {
  let violation = 0;
  for (let i = 0; i < x.length; i++) {
    violation = Math.max(violation, lower[i] - x[i], x[i] - upper[i]);
    let component = gradient[i];
    if (component > 0) component = Math.min(component, x[i] - lower[i]);
    else if (component < 0) component = Math.max(component, x[i] - upper[i]);
    violation = Math.max(violation, Math.abs(component));
  }
  return violation;
}
