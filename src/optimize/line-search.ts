/**
 * @file Moré–Thuente line search: finds a step satisfying the strong Wolfe conditions by safeguarded cubic and
 * quadratic interpolation (J. J. Moré and D. J. Thuente, ACM TOMS 20(3), 1994).
 */
import { checkOptions } from "../options.js";

/** Value φ(α) = f(x + α d) and slope φ'(α) = ∇f(x + α d)·d at a trial step, plus whatever the caller attaches. */
export interface LineSearchTrial {
  value: number;
  derivative: number;
}

/**
 * Parameters of the strong Wolfe line search.
 *
 * @example
 * const options: LineSearchOptions = { sufficientDecrease: 1e-4, curvature: 0.9, maxStep: 10 };
 */
export interface LineSearchOptions {
  /** μ in φ(α) ≤ φ(0) + μ α φ'(0) (default 1e-3, as in L-BFGS-B). */
  sufficientDecrease?: number;
  /** η in |φ'(α)| ≤ η |φ'(0)| (default 0.9). */
  curvature?: number;
  /** Relative width of the bracketing interval below which the search gives up (default 0.1). */
  relativeStepTolerance?: number;
  /** Smallest step allowed (default 0). */
  minStep?: number;
  /** Largest step allowed (default 1e20); e.g. the largest feasible step inside a box. */
  maxStep?: number;
  /** Maximum number of trial evaluations (default 20). */
  maxEvaluations?: number;
}

/**
 * How the line search ended. `"converged"` means the strong Wolfe conditions hold; the others are the warnings
 * of the Moré–Thuente algorithm (`"rounding-errors"`, `"interval-too-small"`, `"at-max-step"`, `"at-min-step"`),
 * the evaluation budget (`"max-evaluations"`) or an initial slope that is not negative (`"not-descent"`).
 */
export type LineSearchStatus =
  | "converged"
  | "rounding-errors"
  | "interval-too-small"
  | "at-max-step"
  | "at-min-step"
  | "max-evaluations"
  | "not-descent";

/** Outcome of `strongWolfeLineSearch`. */
export interface LineSearchResult<Trial extends LineSearchTrial> {
  /**
   * True when `trial` may be used as the next iterate: the strong Wolfe conditions hold, or (after a warning)
   * the sufficient-decrease condition holds with a strictly lower value, or else the lowest trial value is
   * strictly below φ(0) (that trial is returned).
   */
  accepted: boolean;
  /** True when `trial` satisfies both strong Wolfe conditions. */
  wolfeSatisfied: boolean;
  /** Accepted step α (or the last trial step when not accepted). */
  step: number;
  /** The trial object returned by the evaluator at `step` (undefined when nothing was evaluated). */
  trial: Trial | undefined;
  /** Number of evaluator calls. */
  evaluations: number;
  status: LineSearchStatus;
}

/**
 * State of the Moré–Thuente bracketing interval. `bestStep` (α_l in the paper) is the end point with the least
 * value of the function being minimized; `otherStep` (α_u) is the other end point.
 */
interface SearchInterval {
  bestStep: number;
  bestValue: number;
  bestDerivative: number;
  otherStep: number;
  otherValue: number;
  otherDerivative: number;
  bracketed: boolean;
}

const EXTRAPOLATE_LOWER = 1.1;
const EXTRAPOLATE_UPPER = 4;
const BISECTION_TRIGGER = 0.66;

/**
 * Minimizer of the cubic that interpolates values and slopes at two steps (Moré–Thuente, eqs. of Section 4):
 * θ = 3(f_a - f_b)/(b - a) + f'_a + f'_b, γ = ±√(θ² - f'_a f'_b), α_c = a + r (b - a) with r = (γ - f'_a + θ)/(2γ - f'_a + f'_b).
 */
function cubicMinimizer(
  stepA: number,
  valueA: number,
  derivativeA: number,
  stepB: number,
  valueB: number,
  derivativeB: number,
): number {
  const theta = (3 * (valueA - valueB)) / (stepB - stepA) + derivativeA + derivativeB;
  const scale = Math.max(Math.abs(theta), Math.abs(derivativeA), Math.abs(derivativeB));
  let gamma =
    scale * Math.sqrt(Math.max(0, (theta / scale) ** 2 - (derivativeA / scale) * (derivativeB / scale)));
  if (stepB < stepA) gamma = -gamma;
  const numerator = gamma - derivativeA + theta;
  const denominator = gamma - derivativeA + gamma + derivativeB;
  return stepA + (numerator / denominator) * (stepB - stepA);
}

