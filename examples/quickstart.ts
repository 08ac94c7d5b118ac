/** @file Quick start: record a small program, then its gradient, a Taylor test and a Hessian action. */
import { AdjFloat, Control, np, ReducedFunctional, Tape, taylorTest, withTape } from "tsadjoint";

/**
 * Records J(x, k) = sin(k x) exp(-x^2 / 2) and differentiates it.
 *
 * @example
 * const { gradient, taylorRate, hessianAction } = quickstart();
 */
export function quickstart() {
  const tape = new Tape();
  const x = new AdjFloat(0.8);
  const k = new AdjFloat(2.5);
  const J = withTape(tape, () => np.multiply(np.sin(k.mul(x)), np.exp(np.divide(np.square(x), -2))));
  const rf = new ReducedFunctional(J, [new Control(x), new Control(k)], { tape });
  const gradient = rf.derivative().map((g) => g.value);
  const taylorRate = taylorTest(rf, [0.8, 2.5], [0.1, -0.3]);
  const taylorRateHessian = taylorTest(rf, [0.8, 2.5], [0.1, -0.3], { hessian: true });
  const hessianAction = rf.hessian([1, 0]).map((h) => h.value);
  return {
    value: J.value,
    gradient,
    taylorRate,
    taylorRateHessian,
    hessianAction,
    blocks: tape.blocks.length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = quickstart();
  console.log(`J(x=0.8, k=2.5)        = ${result.value.toFixed(12)}`);
  console.log(`dJ/d(x, k)             = [${result.gradient.map((g) => g.toFixed(12)).join(", ")}]`);
  console.log(`Taylor rate (gradient) = ${result.taylorRate.toFixed(4)}   (expect about 2)`);
  console.log(`Taylor rate (Hessian)  = ${result.taylorRateHessian.toFixed(4)}   (expect about 3)`);
  console.log(`H [1, 0]               = [${result.hessianAction.map((h) => h.toFixed(12)).join(", ")}]`);
}
