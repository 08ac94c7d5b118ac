/**
 * @file The Jacobian code of JaxBlock: `evaluateJaxJacobian` (the Jacobian rule `computeJacobianMatrix` calls,
 * one vmapped jvp over a control's directions) and `jaxJacobianAt` (the block's own Jacobians from vmapped
 * vjp rows or jvp columns, per-point stacks for pointwise values), with their bases of directions. They read
 * the block's JaxCall (the recorded function and values, the output structure of the last forward pass, the
 * error handling: operation names, engine failures as EngineLimitError, the wasm float32 guard).
 */

import { numpy as jnp } from "@jax-js/jax";
import { InvalidArgumentError, ShapeMismatchError } from "../../errors.js";
import type { JacobianContext } from "../../tape/capabilities.js";
import { DenseJacobian, IDENTITY, type JacobianValue, PointwiseJacobian } from "../../tape/jacobian.js";
import { NDArray, shapeSize } from "../../values/ndarray.js";
import { asList, type JaxCall } from "./call.js";
import {
  fromJax,
  type JaxArray,
  type JaxDevice,
  type RawValue,
  readAll,
  toJax,
  withOwnedArrays,
} from "./runtime.js";

/**
 * The Jacobian rule `computeJacobianMatrix` / `ReducedFunction.jacMatrix` call: the Jacobian of each
 * output with respect to one control, given the dependencies' Jacobians, in ONE vmapped jvp over the
 * control's directions. When every dependency that depends on the control is pointwise and holds the
 * control itself or a per-point stack, and every output is pointwise, the result is a per-point stack
 * `[n, ...outPoint, ...controlPoint]` (one direction per per-point control component); otherwise dense
 * `[...outShape, ...controlShape]` (one direction per control component).
 * dy/dm = sum_d (dy/dx_d) (dx_d/dm).
 *
 * @example
 * computeJacobianMatrix(y, new Control(x)); // calls block.evaluateJacobian
 */
export function evaluateJaxJacobian(
  host: JaxCall,
  { inputs, jacobianInputs, control }: JacobianContext<readonly RawValue[], readonly NDArray[]>,
): JacobianValue[] {
  const stackShape = pointStackShape(host, inputs, jacobianInputs);
  const controlShape = shapeOfControl(control, host.operation("jacobian"));
  const directionShape = stackShape ?? controlShape;
  const count = shapeSize(directionShape);
  const directions = inputs.map((value, d) =>
    directionBatch(jacobianInputs[d], value, count, stackShape !== undefined),
  );
  const columns = host.derivative("jacobian", () =>
    host.guard("Jacobian", inputs, (device) => {
      const { program, layout, statics } = host.config;
      return withOwnedArrays((own) => {
        const p = host.dependencyArrays(inputs, device, own);
        const c = host.constantArrays(device, own);
        const t = directions.map((direction) => own(toJax(direction, device)));
        const tangents = program.tangentBatch(layout)(p, c, t, ...statics);
        return readAll(asList(tangents), (array, k) =>
          fromJax(array, host.operation("jacobian"), `Jacobian of output ${k}`),
        );
      });
    }),
  );
  return columns.map((batch, k) => {
    const outShape = host.outputShapes[k];
    const matrix = new NDArray(transpose(batch.data, count), [...outShape, ...directionShape]);
    return stackShape === undefined
      ? new DenseJacobian(matrix, outShape, controlShape)
      : new PointwiseJacobian(matrix, outShape.slice(1), stackShape);
  });
}

/**
 * The per-point control shape when the Jacobian can be a per-point stack (see `evaluateJacobian`),
 * otherwise undefined.
 */
function pointStackShape(
  host: JaxCall,
  inputs: readonly RawValue[],
  jacobianInputs: readonly JacobianValue[],
): readonly number[] | undefined {
  let points = -1;
  let pointShape: readonly number[] | undefined;
  for (let d = 0; d < jacobianInputs.length; d++) {
    const jacobian = jacobianInputs[d];
    if (jacobian === undefined) continue;
    const value = inputs[d];
    if (!host.config.pointwise[d] || typeof value === "number") return undefined;
    const shape = value.shape;
    if (shape.length === 0) return undefined;
    let own: readonly number[];
    if (jacobian === IDENTITY) own = shape.slice(1);
    else if (jacobian instanceof PointwiseJacobian && jacobian.points === shape[0])
      own = jacobian.controlPointShape;
    else return undefined;
    if (pointShape !== undefined && (points !== shape[0] || !sameShape(own, pointShape))) return undefined;
    pointShape = own;
    points = shape[0];
  }
  if (pointShape === undefined) return undefined;
  const outPointwise = outputPointwise(host);
  for (let k = 0; k < host.outputShapes.length; k++) {
    const shape = host.outputShapes[k];
    if (!outPointwise[k] || shape.length === 0 || shape[0] !== points) return undefined;
  }
  return pointShape;
}

