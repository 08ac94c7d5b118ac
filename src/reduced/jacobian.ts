/**
 * @file Jacobians of recorded values: the Jacobian-action driver and the dense Jacobian matrix, propagated
 * forward block by block from an identity marker at the control (per-point stacks for pointwise blocks).
 */
import { InvalidArgumentError } from "../errors.js";
import type { Block } from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { propagatesJacobians } from "../tape/capabilities.js";
import { DenseJacobian, IDENTITY, type JacobianValue } from "../tape/jacobian.js";
import type { TapeOption } from "../tape/tape.js";
import "../values/ndarray-space.js";
import { CheckpointError } from "../checkpoint/errors.js";
import { checkFiniteInputs, checkFiniteResults, findPath, type SweepPath, tlmSweep } from "../tape/sweeps.js";
import { NDArray, shapeSize } from "../values/ndarray.js";
import { isOverloaded, type OverloadedValue } from "../values/overloaded.js";
import { describeType, spaceOf, wrapRaw } from "../values/space.js";
import { checkControls } from "./arguments.js";
import type { Control } from "./control.js";
import {
  type ControlInputs,
  type Controls,
  directionList,
  driverTape,
  type ValueInput,
  type ValueType,
} from "./drivers.js";

/** The outputs of a reduced function: one recorded value or a list of them. */
export type Outputs = OverloadedValue | readonly OverloadedValue[];

/**
 * One value per output, typed by the outputs: a single value for a single output, a tuple for a tuple of
 * outputs (`[NDArray, AdjFloat]` outputs give `[NDArray, AdjFloat]` values and tangents).
 *
 * @example
 * const [dy, dz]: PerOutput<readonly [NDArray, AdjFloat]> = rf.jacAction(v);
 */
export type PerOutput<O extends Outputs> = O extends readonly OverloadedValue[]
  ? { -readonly [K in keyof O]: ValueType<O[K]> }
  : ValueType<O>;

/**
 * One adjoint seed per output, typed by the outputs (a number for an AdjFloat output, an array for an
 * NDArray output); in a list, `undefined` is a zero seed.
 *
 * @example
 * rf.adjJacAction([np.ones([2]), undefined]);
 */
export type OutputSeeds<O extends Outputs> = O extends readonly OverloadedValue[]
  ? { readonly [K in keyof O]: ValueInput<ValueType<O[K]>> | undefined }
  : ValueInput<ValueType<O>>;

/** One Jacobian block per control: an NDArray for a single control, a tuple of them for a tuple. */
/** One output's row of a Jacobian matrix: one block per control (a list for a list of controls). */
export type JacobianRow<C extends Controls> = C extends readonly Control[]
  ? { -readonly [K in keyof C]: NDArray }
  : NDArray;

/**
 * Jacobian blocks: indexed [output][control], collapsed where the argument was a single value; tuples
 * for tuples of outputs and controls.
 *
 * @example
 * const [[dyDp, dyDx]]: JacobianBlocks<readonly [NDArray], readonly [Control<NDArray>, Control<AdjFloat>]> = rf.jacMatrix();
 */
export type JacobianBlocks<O extends Outputs, C extends Controls> = O extends readonly OverloadedValue[]
  ? { -readonly [K in keyof O]: JacobianRow<C> }
  : JacobianRow<C>;

/** Options of `computeJacobianMatrix` and `ReducedFunction.jacMatrix`. */
export interface JacobianMatrixOptions {
  /**
   * Keep per-point stacks (default true): a block whose Jacobian reaches its output as a per-point stack
   * is returned with shape `[n, ...outShape.slice(1), ...controlShape.slice(1)]`. With `false` every block
   * is dense, `[...outShape, ...controlShape]`.
   */
  pointwise?: boolean;
}

