/** @file Shared optimizer plumbing: input validation, counted evaluations, option defaults and result assembly. */
import { InvalidArgumentError } from "../errors.js";
import { checkNumber, checkOptions } from "../options.js";

import type {
  Bounds,
  IterationState,
  OptimizationMethod,
  OptimizationProblem,
  OptimizeOptions,
  OptimizeResult,
  StopReason,
} from "./problem.js";
import { allFinite, dot, infinityNorm, projectedGradientInfinityNorm, projectOntoBox } from "./vector.js";

/** The keys of `OptimizeOptions`. */
export const OPTIMIZE_KEYS = [
  "method",
  "bounds",
  "tol",
  "gtol",
  "ftol",
  "maxIter",
  "maxFunEvals",
  "memory",
  "callback",
  "recordHistory",
] as const;

/** scipy.optimize.minimize's names (and other likely names) of our options, for the error message. */
const OPTION_ALIASES: Record<string, string> = {
  maxiter: "maxIter",
  maxIterations: "maxIter",
  maxIters: "maxIter",
  iterations: "maxIter",
  maxfun: "maxFunEvals",
  maxfev: "maxFunEvals",
  maxEvaluations: "maxFunEvals",
  maxFunctionEvaluations: "maxFunEvals",
  maxcor: "memory",
  pgtol: "gtol",
  factr: "ftol",
};

/**
 * @internal Checks an options object of `minimize` / `minimizeProblem`: unknown keys (with scipy's names
 * mapped to ours), the method name and the types of the numbers, callback and flags.
 *
 * scipy nests method options (`options: { maxiter, gtol, ftol, maxfun, maxcor }`); tsadjoint takes them
 * flat under camelCase names (`maxIter`, `gtol`, `ftol`, `maxFunEvals`, `memory`). The nested form is
 * rejected, not accepted as a second spelling: one spelling per option means no precedence rules between
 * `maxIter` and `options.maxiter`, and a misspelt nested key cannot be silently ignored.
 */
export function checkOptimizeOptions(
  operation: string,
  options: unknown,
  allowed: readonly string[] = OPTIMIZE_KEYS,
): void {
  if (options !== null && typeof options === "object" && !Array.isArray(options)) {
    const nested: unknown = Reflect.get(options, "options");
    if (nested !== undefined && !allowed.includes("options")) {
      const names = nested !== null && typeof nested === "object" ? Object.keys(nested) : [];
      const renames = names.map(
        (name) => `${name} -> ${OPTION_ALIASES[name] ?? (allowed.includes(name) ? name : "?")}`,
      );
      throw new InvalidArgumentError(
        operation,
        "scipy's nested `options: { ... }` is not used: tsadjoint takes the method options flat, e.g. " +
          `${operation}(rf, { maxIter: 100, gtol: 1e-8 })` +
          (renames.length > 0 ? ` (here: ${renames.join(", ")})` : "") +
          `; accepted options: ${allowed.map((k) => `"${k}"`).join(", ")}`,
      );
    }
    for (const key of Object.keys(options)) {
      const alias = OPTION_ALIASES[key];
      if (!allowed.includes(key) && alias !== undefined) {
        throw new InvalidArgumentError(
          operation,
          `unknown option "${key}" (scipy's or a common name; here it is "${alias}"); accepted options: ${allowed.map((k) => `"${k}"`).join(", ")}`,
        );
      }
    }
  }
  const checked = checkOptions(
    operation,
    // cast: a user's options of unknown shape; checkOptions checks that it is an object with allowed keys only
    options as OptimizeOptions | undefined,
    // cast: allowed is OPTIMIZE_KEYS or a method's subset of it, all keys of OptimizeOptions
    allowed as (keyof OptimizeOptions)[],
  );
  const method = checked.method;
  if (method !== undefined && method !== "L-BFGS-B" && method !== "BFGS" && method !== "Newton-CG") {
    throw new InvalidArgumentError(
      operation,
      `unknown method ${JSON.stringify(method) ?? typeof method}; expected "L-BFGS-B", "BFGS" or "Newton-CG" (names are case-sensitive)`,
    );
  }
  // the ranges are checked by resolveSettings; here the types
  for (const key of ["tol", "gtol", "ftol", "memory"] as const) {
    if (checked[key] !== undefined) checkNumber(operation, key, checked[key]);
  }
  for (const key of ["maxIter", "maxFunEvals"] as const) {
    if (checked[key] !== undefined) checkNumber(operation, key, checked[key], { finite: false });
  }
  if (checked.callback !== undefined && typeof checked.callback !== "function") {
    throw new InvalidArgumentError(operation, `callback must be a function, got ${typeof checked.callback}`);
  }
  if (checked.recordHistory !== undefined && typeof checked.recordHistory !== "boolean") {
    throw new InvalidArgumentError(
      operation,
      `recordHistory must be true or false, got ${typeof checked.recordHistory}`,
    );
  }
}

