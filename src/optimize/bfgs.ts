/** @file BFGS quasi-Newton method with a dense inverse-Hessian approximation and a strong Wolfe line search. */
import { InvalidArgumentError } from "../errors.js";

import {
  CountedProblem,
  checkOptimizeOptions,
  describeStop,
  evaluateStartingPoint,
  MACHINE_EPSILON,
  RunRecorder,
  relativeReductionConverged,
  resolveBounds,
  resolveSettings,
  trialsAlong,
} from "./common.js";
import { strongWolfeLineSearch } from "./line-search.js";
import type { OptimizationProblem, OptimizeOptions, OptimizeResult, StopReason } from "./problem.js";
import { dot, euclideanNorm, hasFiniteBound, infinityNorm } from "./vector.js";

/**
 * Applies the BFGS inverse-Hessian update in place (H is n×n row-major, symmetric):
 * H⁺ = (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ with ρ = 1 / (yᵀs), expanded as
 * H⁺ = H - ρ (H y sᵀ + s yᵀH) + (ρ² yᵀHy + ρ) s sᵀ.
 *
 * @example
 * const inverseHessian = Float64Array.of(1, 0, 0, 1);
 * updateInverseHessian(inverseHessian, 2, Float64Array.of(1, 0), Float64Array.of(2, 0)); // H[0] = 0.5
 */
export function updateInverseHessian(
  inverseHessian: Float64Array,
  dimension: number,
  step: Float64Array,
  gradientChange: Float64Array,
): void {
  const rho = 1 / dot(step, gradientChange);
  const hTimesY = new Float64Array(dimension);
  for (let i = 0; i < dimension; i++) {
    let entry = 0;
    const rowOffset = i * dimension;
    for (let j = 0; j < dimension; j++) entry += inverseHessian[rowOffset + j] * gradientChange[j];
    hTimesY[i] = entry;
  }
  const outerScale = rho * rho * dot(gradientChange, hTimesY) + rho;
  for (let i = 0; i < dimension; i++) {
    const rowOffset = i * dimension;
    const stepI = step[i];
    const hyI = hTimesY[i];
    for (let j = 0; j < dimension; j++) {
      inverseHessian[rowOffset + j] +=
        -rho * (hyI * step[j] + stepI * hTimesY[j]) + outerScale * stepI * step[j];
    }
  }
}

/** The quasi-Newton direction d = -H g, with H the dense inverse-Hessian approximation (row-major). */
function quasiNewtonDirection(
  inverseHessian: Float64Array,
  gradient: Float64Array,
  dimension: number,
): Float64Array {
  const direction = new Float64Array(dimension);
  for (let i = 0; i < dimension; i++) {
    let entry = 0;
    const rowOffset = i * dimension;
    for (let j = 0; j < dimension; j++) entry -= inverseHessian[rowOffset + j] * gradient[j];
    direction[i] = entry;
  }
  return direction;
}

/**
 * Minimizes an unconstrained smooth f with BFGS: direction d = -H g, Moré–Thuente line search (strong Wolfe,
 * μ = 1e-4, η = 0.9; first trial step 1, or 1/‖d‖ on the first iteration), then the inverse-Hessian update.
 * Before the first update H₀ = (yᵀs / yᵀy) I (Nocedal & Wright eq. 6.20). Pairs with yᵀs ≤ ε·|gᵀs| are
 * skipped. Stops when ‖g‖∞ ≤ gtol (default 1e-5), or the relative reduction of f is ≤ ftol if `ftol` is given.
 * Stores a dense n×n matrix, so it suits small n. Throws if `options.bounds` has any finite entry.
 *
 * @example
 * const problem = {
 *   value: (x: Float64Array) => (x[0] - 1) ** 2 + 10 * x[1] ** 2,
 *   gradient: (x: Float64Array) => Float64Array.of(2 * (x[0] - 1), 20 * x[1]),
 * };
 * const result = minimizeBfgs(problem, Float64Array.of(0, 1)); // result.x ≈ [1, 0]
 */
