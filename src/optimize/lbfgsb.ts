/**
 * @file L-BFGS-B: limited-memory quasi-Newton method for bound-constrained problems (R. H. Byrd, P. Lu,
 * J. Nocedal and C. Zhu, SIAM J. Sci. Comput. 16(5), 1995), using the compact representation of
 * Byrd, Nocedal and Schnabel (Math. Prog. 63, 1994).
 */

import {
  CountedProblem,
  checkOptimizeOptions,
  describeStop,
  type EvaluatedTrial,
  evaluateStartingPoint,
  MACHINE_EPSILON,
  RunRecorder,
  relativeReductionConverged,
  resolveBounds,
  resolveSettings,
  stationarityMeasure,
} from "./common.js";
import { choleskyFactorInPlace, choleskySolveInPlace, solveLinearSystemInPlace } from "./dense.js";
import { strongWolfeLineSearch } from "./line-search.js";
import type { OptimizationProblem, OptimizeOptions, OptimizeResult } from "./problem.js";
import { dot, euclideanNorm, hasFiniteBound, projectOntoBox } from "./vector.js";

/**
 * The last m correction pairs s_i = x_{i+1} - x_i, y_i = g_{i+1} - g_i (oldest first) and the compact
 * representation of the L-BFGS matrix built from them:
 * B = θI - W M Wᵀ, W = [Y, θS], M = [[-D, Lᵀ], [L, θSᵀS]]⁻¹,
 * with D = diag(s_iᵀy_i), L_ij = s_iᵀy_j for i > j (strictly lower part of SᵀY), and θ = yᵀy / sᵀy of the
 * newest pair (θ = 1 without pairs).
 *
 * @example
 * const memory = new LimitedMemoryMatrix(5, 2);
 * memory.add(Float64Array.of(1, 0), Float64Array.of(2, 0)); // θ = 2
 * const wTransposeV = memory.transposeWTimes(Float64Array.of(1, 1)); // [yᵀv, θ sᵀv] = [2, 2]
 */
export class LimitedMemoryMatrix {
  /** Correction pairs, oldest first. */
  private readonly steps: Float64Array[] = [];
  private readonly gradientChanges: Float64Array[] = [];
  /** stepDotChange[i * capacity + j] = s_i·y_j. */
  private readonly stepDotChange: Float64Array;
  /** stepDotStep[i * capacity + j] = s_i·s_j. */
  private readonly stepDotStep: Float64Array;
  /** Cholesky factor of θSᵀS + L D⁻¹ Lᵀ (count×count), valid when `factorized`. */
  private schurFactor = new Float64Array(0);
  private factorized = true;
  /** Scaling θ of the initial matrix θI. */
  theta = 1;

  constructor(
    readonly capacity: number,
    readonly dimension: number,
  ) {
    this.stepDotChange = new Float64Array(capacity * capacity);
    this.stepDotStep = new Float64Array(capacity * capacity);
  }

  /** Number of stored pairs k (W has 2k columns). */
  get count(): number {
    return this.steps.length;
  }

  /** Drops all pairs (B becomes the identity). */
  reset(): void {
    this.steps.length = 0;
    this.gradientChanges.length = 0;
    this.theta = 1;
    this.factorized = true;
    this.schurFactor = new Float64Array(0);
  }