/**
 * One safeguarded step of the Moré–Thuente algorithm: chooses the next trial step from the interval end points
 * and the current trial (cases 1-4 of the paper), then updates the interval (rules U1-U3). `lowerLimit` and
 * `upperLimit` bound extrapolation when the minimizer is not bracketed yet.
 */
function safeguardedStep(
  interval: SearchInterval,
  step: number,
  value: number,
  derivative: number,
  lowerLimit: number,
  upperLimit: number,
): number {
  const { bestStep, bestValue, bestDerivative, otherStep } = interval;
  const slopeSignProduct = derivative * Math.sign(bestDerivative);
  let nextStep: number;

  if (value > bestValue) {
    // Case 1: higher value; the minimizer is bracketed. Take the cubic step unless the quadratic one is closer.
    const cubic = cubicMinimizer(bestStep, bestValue, bestDerivative, step, value, derivative);
    const quadratic =
      bestStep +
      (bestDerivative / ((bestValue - value) / (step - bestStep) + bestDerivative) / 2) * (step - bestStep);
    nextStep =
      Math.abs(cubic - bestStep) < Math.abs(quadratic - bestStep) ? cubic : cubic + (quadratic - cubic) / 2;
    interval.bracketed = true;
  } else if (slopeSignProduct < 0) {
    // Case 2: lower value, slopes of opposite sign; bracketed. Take the step farther from the trial.
    const cubic = cubicMinimizer(step, value, derivative, bestStep, bestValue, bestDerivative);
    const secant = step + (derivative / (derivative - bestDerivative)) * (bestStep - step);
    nextStep = Math.abs(cubic - step) > Math.abs(secant - step) ? cubic : secant;
    interval.bracketed = true;
  } else if (Math.abs(derivative) < Math.abs(bestDerivative)) {
    // Case 3: lower value, same slope sign, slope magnitude decreases. The cubic is used only if it tends to
    // infinity in the direction of the step or its minimum lies beyond the trial step.
    const theta = (3 * (bestValue - value)) / (step - bestStep) + bestDerivative + derivative;
    const scale = Math.max(Math.abs(theta), Math.abs(bestDerivative), Math.abs(derivative));
    let gamma =
      scale * Math.sqrt(Math.max(0, (theta / scale) ** 2 - (bestDerivative / scale) * (derivative / scale)));
    if (step > bestStep) gamma = -gamma;
    const ratio = (gamma - derivative + theta) / (gamma + (bestDerivative - derivative) + gamma);
    let cubic: number;
    if (ratio < 0 && gamma !== 0) cubic = step + ratio * (bestStep - step);
    else cubic = step > bestStep ? upperLimit : lowerLimit;
    const secant = step + (derivative / (derivative - bestDerivative)) * (bestStep - step);
    if (interval.bracketed) {
      nextStep = Math.abs(cubic - step) < Math.abs(secant - step) ? cubic : secant;
      const limit = step + BISECTION_TRIGGER * (otherStep - step);
      nextStep = step > bestStep ? Math.min(limit, nextStep) : Math.max(limit, nextStep);
    } else {
      nextStep = Math.abs(cubic - step) > Math.abs(secant - step) ? cubic : secant;
      nextStep = Math.max(lowerLimit, Math.min(upperLimit, nextStep));
    }
  } else if (interval.bracketed) {
    // Case 4 (bracketed): lower value, same slope sign, slope does not decrease; cubic through trial and α_u.
    nextStep = cubicMinimizer(
      step,
      value,
      derivative,
      interval.otherStep,
      interval.otherValue,
      interval.otherDerivative,
    );
  } else {
    // Case 4 (not bracketed): extrapolate to the limit.
    nextStep = step > bestStep ? upperLimit : lowerLimit;
  }

  // Interval update (U1: value higher -> new α_u; U2/U3: new α_l, with α_u ← α_l when slopes change sign).
  if (value > bestValue) {
    interval.otherStep = step;
    interval.otherValue = value;
    interval.otherDerivative = derivative;
  } else {
    if (slopeSignProduct < 0) {
      interval.otherStep = bestStep;
      interval.otherValue = bestValue;
      interval.otherDerivative = bestDerivative;
    }
    interval.bestStep = step;
    interval.bestValue = value;
    interval.bestDerivative = derivative;
  }
  return nextStep;
}

