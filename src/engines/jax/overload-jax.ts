/**
 * @file overloadJax: turns a function written with jax-js into a tsadjoint operation (CRIKit's
 * `overload_jax`): it takes NDArrays, AdjFloats and numbers, returns NDArrays, and records one JaxBlock
 * whose four modes jax-js differentiates.
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { InvalidArgumentError } from "../../errors.js";
import { checkOptions } from "../../options.js";
import { checkTape } from "../../reduced/arguments.js";
import { annotating } from "../../tape/annotation.js";
import type { BlockVariable } from "../../tape/block-variable.js";
import { recordBlock, type Tape } from "../../tape/tape.js";
import { AdjFloat } from "../../values/adj-float.js";
import { array, NDArray, type NestedNumberArray } from "../../values/ndarray.js";
import "../../values/ndarray-space.js";
import { OverloadedValue } from "../../values/overloaded.js";
import { JaxBlock } from "./block.js";
import { type JaxOutput, JaxProgram, makeLayout, type UserFunction } from "./program.js";
import { checkDevice, type JaxDevice } from "./runtime.js";

/** Options of `overloadJax` (CRIKit's `overload_jax`). */
export interface OverloadJaxOptions {
  /**
   * Positions of the differentiable arguments (negative positions count from the end). An NDArray or
   * AdjFloat passed there becomes a dependency of the block; a plain number or nested JS array there is a
   * constant. Default: every argument that is not static.
   */
  argnums?: number | readonly number[];
  /**
   * Positions of static arguments: passed to the function as they are (JSON-serialisable JS values, not
   * converted to arrays) and to `jit` as compile-time constants (a new value compiles again). A number
   * used in arithmetic under jit is rounded to float32; pass values that must stay float64 as arrays.
   */
  staticArgnums?: number | readonly number[];
  /**
   * Compile the function and its derivative kernels with jax-js `jit` (default true). Compiled kernels are
   * cached per overloaded function (jax-js retraces once per new shape or static value) and freed by
   * `dispose()` or when the function and all its blocks are garbage-collected. Under jit a JS-number
   * constant inside the function is rounded to float32: write `x.mul(f64(0.1))`, not `x.mul(0.1)`.
   */
  jit?: boolean;
  /**
   * Recompute the linearization in the reverse sweep instead of keeping it from the forward pass (default
   * false: keep it). Kept: jax-js's pullback (its residual buffers; released when the block is
   * garbage-collected, by `block.dispose()` or by `releaseJaxResources(tape)`), or, for a function with
   * one scalar output, its gradient, computed with the value in one kernel (the adjoint and the
   * tangent-linear value then need no engine call). The Hessian action always recomputes (forward over
   * reverse). With `checkpoint` the forward pass is the plain (jitted) function and every derivative
   * recomputes it: less memory, one more forward pass per derivative.
   */
  checkpoint?: boolean;
  /**
   * Whether each argument's leading axis is a batch of points (one flag for all arguments, or one per
   * argument position). Used by `JaxBlock.jacobian`: for pointwise outputs it returns the per-point stack
   * of Jacobians `[n, ...outPoint, ...inPoint]`. It asserts that point i of each pointwise output depends
   * only on point i of each pointwise input; it does not change values or the other modes.
   */
  pointwise?: boolean | readonly boolean[];
  /** Whether each output's leading axis is a batch of points (default: true when any argument is pointwise). */
  outPointwise?: boolean | readonly boolean[];
  /**
   * The jax-js device: "cpu" (default) computes in exact float64 (a JS interpreter, about 100x slower);
   * "wasm" is fast but evaluates exp, log, sin, cos (and everything built on them: tanh, power, ...) in
   * float32, relative error about 1e-7 to 1e-5, with exp overflowing from x = 88.7. A non-finite wasm result
   * that is finite on cpu throws EngineLimitError.
   */
  device?: JaxDevice;
  /** The block's name on the tape and in messages (default `jax:<function name>`). */
  name?: string;
  /** The tape to record on (default: the working tape at call time). */
  tape?: Tape;
}

/** What the overloaded function accepts where the jax-js function takes an array. */
export type OverloadedJaxInput = NDArray | AdjFloat | number | NestedNumberArray;

