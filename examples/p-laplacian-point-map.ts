/**
 * @file The seed's point-map example: the p-Laplacian flux q(u, g, p) = (|g|^2 + 1e-12)^((p-2)/2) g,
 * written with `tsadjoint/numpy` on a batch of points and recorded as ONE block by `pointMap`.
 */
import { AdjFloat, Control, np, pointMap, ReducedFunction, Tape, taylorTest, withTape } from "tsadjoint";

type NDArray = InstanceType<typeof np.NDArray>;

/**
 * The flux on a batch of points: u [n] (unused), g [n, 2] (the gradient at each point), p a scalar.
 * mu = (sum(g*g, axis 1) + 1e-12)^((p-2)/2); q = reshape(mu, [n, 1]) * g.
 *
 * @example
 * const q = flux(np.zeros([3]), np.ones([3, 2]), new AdjFloat(3));
 */
export const flux = pointMap([[-1], [-1, 2], []], [-1, 2], { bare: true })(function pLaplacianFlux(
  _u: NDArray,
  g: NDArray,
  p: AdjFloat | number,
): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
});

/** What `runPLaplacian` reports. */
export interface PLaplacianReport {
  /** Blocks the call left on the tape (one: the point map). */
  blocks: number;
  /** Taylor rates: gradient term with respect to g, and to p, and with the Hessian term. */
  rateG: number;
  rateP: number;
  rateGHessian: number;
  ratePHessian: number;
  /** Taylor rates along g and p together, first order and with the Hessian term. */
  rateBoth: number;
  rateBothHessian: number;
  /** Shape of the per-point Jacobian stack dq/dg. */
  stackShape: readonly number[];
}

/**
 * Records the flux on `n` points, builds the ReducedFunction q(g, p), and runs Taylor tests along g and p
 * (first order, then with the Hessian action and an adjoint direction).
 *
 * @example
 * runPLaplacian(50).rateG; // about 2
 */
export function runPLaplacian(n = 40, seed = 7): PLaplacianReport {
  const rng = np.random.default_rng(seed);
  const tape = new Tape();
  const u = rng.normal(0, 1, [n]);
  const g = rng.uniform(0.5, 1.5, [n, 2]);
  const p = new AdjFloat(3.5);
  const q = withTape(tape, () => flux(u, g, p));
  const rf = new ReducedFunction(q, [new Control(g), new Control(p)], { tape });
  const dg = rng.uniform(-1, 1, [n, 2]);
  const v = rng.uniform(-1, 1, [n, 2]);
  const zeroG = np.zeros([n, 2]);
  const rateG = taylorTest(rf, [g, p], [dg, 0]);
  const rateP = taylorTest(rf, [g, p], [zeroG, 0.5]);
  const rateGHessian = taylorTest(rf, [g, p], [dg, 0], { v });
  const ratePHessian = taylorTest(rf, [g, p], [zeroG, 0.5], { v });
  const rateBoth = taylorTest(rf, [g, p], [dg, 0.5]);
  const rateBothHessian = taylorTest(rf, [g, p], [dg, 0.5], { v });
  const [stack] = rf.jacMatrix();
  return {
    blocks: tape.blocks.length,
    rateG,
    rateP,
    rateGHessian,
    ratePHessian,
    rateBoth,
    rateBothHessian,
    stackShape: stack.shape,
  };
}
