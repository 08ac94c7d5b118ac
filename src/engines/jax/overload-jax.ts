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
import { record } from "../../tape/record.js";
import type { Tape } from "../../tape/tape.js";
import { AdjFloat } from "../../values/adj-float.js";
import { array, NDArray, type NestedNumberArray, type TypedNumberArray } from "../../values/ndarray.js";
import "../../values/ndarray-space.js";
import { OverloadedValue } from "../../values/overloaded.js";
import { JaxBlock } from "./block.js";
import { type JaxBlockConfig, JaxCall } from "./call.js";
import { type JaxOutput, JaxProgram, makeLayout, type StaticInput, type UserFunction } from "./program.js";
import { checkDevice, type JaxDevice, type RawValue } from "./runtime.js";

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

/** Throws unless `value` can be a static argument: JSON-serialisable (jax-js jit hashes it as JSON). */
function checkStatic(value: unknown, position: number, operation: string): asserts value is StaticInput {
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

const typedNumberArrays = [
  Float64Array,
  Float32Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
];

/** Whether `value` is one of the typed arrays `array()` reads. */
function isTypedNumberArray(value: unknown): value is TypedNumberArray {
  return typedNumberArrays.some((type) => value instanceof type);
}

function constantOf(value: unknown, position: number, operation: string): RawValue {
  if (typeof value === "number") return value;
  if (value instanceof NDArray) return value;
  if (value instanceof AdjFloat) return value.value;
  if (Array.isArray(value)) return array(value);
  if (isTypedNumberArray(value)) return array(value);
  throw new InvalidArgumentError(
    operation,
    `argument ${position} must be an NDArray, AdjFloat, number or nested number array, got ${describe(value)}` +
      "; pass other values as static arguments (staticArgnums)",
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

/** The options of `overloadJax`, checked, with their defaults. */
interface Settings {
  readonly name: string;
  readonly operation: string;
  readonly device: JaxDevice;
  readonly argnums: readonly number[] | undefined;
  readonly staticArgnums: readonly number[];
  readonly checkpoint: boolean;
  readonly jit: boolean;
  readonly pointwise: boolean | readonly boolean[];
  readonly outPointwise: boolean | readonly boolean[] | undefined;
  readonly tape: Tape | undefined;
}

/** Checks the function and the options of `overloadJax` (unknown keys, types, device) and applies the defaults. */
function checkSettings(fn: unknown, options: OverloadJaxOptions): Settings {
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
  return {
    name,
    operation,
    device,
    argnums: options.argnums === undefined ? undefined : positions(options.argnums, "argnums", operation),
    staticArgnums: positions(options.staticArgnums, "staticArgnums", operation),
    checkpoint: options.checkpoint ?? false,
    jit: options.jit ?? true,
    pointwise: options.pointwise ?? false,
    outPointwise: options.outPointwise,
    tape,
  };
}

/** The arguments of one call sorted by role: dependencies (recorded), constants and static values. */
interface SortedArguments {
  readonly kinds: ("d" | "c" | "s")[];
  readonly dependencies: (NDArray | AdjFloat)[];
  readonly inputs: RawValue[];
  readonly constants: RawValue[];
  readonly statics: StaticInput[];
  /** Per dependency: whether its leading axis is a batch of points. */
  readonly pointwise: boolean[];
}

/** The positions of the static and of the differentiable arguments of a call with `count` arguments. */
function rolesOf(settings: Settings, count: number): { statics: Set<number>; differentiable?: Set<number> } {
  const { operation, argnums, staticArgnums } = settings;
  const statics = new Set(staticArgnums.map((p) => normalizePosition(p, count, "staticArgnums", operation)));
  if (argnums === undefined) return { statics };
  const differentiable = new Set(argnums.map((p) => normalizePosition(p, count, "argnums", operation)));
  for (const position of differentiable) {
    if (statics.has(position)) {
      throw new InvalidArgumentError(
        operation,
        `argument ${position} is in both argnums and staticArgnums; a static argument cannot be differentiated`,
      );
    }
  }
  return { statics, differentiable };
}

/** Sorts the arguments of one call: statics are checked, NDArrays / AdjFloats at differentiable positions are dependencies, the rest constants. */
function sortArguments(settings: Settings, args: readonly unknown[]): SortedArguments {
  const { operation, pointwise: pointwiseOption } = settings;
  const { statics, differentiable } = rolesOf(settings, args.length);
  const sorted: SortedArguments = {
    kinds: [],
    dependencies: [],
    inputs: [],
    constants: [],
    statics: [],
    pointwise: [],
  };
  for (let position = 0; position < args.length; position++) {
    const value = args[position];
    if (statics.has(position)) {
      checkStatic(value, position, operation);
      sorted.kinds.push("s");
      sorted.statics.push(value);
      continue;
    }
    if (
      (differentiable === undefined || differentiable.has(position)) &&
      (value instanceof NDArray || value instanceof AdjFloat)
    ) {
      sorted.kinds.push("d");
      sorted.dependencies.push(value);
      sorted.inputs.push(value.raw());
      sorted.pointwise.push(
        typeof pointwiseOption === "boolean" ? pointwiseOption : pointwiseOption[position] === true,
      );
      continue;
    }
    if (value instanceof OverloadedValue && !(value instanceof NDArray) && !(value instanceof AdjFloat)) {
      throw new InvalidArgumentError(
        operation,
        `argument ${position} is a ${describe(value)}; overloadJax takes NDArrays, AdjFloats and numbers`,
      );
    }
    sorted.kinds.push("c");
    sorted.constants.push(constantOf(value, position, operation));
  }
  return sorted;
}

/**
 * One call of the overloaded function: runs the forward pass and, when annotating and some argument is a
 * dependency, records one JaxBlock on its results (keeping the linearization unless checkpointing).
 */
function callOverloaded(
  program: JaxProgram,
  settings: Settings,
  args: readonly unknown[],
): NDArray | NDArray[] {
  const sorted = sortArguments(settings, args);
  const { pointwise } = settings;
  const anyPointwise = typeof pointwise === "boolean" ? pointwise : pointwise.some((flag) => flag);
  const config: JaxBlockConfig = {
    program,
    layout: makeLayout(sorted.kinds),
    constants: sorted.constants,
    statics: sorted.statics,
    device: settings.device,
    checkpoint: settings.checkpoint,
    pointwise: sorted.pointwise,
    outPointwise: settings.outPointwise ?? anyPointwise,
    name: settings.name,
  };
  const call = new JaxCall(config);
  const recording = annotating() && sorted.dependencies.length > 0;
  const results = call.forward(sorted.inputs, recording && !settings.checkpoint);
  if (recording) {
    record(
      sorted.dependencies,
      results,
      (dependencies, outputs) => new JaxBlock(call, dependencies, outputs),
      settings.tape,
    );
  } else {
    call.dispose();
  }
  return call.outputIsList ? results : results[0];
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
  const settings = checkSettings(fn, options);
  // F's parameters are jax-js arrays and static values by position; the program assembles exactly those
  // at run time from the layout of each call, which F's own signature cannot express.
  const jaxFunction: JaxFunction = fn;
  // cast: the program calls fn with the arguments it assembles (UserFunction), as F's positions declare
  const program = new JaxProgram(jaxFunction as UserFunction, settings.name, settings.jit);
  const overloaded = (...args: unknown[]): NDArray | NDArray[] => callOverloaded(program, settings, args);
  Object.defineProperties(overloaded, {
    dispose: { value: () => program.dispose() },
    blockName: { value: settings.name },
    compiledKernels: { get: () => program.compiledCount },
  });
  // The result type is a conditional type of F (a list when fn returns a list), which only the forward
  // pass decides at run time; dispose, blockName and compiledKernels are defined just above.
  // cast: the overloaded function has the call signature and properties OverloadedJaxFunction<F> declares
  return overloaded as OverloadedJaxFunction<F>;
}
