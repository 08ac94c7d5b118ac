import fc from "fast-check";
import {
  assertRule,
  Control,
  computeGradient,
  createOverloadedObject,
  np,
  type OverloadedValue,
  ReducedFunctional,
  ShapeMismatchError,
  spaceOf,
  Tape,
  taylorTest,
  withTape,
} from "tsadjoint";
import {
  CsrMatrix,
  matvec,
  SparseAssembler,
  SparseMatrix,
  sparseFromValues,
  sparseMatrix,
  sparseMatrixSpace,
  sparseValues,
  transpose,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import type { NDArray } from "../../src/values/ndarray.js";
import { randomTriplets, randomVector, seededRandom, sumOfSquares } from "./helpers.js";

const spec = fc.record({
  rows: fc.integer({ min: 1, max: 8 }),
  cols: fc.integer({ min: 1, max: 8 }),
  density: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

/** A random rows x cols matrix with random (possibly duplicated) triplets. */
function randomMatrix({
  rows,
  cols,
  density,
  seed,
}: {
  rows: number;
  cols: number;
  density: number;
  seed: number;
}) {
  const random = seededRandom(seed);
  const r: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (random() < density) {
        r.push(i);
        c.push(j);
        v.push(2 * random() - 1);
        if (random() < 0.3) {
          r.push(i);
          c.push(j);
          v.push(2 * random() - 1);
        }
      }
    }
  }
  if (r.length === 0) {
    r.push(0);
    c.push(0);
    v.push(1);
  }
  return { r, c, v, random };
}

describe("SparseMatrix as an overloaded value", () => {
  it("is registered: its vector space works over the stored values of one pattern", () => {
    const A = SparseMatrix.fromTriplets(2, 3, [0, 1, 1], [2, 0, 1], [1, 2, 3]);
    const space = spaceOf(A);
    expect(space).toBe(sparseMatrixSpace);
    expect(space.size(A)).toBe(3);
    expect(space.shape(A)).toEqual([2, 3]);
    const B = space.scale(A, 2) as SparseMatrix;
    expect(Array.from(B.values)).toEqual([2, 4, 6]);
    expect(B.csr.rowPtr).toBe(A.csr.rowPtr);
    expect(space.dot(A, B)).toBe(2 * (1 + 4 + 9));
    expect(space.norm(A)).toBeCloseTo(Math.sqrt(14), 14);
    expect(Array.from((space.add(A, B) as SparseMatrix).values)).toEqual([3, 6, 9]);
    expect(Array.from((space.zerosLike(A) as SparseMatrix).values)).toEqual([0, 0, 0]);
    const back = space.fromFloat64Array(A, Float64Array.of(7, 8, 9)) as SparseMatrix;
    // slots in CSR order: (0, 2), (1, 0), (1, 1)
    expect(back.toDense().toArray()).toEqual([
      [0, 0, 7],
      [8, 9, 0],
    ]);
    const other = SparseMatrix.fromTriplets(2, 3, [0], [0], [1]);
    expect(() => space.add(A, other)).toThrow(ShapeMismatchError);
    expect(createOverloadedObject(CsrMatrix.identity(2))).toBeInstanceOf(SparseMatrix);
    expect(String(A)).toBe("SparseMatrix(2x3, nnz=3)");
  });

  it("a SparseMatrix control: gradient of sum(sin(A x)) is P(cos(A x) x^T), Taylor rates 2 and 3", () => {
    const tape = new Tape();
    const A = SparseMatrix.fromTriplets(3, 3, [0, 0, 1, 2, 2], [0, 2, 1, 0, 2], [2, -1, 3, 0.5, 1]);
    const x = np.array([1, -2, 0.5]);
    const J = withTape(tape, () => np.sum(np.sin(matvec(A, x))));
    const gradient = computeGradient(J, new Control(A), { tape }) as SparseMatrix;
    const cosY = A.csr.matvec(x.data).map(Math.cos);
    const expected = Array.from(A.csr.patternOuter(cosY, x.data));
    Array.from(gradient.values).forEach((g, i) => {
      expect(g).toBeCloseTo(expected[i], 14);
    });
    const rf = new ReducedFunctional(J, new Control(A), { tape });
    const h = A.withValues([0.3, -0.2, 0.1, 0.4, -0.5]);
    expect(taylorTest(rf, A, h)).toBeGreaterThan(1.9);
    expect(taylorTest(rf, A, h, { hessian: true })).toBeGreaterThan(2.9);
  });
});

describe("sparse operations: the rule checker", () => {
  it("matvec(A, x) with respect to the matrix entries and x", () => {
    fc.assert(
      fc.property(spec, (s) => {
        const { r, c, v, random } = randomMatrix(s);
        const A = SparseMatrix.fromTriplets(s.rows, s.cols, r, c, v);
        const x = np.array(randomVector(s.cols, random));
        assertRule((a, y) => matvec(a as SparseMatrix, y as NDArray), [A, x], { seed: s.seed });
        assertRule((y) => matvec(A, y as NDArray), [x], { seed: s.seed });
        assertRule((a) => matvec(a as SparseMatrix, x), [A], { seed: s.seed });
        assertRule((a) => (a as SparseMatrix).matvec(x), [A], { seed: s.seed });
      }),
      { numRuns: 30 },
    );
  });

  it("sparseMatrix(...) from recorded triplet values (duplicates summed) and sparseFromValues", () => {
    fc.assert(
      fc.property(spec, (s) => {
        const { r, c, v, random } = randomMatrix(s);
        const x = np.array(randomVector(s.cols, random));
        const values = np.array(v);
        assertRule((t) => matvec(sparseMatrix(s.rows, s.cols, r, c, t as NDArray), x), [values], {
          seed: s.seed,
        });
        const pattern = CsrMatrix.fromTriplets(s.rows, s.cols, r, c, v);
        const slots = np.array(pattern.values);
        assertRule((t) => matvec(sparseFromValues(pattern, t as NDArray), x), [slots], { seed: s.seed });
        assertRule(
          (t, y) => np.multiply(sparseValues(sparseFromValues(pattern, t as NDArray)), y as NDArray),
          [slots, np.array(randomVector(slots.size, random))],
        );
      }),
      { numRuns: 30 },
    );
  });

  it("transpose(A) with respect to the entries (and A^T x)", () => {
    fc.assert(
      fc.property(spec, (s) => {
        const { r, c, v, random } = randomMatrix(s);
        const A = SparseMatrix.fromTriplets(s.rows, s.cols, r, c, v);
        const y = np.array(randomVector(s.rows, random));
        assertRule((a) => transpose(a as SparseMatrix), [A], { seed: s.seed });
        assertRule((a, z) => matvec((a as SparseMatrix).transpose(), z as NDArray), [A, y], { seed: s.seed });
        assertRule((a) => sparseValues(a as SparseMatrix), [A], { seed: s.seed });
      }),
      { numRuns: 30 },
    );
  });

  it("assembly adjoint is the gather of the slot adjoints to the triplets", () => {
    const tape = new Tape();
    const assembler = new SparseAssembler(2, 2, [0, 1, 0, 1], [0, 1, 0, 0]);
    expect(assembler.tripletCount).toBe(4);
    expect(assembler.pattern.nnz).toBe(3);
    const theta = np.array([1, 2, 3, 4]);
    const A = withTape(tape, () => assembler.assemble(theta));
    expect(A.toDense().toArray()).toEqual([
      [4, 0],
      [4, 2],
    ]);
    const J = withTape(tape, () => sumOfSquares(sparseValues(A)));
    const g = computeGradient(J, new Control(theta), { tape });
    // slots (0,0) = 4, (1,0) = 4, (1,1) = 2; each triplet receives 2 * its slot's value
    expect(Array.from(g.data)).toEqual([8, 4, 8, 8]);
    const again = assembler.assemble([0, 0, 0, 0]);
    expect(again.csr.rowPtr).toBe(A.csr.rowPtr);
  });

  it("errors: shapes and types", () => {
    const A = SparseMatrix.fromTriplets(2, 3, [0], [1], [1]);
    expect(() => matvec(A, np.array([1, 2]))).toThrow(ShapeMismatchError);
    expect(() => sparseMatrix(2, 2, [0, 1], [0, 1], np.array([1, 2, 3]))).toThrow(ShapeMismatchError);
    expect(() => sparseMatrix(2, 2, [0, 5], [0, 1], [1, 2])).toThrow(/outside/);
    expect(() => matvec({} as unknown as SparseMatrix, [1, 2, 3])).toThrow(/SparseMatrix or a CsrMatrix/);
    expect(() => SparseMatrix.fromDense(np.array([1, 2]))).toThrow(ShapeMismatchError);
  });

  it("a random symmetric system assembled from triplets: Taylor test of sum((A x)^2) in the triplet values", () => {
    const random = seededRandom(7);
    const { rows, cols, values } = randomTriplets(6, random, { symmetric: true });
    const tape = new Tape();
    const theta = np.array(values);
    const x = np.array(randomVector(6, random));
    const J = withTape(tape, () => sumOfSquares(matvec(sparseMatrix(6, 6, rows, cols, theta), x)));
    const rf = new ReducedFunctional(J, [new Control(theta), new Control(x)] as Control<OverloadedValue>[], {
      tape,
    });
    const h = [np.array(randomVector(values.length, random)), np.array(randomVector(6, random))];
    expect(taylorTest(rf, [theta, x], h, { hessian: true })).toBeGreaterThan(2.9);
  });
});
