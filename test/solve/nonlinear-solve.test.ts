import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  InvalidArgumentError,
  np,
  type OverloadedValue,
  ReducedFunctional,
  ShapeMismatchError,
  stopAnnotating,
  Tape,
  TsadjointError,
  taylorTest,
  withTape,
} from "tsadjoint";
import {
  CsrMatrix,
  matvec,
  NewtonDivergenceError,
  type NewtonIterationInfo,
  NonlinearSolveBlock,
  nonlinearSolve,
  SingularSystemError,
  SparseMatrix,
  tridiagonalPattern,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import { diffusionOperators, diffusionResidual } from "../../examples/solve.js";
import type { NDArray } from "../../src/values/ndarray.js";
import { randomTriplets, randomVector, seededRandom, sumOfSquares } from "./helpers.js";

/** The 1-D nonlinear diffusion problem of the example on n unknowns, with source f = f0 + sin(pi x). */
function diffusion(n: number) {
  const ops = diffusionOperators(n);
  const residual = diffusionResidual(ops);
  const f = np.add(10, np.multiply(15, np.sin(np.multiply(Math.PI, ops.nodes))));
  return { ops, residual, f };
}

describe("nonlinearSolve: values and gradients", () => {
  it("u^2 = a elementwise: u = sqrt(a), du/da = 1 / (2 sqrt(a)), with a diagonal or dense Jacobian", () => {
    for (const jacobianSparsity of ["diagonal", "dense"] as const) {
      const tape = new Tape();
      const a = np.array([4, 9, 2]);
      const u = withTape(tape, () =>
        nonlinearSolve((v, p) => np.subtract(np.square(v), p), np.ones([3]), [a] as const, {
          jacobianSparsity,
        }),
      );
      expect(Array.from(u.data).map((v, i) => v - Math.sqrt(a.data[i]))).toEqual(
        [0, 0, 0].map(() => expect.closeTo(0, 13)),
      );
      const J = withTape(tape, () => np.sum(u));
      const g = computeGradient(J, new Control(a), { tape });
      for (let i = 0; i < 3; i++) expect(g.data[i]).toBeCloseTo(0.5 / Math.sqrt(a.data[i]), 12);
    }
  });

  it("the rule checker on u(a, f) of 1-D nonlinear diffusion: sparse (coloring) and dense Jacobians", () => {
    const n = 10;
    const { residual, f } = diffusion(n);
    const u0 = np.zeros([n]);
    const pattern = tridiagonalPattern(n);
    const tight = { relativeTolerance: 1e-14, absoluteTolerance: 0 };
    assertRule(
      (a, source) =>
        nonlinearSolve(residual, u0, [a as AdjFloat, source as NDArray] as const, {
          ...tight,
          jacobianSparsity: pattern,
        }),
      [0.8, f],
    );
    assertRule((a) => nonlinearSolve(residual, u0, [a as AdjFloat, f] as const, tight), [1.2]);
  });

  it("Taylor tests through the nonlinear diffusion solve (n = 40): rates >= 1.9 and >= 2.9 in a, f and both", () => {
    const n = 40;
    const { ops, residual, f } = diffusion(n);
    for (const jacobianSparsity of [tridiagonalPattern(n), "dense" as const]) {
      const tape = new Tape();
      const a = new AdjFloat(1);
      const u = withTape(tape, () =>
        nonlinearSolve(residual, np.zeros([n]), [a, f] as const, { jacobianSparsity }),
      );
      const J = withTape(tape, () => np.multiply(ops.h, np.sum(np.sin(u))));
      const controls = [new Control(a), new Control(f)] as Control<OverloadedValue>[];
      const rf = new ReducedFunctional(J, controls, { tape });
      const df = np.multiply(3, np.cos(np.multiply(2, ops.nodes)));
      expect(taylorTest(rf, [1, f], [0.3, df])).toBeGreaterThan(1.9);
      expect(taylorTest(rf, [1, f], [0.3, df], { hessian: true })).toBeGreaterThan(2.9);
      const rfA = new ReducedFunctional(J, new Control(a), { tape });
      expect(taylorTest(rfA, 1, 0.5, { hessian: true })).toBeGreaterThan(2.9);
      const rfF = new ReducedFunctional(J, new Control(f), { tape });
      expect(taylorTest(rfF, f, df, { hessian: true })).toBeGreaterThan(2.9);
    }
  });

  it("a user Jacobian callback (a CsrMatrix), numbers as constant parameters", () => {
    // F(u) = u^3 + c u - a s elementwise: J = diag(3 u^2 + c)
    const n = 6;
    const s = np.linspace(0.5, 2, n);
    const c = 2;
    let calls = 0;
    const residual = (u: NDArray, a: AdjFloat, constant: number) =>
      np.subtract(np.add(np.power(u, 3), np.multiply(constant, u)), np.multiply(a, s));
    const jacobian = (u: NDArray, _a: AdjFloat, constant: number) => {
      calls++;
      const values = Array.from(u.data, (v) => 3 * v * v + constant);
      return CsrMatrix.fromTriplets(n, n, [...Array(n).keys()], [...Array(n).keys()], values);
    };
    const tape = new Tape();
    const a = new AdjFloat(1.5);
    const u = withTape(tape, () => nonlinearSolve(residual, np.zeros([n]), [a, c] as const, { jacobian }));
    expect(calls).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) expect(u.data[i] ** 3 + c * u.data[i]).toBeCloseTo(1.5 * s.data[i], 12);
    const J = withTape(tape, () => sumOfSquares(u));
    const rf = new ReducedFunctional(J, new Control(a), { tape });
    expect(taylorTest(rf, 1.5, 0.4, { hessian: true })).toBeGreaterThan(2.9);
  });

  it("a user Jacobian as a dense NDArray; an initial guess that already solves the problem", () => {
    const residual = (u: NDArray, a: AdjFloat) => np.subtract(np.square(u), a);
    const jacobian = (u: NDArray) =>
      np.array(Array.from(u.data, (v, i) => Array.from(u.data, (_, j) => (i === j ? 2 * v : 0))));
    const tape = new Tape();
    const a = new AdjFloat(2.25);
    let steps = 0;
    const u = withTape(tape, () =>
      nonlinearSolve(residual, np.array([1.5, 1.5]), [a] as const, {
        jacobian,
        callback: () => {
          steps++;
        },
      }),
    );
    expect(steps).toBe(0);
    expect(Array.from(u.data)).toEqual([1.5, 1.5]);
    const J = withTape(tape, () => np.sum(np.sin(u)));
    const g = computeGradient(J, new Control(a), { tape });
    expect(g.value).toBeCloseTo((2 * Math.cos(1.5)) / 3, 13);
    const rf = new ReducedFunctional(J, new Control(a), { tape });
    expect(taylorTest(rf, 2.25, 0.3, { hessian: true })).toBeGreaterThan(2.9);
  });

  it("a SparseMatrix parameter: F(u; A, b) = A u + u^3 - b, Taylor test in the matrix entries", () => {
    const n = 8;
    const random = seededRandom(21);
    const { rows, cols, values } = randomTriplets(n, random, { symmetric: false });
    const A = SparseMatrix.fromTriplets(n, n, rows, cols, values);
    const b = np.array(randomVector(n, random));
    const residual = (u: NDArray, matrix: SparseMatrix, rhs: NDArray) =>
      np.subtract(np.add(matvec(matrix, u), np.power(u, 3)), rhs);
    const tape = new Tape();
    const u = withTape(tape, () =>
      nonlinearSolve(residual, np.zeros([n]), [A, b] as const, { jacobianSparsity: A }),
    );
    const J = withTape(tape, () => np.sum(np.sin(u)));
    const rf = new ReducedFunctional(J, [new Control(A), new Control(b)] as Control<OverloadedValue>[], {
      tape,
    });
    const h = [A.withValues(randomVector(A.nnz, random)), np.array(randomVector(n, random))];
    expect(taylorTest(rf, [A, b], h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, [A, b], h, { hessian: true })).toBeGreaterThan(2.9);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        assertRule(
          (matrix, rhs) =>
            nonlinearSolve(residual, np.zeros([n]), [matrix as SparseMatrix, rhs as NDArray] as const),
          [A, b],
          { seed, recomputeTolerance: 1e-9 }, // a replay re-solves by Newton to its tolerance
        );
      }),
      { numRuns: 5 },
    );
  });

  it("recorded values the residual reads from outside (closures) are differentiated too", () => {
    const n = 12;
    const { ops, residual } = diffusion(n);
    const tape = new Tape();
    const g = np.multiply(5, np.sin(np.multiply(Math.PI, ops.nodes)));
    const a = new AdjFloat(0.7);
    const u = withTape(tape, () => {
      const f = np.add(np.square(g), 1); // recorded on the caller's tape, read by the residual
      return nonlinearSolve((v, p) => residual(v, p, f), np.zeros([n]), [a] as const, {
        jacobianSparsity: tridiagonalPattern(n),
      });
    });
    const J = withTape(tape, () => np.sum(np.sin(u)));
    const rf = new ReducedFunctional(J, [new Control(a), new Control(g)] as Control<OverloadedValue>[], {
      tape,
    });
    const h = [0.2, np.multiply(0.5, np.cos(ops.nodes))];
    expect(taylorTest(rf, [0.7, g], h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, [0.7, g], h, { hessian: true })).toBeGreaterThan(2.9);
  });
});