/** The overloaded function's parameters: jax-js arrays become NDArrays / AdjFloats / numbers; static ones stay. */
export type OverloadedJaxArguments<P extends readonly unknown[]> = {
  [K in keyof P]: P[K] extends JaxArray ? OverloadedJaxInput : P[K];
};

/** The overloaded function's result: a list of NDArrays when the jax-js function returns a list. */
export type OverloadedJaxResult<R> = R extends readonly unknown[] ? NDArray[] : NDArray;

/** A jax-js function: jax-js arrays (and static values) in, a jax-js array or a list of them out. */
export type JaxFunction = (...args: never[]) => JaxOutput;

/** The function `overloadJax` returns, with `dispose()` to free its compiled kernels. */
export type OverloadedJaxFunction<F extends JaxFunction> = ((
  ...args: OverloadedJaxArguments<Parameters<F>>
) => OverloadedJaxResult<ReturnType<F>>) & {
  /** Frees the compiled (jitted) kernels; they are compiled again if the function or its blocks are used. */
  dispose(): void;
  /** The block name this function records. */
  readonly blockName: string;
  /** Number of compiled kernels held now. */
  readonly compiledKernels: number;
};

function positions(value: number | readonly number[] | undefined, name: string, operation: string): number[] {
  if (value === undefined) return [];
  const list = typeof value === "number" ? [value] : [...value];
  for (const position of list) {
    if (!Number.isInteger(position)) {
      throw new InvalidArgumentError(operation, `${name} must be integers, got ${JSON.stringify(value)}`);
    }
  }
  return list;
}

function normalizePosition(position: number, count: number, name: string, operation: string): number {
  if (position < -count || position >= count) {
    throw new InvalidArgumentError(
      operation,
      `${name} entry ${position} is out of range for a call with ${count} argument(s)`,
    );
  }
  return position < 0 ? position + count : position;
}

function checkStatic(value: unknown, position: number, operation: string): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined || (typeof value === "number" && !Number.isFinite(value))) {
    throw new InvalidArgumentError(
      operation,
      `static argument ${position} must be a JSON-serialisable value (jax-js jit hashes it as JSON), got ${typeof value}`,
    );
  }
}

