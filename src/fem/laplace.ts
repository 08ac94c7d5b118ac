/**
 * @file The Laplace approximation of a posterior from exact Hessians: at a minimum of a negative
 * log-posterior (a ReducedFunctional, scaled to log-likelihood units), the full Hessian from one Hessian
 * action per parameter, its eigen-decomposition (how many directions the data determine), the covariance
 * H^-1, standard deviations, correlations and 95% intervals, and the delta-method variance of derived
 * quantities (y = G theta to first order: var y_i = (G C G^T)_ii). Dense linear algebra, for up to a few
 * hundred parameters.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ReducedFunction } from "../reduced/reduced-function.js";
import type { ReducedFunctional } from "../reduced/reduced-functional.js";
import { NDArray } from "../values/ndarray.js";
import { OverloadedValue } from "../values/overloaded.js";

/** The two-sided 95% quantile of the standard normal distribution. */
export const NORMAL_95 = 1.959963984540054;

/** Shapes of a list of raw values (numbers have shape []). */
function shapesOf(values: readonly unknown[]): number[][] {
  return values.map((value) => (value instanceof NDArray ? value.shape.slice() : []));
}

/** Raw control values (numbers or NDArrays) flattened into one vector. */
export function flattenValues(values: readonly unknown[]): Float64Array {
  const parts: number[] = [];
  for (const value of values) {
    const raw = value instanceof OverloadedValue ? value.raw() : value;
    if (raw instanceof NDArray) for (const entry of raw.data) parts.push(entry);
    else if (typeof raw === "number") parts.push(raw);
    else
      throw new InvalidArgumentError(
        "flattenValues",
        "values must be numbers, NDArrays or overloaded values of them",
      );
  }
  return Float64Array.from(parts);
}

/** A flat vector cut back into values of the given shapes (numbers for shape []). */
/** A per-control result as a list (a ReducedFunctional over one Control gives the value itself). */
function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}

function unflatten(vector: Float64Array, shapes: readonly number[][]): (number | NDArray)[] {
  let offset = 0;
  return shapes.map((shape) => {
    if (shape.length === 0) return vector[offset++];
    const size = shape.reduce((a, b) => a * b, 1);
    const value = new NDArray(vector.slice(offset, offset + size), shape);
    offset += size;
    return value;
  });
}

/**
 * Eigenvalues (descending) and eigenvectors (columns of a row-major n x n matrix) of a symmetric matrix by
 * the cyclic Jacobi method (accurate to round-off, also for tiny eigenvalues).
 *
 * @example
 * symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values; // [3, 1]
 */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) {
    throw new InvalidArgumentError(
      "symmetricEigen",
      `the matrix must have ${n * n} entries, got ${matrix.length}`,
    );
  }
  const a = matrix.slice();
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const entry = a[i * n + j] * a[i * n + j];
        total += entry;
        if (i !== j) off += entry;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((column, k) => {
    for (let row = 0; row < n; row++) vectors[row * n + k] = v[row * n + column];
  });
  return { values, vectors };
}

/** Options of `laplaceApproximation`. */
export interface LaplaceOptions {
  /**
   * Factor that turns the reduced functional into the negative log-posterior (for a misfit
   * J = c |O u - d|^2 and Gaussian noise of standard deviation sigma, scale = 1 / (2 c sigma^2)). Default 1.
   */
  readonly scale?: number;
  /**
   * Precision of an isotropic Gaussian prior on the parameters added to the Hessian (1 / prior variance).
   * Default 0 (a flat prior: the posterior is proper only when the data determine every direction).
   */
  readonly priorPrecision?: number;
  /**
   * Eigenvalues at or below relativeTolerance * the largest are directions the data do not determine (at
   * the accuracy of the Hessian actions): they are left out of the covariance. Default 1e-10.
   */
  readonly relativeTolerance?: number;
}

/** The Laplace approximation N(mean, covariance) of a posterior. */
export interface LaplaceApproximation {
  /** Number of parameters. */
  readonly size: number;
  /** The parameters at the optimum, flattened (controls in order, arrays row-major). */
  readonly mean: Float64Array;
  /** The Hessian of the negative log-posterior (row-major n x n, symmetrised). */
  readonly hessian: Float64Array;
  /** Its eigenvalues, descending. */
  readonly eigenvalues: Float64Array;
  /** Its eigenvectors (columns, row-major n x n). */
  readonly eigenvectors: Float64Array;
  /**
   * The covariance: H^-1 over the eigen-directions with positive eigenvalues (a pseudo-inverse when the
   * Hessian is singular or indefinite; `excludedDirections` says how many directions were left out).
   */
  readonly covariance: Float64Array;
  /** Square roots of the covariance's diagonal. */
  readonly standardDeviations: Float64Array;
  /** The correlation matrix (row-major n x n). */
  readonly correlation: Float64Array;
  /** 95% intervals mean -/+ 1.96 sd, per parameter. */
  readonly intervals: [number, number][];
  /** Eigen-directions left out of the covariance (eigenvalue <= relativeTolerance * the largest). */
  readonly excludedDirections: number;
  /** Hessian actions used (one per parameter). */
  readonly hessianActions: number;
}

