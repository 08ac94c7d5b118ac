import fc from "fast-check";
import {
  assertRule,
  Control,
  computeGradient,
  computeHessian,
  computeTLM,
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
  KrylovConvergenceError,
  LinearSolveBlock,
  NotPositiveDefiniteError,
  SingularMatrixError,
  SingularSystemError,
  SparseMatrix,
  solve,
  sparseMatrix,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import type { NDArray } from "../../src/values/ndarray.js";
import { randomDense, randomTriplets, randomVector, seededRandom, sumOfSquares } from "./helpers.js";

const sizes = fc.record({
  n: fc.integer({ min: 1, max: 7 }),
  k: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

describe("solve with a dense matrix: the rule checker", () => {
  it("x = A^-1 b with respect to A and b, for b of shape [n] and [n, k]", () => {
    fc.assert(
      fc.property(sizes, ({ n, k, seed }) => {
        const random = seededRandom(seed);
        const A = np.array(randomDense(n, random), [n, n]);
        const b = k === 0 ? np.array(randomVector(n, random)) : np.array(randomVector(n * k, random), [n, k]);
        assertRule((a, y) => solve(a as NDArray, y as NDArray), [A, b], { seed });
        assertRule((y) => solve(A, y as NDArray), [b], { seed });
        assertRule((a) => solve(a as NDArray, b), [A], { seed });
      }),
      { numRuns: 40 },
    );
  });

  it("matches the closed forms: dJ/db = 2 A^-T x and dJ/dA = -2 (A^-T x) x^T for J = |x|^2", () => {
    const tape = new Tape();
    const A = np.array([
      [4, 1, 0],
      [1, 3, -1],
      [0, -1, 2],
    ]);
    const b = np.array([1, 2, 3]);
    const x = withTape(tape, () => solve(A, b));
    const J = withTape(tape, () => sumOfSquares(x));
    const [dA, db] = computeGradient(J, [new Control(A), new Control(b)], { tape });
    // A is symmetric, so A^-T (2x) = A^-1 (2x)
    const lambda = stopAnnotating(() => solve(A, np.multiply(2, x)));
    for (let i = 0; i < 3; i++) expect(db.data[i]).toBeCloseTo(lambda.data[i], 14);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) expect(dA.data[i * 3 + j]).toBeCloseTo(-lambda.data[i] * x.data[j], 14);
    }
  });

  it("Taylor tests through a dense solve: rates >= 1.9 (gradient) and >= 2.9 (Hessian), in A and b", () => {
    const random = seededRandom(3);
    const n = 5;
    const tape = new Tape();
    const A = np.array(randomDense(n, random), [n, n]);
    const b = np.array(randomVector(n, random));
    const J = withTape(tape, () => np.sum(np.sin(solve(A, b))));
    const controls = [new Control(A), new Control(b)] as Control<OverloadedValue>[];
    const rf = new ReducedFunctional(J, controls, { tape });
    const h = [np.array(randomVector(n * n, random), [n, n]), np.array(randomVector(n, random))];
    expect(taylorTest(rf, [A, b], h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, [A, b], h, { hessian: true })).toBeGreaterThan(2.9);
    const rfB = new ReducedFunctional(J, new Control(b), { tape });
    expect(taylorTest(rfB, b, h[1], { hessian: true })).toBeGreaterThan(2.9);
  });
});

describe("solve with a sparse matrix", () => {
  const sparseSizes = fc.record({
    n: fc.integer({ min: 1, max: 9 }),
    k: fc.integer({ min: 0, max: 2 }),
    symmetric: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  });

  it("the rule checker in the matrix entries and b (Cholesky when SPD, LU otherwise)", () => {
    fc.assert(
      fc.property(sparseSizes, ({ n, k, symmetric, seed }) => {
        const random = seededRandom(seed);
        const { rows, cols, values } = randomTriplets(n, random, { symmetric });
        const A = SparseMatrix.fromTriplets(n, n, rows, cols, values);
        const b = k === 0 ? np.array(randomVector(n, random)) : np.array(randomVector(n * k, random), [n, k]);
        assertRule((a, y) => solve(a as SparseMatrix, y as NDArray), [A, b], { seed });
        const theta = np.array(values);
        assertRule((t, y) => solve(sparseMatrix(n, n, rows, cols, t as NDArray), y as NDArray), [theta, b], {
          seed,
        });
        assertRule((a, y) => solve(a as SparseMatrix, y as NDArray, { method: "lu" }), [A, b], { seed });
        assertRule((a, y) => solve(a as SparseMatrix, y as NDArray, { method: "gmres" }), [A, b], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("conjugate gradients: the rule checker in b, a Taylor test along symmetric matrix directions", () => {
    const random = seededRandom(11);
    const n = 12;
    const { rows, cols, values } = randomTriplets(n, random, { symmetric: true, density: 0.4 });
    const A = SparseMatrix.fromTriplets(n, n, rows, cols, values);
    const b = np.array(randomVector(n, random));
    assertRule((y) => solve(A, y as NDArray, { method: "cg" }), [b]);
    assertRule((y) => solve(A, y as NDArray, { method: "cg", preconditioner: "ic0" }), [b]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.sin(solve(A, b, { method: "cg" }))));
    const rf = new ReducedFunctional(J, [new Control(A), new Control(b)] as Control<OverloadedValue>[], {
      tape,
    });
    const symmetricDirection = A.withValues(A.values.map(() => 0));
    const direction = symmetricDirection.values;
    for (let i = 0; i < n; i++) {
      for (let p = A.csr.rowPtr[i]; p < A.csr.rowPtr[i + 1]; p++) {
        const j = A.csr.colIndex[p];
        if (j > i) continue;
        const v = 2 * random() - 1;
        direction[p] = v;
        direction[A.csr.indexOf(j, i)] = v;
      }
    }
    const h = [symmetricDirection, np.array(randomVector(n, random))];
    expect(taylorTest(rf, [A, b], h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, [A, b], h, { hessian: true })).toBeGreaterThan(2.9);
  });

  it("Taylor tests of a functional through a sparse solve with respect to b and the triplet values", () => {
    const random = seededRandom(5);
    const n = 30;
    const { rows, cols, values } = randomTriplets(n, random, { density: 0.15 });
    const tape = new Tape();
    const theta = np.array(values);
    const b = np.array(randomVector(n, random));
    const J = withTape(tape, () => np.sum(np.sin(solve(sparseMatrix(n, n, rows, cols, theta), b))));
    const rf = new ReducedFunctional(J, [new Control(theta), new Control(b)] as Control<OverloadedValue>[], {
      tape,
    });
    const h = [np.array(randomVector(values.length, random)), np.array(randomVector(n, random))];
    expect(taylorTest(rf, [theta, b], h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, [theta, b], h, { hessian: true })).toBeGreaterThan(2.9);
    const rfTheta = new ReducedFunctional(J, new Control(theta), { tape });
    expect(taylorTest(rfTheta, theta, h[0], { hessian: true })).toBeGreaterThan(2.9);
  });

  it("a constant CsrMatrix operand is accepted; the TLM is A^-1 bdot", () => {
    const tape = new Tape();
    const A = CsrMatrix.fromTriplets(2, 2, [0, 1, 1], [0, 0, 1], [2, 1, 4]);
    const b = np.array([2, 9]);
    const x = withTape(tape, () => solve(A, b));
    expect(Array.from(x.data)).toEqual([1, 2]);
    const xdot = computeTLM(x, new Control(b), np.array([2, 0]), { tape });
    expect(Array.from(xdot.data)).toEqual([1, -0.25]);
  });
});

describe("factorization reuse", () => {
  function record(method?: "lu" | "auto") {
    const tape = new Tape();
    const n = 8;
    const random = seededRandom(9);
    const { rows, cols, values } = randomTriplets(n, random);
    const theta = np.array(values);
    const b = np.array(randomVector(n, random));
    const J = withTape(tape, () =>
      np.sum(np.sin(solve(sparseMatrix(n, n, rows, cols, theta), b, { method }))),
    );
    const block = tape.blocks.find((candidate) => candidate instanceof LinearSolveBlock) as LinearSolveBlock;
    const rf = new ReducedFunctional(J, [new Control(theta), new Control(b)] as Control<OverloadedValue>[], {
      tape,
    });
    return { tape, theta, b, rf, block, values, n };
  }

  it("one factorization serves the forward solve, the gradient, the TLM and the Hessian action", () => {
    const { theta, b, rf, block, values, n } = record();
    expect(block.factorizations).toBe(1);
    rf.derivative();
    rf.tlm([theta, b]);
    rf.hessian([theta, b]);
    rf.derivative();
    expect(block.factorizations).toBe(1);
    // a replay at new values refactors once; derivatives there reuse it
    const moved = np.array(values.map((v) => v * 1.01));
    rf.evaluate([moved, b]);
    expect(block.factorizations).toBe(2);
    rf.derivative();
    rf.hessian([theta, np.ones([n])]);
    expect(block.factorizations).toBe(2);
    // a replay at equal values (new arrays) recognises them
    rf.evaluate([np.array(values.map((v) => v * 1.01)), b]);
    expect(block.factorizations).toBe(2);
    // changing only b never refactors
    rf.evaluate([moved, np.ones([n])]);
    expect(block.factorizations).toBe(2);
  });

  it("the dense block counts its LU factorizations the same way", () => {
    const tape = new Tape();
    const random = seededRandom(2);
    const A = np.array(randomDense(4, random), [4, 4]);
    const b = np.array(randomVector(4, random));
    const J = withTape(tape, () => np.sum(np.sin(solve(A, b))));
    const block = tape.blocks.find((candidate) => candidate instanceof LinearSolveBlock) as LinearSolveBlock;
    computeGradient(J, [new Control(A), new Control(b)], { tape });
    computeHessian(J, [new Control(A), new Control(b)], [A, b], { tape });
    expect(block.factorizations).toBe(1);
  });
});

describe("typed errors", () => {
  it("a singular dense matrix throws SingularSystemError naming solve", () => {
    const A = np.array([
      [1, 2],
      [2, 4],
    ]);
    expect(() => solve(A, np.array([1, 1]))).toThrow(SingularSystemError);
    try {
      solve(A, np.array([1, 1]));
    } catch (error) {
      expect(error).toBeInstanceOf(TsadjointError);
      expect((error as SingularSystemError).operation).toBe("solve");
      expect((error as Error).message).toMatch(/singular/);
    }
  });

  it("a singular sparse matrix throws SingularSystemError with the sparse layer's error as cause", () => {
    const A = SparseMatrix.fromTriplets(3, 3, [0, 1, 2, 0], [0, 1, 1, 1], [1, 1, 1, 1]);
    let caught: unknown;
    try {
      solve(A, np.array([1, 2, 3]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SingularSystemError);
    expect((caught as Error).cause).toBeInstanceOf(SingularMatrixError);
  });

  it("Cholesky on an indefinite matrix throws SingularSystemError (not positive definite)", () => {
    const A = SparseMatrix.fromTriplets(2, 2, [0, 0, 1, 1], [0, 1, 0, 1], [1, 2, 2, 1]);
    let caught: unknown;
    try {
      solve(A, np.array([1, 2]), { method: "cholesky" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SingularSystemError);
    expect((caught as Error).cause).toBeInstanceOf(NotPositiveDefiniteError);
    expect((caught as Error).message).toMatch(/not positive definite/);
    // "auto" solves it with LU
    expect(Array.from(solve(A, np.array([3, 3])).data)).toEqual([1, 1]);
  });

  it("a Krylov solve that misses its tolerance throws KrylovConvergenceError", () => {
    const random = seededRandom(4);
    const { rows, cols, values } = randomTriplets(40, random, { density: 0.3, margin: 0.01 });
    const A = SparseMatrix.fromTriplets(40, 40, rows, cols, values);
    expect(() =>
      solve(A, np.array(randomVector(40, random)), {
        method: "gmres",
        maxIterations: 1,
        preconditioner: "none",
      }),
    ).toThrow(KrylovConvergenceError);
  });

  it("shape errors name solve", () => {
    expect(() => solve(np.ones([2, 3]), np.ones([2]))).toThrow(ShapeMismatchError);
    expect(() => solve(np.eye(2), np.ones([3]))).toThrow(ShapeMismatchError);
    expect(() => solve(np.eye(2), np.ones([2]), { method: "cg" })).toThrow(/sparse/);
    expect(() => solve([[1]] as unknown as NDArray, np.ones([1]))).toThrow(/square NDArray/);
  });
});
