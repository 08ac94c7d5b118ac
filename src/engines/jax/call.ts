/**
 * @file JaxCall: the engine side of one call of an `overloadJax` function, which its JaxBlock delegates to.
 * It runs the forward pass (before the block exists: the block is recorded on its results), keeps the
 * linearization and the output structure, and computes the derivatives with jax-js. It converts NDArrays /
 * numbers to jax-js arrays at its boundary and owns every jax-js array it creates.
 */
import { numpy as jnp } from "@jax-js/jax";
import { EngineLimitError, TsadjointError } from "../../errors.js";
import { NDArray, shapeSize } from "../../values/ndarray.js";
import type { ArgumentLayout, JaxProgram, Pullback, StaticInput } from "./program.js";
import { outputList } from "./program.js";
import {
  disposeQuietly,
  fromJax,
  fromJaxLike,
  type JaxArray,
  type JaxDevice,
  type JaxResults,
  type RawValue,
  readAll,
  toJax,
  withOwnedArrays,
  zerosJax,
} from "./runtime.js";

type Own = <A extends JaxArray>(array: A) => A;

/**
 * @internal The linearization kept from the forward pass (no checkpointing) and the inputs it was computed
 * at: jax-js's pullback (engine buffers), or, for a function with one scalar output, its gradient (plain
 * NDArrays / numbers: the whole linearization, and no engine memory). Held by the finalization registry,
 * so it must not reference its block.
 */
export class Residuals {
  pullback: Pullback | undefined = undefined;
  gradient: RawValue[] | undefined = undefined;
  inputs: readonly RawValue[] | undefined = undefined;

  keepPullback(pullback: Pullback, inputs: readonly RawValue[]): void {
    this.release();
    this.pullback = pullback;
    this.inputs = inputs.slice();
  }

  keepGradient(gradient: RawValue[], inputs: readonly RawValue[]): void {
    this.release();
    this.gradient = gradient;
    this.inputs = inputs.slice();
  }

  /** Whether a linearization computed at exactly these input values is held (identity: values are immutable). */
  matches(inputs: readonly RawValue[]): boolean {
    const kept = this.inputs;
    if (kept === undefined || kept.length !== inputs.length) return false;
    for (let i = 0; i < inputs.length; i++) if (kept[i] !== inputs[i]) return false;
    return true;
  }

  release(): void {
    const pullback = this.pullback;
    this.pullback = undefined;
    this.gradient = undefined;
    this.inputs = undefined;
    if (pullback !== undefined) {
      try {
        pullback.dispose();
      } catch {
        // already released
      }
    }
  }
}

/** @internal Everything a JaxBlock needs besides its dependencies. */
export interface JaxBlockConfig {
  readonly program: JaxProgram;
  readonly layout: ArgumentLayout;
  /** Values of the constant (non-differentiated, non-static) arguments, read at call time. */
  readonly constants: readonly RawValue[];
  /** Values of the static arguments. */
  readonly statics: readonly StaticInput[];
  readonly device: JaxDevice;
  readonly checkpoint: boolean;
  /** Per dependency: whether its leading axis is a batch of points. */
  readonly pointwise: readonly boolean[];
  /** The `outPointwise` option: one flag for all outputs, or one per output. */
  readonly outPointwise: boolean | readonly boolean[];
  readonly name: string;
}

/**
 * @internal One call of an `overloadJax` function on the engine side: the recorded function and values
 * (`config`), the output structure of the last forward pass, the kept linearization, and the derivative
 * computations of the four modes. Its JaxBlock and the Jacobian code read it.
 */
export class JaxCall {
  readonly residuals = new Residuals();
  /** Whether the function returned a list (set by the forward pass). */
  outputIsList = false;
  /** The output shapes of the last forward pass. */
  outputShapes: (readonly number[])[] = [];

  constructor(readonly config: JaxBlockConfig) {}

  /** Releases the kept linearization (the pullback's engine buffers, or the gradient). */
  dispose(): void {
    this.residuals.release();
  }

  /** Runs the function at `inputs`; keeps the linearization (pullback or gradient) when asked. Sets the output structure. */
  forward(inputs: readonly RawValue[], keepLinearization: boolean): NDArray[] {
    return this.guard("forward", inputs, (device, fresh) =>
      this.forwardOn(inputs, device, keepLinearization && !fresh),
    );
  }