/** Machine epsilon of float64. */
export const MACHINE_EPSILON = 2.220446049250313e-16;

/**
 * Checks `bounds` against the problem size and returns explicit lower/upper arrays (all-infinite when absent).
 * Throws when lengths differ, an entry is NaN, or lower > upper.
 *
 * @example
 * const { lower, upper } = resolveBounds(undefined, 2); // [-Inf, -Inf], [Inf, Inf]
 */
export function resolveBounds(
  bounds: Bounds | undefined,
  size: number,
): { lower: Float64Array; upper: Float64Array } {
  if (bounds === undefined) {
    return { lower: new Float64Array(size).fill(-Infinity), upper: new Float64Array(size).fill(Infinity) };
  }
  if (
    bounds === null ||
    typeof bounds !== "object" ||
    !ArrayBuffer.isView(bounds.lower) ||
    !ArrayBuffer.isView(bounds.upper)
  ) {
    throw new InvalidArgumentError(
      "optimize",
      "bounds must be { lower: Float64Array, upper: Float64Array } (use -Infinity / Infinity for unbounded entries)",
    );
  }
  const { lower, upper } = bounds;
  if (lower.length !== size || upper.length !== size) {
    throw new InvalidArgumentError(
      "optimize",
      `bounds have length lower=${lower.length}, upper=${upper.length} but x0 has length ${size}.`,
    );
  }
  for (let i = 0; i < size; i++) {
    if (Number.isNaN(lower[i]) || Number.isNaN(upper[i])) {
      throw new InvalidArgumentError("optimize", `bound ${i} is NaN (lower=${lower[i]}, upper=${upper[i]}).`);
    }
    if (lower[i] > upper[i]) {
      throw new InvalidArgumentError(
        "optimize",
        `lower bound ${lower[i]} exceeds upper bound ${upper[i]} at index ${i}.`,
      );
    }
    if (lower[i] === Infinity || upper[i] === -Infinity) {
      throw new InvalidArgumentError(
        "optimize",
        `bound ${i} is infeasible (lower=${lower[i]}, upper=${upper[i]}).`,
      );
    }
  }
  return { lower: Float64Array.from(lower), upper: Float64Array.from(upper) };
}

/**
 * Tolerances and limits after applying defaults.
 *
 * @example
 * const settings: ResolvedSettings = resolveSettings({}, 2, "L-BFGS-B");
 */
export interface ResolvedSettings {
  gradientTolerance: number;
  /** 0 disables the relative-reduction test. */
  functionTolerance: number;
  maxIterations: number;
  maxFunctionEvaluations: number;
  memory: number;
  recordHistory: boolean;
  callback: OptimizeOptions["callback"];
}

function checkNonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0)) {
    throw new InvalidArgumentError("optimize", `${name} must be >= 0, got ${value}.`);
  }
}

/**
 * Applies the documented defaults of `OptimizeOptions` for `method` on an n-dimensional problem.
 *
 * @example
 * resolveSettings({ tol: 1e-8 }, 3, "L-BFGS-B").functionTolerance; // 1e-8
 */
export function resolveSettings(
  options: OptimizeOptions,
  size: number,
  method: OptimizationMethod,
): ResolvedSettings {
  checkNonNegative("tol", options.tol);
  checkNonNegative("gtol", options.gtol);
  checkNonNegative("ftol", options.ftol);
  const isLbfgsb = method === "L-BFGS-B";
  const memory = options.memory ?? 10;
  if (!Number.isInteger(memory) || memory < 1) {
    throw new InvalidArgumentError("optimize", `memory must be a positive integer, got ${memory}.`);
  }
  const maxIterations = options.maxIter ?? (isLbfgsb ? 15000 : 200 * Math.max(1, size));
  const maxFunctionEvaluations = options.maxFunEvals ?? 15000;
  if (!(maxIterations >= 0))
    throw new InvalidArgumentError("optimize", `maxIter must be >= 0, got ${maxIterations}.`);
  if (!(maxFunctionEvaluations >= 1)) {
    throw new InvalidArgumentError("optimize", `maxFunEvals must be >= 1, got ${maxFunctionEvaluations}.`);
  }
  return {
    gradientTolerance: options.gtol ?? options.tol ?? 1e-5,
    functionTolerance: options.ftol ?? (isLbfgsb ? (options.tol ?? 1e7 * MACHINE_EPSILON) : 0),
    maxIterations,
    maxFunctionEvaluations,
    memory,
    recordHistory: options.recordHistory ?? true,
    callback: options.callback,
  };
}