export function minimizeBfgs(
  problem: OptimizationProblem,
  x0: Float64Array,
  options: OptimizeOptions = {},
): OptimizeResult {
  // Long on purpose (about 110 lines): the BFGS iteration (Nocedal & Wright, Algorithm 6.1) with scipy's
  // stopping tests, restarts and first-update scaling; every test reads and resets the loop's state (x, f,
  // gradient, inverse Hessian, update count), which is the algorithm as published, step by step.
  checkOptimizeOptions("minimizeBfgs", options);
  const dimension = x0.length;
  const { lower, upper } = resolveBounds(options.bounds, dimension);
  if (hasFiniteBound(lower, upper)) {
    throw new InvalidArgumentError(
      "optimize",
      'BFGS does not support bounds; use method "L-BFGS-B" or "Newton-CG" instead.',
    );
  }
  const settings = resolveSettings(options, dimension, "BFGS");
  const counted = new CountedProblem(problem, dimension);
  const recorder = new RunRecorder("BFGS", settings, counted);
  const start = evaluateStartingPoint(counted, x0, lower, upper);
  let x = start.x;
  let value = start.value;
  let gradient = start.gradient;
  let gradientNorm = infinityNorm(gradient);
  const finish = (reason: StopReason, detail: number) =>
    recorder.finish(x, value, gradient, gradientNorm, reason, describeStop(reason, detail));
  if (gradientNorm <= settings.gradientTolerance) return finish("gradient-tolerance", gradientNorm);

  const inverseHessian = new Float64Array(dimension * dimension);
  let updates = 0;
  const resetInverseHessian = () => {
    inverseHessian.fill(0);
    for (let i = 0; i < dimension; i++) inverseHessian[i * dimension + i] = 1;
    updates = 0;
  };
  resetInverseHessian();

  for (;;) {
    if (recorder.iterations >= settings.maxIterations) {
      return finish("max-iterations", settings.maxIterations);
    }
    if (recorder.evaluationsExhausted()) {
      return finish("max-function-evaluations", settings.maxFunctionEvaluations);
    }

    const direction = quasiNewtonDirection(inverseHessian, gradient, dimension);
    let initialSlope = dot(gradient, direction);
    if (!(initialSlope < 0)) {
      // H lost positive definiteness numerically: restart from steepest descent.
      resetInverseHessian();
      for (let i = 0; i < dimension; i++) direction[i] = -gradient[i];
      initialSlope = dot(gradient, direction);
    }
    const initialStep = recorder.iterations === 0 ? Math.min(1, 1 / euclideanNorm(direction)) : 1;
    const search = strongWolfeLineSearch(
      trialsAlong(counted, x, direction),
      value,
      initialSlope,
      initialStep,
      {
        sufficientDecrease: 1e-4,
        curvature: 0.9,
        maxEvaluations: Math.min(30, recorder.remainingEvaluations()),
      },
    );
    if (!search.accepted || search.trial === undefined) {
      if (recorder.evaluationsExhausted()) {
        return finish("max-function-evaluations", settings.maxFunctionEvaluations);
      }
      if (updates > 0) {
        resetInverseHessian();
        continue;
      }
      return finish("line-search-failure", 0);
    }

    const accepted = search.trial;
    const step = new Float64Array(dimension);
    const gradientChange = new Float64Array(dimension);
    for (let i = 0; i < dimension; i++) {
      step[i] = accepted.x[i] - x[i];
      gradientChange[i] = accepted.gradient[i] - gradient[i];
    }
    const previousValue = value;
    const previousSlopeAlongStep = dot(step, gradient);
    x = accepted.x;
    value = accepted.value;
    gradient = Float64Array.from(accepted.gradient);
    gradientNorm = infinityNorm(gradient);
    const stopRequested = recorder.completeIteration(x, value, gradientNorm);

    if (gradientNorm <= settings.gradientTolerance) return finish("gradient-tolerance", gradientNorm);
    if (relativeReductionConverged(previousValue, value, settings.functionTolerance)) {
      return finish(
        "function-tolerance",
        (previousValue - value) / Math.max(Math.abs(previousValue), Math.abs(value), 1),
      );
    }
    if (stopRequested) return finish("callback", recorder.iterations);
    if (infinityNorm(step) <= MACHINE_EPSILON * Math.max(1, infinityNorm(x))) {
      return finish("no-progress", 0);
    }

    const curvature = dot(step, gradientChange);
    if (curvature > MACHINE_EPSILON * Math.abs(previousSlopeAlongStep)) {
      if (updates === 0) {
        const scale = curvature / dot(gradientChange, gradientChange);
        for (let i = 0; i < dimension * dimension; i++) inverseHessian[i] *= scale;
      }
      updateInverseHessian(inverseHessian, dimension, step, gradientChange);
      updates++;
    }
  }
}