  private forwardOn(inputs: readonly RawValue[], device: JaxDevice, keepLinearization: boolean): NDArray[] {
    return withOwnedArrays((own) => {
      const p = this.dependencyArrays(inputs, device, own);
      const c = this.constantArrays(device, own);
      if (keepLinearization && this.scalarOutput()) return this.valueAndGradientOn(inputs, p, c);
      const { program, layout, statics } = this.config;
      let output: JaxResults;
      let pullback: Pullback | undefined;
      if (keepLinearization) [output, pullback] = program.forwardWithPullback(layout, p, c, statics);
      else output = program.forward(layout)(p, c, ...statics);
      let results: NDArray[];
      try {
        const list = outputList(output, program.name);
        results = readAll(list, (array, i) => fromJax(array, this.operation("forward"), `output ${i}`));
      } catch (error) {
        disposeQuietly(output);
        if (pullback !== undefined) pullback.dispose();
        throw error;
      }
      this.outputIsList = Array.isArray(output);
      this.outputShapes = results.map((r) => r.shape);
      if (pullback !== undefined) {
        if (this.scalarOutput()) {
          // first pass of a scalar function: keep its gradient rather than the pullback
          try {
            const ones = own(jnp.ones(this.outputShapes[0].slice(), { dtype: jnp.float64, device }));
            const gradient = readAll(pullback(this.outputIsList ? [ones] : ones), (array, i) =>
              fromJaxLike(array, inputs[i], this.operation("forward"), `gradient of dependency ${i}`),
            );
            this.residuals.keepGradient(gradient, inputs);
          } finally {
            pullback.dispose();
          }
        } else {
          this.residuals.keepPullback(pullback, inputs);
        }
      }
      return results;
    });
  }

  /** The forward pass of a scalar function that keeps its linearization: value and gradient in one kernel. */
  private valueAndGradientOn(inputs: readonly RawValue[], p: JaxArray[], c: JaxArray[]): NDArray[] {
    const { program, layout, statics } = this.config;
    const kernel = program.valueAndGradient(layout, this.outputIsList);
    const [output, gradient] = kernel(p, c, ...statics);
    let results: NDArray[];
    try {
      results = readAll(outputList(output, program.name), (array, i) =>
        fromJax(array, this.operation("forward"), `output ${i}`),
      );
    } catch (error) {
      disposeQuietly(gradient);
      throw error;
    }
    const gradients = readAll(gradient, (array, i) =>
      fromJaxLike(array, inputs[i], this.operation("forward"), `gradient of dependency ${i}`),
    );
    this.residuals.keepGradient(gradients, inputs);
    return results;
  }

  /** Whether the function has exactly one output, of size 1 (a scalar functional). */
  private scalarOutput(): boolean {
    return this.outputShapes.length === 1 && shapeSize(this.outputShapes[0]) === 1;
  }

  /** The kept gradient when it was computed at `inputs` and linearizations are kept. */
  private keptGradient(inputs: readonly RawValue[]): RawValue[] | undefined {
    if (this.config.checkpoint || !this.residuals.matches(inputs)) return undefined;
    return this.residuals.gradient;
  }

  /** ydot = J xdot, one `jvp` (a dot product with the kept gradient for a scalar output). */
  tangentLinear(inputs: readonly RawValue[], tangents: readonly (RawValue | undefined)[]): NDArray[] {
    return this.derivative("tlm", () =>
      this.guard("tangent-linear", inputs, (device, fresh) => {
        const gradient = fresh ? undefined : this.keptGradient(inputs);
        // scalar output: ydot = sum_d <dy/dx_d, xdot_d>, from the kept gradient
        if (gradient !== undefined) return [scalarLike(this.outputShapes[0], dotAll(gradient, tangents))];
        const { program, layout, statics } = this.config;
        return withOwnedArrays((own) => {
          const p = this.dependencyArrays(inputs, device, own);
          const c = this.constantArrays(device, own);
          const t = this.seeds(tangents, inputs, device, own);
          const tangent = program.jvp(layout)(p, c, t, ...statics);
          return readAll(asList(tangent), (array, i) =>
            fromJax(array, this.operation("tlm"), `tangent of output ${i}`),
          );
        });
      }),
    );
  }

