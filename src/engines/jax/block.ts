/**
 * @file JaxBlock: the tape block of one call of an `overloadJax` function. jax-js differentiates the
 * function; the block converts NDArrays / numbers to jax-js arrays at its boundary, owns every jax-js array
 * it creates, and releases the pullback it keeps (finalization registry, `dispose()`, `releaseJaxResources`).
 */

import type { Array as JaxArray, OwnedFunction } from "@jax-js/jax";
import { numpy as jnp } from "@jax-js/jax";
import { EngineLimitError, TsadjointError } from "../../errors.js";
import { checkOptions } from "../../options.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type TlmContext,
} from "../../tape/block.js";
import type { BlockVariable } from "../../tape/block-variable.js";
import {
  type DisposableBlock,
  disposable,
  type JacobianBlock,
  type JacobianContext,
  jacobianPropagation,
} from "../../tape/capabilities.js";
import type { JacobianValue } from "../../tape/jacobian.js";
import type { Tape } from "../../tape/tape.js";
import { getWorkingTape } from "../../tape/tape.js";
import { NDArray, shapeSize } from "../../values/ndarray.js";
import { evaluateJaxJacobian, type JaxJacobianHost, jaxJacobianAt, type RawValue } from "./jacobian.js";
import { type ArgumentLayout, type JaxProgram, outputList } from "./program.js";
import {
  disposeQuietly,
  fromJax,
  fromJaxLike,
  type JaxDevice,
  readAll,
  toJax,
  withOwnedArrays,
  zerosJax,
} from "./runtime.js";

type Pullback = OwnedFunction<(cotangent: unknown) => JaxArray[]>;
type Own = <A extends JaxArray>(array: A) => A;

/**
 * @internal The linearization kept from the forward pass (no checkpointing) and the inputs it was computed
 * at: jax-js's pullback (engine buffers), or, for a function with one scalar output, its gradient (plain
 * NDArrays / numbers: the whole linearization, and no engine memory). Held by the finalization registry,
 * so it must not reference its block.
 */
class Residuals {
  pullback: Pullback | undefined = undefined;
  gradient: RawValue[] | undefined = undefined;
  inputs: readonly unknown[] | undefined = undefined;

  keepPullback(pullback: Pullback, inputs: readonly unknown[]): void {
    this.release();
    this.pullback = pullback;
    this.inputs = inputs.slice();
  }

  keepGradient(gradient: RawValue[], inputs: readonly unknown[]): void {
    this.release();
    this.gradient = gradient;
    this.inputs = inputs.slice();
  }