/**
 * The Jacobian of every output with respect to every dependency at `inputs` (see `JaxBlock.jacobian`).
 *
 * @example
 * const [[J]] = jaxJacobianAt(block.call, [x], false);
 */
export function jaxJacobianAt(host: JaxCall, inputs: readonly RawValue[], dense: boolean): NDArray[][] {
  const outShapes = host.outputShapes;
  const inShapes = inputs.map(rawShape);
  const outPointwise = outputPointwise(host);
  const result: NDArray[][] = outShapes.map(() => new Array<NDArray>(inputs.length));
  const pointOutputs: number[] = [];
  const denseOutputs: number[] = [];
  outShapes.forEach((_, k) => {
    (outPointwise[k] && !dense ? pointOutputs : denseOutputs).push(k);
  });
  if (pointOutputs.length > 0) {
    const points = pointCount(host, inputs, pointOutputs);
    for (let d = 0; d < inputs.length; d++) {
      const pointwise = host.config.pointwise[d];
      const inShape = inShapes[d];
      const directions = pointwise ? shapeSize(inShape) / points : shapeSize(inShape);
      const basis = pointwise
        ? pointBasis(points, inShape, host.config.device)
        : identityBasis(inShape, host.config.device);
      const columns = jvpColumns(host, inputs, d, basis, pointOutputs);
      pointOutputs.forEach((k, j) => {
        const shape = [...outShapes[k], ...(pointwise ? inShape.slice(1) : inShape)];
        result[k][d] = new NDArray(transpose(columns[j].data, directions), shape);
      });
    }
  }
  if (denseOutputs.length > 0) {
    let rowPasses = 0;
    for (const k of denseOutputs) rowPasses += shapeSize(outShapes[k]);
    let columnPasses = 0;
    for (const shape of inShapes) columnPasses += shapeSize(shape);
    if (rowPasses <= columnPasses) {
      for (const k of denseOutputs) {
        const rows = vjpRows(host, inputs, k, identityBasis(outShapes[k], host.config.device));
        for (let d = 0; d < inputs.length; d++) {
          result[k][d] = new NDArray(rows[d].data, [...outShapes[k], ...inShapes[d]]);
        }
      }
    } else {
      for (let d = 0; d < inputs.length; d++) {
        const columns = jvpColumns(
          host,
          inputs,
          d,
          identityBasis(inShapes[d], host.config.device),
          denseOutputs,
        );
        const directions = shapeSize(inShapes[d]);
        denseOutputs.forEach((k, j) => {
          result[k][d] = new NDArray(transpose(columns[j].data, directions), [
            ...outShapes[k],
            ...inShapes[d],
          ]);
        });
      }
    }
  }
  return result;
}

/**
 * jvp columns for dependency d along each basis direction; only the wanted outputs (ascending indices) are
 * read: entry j is the columns of output `wanted[j]`.
 */
function jvpColumns(
  host: JaxCall,
  inputs: readonly RawValue[],
  d: number,
  basis: JaxArray,
  wanted: readonly number[],
): NDArray[] {
  const { program, layout, statics, device } = host.config;
  return withOwnedArrays((own) => {
    own(basis);
    const p = host.dependencyArrays(inputs, device, own);
    const c = host.constantArrays(device, own);
    const tangents = asList(program.jacobianColumns(layout, d)(p, c, basis, ...statics));
    const columns = readAll(tangents, (array, k) => {
      if (!wanted.includes(k)) {
        array.dispose();
        return undefined;
      }
      return fromJax(array, host.operation("jacobian"), `Jacobian columns of output ${k}`);
    });
    return columns.filter((column) => column !== undefined);
  });
}

/** vjp rows of output k along each basis direction: one array per dependency, leading basis axis. */
function vjpRows(host: JaxCall, inputs: readonly RawValue[], k: number, basis: JaxArray): NDArray[] {
  const { program, layout, statics, device } = host.config;
  return withOwnedArrays((own) => {
    own(basis);
    const p = host.dependencyArrays(inputs, device, own);
    const c = host.constantArrays(device, own);
    const kernel = program.jacobianRows(layout, k, host.outputShapes.length, host.outputIsList);
    const rows = kernel(p, c, basis, ...statics);
    return readAll(rows, (array, d) =>
      fromJax(array, host.operation("jacobian"), `Jacobian rows of dependency ${d}`),
    );
  });
}

/** The outPointwise flag of each output. */
function outputPointwise(host: JaxCall): boolean[] {
  const option = host.config.outPointwise;
  const count = host.outputShapes.length;
  if (typeof option === "boolean") return new Array<boolean>(count).fill(option);
  return Array.from({ length: count }, (_, k) => option[k] === true);
}