describe("nonlinearSolve without params", () => {
  it("params omitted: a residual of u alone reading a recorded value from a closure; null params rejected", () => {
    const tape = new Tape();
    const c = np.array([2, 3, 5]);
    const u = withTape(tape, () => {
      const scaled = np.multiply(c, 1); // recorded on the caller's tape, read by the residual
      return nonlinearSolve((v) => np.subtract(np.square(v), scaled), np.ones([3]));
    });
    const block = tape.blocks.find((b) => b instanceof NonlinearSolveBlock);
    expect(block?.dependencies.length).toBe(1);
    Array.from(u.data).forEach((x, i) => {
      expect(Math.abs(x - Math.sqrt(c.data[i]))).toBeLessThan(1e-12);
    });
    const J = withTape(tape, () => np.sum(u));
    const gradient = computeGradient(J, new Control(c), { tape });
    Array.from(gradient.data).forEach((g, i) => {
      expect(g).toBeCloseTo(1 / (2 * Math.sqrt(c.data[i])), 12);
    });
    expect(() => nonlinearSolve((v) => v, np.ones([2]), null as unknown as [])).toThrow(
      /params must be an array/,
    );
  });
});

describe("nonlinearSolve: Newton and reuse", () => {
  it("calls the callback per iteration with decreasing residual norms and full steps near the solution", () => {
    const n = 30;
    const { residual, f } = diffusion(n);
    const history: NewtonIterationInfo[] = [];
    nonlinearSolve(residual, np.zeros([n]), [new AdjFloat(1), f] as const, {
      jacobianSparsity: tridiagonalPattern(n),
      callback: (info) => history.push(info),
    });
    expect(history.length).toBeGreaterThan(2);
    history.forEach((info, index) => {
      expect(info.iteration).toBe(index + 1);
      expect(info.stepLength).toBeGreaterThan(0);
      expect(info.stepLength).toBeLessThanOrEqual(1);
      if (index > 0) expect(info.residualNorm).toBeLessThan(history[index - 1].residualNorm);
    });
    expect(history[history.length - 1].stepLength).toBe(1);
  });

  it("the Jacobian at the solution is assembled and factorized once for gradient, TLM and Hessian", () => {
    const n = 25;
    const { residual, f } = diffusion(n);
    const tape = new Tape();
    const a = new AdjFloat(1);
    const u = withTape(tape, () =>
      nonlinearSolve(residual, np.zeros([n]), [a, f] as const, { jacobianSparsity: tridiagonalPattern(n) }),
    );
    const J = withTape(tape, () => np.sum(np.sin(u)));
    const block = tape.blocks.find((b) => b instanceof NonlinearSolveBlock) as NonlinearSolveBlock;
    const forward = block.statistics;
    expect(forward.jacobianEvaluations).toBe(forward.newtonIterations);
    expect(forward.factorizations).toBe(forward.newtonIterations);
    // three colors for a tridiagonal Jacobian: three tangent sweeps per Jacobian
    expect(forward.tangentSweeps).toBe(3 * forward.jacobianEvaluations);
    const rf = new ReducedFunctional(J, [new Control(a), new Control(f)] as Control<OverloadedValue>[], {
      tape,
    });
    rf.derivative();
    rf.tlm([1, f]);
    rf.hessian([1, f]);
    rf.derivative();
    const after = block.statistics;
    expect(after.jacobianEvaluations).toBe(forward.jacobianEvaluations + 1);
    expect(after.factorizations).toBe(forward.factorizations + 1);
    expect(after.newtonIterations).toBe(forward.newtonIterations);
    // a replay at new parameters warm-starts Newton from the previous solution
    rf.evaluate([1.01, f]);
    const replayed = block.statistics;
    expect(replayed.newtonIterations - after.newtonIterations).toBeLessThan(forward.newtonIterations);
    rf.derivative();
    expect(block.statistics.jacobianEvaluations).toBe(replayed.jacobianEvaluations + 1);
  });

  it("works with annotation off (nothing recorded) and on a tape passed with withTape", () => {
    const n = 5;
    const { residual, f } = diffusion(n);
    const tape = new Tape();
    const u = withTape(tape, () =>
      stopAnnotating(() => nonlinearSolve(residual, np.zeros([n]), [1, f] as const)),
    );
    expect(tape.blocks.length).toBe(0);
    const check = stopAnnotating(() => residual(u, new AdjFloat(1), f));
    for (const v of check.data) expect(Math.abs(v)).toBeLessThan(1e-9);
  });
});