  /** Appends a pair (copied), discarding the oldest one when full; requires sᵀy > 0. */
  add(step: Float64Array, gradientChange: Float64Array): void {
    const capacity = this.capacity;
    if (this.steps.length === capacity) {
      this.steps.shift();
      this.gradientChanges.shift();
      for (let i = 0; i < capacity - 1; i++) {
        for (let j = 0; j < capacity - 1; j++) {
          this.stepDotChange[i * capacity + j] = this.stepDotChange[(i + 1) * capacity + j + 1];
          this.stepDotStep[i * capacity + j] = this.stepDotStep[(i + 1) * capacity + j + 1];
        }
      }
    }
    const newest = this.steps.length;
    this.steps.push(Float64Array.from(step));
    this.gradientChanges.push(Float64Array.from(gradientChange));
    for (let i = 0; i <= newest; i++) {
      this.stepDotChange[newest * capacity + i] = dot(step, this.gradientChanges[i]);
      this.stepDotChange[i * capacity + newest] = dot(this.steps[i], gradientChange);
      const stepProduct = dot(step, this.steps[i]);
      this.stepDotStep[newest * capacity + i] = stepProduct;
      this.stepDotStep[i * capacity + newest] = stepProduct;
    }
    this.theta = dot(gradientChange, gradientChange) / this.stepDotChange[newest * capacity + newest];
    this.factorized = false;
  }

  /**
   * Factorizes θSᵀS + L D⁻¹ Lᵀ (needed by `applyMiddle`). Returns false when it is not numerically positive
   * definite; the caller should then `reset()`.
   */
  prepare(): boolean {
    if (this.factorized) return true;
    const count = this.count;
    const capacity = this.capacity;
    const schur = new Float64Array(count * count);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j <= i; j++) {
        let entry = this.theta * this.stepDotStep[i * capacity + j];
        for (let l = 0; l < j; l++) {
          entry +=
            (this.stepDotChange[i * capacity + l] * this.stepDotChange[j * capacity + l]) /
            this.stepDotChange[l * capacity + l];
        }
        schur[i * count + j] = entry;
        schur[j * count + i] = entry;
      }
    }
    if (!choleskyFactorInPlace(schur, count)) return false;
    this.schurFactor = schur;
    this.factorized = true;
    return true;
  }

  /**
   * Returns M·v for v of length 2k by block elimination of [[-D, Lᵀ], [L, θSᵀS]] [a; b] = [v₁; v₂]:
   * b = (θSᵀS + L D⁻¹ Lᵀ)⁻¹ (v₂ + L D⁻¹ v₁), a = D⁻¹ (Lᵀ b - v₁). Call `prepare()` first.
   */
  applyMiddle(vector: Float64Array): Float64Array {
    const count = this.count;
    const capacity = this.capacity;
    const result = new Float64Array(2 * count);
    if (count === 0) return result;
    const lower = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      let entry = vector[count + i];
      for (let j = 0; j < i; j++) {
        entry += (this.stepDotChange[i * capacity + j] * vector[j]) / this.stepDotChange[j * capacity + j];
      }
      lower[i] = entry;
    }
    choleskySolveInPlace(this.schurFactor, count, lower);
    for (let j = 0; j < count; j++) {
      let entry = -vector[j];
      for (let i = j + 1; i < count; i++) entry += this.stepDotChange[i * capacity + j] * lower[i];
      result[j] = entry / this.stepDotChange[j * capacity + j];
      result[count + j] = lower[j];
    }
    return result;
  }

  /** Wᵀv = [Yᵀv; θ Sᵀv] (length 2k). */
  transposeWTimes(vector: Float64Array): Float64Array {
    const count = this.count;
    const result = new Float64Array(2 * count);
    for (let i = 0; i < count; i++) {
      result[i] = dot(this.gradientChanges[i], vector);
      result[count + i] = this.theta * dot(this.steps[i], vector);
    }
    return result;
  }

  /** Writes row `index` of W, [y_1[index] … y_k[index], θ s_1[index] … θ s_k[index]], into `out`. */
  rowOfW(index: number, out: Float64Array): Float64Array {
    const count = this.count;
    for (let i = 0; i < count; i++) {
      out[i] = this.gradientChanges[i][index];
      out[count + i] = this.theta * this.steps[i][index];
    }
    return out;
  }

  /** The 2k×2k matrix M⁻¹ = [[-D, Lᵀ], [L, θSᵀS]] (row-major). */
  middleInverse(): Float64Array {
    const count = this.count;
    const capacity = this.capacity;
    const width = 2 * count;
    const matrix = new Float64Array(width * width);
    for (let i = 0; i < count; i++) {
      matrix[i * width + i] = -this.stepDotChange[i * capacity + i];
      for (let j = 0; j < i; j++) {
        const lowerEntry = this.stepDotChange[i * capacity + j];
        matrix[(count + i) * width + j] = lowerEntry;
        matrix[j * width + count + i] = lowerEntry;
      }
      for (let j = 0; j < count; j++) {
        matrix[(count + i) * width + count + j] = this.theta * this.stepDotStep[i * capacity + j];
      }
    }
    return matrix;
  }
}

