/**
 * @file Options objects of the root package, `tsadjoint/optimize` and `tsadjoint/solve` reject unknown keys
 * with an InvalidArgumentError that names the operation, the key and the accepted keys (a silently ignored
 * option changes results: `computeGradient(J, c, { adjvalue: 2 })` used to drop the seed).
 */
import {
  AdjFloat,
  assertRule,
  Control,
  checkRule,
  computeGradient,
  computeHessian,
  computeJacobianAction,
  computeJacobianMatrix,
  computeTLM,
  InvalidArgumentError,
  np,
  overloadFunction,
  pointMap,
  ReducedFunction,
  ReducedFunctional,
  Tape,
  taylorTest,
  taylorToDict,
  withTape,
} from "tsadjoint";
import {
  maximize,
  minimize,
  minimizeBfgs,
  minimizeLbfgsb,
  minimizeNewtonCg,
  minimizeProblem,
  strongWolfeLineSearch,
} from "tsadjoint/optimize";
import {
  CsrMatrix,
  cholesky,
  conjugateGradient,
  factorize,
  gmres,
  lu,
  nonlinearSolve,
  solve,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";

/** J = x^2 y on a fresh tape. */
function setup() {
  const tape = new Tape();
  const x = new AdjFloat(1.5);
  const y = new AdjFloat(2);
  const J = withTape(tape, () => np.multiply(np.square(x), y));
  const cx = new Control(x);
  const cy = new Control(y);
  return { tape, x, y, J, cx, cy, rf: new ReducedFunctional(J, [cx, cy], { tape }) };
}

/** Calls `fn` (which must throw) and returns the error's message, checking its class and operation. */
function rejected(fn: () => unknown, operation: string): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).operation).toBe(operation);
    return (error as Error).message;
  }
  throw new Error(`${operation} accepted the misspelt option`);
}

const bad = <T>(options: Record<string, unknown>): T => options as unknown as T;

