/**
 * @file nonlinearSolve: F(u, p) = 0 by Newton's method (newton.ts), recorded as ONE block whose derivatives
 * come from the implicit-function theorem (never from the Newton iterations): one linear solve with the
 * Jacobian at the solution per tangent, adjoint or second-order adjoint.
 */
import { InvalidArgumentError } from "../errors.js";
import { checkNumber, checkOptions } from "../options.js";
import { checkTape } from "../reduced/arguments.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
  type Values,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { type FusedSecondOrder, fusedSecondOrder } from "../tape/capabilities.js";
import { record } from "../tape/record.js";
import { type ArrayInput, NDArray } from "../values/ndarray.js";
import { ndarraySpace } from "../values/ndarray-space.js";
import { addRaw, describeType } from "../values/space.js";
import { NewtonDivergenceError, SingularSystemError } from "./errors.js";
import { checkLinearSolverOptions } from "./linear-system.js";
import { NewtonSolver, type NonlinearSolveOptions } from "./newton.js";
import { arraySlot, ResidualTape, type SolveParameter } from "./residual-tape.js";
import type { OneArray } from "./sparse-matrix.js";
import { asArray } from "./sparse-ops.js";
import { negateRaw, sameKey } from "./util.js";

export type { JacobianSparsity, NewtonIterationInfo, NonlinearSolveOptions } from "./newton.js";

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
function checkNonlinearSolveOptions<P extends readonly SolveParameter[]>(
  options: NonlinearSolveOptions<P>,
  operation: string,
): void {
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
  /** Jacobians assembled from a per-point map's Jacobian stacks (no tangent sweep of the residual). */
  stackAssemblies: number;
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
export class NonlinearSolveBlock
  extends Block<Values, OneArray>
  implements FusedSecondOrder<Values, OneArray>
{
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
      stackAssemblies: this.solver.residual.stackAssemblies,
    };
  }

  /** Solves again at the new parameters, starting from the previous solution (then from u0 if that fails). */
  recompute({ inputs }: RecomputeContext<Values>): OneArray {
    const start = arraySlot(this.outputs[0]?.saved, this.name) ?? this.initialGuess;
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

  override evaluateTlm({ inputs, outputs: [u], tlmInputs }: TlmContext<Values, OneArray>): Seeds<OneArray> {
    return [this.tangent(u, inputs, tlmInputs)];
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

  override evaluateAdj({
    inputs,
    outputs: [u],
    adjInputs: [ubar],
    needed,
  }: AdjContext<Values, OneArray>): Seeds<Values> {
    if (ubar === undefined) return inputs.map(() => undefined);
    const lambda = this.adjoint(u, inputs, ubar);
    this.solver.linearization(u, inputs);
    // pbar = -B^T lambda: one adjoint sweep of the residual seeded with -lambda
    const adjoints = this.solver.residual.adjoint(ndarraySpace.scale(lambda, -1), [false, ...needed]);
    return inputs.map((_, d) => (needed[d] ? adjoints[d + 1] : undefined));
  }

  /** Declares the FusedSecondOrder capability: the Hessian sweep's second-order pass also gives B^T lambda. */
  get [fusedSecondOrder](): true {
    return true;
  }

  /**
   * The adjoint and the second-order adjoint of one Hessian sweep: the second-order sweep of the residual
   * the Hessian needs also gives B^T lambda, so the plain adjoint sweep of the residual is skipped.
   */
  evaluateAdjAndHessian(context: HessianContext<Values, OneArray>): readonly [Seeds<Values>, Seeds<Values>] {
    const {
      inputs,
      outputs: [u],
      adjInputs: [ubar],
      tlmInputs,
      needed,
    } = context;
    if (ubar === undefined || !tlmInputs.some((t) => t !== undefined)) {
      return [this.evaluateAdj(context), this.evaluateHessian(context)];
    }
    const lambda = this.adjoint(u, inputs, ubar);
    const adjoints = this.secondOrder(u, inputs, tlmInputs, lambda, needed).adjoints.map(negateRaw);
    return [inputs.map((_, d) => (needed[d] ? adjoints[d + 1] : undefined)), this.evaluateHessian(context)];
  }

  override evaluateHessian({
    inputs,
    outputs: [u],
    adjInputs: [ubar],
    hessianInputs: [uhat],
    tlmInputs,
    needed,
  }: HessianContext<Values, OneArray>): Seeds<Values> {
    const lambda = ubar === undefined ? undefined : this.adjoint(u, inputs, ubar);
    // second-order terms of <lambda, F> along (udot, pdot): Hu = G_uu udot + G_up pdot, Hp = G_pu udot + G_pp pdot
    let second: unknown[] | undefined;
    if (lambda !== undefined && tlmInputs.some((t) => t !== undefined)) {
      second = this.secondOrder(u, inputs, tlmInputs, lambda, needed).second;
    }
    const system = this.solver.linearization(u, inputs);
    // A^T lambdahat = uhat - Hu
    let rhs: Float64Array | undefined = uhat?.data.slice();
    const Hu = arraySlot(second?.[0], this.name);
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
  params?: P,
  options: NonlinearSolveOptions<P> = {},
): NDArray {
  const operation = "nonlinearSolve";
  if (typeof residual !== "function") {
    throw new InvalidArgumentError(operation, "the residual must be a function (u, ...params) => NDArray");
  }
  checkNonlinearSolveOptions(options, operation);
  const outerTape = checkTape(options.tape, operation);
  const parameters: P | undefined = params; // (Array.isArray below would narrow params to any[])
  if (params !== undefined && !Array.isArray(params)) {
    throw new InvalidArgumentError(
      operation,
      `params must be an array of the residual's extra arguments (AdjFloats, NDArrays, SparseMatrices, numbers), got ${describeType(params)}`,
    );
  }
  const initialGuess = asArray(u0, operation);
  const tape = new ResidualTape(residual, initialGuess, parameters, operation);
  const jacobian = options.jacobian;
  const solver = new NewtonSolver(
    tape,
    options,
    jacobian === undefined ? undefined : (u, inputs) => jacobian(u, ...tape.parameterValues(inputs)),
  );
  const solution = solver.solve(tape.initialU, tape.initialInputs);
  // the solution is a fresh array unless u0 already solved the problem (then it is the residual tape's own u)
  const [result] = record(
    tape.outerDependencies,
    [solution === tape.initialU ? new NDArray(solution.data, solution.shape) : solution],
    (dependencies, outputs) => new NonlinearSolveBlock(solver, initialGuess, dependencies, outputs),
    outerTape,
  );
  return result;
}