function constantOf(value: unknown, position: number, operation: string): NDArray | number {
  if (typeof value === "number") return value;
  if (value instanceof NDArray) return value;
  if (value instanceof AdjFloat) return value.value;
  if (Array.isArray(value)) return array(value as NestedNumberArray);
  if (ArrayBuffer.isView(value)) return array(value as Float64Array);
  throw new InvalidArgumentError(
    operation,
    `argument ${position} must be an NDArray, AdjFloat, number or nested number array, got ${describe(value)}` +
      "; pass other values as static arguments (staticArgnums)",
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}

/**
 * Wraps a function written with jax-js so that tsadjoint can differentiate through it (CRIKit's
 * `overload_jax`). The returned function takes NDArrays, AdjFloats and numbers where `fn` takes jax-js
 * arrays, returns NDArrays (a list when `fn` returns a list), and records ONE JaxBlock per call on the tape:
 * recompute runs `fn`; the adjoint is jax-js `vjp`, the tangent-linear value `jvp`, the Hessian action
 * forward-over-reverse; `block.jacobian()` gives dense or per-point Jacobians. `fn` follows jax-js's move
 * semantics (every argument is consumed once; use `.ref` for repeated uses).
 *
 * Precision: device "cpu" (default) is exact float64; "wasm" computes exp/log/sin/cos in float32. Under
 * `jit` (default) JS-number constants in `fn` are rounded to float32: use `f64(value)`.
 *
 * @example
 * import { numpy as jnp } from "@jax-js/jax";
 * const f = overloadJax((x: JaxArray, y: JaxArray) => jnp.exp(jnp.trace(jnp.matmul(x, y))));
 * const z = f(x, y); // NDArray, shape []; one block on the tape
 * computeGradient(z, [new Control(x), new Control(y)]);
 */
export function overloadJax<F extends JaxFunction>(
  fn: F,
  options: OverloadJaxOptions = {},
): OverloadedJaxFunction<F> {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError("overloadJax", `expected a function, got ${describe(fn)}`);
  }
  checkOptions("overloadJax", options, [
    "argnums",
    "staticArgnums",
    "jit",
    "checkpoint",
    "pointwise",
    "outPointwise",
    "device",
    "name",
    "tape",
  ]);
  const tape = checkTape(options.tape, "overloadJax");
  for (const flag of ["jit", "checkpoint"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
      throw new InvalidArgumentError(
        "overloadJax",
        `${flag} must be true or false, got ${describe(options[flag])}`,
      );
    }
  }
  if (options.name !== undefined && typeof options.name !== "string") {
    throw new InvalidArgumentError("overloadJax", `name must be a string, got ${describe(options.name)}`);
  }
  const name = options.name ?? `jax:${fn.name || "anonymous"}`;
  const operation = `overloadJax(${name})`;
  const device = options.device ?? "cpu";
  checkDevice(device, operation);
  const argnums =
    options.argnums === undefined ? undefined : positions(options.argnums, "argnums", operation);
  const staticArgnums = positions(options.staticArgnums, "staticArgnums", operation);
  const checkpoint = options.checkpoint ?? false;
  const program = new JaxProgram(fn as unknown as UserFunction, name, options.jit ?? true);

  const overloaded = (...args: unknown[]): NDArray | NDArray[] => {
    const count = args.length;
    const statics = new Set(
      staticArgnums.map((p) => normalizePosition(p, count, "staticArgnums", operation)),
    );
    const differentiable =
      argnums === undefined
        ? undefined
        : new Set(argnums.map((p) => normalizePosition(p, count, "argnums", operation)));
    for (const position of differentiable ?? []) {
      if (statics.has(position)) {
        throw new InvalidArgumentError(
          operation,
          `argument ${position} is in both argnums and staticArgnums; a static argument cannot be differentiated`,
        );
      }
    }
    const pointwiseOption = options.pointwise ?? false;
    const kinds: ("d" | "c" | "s")[] = [];
    const dependencies: BlockVariable[] = [];
    const inputs: unknown[] = [];
    const constants: (NDArray | number)[] = [];
    const staticValues: unknown[] = [];
    const pointwise: boolean[] = [];
    for (let position = 0; position < count; position++) {
      const value = args[position];
      if (statics.has(position)) {
        checkStatic(value, position, operation);
        kinds.push("s");
        staticValues.push(value);
        continue;
      }
      const isDependency =
        (differentiable === undefined || differentiable.has(position)) &&
        (value instanceof NDArray || value instanceof AdjFloat);
      if (isDependency) {
        const overloadedValue = value as OverloadedValue;
        kinds.push("d");
        dependencies.push(overloadedValue.blockVariable);
        inputs.push(overloadedValue.raw());
        pointwise.push(
          typeof pointwiseOption === "boolean" ? pointwiseOption : pointwiseOption[position] === true,
        );
      } else {
        if (value instanceof OverloadedValue && !(value instanceof NDArray) && !(value instanceof AdjFloat)) {
          throw new InvalidArgumentError(
            operation,
            `argument ${position} is a ${describe(value)}; overloadJax takes NDArrays, AdjFloats and numbers`,
          );
        }
        kinds.push("c");
        constants.push(constantOf(value, position, operation));
      }
    }
    const anyPointwise =
      typeof pointwiseOption === "boolean" ? pointwiseOption : pointwiseOption.some((flag) => flag);
    const block = new JaxBlock(
      {
        program,
        layout: makeLayout(kinds),
        constants,
        statics: staticValues,
        device,
        checkpoint,
        pointwise,
        outPointwise: options.outPointwise ?? anyPointwise,
        name,
      },
      dependencies,
    );
    const record = annotating() && dependencies.length > 0;
    const results = block.evaluateForward(inputs, record && !checkpoint);
    if (record) {
      for (const result of results) block.addOutput(result);
      recordBlock(block, { tape });
    } else {
      block.dispose();
    }
    return block.returnsList ? results : results[0];
  };
  Object.defineProperties(overloaded, {
    dispose: { value: () => program.dispose() },
    blockName: { value: name },
    compiledKernels: { get: () => program.compiledCount },
  });
  return overloaded as unknown as OverloadedJaxFunction<F>;
}