  /** Whether a linearization computed at exactly these input values is held (identity: values are immutable). */
  matches(inputs: readonly unknown[]): boolean {
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

const residualRegistry = new FinalizationRegistry<Residuals>((residuals) => residuals.release());

/** @internal Everything a JaxBlock needs besides its dependencies. */
export interface JaxBlockConfig {
  readonly program: JaxProgram;
  readonly layout: ArgumentLayout;
  /** Values of the constant (non-differentiated, non-static) arguments, read at call time. */
  readonly constants: readonly RawValue[];
  /** Values of the static arguments. */
  readonly statics: readonly unknown[];
  readonly device: JaxDevice;
  readonly checkpoint: boolean;
  /** Per dependency: whether its leading axis is a batch of points. */
  readonly pointwise: readonly boolean[];
  /** The `outPointwise` option: one flag for all outputs, or one per output. */
  readonly outPointwise: boolean | readonly boolean[];
  readonly name: string;
}

/** Options of `JaxBlock.jacobian`. */
export interface JacobianOptions {
  /** Ignore the pointwise options and return the full dense Jacobian `[...out, ...in]` (default false). */
  dense?: boolean;
}

/**
 * The block one call of an `overloadJax` function records. jax-js gives every mode:
 * - recompute: y = f(x) (the jitted function when `jit` is on);
 * - tangent linear: ydot = J xdot by `jvp`;
 * - adjoint: xbar = J^T ybar by `vjp` (the linearization kept from the forward pass, or recomputed with
 *   `checkpoint`);
 * - Hessian: xhat = J^T yhat + (d/dx (J^T ybar)) xdot by forward-over-reverse (`jvp` of the `vjp` map
 *   (x, ybar) -> J(x)^T ybar along (xdot, yhat)): the full second-order adjoint for vector outputs;
 * - Jacobian (`evaluateJacobian`, for `computeJacobianMatrix`): one vmapped `jvp` over the control's
 *   directions, a per-point stack for pointwise inputs and outputs. `jacobian()` gives the block's own
 *   Jacobians directly.
 *
 * Without `checkpoint` the forward pass keeps the linearization: jax-js's pullback (its residual buffers),
 * or, for a function with one scalar output (a loss), its gradient, computed with the value in one kernel
 * (then the adjoint is ybar times it and the tangent-linear value a dot product: no engine call, no engine
 * memory). A kept pullback is released when the block is garbage-collected (a FinalizationRegistry), by
 * `dispose()`, or by `releaseJaxResources(tape)` (call it before `tape.clear()` to free engine memory at
 * once). A released linearization is recomputed on demand.
 *
 * @example
 * const y = overloadJax((x: JaxArray) => jnp.sin(x))(array([0.1, 0.2]));
 * const block = getWorkingTape().blocks.at(-1) as JaxBlock;
 * block.jacobian()[0][0].shape; // [2, 2]
 */
export class JaxBlock extends Block implements JacobianBlock, DisposableBlock {
  /** Declares the JacobianBlock capability (vmapped Jacobians, per-point stacks). */
  get [jacobianPropagation](): true {
    return true;
  }
  /** Declares the DisposableBlock capability (the pullback holds jax-js arrays). */
  get [disposable](): true {
    return true;
  }
  /** @internal The function, options and values this block was recorded with. */
  readonly config: JaxBlockConfig;
  private readonly residuals = new Residuals();
  private outputIsList = false;
  private outputShapes: (readonly number[])[] = [];

  /** @internal built by the functions `overloadJax` returns */
  constructor(config: JaxBlockConfig, dependencies: BlockVariable[]) {
    super(dependencies, []);
    this.config = config;
    residualRegistry.register(this, this.residuals);
  }

  override get name(): string {
    return this.config.name;
  }

  /** Whether the function returned a list (the overloaded function then returns a list of NDArrays). */
  get returnsList(): boolean {
    return this.outputIsList;
  }

  /**
   * What the block keeps from its last forward pass: `"pullback"` (jax-js residual buffers), `"gradient"`
   * (a function with one scalar output keeps its gradient, plain float64 arrays), or `undefined`
   * (checkpointing, or released).
   */
  get linearization(): "pullback" | "gradient" | undefined {
    if (this.residuals.pullback !== undefined) return "pullback";
    return this.residuals.gradient !== undefined ? "gradient" : undefined;
  }

  /** Whether jax-js buffers (a pullback) are held now (for memory accounting). */
  get holdsPullback(): boolean {
    return this.residuals.pullback !== undefined;
  }

  /**
   * Releases what the block keeps from its forward pass (the pullback's engine buffers, or the gradient).
   * The block stays usable: the next adjoint recomputes the linearization.
   *
   * @example
   * (tape.blocks[0] as JaxBlock).dispose();
   */
  dispose(): void {
    this.residuals.release();
  }

  /**
   * @internal Runs the function at `inputs`; keeps the linearization (pullback or gradient) when asked.
   * Sets the output structure.
   */
  evaluateForward(inputs: readonly unknown[], keepLinearization: boolean): NDArray[] {
    const results = this.guard("forward", inputs, (device, fresh) =>
      this.forwardOn(inputs, device, keepLinearization && !fresh),
    );
    return results as NDArray[];
  }

  private forwardOn(inputs: readonly unknown[], device: JaxDevice, keepLinearization: boolean): NDArray[] {
    const { program, layout, statics } = this.config;
    return withOwnedArrays((own) => {
      const p = inputs.map((value) => own(toJax(value as RawValue, device)));
      const c = this.config.constants.map((value) => own(toJax(value, device)));
      if (keepLinearization && this.scalarOutput()) {
        // the value and its gradient in one kernel: the gradient is the whole linearization
        const kernel = program.valueAndGradient(layout, this.outputIsList);
        const [output, gradient] = kernel(p, c, ...statics) as [unknown, JaxArray[]];
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
      let output: unknown;
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

  /** Whether the function has exactly one output, of size 1 (a scalar functional). */
  private scalarOutput(): boolean {
    return this.outputShapes.length === 1 && shapeSize(this.outputShapes[0]) === 1;
  }

  /** The kept gradient when it was computed at `inputs` and linearizations are kept. */
  private keptGradient(inputs: readonly unknown[]): RawValue[] | undefined {
    if (this.config.checkpoint || !this.residuals.matches(inputs)) return undefined;
    return this.residuals.gradient;
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    return this.evaluateForward(inputs, !this.config.checkpoint);
  }

  /** TLM: ydot = J xdot, one `jvp`. */
  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    if (tlmInputs.every((t) => t === undefined)) return this.outputs.map(() => undefined);
    return this.derivative("tlm", () =>
      this.guard("tangent-linear", inputs, (device, fresh) => {
        const gradient = fresh ? undefined : this.keptGradient(inputs);
        // scalar output: ydot = sum_d <dy/dx_d, xdot_d>, from the kept gradient
        if (gradient !== undefined) return [scalarLike(this.outputShapes[0], dotAll(gradient, tlmInputs))];
        const { program, layout, statics } = this.config;
        return withOwnedArrays((own) => {
          const p = inputs.map((value) => own(toJax(value as RawValue, device)));
          const c = this.config.constants.map((value) => own(toJax(value, device)));
          const t = this.seeds(tlmInputs, inputs, device, own);
          const tangent = program.jvp(layout)(p, c, t, ...statics);
          return readAll(this.asList(tangent), (array, i) =>
            fromJax(array, this.operation("tlm"), `tangent of output ${i}`),
          );
        });
      }),
    );
  }

  /** Adjoint: xbar = J^T ybar, from the kept pullback (or a fresh `vjp` with `checkpoint`). */
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    if (adjInputs.every((a) => a === undefined)) return this.dependencies.map(() => undefined);
    const results = this.derivative("adjoint", () =>
      this.guard("adjoint", inputs, (device, fresh) => this.adjointOn(inputs, adjInputs, device, fresh)),
    );
    return results.map((value, i) => (needed[i] ? value : undefined));
  }

  private adjointOn(
    inputs: readonly unknown[],
    seeds: readonly unknown[],
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
        const p = inputs.map((value) => own(toJax(value as RawValue, device)));
        const c = this.config.constants.map((value) => own(toJax(value, device)));
        grads = program.vjp(layout)(p, c, cotangent, ...statics) as JaxArray[];
      }
      return readAll(grads, (array, i) =>
        fromJaxLike(array, inputs[i], this.operation("adjoint"), `adjoint of dependency ${i}`),
      );
    });
  }

  /**
   * Second-order adjoint: xhat = J^T yhat + (d/dx (J^T ybar)) xdot, forward over reverse in one (jitted)
   * kernel: the jvp of (x, ybar) -> J(x)^T ybar along (xdot, yhat), or of x -> J(x)^T ybar along xdot when
   * yhat is zero; only J^T yhat (the adjoint rule) when ybar or xdot is zero.
   */
  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext): readonly unknown[] {
    const anyAdjoint = adjInputs.some((a) => a !== undefined);
    const anySecond = hessianInputs.some((a) => a !== undefined);
    const anyTangent = tlmInputs.some((t) => t !== undefined);
    if (!anyAdjoint || !anyTangent) {
      if (!anySecond) return this.dependencies.map(() => undefined);
      return this.evaluateAdj({ inputs, outputs: [], adjInputs: hessianInputs, needed });
    }
    const results = this.derivative("hessian", () =>
      this.guard("Hessian", inputs, (device) => {
        const { program, layout, statics } = this.config;
        return withOwnedArrays((own) => {
          const p = inputs.map((value) => own(toJax(value as RawValue, device)));
          const c = this.config.constants.map((value) => own(toJax(value, device)));
          const adjoint = this.cotangent(adjInputs, device, own);
          const t = this.seeds(tlmInputs, inputs, device, own);
          const hat = (
            anySecond
              ? program.hvp(layout)(p, c, adjoint, t, this.cotangent(hessianInputs, device, own), ...statics)
              : program.hvpFirstOrder(layout)(p, c, adjoint, t, ...statics)
          ) as JaxArray[];
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
    return results.map((value, i) => (needed[i] ? value : undefined));
  }

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
  evaluateJacobian(context: JacobianContext): readonly JacobianValue[] | undefined {
    if (this.outputShapes.length === 0) this.evaluateForward(context.inputs, false);
    return evaluateJaxJacobian(this.jacobianHost(), context);
  }

  /**
   * The Jacobian of every output with respect to every dependency at `inputs` (default: the values the
   * tape holds), indexed `[output][dependency]`.
   * - Dense (no pointwise output, or `{ dense: true }`): shape `[...outShape, ...inShape]`, built from
   *   vmapped `vjp` rows or `jvp` columns, whichever needs fewer passes.
   * - Pointwise output (leading axis n is a batch of points): the per-point stack
   *   `[n, ...outPointShape, ...inPointShape]` for a pointwise dependency (point i of the output depends only
   *   on point i of the input: one `jvp` per point component, vmapped), `[n, ...outPointShape, ...inShape]`
   *   for a dependency shared by all points.
   * A number dependency has shape `[]`.
   *
   * @example
   * const [[J]] = block.jacobian(); // d y / d x
   */
  jacobian(inputs?: readonly unknown[], options: JacobianOptions = {}): NDArray[][] {
    checkOptions(`${this.name}.jacobian`, options, ["dense"]);
    const values = inputs ?? this.dependencies.map((d) => d.saved);
    if (this.outputShapes.length === 0) this.evaluateForward(values, false);
    return this.derivative("jacobian", () =>
      jaxJacobianAt(this.jacobianHost(), values, options.dense === true),
    );
  }

  /** The view of this block the Jacobian code reads (built after the forward pass set the outputs). */
  private jacobianHost(): JaxJacobianHost {
    const { program, layout, constants, statics, device, pointwise, outPointwise } = this.config;
    return {
      program,
      layout,
      constants,
      statics,
      device,
      pointwise,
      outPointwise,
      outputShapes: this.outputShapes,
      outputIsList: this.outputIsList,
      operation: (mode) => this.operation(mode),
      derivative: (mode, body) => this.derivative(mode, body),
      guard: (what, inputs, compute) => this.guard(what, inputs, compute),
    };
  }

  /** Cotangent tree for the outputs: the seeds (zeros where undefined), a list when the function returns one. */
  private cotangent(seeds: readonly unknown[], device: JaxDevice, own: Own): unknown {
    const arrays = this.outputShapes.map((shape, k) => {
      const seed = seeds[k];
      return own(seed === undefined ? zerosJax(shape, device) : toJax(seed as RawValue, device));
    });
    return this.outputIsList ? arrays : arrays[0];
  }

  /** Tangent list for the dependencies: the seeds, zeros where undefined. */
  private seeds(
    tangents: readonly unknown[],
    inputs: readonly unknown[],
    device: JaxDevice,
    own: Own,
  ): JaxArray[] {
    return inputs.map((value, d) => {
      const tangent = tangents[d];
      if (tangent !== undefined) return own(toJax(tangent as RawValue, device));
      return own(zerosJax(typeof value === "number" ? [] : (value as NDArray).shape, device));
    });
  }

  private asList(output: unknown): JaxArray[] {
    return this.outputIsList ? (output as JaxArray[]) : [output as JaxArray];
  }

  private operation(mode: string): string {
    return `${this.config.name}.${mode}`;
  }

  /** Turns an engine failure in a derivative mode into EngineLimitError (typed errors pass through). */
  private derivative<T>(mode: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof TsadjointError) throw error;
      const limit = new EngineLimitError(
        this.operation(mode),
        `jax-js could not compute the ${mode} of this function: ${(error as Error)?.message ?? String(error)}`,
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
  private guard<T extends RawValue | undefined>(
    what: string,
    inputs: readonly unknown[],
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

/** The single entry of a size-1 seed (an NDArray or a number); 0 for undefined. */
function scalarOf(seed: unknown): number {
  if (seed === undefined) return 0;
  return typeof seed === "number" ? seed : (seed as NDArray).data[0];
}

function scaleRaw(value: RawValue, factor: number): RawValue {
  if (typeof value === "number") return value * factor;
  const data = new Float64Array(value.size);
  const source = value.data;
  for (let i = 0; i < data.length; i++) data[i] = source[i] * factor;
  return new NDArray(data, value.shape);
}

/** sum_d <a_d, b_d> over raw values (b_d undefined is zero). */
function dotAll(a: readonly RawValue[], b: readonly unknown[]): number {
  let total = 0;
  for (let d = 0; d < a.length; d++) {
    const left = a[d];
    const right = b[d] as RawValue | undefined;
    if (right === undefined) continue;
    if (typeof left === "number") {
      total += left * (typeof right === "number" ? right : right.data[0]);
      continue;
    }
    const x = left.data;
    const y = (right as NDArray).data;
    for (let i = 0; i < x.length; i++) total += x[i] * y[i];
  }
  return total;
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

function describeRaw(value: unknown): string {
  return typeof value === "number" ? String(value) : `[${(value as NDArray).shape.join(", ")}]`;
}

/**
 * Releases the engine memory (kept pullbacks) of every JaxBlock on `tape` (default: the working tape).
 * Call it before `tape.clear()` to free jax-js buffers at once instead of when the blocks are
 * garbage-collected. The blocks stay usable.
 *
 * @example
 * releaseJaxResources(tape);
 * tape.clear();
 */
export function releaseJaxResources(tape: Tape = getWorkingTape()): number {
  let released = 0;
  for (const block of tape.blocks) {
    if (block instanceof JaxBlock && block.holdsPullback) {
      block.dispose();
      released++;
    }
  }
  return released;
}