  /** xbar = J^T ybar, from the kept pullback (or a fresh `vjp` with `checkpoint`). One entry per dependency. */
  adjoint(inputs: readonly RawValue[], seeds: readonly (NDArray | undefined)[]): (RawValue | undefined)[] {
    return this.derivative("adjoint", () =>
      this.guard("adjoint", inputs, (device, fresh) => this.adjointOn(inputs, seeds, device, fresh)),
    );
  }

  private adjointOn(
    inputs: readonly RawValue[],
    seeds: readonly (NDArray | undefined)[],
    device: JaxDevice,
    fresh: boolean,
  ): (RawValue | undefined)[] {
    const { program, layout, statics, checkpoint } = this.config;
    let pullback: Pullback | undefined;
    if (!checkpoint && !fresh) {
      if (!this.residuals.matches(inputs)) this.forwardOn(inputs, device, true);
      const gradient = this.residuals.gradient;
      // scalar output: xbar_d = ybar dy/dx_d, from the kept gradient
      if (gradient !== undefined) return gradient.map((g) => scaleRaw(g, scalarOf(seeds[0])));
      pullback = this.residuals.pullback;
    }
    return withOwnedArrays((own) => {
      const cotangent = this.cotangent(seeds, device, own);
      let grads: JaxArray[];
      if (pullback !== undefined) {
        grads = pullback(cotangent);
      } else {
        const p = this.dependencyArrays(inputs, device, own);
        const c = this.constantArrays(device, own);
        grads = program.vjp(layout)(p, c, cotangent, ...statics);
      }
      return readAll(grads, (array, i) =>
        fromJaxLike(array, inputs[i], this.operation("adjoint"), `adjoint of dependency ${i}`),
      );
    });
  }

  /**
   * xhat = J^T yhat + (d/dx (J^T ybar)) xdot, forward over reverse in one (jitted) kernel: the jvp of
   * (x, ybar) -> J(x)^T ybar along (xdot, yhat), or of x -> J(x)^T ybar along xdot when yhat is zero
   * (`secondAdjoint` undefined). One entry per dependency.
   */
  secondOrder(
    inputs: readonly RawValue[],
    adjoint: readonly (NDArray | undefined)[],
    tangents: readonly (RawValue | undefined)[],
    secondAdjoint: readonly (NDArray | undefined)[] | undefined,
  ): (RawValue | undefined)[] {
    return this.derivative("hessian", () =>
      this.guard("Hessian", inputs, (device) => {
        const { program, layout, statics } = this.config;
        return withOwnedArrays((own) => {
          const p = this.dependencyArrays(inputs, device, own);
          const c = this.constantArrays(device, own);
          const ybar = this.cotangent(adjoint, device, own);
          const t = this.seeds(tangents, inputs, device, own);
          const hat =
            secondAdjoint !== undefined
              ? program.hvp(layout)(p, c, ybar, t, this.cotangent(secondAdjoint, device, own), ...statics)
              : program.hvpFirstOrder(layout)(p, c, ybar, t, ...statics);
          return readAll(hat, (array, i) =>
            fromJaxLike(
              array,
              inputs[i],
              this.operation("hessian"),
              `second-order adjoint of dependency ${i}`,
            ),
          );
        });
      }),
    );
  }

  /** The dependencies' values as jax-js arrays on `device`, owned by the current computation. */
  dependencyArrays(inputs: readonly RawValue[], device: JaxDevice, own: Own): JaxArray[] {
    return inputs.map((value) => own(toJax(value, device)));
  }

  /** The constants' values as jax-js arrays on `device`, owned by the current computation. */
  constantArrays(device: JaxDevice, own: Own): JaxArray[] {
    return this.config.constants.map((value) => own(toJax(value, device)));
  }

  /** Cotangent tree for the outputs: the seeds (zeros where undefined), a list when the function returns one. */
  private cotangent(seeds: readonly (RawValue | undefined)[], device: JaxDevice, own: Own): JaxResults {
    const arrays = this.outputShapes.map((shape, k) => {
      const seed = seeds[k];
      return own(seed === undefined ? zerosJax(shape, device) : toJax(seed, device));
    });
    return this.outputIsList ? arrays : arrays[0];
  }

