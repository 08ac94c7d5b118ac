/**
 * @file Newton's method with a backtracking line search for F(u, p) = 0 on a residual's tape, and the
 * linearization at the solution (the Jacobian by a user callback, by column coloring or by dense tangent
 * columns, factorized once) that nonlinearSolve's derivatives use; with the options of nonlinearSolve.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import type { Tape } from "../tape/tape.js";
import { NDArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";
import { bandedPattern, type ColumnColoring } from "./coloring.js";
import { NewtonDivergenceError, SingularSystemError } from "./errors.js";
import {
  DenseSystemCache,
  type LinearSolverOptions,
  type PreparedSystem,
  SparseSystemCache,
} from "./linear-system.js";
import { patternOf, type ResidualTape, type SolveParameter } from "./residual-tape.js";
import { CsrMatrix } from "./sparse/csr.js";
import { SparseMatrix } from "./sparse-matrix.js";
import { sameKey } from "./util.js";

/** What the per-iteration callback of `nonlinearSolve` receives. */
export interface NewtonIterationInfo {
  /** Newton iteration, 1 for the first step. */
  readonly iteration: number;
  /** ||F(u)||_2 after the step. */
  readonly residualNorm: number;
  /** The step length the line search accepted (1 is the full Newton step). */
  readonly stepLength: number;
}

/**
 * Sparsity of the Jacobian dF/du: a pattern (CsrMatrix or SparseMatrix, n x n with n = u.size; values ignored),
 * "diagonal" for a pointwise residual, or "dense" (one tangent sweep per unknown; small n only).
 */
export type JacobianSparsity = CsrMatrix | SparseMatrix | "diagonal" | "dense";

/** Options of `nonlinearSolve`. */
export interface NonlinearSolveOptions<P extends readonly SolveParameter[] = readonly SolveParameter[]> {
  /** Converged when ||F(u)||_2 <= absoluteTolerance. Default 1e-12. */
  absoluteTolerance?: number;
  /** ... or when ||F(u)||_2 <= relativeTolerance ||F(u0)||_2. Default 1e-10. */
  relativeTolerance?: number;
  /**
   * ... or when the Newton step is below stepTolerance ||u||_2: the step is taken without a line search and
   * the iteration stops (near a solution Newton converges quadratically, so u is then accurate to round-off
   * even when ||F|| cannot reach the tolerances because of cancellation in F). Default 1e-10.
   */
  stepTolerance?: number;
  /** Newton iteration limit. Default 50. */
  maxIterations?: number;
  /** Backtracking line search on ||F|| (Armijo, halving). Default true; false takes full Newton steps. */
  lineSearch?: boolean;
  /** Called after every Newton step. */
  callback?: (info: NewtonIterationInfo) => void;
  /**
   * The Jacobian's sparsity. With a pattern (or "diagonal") the Jacobian is assembled sparse, never as a
   * dense matrix: from the per-point Jacobian stacks when the residual is M_out q(M_in u + c) + c' with q a
   * `pointMap` and M_in, M_out constant sparse matrices (a finite-element residual; one Jacobian of q per
   * step, refilled on a sparsity worked out once), else by greedy distance-2 column coloring, one tangent
   * sweep of the residual per color. Default "dense" (for small problems).
   */
  jacobianSparsity?: JacobianSparsity;
  /**
   * The Jacobian dF/du at (u, params), replacing the one computed from the residual's tape (it must be exact:
   * the derivatives of the solve use it). Return a CsrMatrix, a SparseMatrix or a dense [n, n] NDArray.
   */
  jacobian?: (u: NDArray, ...params: P) => CsrMatrix | SparseMatrix | NDArray;
  /** The linear solver of the Newton and derivative systems (default: sparse direct "auto", dense LU). */
  linearSolver?: LinearSolverOptions;
  /** Largest number of unknowns for the dense tangent-column Jacobian. Default 2000. */
  maxDenseSize?: number;
  /** The tape the solve records its block on (default: the working tape). */
  tape?: Tape;
}

/** @internal the options Newton's method reads: those of nonlinearSolve but the Jacobian callback */
export type NewtonOptions = Omit<NonlinearSolveOptions, "jacobian">;

/** @internal a user Jacobian dF/du at u and the block's dependency values */
export type JacobianCallback = (u: NDArray, inputs: readonly unknown[]) => unknown;

function norm2(data: Float64Array): number {
  let largest = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (a > largest || Number.isNaN(a)) largest = a;
  }
  if (largest === 0 || !Number.isFinite(largest)) return largest;
  let total = 0;
  for (let i = 0; i < data.length; i++) total += (data[i] / largest) ** 2;
  return largest * Math.sqrt(total);
}

