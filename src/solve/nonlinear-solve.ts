/**
 * @file nonlinearSolve: F(u, p) = 0 by Newton's method with a backtracking line search, recorded as ONE block
 * whose derivatives come from the implicit-function theorem (never from the Newton iterations): one linear
 * solve with the Jacobian at the solution per tangent, adjoint or second-order adjoint.
 */
import "../values/ndarray-space.js";
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { checkNumber, checkOptions } from "../options.js";
import { checkTape } from "../reduced/arguments.js";
import { annotating } from "../tape/annotation.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type TlmContext,
} from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import { recordBlock, type Tape } from "../tape/tape.js";
import { type ArrayInput, NDArray } from "../values/ndarray.js";
import { addRaw, describeType } from "../values/space.js";
import { bandedPattern, type ColumnColoring } from "./coloring.js";
import { NewtonDivergenceError, SingularSystemError } from "./errors.js";
import {
  checkLinearSolverOptions,
  DenseSystemCache,
  type LinearSolverOptions,
  type PreparedSystem,
  SparseSystemCache,
} from "./linear-system.js";
import { patternOf, type ResidualFunction, ResidualTape, type SolveParameter } from "./residual-tape.js";
import { CsrMatrix } from "./sparse/csr.js";
import { SparseMatrix } from "./sparse-matrix.js";
import { asArray } from "./sparse-ops.js";
import { negateRaw, sameKey } from "./util.js";

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
   * The Jacobian's sparsity. With a pattern (or "diagonal") the Jacobian is assembled sparse by greedy
   * distance-2 column coloring, one tangent sweep of the residual per color; never as a dense matrix.
   * Default "dense" (for small problems).
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

const NONLINEAR_SOLVE_KEYS = [
  "absoluteTolerance",
  "relativeTolerance",
  "stepTolerance",
  "maxIterations",
  "lineSearch",
  "callback",
  "jacobianSparsity",
  "jacobian",
  "linearSolver",
  "maxDenseSize",
  "tape",
] as const;

/** Checks the options of nonlinearSolve: unknown keys, numbers, callbacks and the nested linearSolver. */
function checkNonlinearSolveOptions(options: NonlinearSolveOptions, operation: string): void {
  checkOptions(operation, options, [...NONLINEAR_SOLVE_KEYS]);
  for (const key of ["absoluteTolerance", "relativeTolerance", "stepTolerance"] as const) {
    if (options[key] !== undefined) checkNumber(operation, key, options[key], { nonNegative: true });
  }
  for (const key of ["maxIterations", "maxDenseSize"] as const) {
    if (options[key] !== undefined)
      checkNumber(operation, key, options[key], { integer: true, nonNegative: true });
  }
  if (options.lineSearch !== undefined && typeof options.lineSearch !== "boolean") {
    throw new InvalidArgumentError(
      operation,
      `lineSearch must be true or false, got ${typeof options.lineSearch}`,
    );
  }
  for (const key of ["callback", "jacobian"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "function") {
      throw new InvalidArgumentError(operation, `${key} must be a function, got ${typeof options[key]}`);
    }
  }
  if (options.linearSolver !== undefined) checkLinearSolverOptions(operation, options.linearSolver);
}

