/**
 * @file overloadFunction: a plain function on NDArrays and numbers plus user derivative rules (jvp, vjp,
 * hvp) becomes one recorded block, the analogue of a custom VJP.
 */
import { InvalidArgumentError, MissingRuleError, ShapeMismatchError, TsadjointError } from "../errors.js";
import { checkOptions } from "../options.js";
import { checkTape } from "../reduced/arguments.js";
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
import { record } from "../tape/record.js";
import type { Tape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import { array, formatShape, NDArray, type NestedNumberArray, shapesEqual } from "../values/ndarray.js";
import { ndarraySpace } from "../values/ndarray-space.js";
import { describeType } from "../values/space.js";

/** A raw value as user functions and rules see it: a number (an AdjFloat's value) or an NDArray. */
export type RawValue = number | NDArray;

/** What an overloaded function accepts for a raw NDArray / number parameter. */
export type OverloadedInput<R> = R extends NDArray
  ? NDArray | NestedNumberArray | Float64Array
  : R extends number
    ? number | AdjFloat
    : never;

/**
 * The overloaded result for a raw result: NDArray stays NDArray, a number becomes an AdjFloat, a tuple of
 * raw values a tuple of overloaded values.
 */
export type OverloadedResult<R> = R extends NDArray
  ? NDArray
  : R extends number
    ? AdjFloat
    : R extends readonly RawValue[]
      ? { -readonly [K in keyof R]: OverloadedResult<R[K]> }
      : never;

/** Raw values, one per input or output of the function (a tuple typed by its parameters / results). */
export type RawValues = readonly RawValue[];

/**
 * The outputs of `f` returning `R` as a list: the tuple itself when `f` returns a tuple, `[R]` when it
 * returns one value.
 *
 * @example
 * type Y = OutputList<NDArray>; // readonly [NDArray]
 */
export type OutputList<R> = R extends readonly RawValue[] ? R : readonly [R];

/**
 * What a rule may return for a slot holding `R`: a value shaped like the slot (a number, or a size-1
 * NDArray, for a number slot; an NDArray of the slot's shape for an array slot), or `undefined` for zero.
 *
 * @example
 * const zero: RuleSlot<NDArray> = undefined;
 */
export type RuleSlot<R> = (R extends number ? number | NDArray : R) | undefined;

/**
 * One rule result per input, typed by the function's parameters; a missing (or `undefined`) entry is a
 * zero, so `[]` is "all zero".
 *
 * @example
 * const xbar: InputResults<[NDArray, number]> = [np.ones([2]), 0.5];
 */
export type InputResults<A extends RawValues> = { readonly [K in keyof A]?: RuleSlot<A[K]> };

/**
 * What the tangent-linear rule returns: one tangent per output (a tuple when `f` returns a tuple; the value
 * itself, or a one-element array, when `f` returns one value).
 *
 * @example
 * const ydot: JvpResult<NDArray> = np.ones([2]);
 */
export type JvpResult<R> = R extends readonly RawValue[]
  ? { readonly [K in keyof R]: RuleSlot<R[K]> }
  : RuleSlot<R> | readonly [RuleSlot<R>];

/**
 * What the tangent-linear rule receives. Tangents are concrete values: zeros where none arrived. `A` are the
 * function's parameter types and `Y` its outputs, so `{ inputs: [x, a], tangents: [dx, da] }` destructures
 * into typed values.
 */
export interface JvpArguments<A extends RawValues = RawValues, Y extends RawValues = RawValues> {
  /** Every input, in order (constants included), as raw values. */
  readonly inputs: A;
  /** Every output, in order, as raw values. */
  readonly outputs: Y;
  /** The tangent of each input (zero for constants and inputs that do not depend on a control). */
  readonly tangents: A;
}

/** What the adjoint rule receives. Cotangents are concrete values: zeros where none arrived. */
export interface VjpArguments<A extends RawValues = RawValues, Y extends RawValues = RawValues> {
  /** Every input, in order (constants included), as raw values. */
  readonly inputs: A;
  /** Every output, in order, as raw values. */
  readonly outputs: Y;
  /** The adjoint seed of each output (ybar), shaped like the output. */
  readonly cotangents: Y;
  /** Which inputs need a result (the others may be `undefined`). */
  readonly needed: { readonly [K in keyof A]: boolean };
}

/** What the second-order rule receives. */
export interface HvpArguments<A extends RawValues = RawValues, Y extends RawValues = RawValues>
  extends VjpArguments<A, Y> {
  /** The tangent of each input (xdot). */
  readonly tangents: A;
}

/** A rule result for one slot: a raw value shaped like the slot, or `undefined` for zero. */
export type RuleValue = RawValue | undefined;

/**
 * User derivative rules of `f: (x_1, ..., x_k) -> (y_1, ..., y_m)`, typed by `f`'s parameters `A` and its
 * result `R`. Every rule gets raw values and returns raw values shaped like the slot (a number for a scalar
 * input/output, an NDArray of the same shape for an array) or `undefined` for zero.
 */
export interface OverloadRules<
  A extends RawValues = RawValues,
  R extends RawValue | RawValues = RawValue | RawValues,
> {
  /**
   * Tangent-linear rule: ydot_j = sum_i df_j/dx_i xdot_i. Returns one value per output (an array; a
   * single value is accepted when f has one output).
   */
  jvp?(args: JvpArguments<A, OutputList<R>>): JvpResult<R>;
  /** Adjoint rule: xbar_i = sum_j (df_j/dx_i)^T ybar_j. Returns one value per input (an array). */
  vjp?(args: VjpArguments<A, OutputList<R>>): InputResults<A>;
  /**
   * Second-order rule, the curvature term only: xhat_i = sum_k d^2 <ybar, f>/(dx_i dx_k) xdot_k, one value
   * per input (an array). The framework adds the first-order part vjp(yhat) itself. A linear f passes
   * `hvp: () => []`.
   */
  hvp?(args: HvpArguments<A, OutputList<R>>): InputResults<A>;
  /** Name for messages and graph export (default: the function's name). */
  name?: string;
  /** The tape every call records its block on (default: the working tape at call time). */
  tape?: Tape;
}

/**
 * current + value in one dependency's slot: both are numbers, or both NDArrays of the dependency's shape
 * (each rule result was checked against the input it belongs to).
 */
function addSlot(current: RawValue, value: RawValue): RawValue {
  if (typeof current === "number") {
    if (typeof value === "number") return current + value;
  } else if (value instanceof NDArray) {
    return ndarraySpace.add(current, value);
  }
  throw new TsadjointError("overloadFunction", "a number and an NDArray were given for the same input");
}

function zeroLike(raw: RawValue): RawValue {
  return typeof raw === "number" ? 0 : new NDArray(new Float64Array(raw.size), raw.shape);
}

/** Checks a rule's result for one slot against the value it belongs to; `undefined` stays zero. */
function checkRuleValue(
  operation: string,
  rule: string,
  slot: string,
  value: unknown,
  like: RawValue,
): RuleValue {
  if (value === undefined) return undefined;
  if (typeof like === "number") {
    if (typeof value === "number") return value;
    if (value instanceof NDArray && value.size === 1) return value.data[0];
  } else if (value instanceof NDArray) {
    if (shapesEqual(value.shape, like.shape)) return value;
    throw new ShapeMismatchError(
      operation,
      [value.shape, like.shape],
      `the ${rule} rule returned shape ${formatShape(value.shape)} for ${slot}, which has shape ${formatShape(like.shape)}`,
    );
  }
  throw new InvalidArgumentError(
    operation,
    `the ${rule} rule returned ${describeType(value)} for ${slot}; return ${typeof like === "number" ? "a number" : `an NDArray of shape ${formatShape(like.shape)}`} or undefined`,
  );
}

/**
 * The block of one call of an overloaded function. Dependencies are the overloaded inputs; plain-number
 * inputs are kept as constants. Rules (with y = f(x), ybar/yhat the first/second-order output seeds):
 * TLM ydot = jvp(xdot); adjoint xbar = vjp(ybar); Hessian xhat = vjp(yhat) + hvp(xdot, ybar).
 *
 * @example
 * withTape(tape, () => cube(x));
 * tape.blocks[0] instanceof OverloadedFunctionBlock; // true, named after the function
 */
export class OverloadedFunctionBlock extends Block<RawValues, RawValues> {
  constructor(
    readonly fn: (...inputs: RawValue[]) => unknown,
    readonly rules: OverloadRules,
    readonly functionName: string,
    /** Every input in order; `undefined` where the input is a dependency (its value comes from the tape). */
    readonly constants: readonly (number | undefined)[],
    /** For each input, the dependency index, or -1 for a constant. */
    readonly dependencyOf: readonly number[],
    /** Whether f returned an array of outputs (rather than one value). */
    readonly manyOutputs: boolean,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.functionName;
  }

  private get operation(): string {
    return `overloadFunction(${this.functionName})`;
  }

  /** Every input (constants included) from the dependencies' values. */
  private allInputs(dependencyValues: RawValues): RawValue[] {
    // an input is a constant (a number) exactly where it is no dependency
    return this.dependencyOf.map((d, i) => this.constants[i] ?? dependencyValues[d]);
  }

  private missing(rule: "jvp" | "vjp" | "hvp", mode: string): MissingRuleError {
    return new MissingRuleError(
      this.operation,
      `the ${mode} mode needs the '${rule}' rule, which was not given; pass { ${rule} } to overloadFunction`,
    );
  }

  recompute({ inputs }: RecomputeContext<RawValues>): RawValues {
    const result = stopAnnotating(() => this.fn(...this.allInputs(inputs)));
    return normaliseOutputs(this.operation, result, this.manyOutputs);
  }

  /** Per-input values from dependency slots: zeros for constants and for `undefined` slots. */
  private perInput(all: readonly RawValue[], slots: Seeds<RawValues>): RawValue[] {
    return this.dependencyOf.map((d, i) => (d < 0 ? 0 : (slots[d] ?? zeroLike(all[i]))));
  }

  /** Per-output values: zeros for `undefined` slots. */
  private perOutput(outputs: RawValues, slots: Seeds<RawValues>): RawValue[] {
    return outputs.map((y, j) => slots[j] ?? zeroLike(y));
  }

  /** Dependency results from per-input rule results, accumulated where one dependency is several inputs. */
  private toDependencies(
    rule: string,
    all: readonly RawValue[],
    results: readonly unknown[],
  ): (RawValue | undefined)[] {
    if (!Array.isArray(results)) {
      throw new InvalidArgumentError(
        this.operation,
        `the ${rule} rule must return an array with one value per input (${all.length})`,
      );
    }
    const out = new Array<RawValue | undefined>(this.dependencies.length).fill(undefined);
    this.dependencyOf.forEach((d, i) => {
      if (d < 0) return;
      const value = checkRuleValue(this.operation, rule, `input ${i}`, results[i], all[i]);
      if (value === undefined) return;
      const current = out[d];
      out[d] = current === undefined ? value : addSlot(current, value);
    });
    return out;
  }

  private neededInputs(needed: readonly boolean[]): boolean[] {
    return this.dependencyOf.map((d) => d >= 0 && needed[d]);
  }

  // ydot = jvp(x; xdot)
  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext<RawValues, RawValues>): Seeds<RawValues> {
    const jvp = this.rules.jvp;
    if (jvp === undefined) throw this.missing("jvp", "tangent-linear");
    const all = this.allInputs(inputs);
    const raw = jvp({ inputs: all, outputs, tangents: this.perInput(all, tlmInputs) });
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length !== outputs.length) {
      throw new InvalidArgumentError(
        this.operation,
        `the jvp rule returned ${list.length} value(s) for ${outputs.length} output(s)`,
      );
    }
    return list.map((value, j) => checkRuleValue(this.operation, "jvp", `output ${j}`, value, outputs[j]));
  }

  // xbar = vjp(x; ybar)
  override evaluateAdj({
    inputs,
    outputs,
    adjInputs,
    needed,
  }: AdjContext<RawValues, RawValues>): Seeds<RawValues> {
    const vjp = this.rules.vjp;
    if (vjp === undefined) throw this.missing("vjp", "adjoint");
    const all = this.allInputs(inputs);
    const results = vjp({
      inputs: all,
      outputs,
      cotangents: this.perOutput(outputs, adjInputs),
      needed: this.neededInputs(needed),
    });
    return this.toDependencies("vjp", all, results);
  }

  // xhat = vjp(x; yhat) + hvp(x; xdot, ybar)
  override evaluateHessian({
    inputs,
    outputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext<RawValues, RawValues>): Seeds<RawValues> {
    const vjp = this.rules.vjp;
    const hvp = this.rules.hvp;
    if (hvp === undefined) throw this.missing("hvp", "second-order adjoint (Hessian)");
    if (vjp === undefined) throw this.missing("vjp", "second-order adjoint (Hessian)");
    const all = this.allInputs(inputs);
    const neededInputs = this.neededInputs(needed);
    let total = new Array<RawValue | undefined>(this.dependencies.length).fill(undefined);
    if (hessianInputs.some((v) => v !== undefined)) {
      total = this.toDependencies(
        "vjp",
        all,
        vjp({
          inputs: all,
          outputs,
          cotangents: this.perOutput(outputs, hessianInputs),
          needed: neededInputs,
        }),
      );
    }
    if (adjInputs.some((v) => v !== undefined) && tlmInputs.some((v) => v !== undefined)) {
      const curvature = this.toDependencies(
        "hvp",
        all,
        hvp({
          inputs: all,
          outputs,
          cotangents: this.perOutput(outputs, adjInputs),
          tangents: this.perInput(all, tlmInputs),
          needed: neededInputs,
        }),
      );
      total = total.map((value, d) => {
        const extra = curvature[d];
        if (value === undefined) return extra;
        if (extra === undefined) return value;
        return addSlot(value, extra);
      });
    }
    return total;
  }
}