/** @internal normalises an outputs argument, checking each entry */
export function outputList(outputs: Outputs, operation: string): readonly OverloadedValue[] {
  const list: readonly unknown[] = Array.isArray(outputs) ? outputs : [outputs];
  if (list.length === 0) throw new InvalidArgumentError(operation, "give at least one output");
  if (list.every(isOverloaded)) return list;
  const index = list.findIndex((value) => !isOverloaded(value));
  throw new InvalidArgumentError(
    operation,
    `output ${index} must be a recorded overloaded value (AdjFloat, NDArray, ...), got ${describeType(list[index])}`,
  );
}

/** @internal shapes a per-output result like the outputs argument */
export function perOutput<O extends Outputs>(outputs: O, values: readonly OverloadedValue[]): PerOutput<O> {
  // cast: one value per output, of its output's type; the list for a list of outputs, the one value for one
  // output: the branch PerOutput<O> takes, which Array.isArray on a generic O does not select
  return (Array.isArray(outputs) ? values : values[0]) as PerOutput<O>;
}

/** @internal the outputs' tangent-linear values after a tlmSweep, zeros where none arrived */
export function collectTlm(path: SweepPath): unknown[] {
  return path.outputs.map((output) => output.tlm ?? spaceOf(output.saved).zerosLike(output.saved));
}

/** @internal reshapes [output][control] Jacobian blocks like the arguments */
export function shapeBlocks<O extends Outputs, C extends Controls>(
  outputs: O,
  controls: C,
  blocks: NDArray[][],
): JacobianBlocks<O, C> {
  const manyControls = Array.isArray(controls);
  const rows = blocks.map((row) => (manyControls ? row : row[0]));
  // cast: rows [output][control] collapsed where the arguments were single values, the branches
  // JacobianBlocks<O, C> and JacobianRow<C> take, which Array.isArray on generic O and C does not select
  return (Array.isArray(outputs) ? rows : rows[0]) as JacobianBlocks<O, C>;
}

function shapeOfRaw(raw: unknown): readonly number[] {
  return typeof raw === "number" ? [] : spaceOf(raw).shape(raw);
}

function sizeOfRaw(raw: unknown): number {
  return typeof raw === "number" ? 1 : spaceOf(raw).size(raw);
}

/** The entries of a raw value, flattened (no copy for an NDArray). */
function flatOf(raw: unknown): Float64Array {
  if (typeof raw === "number") return Float64Array.of(raw);
  if (raw instanceof NDArray) return raw.data;
  return spaceOf(raw).toFloat64Array(raw);
}

/** A raw value of the type and shape of `like` holding `data`. */
function rawLike(like: unknown, data: Float64Array): unknown {
  if (typeof like === "number") return data[0];
  if (like instanceof NDArray) return new NDArray(data, like.shape);
  return spaceOf(like).fromFloat64Array(like, data);
}

/**
 * Column `q` of a dependency's Jacobian (d dependency / d control[q]) as a raw value shaped like the
 * dependency, or `undefined` when the column is zero.
 */
function jacobianColumn(jacobian: JacobianValue, q: number, dependency: unknown): unknown {
  if (jacobian === undefined) return undefined;
  const size = sizeOfRaw(dependency);
  const column = new Float64Array(size);
  if (jacobian === IDENTITY) {
    column[q] = 1;
    return rawLike(dependency, column);
  }
  let nonzero = false;
  if (jacobian instanceof DenseJacobian) {
    const data = jacobian.matrix.data;
    const columns = shapeSize(jacobian.controlShape);
    for (let r = 0; r < size; r++) {
      const v = data[r * columns + q];
      column[r] = v;
      if (v !== 0) nonzero = true;
    }
  } else {
    const valuePoint = shapeSize(jacobian.valuePointShape);
    const controlPoint = shapeSize(jacobian.controlPointShape);
    const point = Math.floor(q / controlPoint);
    const component = q - point * controlPoint;
    const data = jacobian.stack.data;
    const base = point * valuePoint;
    for (let a = 0; a < valuePoint; a++) {
      const v = data[(base + a) * controlPoint + component];
      column[base + a] = v;
      if (v !== 0) nonzero = true;
    }
  }
  return nonzero ? rawLike(dependency, column) : undefined;
}