/**
 * Wraps an `OptimizationProblem`, counting evaluations and checking the lengths of returned arrays.
 *
 * @example
 * const counted = new CountedProblem({ value: (x) => x[0] ** 2, gradient: (x) => Float64Array.of(2 * x[0]) }, 1);
 * counted.valueAndGradient(Float64Array.of(3)); // { value: 9, gradient: [6] }; counted.functionEvaluations === 1
 */
export class CountedProblem {
  functionEvaluations = 0;
  gradientEvaluations = 0;
  hessianActions = 0;

  constructor(
    readonly problem: OptimizationProblem,
    readonly size: number,
  ) {}

  /** f(x). */
  value(x: Float64Array): number {
    this.functionEvaluations++;
    return this.problem.value(x);
  }

  /** ∇f(x). */
  gradient(x: Float64Array): Float64Array {
    this.gradientEvaluations++;
    const gradient = this.problem.gradient(x);
    if (gradient.length !== this.size) {
      throw new InvalidArgumentError(
        "optimize",
        `gradient has length ${gradient.length}, expected ${this.size}.`,
      );
    }
    return gradient;
  }

  /** f(x) and ∇f(x), through `valueAndGradient` when the problem provides it. */
  valueAndGradient(x: Float64Array): { value: number; gradient: Float64Array } {
    this.functionEvaluations++;
    this.gradientEvaluations++;
    let value: number;
    let gradient: Float64Array;
    if (this.problem.valueAndGradient !== undefined) {
      ({ value, gradient } = this.problem.valueAndGradient(x));
    } else {
      value = this.problem.value(x);
      gradient = this.problem.gradient(x);
    }
    if (gradient.length !== this.size) {
      throw new InvalidArgumentError(
        "optimize",
        `gradient has length ${gradient.length}, expected ${this.size}.`,
      );
    }
    return { value, gradient };
  }

  /** ∇²f(x)·direction; throws when the problem has no `hessianAction`. */
  hessianAction(x: Float64Array, direction: Float64Array): Float64Array {
    const action = this.problem.hessianAction;
    if (action === undefined) throw new InvalidArgumentError("optimize", "the problem has no hessianAction.");
    this.hessianActions++;
    const product = action.call(this.problem, x, direction);
    if (product.length !== this.size) {
      throw new InvalidArgumentError(
        "optimize",
        `hessianAction returned length ${product.length}, expected ${this.size}.`,
      );
    }
    return product;
  }
}

/**
 * Validated starting point: x0 projected onto the bounds, with value and gradient there.
 *
 * @example
 * // const start: StartingPoint = evaluateStartingPoint(counted, x0, lower, upper);
 */
export interface StartingPoint {
  x: Float64Array;
  value: number;
  gradient: Float64Array;
}

/**
 * Copies x0, projects it onto [lower, upper] and evaluates f and ∇f there; throws a descriptive error when x0
 * has non-finite entries or the objective or gradient is not finite at the (projected) start.
 *
 * @example
 * // const { x, value, gradient } = evaluateStartingPoint(counted, x0, lower, upper);
 */
export function evaluateStartingPoint(
  counted: CountedProblem,
  x0: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
): StartingPoint {
  if (!allFinite(x0)) throw new InvalidArgumentError("optimize", "x0 contains non-finite entries.");
  const x = projectOntoBox(Float64Array.from(x0), lower, upper);
  const { value, gradient } = counted.valueAndGradient(x);
  if (!Number.isFinite(value)) {
    throw new InvalidArgumentError(
      "optimize",
      `the objective is not finite at the starting point (value ${value}).`,
    );
  }
  if (!allFinite(gradient)) {
    throw new InvalidArgumentError("optimize", "the gradient is not finite at the starting point.");
  }
  return { x, value, gradient: Float64Array.from(gradient) };
}

/**
 * Optimality measure used in states and results: projected-gradient infinity norm when any bound is finite,
 * gradient infinity norm otherwise.
 *
 * @example
 * stationarityMeasure(Float64Array.of(1), Float64Array.of(-2), Float64Array.of(0), Float64Array.of(1), true); // 0
 */
export function stationarityMeasure(
  x: Float64Array,
  gradient: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  bounded: boolean,
): number {
  return bounded ? projectedGradientInfinityNorm(x, gradient, lower, upper) : infinityNorm(gradient);
}

/**
 * Records iterations (history and callback) and assembles the final `OptimizeResult`.
 *
 * @example
 * // const recorder = new RunRecorder("BFGS", settings, counted);
 * // if (recorder.completeIteration(x, f, gnorm)) stop...
 */
