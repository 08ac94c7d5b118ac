/**
 * @file `defineLinear`: a linear operation y = A x declared by `apply` (A) and `transpose` (A^T), from which
 * all four modes follow (JAX's `deflinear`). The shape operations (reshape, transpose, broadcast_to, take,
 * slicing, diagonal, flip) and the linear reductions (sum, mean, cumsum) are declared through it.
 */
import { InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { annotating, stopAnnotating } from "../tape/annotation.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type TlmContext,
} from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import { recordBlock, type TapeOption } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import { type ArrayInput, array, formatShape, NDArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";
import { tapeOnly } from "./tape-option.js";

/**
 * @internal A raw tape value (number for AdjFloat, NDArray for arrays) viewed as an NDArray (a number is 0-d).
 * @example
 * arrayOf(2).shape; // []
 */
export function arrayOf(raw: unknown): NDArray {
  if (raw instanceof NDArray) return raw;
  return new NDArray(new Float64Array([raw as number]), []);
}

/**
 * The declaration of a linear operation y = A x with parameters `P` (fixed per call: a shape, axes, indices;
 * never differentiated). `apply` and `transpose` work on plain arrays and must not record: they run with
 * annotation off.
 */
export interface LinearDefinition<P = void> {
  /** The block name on the tape (and in messages: `name: ...`). */
  readonly name: string;
  /** y = A x. */
  apply(x: NDArray, params: P): NDArray;
  /** xbar = A^T ybar; the result has the shape of the input x. */
  transpose(y: NDArray, params: P, inputShape: readonly number[]): NDArray;
  /**
   * The shape of A x for an input of shape `inputShape` (optional). When given, a call checks the input
   * against it before computing and reports a wrong shape as a ShapeMismatchError naming the operation.
   */
  outputShape?(inputShape: readonly number[], params: P): readonly number[];
}

/**
 * The block of a linear operation: recompute and TLM apply A, the adjoint applies A^T to ybar and the
 * second-order adjoint applies A^T to yhat (A does not depend on x: no second-order term). An AdjFloat input
 * or output is viewed as a 0-d array.
 *
 * @example
 * new LinearBlock(definition, params, [x.blockVariable], [output]);
 */
export class LinearBlock<P = unknown> extends Block {
  /** Whether the dependency's raw value is a number (an AdjFloat). */
  private readonly scalarInput: boolean;
  /** Whether the output's raw value is a number (an AdjFloat). */
  private readonly scalarOutput: boolean;
  /** The input shape at recording (the shape of every adjoint). */
  readonly inputShape: readonly number[];

  constructor(
    readonly definition: LinearDefinition<P>,
    readonly params: P,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
    const saved = dependencies[0].saved;
    this.scalarInput = typeof saved === "number";
    this.scalarOutput = typeof outputs[0].saved === "number";
    this.inputShape = saved instanceof NDArray ? saved.shape : [];
  }

  override get name(): string {
    return this.definition.name;
  }

  private forward(raw: unknown): unknown {
    const y = this.definition.apply(arrayOf(raw), this.params);
    return this.scalarOutput ? y.data[0] : y;
  }

  private backward(raw: unknown): unknown {
    const x = this.definition.transpose(arrayOf(raw), this.params, this.inputShape);
    return this.scalarInput ? x.data[0] : x;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return [this.forward(inputs[0])];
  }

  // ydot = A xdot
  override evaluateTlm({ tlmInputs }: TlmContext): readonly unknown[] {
    const xdot = tlmInputs[0];
    return [xdot === undefined ? undefined : this.forward(xdot)];
  }

  // xbar = A^T ybar
  override evaluateAdj({ adjInputs, needed }: AdjContext): readonly unknown[] {
    const ybar = adjInputs[0];
    return [ybar === undefined || !needed[0] ? undefined : this.backward(ybar)];
  }

  // xhat = A^T yhat (A does not depend on x)
  override evaluateHessian({ hessianInputs, needed }: HessianContext): readonly unknown[] {
    const yhat = hessianInputs[0];
    return [yhat === undefined || !needed[0] ? undefined : this.backward(yhat)];
  }
}

/** A linear operation made by `defineLinear`: call it on an array, or record a result computed elsewhere. */
export interface LinearOperation<P = void> {
  /**
   * y = A x, recorded as one LinearBlock when `x` is on a tape and annotation is on. `x` may be an NDArray,
   * an AdjFloat (a 0-d array), a number or a nested array (a constant). Returns an NDArray.
   */
  (x: ArrayInput | AdjFloat, params: P, options?: TapeOption): NDArray;
  /** The declaration. */
  readonly definition: LinearDefinition<P>;
  /**
   * Records `result` (A applied to the value of `input`, computed by the caller) as the output of one
   * LinearBlock when annotation is on, and returns it. For callers that compute A x with a faster kernel
   * or a shared buffer; `result` must be a fresh value, not yet on a tape.
   */
  record<T extends AdjFloat | NDArray>(
    input: AdjFloat | NDArray,
    result: T,
    params: P,
    options?: TapeOption,
  ): T;
}

/**
 * Declares a linear operation y = A x from `apply` (A) and `transpose` (A^T): recompute and the
 * tangent-linear mode apply A, the adjoint and the second-order adjoint apply A^T (a linear map has no
 * second-order term), so the four modes are exact once `transpose` is the transpose of `apply`
 * (`assertRule`'s dot-product test checks exactly that). `params` are per-call constants (shapes, axes,
 * indices) handed to both functions.
 *
 * @example
 * // y_i = x_0 + ... + x_i (a cumulative sum) and its transpose, the reversed cumulative sum
 * const cumulative = defineLinear({
 *   name: "cumulative",
 *   apply: (x) => np.array(Array.from(x.data, (_, i) => x.data.slice(0, i + 1).reduce((s, v) => s + v, 0))),
 *   transpose: (y) => np.array(Array.from(y.data, (_, i) => y.data.slice(i).reduce((s, v) => s + v, 0))),
 * });
 * const y = cumulative(np.array([1, 2, 3])); // [1, 3, 6], recorded as one "cumulative" block
 *
 * // with per-call parameters: a product with a fixed matrix A (apply may use np: it runs unrecorded)
 * const times = defineLinear<np.NDArray>({
 *   name: "times",
 *   apply: (x, A) => np.matmul(A, x),
 *   transpose: (y, A) => np.matmul(np.transpose(A), y),
 * });
 * const z = times(x, A);
 */
export function defineLinear<P = void>(definition: LinearDefinition<P>): LinearOperation<P> {
  checkDefinition(definition);
  const { name } = definition;
  const record = <T extends AdjFloat | NDArray>(
    input: AdjFloat | NDArray,
    result: T,
    params: P,
    options?: TapeOption,
  ): T => {
    if (!annotating()) return result;
    const output = new BlockVariable(result.raw());
    if (!recordBlock(new LinearBlock(definition, params, [input.blockVariable], [output]), options)) {
      return result;
    }
    result._blockVariable = output;
    return result;
  };
  const operation = (x: ArrayInput | AdjFloat, params: P, options?: TapeOption): NDArray => {
    tapeOnly(name, options);
    const input = toInput(name, x);
    const value = input instanceof NDArray ? input : arrayOf(input.value);
    let result = stopAnnotating(() => definition.apply(value, params));
    if (!(result instanceof NDArray)) {
      throw new InvalidArgumentError(name, `apply must return an NDArray, got ${describeType(result)}`);
    }
    const expected = definition.outputShape?.(value.shape, params);
    if (expected !== undefined && formatShape(expected) !== formatShape(result.shape)) {
      throw new ShapeMismatchError(
        name,
        [value.shape, result.shape],
        `apply returned shape ${formatShape(result.shape)}, but outputShape declares ${formatShape(expected)}`,
      );
    }
    // a result that is the input (or already recorded) gets a fresh view, so the input keeps its variable
    if (result === input || result._blockVariable !== undefined)
      result = new NDArray(result.data, result.shape);
    return record(input, result, params, options);
  };
  return Object.assign(operation, { definition, record });
}

function checkDefinition(definition: unknown): void {
  const record = definition as Partial<LinearDefinition<unknown>> | null;
  if (typeof record !== "object" || record === null) {
    throw new InvalidArgumentError(
      "defineLinear",
      `expected { name, apply, transpose }, got ${describeType(definition)}`,
    );
  }
  if (typeof record.name !== "string" || record.name === "") {
    throw new InvalidArgumentError("defineLinear", "name must be a non-empty string");
  }
  for (const key of ["apply", "transpose"] as const) {
    if (typeof record[key] !== "function") {
      throw new InvalidArgumentError("defineLinear", `${key} must be a function of an NDArray`);
    }
  }
  if (record.outputShape !== undefined && typeof record.outputShape !== "function") {
    throw new InvalidArgumentError("defineLinear", "outputShape must be a function of the input shape");
  }
}

function toInput(name: string, x: unknown): AdjFloat | NDArray {
  if (x instanceof NDArray || x instanceof AdjFloat) return x;
  if (typeof x === "number" || Array.isArray(x) || ArrayBuffer.isView(x)) return array(x as ArrayInput);
  throw new InvalidArgumentError(
    name,
    `expected a number, an AdjFloat, an NDArray or a nested array of numbers, got ${describeType(x)}`,
  );
}