/**
 * The driver's fallback for a block without `evaluateJacobian` (or one that declines): one `evaluateTlm`
 * per control component q, seeded with column q of each dependency's Jacobian; a column that is zero for
 * every dependency is skipped.
 */
function jacobianByColumns(
  block: Block,
  inputs: readonly unknown[],
  outputs: readonly unknown[],
  jacobianInputs: readonly JacobianValue[],
  control: unknown,
): JacobianValue[] {
  const controlShape = shapeOfRaw(control);
  const columns = shapeSize(controlShape);
  const dependencies = block.dependencies;
  const matrices: (Float64Array | undefined)[] = outputs.map(() => undefined);
  const tlmInputs = new Array<unknown>(dependencies.length);
  for (let q = 0; q < columns; q++) {
    let any = false;
    for (let i = 0; i < dependencies.length; i++) {
      tlmInputs[i] = jacobianColumn(jacobianInputs[i], q, inputs[i]);
      if (tlmInputs[i] !== undefined) any = true;
    }
    if (!any) continue;
    const results = block.evaluateTlm({ inputs, outputs, tlmInputs: tlmInputs.slice() });
    for (let o = 0; o < outputs.length; o++) {
      const result = results[o];
      if (result === undefined) continue;
      const flat = flatOf(result);
      let matrix = matrices[o];
      if (matrix === undefined) {
        matrix = new Float64Array(flat.length * columns);
        matrices[o] = matrix;
      }
      for (let r = 0; r < flat.length; r++) matrix[r * columns + q] = flat[r];
    }
  }
  return outputs.map((output, o) => {
    const matrix = matrices[o];
    if (matrix === undefined) return undefined;
    const valueShape = shapeOfRaw(output);
    return new DenseJacobian(new NDArray(matrix, [...valueShape, ...controlShape]), valueShape, controlShape);
  });
}

/** The Jacobian value as an NDArray block: identity, zeros, the dense matrix, or the stack. */
function jacobianArray(
  jacobian: JacobianValue,
  value: unknown,
  control: unknown,
  keepPointwise: boolean,
): NDArray {
  const valueShape = shapeOfRaw(value);
  const controlShape = shapeOfRaw(control);
  const rows = shapeSize(valueShape);
  const columns = shapeSize(controlShape);
  const shape = [...valueShape, ...controlShape];
  if (jacobian === undefined) return new NDArray(new Float64Array(rows * columns), shape);
  if (jacobian === IDENTITY) {
    const data = new Float64Array(columns * columns);
    for (let i = 0; i < columns; i++) data[i * columns + i] = 1;
    return new NDArray(data, shape);
  }
  if (jacobian instanceof DenseJacobian) return jacobian.matrix;
  if (keepPointwise) return jacobian.stack;
  const data = new Float64Array(rows * columns);
  const valuePoint = shapeSize(jacobian.valuePointShape);
  const controlPoint = shapeSize(jacobian.controlPointShape);
  const stack = jacobian.stack.data;
  for (let k = 0; k < jacobian.points; k++) {
    for (let a = 0; a < valuePoint; a++) {
      const row = k * valuePoint + a;
      for (let c = 0; c < controlPoint; c++) {
        data[row * columns + k * controlPoint + c] = stack[row * controlPoint + c];
      }
    }
  }
  return new NDArray(data, shape);
}

/**
 * @internal The Jacobian blocks [output][control] over a path: for each control, a forward pass that sets
 * the control's slot to IDENTITY and asks each block on the path for its outputs' Jacobians
 * (`evaluateJacobian` where the block has it, column by column through `evaluateTlm` otherwise).
 * Controls other than the current one are held fixed (zero Jacobian), as in a tangent-linear sweep.
 */
