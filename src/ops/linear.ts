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
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { tangentFreeSecondOrder } from "../tape/capabilities.js";
import { record } from "../tape/record.js";
import type { TapeOption } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import { type ArrayInput, type ArrayRaw, array, asNDArray, formatShape, NDArray } from "../values/ndarray.js";
import { transientAdjoint } from "../values/pool.js";
import { describeType } from "../values/space.js";
import { tapeOnly } from "./tape-option.js";

/**
 * @internal Use `asNDArray` (values/ndarray.ts) instead: a raw tape value (number for AdjFloat, NDArray for
 * arrays) viewed as an NDArray (a number is 0-d). Kept only while other ops files still import it.
 * @example
 * arrayOf(2).shape; // []
 */
export function arrayOf(raw: unknown): NDArray {
  return raw instanceof NDArray ? raw : asNDArray(Number(raw));
}

/** The raw value a LinearBlock reads or produces: an NDArray, or a number for an AdjFloat (a 0-d array). */
/** The raw value a linear operation reads and produces (a number is a 0-d array). */
export type LinearValue = ArrayRaw;
/** A LinearBlock's one input and one output. */
/** The inputs and outputs of a LinearBlock: one value each. */
export type LinearValues = readonly [LinearValue];

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
export class LinearBlock<P = unknown> extends Block<LinearValues, LinearValues> {
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

  /** @internal A built-in definition's apply and transpose (all four modes) store nothing and return fresh arrays or views (values/pool.ts). */
  [transientAdjoint](): boolean {
    return this.constructor === LinearBlock && transientDefinitions.has(this.definition);
  }

  /** The second-order adjoint applies A^T to yhat and reads no tangent (a subclass may override the modes). */
  get [tangentFreeSecondOrder](): boolean {
    return this.constructor === LinearBlock;
  }

  private forward(raw: LinearValue): LinearValue {
    const y = this.definition.apply(asNDArray(raw), this.params);
    return this.scalarOutput ? y.data[0] : y;
  }

  private backward(raw: LinearValue): LinearValue {
    const x = this.definition.transpose(asNDArray(raw), this.params, this.inputShape);
    return this.scalarInput ? x.data[0] : x;
  }

  recompute({ inputs: [x] }: RecomputeContext<LinearValues>): LinearValues {
    return [this.forward(x)];
  }

  // ydot = A xdot
  override evaluateTlm({ tlmInputs: [xdot] }: TlmContext<LinearValues, LinearValues>): Seeds<LinearValues> {
    return [xdot === undefined ? undefined : this.forward(xdot)];
  }

  // xbar = A^T ybar
  override evaluateAdj({
    adjInputs: [ybar],
    needed,
  }: AdjContext<LinearValues, LinearValues>): Seeds<LinearValues> {
    return [ybar === undefined || !needed[0] ? undefined : this.backward(ybar)];
  }

  // xhat = A^T yhat (A does not depend on x)
  override evaluateHessian({
    hessianInputs: [yhat],
    needed,
  }: HessianContext<LinearValues, LinearValues>): Seeds<LinearValues> {
    return [yhat === undefined || !needed[0] ? undefined : this.backward(yhat)];
  }
}

/** The built-in definitions whose apply and transpose store nothing and return fresh arrays or views of their argument. */
const transientDefinitions = new WeakSet<object>();

/**
 * @internal Declares a built-in linear operation transient (see values/pool.ts): its apply (the tangent
 * mode) and its transpose (the adjoint and second-order modes) store neither their argument nor their
 * result, and return a fresh array or a view of their argument. Returns it.
 * @example
 * export const sumLinear = transientLinear(defineLinear({ ... }));
 */
export function transientLinear<P>(operation: LinearOperation<P>): LinearOperation<P> {
  transientDefinitions.add(operation.definition);
  return operation;
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
  const recordResult = <T extends AdjFloat | NDArray>(
    input: AdjFloat | NDArray,
    result: T,
    params: P,
    options?: TapeOption,
  ): T => {
    if (!annotating()) return result;
    const tape = options === undefined ? undefined : tapeOnly(name, options);
    const build = (dependencies: BlockVariable[], outputs: BlockVariable[]): LinearBlock<P> =>
      new LinearBlock(definition, params, dependencies, outputs);
    return record([input], [result], build, tape)[0];
  };
  const operation = (x: ArrayInput | AdjFloat, params: P, options?: TapeOption): NDArray => {
    tapeOnly(name, options);
    const input = toInput(name, x);
    const value = input instanceof NDArray ? input : asNDArray(input.value);
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
    return recordResult(input, result, params, options);
  };
  return Object.assign(operation, { definition, record: recordResult });
}

function checkDefinition(definition: unknown): void {
  if (typeof definition !== "object" || definition === null) {
    throw new InvalidArgumentError(
      "defineLinear",
      `expected { name, apply, transpose }, got ${describeType(definition)}`,
    );
  }
  const fields: { readonly [K in keyof LinearDefinition<unknown>]?: unknown } = definition;
  if (typeof fields.name !== "string" || fields.name === "") {
    throw new InvalidArgumentError("defineLinear", "name must be a non-empty string");
  }
  for (const key of ["apply", "transpose"] as const) {
    if (typeof fields[key] !== "function") {
      throw new InvalidArgumentError("defineLinear", `${key} must be a function of an NDArray`);
    }
  }
  if (fields.outputShape !== undefined && typeof fields.outputShape !== "function") {
    throw new InvalidArgumentError("defineLinear", "outputShape must be a function of the input shape");
  }
}

function toInput(name: string, x: ArrayInput | AdjFloat): AdjFloat | NDArray {
  if (x instanceof NDArray || x instanceof AdjFloat) return x;
  if (typeof x === "number" || Array.isArray(x) || ArrayBuffer.isView(x)) return array(x);
  throw new InvalidArgumentError(
    name,
    `expected a number, an AdjFloat, an NDArray or a nested array of numbers, got ${describeType(x)}`,
  );
}