describe("unknown option keys are InvalidArgumentErrors naming the key and the accepted ones", () => {
  it("computeGradient(J, c, { adjvalue: 2 }) is rejected (it used to drop the seed); adjValue works", () => {
    const { tape, J, cx } = setup();
    const message = rejected(() => computeGradient(J, cx, bad({ tape, adjvalue: 2 })), "computeGradient");
    expect(message).toContain('"adjvalue"');
    expect(message).toContain('did you mean "adjValue"');
    expect(message).toContain('"tape"');
    expect((computeGradient(J, cx, { tape, adjValue: 2 }) as AdjFloat).value).toBeCloseTo(
      2 * 2 * 1.5 * 2,
      12,
    );
  });

  it("computeTLM, computeHessian, computeJacobianAction, computeJacobianMatrix", () => {
    const { tape, J, cx } = setup();
    expect(rejected(() => computeTLM(J, cx, 1, bad({ tap: tape })), "computeTLM")).toContain('"tap"');
    expect(rejected(() => computeHessian(J, cx, 1, bad({ tape, adjvalue: 1 })), "computeHessian")).toContain(
      "adjValue",
    );
    rejected(() => computeJacobianAction(J, cx, 1, bad({ tape, seed: 1 })), "computeJacobianAction");
    expect(
      rejected(() => computeJacobianMatrix(J, cx, bad({ tape, pointWise: false })), "computeJacobianMatrix"),
    ).toContain('did you mean "pointwise"');
  });

  it("new ReducedFunctional / new ReducedFunction / derivative / jacMatrix options", () => {
    const { tape, J, cx, cy } = setup();
    expect(
      rejected(() => new ReducedFunctional(J, cx, bad({ tape, scal: -1 })), "new ReducedFunctional"),
    ).toContain('did you mean "scale"');
    rejected(
      () => new ReducedFunctional(J, cx, bad({ tape, callbacks: { evalCbpost: () => {} } })),
      "new ReducedFunctional",
    );
    rejected(() => new ReducedFunction(J, cx, bad({ tape, scale: 2 })), "new ReducedFunction");
    const rf = new ReducedFunctional(J, [cx, cy], { tape });
    expect(rejected(() => rf.derivative(bad({ adjinput: 2 })), "ReducedFunctional.derivative")).toContain(
      'did you mean "adjInput"',
    );
    const F = new ReducedFunction(J, cx, { tape });
    rejected(() => F.jacMatrix(bad({ dense: true })), "ReducedFunction.jacMatrix");
  });

  it("minimize: maxIterations points to maxIter; scipy's options: { maxiter } is rejected with the flat name", () => {
    const { rf } = setup();
    const message = rejected(() => minimize(rf, bad({ maxIterations: 3 })), "minimize");
    expect(message).toContain('"maxIterations"');
    expect(message).toContain('"maxIter"');
    const scipy = rejected(() => minimize(rf, bad({ options: { maxiter: 3 } })), "minimize");
    expect(scipy).toContain("maxiter");
    expect(scipy).toContain("maxIter");
    expect(rejected(() => minimize(rf, bad({ maxiter: 3 })), "minimize")).toContain('"maxIter"');
    expect(rejected(() => minimize(rf, bad({ maxfun: 3 })), "minimize")).toContain("maxFunEvals");
    rejected(() => maximize(rf, bad({ metod: "BFGS" })), "maximize");
    rejected(() => minimize(rf, bad({ method: "bfgs" })), "minimize");
  });

  it("minimizeProblem (plain problems) rejects unknown options too", () => {
    const problem = {
      value: (x: Float64Array) => x[0] ** 2,
      gradient: (x: Float64Array) => Float64Array.of(2 * x[0]),
    };
    rejected(() => minimizeProblem(problem, Float64Array.of(1), bad({ maxiter: 2 })), "minimizeProblem");
  });

  it("the method functions, the line search and the sparse kernels reject unknown options too", () => {
    const problem = {
      value: (x: Float64Array) => x[0] ** 2,
      gradient: (x: Float64Array) => Float64Array.of(2 * x[0]),
    };
    const x0 = Float64Array.of(1);
    rejected(() => minimizeLbfgsb(problem, x0, bad({ maxIters: 2 })), "minimizeLbfgsb");
    rejected(() => minimizeBfgs(problem, x0, bad({ gtoll: 1 })), "minimizeBfgs");
    rejected(() => minimizeNewtonCg(problem, x0, bad({ xtol: 1 })), "minimizeNewtonCg");
    const trial = (step: number) => ({ step, value: (1 - step) ** 2, derivative: -2 * (1 - step) });
    rejected(() => strongWolfeLineSearch(trial, 1, -2, 1, bad({ c1: 1e-4 })), "strongWolfeLineSearch");
    const A = CsrMatrix.identity(3);
    rejected(() => factorize(A, bad({ metod: "lu" })), "factorize");
    rejected(() => cholesky(A, bad({ order: "amd" })), "cholesky");
    rejected(() => lu(A, bad({ pivot: 0.1 })), "lu");
    rejected(() => conjugateGradient(A, [1, 1, 1], bad({ tol: 1e-8 })), "conjugateGradient");
    rejected(() => gmres(A, [1, 1, 1], bad({ restar: 5 })), "gmres");
  });

  it("taylorTest / taylorToDict", () => {
    const { rf } = setup();
    expect(rejected(() => taylorTest(rf, [1, 2], [0.1, 0.2], bad({ hesian: true })), "taylorTest")).toContain(
      'did you mean "hessian"',
    );
    rejected(() => taylorToDict(rf, [1, 2], [0.1, 0.2], bad({ eps: [0.1] })), "taylorToDict");
  });

  it("checkRule / assertRule", () => {
    const square = (x: unknown) => np.square(x as AdjFloat);
    expect(rejected(() => checkRule(square, [1.5], bad({ skiphessian: true })), "checkRule")).toContain(
      'did you mean "skipHessian"',
    );
    rejected(() => assertRule(square, [1.5], bad({ sed: 2 })), "assertRule");
  });

  it("pointMap and overloadFunction", () => {
    expect(rejected(() => pointMap([[-1]], [-1], bad({ bar: true })), "pointMap")).toContain(
      'did you mean "bare"',
    );
    rejected(() => overloadFunction((x: number) => x * 2, bad({ vjpp: () => [1] })), "overloadFunction");
  });

  it("nonlinearSolve and solve (and their linearSolver options)", () => {
    const a = np.array([4, 9]);
    const residual = (v: unknown, p: unknown) =>
      np.subtract(np.square(v as InstanceType<typeof np.NDArray>), p as InstanceType<typeof np.NDArray>);
    expect(
      rejected(
        () => nonlinearSolve(residual, np.ones([2]), [a] as const, bad({ maxIteration: 5 })),
        "nonlinearSolve",
      ),
    ).toContain('did you mean "maxIterations"');
    rejected(
      () => nonlinearSolve(residual, np.ones([2]), [a] as const, bad({ linearSolver: { methd: "lu" } })),
      "nonlinearSolve",
    );
    const A = np.array([
      [2, 0],
      [0, 4],
    ]);
    expect(rejected(() => solve(A, np.array([1, 1]), bad({ metod: "lu" })), "solve")).toContain(
      'did you mean "method"',
    );
  });

  it("tape.optimize rejects unknown keys", () => {
    const { tape, J, cx } = setup();
    rejected(() => tape.optimize(bad({ controls: [cx], output: [J] })), "Tape.optimize");
  });
});
