/**
 * @file Browser suite "core": the tape, AdjFloat, ReducedFunctional, the drivers, Taylor tests, DOT export
 * and the typed errors, written against the package entry `tsadjoint` only. It runs unchanged in Chromium
 * (bundled from dist/) and in Node (vitest), and returns plain JSON so both runs can be compared.
 */
import {
  AdjFloat,
  Control,
  computeGradient,
  computeHessian,
  computeTLM,
  InvalidArgumentError,
  np,
  ReducedFunction,
  ReducedFunctional,
  ShapeMismatchError,
  Tape,
  TsadjointError,
  tapeToDot,
  taylorToDict,
  withTape,
} from "tsadjoint";

/** One caught error, described by what a user would check. */
export interface CaughtError {
  name: string;
  operation: string;
  isTsadjointError: boolean;
  message: string;
}

function caught(fn: () => unknown): CaughtError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    const e = error as Error & { operation?: string };
    return {
      name: e.name,
      operation: e.operation ?? "",
      isTsadjointError: error instanceof TsadjointError,
      message: e.message,
    };
  }
}

/**
 * Runs the core suite: the README's quick start (values, gradient, Hessian action, replay, Taylor rates),
 * the three drivers, a vector-valued ReducedFunction, DOT export and typed errors.
 *
 * @example
 * const result = run();
 * result.quickstart.taylor.R1; // about [2, 2, 2]
 */
export function run() {
  // the quick start: J(x, k) = sin(k x) exp(-x^2 / 2)
  const tape = new Tape();
  const x = new AdjFloat(0.8);
  const k = new AdjFloat(2.5);
  const J = withTape(tape, () => np.multiply(np.sin(k.mul(x)), np.exp(np.divide(np.square(x), -2))));
  const controls = [new Control(x), new Control(k)];
  const rf = new ReducedFunctional(J, controls, { tape });
  const gradient = (rf.derivative() as AdjFloat[]).map((g) => g.value);
  const hessianAction = (rf.hessian([1, 0]) as AdjFloat[]).map((h) => h.value);
  const replayed = rf.evaluate([0.5, 2.0]);
  const restored = rf.evaluate([0.8, 2.5]);
  const taylor = taylorToDict(rf, [0.8, 2.5], [0.1, -0.3], { hessian: true });
  const quickstart = {
    value: J.value,
    gradient,
    hessianAction,
    replayed,
    restored,
    blocks: tape.blocks.map((block) => block.name),
    taylor: { R0: taylor.R0.rates, R1: taylor.R1.rates, R2: taylor.R2?.rates ?? [] },
    dot: tapeToDot(tape),
  };

  // the drivers on an array program: J = sum(tanh(x @ w)) with x random [3, 4]
  const driverTape = new Tape();
  const rng = np.random.default_rng(42);
  const xa = rng.normal(0, 1, [3, 4]);
  const w = np.array([1, 2, 3, 4]);
  const Ja = withTape(driverTape, () => np.sum(np.tanh(np.matmul(xa, w))));
  const driverControls = [new Control(xa), new Control(w)];
  const [gx, gw] = computeGradient(Ja, driverControls, { tape: driverTape }) as np.NDArray[];
  const direction = [np.ones([3, 4]), np.array([0.5, -0.5, 0.25, 1])];
  const tlm = computeTLM(Ja, driverControls, direction, { tape: driverTape }) as np.NDArray | AdjFloat;
  const [hx, hw] = computeHessian(Ja, driverControls, direction, { tape: driverTape }) as np.NDArray[];
  const drivers = {
    xa: Array.from(xa.data),
    value: Ja.item(),
    gradient: [Array.from(gx.data), Array.from(gw.data)],
    tlm: tlm instanceof AdjFloat ? tlm.value : tlm.item(),
    hessian: [Array.from(hx.data), Array.from(hw.data)],
  };

  // a vector-valued ReducedFunction: F(a) = [a0 a1, sin(a0) + a1^2]
  const fnTape = new Tape();
  const a = np.array([0.3, -1.2]);
  const F = withTape(fnTape, () => {
    const a0 = np.take(a, 0);
    const a1 = np.take(a, 1);
    return np.stack([np.multiply(a0, a1), np.add(np.sin(a0), np.square(a1))]);
  });
  const reducedFunction = new ReducedFunction(F, new Control(a), { tape: fnTape });
  // one output and one control: the Jacobian is a single [2, 2] block
  const jacobian = reducedFunction.jacMatrix() as unknown as np.NDArray;
  const vectorFunction = {
    value: Array.from(F.data),
    jacobian: Array.from(jacobian.data),
    jacobianShape: jacobian.shape.slice(),
  };

  const errors = {
    shapeMismatch: caught(() => np.add(np.ones([2]), np.ones([3]))),
    badTaylorSteps: caught(() => taylorToDict(rf, [0.8, 2.5], [0.1, -0.3], { epsilons: [0.1] })),
    plusOnAdjFloat: caught(() => (x as unknown as number) + 1),
    shapeMismatchClass: caught(() => np.matmul(np.ones([2, 3]), np.ones([2]))),
  };
  // a failed call leaves the tape usable
  const afterErrors = (rf.derivative() as AdjFloat[]).map((g) => g.value);
  return {
    quickstart,
    drivers,
    vectorFunction,
    errors,
    errorClasses: {
      shapeMismatch: ShapeMismatchError.name,
      invalidArgument: InvalidArgumentError.name,
    },
    afterErrors,
  };
}