  /** Tangent list for the dependencies: the seeds, zeros where undefined. */
  private seeds(
    tangents: readonly (RawValue | undefined)[],
    inputs: readonly RawValue[],
    device: JaxDevice,
    own: Own,
  ): JaxArray[] {
    return inputs.map((value, d) => {
      const tangent = tangents[d];
      if (tangent !== undefined) return own(toJax(tangent, device));
      return own(zerosJax(typeof value === "number" ? [] : value.shape, device));
    });
  }

  /** The operation name of a mode, for messages. */
  operation(mode: string): string {
    return `${this.config.name}.${mode}`;
  }

  /** Turns an engine failure in a derivative mode into EngineLimitError (typed errors pass through). */
  derivative<T>(mode: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof TsadjointError) throw error;
      const limit = new EngineLimitError(
        this.operation(mode),
        `jax-js could not compute the ${mode} of this function: ${messageOf(error)}`,
      );
      limit.cause = error;
      throw limit;
    }
  }

  /**
   * On the wasm device exp/log/sin/cos run in float32: exp overflows to Infinity from x = 88.7 and log
   * underflows to -Infinity below 1.2e-38. When a wasm result is not finite, the computation is repeated on
   * the exact cpu device; if that one is finite, the wasm value would be wrong, so EngineLimitError.
   */
  guard<T extends RawValue | undefined>(
    what: string,
    inputs: readonly RawValue[],
    compute: (device: JaxDevice, fresh: boolean) => T[],
  ): T[] {
    const results = compute(this.config.device, false);
    if (this.config.device !== "wasm" || results.every(isFiniteValue)) return results;
    const reference = compute("cpu", true);
    if (reference.every(isFiniteValue)) {
      throw new EngineLimitError(
        this.operation(what),
        `the wasm device gave a non-finite ${what} value where the float64 cpu device gives a finite one ` +
          `(inputs ${inputs.map(describeRaw).join(", ")}): wasm evaluates exp/log/sin/cos in float32 ` +
          '(exp overflows from x = 88.7); use { device: "cpu" } or rescale the function',
      );
    }
    return results;
  }
}

/** @internal the arrays of a function's outputs as a list */
export function asList(output: JaxResults): JaxArray[] {
  return Array.isArray(output) ? output : [output];
}

/** The message of a thrown value: its `message` when it has one, otherwise the value as text. */
function messageOf(error: unknown): unknown {
  if (typeof error === "object" && error !== null && "message" in error)
    return error.message ?? String(error);
  return String(error);
}

/** The single entry of a size-1 seed (an NDArray or a number); 0 for undefined. */
function scalarOf(seed: RawValue | undefined): number {
  if (seed === undefined) return 0;
  return typeof seed === "number" ? seed : seed.data[0];
}

function scaleRaw(value: RawValue, factor: number): RawValue {
  if (typeof value === "number") return value * factor;
  const data = new Float64Array(value.size);
  const source = value.data;
  for (let i = 0; i < data.length; i++) data[i] = source[i] * factor;
  return new NDArray(data, value.shape);
}

/** sum_d <a_d, b_d> over raw values (b_d undefined is zero). */
function dotAll(a: readonly RawValue[], b: readonly (RawValue | undefined)[]): number {
  let total = 0;
  for (let d = 0; d < a.length; d++) {
    const left = a[d];
    const right = b[d];
    if (right === undefined) continue;
    if (typeof left === "number") {
      total += left * (typeof right === "number" ? right : right.data[0]);
      continue;
    }
    const x = left.data;
    const y = dataOf(right);
    for (let i = 0; i < x.length; i++) total += x[i] * y[i];
  }
  return total;
}

/** The entries of a raw value (one entry for a number). */
function dataOf(value: RawValue): Float64Array {
  return typeof value === "number" ? Float64Array.of(value) : value.data;
}

/** A size-1 NDArray of the given shape holding `value`. */
function scalarLike(shape: readonly number[], value: number): NDArray {
  return new NDArray(Float64Array.of(value), shape);
}

function isFiniteValue(value: RawValue | undefined): boolean {
  if (value === undefined) return true;
  if (typeof value === "number") return Number.isFinite(value);
  const data = value.data;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}

function describeRaw(value: RawValue): string {
  return typeof value === "number" ? String(value) : `[${value.shape.join(", ")}]`;
}
