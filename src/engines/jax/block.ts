/**
 * @file JaxBlock: the tape block of one call of an `overloadJax` function. jax-js differentiates the
 * function; the block's JaxCall converts NDArrays / numbers to jax-js arrays at its boundary, owns every
 * jax-js array it creates, and the block releases the pullback it keeps (finalization registry,
 * `dispose()`, `releaseJaxResources`).
 */

import { TsadjointError } from "../../errors.js";
import { checkOptions } from "../../options.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
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
import { type ArrayRaw, NDArray } from "../../values/ndarray.js";
import type { JaxCall, Residuals } from "./call.js";
import { evaluateJaxJacobian, jaxJacobianAt } from "./jacobian.js";

/** What a JaxBlock reads: the value of each dependency (an NDArray, or a number for an AdjFloat). */
/** The raw values a JaxBlock reads: numbers and NDArrays. */
export type JaxBlockInputs = readonly ArrayRaw[];
/** What a JaxBlock produces: the function's outputs. */
/** The raw values a JaxBlock produces. */
export type JaxBlockOutputs = readonly NDArray[];

const residualRegistry = new FinalizationRegistry<Residuals>((residuals) => residuals.release());

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
export class JaxBlock
  extends Block<JaxBlockInputs, JaxBlockOutputs>
  implements JacobianBlock<JaxBlockInputs, JaxBlockOutputs>, DisposableBlock
{
  /** Declares the JacobianBlock capability (vmapped Jacobians, per-point stacks). */
  get [jacobianPropagation](): true {
    return true;
  }
  /** Declares the DisposableBlock capability (the pullback holds jax-js arrays). */
  get [disposable](): true {
    return true;
  }
  /** @internal The engine side: the function, options and values this block was recorded with, and its state. */
  readonly call: JaxCall;

  /**
   * @internal built by the functions `overloadJax` returns, on the call whose forward pass made the
   * outputs
   */
  constructor(call: JaxCall, dependencies: BlockVariable[], outputs: BlockVariable[]) {
    super(dependencies, outputs);
    this.call = call;
    residualRegistry.register(this, call.residuals);
  }

  override get name(): string {
    return this.call.config.name;
  }

  /** Whether the function returned a list (the overloaded function then returns a list of NDArrays). */
  get returnsList(): boolean {
    return this.call.outputIsList;
  }

  /**
   * What the block keeps from its last forward pass: `"pullback"` (jax-js residual buffers), `"gradient"`
   * (a function with one scalar output keeps its gradient, plain float64 arrays), or `undefined`
   * (checkpointing, or released).
   */
  get linearization(): "pullback" | "gradient" | undefined {
    const { residuals } = this.call;
    if (residuals.pullback !== undefined) return "pullback";
    return residuals.gradient !== undefined ? "gradient" : undefined;
  }

  /** Whether jax-js buffers (a pullback) are held now (for memory accounting). */
  get holdsPullback(): boolean {
    return this.call.residuals.pullback !== undefined;
  }

  /**
   * Releases what the block keeps from its forward pass (the pullback's engine buffers, or the gradient).
   * The block stays usable: the next adjoint recomputes the linearization.
   *
   * @example
   * (tape.blocks[0] as JaxBlock).dispose();
   */
  dispose(): void {
    this.call.dispose();
  }

  recompute({ inputs }: RecomputeContext<JaxBlockInputs>): JaxBlockOutputs {
    return this.call.forward(inputs, !this.call.config.checkpoint);
  }

  /** TLM: ydot = J xdot, one `jvp`. */
  override evaluateTlm({
    inputs,
    tlmInputs,
  }: TlmContext<JaxBlockInputs, JaxBlockOutputs>): Seeds<JaxBlockOutputs> {
    if (tlmInputs.every((t) => t === undefined)) return this.outputs.map(() => undefined);
    return this.call.tangentLinear(inputs, tlmInputs);
  }

  /** Adjoint: xbar = J^T ybar, from the kept pullback (or a fresh `vjp` with `checkpoint`). */
  override evaluateAdj({
    inputs,
    adjInputs,
    needed,
  }: AdjContext<JaxBlockInputs, JaxBlockOutputs>): Seeds<JaxBlockInputs> {
    if (adjInputs.every((a) => a === undefined)) return this.dependencies.map(() => undefined);
    const results = this.call.adjoint(inputs, adjInputs);
    return results.map((value, i) => (needed[i] ? value : undefined));
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
  }: HessianContext<JaxBlockInputs, JaxBlockOutputs>): Seeds<JaxBlockInputs> {
    const anyAdjoint = adjInputs.some((a) => a !== undefined);
    const anySecond = hessianInputs.some((a) => a !== undefined);
    const anyTangent = tlmInputs.some((t) => t !== undefined);
    if (!anyAdjoint || !anyTangent) {
      if (!anySecond) return this.dependencies.map(() => undefined);
      return this.evaluateAdj({ inputs, outputs: [], adjInputs: hessianInputs, needed });
    }
    const results = this.call.secondOrder(
      inputs,
      adjInputs,
      tlmInputs,
      anySecond ? hessianInputs : undefined,
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
  evaluateJacobian(
    context: JacobianContext<JaxBlockInputs, JaxBlockOutputs>,
  ): readonly JacobianValue[] | undefined {
    if (this.call.outputShapes.length === 0) this.call.forward(context.inputs, false);
    return evaluateJaxJacobian(this.call, context);
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
  jacobian(inputs?: readonly ArrayRaw[], options: JacobianOptions = {}): NDArray[][] {
    checkOptions(`${this.name}.jacobian`, options, ["dense"]);
    const values = inputs ?? this.dependencies.map((d) => savedRaw(d, this.name));
    if (this.call.outputShapes.length === 0) this.call.forward(values, false);
    return this.call.derivative("jacobian", () => jaxJacobianAt(this.call, values, options.dense === true));
  }
}

/** The value the tape holds for a dependency of a JaxBlock: an NDArray, or a number for an AdjFloat. */
function savedRaw(variable: BlockVariable, operation: string): ArrayRaw {
  const value = variable.saved;
  if (typeof value === "number" || value instanceof NDArray) return value;
  throw new TsadjointError(`${operation}.jacobian`, "a dependency holds neither an NDArray nor a number");
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
