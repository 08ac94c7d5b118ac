/**
 * @file Truncated Newton (Newton-CG): inner conjugate gradients on Hessian-vector products with an
 * Eisenstat–Walker-type forcing term and negative-curvature detection; box constraints through a projected
 * active-set treatment (projected Newton in the style of Bertsekas).
 */
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
  stationarityMeasure,
  trialsAlong,
} from "./common.js";
import { strongWolfeLineSearch } from "./line-search.js";
import type { OptimizationProblem, OptimizeOptions, OptimizeResult, StopReason } from "./problem.js";
import { allFinite, dot, euclideanNorm, hasFiniteBound, infinityNorm, projectOntoBox } from "./vector.js";

/**
 * Result of the inner conjugate-gradient solve.
 *
 * @example
 * // const { direction, iterations, negativeCurvature } = truncatedConjugateGradient(apply, g, 1e-3, 50);
 */
export interface TruncatedConjugateGradientResult {
  /** Approximate solution p of H p = -g (a descent direction). */
  direction: Float64Array;
  /** Number of Hessian-vector products used. */
  iterations: number;
  /** True when a direction of non-positive curvature stopped the iteration. */
  negativeCurvature: boolean;
}

/**
 * Conjugate gradients on H p = -g, started at p = 0 and stopped when ‖H p + g‖₂ ≤ residualTolerance, after
 * `maxIterations` products, or on a search direction d with dᵀHd ≤ ε‖d‖² (non-positive curvature): then the
 * current iterate is returned, or -g if that happens on the first iteration. Only `applyHessian` touches H.
 *
 * @example
 * const apply = (v: Float64Array) => Float64Array.of(2 * v[0], 8 * v[1]);
 * truncatedConjugateGradient(apply, Float64Array.of(2, 8), 1e-12, 10).direction; // [-1, -1]
 */
export function truncatedConjugateGradient(
  applyHessian: (vector: Float64Array) => Float64Array,
  gradient: Float64Array,
  residualTolerance: number,
  maxIterations: number,
): TruncatedConjugateGradientResult {
  const dimension = gradient.length;
  const solution = new Float64Array(dimension);
  const residual = Float64Array.from(gradient); // r = H p + g
  const searchDirection = new Float64Array(dimension);
  for (let i = 0; i < dimension; i++) searchDirection[i] = -gradient[i];
  let residualSquared = dot(residual, residual);
  let iterations = 0;
  while (iterations < maxIterations && Math.sqrt(residualSquared) > residualTolerance) {
    const product = applyHessian(searchDirection);
    iterations++;
    const curvature = dot(searchDirection, product);
    if (!(curvature > 3 * MACHINE_EPSILON * dot(searchDirection, searchDirection))) {
      if (iterations === 1) {
        for (let i = 0; i < dimension; i++) solution[i] = -gradient[i];
        return { direction: solution, iterations, negativeCurvature: true };
      }
      return { direction: solution, iterations, negativeCurvature: true };
    }
    const stepLength = residualSquared / curvature;
    for (let i = 0; i < dimension; i++) {
      solution[i] += stepLength * searchDirection[i];
      residual[i] += stepLength * product[i];
    }
    const nextResidualSquared = dot(residual, residual);
    const beta = nextResidualSquared / residualSquared;
    residualSquared = nextResidualSquared;
    for (let i = 0; i < dimension; i++) searchDirection[i] = -residual[i] + beta * searchDirection[i];
  }
  if (iterations === 0) {
    // The tolerance was met at p = 0 (tiny gradient): fall back to the gradient direction.
    for (let i = 0; i < dimension; i++) solution[i] = -gradient[i];
    return { direction: solution, iterations, negativeCurvature: false };
  }
  return { direction: solution, iterations, negativeCurvature: false };
}

/** Upper limit ε̄ of the activity threshold ε = min(ε̄, ‖x - P(x - g)‖∞) of the bounded variant. */
const ACTIVITY_THRESHOLD = 1e-3;
/** Largest forcing term η (relative CG residual). */
const MAX_FORCING = 0.5;
/** Armijo parameter σ of the projected backtracking search. */
const ARMIJO_PARAMETER = 1e-4;
/** Maximum number of step halvings in the projected backtracking search. */
const MAX_BACKTRACKS = 40;

