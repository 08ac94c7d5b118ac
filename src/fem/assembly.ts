/**
 * @file P1 assembly on the tape: the residual R(u; theta) = (diag(area) B)^T q(B u + g_D; theta) - F of the
 * flux problem -div q(grad u; theta) = f, its recorded Newton solve (derivatives with respect to the flux's
 * parameters by the implicit-function theorem), point observations of the solution and the Gaussian misfit.
 * The constant operators come from `p1Space`; the flux q is any recorded function of the per-element
 * gradients (numpy, pointMap, an engine block).
 */
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import * as np from "../numpy/index.js";
import { type NonlinearSolveOptions, nonlinearSolve } from "../solve/nonlinear-solve.js";
import type { SolveParameter } from "../solve/residual-tape.js";
import type { CsrMatrix } from "../solve/sparse/csr.js";
import { SparseMatrix } from "../solve/sparse-matrix.js";
import { matvec } from "../solve/sparse-ops.js";
import { NDArray } from "../values/ndarray.js";
import type { P1Space } from "./space.js";

/**
 * A flux q(g; theta): per-element gradients g of shape [elementCount, 2] to fluxes of the same shape,
 * recorded on the tape (so that Newton's Jacobian and every derivative mode go through it).
 */
export type FluxFunction<P extends readonly SolveParameter[]> = (
  gradients: NDArray,
  ...parameters: P
) => NDArray;

/** The data of a flux residual besides the flux itself. */
export interface FluxResidualOptions {
  /** The load vector F on the unknowns (for example `loadVector(mesh, f)` plus Neumann terms). */
  readonly load: ArrayLike<number>;
  /**
   * The per-element gradient g_D of the Dirichlet data (`dirichletGradient(mesh, values)`), added to B u.
   * Default: homogeneous Dirichlet conditions.
   */
  readonly dirichletGradient?: ArrayLike<number>;
}

/** The constant tape operands of one space, built once per space. */
interface SpaceOperands {
  readonly gradient: SparseMatrix;
  readonly assembly: SparseMatrix;
}

const operands = new WeakMap<P1Space, SpaceOperands>();

function spaceOperands(space: P1Space): SpaceOperands {
  let found = operands.get(space);
  if (found === undefined) {
    found = {
      gradient: new SparseMatrix(space.gradient),
      assembly: new SparseMatrix(space.weightedGradientTranspose),
    };
    operands.set(space, found);
  }
  return found;
}

function checkLength(operation: string, name: string, values: ArrayLike<number>, length: number): void {
  if (values.length !== length) {
    throw new ShapeMismatchError(
      operation,
      [[values.length], [length]],
      `${name} must have length ${length}`,
    );
  }
}

/**
 * Per-element gradients grad u = B u (+ g_D), shape [elementCount, 2], recorded.
 *
 * @example
 * const g = elementGradients(space, u); // NDArray [E, 2]
 */
export function elementGradients(space: P1Space, u: NDArray, dirichletGradient?: ArrayLike<number>): NDArray {
  const elements = space.mesh.elementCount;
  let flat = matvec(spaceOperands(space).gradient, u);
  if (dirichletGradient !== undefined) {
    checkLength("elementGradients", "dirichletGradient", dirichletGradient, 2 * elements);
    flat = np.add(flat, new NDArray(Float64Array.from(dirichletGradient), [2 * elements]));
  }
  return np.reshape(flat, [elements, 2]);
}

/**
 * The residual function (u, ...theta) => (diag(area) B)^T q(B u + g_D; theta) - F of the P1 discretisation
 * of -div q(grad u; theta) = f, for `nonlinearSolve` (or to evaluate on its own).
 *
 * @example
 * const residual = fluxResidual(space, (g, k) => np.multiply(g, k), { load });
 * residual(u, 2); // NDArray [unknownCount]
 */
