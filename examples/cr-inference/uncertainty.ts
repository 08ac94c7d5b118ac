/**
 * @file The uncertainty of the inferred CR: the Laplace approximation of the posterior of its parameters
 * under the Gaussian noise model, from the full Hessian of the negative log-posterior (one exact Hessian
 * action through the nonlinear solve per parameter), and the 95% band of the flux curve propagated through
 * the CR's Jacobian with respect to its parameters (delta method). The power law reports standard
 * deviations, 95% intervals and the correlation of p and k; the network, whose weights are not
 * identifiable, reports the flux band and the Hessian's eigen-spectrum.
 */
import { AdjFloat, Control, NDArray, ReducedFunction, Tape, withTape } from "tsadjoint";
import {
  jacobianByColumns,
  type LaplaceApproximation,
  laplaceApproximation,
  NORMAL_95,
  propagatedStandardDeviations,
} from "tsadjoint/fem";
import type { ConstitutiveModel, CrParameter } from "./constitutive.js";
import type { RecordedProblem } from "./problem.js";

/**
 * Precision of the Gaussian prior N(start, 1/precision I) on the network's weights in the Laplace
 * approximation (the likelihood alone leaves most weight directions undetermined, so without a prior the
 * posterior is improper). The power law uses a flat prior.
 */
export const NETWORK_PRIOR_PRECISION = 1;

/** One parameter's posterior summary. */
export interface ParameterUncertainty {
  readonly name: string;
  readonly inferred: number;
  readonly standardDeviation: number;
  /** The 95% interval inferred -/+ 1.96 sd. */
  readonly interval: [number, number];
  /** Whether the interval contains the truth (synthetic data). */
  readonly coversTruth: boolean | null;
}

/** What the report says about the uncertainty. */
export interface UncertaintyReport {
  readonly method: string;
  /** Noise standard deviation of the Gaussian likelihood. */
  readonly sigma: number;
  /** Factor from the reduced functional to the negative log-posterior. */
  readonly scale: number;
  /** Precision of the Gaussian prior on the parameters (0: flat prior). */
  readonly priorPrecision: number;
  /** Per-parameter summaries (power law); empty for the network. */
  readonly parameters: ParameterUncertainty[];
  /** The correlation matrix of the parameters (power law); null for the network. */
  readonly correlation: number[][] | null;
  /** Eigenvalues of the Hessian of the negative log-posterior, descending. */
  readonly eigenvalues: number[];
  /**
   * Directions the data determine: eigenvalues of the likelihood's Hessian above the prior precision (all
   * positive ones for a flat prior).
   */
  readonly determinedDirections: number;
  /**
   * Directions where the likelihood's Hessian is negative (posterior eigenvalue below the prior precision):
   * the optimum is a saddle of the likelihood there, held by the prior.
   */
  readonly negativeLikelihoodDirections: number;
  /** Directions left out of the covariance (eigenvalue <= 1e-10 of the largest). */
  readonly excludedDirections: number;
  readonly hessianActions: number;
  /** Largest half-width of the flux band relative to the largest |q| (the band's size in one number). */
  readonly fluxBandRelativeHalfWidth: number;
  /** Wall time of the Hessian, the eigen-decomposition and the band, in seconds. */
  readonly wallTime: number;
}

/** The flux band: |q| of the inferred CR and its standard deviation at sample gradient magnitudes. */
export interface FluxBand {
  readonly magnitudes: Float64Array;
  readonly flux: Float64Array;
  readonly standardDeviation: Float64Array;
}

/**
 * The factor s that makes s * J the negative log-posterior: J = c |O u - d|^2 (+ Tikhonov), and the
 * Gaussian negative log-likelihood is |O u - d|^2 / (2 sigma^2), so s = 1 / (2 c sigma^2). The Tikhonov term
 * then acts as a Gaussian prior with precision s * alpha.
 *
 * @example
 * logPosteriorScale(problem, data.noiseStandardDeviation);
 */
export function logPosteriorScale(problem: Pick<RecordedProblem, "misfitScale">, sigma: number): number {
  return 1 / (2 * problem.misfitScale * sigma * sigma);
}

/**
 * The Laplace approximation at the tape's current control values (call it after the optimizer).
 *
 * @example
 * const posterior = posteriorOf(problem, data.noiseStandardDeviation);
 */