/**
 * Minimizes f with a truncated Newton method. Each outer iteration solves ∇²f(x) p = -∇f(x) approximately by
 * conjugate gradients using only `problem.hessianAction` (no matrix is formed), to the relative residual
 * ‖Hp + g‖ ≤ η‖g‖ with the forcing term η = min(0.5, √(‖g‖₂/‖g₀‖₂)) (Eisenstat–Walker-like: η → 0 as √‖g‖,
 * giving superlinear convergence; the ratio to the initial gradient makes it invariant under scaling of f), but
 * never below gtol/2, stopping early on non-positive curvature dᵀHd ≤ 3ε‖d‖² (the current CG iterate is used,
 * or -g if that happens at once), at most 20·n inner iterations.
 *
 * Without finite bounds the step comes from a Moré–Thuente strong Wolfe line search (μ = 1e-4, η = 0.9,
 * first trial 1). With bounds (supported; a projected Newton method in the spirit of Bertsekas 1982): variables
 * within ε = min(1e-3, ‖x - P(x - g)‖∞) of a bound that the gradient pushes outward (and fixed variables) form
 * the active set A; they move along -g (projected), and CG runs on the free variables F only, on
 * H_FF p_F = -(g_F + H_FA Δx_A) where Δx_A = P(x - g)_A - x_A is the active variables' unit-step move (one
 * extra Hessian action; it keeps degenerate and strongly coupled cases from zigzagging). The step α is found
 * by Armijo backtracking along the projection arc, f(P(x + αp)) ≤ f(x) + σ ∇fᵀ(P(x + αp) - x), falling back to
 * the projected gradient when that fails. Stops when the (projected) gradient infinity norm is ≤ gtol, or the
 * relative reduction of f is ≤ ftol if `ftol` is given. Throws if `problem.hessianAction` is missing.
 *
 * @example
 * const problem = {
 *   value: (x: Float64Array) => x[0] ** 4 / 4 + x[0] ** 2 + (x[1] - 1) ** 2,
 *   gradient: (x: Float64Array) => Float64Array.of(x[0] ** 3 + 2 * x[0], 2 * (x[1] - 1)),
 *   hessianAction: (x: Float64Array, v: Float64Array) => Float64Array.of((3 * x[0] ** 2 + 2) * v[0], 2 * v[1]),
 * };
 * const result = minimizeNewtonCg(problem, Float64Array.of(2, 0)); // result.x ≈ [0, 1]
 */