/** The number of points n shared by the pointwise outputs and dependencies (their leading axis). */
function pointCount(host: JaxCall, inputs: readonly RawValue[], pointOutputs: readonly number[]): number {
  const shapes: (readonly number[])[] = [];
  for (const k of pointOutputs) shapes.push(host.outputShapes[k]);
  inputs.forEach((value, d) => {
    if (host.config.pointwise[d]) shapes.push(rawShape(value));
  });
  const n = shapes[0].length > 0 ? shapes[0][0] : -1;
  if (n < 0 || shapes.some((shape) => shape.length === 0 || shape[0] !== n)) {
    throw new ShapeMismatchError(
      host.operation("jacobian"),
      shapes,
      "pointwise inputs and outputs must share their leading (points) axis; mark the others pointwise: false",
    );
  }
  return n;
}

/** The identity as a basis of directions for a value of `shape`: `[size, ...shape]`. */
function identityBasis(shape: readonly number[], device: JaxDevice): JaxArray {
  const size = shapeSize(shape);
  return jnp.eye(size, undefined, { dtype: jnp.float64, device }).reshape([size, ...shape]);
}

/**
 * The compressed basis of a pointwise value of shape `[n, ...point]`: direction b sets component b of every
 * point to 1, `[pointSize, n, ...point]`. With point i of the output depending only on point i of the
 * input, one jvp along direction b gives column b of every point's Jacobian at once.
 */
function pointBasis(points: number, shape: readonly number[], device: JaxDevice): JaxArray {
  const pointSize = shapeSize(shape) / points;
  const data = new Float64Array(pointSize * points * pointSize);
  for (let b = 0; b < pointSize; b++) {
    const offset = b * points * pointSize;
    for (let i = 0; i < points; i++) data[offset + i * pointSize + b] = 1;
  }
  return jnp.array(data, { shape: [pointSize, ...shape], dtype: jnp.float64, device });
}

/** The shape of a raw value: `[]` for a number. */
function rawShape(value: RawValue): readonly number[] {
  return typeof value === "number" ? [] : value.shape;
}

/** The shape of the control (`[]` for a number); the Jacobian drivers give an NDArray or a number. */
function shapeOfControl(control: unknown, operation: string): readonly number[] {
  if (typeof control === "number") return [];
  if (control instanceof NDArray) return control.shape;
  throw new InvalidArgumentError(
    operation,
    "a JaxBlock takes Jacobians with respect to an NDArray or a number",
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * The batch of tangent directions `[count, ...shape]` for one dependency: direction q is column q of the
 * dependency's Jacobian with respect to the control (dense), or component q of every point (per-point
 * stack). Zeros when the dependency does not depend on the control.
 */
function directionBatch(jacobian: JacobianValue, value: RawValue, count: number, perPoint: boolean): NDArray {
  const shape = typeof value === "number" ? [] : value.shape;
  const size = shapeSize(shape);
  const data = new Float64Array(count * size);
  const out = new NDArray(data, [count, ...shape]);
  if (jacobian === undefined) return out;
  if (jacobian === IDENTITY) {
    if (perPoint) {
      // value [n, ...point] is the control: direction q sets component q of every point
      const points = size / count;
      for (let q = 0; q < count; q++) for (let i = 0; i < points; i++) data[q * size + i * count + q] = 1;
    } else {
      for (let q = 0; q < count; q++) data[q * size + q] = 1;
    }
    return out;
  }
  if (jacobian instanceof DenseJacobian) {
    // matrix [size, count] -> directions [count, size]
    const matrix = jacobian.matrix.data;
    for (let r = 0; r < size; r++) for (let q = 0; q < count; q++) data[q * size + r] = matrix[r * count + q];
    return out;
  }
  const stack = jacobian.stack.data;
  const valuePoint = shapeSize(jacobian.valuePointShape);
  const controlPoint = shapeSize(jacobian.controlPointShape);
  if (perPoint) {
    // stack [n * valuePoint, controlPoint] -> directions [controlPoint, n * valuePoint]
    for (let r = 0; r < size; r++) for (let q = 0; q < count; q++) data[q * size + r] = stack[r * count + q];
    return out;
  }
  // a per-point stack expanded to dense columns: column q = (point, component)
  for (let point = 0; point < jacobian.points; point++) {
    for (let a = 0; a < valuePoint; a++) {
      const r = point * valuePoint + a;
      for (let component = 0; component < controlPoint; component++) {
        const q = point * controlPoint + component;
        data[q * size + r] = stack[r * controlPoint + component];
      }
    }
  }
  return out;
}

/** [directions, rest] -> [rest, directions], row-major. */
function transpose(data: Float64Array, directions: number): Float64Array {
  const rest = directions === 0 ? 0 : data.length / directions;
  const out = new Float64Array(data.length);
  for (let b = 0; b < directions; b++) {
    const offset = b * rest;
    for (let r = 0; r < rest; r++) out[r * directions + b] = data[offset + r];
  }
  return out;
}