/**
 * @internal Newton's method and the linearization at the solution for one residual: the residual's tape, the
 * Jacobian strategy (user callback, coloring, dense columns) and the cached factorization.
 *
 * @example
 * const solver = new NewtonSolver(new ResidualTape(F, u0, [p], "nonlinearSolve"), {});
 * const u = solver.solve(u0, [p]);
 */
export class NewtonSolver {
  newtonIterations = 0;
  jacobianEvaluations = 0;
  private readonly sparse: SparseSystemCache;
  private readonly dense: DenseSystemCache;
  /** The Jacobian's sparsity pattern, when sparse. */
  private readonly pattern: CsrMatrix | undefined = undefined;
  /** The pattern's column coloring and seeds, made on the first colored Jacobian. */
  private compression: { coloring: ColumnColoring; seeds: NDArray[] } | undefined = undefined;
  private linearizedAt: unknown[] | undefined = undefined;
  private system: PreparedSystem | undefined = undefined;

  constructor(
    readonly residual: ResidualTape,
    private readonly options: NewtonOptions,
    /** The user's Jacobian (`options.jacobian` over the parameter values), or undefined to compute it. */
    private readonly jacobian: JacobianCallback | undefined = undefined,
  ) {
    const operation = residual.operation;
    const what = "the Jacobian dF/du";
    // every system is used until the next Jacobian only: refactorizations reuse the factor storage
    this.sparse = new SparseSystemCache(options.linearSolver ?? {}, operation, what, true);
    this.dense = new DenseSystemCache(operation, what);
    const n = residual.size;
    const sparsity = options.jacobianSparsity ?? "dense";
    if (jacobian === undefined && sparsity !== "dense") {
      const pattern = sparsity === "diagonal" ? bandedPattern(n, 0, 0) : patternOf(sparsity);
      if (pattern.rows !== n || pattern.cols !== n) {
        throw new ShapeMismatchError(
          operation,
          [
            [pattern.rows, pattern.cols],
            [n, n],
          ],
          "jacobianSparsity must be an n x n pattern with n = u.size",
        );
      }
      this.pattern = pattern;
    } else if (jacobian === undefined && n > (options.maxDenseSize ?? 2000)) {
      throw new InvalidArgumentError(
        operation,
        `${n} unknowns is too many for a dense Jacobian (one tangent sweep per unknown, maxDenseSize ${options.maxDenseSize ?? 2000}); ` +
          "give options.jacobianSparsity (a CsrMatrix pattern, e.g. tridiagonalPattern(n)) or options.jacobian",
      );
    }
  }

  /** Numerical factorizations so far. */
  get factorizations(): number {
    return this.sparse.factorizations + this.dense.factorizations;
  }

  /** The Jacobian at the point the residual's tape holds, prepared for solves. */
  private prepareJacobian(u: NDArray, inputs: readonly unknown[]): PreparedSystem {
    this.jacobianEvaluations++;
    const residual = this.residual;
    let jacobian: CsrMatrix | SparseMatrix | NDArray;
    const callback = this.jacobian;
    if (callback !== undefined) {
      const given = residual.quietly(() => callback(u, inputs));
      if (!(given instanceof CsrMatrix || given instanceof SparseMatrix || given instanceof NDArray)) {
        throw new InvalidArgumentError(
          residual.operation,
          `options.jacobian returned ${describeType(given)}; return a CsrMatrix, a SparseMatrix or an [n, n] NDArray`,
        );
      }
      jacobian = given;
    } else if (this.pattern !== undefined) {
      const pattern = this.pattern;
      const fromStacks = residual.stackJacobian(pattern);
      if (fromStacks !== undefined) jacobian = fromStacks;
      else {
        this.compression ??= residual.compression(pattern);
        jacobian = residual.sparseJacobian(pattern, this.compression.coloring, this.compression.seeds);
      }
    } else {
      jacobian = residual.denseJacobian();
    }
    if (jacobian instanceof NDArray) {
      if (jacobian.ndim !== 2 || jacobian.shape[0] !== residual.size || jacobian.shape[1] !== residual.size) {
        throw new ShapeMismatchError(
          residual.operation,
          [jacobian.shape],
          `the Jacobian must be ${residual.size} x ${residual.size}`,
        );
      }
      return this.dense.prepare(jacobian);
    }
    const csr = jacobian instanceof SparseMatrix ? jacobian.csr : jacobian;
    if (csr.rows !== residual.size || csr.cols !== residual.size) {
      throw new ShapeMismatchError(
        residual.operation,
        [[csr.rows, csr.cols]],
        `the Jacobian must be ${residual.size} x ${residual.size}`,
      );
    }
    return this.sparse.prepare(csr);
  }

