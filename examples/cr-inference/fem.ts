/**
 * @file The plain-JS reference solver of the power-law problem (nothing recorded): it makes the synthetic
 * data of the inference and is the baseline of the flagship benchmark. The finite-element pieces it uses
 * come from `tsadjoint/fem`.
 */
import { elementTangentAssembly, type P1Space, stiffnessMatrix } from "tsadjoint/fem";
import {
  assembleValues,
  type CsrMatrix,
  factorize,
  type SparseFactorization,
  scatterMap,
} from "tsadjoint/solve";

/**
 * Plain-JS Newton solve of the power-law problem -div(k (|grad u|^2 + eps)^((p-2)/2) grad u) = F with an
 * analytic Jacobian and a backtracking line search, nothing recorded. It makes the synthetic data and is
 * the baseline of the benchmark. Starts from the Laplace solution scaled by 1/k unless given a start.
 *
 * @example
 * const u = solvePowerLawReference(space, loadVector(space.mesh, () => 10), 3, 1).solution;
 */
export function solvePowerLawReference(
  space: P1Space,
  load: Float64Array,
  exponent: number,
  consistency: number,
  options: {
    regularization?: number;
    relativeTolerance?: number;
    maxIterations?: number;
    /** Start of Newton's method (default: the Laplace solution divided by k). */
    initialGuess?: Float64Array;
  } = {},
): { solution: Float64Array; iterations: number; residualNorm: number } {
  const { mesh, gradient: B, weightedGradientTranspose: BT } = space;
  const eps = options.regularization ?? 1e-10;
  const tolerance = (options.relativeTolerance ?? 1e-11) * norm2(load);
  const maxIterations = options.maxIterations ?? 50;
  const E = mesh.elementCount;
  const local = elementTangentAssembly(mesh);
  const scatter = scatterMap(mesh.unknownCount, mesh.unknownCount, local.rows, local.cols);
  const residual = (u: Float64Array): Float64Array => {
    const g = B.matvec(u);
    const q = new Float64Array(2 * E);
    for (let e = 0; e < E; e++) {
      const gx = g[2 * e];
      const gy = g[2 * e + 1];
      const c = consistency * Math.pow(gx * gx + gy * gy + eps, (exponent - 2) / 2);
      q[2 * e] = c * gx;
      q[2 * e + 1] = c * gy;
    }
    const r = BT.matvec(q);
    for (let i = 0; i < r.length; i++) r[i] -= load[i];
    return r;
  };
  const jacobian = (u: Float64Array): CsrMatrix => {
    const g = B.matvec(u);
    const tangents = new Float64Array(4 * E);
    for (let e = 0; e < E; e++) {
      const gx = g[2 * e];
      const gy = g[2 * e + 1];
      const s = gx * gx + gy * gy + eps;
      const c = consistency * Math.pow(s, (exponent - 2) / 2);
      const d = (exponent - 2) / s;
      // dq/dg = c (I + (p - 2) g g^T / s)
      tangents.set([c * (1 + d * gx * gx), c * d * gx * gy, c * d * gx * gy, c * (1 + d * gy * gy)], 4 * e);
    }
    return assembleValues(scatter, local.values(tangents));
  };
  let u: Float64Array;
  if (options.initialGuess !== undefined) u = options.initialGuess.slice();
  else {
    u = factorize(stiffnessMatrix(mesh)).solve(load);
    for (let i = 0; i < u.length; i++) u[i] /= consistency;
  }
  let r = residual(u);
  let rNorm = norm2(r);
  let iterations = 0;
  // every Jacobian has the pattern of the first: analysed once, then refactored into the old factor's storage
  let factorization: SparseFactorization | undefined;
  while (rNorm > tolerance && iterations < maxIterations) {
    const J = jacobian(u);
    factorization = factorization === undefined ? factorize(J) : factorization.refactor(J, true);
    const step = factorization.solve(r);
    let t = 1;
    let trial = u;
    let trialResidual = r;
    let trialNorm = Number.POSITIVE_INFINITY;
    while (t > 1e-10) {
      trial = u.map((v, i) => v - t * step[i]);
      trialResidual = residual(trial);
      trialNorm = norm2(trialResidual);
      if (trialNorm <= (1 - 1e-4 * t) * rNorm) break;
      t /= 2;
    }
    u = trial;
    r = trialResidual;
    rNorm = trialNorm;
    iterations++;
  }
  return { solution: u, iterations, residualNorm: rNorm };
}

/** Euclidean norm. */
function norm2(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}
