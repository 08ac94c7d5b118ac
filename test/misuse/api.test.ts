/**
 * @file Property-based misuse suite of the public API outside `np`: every public function and class method
 * of the root package, `tsadjoint/optimize` and `tsadjoint/solve` (tape-level layer) is called with
 * arguments drawn from a pool of wrong types, wrong shapes, wrong keys and valid values. Each call must
 * either work (and then give no NaN from non-NaN inputs) or throw a TsadjointError: never a TypeError /
 * RangeError / ReferenceError from the internals. After every call the tapes stay usable: a derivative
 * computed afterwards on the fixture's tape and on the working tape is right.
 *
 * Not walked here: `np` (its own suite), the graph and ordering helpers of the sparse layer
 * (symmetricGraph, approximateMinimumDegree, eliminationTree, ...: building blocks of the factorizations),
 * the constructors of the exported Block subclasses (built by their operations; exported for `instanceof`),
 * the vector-space protocol objects (`scalarSpace`, `ndarraySpace`: raw values on the hot path, unchecked
 * by design), and the engines (loading jax-js / TensorFlow.js is slow; their options are tested in test/engines).
 */
import fc from "fast-check";
import {
  AdjFloat,
  annotating,
  assertRule,
  Block,
  BlockVariable,
  Control,
  checkRule,
  computeGradient,
  computeHessian,
  computeJacobianAction,
  computeJacobianMatrix,
  computeTLM,
  continueAnnotation,
  createOverloadedObject,
  DenseJacobian,
  getWorkingTape,
  isOverloaded,
  np,
  OverloadedValue,
  overloadFunction,
  PointwiseJacobian,
  pauseAnnotation,
  pointMap,
  ReducedFunction,
  ReducedFunctional,
  recordBlock,
  registerOverloadedType,
  setWorkingTape,
  spaceOf,
  stopAnnotating,
  Tape,
  TsadjointError,
  tapeToDot,
  taylorTest,
  taylorToDict,
  toRaw,
  withTape,
  wrapRaw,
} from "tsadjoint";
import {
  maximize,
  maximizeProblem,
  minimize,
  minimizeProblem,
  projectedGradientInfinityNorm,
  projectOntoBox,
} from "tsadjoint/optimize";
import {
  bandedPattern,
  CsrMatrix,
  cholesky,
  conjugateGradient,
  factorize,
  gmres,
  lu,
  matvec,
  nonlinearSolve,
  SparseAssembler,
  SparseMatrix,
  solve,
  sparseFromValues,
  sparseMatrix,
  sparseValues,
  transpose,
  tridiagonalPattern,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";

type NDArray = InstanceType<typeof np.NDArray>;

/** A recorded problem: J = sum(a^2) * x on its own tape, with controls and reduced functionals. */
function fixture() {
  const tape = new Tape();
  const x = new AdjFloat(1.5);
  const a = np.array([1, 2, 3]);
  const J = withTape(tape, () => np.multiply(np.sum(np.square(a)), x));
  const F = withTape(tape, () => np.multiply(a, x));
  const cx = new Control(x);
  const ca = new Control(a);
  const rf = new ReducedFunctional(J, [cx, ca], { tape });
  const rF = new ReducedFunction(F, ca, { tape });
  return { tape, x, a, J, F, cx, ca, rf, rF };
}
type Fixture = ReturnType<typeof fixture>;

/** The pool the arguments are drawn from: wrong types, shapes and keys, and valid values of the fixture. */
function pool(fx: Fixture): unknown[] {
  return [
    null,
    undefined,
    "a",
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    0,
    2.5,
    true,
    {},
    [],
    [1, 2],
    [[1], [2, 3]],
    { foo: 1 },
    { tape: 1 },
    () => 1,
    new Map(),
    Float64Array.of(1, 2),
    Symbol("s"),
    fx.x,
    fx.a,
    fx.J,
    fx.cx,
    [fx.cx, fx.ca],
    fx.tape,
    np.array([1, 2]),
    new AdjFloat(3),
    { tape: fx.tape },
    { adjValue: "a" },
    [1, 2, 3],
    fx.rf,
    { method: "BFGS" },
    { bounds: "a" },
    { controls: [fx.cx], outputs: [fx.J] },
    [[0, 1], "a"],
    { maxiter: 2 },
    fx.F,
    fx.rF,
    [fx.x, fx.a],
  ];
}
const POOL_SIZE = pool(fixture()).length;

/** Whether a value holds a NaN (numbers, AdjFloats, NDArrays, arrays of them). */
function hasNaN(value: unknown, depth = 0): boolean {
  if (depth > 3) return false;
  if (typeof value === "number") return Number.isNaN(value);
  if (value instanceof AdjFloat) return Number.isNaN(value.value);
  if (value instanceof np.NDArray) return (value as NDArray).data.some(Number.isNaN);
  if (value instanceof Float64Array) return value.some(Number.isNaN);
  if (Array.isArray(value)) return value.some((v) => hasNaN(v, depth + 1));
  return false;
}

type Entry = readonly [name: string, arity: number, call: (fx: Fixture, v: unknown[]) => unknown];
const any = (value: unknown) => value as never;

const square = (x: unknown) => np.square(x as AdjFloat);
const residual = (u: unknown, p: unknown) => np.subtract(np.square(u as NDArray), p as NDArray);
const plainProblem = {
  value: (x: Float64Array) => x[0] ** 2,
  gradient: (x: Float64Array) => Float64Array.of(2 * x[0]),
};

class TestBlock extends Block {
  recompute(): readonly unknown[] {
    return [];
  }
}

/** Every walked entry point: name, number of fuzzed arguments, and the call. */
const entries: Entry[] = [
  // drivers
  ["computeGradient", 3, (_fx, [a, b, c]) => computeGradient(any(a), any(b), any(c))],
  ["computeGradient(J, ...)", 2, (fx, [b, c]) => computeGradient(fx.J, any(b), any(c))],
  ["computeGradient(J, controls, ...)", 1, (fx, [c]) => computeGradient(fx.J, [fx.cx, fx.ca], any(c))],
  ["computeTLM", 4, (_fx, [a, b, c, d]) => computeTLM(any(a), any(b), any(c), any(d))],
  ["computeTLM(J, cx, ...)", 2, (fx, [c, d]) => computeTLM(fx.J, fx.cx, any(c), any(d))],
  ["computeHessian", 4, (_fx, [a, b, c, d]) => computeHessian(any(a), any(b), any(c), any(d))],
  ["computeHessian(J, ca, ...)", 2, (fx, [c, d]) => computeHessian(fx.J, fx.ca, any(c), any(d))],
  ["computeJacobianAction", 4, (_fx, [a, b, c, d]) => computeJacobianAction(any(a), any(b), any(c), any(d))],
  [
    "computeJacobianAction(F, ca, ...)",
    2,
    (fx, [c, d]) => computeJacobianAction(fx.F, fx.ca, any(c), any(d)),
  ],
  ["computeJacobianMatrix", 3, (_fx, [a, b, c]) => computeJacobianMatrix(any(a), any(b), any(c))],
  ["computeJacobianMatrix(F, ...)", 2, (fx, [b, c]) => computeJacobianMatrix(fx.F, any(b), any(c))],
  // Control, ReducedFunctional, ReducedFunction
  ["new Control", 1, (_fx, [a]) => new Control(any(a))],
  ["Control.tapeValue", 0, (fx) => fx.cx.tapeValue()],
  ["new ReducedFunctional", 3, (_fx, [a, b, c]) => new ReducedFunctional(any(a), any(b), any(c))],
  ["new ReducedFunctional(J, ...)", 2, (fx, [b, c]) => new ReducedFunctional(fx.J, any(b), any(c))],
  ["ReducedFunctional.evaluate", 1, (fx, [a]) => fx.rf.evaluate(any(a))],
  ["ReducedFunctional.derivative", 1, (fx, [a]) => fx.rf.derivative(any(a))],
  ["ReducedFunctional.tlm", 1, (fx, [a]) => fx.rf.tlm(any(a))],
  ["ReducedFunctional.hessian", 1, (fx, [a]) => fx.rf.hessian(any(a))],
  ["new ReducedFunction", 3, (_fx, [a, b, c]) => new ReducedFunction(any(a), any(b), any(c))],
  ["ReducedFunction.evaluate", 1, (fx, [a]) => fx.rF.evaluate(any(a))],
  ["ReducedFunction.jacAction", 1, (fx, [a]) => fx.rF.jacAction(any(a))],
  ["ReducedFunction.adjJacAction", 1, (fx, [a]) => fx.rF.adjJacAction(any(a))],
  ["ReducedFunction.hessAction", 2, (fx, [a, b]) => fx.rF.hessAction(any(a), any(b))],
  ["ReducedFunction.jacMatrix", 1, (fx, [a]) => fx.rF.jacMatrix(any(a))],
  ["new DenseJacobian", 3, (_fx, [a, b, c]) => new DenseJacobian(any(a), any(b), any(c))],
  ["new PointwiseJacobian", 3, (_fx, [a, b, c]) => new PointwiseJacobian(any(a), any(b), any(c))],
  // tape, annotation, blocks
  ["new Tape", 1, (_fx, [a]) => new Tape(any(a))],
  ["Tape.addBlock", 1, (_fx, [a]) => new Tape().addBlock(any(a))],
  ["Tape.getBlocks", 1, (fx, [a]) => fx.tape.getBlocks(any(a))],
  ["Tape.withTag", 2, (fx, [a, b]) => fx.tape.withTag(any(a), any(b))],
  ["Tape.timestepBlocks", 1, (fx, [a]) => fx.tape.timestepBlocks(any(a))],
  ["Tape.optimize", 1, (fx, [a]) => fx.tape.optimize(any(a))],
  ["Tape.enableCheckpointing", 1, (_fx, [a]) => new Tape().enableCheckpointing(any(a))],
  ["tapeToDot", 2, (_fx, [a, b]) => tapeToDot(any(a), any(b))],
  ["withTape", 2, (_fx, [a, b]) => withTape(any(a), any(b))],
  ["setWorkingTape", 1, (_fx, [a]) => setWorkingTape(any(a))],
  ["recordBlock", 2, (_fx, [a, b]) => recordBlock(any(a), any(b))],
  ["stopAnnotating", 1, (_fx, [a]) => stopAnnotating(any(a))],
  ["pauseAnnotation / continueAnnotation", 0, () => [pauseAnnotation(), continueAnnotation()]],
  ["new BlockVariable", 2, (_fx, [a, b]) => new BlockVariable(a, any(b))],
  ["Block.addDependency", 1, (_fx, [a]) => new TestBlock().addDependency(any(a))],
  ["Block.addOutput", 1, (_fx, [a]) => new TestBlock().addOutput(any(a))],
  // values registry (outside np)
  ["isOverloaded", 1, (_fx, [a]) => isOverloaded(a)],
  ["createOverloadedObject", 1, (_fx, [a]) => createOverloadedObject(a)],
  ["registerOverloadedType", 1, (_fx, [a]) => registerOverloadedType(any(a))],
  ["spaceOf", 2, (_fx, [a, b]) => spaceOf(a, any(b))],
  ["toRaw", 1, (_fx, [a]) => toRaw(a)],
  ["wrapRaw", 1, (_fx, [a]) => wrapRaw(a)],
  // verification
  ["taylorTest", 4, (_fx, [a, b, c, d]) => taylorTest(any(a), b, c, any(d))],
  ["taylorTest(rf, ...)", 3, (fx, [b, c, d]) => taylorTest(fx.rf, b, c, any(d))],
  ["taylorToDict(rF, ...)", 3, (fx, [b, c, d]) => taylorToDict(fx.rF, b, c, any(d))],
  ["checkRule", 3, (_fx, [a, b, c]) => checkRule(any(a), any(b), any(c))],
  ["checkRule(square, ...)", 2, (_fx, [b, c]) => checkRule(square, any(b), any(c))],
  ["assertRule(square, ...)", 2, (_fx, [b, c]) => assertRule(square, any(b), any(c))],
  // custom operations
  ["overloadFunction", 2, (_fx, [a, b]) => overloadFunction(any(a), any(b))],
  [
    "overloadFunction(identity)(...)",
    2,
    (_fx, [a, b]) =>
      (
        overloadFunction((u: number) => u, { vjp: ({ cotangents: [c] }) => [c] }) as (
          ...args: unknown[]
        ) => unknown
      )(a, b),
  ],
  ["pointMap", 3, (_fx, [a, b, c]) => pointMap(any(a), any(b), any(c))],
  ["pointMap([[-1]], [-1])(...)", 1, (_fx, [a]) => pointMap([[-1]], [-1], { bare: true })(any(a))],
  [
    "pointMap([[-1]], [-1])(square)(...)",
    1,
    (_fx, [a]) => pointMap([[-1]], [-1], { bare: true })((u: NDArray) => np.square(u))(any(a)),
  ],
  // tsadjoint/optimize
  ["minimize", 2, (_fx, [a, b]) => minimize(any(a), any(b))],
  ["minimize(rf, ...)", 1, (fx, [b]) => minimize(fx.rf, { maxIter: 3, ...(b as object) })],
  [
    "maximize(rf, ...)",
    1,
    (fx, [b]) => maximize(new ReducedFunctional(np.negative(np.square(fx.x)), fx.cx), any(b)),
  ],
  ["minimizeProblem", 3, (_fx, [a, b, c]) => minimizeProblem(any(a), any(b), any(c))],
  ["minimizeProblem(problem, ...)", 2, (_fx, [b, c]) => minimizeProblem(plainProblem, any(b), any(c))],
  [
    "maximizeProblem(problem, x0, ...)",
    1,
    (_fx, [c]) => maximizeProblem(plainProblem, Float64Array.of(1), any(c)),
  ],
  ["projectOntoBox", 3, (_fx, [a, b, c]) => projectOntoBox(any(a), any(b), any(c))],
  [
    "projectedGradientInfinityNorm",
    4,
    (_fx, [a, b, c, d]) => projectedGradientInfinityNorm(any(a), any(b), any(c), any(d)),
  ],
  // tsadjoint/solve (tape level)
  ["solve", 3, (_fx, [a, b, c]) => solve(any(a), any(b), any(c))],
  ["solve(A, ...)", 2, (_fx, [b, c]) => solve(np.eye(3), any(b), any(c))],
  ["nonlinearSolve", 4, (_fx, [a, b, c, d]) => nonlinearSolve(any(a), any(b), any(c), any(d))],
  ["nonlinearSolve(residual, ...)", 3, (_fx, [b, c, d]) => nonlinearSolve(residual, any(b), any(c), any(d))],
  ["sparseMatrix", 5, (_fx, [a, b, c, d, e]) => sparseMatrix(any(a), any(b), any(c), any(d), any(e))],
  ["new SparseAssembler", 4, (_fx, [a, b, c, d]) => new SparseAssembler(any(a), any(b), any(c), any(d))],
  [
    "SparseAssembler.assemble",
    2,
    (_fx, [a, b]) => new SparseAssembler(2, 2, [0, 1], [0, 1]).assemble(any(a), any(b)),
  ],
  ["sparseFromValues", 3, (_fx, [a, b, c]) => sparseFromValues(any(a), any(b), any(c))],
  [
    "sparseFromValues(pattern, ...)",
    2,
    (_fx, [b, c]) => sparseFromValues(tridiagonalPattern(3), any(b), any(c)),
  ],
  ["sparseValues", 2, (_fx, [a, b]) => sparseValues(any(a), any(b))],
  ["transpose", 2, (_fx, [a, b]) => transpose(any(a), any(b))],
  ["matvec", 3, (_fx, [a, b, c]) => matvec(any(a), any(b), any(c))],
  ["matvec(I, ...)", 2, (_fx, [b, c]) => matvec(CsrMatrix.identity(3), any(b), any(c))],
  ["new SparseMatrix", 1, (_fx, [a]) => new SparseMatrix(any(a))],
  ["bandedPattern", 3, (_fx, [a, b, c]) => bandedPattern(any(a), any(b), any(c))],
  ["tridiagonalPattern", 1, (_fx, [a]) => tridiagonalPattern(any(a))],
  // tsadjoint/solve: the sparse kernels users call directly
  [
    "CsrMatrix.fromTriplets",
    5,
    (_fx, [a, b, c, d, e]) => CsrMatrix.fromTriplets(any(a), any(b), any(c), any(d), any(e)),
  ],
  ["CsrMatrix.fromDense", 3, (_fx, [a, b, c]) => CsrMatrix.fromDense(any(a), any(b), any(c))],
  ["CsrMatrix.identity", 1, (_fx, [a]) => CsrMatrix.identity(any(a))],
  ["CsrMatrix.matvec", 1, (_fx, [a]) => CsrMatrix.identity(2).matvec(any(a))],
  ["CsrMatrix.withValues", 1, (_fx, [a]) => CsrMatrix.identity(2).withValues(any(a))],
  ["CsrMatrix.add", 1, (_fx, [a]) => CsrMatrix.identity(2).add(any(a))],
  ["factorize", 2, (_fx, [a, b]) => factorize(any(a), any(b))],
  ["factorize(I, ...)", 1, (_fx, [b]) => factorize(CsrMatrix.identity(2), any(b))],
  ["cholesky", 2, (_fx, [a, b]) => cholesky(any(a), any(b))],
  ["lu", 2, (_fx, [a, b]) => lu(any(a), any(b))],
  ["conjugateGradient", 3, (_fx, [a, b, c]) => conjugateGradient(any(a), any(b), any(c))],
  ["gmres(I, ...)", 2, (_fx, [b, c]) => gmres(CsrMatrix.identity(2), any(b), any(c))],
  ["factorize(I).solve", 1, (_fx, [a]) => factorize(CsrMatrix.identity(2)).solve(any(a))],
];

/** Runs one call in a sandbox: restores the working tape and the annotation state afterwards. */
function runCall(entry: Entry, indices: number[]): { error?: unknown; result?: unknown; args: unknown[] } {
  const fx = fixture();
  const values = pool(fx);
  const args = indices.map((i) => values[i]);
  const working = getWorkingTape();
  const wasAnnotating = annotating();
  try {
    return { result: entry[2](fx, args), args };
  } catch (error) {
    return { error, args };
  } finally {
    setWorkingTape(working);
    while (!annotating() && wasAnnotating) continueAnnotation();
    checkTapesUsable(fx);
  }
}

/** A derivative after the call: on the fixture's tape (replayed at its start) and on the working tape. */
function checkTapesUsable(fx: Fixture): void {
  fx.rf.evaluate([1.5, [1, 2, 3]]);
  const [gx, ga] = computeGradient(fx.J, [fx.cx, fx.ca], { tape: fx.tape }) as [AdjFloat, NDArray];
  expect(gx.value).toBe(14);
  expect(Array.from(ga.data)).toEqual([3, 6, 9]);
  const y = new AdjFloat(2);
  const K = np.multiply(y, np.sin(y));
  expect((computeGradient(K, new Control(y)) as AdjFloat).value).toBeCloseTo(
    Math.sin(2) + 2 * Math.cos(2),
    14,
  );
}

function describeArgs(args: readonly unknown[]): string {
  return args
    .map((a) => {
      if (typeof a === "symbol") return "Symbol";
      if (a instanceof OverloadedValue || a instanceof Control || a instanceof Tape)
        return a.constructor.name;
      if (typeof a === "function") return "function";
      try {
        return JSON.stringify(a) ?? String(a);
      } catch {
        return typeof a;
      }
    })
    .join(", ");
}

describe("misuse suite: wrong types, shapes and keys give TsadjointErrors, never internal errors or NaN", () => {
  it(`walks ${entries.length} entry points`, () => {
    expect(POOL_SIZE).toBeGreaterThan(30);
  });

  for (const entry of entries) {
    it(entry[0], () => {
      const arity = entry[1];
      const details = fc.check(
        fc.property(fc.array(fc.nat(POOL_SIZE - 1), { minLength: arity, maxLength: arity }), (indices) => {
          const { error, result, args } = runCall(entry, indices);
          if (error !== undefined) {
            if (!(error instanceof TsadjointError)) {
              throw new Error(
                `${entry[0]}(${describeArgs(args)}) threw ${(error as Error).name}: ${(error as Error).message}`,
              );
            }
            return;
          }
          const nanInput = args.some((a) => hasNaN(a) || a === Number.POSITIVE_INFINITY);
          if (!nanInput && hasNaN(result)) {
            throw new Error(`${entry[0]}(${describeArgs(args)}) returned NaN`);
          }
        }),
        { numRuns: arity === 0 ? 1 : Math.min(60, 20 * arity) },
      );
      if (details.failed) {
        const cause =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        throw new Error(`${cause} [seed ${details.seed}, path ${details.counterexamplePath}]`);
      }
    });
  }
});
