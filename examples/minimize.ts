/**
 * @file Example: fit a decaying oscillation y = a exp(-b t) sin(c t) to noisy samples with `minimize`
 * (L-BFGS-B with bounds, then Newton-CG on Hessian actions), the parameters as AdjFloat controls.
 */
import { AdjFloat, Control, type NDArray, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { minimize } from "tsadjoint/optimize";

/** The model a exp(-b t) sin(c t) on the sample times. */
function model(t: NDArray, a: AdjFloat, b: AdjFloat, c: AdjFloat): NDArray {
  return np.multiply(np.multiply(a, np.exp(np.multiply(np.negative(b), t))), np.sin(np.multiply(c, t)));
}

/** What `fitOscillation` finds. */
export interface FitResult {
  /** The fitted (a, b, c) by L-BFGS-B and by Newton-CG. */
  lbfgsb: number[];
  newtonCg: number[];
  /** Iterations of each method and Hessian actions used by Newton-CG. */
  lbfgsbIterations: number;
  newtonCgIterations: number;
  hessianActions: number;
  /** Least-squares misfit at the optimum. */
  misfit: number;
}

/**
 * Records the least-squares misfit of the model against samples of a = 2, b = 0.3, c = 1.7 with 1% noise
 * and minimises it from a = 1, b = 0.1, c = 1.5 (b bounded to [0, 2]).
 *
 * @example
 * fitOscillation().lbfgsb; // about [2, 0.3, 1.7]
 */
export function fitOscillation(seed = 3): FitResult {
  const rng = np.random.default_rng(seed);
  const t = np.linspace(0, 10, 200);
  const truth = model(t, new AdjFloat(2), new AdjFloat(0.3), new AdjFloat(1.7));
  const data = np.add(truth, rng.normal(0, 0.01, [200]));
  const fitWith = (method: "L-BFGS-B" | "Newton-CG") => {
    const tape = new Tape();
    const [a, b, c] = [new AdjFloat(1), new AdjFloat(0.1), new AdjFloat(1.5)];
    const J = withTape(tape, () => np.multiply(0.5, np.sum(np.square(np.subtract(model(t, a, b, c), data)))));
    const rf = new ReducedFunctional(J, [new Control(a), new Control(b), new Control(c)], { tape });
    const bounds = [
      [null, null],
      [0, 2],
      [null, null],
    ] as const;
    return minimize(rf, method === "L-BFGS-B" ? { method, bounds } : { method });
  };
  const first = fitWith("L-BFGS-B");
  const second = fitWith("Newton-CG");
  const values = (x: readonly AdjFloat[]) => x.map((v) => v.value);
  return {
    lbfgsb: values(first.x),
    newtonCg: values(second.x),
    lbfgsbIterations: first.iterations,
    newtonCgIterations: second.iterations,
    hessianActions: second.hessianActions,
    misfit: first.fun,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = fitOscillation();
  console.log(
    `L-BFGS-B:  (a, b, c) = (${result.lbfgsb.map((v) => v.toFixed(4)).join(", ")}) in ${result.lbfgsbIterations} iterations`,
  );
  console.log(
    `Newton-CG: (a, b, c) = (${result.newtonCg.map((v) => v.toFixed(4)).join(", ")}) in ${result.newtonCgIterations} iterations, ${result.hessianActions} Hessian actions`,
  );
  console.log(
    `misfit at the optimum: ${result.misfit.toExponential(3)} (noise level about ${(0.5 * 200 * 1e-4).toExponential(1)})`,
  );
}