export function fluxResidual<P extends readonly SolveParameter[]>(
  space: P1Space,
  flux: FluxFunction<P>,
  options: FluxResidualOptions,
): (u: NDArray, ...parameters: P) => NDArray {
  const operation = "fluxResidual";
  if (typeof flux !== "function") {
    throw new InvalidArgumentError(
      operation,
      "the flux must be a function (gradients [E, 2], ...parameters) => NDArray",
    );
  }
  const { mesh } = space;
  checkLength(operation, "the load vector", options.load, mesh.unknownCount);
  const elements = mesh.elementCount;
  const { assembly } = spaceOperands(space);
  const load = new NDArray(Float64Array.from(options.load), [mesh.unknownCount]);
  const dirichlet = options.dirichletGradient;
  if (dirichlet !== undefined) checkLength(operation, "dirichletGradient", dirichlet, 2 * elements);
  return (u: NDArray, ...parameters: P): NDArray => {
    const g = elementGradients(space, u, dirichlet);
    const q = flux(g, ...parameters);
    if (q.size !== 2 * elements) {
      throw new ShapeMismatchError(
        operation,
        [q.shape, [elements, 2]],
        "the flux must return one 2-vector per element",
      );
    }
    return np.subtract(matvec(assembly, np.reshape(q, [2 * elements])), load);
  };
}

/** Options of `solveFlux`: the residual's data plus the options of `nonlinearSolve`. */
export interface SolveFluxOptions<P extends readonly SolveParameter[]>
  extends FluxResidualOptions,
    Omit<NonlinearSolveOptions<P>, "jacobianSparsity"> {
  /** Newton's start on the unknowns (default zeros). */
  readonly initialGuess?: ArrayLike<number>;
}

/**
 * Solves -div q(grad u; theta) = f for the nodal values u on the unknowns by Newton's method and records
 * the solve: the Jacobian is assembled sparse on the space's pattern, from the flux's per-point Jacobian
 * stacks when the flux is a `pointMap` (B^T diag(stacks) B, values refilled each Newton step), else by
 * colored tangent sweeps through the flux; the derivatives of u with respect to the parameters use the
 * implicit-function theorem.
 *
 * @example
 * const k = new AdjFloat(2);
 * const u = solveFlux(space, (g, c) => np.multiply(g, c), [k], { load: loadVector(mesh, () => 1) });
 */
export function solveFlux<P extends readonly SolveParameter[]>(
  space: P1Space,
  flux: FluxFunction<P>,
  parameters: P,
  options: SolveFluxOptions<P>,
): NDArray {
  const { load, dirichletGradient, initialGuess, ...solveOptions } = options;
  const n = space.mesh.unknownCount;
  const start = initialGuess === undefined ? new Float64Array(n) : Float64Array.from(initialGuess);
  checkLength("solveFlux", "the initial guess", start, n);
  const residual = fluxResidual(space, flux, { load, dirichletGradient });
  return nonlinearSolve(residual, new NDArray(start, [n]), parameters, {
    ...solveOptions,
    jacobianSparsity: space.jacobianPattern,
  });
}

/**
 * Values of the solution at observation points, O u (+ offsets from the Dirichlet data), recorded.
 *
 * @example
 * const predicted = observe(observationOperator(mesh, points), u);
 */
export function observe(
  operator: CsrMatrix | SparseMatrix,
  u: NDArray,
  offsets?: ArrayLike<number>,
): NDArray {
  const values = matvec(operator, u);
  if (offsets === undefined) return values;
  checkLength("observe", "offsets", offsets, values.size);
  return np.add(values, new NDArray(Float64Array.from(offsets), [values.size]));
}

/**
 * The Gaussian negative log-likelihood (up to a constant) 0.5 sum_i ((predicted_i - observed_i) / sigma_i)^2,
 * recorded. `sigma` is one number or one per observation. Its Hessian at the optimum is the inverse
 * covariance of the Laplace approximation of the posterior.
 *
 * @example
 * const J = gaussianMisfit(observe(O, u), data, 0.01);
 */
export function gaussianMisfit(
  predicted: NDArray,
  observed: ArrayLike<number>,
  sigma: number | ArrayLike<number>,
): NDArray {
  const operation = "gaussianMisfit";
  checkLength(operation, "the observations", observed, predicted.size);
  const weights = new Float64Array(predicted.size);
  for (let i = 0; i < weights.length; i++) {
    const s = typeof sigma === "number" ? sigma : sigma[i];
    if (!(s > 0 && Number.isFinite(s))) {
      throw new InvalidArgumentError(
        operation,
        `sigma must be positive and finite, got ${s} for observation ${i}`,
      );
    }
    weights[i] = 1 / s;
  }
  if (typeof sigma !== "number") checkLength(operation, "sigma", sigma, predicted.size);
  const residual = np.multiply(
    np.subtract(predicted, new NDArray(Float64Array.from(observed), [predicted.size])),
    new NDArray(weights, [predicted.size]),
  );
  return np.multiply(np.sum(np.square(residual)), 0.5);
}