  /**
   * The Jacobian at the solution (u, inputs), factorized once and reused by every derivative of the block
   * while the point is the same.
   */
  linearization(u: NDArray, inputs: readonly unknown[]): PreparedSystem {
    const key = [u, ...inputs];
    if (this.system !== undefined && this.linearizedAt !== undefined && sameKey(this.linearizedAt, key)) {
      this.residual.evaluate(u, inputs);
      return this.system;
    }
    this.linearizedAt = undefined;
    this.residual.evaluate(u, inputs);
    this.system = this.prepareJacobian(u, inputs);
    this.linearizedAt = key;
    return this.system;
  }

  /** Solves F(u, inputs) = 0 from `start`; returns the solution (the residual's tape holds it). */
  solve(start: NDArray, inputs: readonly unknown[]): NDArray {
    const residual = this.residual;
    const operation = residual.operation;
    const options = this.options;
    const maxIterations = options.maxIterations ?? 50;
    const lineSearch = options.lineSearch ?? true;
    const stepTolerance = options.stepTolerance ?? 1e-10;
    let u = start;
    let F = residual.evaluate(u, inputs);
    let residualNorm = norm2(F.data);
    const history = [residualNorm];
    if (!Number.isFinite(residualNorm)) {
      throw new NewtonDivergenceError(
        operation,
        "non-finite",
        history,
        "F(u0) is not finite: start from another u0",
      );
    }
    const target = Math.max(
      options.absoluteTolerance ?? 1e-12,
      (options.relativeTolerance ?? 1e-10) * residualNorm,
    );
    for (let iteration = 1; iteration <= maxIterations; iteration++) {
      if (residualNorm <= target) return u;
      let system: PreparedSystem;
      try {
        system = this.prepareJacobian(u, inputs);
      } catch (error) {
        if (error instanceof SingularSystemError) {
          throw new SingularSystemError(
            operation,
            `Newton iteration ${iteration}: ${error.message.slice(operation.length + 2)}; ||F|| history [${history
              .map((r) => r.toExponential(3))
              .join(", ")}]`,
            { cause: error },
          );
        }
        throw error;
      }
      this.linearizedAt = undefined;
      this.system = undefined;
      const step = system.solve(F.data);
      const uData = u.data;
      const stepNorm = norm2(step);
      if (!Number.isFinite(stepNorm)) {
        throw new NewtonDivergenceError(operation, "non-finite", history, "the Newton step is not finite");
      }
      this.newtonIterations++;
      const small = stepNorm <= stepTolerance * norm2(uData);
      const { trial, trialF, trialNorm, length } = this.backtrack(u, step, inputs, residualNorm, history, {
        lineSearch: lineSearch && !small,
      });
      u = trial;
      F = trialF;
      residualNorm = trialNorm;
      history.push(residualNorm);
      options.callback?.({ iteration, residualNorm, stepLength: length });
      if (small) return u;
    }
    if (residualNorm <= target) return u;
    throw new NewtonDivergenceError(
      operation,
      "max-iterations",
      history,
      `||F|| = ${residualNorm.toExponential(3)} > ${target.toExponential(3)} after ${maxIterations} iterations; raise maxIterations or start closer`,
    );
  }

  /**
   * The step u - length * step: the full step without a line search (it must give a finite residual), else
   * halving from length 1 until ||F|| decreases enough (Armijo, c = 1e-4).
   */
  private backtrack(
    u: NDArray,
    step: Float64Array,
    inputs: readonly unknown[],
    residualNorm: number,
    history: number[],
    { lineSearch }: { lineSearch: boolean },
  ): { trial: NDArray; trialF: NDArray; trialNorm: number; length: number } {
    const residual = this.residual;
    const operation = residual.operation;
    const uData = u.data;
    let length = 1;
    for (;;) {
      const next = new Float64Array(uData.length);
      for (let i = 0; i < next.length; i++) next[i] = uData[i] - length * step[i];
      const trial = new NDArray(next, residual.shape);
      const trialF = residual.evaluate(trial, inputs);
      const trialNorm = norm2(trialF.data);
      const finite = Number.isFinite(trialNorm);
      if (!lineSearch) {
        if (!finite) {
          history.push(trialNorm);
          throw new NewtonDivergenceError(
            operation,
            "non-finite",
            history,
            "the residual became non-finite; enable the line search or start closer",
          );
        }
        return { trial, trialF, trialNorm, length };
      }
      if (finite && trialNorm <= (1 - 1e-4 * length) * residualNorm)
        return { trial, trialF, trialNorm, length };
      length *= 0.5;
      if (length < 1e-10) {
        throw new NewtonDivergenceError(
          operation,
          "line-search",
          history,
          "the line search found no decrease of ||F|| along the Newton direction (wrong Jacobian sparsity, a non-smooth residual, or no solution nearby)",
        );
      }
    }
  }
}