/** Generalized Cauchy point x^c and c = Wᵀ(x^c - x). */
interface CauchyPoint {
  point: Float64Array;
  wTransposeStep: Float64Array;
}

/**
 * Generalized Cauchy point (BLNZ Section 4): the first local minimizer of the quadratic model
 * m(x + z) = f + gᵀz + ½ zᵀBz along the projected steepest-descent path x(t) = P(x - t g), examined segment by
 * segment between sorted breakpoints t_i. On a segment with direction d and offset z (c = Wᵀz, p = Wᵀd):
 * f' = gᵀd + θ dᵀz - pᵀMc, f'' = θ dᵀd - pᵀMp, and the minimizer lies Δt* = -f'/f'' into the segment.
 */
function generalizedCauchyPoint(
  x: Float64Array,
  gradient: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  memory: LimitedMemoryMatrix,
): CauchyPoint {
  const dimension = x.length;
  const theta = memory.theta;
  const point = Float64Array.from(x);
  const direction = new Float64Array(dimension);
  const breakpoints = new Float64Array(dimension);
  const finiteBreakpointIndices: number[] = [];
  let movingCount = 0;
  let directionSquared = 0;
  for (let i = 0; i < dimension; i++) {
    const component = gradient[i];
    if (component === 0) continue;
    let breakpoint: number;
    if (component < 0) breakpoint = upper[i] === Infinity ? Infinity : (x[i] - upper[i]) / component;
    else breakpoint = lower[i] === -Infinity ? Infinity : (x[i] - lower[i]) / component;
    if (!(breakpoint > 0)) continue; // at a bound with the gradient pushing outward: fixed
    direction[i] = -component;
    directionSquared += component * component;
    breakpoints[i] = breakpoint;
    movingCount++;
    if (breakpoint < Infinity) finiteBreakpointIndices.push(i);
  }
  const wTransposeStep = new Float64Array(2 * memory.count);
  if (movingCount === 0) return { point, wTransposeStep };
  finiteBreakpointIndices.sort((a, b) => breakpoints[a] - breakpoints[b]);

  const wDirection = memory.transposeWTimes(direction);
  const wRow = new Float64Array(2 * memory.count);
  let gradientDotDirection = -directionSquared;
  let directionDotOffset = 0;
  let middleTimesWDirection = memory.applyMiddle(wDirection);
  let slope = -directionSquared;
  let curvature = theta * directionSquared - dot(wDirection, middleTimesWDirection);
  const curvatureFloor = MACHINE_EPSILON * curvature;
  let minimizerOffset = -slope / curvature;
  let segmentStart = 0;

  for (const index of finiteBreakpointIndices) {
    const segmentLength = breakpoints[index] - segmentStart;
    if (minimizerOffset < segmentLength) break;
    // Move to the breakpoint: variable `index` reaches its bound and stops.
    for (let j = 0; j < wTransposeStep.length; j++) wTransposeStep[j] += segmentLength * wDirection[j];
    const directionComponent = direction[index];
    point[index] = directionComponent > 0 ? upper[index] : lower[index];
    const offsetComponent = point[index] - x[index];
    directionDotOffset += segmentLength * directionSquared - directionComponent * offsetComponent;
    directionSquared -= directionComponent * directionComponent;
    gradientDotDirection -= gradient[index] * directionComponent;
    memory.rowOfW(index, wRow);
    for (let j = 0; j < wDirection.length; j++) wDirection[j] -= directionComponent * wRow[j];
    direction[index] = 0;
    segmentStart = breakpoints[index];
    movingCount--;
    if (movingCount === 0) {
      minimizerOffset = 0;
      break;
    }
    middleTimesWDirection = memory.applyMiddle(wDirection);
    slope = gradientDotDirection + theta * directionDotOffset - dot(middleTimesWDirection, wTransposeStep);
    curvature = Math.max(theta * directionSquared - dot(wDirection, middleTimesWDirection), curvatureFloor);
    minimizerOffset = -slope / curvature;
  }

  minimizerOffset = Math.max(minimizerOffset, 0);
  const finalStep = segmentStart + minimizerOffset;
  for (let i = 0; i < dimension; i++) if (direction[i] !== 0) point[i] = x[i] + finalStep * direction[i];
  for (let j = 0; j < wTransposeStep.length; j++) wTransposeStep[j] += minimizerOffset * wDirection[j];
  projectOntoBox(point, lower, upper);
  return { point, wTransposeStep };
}

