/**
 * @file ReducedFunction: recorded outputs of any shapes seen as a function of the controls, F(m). Replays
 * the tape; gives Jacobian actions (forward and reverse), dense Jacobian blocks and second-order adjoints.
 */
import { InvalidArgumentError } from "../errors.js";
import { checkOptions } from "../options.js";
import {
  adjointSweep,
  checkFiniteInputs,
  checkFiniteResults,
  findPath,
  hessianSweep,
  replay,
  type SweepPath,
  tlmSweep,
} from "../tape/sweeps.js";
import { currentMarkEpoch, getWorkingTape, type Tape } from "../tape/tape.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { wrapRaw } from "../values/space.js";
import { checkTape, perSlotValues } from "./arguments.js";
import {
  type ControlInputs,
  type ControlList,
  type Controls,
  type ControlValueList,
  collectSlot,
  controlList,
  controlValueList,
  directionList,
  type PerControl,
  perControl,
} from "./drivers.js";
import {
  collectTlm,
  type JacobianBlocks,
  type JacobianMatrixOptions,
  jacobianMatrixOnPath,
  type OutputSeeds,
  type Outputs,
  outputList,
  type PerOutput,
  perOutput,
  shapeBlocks,
} from "./jacobian.js";

/** Options of `new ReducedFunction`. */
export interface ReducedFunctionOptions {
  /** The tape the outputs were recorded on (default: the working tape at construction). */
  tape?: Tape;
}

/**
 * Recorded outputs F (one overloaded value or an array, any shapes) as a function of the controls m.
 * `evaluate(m)` replays the tape at new control values without recording; the derivatives work at the
 * values the tape holds (after `evaluate(m)`, at m). A single control takes and gives single values, an
 * array of controls arrays; likewise for the outputs. No call leaves state that changes the next one.
 *
 * @example
 * const x = np.array([0.5, 1.5]);
 * const F = [np.sin(x), np.multiply(x, x)];
 * const rf = new ReducedFunction(F, new Control(x));
 * rf.jacAction(np.array([1, 0])); // [cos(x) e0, 2 x e0]
 * rf.adjJacAction([np.array([1, 1]), np.array([0, 1])]); // cos(x) + [0, 2 x1]
 * rf.jacMatrix(); // [diag(cos x), diag(2 x)]
 */
export class ReducedFunction<const O extends Outputs = Outputs, const C extends Controls = Controls> {
  /** The recorded outputs, always as a list. */
  readonly outputs: readonly OverloadedValue[];
  /** The controls, always as a list (typed like the constructor's argument; `[control]` for one). */
  readonly controls: ControlList<C>;
  /** The tape the outputs live on. */
  readonly tape: Tape;
  private readonly outputsArgument: O;
  private readonly controlsArgument: C;
  private cachedPath: { version: number; epoch: number; path: SweepPath } | undefined = undefined;

  constructor(outputs: O, controls: C, options: ReducedFunctionOptions = {}) {
    const operation = "new ReducedFunction";
    checkOptions(operation, options, ["tape"]);
    this.outputs = outputList(outputs, operation);
    this.outputsArgument = outputs;
    this.controls = controlList(controls, operation);
    if (this.controls.length === 0) throw new InvalidArgumentError(operation, "give at least one control");
    this.controlsArgument = controls;
    this.tape = checkTape(options.tape, operation) ?? getWorkingTape();
    // Fail early when a control or an output is not on the tape.
    this.path(operation);
  }

  /** The walk between the controls and the outputs, reused while the tape and every mark are unchanged. */
  private path(operation: string): SweepPath {
    const cached = this.cachedPath;
    if (cached !== undefined && cached.version === this.tape.version && cached.epoch === currentMarkEpoch()) {
      return cached.path;
    }
    const path = findPath(
      this.tape,
      this.controls.map((c) => c.blockVariable),
      this.outputs.map((o) => o.blockVariable),
      operation,
    );
    this.cachedPath = { version: this.tape.version, epoch: currentMarkEpoch(), path };
    return path;
  }

  /**
   * The values the tape holds for the controls now, always as a list (typed like the controls).
   *
   * @example
   * const [m] = rf.controlValues(); // NDArray for an NDArray control
   */
  controlValues(): ControlValueList<C> {
    return controlValueList(this.controls);
  }

  /**
   * The values the tape holds for the outputs now: one value, or an array like the constructor got.
   *
   * @example
   * rf.outputValues();
   */
  outputValues(): PerOutput<O> {
    return perOutput(
      this.outputsArgument,
      this.outputs.map((o) => wrapRaw(o.blockVariable.saved, "ReducedFunction.outputValues")),
    );
  }

  /**
   * F at new control values (one per control; a single value for a single control), by replaying the
   * blocks between the controls and the outputs. Nothing is recorded; the tape keeps the new values.
   * Returns the outputs' new values: one value, or an array like the constructor got.
   *
   * @example
   * rf.evaluate(np.array([0.1, 0.2]));
   * rf.evaluate([x0, p0]); // two controls
   */
  evaluate(inputs: ControlInputs<C>): PerOutput<O> {
    const operation = "ReducedFunction.evaluate";
    const raws = this.controlRaws(inputs, operation);
    replay(this.path(operation), raws);
    return this.outputValues();
  }

