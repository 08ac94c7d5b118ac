/**
 * @file The optional abilities of a Block beyond its four modes, each an interface with a declared marker
 * (a symbol-keyed getter returning `true`) that the sweeps and the tape test, never the presence of a
 * method or the shape of a context: fused second order, the scalar fast paths of the built-in blocks,
 * Jacobian propagation (per-point stacks) and engine resources to dispose.
 */
import type { Block, HessianContext, Seeds, Values } from "./block.js";
import type { BlockVariable } from "./block-variable.js";
import type { JacobianValue } from "./jacobian.js";

/** Marker of {@link FusedSecondOrder}. */
export const fusedSecondOrder: unique symbol = Symbol("tsadjoint.capability.fusedSecondOrder");
/** Marker of {@link JacobianBlock}. */
export const jacobianPropagation: unique symbol = Symbol("tsadjoint.capability.jacobianPropagation");
/** Marker of {@link DisposableBlock}. */
export const disposable: unique symbol = Symbol("tsadjoint.capability.disposable");
/** @internal Marker of {@link ScalarSweeps}. */
export const scalarSweeps: unique symbol = Symbol("tsadjoint.capability.scalarSweeps");
/** Marker of {@link TangentFreeSecondOrder}. */
export const tangentFreeSecondOrder: unique symbol = Symbol("tsadjoint.capability.tangentFreeSecondOrder");

/**
 * Optional fast path for the Hessian sweep: a block that computes its adjoint (`evaluateAdj`) and its
 * second-order adjoint (`evaluateHessian`) in one call, sharing the first derivatives. It must return
 * exactly what the two methods return. Blocks without it get the two calls. Declare it with the marker
 * getter `get [fusedSecondOrder]() { return true as const; }`.
 *
 * @example
 * class MyBlock extends Block<In, Out> implements FusedSecondOrder<In, Out> {
 *   get [fusedSecondOrder]() { return true as const; }
 *   evaluateAdjAndHessian(context: HessianContext<In, Out>) { return [this.evaluateAdj(context), this.evaluateHessian(context)] as const; }
 * }
 */
export interface FusedSecondOrder<I extends Values = Values, O extends Values = Values> {
  readonly [fusedSecondOrder]: true;
  evaluateAdjAndHessian(context: HessianContext<I, O>): readonly [Seeds<I>, Seeds<I>];
}

/**
 * @internal Fast paths of the built-in scalar blocks for the sweeps, working on the block's variables
 * directly (no context, no arrays). Each does exactly what the generic path (context, mode method,
 * accumulation) does, with the same arithmetic in the same order, or returns false having done nothing,
 * and the sweep then takes the generic path. `epoch` is the sweep's forward epoch (a dependency needs
 * derivatives iff its forwardMark equals it).
 */
export interface ScalarSweeps {
  readonly [scalarSweeps]: true;
  /** The block's one output (what `outputs` lists, without building the list). */
  _soleOutput(): BlockVariable;
  /** Recomputes the output when the inputs are numbers (the caller checked it may overwrite it). */
  _recomputeScalar(): boolean;
  /** The tangent-linear value of the output (the caller checked it may overwrite it). */
  _tlmScalar(epoch: number): boolean;
  /** Adds the adjoint contributions to the dependencies' `adj`. */
  _adjointScalar(epoch: number): boolean;
  /** Adds the adjoint and second-order adjoint contributions (the fused Hessian sweep). */
  _secondOrderScalar(epoch: number): boolean;
}

/**
 * Context of `evaluateJacobian(context)` (the {@link JacobianBlock} capability): the Jacobian of each
 * dependency with respect to one control (or `IDENTITY`, or `undefined` for a dependency that does not
 * depend on it).
 */
export interface JacobianContext<I extends Values = Values, O extends Values = Values> {
  /** Values of `block.dependencies` as the tape holds them now. */
  readonly inputs: I;
  /** Values of `block.outputs` as the tape holds them now. */
  readonly outputs: O;
  /** Jacobian of each dependency with respect to the control; `undefined` means zero. */
  readonly jacobianInputs: readonly JacobianValue[];
  /** The control's raw value (its type and shape). */
  readonly control: unknown;
}

/**
 * A block that propagates Jacobians itself (per-point stacks for pointwise maps). `evaluateJacobian`
 * returns the Jacobian of each output with respect to the control (`undefined` for zero), or `undefined`
 * as a whole to let the driver build it column by column through `evaluateTlm`.
 *
 * @example
 * class Doubling extends Block implements JacobianBlock {
 *   get [jacobianPropagation]() { return true as const; }
 *   evaluateJacobian({ jacobianInputs }: JacobianContext) { return undefined; } // use the column fallback
 * }
 */
export interface JacobianBlock<I extends Values = Values, O extends Values = Values> {
  readonly [jacobianPropagation]: true;
  evaluateJacobian(context: JacobianContext<I, O>): readonly JacobianValue[] | undefined;
}

/**
 * A block that holds memory outside the JavaScript heap (engine arrays, compiled programs): `Tape.clear()`
 * calls `dispose()` on it.
 *
 * @example
 * class EngineBlock extends Block implements DisposableBlock {
 *   get [disposable]() { return true as const; }
 *   dispose() { this.program.dispose(); }
 * }
 */
export interface DisposableBlock {
  readonly [disposable]: true;
  dispose(): void;
}

/**
 * Whether `block` declares {@link FusedSecondOrder}.
 *
 * @example
 * if (hasFusedSecondOrder(block)) block.evaluateAdjAndHessian(context);
 */
export function hasFusedSecondOrder(block: Block): block is Block & FusedSecondOrder {
  return fusedSecondOrder in block && block[fusedSecondOrder] === true;
}

/** @internal Whether `block` declares the scalar fast paths. */
export function hasScalarSweeps(block: Block): block is Block & ScalarSweeps {
  return scalarSweeps in block && block[scalarSweeps] === true;
}

/**
 * Whether `block` declares {@link JacobianBlock}.
 *
 * @example
 * if (propagatesJacobians(block)) block.evaluateJacobian(context);
 */
export function propagatesJacobians(block: Block): block is Block & JacobianBlock {
  return jacobianPropagation in block && block[jacobianPropagation] === true;
}

/**
 * Whether `block` declares {@link DisposableBlock}.
 *
 * @example
 * if (isDisposable(block)) block.dispose();
 */
export function isDisposable(block: Block): block is Block & DisposableBlock {
  return disposable in block && block[disposable] === true;
}

/**
 * A block whose second-order modes (`evaluateHessian`, and `evaluateAdjAndHessian` if it has one) never
 * read `tlmInputs`: a linear operation, whose second-order adjoint is the adjoint applied to the output's
 * second-order adjoint. The tangent-linear sweep before a Hessian sweep then skips the tangents only such
 * blocks would read. Declare it with a marker getter returning `true` (a subclass that overrides those
 * modes may return `false`).
 *
 * @example
 * class Scale extends Block<In, Out> implements TangentFreeSecondOrder {
 *   get [tangentFreeSecondOrder]() { return true; }
 * }
 */
export interface TangentFreeSecondOrder {
  readonly [tangentFreeSecondOrder]: boolean;
}

/**
 * Whether `block` declares {@link TangentFreeSecondOrder} (its second-order modes read no tangent).
 *
 * @example
 * if (!hasTangentFreeSecondOrder(block)) for (const d of block.dependencies) tangentNeeded.add(d);
 */
export function hasTangentFreeSecondOrder(block: Block): boolean {
  return tangentFreeSecondOrder in block && block[tangentFreeSecondOrder] === true;
}
