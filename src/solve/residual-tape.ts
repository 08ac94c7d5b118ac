/**
 * @file The residual F(u, p) recorded once on a private tape: replayed at new (u, p), swept for Jacobian-vector
 * products (compressed by column coloring for sparse Jacobians), adjoints and second-order adjoints.
 */
import { InvalidArgumentError, ShapeMismatchError, TsadjointError } from "../errors.js";
import { annotating, continueAnnotation, pauseAnnotation, stopAnnotating } from "../tape/annotation.js";
import { BlockVariable } from "../tape/block-variable.js";
import { adjointSweep, hessianSweep, replay, type SweepPath, tlmSweep } from "../tape/sweeps.js";
import { Tape, walkBetween, withTape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import { NDArray } from "../values/ndarray.js";
import { OverloadedValue } from "../values/overloaded.js";
import { describeType, specOfRaw, wrapRaw } from "../values/space.js";
import { type ColumnColoring, colorColumns, colorSeeds, recoverJacobian } from "./coloring.js";
import { CsrMatrix } from "./sparse/csr.js";
import { SparseMatrix } from "./sparse-matrix.js";
import { findStackPlan, StackAssembler } from "./stack-jacobian.js";
import { sameKey } from "./util.js";

/** A parameter of a residual: a constant number, or an overloaded value (AdjFloat, NDArray, SparseMatrix, ...). */
export type SolveParameter = number | OverloadedValue;

/** @internal a residual as the private tape calls it */
export type ResidualFunction<P extends readonly SolveParameter[] = readonly SolveParameter[]> = (
  u: NDArray,
  ...parameters: P
) => unknown;

/**
 * The parameters (none when `undefined`) with each one replaced by `replace(parameter, index)`, which must give
 * a value of the parameter's own kind (a number for a number, an overloaded value of the same class for an
 * overloaded one). The overload states what the implementation keeps but cannot show the compiler (`map` gives
 * an array, not P's tuple; no parameters are given only when the residual takes none): it is the one unchecked
 * conversion between the caller's parameter types and the values the private tape builds (its stand-ins, and
 * the values a `jacobian` callback receives).
 */
function mapParameters<P extends readonly SolveParameter[]>(
  parameters: P | undefined,
  replace: (parameter: SolveParameter, index: number) => SolveParameter,
): P;
function mapParameters(
  parameters: readonly SolveParameter[] | undefined,
  replace: (parameter: SolveParameter, index: number) => SolveParameter,
): readonly SolveParameter[] {
  return (parameters ?? []).map(replace);
}

/**
 * @internal an NDArray or `undefined` held by a tape slot of an NDArray value (the residual F, its tangent);
 * anything else is an internal error naming `operation`
 *
 * @example
 * arraySlot(output.tlm, "nonlinearSolve"); // NDArray | undefined
 */
export function arraySlot(value: unknown, operation: string): NDArray | undefined {
  if (value === undefined || value instanceof NDArray) return value;
  throw new TsadjointError(operation, `internal error: expected an NDArray, got ${describeType(value)}`);
}

/** A fresh overloaded value holding `raw`, with its own (private) block variable. */
function freshValue(raw: unknown): OverloadedValue {
  if (typeof raw === "number") return new AdjFloat(raw);
  if (raw instanceof NDArray) return new NDArray(raw.data, raw.shape);
  if (raw instanceof SparseMatrix) return new SparseMatrix(raw.csr);
  const spec = specOfRaw(raw, "nonlinearSolve");
  return spec.wrap(spec.space.copy(raw));
}

/** Runs `fn` with annotation on, whatever the caller's annotation state. */
function withAnnotation<T>(fn: () => T): T {
  let resumed = 0;
  while (!annotating()) {
    continueAnnotation();
    resumed++;
  }
  try {
    return fn();
  } finally {
    for (let i = 0; i < resumed; i++) pauseAnnotation();
  }
}

/** The controls of a residual's private tape and, for all but u, the caller's variables and values they stand for. */
interface Captured {
  /** u, then one per overloaded parameter, then one per value read from outside. */
  readonly controls: BlockVariable[];
  /** The caller's variable of each control after u. */
  readonly outer: BlockVariable[];
  /** The value of each control after u when the residual was recorded. */
  readonly initialInputs: unknown[];
}

/** Throws unless the residual returned an NDArray shaped like u0. */
function checkResidualValue(F: unknown, u0: NDArray, operation: string): asserts F is NDArray {
  if (!(F instanceof NDArray)) {
    throw new InvalidArgumentError(
      operation,
      `the residual returned ${describeType(F)}; it must return an NDArray F(u, ...params) shaped like u`,
    );
  }
  if (F.size !== u0.size || F.shape.length !== u0.shape.length || F.shape.some((s, i) => s !== u0.shape[i])) {
    throw new ShapeMismatchError(
      operation,
      [u0.shape, F.shape],
      "the residual F(u, ...params) must have u's shape",
    );
  }
}

/**
 * Values the residual read from outside (variables neither produced on `tape` nor among the controls) become
 * controls with private stand-ins: each dependency on one is replaced by its stand-in, and the stand-in is
 * appended to `captured`. Returns the stand-in of each outside variable.
 */
function captureOuterValues(
  tape: Tape,
  produced: ReadonlySet<BlockVariable>,
  captured: Captured,
): Map<BlockVariable, BlockVariable> {
  const known = new Set<BlockVariable>(captured.controls);
  const standIns = new Map<BlockVariable, BlockVariable>();
  for (const block of tape.blocks) {
    const dependencies = block.dependencies;
    for (let i = 0; i < dependencies.length; i++) {
      const dependency = dependencies[i];
      if (produced.has(dependency) || known.has(dependency)) continue;
      let standIn = standIns.get(dependency);
      if (standIn === undefined) {
        standIn = new BlockVariable(dependency.saved);
        standIns.set(dependency, standIn);
        captured.controls.push(standIn);
        captured.outer.push(dependency);
        captured.initialInputs.push(dependency.saved);
      }
      block.replaceDependency(i, standIn);
    }
  }
  return standIns;
}

/**
 * @internal The residual recorded on a private tape. Controls of the private tape: u, then one per overloaded
 * parameter, then one per recorded value the residual read from outside (a closure); those outside values are
 * replaced on the private tape by private stand-ins so that private sweeps never touch the caller's tape.
 *
 * @example
 * const residual = new ResidualTape((u, p) => np.subtract(np.square(u), p), u0, [p], "nonlinearSolve");
 * residual.evaluate(u, [p.raw()]);
 */
export class ResidualTape<P extends readonly SolveParameter[] = readonly SolveParameter[]> {
  readonly tape = new Tape();
  /** Shape of u (and of F). */
  readonly shape: readonly number[];
  /** Number of unknowns. */
  readonly size: number;
  /** For each parameter slot: the index of its control (>= 1), or -1 for a constant number. */
  readonly parameterControl: readonly number[];
  /** The caller's block variables the solve depends on: the overloaded parameters, then the captured values. */
  readonly outerDependencies: readonly BlockVariable[];
  /** The parameters as given (numbers stay numbers). */
  readonly parameters: P;
  /** Every block that depends on a control: what a replay recomputes. */
  private readonly replayPath: SweepPath;
  /** The controls of the private tape (u, parameters, captured values). */
  private readonly controls: readonly BlockVariable[];
  /** The path of the last derivative sweep and which controls it was walked for. */
  private sweepPath: SweepPath | undefined = undefined;
  private sweepActive = "";
  private readonly output: BlockVariable;
  private stateKey: unknown[] | undefined = undefined;
  /** The u the residual was recorded at (the tape holds it until the first replay). */
  readonly initialU: NDArray;
  /** The dependency values the residual was recorded at (parameters' values, then captured values). */
  readonly initialInputs: readonly unknown[];
  /** The two value arrays `sparseJacobian` alternates between, for the pattern it was last called with. */
  private readonly jacobianBuffers: {
    pattern: CsrMatrix | undefined;
    values: readonly Float64Array[];
    next: number;
  } = { pattern: undefined, values: [], next: 0 };
  /** The stack assembly of dF/du: not yet looked for (undefined), not possible (null), or found. */
  private stackAssembler: StackAssembler | null | undefined = undefined;
  /** Residual evaluations (replays) so far. */
  evaluations = 0;
  /** Tangent-linear sweeps so far. */
  tangentSweeps = 0;

  constructor(
    residual: ResidualFunction<P>,
    u0: NDArray,
    /** The residual's parameters; `undefined` when it takes none. */
    parameters: P | undefined,
    readonly operation: string,
  ) {
    this.shape = u0.shape;
    this.size = u0.size;
    this.parameters = mapParameters(parameters, (parameter) => parameter);
    const u = new NDArray(u0.data, u0.shape);
    const captured: Captured = { controls: [u.blockVariable], outer: [], initialInputs: [] };
    const parameterControl: number[] = [];
    const privateParameters = mapParameters(parameters, (parameter, index) => {
      if (typeof parameter === "number") {
        parameterControl.push(-1);
        return parameter;
      }
      if (!(parameter instanceof OverloadedValue)) {
        throw new InvalidArgumentError(
          operation,
          `parameter ${index} is ${describeType(parameter)}; give numbers, AdjFloats, NDArrays or SparseMatrices`,
        );
      }
      const fresh = freshValue(parameter.raw());
      parameterControl.push(captured.controls.length);
      captured.controls.push(fresh.blockVariable);
      captured.outer.push(parameter.blockVariable);
      captured.initialInputs.push(parameter.raw());
      return fresh;
    });
    this.parameterControl = parameterControl;
    const F = withAnnotation(() => withTape(this.tape, () => residual(u, ...privateParameters)));
    checkResidualValue(F, u0, operation);
    const produced = new Set<BlockVariable>();
    for (const block of this.tape.blocks) for (const output of block.outputs) produced.add(output);
    const standIns = captureOuterValues(this.tape, produced, captured);
    const { controls, outer, initialInputs } = captured;
    let output = F.blockVariable;
    output = standIns.get(output) ?? output;
    if (!produced.has(output) && !controls.includes(output)) {
      throw new InvalidArgumentError(
        operation,
        "the residual is not computed from u: build F from u and the parameters with tsadjoint operations",
      );
    }
    this.output = output;
    this.outerDependencies = outer;
    this.controls = controls;
    const { blocks, forwardEpoch } = walkBetween(this.tape.blocks, controls, [output]);
    this.replayPath = { blocks, forwardEpoch, controls, outputs: [output], controlWriters: undefined };
    this.initialU = u;
    this.initialInputs = initialInputs;
    this.stateKey = [u, ...this.initialInputs];
  }

  /** Number of controls (u, parameters, captured values). */
  get controlCount(): number {
    return this.controls.length;
  }

  /** The parameter values a user callback sees for the given dependency values. */
  parameterValues(inputs: readonly unknown[]): P {
    return mapParameters(this.parameters, (parameter, index) => {
      const control = this.parameterControl[index];
      return control < 0 ? parameter : wrapRaw(inputs[control - 1]);
    });
  }

  /** F(u, inputs) by replaying the private tape (nothing is replayed when the tape already holds this point). */
  evaluate(u: NDArray, inputs: readonly unknown[]): NDArray {
    const key = [u, ...inputs];
    if (this.stateKey === undefined || !sameKey(this.stateKey, key)) {
      this.stateKey = undefined;
      this.evaluations++;
      replay(this.replayPath, key);
      this.stateKey = key;
    }
    const F = arraySlot(this.output.saved, this.operation);
    if (F === undefined)
      throw new TsadjointError(this.operation, "internal error: the residual's value is missing");
    return F;
  }

  /**
   * The sweep path through the blocks that depend on the active controls only, so that sweeps skip the rest and
   * blocks compute no derivatives for inactive inputs (constant matrices, parameters not asked for). All controls
   * stay on the path (seeds line up); the inactive ones are simply not marked. One walk per change of the set.
   */
  private pathFor(active: readonly boolean[]): SweepPath {
    const signature = active.map((a) => (a ? "1" : "0")).join("");
    if (this.sweepPath !== undefined && signature === this.sweepActive) return this.sweepPath;
    const chosen = this.controls.filter((_, i) => active[i]);
    const { blocks, forwardEpoch } = walkBetween(this.replayPath.blocks, chosen, [this.output]);
    this.sweepPath = {
      blocks,
      forwardEpoch,
      controls: this.controls,
      outputs: [this.output],
      controlWriters: undefined,
    };
    this.sweepActive = signature;
    return this.sweepPath;
  }

  /** dF along the control tangents (one per control; `undefined` is zero), at the point the tape holds. */
  tangent(seeds: readonly unknown[]): NDArray | undefined {
    this.tangentSweeps++;
    tlmSweep(this.pathFor(seeds.map((seed) => seed !== undefined)), seeds);
    return arraySlot(this.output.tlm, this.operation);
  }

  /** (dF/dc)^T seed for the controls c marked in `wanted` (`undefined` for the others), at the point the tape holds. */
  adjoint(seed: NDArray, wanted: readonly boolean[]): unknown[] {
    const path = this.pathFor(wanted);
    adjointSweep(path, [seed]);
    return this.controls.map((c, i) => (wanted[i] ? c.adj : undefined));
  }

  /**
   * For the controls c marked in `wanted`, at the point the tape holds: the first-order adjoint (dF/dc)^T lambda
   * and the second-order term of <lambda, F> along the control tangents, d/dc ((dF/dc)^T lambda) applied to the
   * tangents. One tangent sweep and one second-order sweep.
   */
  secondOrder(
    tangents: readonly unknown[],
    lambda: NDArray,
    wanted: readonly boolean[],
  ): { adjoints: unknown[]; second: unknown[] } {
    const path = this.pathFor(tangents.map((tangent, i) => tangent !== undefined || wanted[i]));
    tlmSweep(path, tangents);
    hessianSweep(path, [lambda]);
    return {
      adjoints: this.controls.map((c, i) => (wanted[i] ? c.adj : undefined)),
      second: this.controls.map((c, i) => (wanted[i] ? c.hessian : undefined)),
    };
  }

  /**
   * The Jacobian dF/du on a sparsity pattern, by one tangent sweep per color, at the point the tape holds.
   * Its values alternate between two arrays kept for the pattern: a Jacobian stays valid until the next
   * call but one, long enough for a solver's cache to compare it with the next (Newton refactors each step).
   */
  sparseJacobian(pattern: CsrMatrix, coloring: ColumnColoring, seeds: readonly NDArray[]): CsrMatrix {
    const rest = new Array<unknown>(this.controlCount - 1).fill(undefined);
    const products = seeds.map((seed) => {
      const product = this.tangent([seed, ...rest]);
      return product === undefined ? new Float64Array(this.size) : product.data;
    });
    const values = this.nextJacobianValues(pattern);
    this.jacobianBuffers.next = 1 - this.jacobianBuffers.next;
    return recoverJacobian(pattern, coloring, products, values);
  }

  /** The value array the next Jacobian on `pattern` goes to (the one the previous Jacobian does not hold). */
  private nextJacobianValues(pattern: CsrMatrix): Float64Array {
    const buffers = this.jacobianBuffers;
    if (buffers.pattern !== pattern) {
      buffers.pattern = pattern;
      buffers.values = [new Float64Array(pattern.nnz), new Float64Array(pattern.nnz)];
    }
    return buffers.values[1 - buffers.next];
  }

  /**
   * The Jacobian dF/du on a sparsity pattern assembled from per-point Jacobian stacks, at the point the tape
   * holds, when the residual is s * M_out q(M_in u + c) + c' with q a block propagating per-point Jacobians
   * (a pointMap) and M_in, M_out constant sparse matrices (see stack-jacobian.ts); `undefined` for any other
   * residual, or when the Jacobian reaches outside the pattern (the colored sweeps then build it). Values
   * alternate between the same two arrays as `sparseJacobian`'s.
   */
  stackJacobian(pattern: CsrMatrix): CsrMatrix | undefined {
    if (this.stackAssembler === undefined) {
      const path = this.pathFor(this.controls.map((_, i) => i === 0));
      const plan = findStackPlan(path.blocks, this.controls[0], this.output);
      this.stackAssembler = plan === undefined ? null : new StackAssembler(plan, this.size);
    }
    if (this.stackAssembler === null) return undefined;
    const values = this.nextJacobianValues(pattern);
    if (!this.stackAssembler.assemble(pattern, values)) return undefined;
    this.jacobianBuffers.next = 1 - this.jacobianBuffers.next;
    return new CsrMatrix(pattern.rows, pattern.cols, pattern.rowPtr, pattern.colIndex, values);
  }

  /** Jacobians assembled from per-point stacks so far. */
  get stackAssemblies(): number {
    return this.stackAssembler?.assemblies ?? 0;
  }

  /** The dense Jacobian dF/du ([n, n]) by one tangent sweep per column, at the point the tape holds. */
  denseJacobian(): NDArray {
    const n = this.size;
    const out = new Float64Array(n * n);
    const rest = new Array<unknown>(this.controlCount - 1).fill(undefined);
    const unit = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      unit.fill(0);
      unit[j] = 1;
      const product = this.tangent([new NDArray(unit.slice(), this.shape), ...rest]);
      if (product === undefined) continue;
      const column = product.data;
      for (let i = 0; i < n; i++) out[i * n + j] = column[i];
    }
    return new NDArray(out, [n, n]);
  }

  /** Prepares the coloring and seeds of a pattern for `sparseJacobian`. */
  compression(pattern: CsrMatrix): { coloring: ColumnColoring; seeds: NDArray[] } {
    const coloring = colorColumns(pattern);
    const seeds = colorSeeds(coloring).map((seed) => new NDArray(seed, this.shape));
    return { coloring, seeds };
  }

  /** Runs `fn` with annotation off (user callbacks). */
  quietly<T>(fn: () => T): T {
    return stopAnnotating(fn);
  }
}

/**
 * @internal a CsrMatrix from a sparsity option
 *
 * @example
 * patternOf(tridiagonalPattern(5)).nnz; // 13
 */
export function patternOf(value: CsrMatrix | SparseMatrix): CsrMatrix {
  return value instanceof SparseMatrix ? value.csr : value;
}
