/** @file Typed errors: every failure names the operation, the shapes or values involved, and the fix. */

/**
 * Base class of every error tsadjoint throws on purpose. `operation` names the call that failed.
 *
 * @example
 * try { computeGradient(J, new Control(x)); } catch (e) { if (e instanceof TsadjointError) console.log(e.operation); }
 */
export class TsadjointError extends Error {
  /** The operation that failed, e.g. `"computeGradient"` or `"np.matmul"`. */
  readonly operation: string;
  constructor(operation: string, message: string) {
    super(`${operation}: ${message}`);
    this.name = new.target.name;
    this.operation = operation;
  }
}

/**
 * Shapes that do not fit together (broadcasting, matmul, a control's value of the wrong shape, ...).
 *
 * @example
 * throw new ShapeMismatchError("np.add", [[2, 3], [4]], "arrays must broadcast");
 */
export class ShapeMismatchError extends TsadjointError {
  readonly shapes: readonly (readonly number[])[];
  constructor(operation: string, shapes: readonly (readonly number[])[], hint: string) {
    super(operation, `shapes ${shapes.map((s) => `[${s.join(", ")}]`).join(" and ")} do not fit: ${hint}`);
    this.shapes = shapes;
  }
}

/**
 * A Control whose value was never used by any block on the tape being differentiated.
 *
 * @example
 * const x = new AdjFloat(1); // created but never used
 * computeGradient(J, new Control(x)); // throws ControlNotOnTapeError
 */
export class ControlNotOnTapeError extends TsadjointError {}

/**
 * A value (usually the functional) that no block on the tape produced, so it cannot be differentiated.
 *
 * @example
 * const J = stopAnnotating(() => np.sin(x)); // not recorded
 * computeGradient(J, new Control(x)); // throws ValueNotOnTapeError
 */
export class ValueNotOnTapeError extends TsadjointError {}

/**
 * `ReducedFunctional.derivative` (or another scalar-only call) given a functional that is not a scalar.
 *
 * @example
 * new ReducedFunctional(vectorValue, control).derivative(); // throws unless adjInput is given
 */
export class NonScalarFunctionalError extends TsadjointError {}

/**
 * A value whose type is not registered as an overloaded type (see `registerOverloadedType`).
 *
 * @example
 * createOverloadedObject(new Map()); // throws UnregisteredTypeError
 */
export class UnregisteredTypeError extends TsadjointError {}

/**
 * A derivative asked at a non-finite value, or a derivative that came out non-finite; names the block.
 *
 * @example
 * const y = np.sqrt(new AdjFloat(0)); computeGradient(y, control); // d sqrt at 0 is infinite: throws
 */
export class NonFiniteValueError extends TsadjointError {}

/**
 * The number of values given does not match the number of controls.
 *
 * @example
 * rf.evaluate([1, 2, 3]); // rf has two controls: throws ControlCountMismatchError
 */
export class ControlCountMismatchError extends TsadjointError {}

/**
 * A block was asked for a mode it has no rule for (for example a custom block without `evaluateHessian`).
 * Never a silent zero.
 *
 * @example
 * class OnlyAdjoint extends Block { ... } // computeHessian through it throws MissingRuleError
 */
export class MissingRuleError extends TsadjointError {}

/**
 * An engine (jax-js, TensorFlow.js, a solver) cannot compute what was asked correctly.
 *
 * @example
 * throw new EngineLimitError("runTensorflowGraph.hessian", "TensorFlow.js second derivative of tanh is wrong");
 */
export class EngineLimitError extends TsadjointError {}

/**
 * An argument outside what the operation accepts (a negative step count, an unknown option, ...).
 *
 * @example
 * taylorTest(rf, m, h, { epsilons: [] }); // throws InvalidArgumentError
 */
export class InvalidArgumentError extends TsadjointError {}

/**
 * @internal An InvalidArgumentError from a message of the form `"operation: what is wrong"` (the array
 * kernels' style).
 */
export function invalidArgument(message: string): InvalidArgumentError {
  const split = message.indexOf(": ");
  return split > 0
    ? new InvalidArgumentError(message.slice(0, split), message.slice(split + 2))
    : new InvalidArgumentError("tsadjoint", message);
}