  /**
   * The new control values as raw values; plain data and the list / single-value reading as in
   * `ReducedFunctional.evaluate` (resolved by the controls' shapes).
   */
  private controlRaws(values: unknown, operation: string): unknown[] {
    return perSlotValues(
      this.controls.map((c) => c.blockVariable.saved),
      values,
      operation,
      "control",
      "value",
    );
  }

  /**
   * The raw adjoint seeds, one per output (`undefined` entries mean zero), checked against the outputs. A
   * number is accepted for a scalar output (an AdjFloat or a 0-d NDArray), a nested array or Float64Array
   * for an NDArray output.
   */
  private outputSeeds(seeds: unknown, operation: string): unknown[] {
    return perSlotValues(
      this.outputs.map((o) => o.blockVariable.saved),
      seeds,
      operation,
      "output",
      "adjoint seed",
      true,
    );
  }

  /**
   * Jacobian action J mDot (one direction per control): the tangent-linear value of each output, by one
   * forward sweep. One value per output (a single value for a single output).
   *
   * @example
   * rf.jacAction(np.array([1, 0]));
   */
  jacAction(mDot: ControlInputs<C>): PerOutput<O> {
    const operation = "ReducedFunction.jacAction";
    const seeds = directionList(this.controls, mDot, operation);
    const path = this.path(operation);
    checkFiniteInputs(path, operation);
    tlmSweep(path, seeds);
    const results = collectTlm(path);
    checkFiniteResults(path, results, "tlm", operation);
    return perOutput(
      this.outputsArgument,
      results.map((raw) => wrapRaw(raw, operation)),
    );
  }

  /**
   * Adjoint Jacobian action J^T w (one seed per output, shaped like the output; an `undefined` entry is a
   * zero seed), by one reverse sweep. One value per control (a single value for a single control).
   *
   * @example
   * rf.adjJacAction([np.ones([2]), undefined]);
   */
  adjJacAction(adjInputs: OutputSeeds<O>): PerControl<C> {
    const operation = "ReducedFunction.adjJacAction";
    const seeds = this.outputSeeds(adjInputs, operation);
    const path = this.path(operation);
    checkFiniteInputs(path, operation);
    adjointSweep(path, seeds);
    const results = collectSlot(path, "adj");
    checkFiniteResults(path, results, "adj", operation);
    return perControl(
      this.controlsArgument,
      results.map((raw) => wrapRaw(raw, operation)),
    );
  }

  /**
   * Second-order adjoint: the Hessian of m -> <adjInput, F(m)> applied to mDot, i.e.
   * sum_i (d^2 <adjInput_i, F_i> / dm^2) mDot, by one forward tangent-linear sweep and one reverse
   * second-order sweep. `mDot` has one direction per control, `adjInput` one seed per output. One value
   * per control.
   *
   * @example
   * rf.hessAction(np.array([1, 0]), [np.ones([2]), np.ones([2])]);
   */
  hessAction(mDot: ControlInputs<C>, adjInput: OutputSeeds<O>): PerControl<C> {
    const operation = "ReducedFunction.hessAction";
    const directions = directionList(this.controls, mDot, operation);
    const seeds = this.outputSeeds(adjInput, operation);
    const path = this.path(operation);
    checkFiniteInputs(path, operation);
    tlmSweep(path, directions, { forSecondOrder: true });
    hessianSweep(path, seeds, { controlAdjoints: false });
    const results = collectSlot(path, "hessian");
    checkFiniteResults(path, results, "hessian", operation);
    return perControl(
      this.controlsArgument,
      results.map((raw) => wrapRaw(raw, operation)),
    );
  }

  /**
   * The Jacobian blocks dF_i/dm_j as NDArrays of shape `[...outputShape, ...controlShape]` (an AdjFloat
   * has shape `[]`), indexed [output][control] and collapsed where the constructor got a single value.
   *
   * Per-point stacks: a block is returned as a stack of shape
   * `[n, ...outputShape.slice(1), ...controlShape.slice(1)]` (one rank less than the dense block) exactly
   * when the output is a per-point output (spec starting with -1) of a `pointMap` call and every argument
   * of that call that depends on the control is a per-point argument that is either the control itself or
   * itself such a stack (a chain of pointMap calls). `{ pointwise: false }` always gives dense blocks.
   *
   * @example
   * rf.jacMatrix(); // NDArray for one output and one control
   */
  jacMatrix(options: JacobianMatrixOptions = {}): JacobianBlocks<O, C> {
    const operation = "ReducedFunction.jacMatrix";
    checkOptions(operation, options, ["pointwise"]);
    const path = this.path(operation);
    checkFiniteInputs(path, operation);
    return shapeBlocks(this.outputsArgument, this.controlsArgument, jacobianMatrixOnPath(path, options));
  }
}