/** Counters of one nonlinear solve (forward solves and derivatives together). */
export interface NonlinearSolveStatistics {
  /** Newton steps taken, all solves included. */
  newtonIterations: number;
  /** Jacobians assembled (Newton iterations plus the one at each solution that derivatives use). */
  jacobianEvaluations: number;
  /** Numerical factorizations of Jacobians. */
  factorizations: number;
  /** Residual evaluations (replays of the residual's tape). */
  residualEvaluations: number;
  /** Tangent sweeps of the residual's tape (Jacobian columns or colors, and derivative right-hand sides). */
  tangentSweeps: number;
}

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
  private readonly compression:
    | { pattern: CsrMatrix; coloring: ColumnColoring; seeds: NDArray[] }
    | undefined;
  private linearizedAt: unknown[] | undefined = undefined;
  private system: PreparedSystem | undefined = undefined;

  constructor(
    readonly residual: ResidualTape,
    private readonly options: NonlinearSolveOptions,
  ) {
    const operation = residual.operation;
    const what = "the Jacobian dF/du";
    this.sparse = new SparseSystemCache(options.linearSolver ?? {}, operation, what);
    this.dense = new DenseSystemCache(operation, what);
    const n = residual.size;
    const sparsity = options.jacobianSparsity ?? "dense";
    if (options.jacobian === undefined && sparsity !== "dense") {
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
      this.compression = { pattern, ...residual.compression(pattern) };
    } else if (options.jacobian === undefined && n > (options.maxDenseSize ?? 2000)) {
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
    if (this.options.jacobian !== undefined) {
      const callback = this.options.jacobian as (u: NDArray, ...params: unknown[]) => unknown;
      const given = residual.quietly(() => callback(u, ...residual.parameterValues(inputs)));
      if (!(given instanceof CsrMatrix || given instanceof SparseMatrix || given instanceof NDArray)) {
        throw new InvalidArgumentError(
          residual.operation,
          `options.jacobian returned ${describeType(given)}; return a CsrMatrix, a SparseMatrix or an [n, n] NDArray`,
        );
      }
      jacobian = given;
    } else if (this.compression !== undefined) {
      const { pattern, coloring, seeds } = this.compression;
      jacobian = residual.sparseJacobian(pattern, coloring, seeds);
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
    const shape = residual.shape;
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
      let length = 1;
      let trial: NDArray;
      let trialF: NDArray;
      let trialNorm: number;
      for (;;) {
        const next = new Float64Array(uData.length);
        for (let i = 0; i < next.length; i++) next[i] = uData[i] - length * step[i];
        trial = new NDArray(next, shape);
        trialF = residual.evaluate(trial, inputs);
        trialNorm = norm2(trialF.data);
        const finite = Number.isFinite(trialNorm);
        if (!lineSearch || small) {
          if (!finite) {
            history.push(trialNorm);
            throw new NewtonDivergenceError(
              operation,
              "non-finite",
              history,
              "the residual became non-finite; enable the line search or start closer",
            );
          }
          break;
        }
        if (finite && trialNorm <= (1 - 1e-4 * length) * residualNorm) break;
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
}

/**
 * u solving F(u, p) = 0, one block for the whole Newton solve. With A = dF/du and B = dF/dp at the solution:
 * TLM: udot = -A^-1 (B pdot). Adjoint: A^T lambda = ubar, pbar = -B^T lambda.
 * Hessian, with G = <lambda, F>, udot and lambda as above: A^T lambdahat = uhat - (G_uu udot + G_up pdot),
 * phat = -B^T lambdahat - (G_pu udot + G_pp pdot); the bracketed terms are one second-order sweep of the
 * residual's tape seeded with lambda along (udot, pdot).
 *
 * @example
 * const u = nonlinearSolve(F, u0, [p]); // records one NonlinearSolveBlock
 * (tape.blocks.at(-1) as NonlinearSolveBlock).statistics.newtonIterations;
 */
export class NonlinearSolveBlock extends Block {
  private lastTangent: { key: unknown[]; udot: NDArray | undefined } | undefined = undefined;
  private lastAdjoint: { key: unknown[]; lambda: NDArray } | undefined = undefined;
  private lastSecond: { key: unknown[]; terms: { adjoints: unknown[]; second: unknown[] } } | undefined =
    undefined;

  /** @internal built by `nonlinearSolve` */
  constructor(
    /** @internal Newton's method and the linearization of this residual. */
    readonly solver: NewtonSolver,
    /** The initial guess (the fallback start when a warm-started recompute fails). */
    readonly initialGuess: NDArray,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return "nonlinearSolve";
  }

  /** Counters of this block's solves and derivatives. */
  get statistics(): NonlinearSolveStatistics {
    return {
      newtonIterations: this.solver.newtonIterations,
      jacobianEvaluations: this.solver.jacobianEvaluations,
      factorizations: this.solver.factorizations,
      residualEvaluations: this.solver.residual.evaluations,
      tangentSweeps: this.solver.residual.tangentSweeps,
    };
  }

  /** Solves again at the new parameters, starting from the previous solution (then from u0 if that fails). */
  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    const previous = this.outputs[0]?.saved as NDArray | undefined;
    const start = previous ?? this.initialGuess;
    try {
      return [this.solver.solve(start, inputs)];
    } catch (error) {
      if (
        start === this.initialGuess ||
        !(error instanceof NewtonDivergenceError || error instanceof SingularSystemError)
      ) {
        throw error;
      }
      return [this.solver.solve(this.initialGuess, inputs)];
    }
  }

  /** udot = -A^-1 (B pdot), remembered for the Hessian of the same sweep. */
  private tangent(u: NDArray, inputs: readonly unknown[], tangents: readonly unknown[]): NDArray | undefined {
    const key = [u, ...inputs, ...tangents];
    if (this.lastTangent !== undefined && sameKey(this.lastTangent.key, key)) return this.lastTangent.udot;
    let udot: NDArray | undefined;
    if (tangents.some((t) => t !== undefined)) {
      const system = this.solver.linearization(u, inputs);
      const rhs = this.solver.residual.tangent([undefined, ...tangents]);
      if (rhs !== undefined) {
        const x = system.solve(rhs.data);
        for (let i = 0; i < x.length; i++) x[i] = -x[i];
        udot = new NDArray(x, u.shape);
      }
    }
    this.lastTangent = { key, udot };
    return udot;
  }

  /** lambda = A^-T ubar, remembered for the Hessian of the same sweep. */
  private adjoint(u: NDArray, inputs: readonly unknown[], ubar: NDArray): NDArray {
    const key = [u, ...inputs, ubar];
    if (this.lastAdjoint !== undefined && sameKey(this.lastAdjoint.key, key)) return this.lastAdjoint.lambda;
    const system = this.solver.linearization(u, inputs);
    const lambda = new NDArray(system.solveTranspose(ubar.data), u.shape);
    this.lastAdjoint = { key, lambda };
    return lambda;
  }

  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext): readonly unknown[] {
    return [this.tangent(outputs[0] as NDArray, inputs, tlmInputs)];
  }

  /**
   * One tangent sweep along (udot, pdot) and one second-order sweep of the residual seeded with lambda: the
   * first-order adjoints B^T lambda and the terms Hu = G_uu udot + G_up pdot, Hp = G_pu udot + G_pp pdot,
   * remembered so that evaluateAdj and evaluateHessian of one Hessian sweep share them.
   */
  private secondOrder(
    u: NDArray,
    inputs: readonly unknown[],
    tlmInputs: readonly unknown[],
    lambda: NDArray,
    needed: readonly boolean[],
  ): { adjoints: unknown[]; second: unknown[] } {
    const key = [u, ...inputs, lambda, ...tlmInputs, ...needed];
    if (this.lastSecond !== undefined && sameKey(this.lastSecond.key, key)) return this.lastSecond.terms;
    const udot = this.tangent(u, inputs, tlmInputs);
    this.solver.linearization(u, inputs);
    const terms = this.solver.residual.secondOrder([udot, ...tlmInputs], lambda, [true, ...needed]);
    this.lastSecond = { key, terms };
    return terms;
  }

  override evaluateAdj(context: AdjContext): readonly unknown[] {
    const { inputs, outputs, adjInputs, needed } = context;
    const ubar = adjInputs[0] as NDArray | undefined;
    if (ubar === undefined) return inputs.map(() => undefined);
    const u = outputs[0] as NDArray;
    const lambda = this.adjoint(u, inputs, ubar);
    const tlmInputs = (context as Partial<HessianContext>).tlmInputs;
    let adjoints: unknown[];
    if (tlmInputs?.some((t) => t !== undefined)) {
      // inside a Hessian sweep: the second-order sweep the Hessian needs also gives B^T lambda
      adjoints = this.secondOrder(u, inputs, tlmInputs, lambda, needed).adjoints.map(negateRaw);
    } else {
      this.solver.linearization(u, inputs);
      // pbar = -B^T lambda: one adjoint sweep of the residual seeded with -lambda
      adjoints = this.solver.residual.adjoint(negateRaw(lambda) as NDArray, [false, ...needed]);
    }
    return inputs.map((_, d) => (needed[d] ? adjoints[d + 1] : undefined));
  }

  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const u = outputs[0] as NDArray;
    const ubar = adjInputs[0] as NDArray | undefined;
    const uhat = hessianInputs[0] as NDArray | undefined;
    const lambda = ubar === undefined ? undefined : this.adjoint(u, inputs, ubar);
    // second-order terms of <lambda, F> along (udot, pdot): Hu = G_uu udot + G_up pdot, Hp = G_pu udot + G_pp pdot
    let second: unknown[] | undefined;
    if (lambda !== undefined && tlmInputs.some((t) => t !== undefined)) {
      second = this.secondOrder(u, inputs, tlmInputs, lambda, needed).second;
    }
    const system = this.solver.linearization(u, inputs);
    // A^T lambdahat = uhat - Hu
    let rhs: Float64Array | undefined = uhat?.data.slice();
    const Hu = second?.[0] as NDArray | undefined;
    if (Hu !== undefined) {
      if (rhs === undefined) rhs = new Float64Array(u.size);
      const h = Hu.data;
      for (let i = 0; i < rhs.length; i++) rhs[i] -= h[i];
    }
    // phat = -B^T lambdahat - Hp
    let firstOrder: unknown[] | undefined;
    if (rhs !== undefined) {
      const lambdahat = system.solveTranspose(rhs);
      for (let i = 0; i < lambdahat.length; i++) lambdahat[i] = -lambdahat[i];
      firstOrder = this.solver.residual.adjoint(new NDArray(lambdahat, u.shape), [false, ...needed]);
    }
    return inputs.map((_, d) => {
      if (!needed[d]) return undefined;
      return addRaw(firstOrder?.[d + 1], negateRaw(second?.[d + 1]));
    });
  }
}

