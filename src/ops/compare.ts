/**
 * @file Values without derivatives on the tape: comparisons (greater, ..., not_equal), logical functions,
 * sign and the finiteness tests. They are recorded as blocks whose outputs have zero derivatives, so a
 * replay of the tape recomputes them from the new inputs (a `where` condition built from a comparison
 * follows the control), while every derivative through them is exactly zero.
 */
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { asNDArray, NDArray } from "../values/ndarray.js";
import { broadcastTo } from "./kernels/broadcast.js";
import { type ArrayRaw, broadcastShapeOf } from "./shape.js";

/** Computes the output of a zero-derivative operation from its inputs (viewed as arrays). */
export type ZeroDerivativeKernel = (inputs: readonly NDArray[]) => NDArray;

/** The inputs of a zero-derivative operation: numbers (AdjFloats) or arrays. */
type ZeroDerivativeIn = readonly ArrayRaw[];
/** Its output: a number for a scalar result (an AdjFloat), else an array. */
type ZeroDerivativeOut = readonly [ArrayRaw];

/**
 * A recorded operation whose output has zero derivative with respect to every input: a comparison, a
 * logical function, sign, isfinite, ... `recompute` applies the kernel to the new inputs; the tangent-linear
 * value, the adjoint and the second-order adjoint are zero.
 *
 * @example
 * new ZeroDerivativeBlock("greater", ([a, b]) => greaterKernel(a, b), [q.blockVariable, zero.blockVariable], [output]);
 */
export class ZeroDerivativeBlock extends Block<ZeroDerivativeIn, ZeroDerivativeOut> {
  constructor(
    readonly operation: string,
    private readonly kernel: ZeroDerivativeKernel,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.operation;
  }

  recompute({ inputs }: RecomputeContext<ZeroDerivativeIn>): ZeroDerivativeOut {
    const result = this.kernel(inputs.map(asNDArray));
    return [typeof this.outputs[0].saved === "number" ? result.data[0] : result];
  }

  // ydot = 0
  override evaluateTlm(_context: TlmContext<ZeroDerivativeIn, ZeroDerivativeOut>): Seeds<ZeroDerivativeOut> {
    return [undefined];
  }

  // xbar = 0 for every input
  override evaluateAdj(_context: AdjContext<ZeroDerivativeIn, ZeroDerivativeOut>): Seeds<ZeroDerivativeIn> {
    return this.dependencies.map(() => undefined);
  }

  // xhat = 0 for every input
  override evaluateHessian(
    _context: HessianContext<ZeroDerivativeIn, ZeroDerivativeOut>,
  ): Seeds<ZeroDerivativeIn> {
    return this.dependencies.map(() => undefined);
  }
}

/**
 * @internal An elementwise function of several arrays with broadcasting (for the logical functions).
 * @example
 * mapBroadcast("logical_and", [a, b], (x) => (x[0] !== 0 && x[1] !== 0 ? 1 : 0));
 */
export function mapBroadcast(
  operation: string,
  inputs: readonly NDArray[],
  f: (values: readonly number[]) => number,
): NDArray {
  const shape = broadcastShapeOf(
    operation,
    inputs.map((x) => x.shape),
  );
  const data = inputs.map((x) => broadcastTo(x, shape).data);
  const size = data.length === 0 ? 0 : data[0].length;
  const out = new Float64Array(size);
  const values = new Array<number>(inputs.length).fill(0);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < data.length; k++) values[k] = data[k][i];
    out[i] = f(values);
  }
  return new NDArray(out, shape);
}