/**
 * Direct primal subspace minimization (BLNZ Section 5.1): with the variables at a bound at x^c fixed, minimizes
 * the model over the free variables Z: reduced gradient r = Zᵀ(g + θ(x^c - x) - W M c), Newton step
 * d = -B̂⁻¹r with B̂ = θI - ZᵀW M WᵀZ inverted by Sherman–Morrison–Woodbury,
 * B̂⁻¹ = I/θ + ZᵀW (M⁻¹ - WᵀZZᵀW/θ)⁻¹ WᵀZ / θ², then backtracks along d to stay feasible.
 * Returns null when the 2k×2k system is singular.
 */
function subspaceMinimization(
  x: Float64Array,
  gradient: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  memory: LimitedMemoryMatrix,
  cauchy: CauchyPoint,
): Float64Array | null {
  const { point, wTransposeStep } = cauchy;
  const target = Float64Array.from(point);
  const freeIndices: number[] = [];
  for (let i = 0; i < x.length; i++) if (lower[i] < point[i] && point[i] < upper[i]) freeIndices.push(i);
  const freeCount = freeIndices.length;
  if (freeCount === 0) return target;

  const theta = memory.theta;
  const count = memory.count;
  const width = 2 * count;
  const wRow = new Float64Array(width);
  const middleTimesC = memory.applyMiddle(wTransposeStep);
  const reducedGradient = new Float64Array(freeCount);
  for (let f = 0; f < freeCount; f++) {
    const i = freeIndices[f];
    let entry = gradient[i] + theta * (point[i] - x[i]);
    if (count > 0) entry -= dot(memory.rowOfW(i, wRow), middleTimesC);
    reducedGradient[f] = entry;
  }

  const step = new Float64Array(freeCount);
  if (count === 0) {
    for (let f = 0; f < freeCount; f++) step[f] = -reducedGradient[f] / theta;
  } else {
    const system = memory.middleInverse();
    const rhs = new Float64Array(width);
    for (let f = 0; f < freeCount; f++) {
      memory.rowOfW(freeIndices[f], wRow);
      const residual = reducedGradient[f];
      for (let a = 0; a < width; a++) {
        const rowEntry = wRow[a];
        rhs[a] += rowEntry * residual;
        if (rowEntry === 0) continue;
        const scaled = rowEntry / theta;
        for (let b = 0; b < width; b++) system[a * width + b] -= scaled * wRow[b];
      }
    }
    const solution = solveLinearSystemInPlace(system, width, rhs);
    if (solution === null || !solution.every(Number.isFinite)) return null;
    for (let f = 0; f < freeCount; f++) {
      memory.rowOfW(freeIndices[f], wRow);
      step[f] = -reducedGradient[f] / theta - dot(wRow, solution) / (theta * theta);
    }
  }

  // Backtrack along the subspace step to the boundary of the box (largest α ≤ 1 keeping x^c + α d feasible).
  let fraction = 1;
  let limitingFree = -1;
  for (let f = 0; f < freeCount; f++) {
    const i = freeIndices[f];
    const component = step[f];
    if (component < 0 && lower[i] > -Infinity) {
      const room = lower[i] - point[i];
      if (component * fraction < room) {
        fraction = room / component;
        limitingFree = f;
      }
    } else if (component > 0 && upper[i] < Infinity) {
      const room = upper[i] - point[i];
      if (component * fraction > room) {
        fraction = room / component;
        limitingFree = f;
      }
    }
  }
  fraction = Math.max(fraction, 0);
  for (let f = 0; f < freeCount; f++) target[freeIndices[f]] = point[freeIndices[f]] + fraction * step[f];
  if (limitingFree >= 0) {
    const i = freeIndices[limitingFree];
    target[i] = step[limitingFree] < 0 ? lower[i] : upper[i];
  }
  return projectOntoBox(target, lower, upper);
}