/**
 * safeguardedStep on the auxiliary function ψ(α) = φ(α) - φ(0) - μ α φ'(0), which stage 1 of the search
 * works with while it is useful: the interval is shifted to ψ, stepped, and shifted back (in place).
 */
function auxiliaryStep(
  interval: SearchInterval,
  step: number,
  value: number,
  derivative: number,
  decreaseSlope: number,
  lowerLimit: number,
  upperLimit: number,
): number {
  interval.bestValue -= interval.bestStep * decreaseSlope;
  interval.otherValue -= interval.otherStep * decreaseSlope;
  interval.bestDerivative -= decreaseSlope;
  interval.otherDerivative -= decreaseSlope;
  const next = safeguardedStep(
    interval,
    step,
    value - step * decreaseSlope,
    derivative - decreaseSlope,
    lowerLimit,
    upperLimit,
  );
  interval.bestValue += interval.bestStep * decreaseSlope;
  interval.otherValue += interval.otherStep * decreaseSlope;
  interval.bestDerivative += decreaseSlope;
  interval.otherDerivative += decreaseSlope;
  return next;
}

/**
 * Moré–Thuente line search for φ(α) = f(x + α d): returns a step with
 * φ(α) ≤ φ(0) + μ α φ'(0) and |φ'(α)| ≤ η |φ'(0)| (strong Wolfe), found by safeguarded interpolation.
 * `evaluate(step)` returns φ and φ' at a trial step (the caller may attach the iterate and gradient to the
 * returned object; the accepted one is handed back as `trial`). A trial with a non-finite value or slope
 * halves the step towards the best point and caps the maximum step there.
 *
 * @example
 * // φ(α) = (α - 2)², φ(0) = 4, φ'(0) = -4; a tight curvature parameter forces the search towards α = 2
 * const phi = (a: number) => ({ value: (a - 2) ** 2, derivative: 2 * (a - 2) });
 * const result = strongWolfeLineSearch(phi, 4, -4, 1, { curvature: 0.1 });
 * // result.accepted === true, |φ'(result.step)| ≤ 0.4
 */