/** The outputs of one call of f as a list of raw values, checked. */
function normaliseOutputs(operation: string, result: unknown, many: boolean): RawValue[] {
  let list: readonly unknown[] = [result];
  if (many) {
    if (!Array.isArray(result)) {
      throw new InvalidArgumentError(
        operation,
        "the function returned one value where it returned an array before",
      );
    }
    list = result;
  }
  return list.map((value, j) => {
    if (typeof value === "number") return value;
    if (value instanceof AdjFloat) return value.value;
    if (value instanceof NDArray) return value;
    throw new InvalidArgumentError(
      operation,
      `output ${j} of the function is ${describeType(value)}; return NDArrays or numbers (or an array of them)`,
    );
  });
}

/** An input as a raw value: overloaded values give their raw value, nested arrays become NDArrays. */
function toInput(operation: string, value: unknown, index: number): AdjFloat | NDArray | number {
  if (typeof value === "number") return value;
  if (value instanceof AdjFloat || value instanceof NDArray) return value;
  if (Array.isArray(value) || value instanceof Float64Array) return array(value);
  throw new InvalidArgumentError(
    operation,
    `input ${index} is ${describeType(value)}; give an NDArray, an AdjFloat, a number or a nested number array`,
  );
}

/**
 * Turns `fn`, a plain function on raw values (NDArrays and numbers, computed with anything: loops over
 * `.data`, kernels, other libraries), into a differentiable function: each call records ONE block whose
 * derivatives come from the rules. The returned function accepts NDArrays (or nested number arrays),
 * AdjFloats and numbers; numbers are constants, the others are dependencies. `fn` returns an NDArray or a
 * number (an AdjFloat output), or an array of them (several outputs). A rule a driver needs but that was
 * not given throws MissingRuleError naming the function and the mode; it is never taken as zero.
 *
 * Rule signatures (raw values; `undefined` results mean zero; tangents/cotangents are zero-filled):
 * - `jvp({ inputs, outputs, tangents })` -> one tangent per output: ydot_j = sum_i df_j/dx_i xdot_i
 * - `vjp({ inputs, outputs, cotangents, needed })` -> one value per input: xbar_i = sum_j (df_j/dx_i)^T ybar_j
 * - `hvp({ inputs, outputs, tangents, cotangents, needed })` -> one value per input:
 *   xhat_i = sum_k d^2 <ybar, f>/(dx_i dx_k) xdot_k (the curvature term; vjp(yhat) is added for you)
 *
 * Rules are typed by `fn`: for `fn(x: NDArray, a: number)`, `inputs` and `tangents` are `[NDArray, number]`,
 * `outputs` and `cotangents` `[NDArray]` (a tuple of outputs when `fn` returns an array literal), and `vjp`
 * returns `[NDArray | undefined, number | NDArray | undefined]` (missing entries are zeros).
 *
 * @example
 * // y = x^3 entry by entry
 * const cube = overloadFunction((x: NDArray) => new NDArray(x.data.map((v) => v ** 3), x.shape), {
 *   jvp: ({ inputs: [x], tangents: [dx] }) => mul(3, x, x, dx),       // 3 x^2 xdot
 *   vjp: ({ inputs: [x], cotangents: [ybar] }) => [mul(3, x, x, ybar)], // 3 x^2 ybar
 *   hvp: ({ inputs: [x], tangents: [dx], cotangents: [ybar] }) => [mul(6, x, dx, ybar)], // 6 x xdot ybar
 * });
 * const y = cube(np.array([1, 2]));
 */
