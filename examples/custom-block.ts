/**
 * @file Extending tsadjoint with a new operation, the smooth ramp softplus(x) = ln(1 + e^x), two ways:
 * the short way, `defineElementwise` with f, f' and f'' (scalars and arrays, all four modes), and the
 * general way, a Block subclass with hand-written tangent-linear, adjoint and Hessian rules.
 */
import {
  type AdjContext,
  AdjFloat,
  Block,
  defineElementwise,
  type HessianContext,
  type RecomputeContext,
  record,
  type Seeds,
  type TlmContext,
} from "tsadjoint";

const softplusValue = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * softplus as a declaration: the value, f' = sigmoid and f'' = sigmoid (1 - sigmoid). Works on numbers,
 * AdjFloats and NDArrays, and records one "softplus" block with all four modes.
 *
 * @example
 * const y = softplusElementwise(np.array([-1, 0, 1]));
 */
export const softplusElementwise = defineElementwise({
  name: "softplus",
  f: softplusValue,
  df: (x) => sigmoid(x),
  d2f: (x) => sigmoid(x) * (1 - sigmoid(x)),
});

/** The block's inputs and outputs as the tape saves them: the AdjFloat x as its number, y likewise. */
type In = readonly [x: number];
type Out = readonly [y: number];

/**
 * The same operation written out as a Block (for operations that are not elementwise), typed by its inputs
 * and outputs: the compiler checks every mode's arity and value types. y = softplus(x). Rules:
 * y' = sigmoid(x); y'' = sigmoid(x) (1 - sigmoid(x)). A seed is `undefined` for zero.
 */
export class SoftplusBlock extends Block<In, Out> {
  recompute({ inputs: [x] }: RecomputeContext<In>): Out {
    return [softplusValue(x)];
  }

  // ydot = sigmoid(x) xdot
  override evaluateTlm({ inputs: [x], tlmInputs: [xdot] }: TlmContext<In, Out>): Seeds<Out> {
    return [xdot === undefined ? undefined : sigmoid(x) * xdot];
  }

  // xbar = sigmoid(x) ybar
  override evaluateAdj({ inputs: [x], adjInputs: [ybar] }: AdjContext<In, Out>): Seeds<In> {
    return [ybar === undefined ? undefined : sigmoid(x) * ybar];
  }

  // xhat = sigmoid(x) yhat + sigmoid(x) (1 - sigmoid(x)) ybar xdot
  override evaluateHessian({
    inputs: [x],
    adjInputs: [ybar = 0],
    hessianInputs: [yhat = 0],
    tlmInputs: [xdot = 0],
  }: HessianContext<In, Out>): Seeds<In> {
    const s = sigmoid(x);
    return [s * yhat + s * (1 - s) * ybar * xdot];
  }
}

/**
 * softplus(x) = ln(1 + e^x), recorded as one SoftplusBlock: `record` builds the block over x's record and
 * a fresh record for y, appends it to the working tape and links y to it (only while annotation is on).
 *
 * @example
 * const y = softplus(new AdjFloat(0.5));
 */
export function softplus(x: AdjFloat): AdjFloat {
  const y = new AdjFloat(softplusValue(x.value));
  record([x], [y], (dependencies, outputs) => new SoftplusBlock(dependencies, outputs));
  return y;
}
