/** @file Entry points `minimizeProblem` / `maximizeProblem`: validate the input and dispatch to a method. */
import { InvalidArgumentError } from "../errors.js";

import { minimizeBfgs } from "./bfgs.js";
import { checkOptimizeOptions } from "./common.js";
import { minimizeLbfgsb } from "./lbfgsb.js";
import { minimizeNewtonCg } from "./newton-cg.js";
import type {
  IterationState,
  OptimizationMethod,
  OptimizationProblem,
  OptimizeOptions,
  OptimizeResult,
} from "./problem.js";

const METHODS: Record<
  OptimizationMethod,
  (problem: OptimizationProblem, x0: Float64Array, options: OptimizeOptions) => OptimizeResult
> = {
  "L-BFGS-B": minimizeLbfgsb,
  BFGS: minimizeBfgs,
  "Newton-CG": minimizeNewtonCg,
};

function checkProblem(problem: OptimizationProblem, x0: Float64Array): void {
  if (problem === null || typeof problem !== "object") {
    throw new InvalidArgumentError(
      "optimize",
      "problem must be an object with value(x) and gradient(x) methods.",
    );
  }
  if (typeof problem.value !== "function" || typeof problem.gradient !== "function") {
    throw new InvalidArgumentError("optimize", "problem must provide value(x) and gradient(x) methods.");
  }
  if (!(x0 instanceof Float64Array)) throw new InvalidArgumentError("optimize", "x0 must be a Float64Array.");
  if (x0.length === 0)
    throw new InvalidArgumentError("optimize", "x0 is empty; there is nothing to optimize.");
}

/**
 * Minimizes `problem` from `x0` with `options.method` (default `"L-BFGS-B"`).
 *
 * Validation (errors name the offending input): x0 must be a non-empty finite Float64Array; bounds must have
 * x0's length, no NaN and lower ≤ upper; the objective and gradient must be finite at the start. A starting
 * point outside the bounds is projected onto them (componentwise clipped) before the first evaluation; `x0`
 * itself is never modified. BFGS rejects finite bounds; Newton-CG requires `problem.hessianAction`.
 *
 * @example
 * const problem = {
 *   value: (x: Float64Array) => (x[0] - 2) ** 2,
 *   gradient: (x: Float64Array) => Float64Array.of(2 * (x[0] - 2)),
 * };
 * const result = minimizeProblem(problem, Float64Array.of(0), {
 *   bounds: { lower: Float64Array.of(-1), upper: Float64Array.of(1) },
 * }); // result.x ≈ [1], result.success === true
 */
export function minimizeProblem(
  problem: OptimizationProblem,
  x0: Float64Array,
  options: OptimizeOptions = {},
): OptimizeResult {
  checkOptimizeOptions("minimizeProblem", options);
  checkProblem(problem, x0);
  const method = options.method ?? "L-BFGS-B";
  const run = METHODS[method];
  if (run === undefined) {
    throw new InvalidArgumentError(
      "optimize",
      `unknown method "${String(method)}"; expected one of ${Object.keys(METHODS).join(", ")}.`,
    );
  }
  return run(problem, x0, options);
}

/**
 * Maximizes `problem` by minimizing -f (with -∇f and -∇²f·v). The result, history and callback states report
 * the original objective (`fun` = max f, `jac` = ∇f); `jacNorm`/`gradientNorm` are the stationarity measure of
 * -f, i.e. the projected-gradient norm for the maximization problem.
 *
 * @example
 * const problem = {
 *   value: (x: Float64Array) => 1 - (x[0] - 3) ** 2,
 *   gradient: (x: Float64Array) => Float64Array.of(-2 * (x[0] - 3)),
 * };
 * maximizeProblem(problem, Float64Array.of(0)).fun; // ≈ 1 at x ≈ [3]
 */
export function maximizeProblem(
  problem: OptimizationProblem,
  x0: Float64Array,
  options: OptimizeOptions = {},
): OptimizeResult {
  checkOptimizeOptions("maximizeProblem", options);
  checkProblem(problem, x0);
  const negate = (vector: Float64Array): Float64Array => {
    const negated = new Float64Array(vector.length);
    for (let i = 0; i < vector.length; i++) negated[i] = -vector[i];
    return negated;
  };
  const negated: OptimizationProblem = {
    value: (x) => -problem.value(x),
    gradient: (x) => negate(problem.gradient(x)),
  };
  const valueAndGradient = problem.valueAndGradient;
  if (valueAndGradient !== undefined) {
    negated.valueAndGradient = (x) => {
      const both = valueAndGradient.call(problem, x);
      return { value: -both.value, gradient: negate(both.gradient) };
    };
  }
  const hessianAction = problem.hessianAction;
  if (hessianAction !== undefined) {
    negated.hessianAction = (x, direction) => negate(hessianAction.call(problem, x, direction));
  }
  const flipState = (state: IterationState): IterationState => ({ ...state, value: -state.value });
  const userCallback = options.callback;
  const result = minimizeProblem(negated, x0, {
    ...options,
    callback: userCallback === undefined ? undefined : (state) => userCallback(flipState(state)),
  });
  return {
    ...result,
    fun: -result.fun,
    jac: negate(result.jac),
    history: result.history.map(flipState),
  };
}