export function overloadFunction<A extends RawValue[], const R extends RawValue | RawValues>(
  fn: (...inputs: A) => R,
  rules?: OverloadRules<A, R>,
): (...inputs: { [K in keyof A]: OverloadedInput<A[K]> }) => OverloadedResult<R>;
// the signature above types the call by fn; inside, fn takes raw values and its outputs are checked
export function overloadFunction(
  fn: (...inputs: RawValue[]) => unknown,
  rules: OverloadRules = {},
): (...inputs: never[]) => unknown {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      "overloadFunction",
      `fn must be a function on raw values, got ${typeof fn}`,
    );
  }
  checkOptions("overloadFunction", rules, ["jvp", "vjp", "hvp", "name", "tape"]);
  for (const rule of ["jvp", "vjp", "hvp"] as const) {
    if (rules[rule] !== undefined && typeof rules[rule] !== "function") {
      throw new InvalidArgumentError(
        "overloadFunction",
        `the ${rule} rule must be a function, got ${typeof rules[rule]}`,
      );
    }
  }
  if (rules.name !== undefined && typeof rules.name !== "string") {
    throw new InvalidArgumentError("overloadFunction", `name must be a string, got ${typeof rules.name}`);
  }
  const tape = checkTape(rules.tape, "overloadFunction");
  const functionName = rules.name ?? (fn.name || "overloadedFunction");
  const operation = `overloadFunction(${functionName})`;
  return (...args: unknown[]) => {
    const values = args.map((value, index) => toInput(operation, value, index));
    const raws = values.map((value) => (typeof value === "number" ? value : value.raw()));
    const result = stopAnnotating(() => fn(...raws));
    const many = Array.isArray(result);
    const outputs = normaliseOutputs(operation, result, many);
    // fresh output objects (sharing the data), so that each carries its own tape link
    const wrapped = outputs.map((raw) =>
      typeof raw === "number" ? new AdjFloat(raw) : new NDArray(raw.data, raw.shape),
    );
    if (annotating()) {
      const { dependencies, dependencyOf, constants } = dependenciesOf(values);
      record(
        dependencies,
        wrapped,
        (inputs, outputVariables) =>
          new OverloadedFunctionBlock(
            fn,
            rules,
            functionName,
            constants,
            dependencyOf,
            many,
            inputs,
            outputVariables,
          ),
        tape,
      );
    }
    return many ? wrapped : wrapped[0];
  };
}

/**
 * The block's dependencies for one call: each distinct overloaded input once (an input passed twice is one
 * dependency), with, per input, its dependency index (-1 for a constant) and its constant value.
 */
function dependenciesOf(values: readonly (AdjFloat | NDArray | number)[]): {
  dependencies: BlockVariable[];
  dependencyOf: number[];
  constants: (number | undefined)[];
} {
  const dependencies: BlockVariable[] = [];
  const dependencyOf: number[] = [];
  const constants: (number | undefined)[] = [];
  const seen = new Map<BlockVariable, number>();
  for (const value of values) {
    if (typeof value === "number") {
      dependencyOf.push(-1);
      constants.push(value);
      continue;
    }
    const variable = value.blockVariable;
    let index = seen.get(variable);
    if (index === undefined) {
      index = dependencies.length;
      dependencies.push(variable);
      seen.set(variable, index);
    }
    dependencyOf.push(index);
    constants.push(undefined);
  }
  return { dependencies, dependencyOf, constants };
}
