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
  recordBlock,
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

/**
 * The same operation written out as a Block (for operations that are not elementwise). y = softplus(x). Rules: y' = sigmoid(x); y'' = sigmoid(x) (1 - sigmoid(x)).
 */
export class SoftplusBlock extends Block {
  constructor(x: AdjFloat) {
    super();
    this.addDependency(x);
  }

  recompute({ inputs }: RecomputeContext) {
    return [softplusValue(inputs[0] as number)];
  }

  // ydot = sigmoid(x) xdot
  override evaluateTlm({ inputs, tlmInputs }: TlmContext) {
    const xdot = tlmInputs[0] as number | undefined;
    return [xdot === undefined ? undefined : sigmoid(inputs[0] as number) * xdot];
  }

  // xbar = sigmoid(x) ybar
  override evaluateAdj({ inputs, adjInputs }: AdjContext) {
    const ybar = adjInputs[0] as number | undefined;
    return [ybar === undefined ? undefined : sigmoid(inputs[0] as number) * ybar];
  }

  // xhat = sigmoid(x) yhat + sigmoid(x) (1 - sigmoid(x)) ybar xdot
  override evaluateHessian({ inputs, adjInputs, hessianInputs, tlmInputs }: HessianContext) {
    const s = sigmoid(inputs[0] as number);
    const ybar = (adjInputs[0] as number | undefined) ?? 0;
    const yhat = (hessianInputs[0] as number | undefined) ?? 0;
    const xdot = (tlmInputs[0] as number | undefined) ?? 0;
    return [s * yhat + s * (1 - s) * ybar * xdot];
  }
}

/**
 * softplus(x) = ln(1 + e^x), recorded as one SoftplusBlock.
 *
 * @example
 * const y = softplus(new AdjFloat(0.5));
 */
export function softplus(x: AdjFloat): AdjFloat {
  const block = new SoftplusBlock(x);
  const y = block.addOutput(new AdjFloat(softplusValue(x.value)));
  recordBlock(block); // records only while annotation is on
  return y;
}