/**
 * Minimizes f subject to lower ≤ x ≤ upper with L-BFGS-B: each iteration computes the generalized Cauchy point
 * of the limited-memory model, minimizes the model over the variables left free there (direct primal method)
 * with backtracking to the box, and searches along the resulting direction with a Moré–Thuente line search
 * (strong Wolfe, μ = 1e-3, η = 0.9). Without finite bounds it is L-BFGS. Stops when the projected-gradient
 * infinity norm is ≤ gtol (default 1e-5) or the relative reduction of f is ≤ ftol (default ≈ 2.2e-9). A failed
 * line search discards the memory and retries once along the projected steepest descent. x0 is projected onto
 * the bounds.
 *
 * @example
 * const problem = {
 *   value: (x: Float64Array) => (x[0] - 3) ** 2 + (x[1] + 1) ** 2,
 *   gradient: (x: Float64Array) => Float64Array.of(2 * (x[0] - 3), 2 * (x[1] + 1)),
 * };
 * const bounds = { lower: Float64Array.of(0, 0), upper: Float64Array.of(2, 2) };
 * const result = minimizeLbfgsb(problem, Float64Array.of(1, 1), { bounds }); // result.x ≈ [2, 0]
 */
export function minimizeLbfgsb(
  problem: OptimizationProblem,
  x0: Float64Array,
  options: OptimizeOptions = {},
): OptimizeResult {
  // Long on purpose (about 125 lines): the L-BFGS-B outer iteration (Byrd, Lu, Nocedal & Zhu 1995) as in
  // scipy's lbfgsb driver: generalized Cauchy point, subspace minimization, projected line search, memory
  // update and the stopping tests all read and write the same iterate state; the three phases are functions.
  checkOptimizeOptions("minimizeLbfgsb", options);
  const dimension = x0.length;
  const { lower, upper } = resolveBounds(options.bounds, dimension);
  const settings = resolveSettings(options, dimension, "L-BFGS-B");
  const counted = new CountedProblem(problem, dimension);
  const recorder = new RunRecorder("L-BFGS-B", settings, counted);
  const bounded = hasFiniteBound(lower, upper);
  let boxed = true;
  for (let i = 0; i < dimension; i++) {
    if (!Number.isFinite(lower[i]) || !Number.isFinite(upper[i])) boxed = false;
  }

  const start = evaluateStartingPoint(counted, x0, lower, upper);
  let x = start.x;
  let value = start.value;
  let gradient = start.gradient;
  let gradientNorm = stationarityMeasure(x, gradient, lower, upper, bounded);
  const finish = (reason: Parameters<typeof describeStop>[0], detail: number) =>
    recorder.finish(x, value, gradient, gradientNorm, reason, describeStop(reason, detail));
  if (gradientNorm <= settings.gradientTolerance) return finish("gradient-tolerance", gradientNorm);

  const memory = new LimitedMemoryMatrix(settings.memory, dimension);
  for (;;) {
    if (recorder.iterations >= settings.maxIterations) {
      return finish("max-iterations", settings.maxIterations);
    }
    if (recorder.evaluationsExhausted()) {
      return finish("max-function-evaluations", settings.maxFunctionEvaluations);
    }

    if (!memory.prepare()) memory.reset();
    const cauchy = generalizedCauchyPoint(x, gradient, lower, upper, memory);
    const target = subspaceMinimization(x, gradient, lower, upper, memory, cauchy);
    if (target === null) {
      memory.reset();
      continue;
    }
    const direction = new Float64Array(dimension);
    for (let i = 0; i < dimension; i++) direction[i] = target[i] - x[i];
    const initialSlope = dot(gradient, direction);

    let maxStep = 1e10;
    if (bounded) {
      if (recorder.iterations === 0) maxStep = 1;
      else {
        for (let i = 0; i < dimension; i++) {
          const component = direction[i];
          if (component < 0 && lower[i] > -Infinity) {
            maxStep = Math.min(maxStep, (lower[i] - x[i]) / component);
          } else if (component > 0 && upper[i] < Infinity) {
            maxStep = Math.min(maxStep, (upper[i] - x[i]) / component);
          }
        }
        maxStep = Math.max(maxStep, 1);
      }
    }
    const directionNorm = euclideanNorm(direction);
    const initialStep = recorder.iterations === 0 && !boxed ? Math.min(1 / directionNorm, maxStep) : 1;

    const origin = x;
    const evaluateTrial = (step: number): EvaluatedTrial => {
      let trialX: Float64Array;
      if (step === 1) trialX = Float64Array.from(target);
      else {
        trialX = new Float64Array(dimension);
        for (let i = 0; i < dimension; i++) trialX[i] = origin[i] + step * direction[i];
        if (bounded) projectOntoBox(trialX, lower, upper);
      }
      const evaluated = counted.valueAndGradient(trialX);
      return {
        value: evaluated.value,
        derivative: dot(evaluated.gradient, direction),
        x: trialX,
        gradient: evaluated.gradient,
      };
    };
    const search =
      initialSlope < 0 && directionNorm > 0
        ? strongWolfeLineSearch(evaluateTrial, value, initialSlope, initialStep, {
            sufficientDecrease: 1e-3,
            curvature: 0.9,
            relativeStepTolerance: 0.1,
            maxStep,
            maxEvaluations: Math.min(20, recorder.remainingEvaluations()),
          })
        : undefined;

    if (search === undefined || !search.accepted || search.trial === undefined) {
      if (recorder.evaluationsExhausted()) {
        return finish("max-function-evaluations", settings.maxFunctionEvaluations);
      }
      if (memory.count > 0) {
        memory.reset();
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
    x = accepted.x;
    value = accepted.value;
    gradient = Float64Array.from(accepted.gradient);
    gradientNorm = stationarityMeasure(x, gradient, lower, upper, bounded);
    const stopRequested = recorder.completeIteration(x, value, gradientNorm);

    if (gradientNorm <= settings.gradientTolerance) return finish("gradient-tolerance", gradientNorm);
    const reduction = (previousValue - value) / Math.max(Math.abs(previousValue), Math.abs(value), 1);
    if (relativeReductionConverged(previousValue, value, settings.functionTolerance)) {
      return finish("function-tolerance", reduction);
    }
    if (stopRequested) return finish("callback", recorder.iterations);

    // Curvature condition for the update: skip the pair unless sᵀy > ε · (-gᵀs).
    const curvaturePair = dot(step, gradientChange);
    if (curvaturePair > MACHINE_EPSILON * -search.step * initialSlope) memory.add(step, gradientChange);
  }
}