/**
 * Solves F(u, ...params) = 0 for u by Newton's method with a backtracking line search on ||F||, and records
 * ONE block whose derivatives use the implicit-function theorem: the gradient costs one transposed linear
 * solve with the Jacobian at the solution plus one adjoint sweep of the residual, whatever the number of
 * Newton iterations. `residual(u, ...params)` is written with tsadjoint operations (tsadjoint/numpy, matvec,
 * sparse assembly) and returns an NDArray shaped like u; it is recorded once on a private tape, and the
 * Jacobian dF/du comes from that tape (sparse by column coloring with `options.jacobianSparsity`, dense
 * otherwise), or from `options.jacobian`. Params may be AdjFloats, NDArrays, SparseMatrices (differentiable)
 * or numbers (constants); recorded values the residual reads from outside are tracked as dependencies too.
 * The residual must not branch on the values (its tape is replayed). The initial guess is not differentiated.
 * Throws NewtonDivergenceError (with the residual history) when Newton fails, SingularSystemError when the
 * Jacobian is singular.
 *
 * @example
 * const u = nonlinearSolve((u, a) => np.subtract(np.multiply(u, u), a), np.array([1, 1]), [a]); // sqrt(a)
 * const g = computeGradient(np.sum(u), new Control(a));
 */
export function nonlinearSolve<P extends readonly SolveParameter[]>(
  residual: (u: NDArray, ...params: P) => NDArray,
  u0: NDArray | ArrayInput,
  params: P = [] as unknown as P,
  options: NonlinearSolveOptions<P> = {},
): NDArray {
  const operation = "nonlinearSolve";
  if (typeof residual !== "function") {
    throw new InvalidArgumentError(operation, "the residual must be a function (u, ...params) => NDArray");
  }
  checkNonlinearSolveOptions(options as NonlinearSolveOptions, operation);
  const outerTape = checkTape(options.tape, operation);
  if (!Array.isArray(params)) {
    throw new InvalidArgumentError(
      operation,
      `params must be an array of the residual's extra arguments (AdjFloats, NDArrays, SparseMatrices, numbers), got ${describeType(params)}`,
    );
  }
  const initialGuess = asArray(u0, operation);
  const tape = new ResidualTape(residual as unknown as ResidualFunction, initialGuess, params, operation);
  const solver = new NewtonSolver(tape, options as NonlinearSolveOptions);
  const solution = solver.solve(tape.initialU, tape.initialInputs);
  // the solution is a fresh array unless u0 already solved the problem (then it is the residual tape's own u)
  const result = solution === tape.initialU ? new NDArray(solution.data, solution.shape) : solution;
  if (annotating()) {
    const output = new BlockVariable(result);
    recordBlock(new NonlinearSolveBlock(solver, initialGuess, tape.outerDependencies.slice(), [output]), {
      tape: outerTape,
    });
    result._blockVariable = output;
  }
  return result;
}