export function strongWolfeLineSearch<Trial extends LineSearchTrial>(
  evaluate: (step: number) => Trial,
  initialValue: number,
  initialDerivative: number,
  initialStep: number,
  options: LineSearchOptions = {},
): LineSearchResult<Trial> {
  // Long on purpose (about 150 lines): one Moré–Thuente (MINPACK dcsrch) state machine whose state (stage,
  // bracket, step limits, widths, lowest trial) every iteration reads and writes; the interpolation
  // (safeguardedStep, auxiliaryStep) is already apart, and splitting the loop would pass that state around.
  checkOptions("strongWolfeLineSearch", options, [
    "sufficientDecrease",
    "curvature",
    "relativeStepTolerance",
    "minStep",
    "maxStep",
    "maxEvaluations",
  ]);
  const sufficientDecrease = options.sufficientDecrease ?? 1e-3;
  const curvature = options.curvature ?? 0.9;
  const relativeStepTolerance = options.relativeStepTolerance ?? 0.1;
  const minStep = options.minStep ?? 0;
  let maxStep = options.maxStep ?? 1e20;
  const maxEvaluations = Math.max(1, options.maxEvaluations ?? 20);

  if (!(initialDerivative < 0)) {
    return {
      accepted: false,
      wolfeSatisfied: false,
      step: 0,
      trial: undefined,
      evaluations: 0,
      status: "not-descent",
    };
  }

  const decreaseSlope = sufficientDecrease * initialDerivative;
  const curvatureBound = curvature * -initialDerivative;
  const interval: SearchInterval = {
    bestStep: 0,
    bestValue: initialValue,
    bestDerivative: initialDerivative,
    otherStep: 0,
    otherValue: initialValue,
    otherDerivative: initialDerivative,
    bracketed: false,
  };
  let width = maxStep - minStep;
  let previousWidth = 2 * width;
  let stage = 1;
  let step = Math.min(Math.max(initialStep, minStep), maxStep);
  let lowerLimit = 0;
  let upperLimit = step + EXTRAPOLATE_UPPER * step;
  let lowestTrial: Trial | undefined;
  let lowestStep = 0;
  let evaluations = 0;

  const finish = (
    trial: Trial,
    status: LineSearchStatus,
    wolfeSatisfied: boolean,
  ): LineSearchResult<Trial> => {
    // After a warning the trial is kept only with sufficient and strict decrease: at the level of rounding
    // errors the Armijo test alone can accept a step that does not change f (or x) at all.
    if (
      wolfeSatisfied ||
      (trial.value <= initialValue + step * decreaseSlope && trial.value < initialValue)
    ) {
      return { accepted: true, wolfeSatisfied, step, trial, evaluations, status };
    }
    if (lowestTrial !== undefined && lowestTrial.value < initialValue) {
      return {
        accepted: true,
        wolfeSatisfied: false,
        step: lowestStep,
        trial: lowestTrial,
        evaluations,
        status,
      };
    }
    return { accepted: false, wolfeSatisfied: false, step, trial, evaluations, status };
  };

  for (;;) {
    const trial = evaluate(step);
    evaluations++;
    const { value, derivative } = trial;

    if (!Number.isFinite(value) || !Number.isFinite(derivative)) {
      if (evaluations >= maxEvaluations) return finish(trial, "max-evaluations", false);
      maxStep = step;
      upperLimit = Math.min(upperLimit, step);
      step = interval.bestStep + 0.5 * (step - interval.bestStep);
      if (step <= minStep || step === interval.bestStep) return finish(trial, "rounding-errors", false);
      continue;
    }
    if (lowestTrial === undefined || value < lowestTrial.value) {
      lowestTrial = trial;
      lowestStep = step;
    }

    const sufficientDecreaseBound = initialValue + step * decreaseSlope;
    if (stage === 1 && value <= sufficientDecreaseBound && derivative >= 0) stage = 2;

    if (value <= sufficientDecreaseBound && Math.abs(derivative) <= curvatureBound) {
      return finish(trial, "converged", true);
    }
    if (interval.bracketed && (step <= lowerLimit || step >= upperLimit)) {
      return finish(trial, "rounding-errors", false);
    }
    if (interval.bracketed && upperLimit - lowerLimit <= relativeStepTolerance * upperLimit) {
      return finish(trial, "interval-too-small", false);
    }
    if (step === maxStep && value <= sufficientDecreaseBound && derivative <= decreaseSlope) {
      return finish(trial, "at-max-step", false);
    }
    if (step === minStep && (value > sufficientDecreaseBound || derivative >= decreaseSlope)) {
      return finish(trial, "at-min-step", false);
    }
    if (evaluations >= maxEvaluations) return finish(trial, "max-evaluations", false);

    if (stage === 1 && value <= interval.bestValue && value > sufficientDecreaseBound) {
      step = auxiliaryStep(interval, step, value, derivative, decreaseSlope, lowerLimit, upperLimit);
    } else {
      step = safeguardedStep(interval, step, value, derivative, lowerLimit, upperLimit);
    }

    if (interval.bracketed) {
      // Force sufficient shrinkage of the bracket: bisect when two steps did not reduce it by a factor 0.66.
      const bracketWidth = Math.abs(interval.otherStep - interval.bestStep);
      if (bracketWidth >= BISECTION_TRIGGER * previousWidth) {
        step = interval.bestStep + 0.5 * (interval.otherStep - interval.bestStep);
      }
      previousWidth = width;
      width = bracketWidth;
      lowerLimit = Math.min(interval.bestStep, interval.otherStep);
      upperLimit = Math.max(interval.bestStep, interval.otherStep);
    } else {
      lowerLimit = step + EXTRAPOLATE_LOWER * (step - interval.bestStep);
      upperLimit = step + EXTRAPOLATE_UPPER * (step - interval.bestStep);
    }
    step = Math.min(Math.max(step, minStep), maxStep);
    if (
      interval.bracketed &&
      (step <= lowerLimit ||
        step >= upperLimit ||
        upperLimit - lowerLimit <= relativeStepTolerance * upperLimit)
    ) {
      step = interval.bestStep;
    }
  }
}
