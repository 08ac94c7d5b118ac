/** @file Public types of the optimizer layer: problem interface, bounds, options, iteration state and results. */

/**
 * A smooth objective on plain `Float64Array` controls. This is what the optimizers in `src/optimize/` consume;
 * the tape-level `minimize(reducedFunctional, options)` adapter wraps a reduced functional into this shape.
 *
 * Implementations must not keep or mutate the `x` passed in (optimizers reuse their buffers) and must return
 * fresh arrays.
 *
 * @example
 * const quadratic: OptimizationProblem = {
 *   value: (x) => 0.5 * (x[0] * x[0] + 4 * x[1] * x[1]),
 *   gradient: (x) => Float64Array.of(x[0], 4 * x[1]),
 *   hessianAction: (_x, v) => Float64Array.of(v[0], 4 * v[1]),
 * };
 */
export interface OptimizationProblem {
  /** Objective value f(x). */
  value(x: Float64Array): number;
  /** Gradient ∇f(x), as a fresh array of the same length as `x`. */
  gradient(x: Float64Array): Float64Array;
  /** Optional: f(x) and ∇f(x) together (default: `value` then `gradient`). Counts as one value and one gradient evaluation. */
  valueAndGradient?(x: Float64Array): { value: number; gradient: Float64Array };
  /** Optional Hessian-vector product ∇²f(x)·direction (required by Newton-CG). */
  hessianAction?(x: Float64Array, direction: Float64Array): Float64Array;
}

/**
 * Box constraints lower ≤ x ≤ upper, componentwise. Use `-Infinity` / `Infinity` for unbounded entries;
 * `lower[i] === upper[i]` fixes variable i.
 *
 * @example
 * const bounds: Bounds = { lower: Float64Array.of(-Infinity, 0), upper: Float64Array.of(0.5, Infinity) };
 */
export interface Bounds {
  lower: Float64Array;
  upper: Float64Array;
}

/** Name of an optimization algorithm understood by `minimizeProblem`. */
export type OptimizationMethod = "L-BFGS-B" | "BFGS" | "Newton-CG";

/**
 * Options shared by all methods. Tolerances follow scipy's conventions.
 *
 * @example
 * const options: OptimizeOptions = { method: "L-BFGS-B", gtol: 1e-8, maxIter: 200 };
 */
export interface OptimizeOptions {
  /** Algorithm (default `"L-BFGS-B"`). */
  method?: OptimizationMethod;
  /** Box constraints. L-BFGS-B and Newton-CG support them; BFGS throws if any bound is finite. */
  bounds?: Bounds;
  /**
   * Shorthand tolerance: when given, it is the default for `gtol` and, for L-BFGS-B, also for `ftol`
   * (as in scipy). Explicit `gtol` / `ftol` take precedence.
   */
  tol?: number;
  /** Stop when the (projected) gradient infinity-norm is ≤ gtol. Default 1e-5 (scipy's pgtol / gtol). */
  gtol?: number;
  /**
   * Stop when the relative reduction (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol.
   * Default for L-BFGS-B: 1e7 · machine epsilon ≈ 2.22e-9 (scipy's factr · eps); BFGS and Newton-CG only apply
   * this test when `ftol` (or `tol` for L-BFGS-B) is set explicitly.
   */
  ftol?: number;
  /** Maximum number of iterations. Default 15000 for L-BFGS-B, 200·n for BFGS and Newton-CG. */
  maxIter?: number;
  /** Maximum number of objective evaluations (line-search trials included). Default 15000. */
  maxFunEvals?: number;
  /** L-BFGS history length (number of correction pairs kept), default 10. Ignored by other methods. */
  memory?: number;
  /** Called after every iteration with the new iterate; return `true` to stop the optimization. */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets statement-bodied callbacks (returning void) be passed.
  callback?: (state: IterationState) => boolean | void;
  /** Keep a copy of every iterate in `OptimizeResult.history` (default true; turn off for very large n). */
  recordHistory?: boolean;
}

/**
 * Snapshot after one iteration. `x` is a copy owned by the receiver.
 *
 * @example
 * const state: IterationState = { iteration: 1, x: Float64Array.of(0.5), value: 0.25, gradientNorm: 1 };
 */
export interface IterationState {
  /** 1-based iteration number. */
  iteration: number;
  /** Iterate after this iteration. */
  x: Float64Array;
  /** Objective value at `x`. */
  value: number;
  /** Infinity-norm of the gradient, or of the projected gradient P(x - g) - x when bounds are given. */
  gradientNorm: number;
}

/** Machine-readable reason why an optimization stopped. */
export type StopReason =
  | "gradient-tolerance"
  | "function-tolerance"
  | "no-progress"
  | "max-iterations"
  | "max-function-evaluations"
  | "callback"
  | "line-search-failure";

/**
 * Outcome of an optimization run.
 *
 * @example
 * // const result = minimizeProblem(problem, x0);
 * // if (!result.success) console.warn(result.message);
 */
export interface OptimizeResult {
  /** Final iterate (fresh array, inside the bounds). */
  x: Float64Array;
  /** Objective value at `x`. */
  fun: number;
  /** Gradient at `x` (fresh array). */
  jac: Float64Array;
  /** Infinity-norm of the (projected) gradient at `x`, same measure as `IterationState.gradientNorm`. */
  jacNorm: number;
  /** Number of completed iterations. */
  iterations: number;
  /** Number of objective evaluations (a `valueAndGradient` call counts once here). */
  functionEvaluations: number;
  /** Number of gradient evaluations (a `valueAndGradient` call counts once here). */
  gradientEvaluations: number;
  /** Number of Hessian-vector products. */
  hessianActions: number;
  /** Human-readable description of why the run stopped. */
  message: string;
  /** Machine-readable stop reason. */
  stopReason: StopReason;
  /** True when the gradient or function-reduction convergence test was met. */
  success: boolean;
  /** Method that produced this result. */
  method: OptimizationMethod;
  /** One entry per iteration (empty when `recordHistory` is false). */
  history: IterationState[];
}