export function posteriorOf(problem: RecordedProblem, sigma: number): LaplaceApproximation {
  return laplaceApproximation(problem.rf, {
    scale: logPosteriorScale(problem, sigma),
    priorPrecision: problem.cr.kind === "network" ? NETWORK_PRIOR_PRECISION : 0,
  });
}

/** A fresh overloaded value holding a raw control value. */
function freshParameter(raw: number | NDArray): CrParameter {
  return raw instanceof NDArray ? new NDArray(raw.data.slice(), raw.shape) : new AdjFloat(raw);
}

/**
 * The 95% band of the flux curve |q|(|g|) at `magnitudes`: the CR's Jacobian d q / d theta from one
 * tangent-linear action per parameter on a private tape (the engine's own derivative), then
 * sd_i = sqrt(G_i C G_i^T). q is evaluated along g = (|g|, 0), where q_x = |q| (N > 0).
 *
 * @example
 * const band = fluxBand(cr, finalValues, posterior, magnitudes);
 */
export function fluxBand(
  cr: ConstitutiveModel,
  values: readonly (number | NDArray)[],
  posterior: LaplaceApproximation,
  magnitudes: Float64Array,
): FluxBand {
  const tape = new Tape();
  const parameters = values.map(freshParameter);
  const g = new NDArray(new Float64Array(2 * magnitudes.length), [magnitudes.length, 2]);
  magnitudes.forEach((m, i) => {
    g.data[2 * i] = m;
  });
  const q = withTape(tape, () => cr.flux(g, parameters));
  const jacobian = jacobianByColumns(
    new ReducedFunction(
      q,
      parameters.map((p) => new Control(p)),
      { tape },
    ),
  );
  const sd = propagatedStandardDeviations(jacobian, posterior);
  const flux = new Float64Array(magnitudes.length);
  const standardDeviation = new Float64Array(magnitudes.length);
  for (let i = 0; i < magnitudes.length; i++) {
    flux[i] = q.data[2 * i];
    standardDeviation[i] = sd[2 * i];
  }
  return { magnitudes, flux, standardDeviation };
}

/**
 * The report's uncertainty section from the posterior and the flux band.
 *
 * @example
 * summarizeUncertainty(problem, posterior, band, sigma, ["p", "k"], [3, 1], seconds);
 */
export function summarizeUncertainty(
  problem: Pick<RecordedProblem, "cr" | "misfitScale">,
  posterior: LaplaceApproximation,
  band: FluxBand,
  sigma: number,
  truths: readonly number[] | null,
  wallTime: number,
): UncertaintyReport {
  const scalar = problem.cr.kind !== "network";
  const n = posterior.size;
  const prior = scalar ? 0 : NETWORK_PRIOR_PRECISION;
  const parameters: ParameterUncertainty[] = scalar
    ? problem.cr.names.map((name, i) => {
        const interval = posterior.intervals[i];
        const truth = truths?.[i];
        return {
          name,
          inferred: posterior.mean[i],
          standardDeviation: posterior.standardDeviations[i],
          interval,
          coversTruth: truth === undefined ? null : interval[0] <= truth && truth <= interval[1],
        };
      })
    : [];
  const correlation = scalar
    ? Array.from({ length: n }, (_, i) => Array.from(posterior.correlation.subarray(i * n, (i + 1) * n)))
    : null;
  let largest = 0;
  let widest = 0;
  for (let i = 0; i < band.flux.length; i++) {
    largest = Math.max(largest, Math.abs(band.flux[i]));
    widest = Math.max(widest, NORMAL_95 * band.standardDeviation[i]);
  }
  return {
    method: `Laplace approximation at the optimum: full Hessian of the negative log-posterior from ${n} exact Hessian actions (second-order adjoints through the nonlinear solve), Gaussian noise sigma, ${scalar ? "flat prior" : `Gaussian prior of precision ${prior} on the weights`}; flux band by the delta method through the CR's Jacobian`,
    sigma,
    scale: logPosteriorScale(problem, sigma),
    priorPrecision: prior,
    parameters,
    correlation,
    eigenvalues: Array.from(posterior.eigenvalues),
    determinedDirections: posterior.eigenvalues.filter((lambda) => lambda - prior > prior && lambda > 0)
      .length,
    negativeLikelihoodDirections: posterior.eigenvalues.filter((lambda) => lambda < prior * (1 - 1e-6))
      .length,
    excludedDirections: posterior.excludedDirections,
    hessianActions: posterior.hessianActions,
    fluxBandRelativeHalfWidth: largest > 0 ? widest / largest : 0,
    wallTime,
  };
}