export function jacobianMatrixOnPath(path: SweepPath, options: JacobianMatrixOptions = {}): NDArray[][] {
  if (path.checkpoint?.active) {
    throw new CheckpointError(
      "jacMatrix",
      "dense Jacobians read every recorded value, which a checkpointed loop does not keep; build the matrix from jacAction (columns) or adjJacAction (rows)",
    );
  }
  const keepPointwise = options.pointwise ?? true;
  const controlSet = new Set<BlockVariable>(path.controls);
  const blocks: NDArray[][] = path.outputs.map(() => []);
  for (const control of path.controls) {
    const slots = new Map<BlockVariable, JacobianValue>();
    slots.set(control, IDENTITY);
    for (const block of path.blocks) {
      const dependencies = block.dependencies;
      const jacobianInputs = new Array<JacobianValue>(dependencies.length);
      let any = false;
      for (let i = 0; i < dependencies.length; i++) {
        jacobianInputs[i] = slots.get(dependencies[i]);
        if (jacobianInputs[i] !== undefined) any = true;
      }
      if (!any) continue;
      const inputs = dependencies.map((d) => d.saved);
      const outputs = block.outputs.map((o) => o.saved);
      let results: readonly JacobianValue[] | undefined;
      if (propagatesJacobians(block)) {
        results = block.evaluateJacobian({ inputs, outputs, jacobianInputs, control: control.saved });
      }
      results ??= jacobianByColumns(block, inputs, outputs, jacobianInputs, control.saved);
      block.outputs.forEach((output, o) => {
        if (controlSet.has(output)) return;
        if (results[o] === undefined) slots.delete(output);
        else slots.set(output, results[o]);
      });
    }
    path.outputs.forEach((output, o) => {
      blocks[o].push(jacobianArray(slots.get(output), output.saved, control.saved, keepPointwise));
    });
  }
  return blocks;
}

/**
 * Jacobian action: the tangent-linear value of each output along `mDot` (one direction per control), by
 * one forward sweep. One output gives one value; an array of outputs gives an array.
 *
 * @example
 * const x = np.array([1, 2]);
 * const [y, z] = [np.sin(x), np.square(x)];
 * computeJacobianAction([y, z], new Control(x), np.array([1, 0])); // [cos(x) e0, 2 x e0]
 */
export function computeJacobianAction<const O extends Outputs, const C extends Controls>(
  outputs: O,
  controls: C,
  mDot: ControlInputs<C>,
  options: TapeOption = {},
): PerOutput<O> {
  const operation = "computeJacobianAction";
  const tape = driverTape(options, ["tape"], operation);
  const list = outputList(outputs, operation);
  const controlsList = checkControls(controls, operation);
  const seeds = directionList(controlsList, mDot, operation);
  const path = findPath(
    tape,
    controlsList.map((c) => c.blockVariable),
    list.map((o) => o.blockVariable),
    operation,
  );
  checkFiniteInputs(path, operation);
  tlmSweep(path, seeds);
  const results = collectTlm(path);
  checkFiniteResults(path, results, "tlm", operation);
  return perOutput(
    outputs,
    results.map((raw) => wrapRaw(raw, operation)),
  );
}

/**
 * The Jacobian of each output with respect to each control as NDArray blocks of shape
 * `[...outputShape, ...controlShape]` (an AdjFloat has shape `[]`), indexed [output][control] and
 * collapsed where the argument was a single value. Propagated forward from an identity marker at each
 * control; a pointwise block (pointMap) fed the control gives a per-point stack
 * `[n, ...outputShape.slice(1), ...controlShape.slice(1)]` instead (see `JacobianMatrixOptions.pointwise`).
 *
 * @example
 * const x = np.array([1, 2]);
 * computeJacobianMatrix(np.square(x), new Control(x)); // [[2, 0], [0, 4]]
 */
export function computeJacobianMatrix<const O extends Outputs, const C extends Controls>(
  outputs: O,
  controls: C,
  options: TapeOption & JacobianMatrixOptions = {},
): JacobianBlocks<O, C> {
  const operation = "computeJacobianMatrix";
  const tape = driverTape(options, ["tape", "pointwise"], operation);
  const list = outputList(outputs, operation);
  const path = findPath(
    tape,
    checkControls(controls, operation).map((c) => c.blockVariable),
    list.map((o) => o.blockVariable),
    operation,
  );
  checkFiniteInputs(path, operation);
  return shapeBlocks(outputs, controls, jacobianMatrixOnPath(path, options));
}
