/**
 * @file Browser suite "optimize": `tsadjoint/optimize` in the browser. L-BFGS-B on 2-D Rosenbrock from
 * (-1.2, 1) as a plain problem (36 iterations / 44 evaluations in Node, as scipy 1.17) and through a taped
 * ReducedFunctional (`minimize`), L-BFGS-B with an active bound, BFGS and Newton-CG (Hessian actions from the
 * tape). Runs unchanged in Chromium and Node.
 */
import { AdjFloat, Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { minimize, minimizeLbfgsb, type OptimizationProblem, type OptimizeResult } from "tsadjoint/optimize";

/** 2-D Rosenbrock f = 100 (y - x^2)^2 + (1 - x)^2 with its exact gradient. */
const rosenbrock: OptimizationProblem = {
  value: (x) => 100 * (x[1] - x[0] * x[0]) ** 2 + (1 - x[0]) ** 2,
  gradient: (x) => {
    const r = x[1] - x[0] * x[0];
    return Float64Array.of(-400 * x[0] * r - 2 * (1 - x[0]), 200 * r);
  },
};

function summary(
  result: Pick<
    OptimizeResult,
    | "fun"
    | "iterations"
    | "functionEvaluations"
    | "gradientEvaluations"
    | "hessianActions"
    | "stopReason"
    | "success"
    | "method"
  >,
  x: ArrayLike<number>,
) {
  return {
    x: Array.from(x),
    fun: result.fun,
    iterations: result.iterations,
    functionEvaluations: result.functionEvaluations,
    gradientEvaluations: result.gradientEvaluations,
    hessianActions: result.hessianActions,
    stopReason: result.stopReason,
    success: result.success,
    method: result.method,
  };
}

function tapedRosenbrock() {
  const tape = new Tape();
  const x = new AdjFloat(-1.2);
  const y = new AdjFloat(1);
  const J = withTape(tape, () =>
    np.add(np.square(np.subtract(1, x)), np.multiply(100, np.square(np.subtract(y, np.square(x))))),
  );
  return new ReducedFunctional(J, [new Control(x), new Control(y)], { tape });
}

/**
 * Runs the optimizers on Rosenbrock.
 *
 * @example
 * run().plain.iterations; // 36
 */
export function run() {
  const plain = minimizeLbfgsb(rosenbrock, Float64Array.of(-1.2, 1));
  const bounded = minimizeLbfgsb(rosenbrock, Float64Array.of(-1.2, 1), {
    bounds: { lower: Float64Array.of(-Infinity, -Infinity), upper: Float64Array.of(0.5, Infinity) },
  });
  const taped = minimize(tapedRosenbrock(), { method: "L-BFGS-B" });
  const bfgs = minimize(tapedRosenbrock(), { method: "BFGS" });
  const newton = minimize(tapedRosenbrock(), { method: "Newton-CG" });
  return {
    plain: summary(plain, plain.x),
    bounded: summary(bounded, bounded.x),
    taped: summary(taped, taped.xFlat),
    bfgs: summary(bfgs, bfgs.xFlat),
    newton: summary(newton, newton.xFlat),
  };
}