export function minimizeNewtonCg(
  problem: OptimizationProblem,
  x0: Float64Array,
  options: OptimizeOptions = {},
): OptimizeResult {
  // Long on purpose (about 130 lines): the truncated-Newton outer iteration (Nocedal & Wright, Algorithm
  // 7.1) with bounds by projection and the discrepancy stop; the inner CG and the line search are functions,
  // and the remaining loop is the published algorithm with each stopping test reading the iterate state.
  checkOptimizeOptions("minimizeNewtonCg", options);
  if (typeof problem.hessianAction !== "function") {
    throw new InvalidArgumentError(
      "optimize",
      'Newton-CG needs problem.hessianAction(x, direction) (Hessian-vector products); use "L-BFGS-B" or "BFGS" when it is not available.',
    );
  }
  const dimension = x0.length;
  const { lower, upper } = resolveBounds(options.bounds, dimension);
  const settings = resolveSettings(options, dimension, "Newton-CG");
  const counted = new CountedProblem(problem, dimension);
  const recorder = new RunRecorder("Newton-CG", settings, counted);
  const bounded = hasFiniteBound(lower, upper);
  const start = evaluateStartingPoint(counted, x0, lower, upper);
  let x = start.x;
  let value = start.value;
  let gradient = start.gradient;
  let gradientNorm = stationarityMeasure(x, gradient, lower, upper, bounded);
  const finish = (reason: StopReason, detail: number) =>
    recorder.finish(x, value, gradient, gradientNorm, reason, describeStop(reason, detail));
  if (gradientNorm <= settings.gradientTolerance) return finish("gradient-tolerance", gradientNorm);

  const maxInnerIterations = 20 * Math.max(1, dimension);
  const initialGradientNorm = Math.max(euclideanNorm(gradient), Number.MIN_VALUE);
  const active = new Uint8Array(dimension);

  for (;;) {
    if (recorder.iterations >= settings.maxIterations) {
      return finish("max-iterations", settings.maxIterations);
    }
    if (recorder.evaluationsExhausted()) {
      return finish("max-function-evaluations", settings.maxFunctionEvaluations);
    }

    // Active set: near a bound with the gradient pushing outward (or a fixed variable).
    active.fill(0);
    const freeGradient = Float64Array.from(gradient);
    if (bounded) {
      const threshold = Math.min(ACTIVITY_THRESHOLD, gradientNorm);
      for (let i = 0; i < dimension; i++) {
        const atLower = x[i] <= lower[i] + threshold && gradient[i] > 0;
        const atUpper = x[i] >= upper[i] - threshold && gradient[i] < 0;
        if (atLower || atUpper || lower[i] === upper[i]) {
          active[i] = 1;
          freeGradient[i] = 0;
        }
      }
    }
    // Right-hand side for the free variables: g_F + H_FA Δx_A, where Δx_A = P(x - g)_A - x_A is the move the
    // active variables make with a unit step (so the free Newton step accounts for it).
    let reducedRightHandSide = freeGradient;
    if (bounded) {
      const activeStep = new Float64Array(dimension);
      let activeMoves = false;
      for (let i = 0; i < dimension; i++) {
        if (active[i] === 0) continue;
        const target = Math.min(Math.max(x[i] - gradient[i], lower[i]), upper[i]);
        activeStep[i] = target - x[i];
        if (activeStep[i] !== 0) activeMoves = true;
      }
      if (activeMoves) {
        const coupling = counted.hessianAction(x, activeStep);
        reducedRightHandSide = new Float64Array(dimension);
        for (let i = 0; i < dimension; i++) {
          if (active[i] === 0) reducedRightHandSide[i] = freeGradient[i] + coupling[i];
        }
      }
    }
    const freeGradientNorm = euclideanNorm(freeGradient);
    const rightHandSideNorm = euclideanNorm(reducedRightHandSide);
    // Forcing term η = min(0.5, √(‖g_F‖ / ‖g₀‖)): loose far away, → 0 like √‖g‖ (superlinear convergence),
    // and invariant under scaling of f (unlike √‖g‖).
    const forcing = Math.min(MAX_FORCING, Math.sqrt(freeGradientNorm / initialGradientNorm));
    const origin = x;
    const applyReducedHessian = (vector: Float64Array): Float64Array => {
      const product = counted.hessianAction(origin, vector);
      if (bounded) for (let i = 0; i < dimension; i++) if (active[i] === 1) product[i] = 0;
      return product;
    };
    const inner =
      rightHandSideNorm > 0
        ? truncatedConjugateGradient(
            applyReducedHessian,
            reducedRightHandSide,
            Math.max(forcing * rightHandSideNorm, 0.5 * settings.gradientTolerance),
            maxInnerIterations,
          )
        : { direction: new Float64Array(dimension), iterations: 0, negativeCurvature: false };
    const direction = inner.direction;
    if (bounded) for (let i = 0; i < dimension; i++) if (active[i] === 1) direction[i] = -gradient[i];

    let outcome = bounded
      ? projectedBacktracking(counted, x, value, gradient, direction, lower, upper, recorder)
      : wolfeStep(counted, x, value, gradient, direction, recorder);
    if (outcome === undefined && !recorder.evaluationsExhausted()) {
      // Retry along steepest descent (projected gradient when bounded).
      for (let i = 0; i < dimension; i++) direction[i] = -gradient[i];
      outcome = bounded
        ? projectedBacktracking(counted, x, value, gradient, direction, lower, upper, recorder)
        : wolfeStep(counted, x, value, gradient, direction, recorder);
    }
    if (outcome === undefined) {
      if (recorder.evaluationsExhausted()) {
        return finish("max-function-evaluations", settings.maxFunctionEvaluations);
      }
      return finish("line-search-failure", 0);
    }

    let stepNorm = 0;
    for (let i = 0; i < dimension; i++) stepNorm = Math.max(stepNorm, Math.abs(outcome.x[i] - x[i]));
    const previousValue = value;
    x = outcome.x;
    value = outcome.value;
    gradient = Float64Array.from(outcome.gradient);
    gradientNorm = stationarityMeasure(x, gradient, lower, upper, bounded);
    const stopRequested = recorder.completeIteration(x, value, gradientNorm);

    if (gradientNorm <= settings.gradientTolerance) return finish("gradient-tolerance", gradientNorm);
    if (relativeReductionConverged(previousValue, value, settings.functionTolerance)) {
      return finish(
        "function-tolerance",
        (previousValue - value) / Math.max(Math.abs(previousValue), Math.abs(value), 1),
      );
    }
    if (stopRequested) return finish("callback", recorder.iterations);
    if (stepNorm <= MACHINE_EPSILON * Math.max(1, infinityNorm(x))) return finish("no-progress", 0);
  }
}

