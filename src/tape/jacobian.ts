/**
 * @file The Jacobian values a block can propagate itself (see the `JacobianBlock` capability): the identity
 * marker at the control, a dense Jacobian, and a per-point (block-diagonal) stack.
 */
import type { NDArray } from "../values/ndarray.js";

/**
 * The marker "this value is the control itself" (its Jacobian is the identity). A block's
 * `evaluateJacobian` receives it for a dependency that is the control.
 *
 * @example
 * context.jacobianInputs[0] === IDENTITY; // the first dependency is the control
 */
export const IDENTITY: unique symbol = Symbol("tsadjoint.jacobian.identity");

/** The type of {@link IDENTITY}. */
export type IdentityJacobian = typeof IDENTITY;

/**
 * A dense Jacobian d value / d control: `matrix` has shape `[...valueShape, ...controlShape]` (row-major,
 * so its data is the (size(value) x size(control)) matrix).
 *
 * @example
 * new DenseJacobian(zeros([3, 2]), [3], [2]);
 */
export class DenseJacobian {
  constructor(
    /** Shape `[...valueShape, ...controlShape]`. */
    readonly matrix: NDArray,
    /** Shape of the differentiated value (`[]` for a scalar). */
    readonly valueShape: readonly number[],
    /** Shape of the control (`[]` for a scalar). */
    readonly controlShape: readonly number[],
  ) {}
}

/**
 * A block-diagonal Jacobian over points: value and control both have a leading points axis of length n and
 * point k of the value depends only on point k of the control. `stack[k, ...a, ...c]` is
 * d value[k, ...a] / d control[k, ...c]; shape `[n, ...valuePointShape, ...controlPointShape]`.
 *
 * @example
 * new PointwiseJacobian(zeros([100, 2, 2]), [2], [2]); // value [100, 2], control [100, 2]
 */
export class PointwiseJacobian {
  constructor(
    /** Shape `[n, ...valuePointShape, ...controlPointShape]`. */
    readonly stack: NDArray,
    /** Shape of one point of the value (the value's shape without its leading axis). */
    readonly valuePointShape: readonly number[],
    /** Shape of one point of the control (the control's shape without its leading axis). */
    readonly controlPointShape: readonly number[],
  ) {}

  /** Number of points n. */
  get points(): number {
    return this.stack.shape[0];
  }
}

/** A Jacobian with respect to the control, in dense or per-point stack form. */
export type Jacobian = DenseJacobian | PointwiseJacobian;

/** What a Jacobian slot holds: a Jacobian, the identity marker, or `undefined` for zero. */
export type JacobianValue = Jacobian | IdentityJacobian | undefined;