/**
 * The Laplace approximation of the posterior at the current control values of `rf` (call it at a minimum):
 * the full Hessian of scale * J from one `rf.hessian` action per parameter (plus the prior precision), its
 * eigen-decomposition, covariance, standard deviations, correlation and 95% intervals.
 *
 * @example
 * // J = 0.5 |O u(theta) - d|^2 / sigma^2, minimised by `minimize(rf)`
 * const posterior = laplaceApproximation(rf);
 * posterior.standardDeviations; // one per parameter
 */
export function laplaceApproximation(
  rf: ReducedFunctional,
  options: LaplaceOptions = {},
): LaplaceApproximation {
  const operation = "laplaceApproximation";
  const scale = options.scale ?? 1;
  const prior = options.priorPrecision ?? 0;
  if (!(scale > 0 && Number.isFinite(scale))) {
    throw new InvalidArgumentError(operation, `scale must be positive and finite, got ${scale}`);
  }
  if (!(prior >= 0 && Number.isFinite(prior))) {
    throw new InvalidArgumentError(operation, `priorPrecision must be >= 0 and finite, got ${prior}`);
  }
  const values = rf.controls.map((control) => control.tapeValue().raw());
  const shapes = shapesOf(values);
  const mean = flattenValues(values);
  const n = mean.length;
  const hessian = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const column = flattenValues(listOf(rf.hessian(unflatten(unit, shapes))));
    for (let i = 0; i < n; i++) hessian[i * n + j] = scale * column[i];
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const average = 0.5 * (hessian[i * n + j] + hessian[j * n + i]);
      hessian[i * n + j] = average;
      hessian[j * n + i] = average;
    }
    hessian[i * n + i] += prior;
  }
  const { values: eigenvalues, vectors: eigenvectors } = symmetricEigen(hessian, n);
  const covariance = new Float64Array(n * n);
  let excludedDirections = 0;
  const largest = Math.max(0, eigenvalues[0] ?? 0);
  const tolerance = options.relativeTolerance ?? 1e-10;
  for (let k = 0; k < n; k++) {
    const lambda = eigenvalues[k];
    if (!(lambda > tolerance * largest)) {
      excludedDirections++;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const vi = eigenvectors[i * n + k] / lambda;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) covariance[i * n + j] += vi * eigenvectors[j * n + k];
    }
  }
  const standardDeviations = Float64Array.from({ length: n }, (_, i) =>
    Math.sqrt(Math.max(0, covariance[i * n + i])),
  );
  const correlation = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const denominator = standardDeviations[i] * standardDeviations[j];
      correlation[i * n + j] = denominator > 0 ? covariance[i * n + j] / denominator : i === j ? 1 : 0;
    }
  }
  const intervals = Array.from(mean, (m, i): [number, number] => [
    m - NORMAL_95 * standardDeviations[i],
    m + NORMAL_95 * standardDeviations[i],
  ]);
  return {
    size: n,
    mean,
    hessian,
    eigenvalues,
    eigenvectors,
    covariance,
    standardDeviations,
    correlation,
    intervals,
    excludedDirections,
    hessianActions: n,
  };
}

/**
 * The Jacobian G (row-major outputs x parameters) of a ReducedFunction with one output at its current
 * control values, by one tangent-linear action per parameter.
 *
 * @example
 * const G = jacobianByColumns(new ReducedFunction(q, controls)); // q.size x n
 */
export function jacobianByColumns(rf: ReducedFunction): { rows: number; cols: number; values: Float64Array } {
  const values = rf.controls.map((control) => control.tapeValue().raw());
  const shapes = shapesOf(values);
  const n = flattenValues(values).length;
  const unit = new Float64Array(n);
  const columns: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const action = rf.jacAction(unflatten(unit, shapes));
    columns.push(flattenValues(Array.isArray(action) ? action : [action]));
  }
  const rows = columns[0]?.length ?? 0;
  const out = new Float64Array(rows * n);
  columns.forEach((column, j) => {
    for (let i = 0; i < rows; i++) out[i * n + j] = column[i];
  });
  return { rows, cols: n, values: out };
}

/**
 * Delta-method standard deviations of derived quantities y = y(theta): sqrt((G C G^T)_ii) for the Jacobian
 * G (row-major, rows x size) and the covariance C of a Laplace approximation.
 *
 * @example
 * propagatedStandardDeviations(G, posterior); // one per row of G
 */
export function propagatedStandardDeviations(
  jacobian: { rows: number; cols: number; values: Float64Array },
  posterior: Pick<LaplaceApproximation, "covariance" | "size">,
): Float64Array {
  const { rows, cols, values } = jacobian;
  const n = posterior.size;
  if (cols !== n) {
    throw new InvalidArgumentError(
      "propagatedStandardDeviations",
      `the Jacobian has ${cols} columns but the posterior ${n} parameters`,
    );
  }
  const out = new Float64Array(rows);
  const temp = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    temp.fill(0);
    for (let j = 0; j < n; j++) {
      const g = values[r * n + j];
      if (g === 0) continue;
      for (let i = 0; i < n; i++) temp[i] += posterior.covariance[i * n + j] * g;
    }
    let variance = 0;
    for (let i = 0; i < n; i++) variance += values[r * n + i] * temp[i];
    out[r] = Math.sqrt(Math.max(0, variance));
  }
  return out;
}