describe("nonlinearSolve: typed errors", () => {
  it("a residual without a root raises NewtonDivergenceError with the residual history", () => {
    const residual = (u: NDArray) => np.add(np.square(u), 1);
    let caught: unknown;
    try {
      nonlinearSolve(residual, np.array([0.5, -0.3]), [], { lineSearch: false, maxIterations: 5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NewtonDivergenceError);
    expect(caught).toBeInstanceOf(TsadjointError);
    const error = caught as NewtonDivergenceError;
    expect(error.reason).toBe("max-iterations");
    expect(error.residualNorms.length).toBe(6);
    expect(error.operation).toBe("nonlinearSolve");
    expect(error.message).toMatch(/history/);
    // with the line search the iteration stalls instead
    let stalled: unknown;
    try {
      nonlinearSolve(residual, np.array([0.5, -0.3]), [], { maxIterations: 200 });
    } catch (e) {
      stalled = e;
    }
    expect(stalled).toBeInstanceOf(NewtonDivergenceError);
    expect(["line-search", "max-iterations"]).toContain((stalled as NewtonDivergenceError).reason);
    expect((stalled as NewtonDivergenceError).residualNorms[0]).toBeCloseTo(Math.hypot(1.25, 1.09), 12);
  });

  it("a non-finite residual raises NewtonDivergenceError('non-finite'), never a silent NaN", () => {
    const residual = (u: NDArray) => np.subtract(np.log(u), 1);
    let caught: unknown;
    try {
      nonlinearSolve(residual, np.array([-1, 2]), []);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NewtonDivergenceError);
    expect((caught as NewtonDivergenceError).reason).toBe("non-finite");
    // a full Newton step into the domain boundary: log(u) = 1 from u0 = 10 overshoots to u < 0
    let overshoot: unknown;
    try {
      nonlinearSolve(residual, np.array([10]), [], { lineSearch: false });
    } catch (error) {
      overshoot = error;
    }
    expect(overshoot).toBeInstanceOf(NewtonDivergenceError);
    expect((overshoot as NewtonDivergenceError).reason).toBe("non-finite");
    // the line search recovers
    const u = nonlinearSolve(residual, np.array([10]), []);
    expect(u.data[0]).toBeCloseTo(Math.E, 12);
  });

  it("a singular Jacobian raises SingularSystemError naming nonlinearSolve and the iteration", () => {
    const a = new AdjFloat(2);
    for (const jacobianSparsity of ["diagonal", "dense"] as const) {
      let caught: unknown;
      try {
        nonlinearSolve((u, p) => np.subtract(np.square(u), p), np.zeros([3]), [a] as const, {
          jacobianSparsity,
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SingularSystemError);
      expect((caught as SingularSystemError).operation).toBe("nonlinearSolve");
      expect((caught as Error).message).toMatch(/Newton iteration 1.*Jacobian/);
    }
  });

  it("argument errors: residual shape, a residual not computed from u, a dense Jacobian too large", () => {
    expect(() => nonlinearSolve((u) => np.multiply(np.ones([2, 2]), u.data[0]), np.zeros([3]), [])).toThrow(
      ShapeMismatchError,
    );
    expect(() => nonlinearSolve(() => np.ones([3]), np.zeros([3]), [])).toThrow(/not computed from u/);
    expect(() => nonlinearSolve((u) => np.square(u), np.ones([3000]), [])).toThrow(InvalidArgumentError);
    expect(() =>
      nonlinearSolve((u) => np.square(u), np.ones([4]), [], { jacobianSparsity: tridiagonalPattern(5) }),
    ).toThrow(ShapeMismatchError);
    expect(() =>
      nonlinearSolve((u: NDArray, _a: AdjFloat) => u, np.ones([2]), [{} as unknown as AdjFloat] as const),
    ).toThrow(/parameter 0/);
  });
});