/** Accepted step of an outer iteration. */
interface StepOutcome {
  x: Float64Array;
  value: number;
  gradient: Float64Array;
}

/** Strong Wolfe line search along `direction` (unbounded case); undefined when no acceptable step was found. */
function wolfeStep(
  counted: CountedProblem,
  x: Float64Array,
  value: number,
  gradient: Float64Array,
  direction: Float64Array,
  recorder: RunRecorder,
): StepOutcome | undefined {
  const initialSlope = dot(gradient, direction);
  if (!(initialSlope < 0)) return undefined;
  const search = strongWolfeLineSearch(trialsAlong(counted, x, direction), value, initialSlope, 1, {
    sufficientDecrease: 1e-4,
    curvature: 0.9,
    maxEvaluations: Math.min(30, recorder.remainingEvaluations()),
  });
  if (!search.accepted || search.trial === undefined) return undefined;
  return { x: search.trial.x, value: search.trial.value, gradient: search.trial.gradient };
}

/**
 * Armijo backtracking along the projection arc x(α) = P(x + α p) (bounded case): accepts the first α = 1, ½, ¼, …
 * with f(x(α)) ≤ f(x) + σ ∇f(x)ᵀ(x(α) - x) and f(x(α)) < f(x); undefined when ∇f(x)ᵀ(x(α) - x) is not negative
 * or no step passes.
 */
function projectedBacktracking(
  counted: CountedProblem,
  x: Float64Array,
  value: number,
  gradient: Float64Array,
  direction: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  recorder: RunRecorder,
): StepOutcome | undefined {
  const dimension = x.length;
  let stepLength = 1;
  for (let attempt = 0; attempt < MAX_BACKTRACKS; attempt++) {
    if (recorder.evaluationsExhausted()) return undefined;
    const trialX = new Float64Array(dimension);
    for (let i = 0; i < dimension; i++) trialX[i] = x[i] + stepLength * direction[i];
    projectOntoBox(trialX, lower, upper);
    let predictedDecrease = 0;
    let moved = false;
    for (let i = 0; i < dimension; i++) {
      predictedDecrease += gradient[i] * (x[i] - trialX[i]);
      if (trialX[i] !== x[i]) moved = true;
    }
    if (!moved || !(predictedDecrease > 0)) return undefined;
    const trialValue = counted.value(trialX);
    // Strict decrease is required as well: at rounding level the Armijo test alone accepts unchanged values.
    if (trialValue < value && trialValue <= value - ARMIJO_PARAMETER * predictedDecrease) {
      const trialGradient = counted.gradient(trialX);
      if (allFinite(trialGradient)) return { x: trialX, value: trialValue, gradient: trialGradient };
    }
    stepLength *= 0.5;
  }
  return undefined;
}