export class RunRecorder {
  iterations = 0;
  readonly history: IterationState[] = [];

  constructor(
    readonly method: OptimizationMethod,
    readonly settings: ResolvedSettings,
    readonly counted: CountedProblem,
  ) {}

  /** Registers a finished iteration; returns true when the callback asked to stop. */
  completeIteration(x: Float64Array, value: number, gradientNorm: number): boolean {
    this.iterations++;
    const needState = this.settings.recordHistory || this.settings.callback !== undefined;
    if (!needState) return false;
    const state: IterationState = {
      iteration: this.iterations,
      x: Float64Array.from(x),
      value,
      gradientNorm,
    };
    if (this.settings.recordHistory) this.history.push(state);
    if (this.settings.callback === undefined) return false;
    return this.settings.callback({ ...state, x: Float64Array.from(x) }) === true;
  }

  /** True when the evaluation budget is exhausted. */
  evaluationsExhausted(): boolean {
    return this.counted.functionEvaluations >= this.settings.maxFunctionEvaluations;
  }

  /** Evaluations still allowed (at least 1 so that a line search can run). */
  remainingEvaluations(): number {
    return Math.max(1, this.settings.maxFunctionEvaluations - this.counted.functionEvaluations);
  }

  /** Builds the result object. */
  finish(
    x: Float64Array,
    value: number,
    gradient: Float64Array,
    gradientNorm: number,
    stopReason: StopReason,
    detail: string,
  ): OptimizeResult {
    return {
      x: Float64Array.from(x),
      fun: value,
      jac: Float64Array.from(gradient),
      jacNorm: gradientNorm,
      iterations: this.iterations,
      functionEvaluations: this.counted.functionEvaluations,
      gradientEvaluations: this.counted.gradientEvaluations,
      hessianActions: this.counted.hessianActions,
      message: `${this.method}: ${detail}`,
      stopReason,
      success: stopReason === "gradient-tolerance" || stopReason === "function-tolerance",
      method: this.method,
      history: this.history,
    };
  }
}

/**
 * Tests the relative reduction (f_old - f_new) / max(|f_old|, |f_new|, 1) ≤ tolerance (disabled for tolerance 0).
 *
 * @example
 * relativeReductionConverged(1, 1 - 1e-12, 2.2e-9); // true
 */
export function relativeReductionConverged(previousValue: number, value: number, tolerance: number): boolean {
  if (!(tolerance > 0)) return false;
  return previousValue - value <= tolerance * Math.max(Math.abs(previousValue), Math.abs(value), 1);
}

/**
 * Standard messages for the stop reasons shared by all methods.
 *
 * @example
 * describeStop("max-iterations", 100); // "maximum number of iterations (100) reached."
 */
export function describeStop(reason: StopReason, detail: number): string {
  switch (reason) {
    case "gradient-tolerance":
      return `converged: (projected) gradient infinity-norm ${detail.toExponential(3)} <= gtol.`;
    case "function-tolerance":
      return `converged: relative reduction of the objective ${detail.toExponential(3)} <= ftol.`;
    case "no-progress":
      return "stopped: the step became negligible relative to x (precision loss), desired accuracy not reached.";
    case "max-iterations":
      return `maximum number of iterations (${detail}) reached.`;
    case "max-function-evaluations":
      return `maximum number of function evaluations (${detail}) reached.`;
    case "callback":
      return `stopped by the callback after iteration ${detail}.`;
    case "line-search-failure":
      return "line search failed to find a point with sufficient decrease, even along steepest descent.";
  }
}

/** @internal Line-search trial carrying the evaluated iterate and gradient. */
export interface EvaluatedTrial {
  value: number;
  derivative: number;
  x: Float64Array;
  gradient: Float64Array;
}

/**
 * @internal the line search's evaluator along origin + t d: value, slope along d, the trial point and its
 * gradient
 *
 * @example
 * strongWolfeLineSearch(trialsAlong(counted, x, direction), value, slope, 1);
 */
export function trialsAlong(
  counted: CountedProblem,
  origin: Float64Array,
  direction: Float64Array,
): (stepLength: number) => EvaluatedTrial {
  const dimension = origin.length;
  return (stepLength) => {
    const trialX = new Float64Array(dimension);
    for (let i = 0; i < dimension; i++) trialX[i] = origin[i] + stepLength * direction[i];
    const evaluated = counted.valueAndGradient(trialX);
    return {
      value: evaluated.value,
      derivative: dot(evaluated.gradient, direction),
      x: trialX,
      gradient: evaluated.gradient,
    };
  };
}
