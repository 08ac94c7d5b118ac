/** @file Property tests of the linear algebra ops: every op through the rule checker, values against the kernels. */
import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  InvalidArgumentError,
  NDArray,
  np,
  ShapeMismatchError,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import * as kernels from "../../src/ops/kernels/linalg.js";
import { einsumSpec } from "../../src/ops/linalg.js";

const seedArb = fc.integer({ min: 1, max: 1000 });
const dim = fc.integer({ min: 1, max: 4 });

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** An array of `shape` with entries in [-1, 1]. */
function arrayOf(shape: readonly number[]): fc.Arbitrary<NDArray> {
  const size = sizeOf(shape);
  return fc
    .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: size, maxLength: size })
    .map((values) => new NDArray(Float64Array.from(values), shape));
}

/** Arrays for several shapes. */
function arraysOf(shapes: readonly (readonly number[])[]): fc.Arbitrary<NDArray[]> {
  return fc.tuple(...shapes.map(arrayOf));
}

/** A batch shape that broadcasts against `batch`: some axes set to 1, some leading axes dropped. */
function batchPartner(batch: readonly number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: batch.length, maxLength: batch.length }), fc.nat(batch.length))
    .map(([ones, drop]) => batch.map((n, i) => (ones[i] ? 1 : n)).slice(drop));
}

/** Random square matrices [...batch, n, n] shifted by (n + 1) I: strictly diagonally dominant, well conditioned. */
function wellConditioned(n: number, batch: readonly number[]): fc.Arbitrary<NDArray> {
  return arrayOf([...batch, n, n]).map((random) => {
    const data = random.data.slice();
    for (let base = 0; base < data.length; base += n * n)
      for (let i = 0; i < n; i++) data[base + i * (n + 1)] += n + 1;
    return new NDArray(data, random.shape);
  });
}

/** Symmetric positive-definite matrices B B^T + n I, batched. */
function positiveDefinite(n: number, batch: readonly number[]): fc.Arbitrary<NDArray> {
  return arrayOf([...batch, n, n]).map((b) => {
    const product = kernels.matmul(b, np.einsum("...ij->...ji", b));
    const data = product.data.slice();
    for (let base = 0; base < data.length; base += n * n)
      for (let i = 0; i < n; i++) data[base + i * (n + 1)] += n;
    return new NDArray(data, product.shape);
  });
}

const batchArb = fc.array(dim, { maxLength: 2 });

function expectClose(actual: NDArray, expected: NDArray, tolerance = 1e-12): void {
  expect(actual.shape).toEqual(expected.shape);
  for (let i = 0; i < actual.size; i++) {
    expect(Math.abs(actual.data[i] - expected.data[i])).toBeLessThanOrEqual(
      tolerance * (1 + Math.abs(expected.data[i])),
    );
  }
}

/** (a + a^T) / 2 over the last two axes, recorded with np ops. */
function sym(a: NDArray): NDArray {
  return np.multiply(np.add(a, np.einsum("...ij->...ji", a)), 0.5) as NDArray;
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("np.matmul", () => {
  const matmulCase = fc
    .record({ m: dim, k: dim, n: dim, batch: batchArb, aVector: fc.boolean(), bVector: fc.boolean() })
    .chain(({ m, k, n, batch, aVector, bVector }) =>
      fc
        .tuple(batchPartner(batch), batchPartner(batch))
        .chain(([batchA, batchB]) =>
          arraysOf([aVector ? [k] : [...batchA, m, k], bVector ? [k] : [...batchB, k, n]]),
        ),
    );

  it("1-D promotion and broadcast batches: rule checker, values equal the kernel", () => {
    fc.assert(
      fc.property(matmulCase, seedArb, ([a, b], seed) => {
        expectClose(np.matmul(a, b), kernels.matmul(a, b), 0);
        assertRule((x, y) => np.matmul(x as NDArray, y as NDArray), [a, b], { seed });
        assertRule((y) => np.matmul(a, y as NDArray), [b], { seed });
        assertRule((x) => np.matmul(x as NDArray, b), [a], { seed });
      }),
      { numRuns: 40 },
    );
  });

  it("the same array as both operands (x @ x), and nested-array constants", () => {
    fc.assert(
      fc.property(
        fc.tuple(dim, batchArb).chain(([n, batch]) => arrayOf([...batch, n, n])),
        seedArb,
        (x, seed) => {
          assertRule((v) => np.matmul(v as NDArray, v as NDArray), [x], { seed });
        },
      ),
      { numRuns: 20 },
    );
    assertRule(
      (v) =>
        np.matmul(
          [
            [1, 2],
            [3, 4],
          ],
          v as NDArray,
        ),
      [new NDArray(Float64Array.from([0.5, -1]), [2])],
    );
  });

  it("typed errors name np.matmul and the shapes", () => {
    const error = errorOf(() => np.matmul(np.zeros([2, 3]), np.zeros([4, 2])));
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect((error as ShapeMismatchError).operation).toBe("np.matmul");
    expect((error as ShapeMismatchError).shapes).toEqual([
      [2, 3],
      [4, 2],
    ]);
    expect(String((error as Error).message)).toMatch(/\[2, 3\].*\[4, 2\]/);
    expect(() => np.matmul(np.zeros([]), np.zeros([2]))).toThrow(/at least 1 dimension/);
    expect(() => np.matmul(np.zeros([2, 2, 3]), np.zeros([3, 3, 4]))).toThrow(/batch axes/);
    expect(() => np.matmul(np.zeros([3]), np.zeros([2]))).toThrow(ShapeMismatchError);
  });
});

describe("np.dot, np.inner, np.outer, np.vdot, np.tensordot", () => {
  /** Shapes for dot: 0-d with anything, 1-D/2-D combinations and N-D with M-D. */
  const dotCase = fc
    .record({
      rankA: fc.integer({ min: 0, max: 3 }),
      rankB: fc.integer({ min: 0, max: 3 }),
      sizes: fc.array(dim, { minLength: 6, maxLength: 6 }),
    })
    .chain(({ rankA, rankB, sizes }) => {
      const a = sizes.slice(0, rankA);
      const b = sizes.slice(3, 3 + rankB);
      if (rankA > 0 && rankB > 0) b[rankB === 1 ? 0 : rankB - 2] = a[rankA - 1];
      return arraysOf([a, b]);
    });

  it("np.dot over ranks 0..3: rule checker, values equal the kernel", () => {
    fc.assert(
      fc.property(dotCase, seedArb, ([a, b], seed) => {
        expectClose(np.dot(a, b), kernels.dot(a, b), 0);
        assertRule((x, y) => np.dot(x as NDArray, y as NDArray), [a, b], { seed });
      }),
      { numRuns: 40 },
    );
  });

  it("np.dot and np.inner with an AdjFloat or a number operand", () => {
    fc.assert(
      fc.property(
        fc.array(dim, { maxLength: 3 }).chain(arrayOf),
        fc.double({ min: -2, max: 2, noNaN: true }),
        seedArb,
        (a, s, seed) => {
          assertRule((x, y) => np.dot(x as AdjFloat, y as NDArray), [s, a], { seed });
          assertRule((x, y) => np.inner(x as NDArray, y as AdjFloat), [a, s], { seed });
          assertRule((x) => np.dot(x as NDArray, s), [a], { seed });
        },
      ),
      { numRuns: 15 },
    );
  });

  it("np.inner over ranks 0..3", () => {
    const innerCase = fc
      .record({
        rankA: fc.integer({ min: 0, max: 3 }),
        rankB: fc.integer({ min: 0, max: 3 }),
        sizes: fc.array(dim, { minLength: 6, maxLength: 6 }),
      })
      .chain(({ rankA, rankB, sizes }) => {
        const a = sizes.slice(0, rankA);
        const b = sizes.slice(3, 3 + rankB);
        if (rankA > 0 && rankB > 0) b[rankB - 1] = a[rankA - 1];
        return arraysOf([a, b]);
      });
    fc.assert(
      fc.property(innerCase, seedArb, ([a, b], seed) => {
        expectClose(np.inner(a, b), kernels.inner(a, b), 0);
        assertRule((x, y) => np.inner(x as NDArray, y as NDArray), [a, b], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("np.outer flattens its operands", () => {
    const pair = fc
      .tuple(fc.array(dim, { maxLength: 3 }), fc.array(dim, { maxLength: 3 }))
      .chain(([a, b]) => arraysOf([a, b]));
    fc.assert(
      fc.property(pair, seedArb, ([a, b], seed) => {
        expectClose(np.outer(a, b), kernels.outer(a, b), 0);
        assertRule((x, y) => np.outer(x as NDArray, y as NDArray), [a, b], { seed });
        assertRule((x) => np.outer(x as NDArray, x as NDArray), [a], { seed });
      }),
      { numRuns: 25 },
    );
  });

  it("np.vdot returns an AdjFloat for arrays and a number for plain inputs", () => {
    const pair = fc
      .array(dim, { maxLength: 3 })
      .chain((shape) =>
        fc
          .shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length })
          .chain((other) => arraysOf([shape, other.length === 0 ? [] : [sizeOf(other)]])),
      );
    fc.assert(
      fc.property(pair, seedArb, ([a, b], seed) => {
        const value = np.vdot(a, b);
        expect(value).toBeInstanceOf(AdjFloat);
        expect(value.value).toBeCloseTo(kernels.vdot(a, b), 12);
        assertRule((x, y) => np.vdot(x as NDArray, y as NDArray), [a, b], { seed });
        assertRule((x) => np.vdot(x as NDArray, x as NDArray), [a], { seed });
      }),
      { numRuns: 25 },
    );
    expect(np.vdot([1, 2], [3, 4])).toBe(11);
    expect(() => np.vdot(np.zeros([2]), np.zeros([3]))).toThrow(ShapeMismatchError);
  });

  it("np.tensordot with an axis count and with explicit (negative) axes", () => {
    const countCase = fc
      .record({ free: fc.array(dim, { maxLength: 2 }), shared: fc.array(dim, { maxLength: 2 }) })
      .chain(({ free, shared }) =>
        fc.array(dim, { maxLength: 2 }).chain((freeB) =>
          fc.tuple(
            arraysOf([
              [...free, ...shared],
              [...shared, ...freeB],
            ]),
            fc.constant(shared.length),
          ),
        ),
      );
    fc.assert(
      fc.property(countCase, seedArb, ([[a, b], count], seed) => {
        expectClose(np.tensordot(a, b, count), kernels.tensordot(a, b, count), 0);
        assertRule((x, y) => np.tensordot(x as NDArray, y as NDArray, count), [a, b], { seed });
      }),
      { numRuns: 25 },
    );
    const explicitCase = fc.array(dim, { minLength: 1, maxLength: 3 }).chain((shapeA) =>
      fc
        .tuple(
          fc.shuffledSubarray(
            shapeA.map((_, i) => i),
            { minLength: 1 },
          ),
          fc.array(dim, { maxLength: 2 }),
          fc.boolean(),
        )
        .chain(([axesA, extra, negative]) => {
          const shapeB = [...axesA.map((axis) => shapeA[axis]).reverse(), ...extra];
          const axesB = axesA.map((_, i) => axesA.length - 1 - i);
          const listA = negative ? axesA.map((axis) => axis - shapeA.length) : axesA;
          return fc.tuple(arraysOf([shapeA, shapeB]), fc.constant([listA, axesB] as const));
        }),
    );
    fc.assert(
      fc.property(explicitCase, seedArb, ([[a, b], axes], seed) => {
        expectClose(np.tensordot(a, b, axes), kernels.tensordot(a, b, axes), 0);
        assertRule((x, y) => np.tensordot(x as NDArray, y as NDArray, axes), [a, b], { seed });
      }),
      { numRuns: 25 },
    );
  });

  it("typed errors name the function and the shapes", () => {
    const dotError = errorOf(() => np.dot(np.zeros([2, 3]), np.zeros([2, 3])));
    expect(dotError).toBeInstanceOf(ShapeMismatchError);
    expect((dotError as ShapeMismatchError).operation).toBe("np.dot");
    expect(() => np.inner(np.zeros([2, 3]), np.zeros([2]))).toThrow(/np\.inner/);
    expect(() => np.tensordot(np.zeros([2, 3]), np.zeros([2, 3]), 1)).toThrow(ShapeMismatchError);
    expect(() => np.tensordot(np.zeros([2, 3]), np.zeros([2, 3]), 3)).toThrow(InvalidArgumentError);
  });
});

interface EinsumPattern {
  readonly subscripts: string;
  readonly shapes: (sizes: readonly number[]) => number[][];
}

const einsumPatterns: readonly EinsumPattern[] = [
  {
    subscripts: "ij,jk->ik",
    shapes: ([i, j, k]) => [
      [i, j],
      [j, k],
    ],
  },
  { subscripts: "ii->i", shapes: ([i]) => [[i, i]] },
  { subscripts: "ii->", shapes: ([i]) => [[i, i]] },
  {
    subscripts: "bij,bjk->bik",
    shapes: ([b, i, j, k]) => [
      [b, i, j],
      [b, j, k],
    ],
  },
  { subscripts: "i,i->", shapes: ([i]) => [[i], [i]] },
  { subscripts: "ij->ji", shapes: ([i, j]) => [[i, j]] },
  { subscripts: "ijk,k->ij", shapes: ([i, j, k]) => [[i, j, k], [k]] },
  {
    subscripts: "ij,jk,kl->il",
    shapes: ([i, j, k, l]) => [
      [i, j],
      [j, k],
      [k, l],
    ],
  },
  { subscripts: "i,j,k->ijk", shapes: ([i, j, k]) => [[i], [j], [k]] },
  {
    subscripts: "ij,jk",
    shapes: ([i, j, k]) => [
      [i, j],
      [j, k],
    ],
  },
  { subscripts: "ij->", shapes: ([i, j]) => [[i, j]] },
  { subscripts: "ij->i", shapes: ([i, j]) => [[i, j]] },
  {
    subscripts: "ij,ij->ij",
    shapes: ([i, j]) => [
      [i, j],
      [i, j],
    ],
  },
  {
    subscripts: "iij,jk->ik",
    shapes: ([i, j, k]) => [
      [i, i, j],
      [j, k],
    ],
  },
  {
    subscripts: "ii,ij->j",
    shapes: ([i, j]) => [
      [i, i],
      [i, j],
    ],
  },
  { subscripts: "ij,j->ij", shapes: ([i]) => [[i, 3], [1]] },
  {
    subscripts: "ij,jk->ik",
    shapes: ([i, j, k]) => [
      [i, 1],
      [j, k],
    ],
  },
  {
    subscripts: "...ij,...jk->...ik",
    shapes: ([b, i, j, k]) => [
      [b, 1, i, j],
      [2, j, k],
    ],
  },
  { subscripts: "...ii->...i", shapes: ([b, i]) => [[b, i, i]] },
  { subscripts: "i...,i->...", shapes: ([i, j, k]) => [[i, j, k], [i]] },
  {
    subscripts: "Ab,bA->",
    shapes: ([i, j]) => [
      [i, j],
      [j, i],
    ],
  },
];

describe("np.einsum", () => {
  for (const pattern of einsumPatterns) {
    it(`'${pattern.subscripts}': rule checker, values equal the direct kernel`, () => {
      const operands = fc
        .array(dim, { minLength: 4, maxLength: 4 })
        .chain((sizes) => arraysOf(pattern.shapes(sizes)));
      fc.assert(
        fc.property(operands, seedArb, (arrays, seed) => {
          expectClose(
            np.einsum(pattern.subscripts, ...arrays),
            kernels.einsumDirect(pattern.subscripts, ...arrays),
            1e-12,
          );
          assertRule((...xs) => np.einsum(pattern.subscripts, ...(xs as NDArray[])), arrays, { seed });
        }),
        { numRuns: 15 },
      );
    });
  }

  it("the same operand twice, AdjFloat and number operands", () => {
    fc.assert(
      fc.property(
        dim.chain((n) => arrayOf([n, n])),
        fc.double({ min: -2, max: 2, noNaN: true }),
        seedArb,
        (x, s, seed) => {
          assertRule((v) => np.einsum("ij,jk->ik", v as NDArray, v as NDArray), [x], { seed });
          assertRule((v) => np.einsum("ij,ji->", v as NDArray, v as NDArray), [x], { seed });
          assertRule((v, c) => np.einsum(",ij->ij", c as AdjFloat, v as NDArray), [x, s], { seed });
          assertRule((v) => np.einsum("ij,->ji", v as NDArray, 2), [x], { seed });
        },
      ),
      { numRuns: 15 },
    );
  });

  it("the parsed spec resolves '...' to unused letters and matches the kernel's output shape", () => {
    const spec = einsumSpec("...ij,jk", [
      [5, 2, 3],
      [3, 4],
    ]);
    expect(spec.terms[1]).toBe("jk");
    expect(spec.terms[0].slice(1)).toBe("ij");
    expect(spec.output).toBe(`${spec.terms[0][0]}ik`);
  });

  it("typed errors name np.einsum", () => {
    expect(() => np.einsum("ij,jk->ik", np.zeros([2, 3]))).toThrow(InvalidArgumentError);
    const error = errorOf(() => np.einsum("ij,jk->ik", np.zeros([2, 3]), np.zeros([4, 2])));
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect((error as ShapeMismatchError).operation).toBe("np.einsum");
    expect(() => np.einsum("ij->k", np.zeros([2, 3]))).toThrow(/np\.einsum/);
    expect(() => np.einsum("ii->i", np.zeros([2, 3]))).toThrow(ShapeMismatchError);
    expect(() => np.einsum("i->i", np.zeros([2, 3]))).toThrow(ShapeMismatchError);
  });
});

describe("np.trace", () => {
  it("any axis pair and offset: rule checker, values equal the kernel", () => {
    const traceCase = fc.array(dim, { minLength: 2, maxLength: 4 }).chain((shape) =>
      fc.tuple(
        arrayOf(shape),
        fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: 2, maxLength: 2 },
        ),
        fc.integer({ min: -2, max: 2 }),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(traceCase, seedArb, ([a, [axis1, axis2], offset, negative], seed) => {
        const first = negative ? axis1 - a.ndim : axis1;
        expectClose(np.trace(a, offset, first, axis2), kernels.trace(a, offset, axis1, axis2), 0);
        assertRule((x) => np.trace(x as NDArray, offset, first, axis2), [a], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("typed errors", () => {
    expect(() => np.trace(np.zeros([3]))).toThrow(ShapeMismatchError);
    expect(() => np.trace(np.zeros([3, 3]), 0, 1, -1)).toThrow(InvalidArgumentError);
  });
});

describe("np.linalg.inv, det, slogdet", () => {
  const squareCase = fc.tuple(dim, batchArb).chain(([n, batch]) => wellConditioned(n, batch));

  it("np.linalg.inv: rule checker, values equal the kernel", () => {
    fc.assert(
      fc.property(squareCase, seedArb, (a, seed) => {
        expectClose(np.linalg.inv(a), kernels.inv(a), 0);
        assertRule((x) => np.linalg.inv(x as NDArray), [a], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("np.linalg.det: rule checker, values equal the kernel", () => {
    fc.assert(
      fc.property(squareCase, seedArb, (a, seed) => {
        expectClose(np.linalg.det(a), kernels.det(a), 0);
        assertRule((x) => np.linalg.det(x as NDArray), [a], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("np.linalg.slogdet: a [sign, logabsdet] pair; logabsdet through the rule checker, negative determinants too", () => {
    fc.assert(
      fc.property(squareCase, fc.boolean(), seedArb, (a, flip, seed) => {
        const n = a.shape[a.ndim - 1];
        const data = a.data.slice();
        if (flip) for (let j = 0; j < n; j++) data[j] = -data[j];
        const matrix = new NDArray(data, a.shape);
        const result = np.linalg.slogdet(matrix);
        const reference = kernels.slogdet(matrix);
        const [sign, logabsdet] = result;
        expect(sign).toBe(result.sign);
        expect(logabsdet).toBe(result.logabsdet);
        expectClose(result.sign, reference.sign, 0);
        expectClose(result.logabsdet, reference.logAbsDet, 0);
        assertRule((x) => np.linalg.slogdet(x as NDArray).logabsdet, [matrix], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("singular matrices: inv throws, det's value is 0 but its derivative throws, both naming the function", () => {
    const singular = np.array([
      [1, 2],
      [2, 4],
    ]);
    const invError = errorOf(() => np.linalg.inv(singular));
    expect(invError).toBeInstanceOf(InvalidArgumentError);
    expect((invError as InvalidArgumentError).operation).toBe("np.linalg.inv");
    expect((invError as Error).message).toMatch(/singular/);
    const tape = new Tape();
    const d = withTape(tape, () => np.linalg.det(singular));
    expect(d.item()).toBe(0);
    const derivativeError = errorOf(() => computeGradient(d, new Control(singular), { tape }));
    expect(derivativeError).toBeInstanceOf(InvalidArgumentError);
    expect((derivativeError as InvalidArgumentError).operation).toBe("np.linalg.det");
    expect(() => np.linalg.inv(np.zeros([2, 3]))).toThrow(ShapeMismatchError);
    expect(() => np.linalg.det(np.zeros([3]))).toThrow(/np\.linalg\.det/);
  });

  it("the gradient of det is det(A) A^-T", () => {
    const a = np.array([
      [2, 1],
      [0.5, 3],
    ]);
    const tape = new Tape();
    const d = withTape(tape, () => np.linalg.det(a));
    const gradient = computeGradient(d, new Control(a), { tape });
    expectClose(
      gradient,
      np.array([
        [3, -0.5],
        [-1, 2],
      ]),
    );
  });
});

describe("np.linalg.cholesky", () => {
  it("through a symmetrizing wrapper (symmetric directions): rule checker, values equal the kernel", () => {
    const spdCase = fc.tuple(dim, batchArb).chain(([n, batch]) => positiveDefinite(n, batch));
    fc.assert(
      fc.property(spdCase, seedArb, (a, seed) => {
        expectClose(np.linalg.cholesky(a), kernels.cholesky(a), 0);
        assertRule((x) => np.linalg.cholesky(sym(x as NDArray)), [a], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("the adjoint is symmetric; not positive definite gives a typed error", () => {
    const a = np.array([
      [4, 2, 0.5],
      [2, 5, 1],
      [0.5, 1, 3],
    ]);
    const tape = new Tape();
    const L = withTape(tape, () => np.linalg.cholesky(a));
    const weights = np.array([
      [1, 0, 0],
      [2, -1, 0],
      [0.5, 3, 2],
    ]);
    const gradient = computeGradient(L, new Control(a), { tape, adjValue: weights });
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(gradient.get(i, j)).toBeCloseTo(gradient.get(j, i), 14);
    const error = errorOf(() =>
      np.linalg.cholesky(
        np.array([
          [1, 2],
          [2, 1],
        ]),
      ),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).operation).toBe("np.linalg.cholesky");
    expect(() => np.linalg.cholesky(np.zeros([2, 3]))).toThrow(ShapeMismatchError);
  });
});

describe("np.linalg.solve_triangular", () => {
  it("lower/upper, trans, unit diagonal, vector and column right-hand sides, broadcast batches", () => {
    const triangularCase = fc
      .record({
        n: dim,
        k: dim,
        batch: batchArb,
        vector: fc.boolean(),
        lower: fc.boolean(),
        trans: fc.boolean(),
        unit: fc.boolean(),
      })
      .chain(({ n, k, batch, vector, lower, trans, unit }) =>
        fc
          .tuple(batchPartner(batch), batchPartner(batch))
          .chain(([batchA, batchB]) =>
            fc.tuple(
              wellConditioned(n, batchA),
              arrayOf(vector ? [n] : [...batchB, n, k]),
              fc.constant({ lower, trans: trans ? ("T" as const) : ("N" as const), unit_diagonal: unit }),
            ),
          ),
      );
    fc.assert(
      fc.property(triangularCase, seedArb, ([a, b, options], seed) => {
        const expected = kernels.solveTriangular(a, b, {
          lower: options.lower,
          transpose: options.trans === "T",
          unitDiagonal: options.unit_diagonal,
        });
        expectClose(np.linalg.solve_triangular(a, b, options), expected, 0);
        assertRule((x, y) => np.linalg.solve_triangular(x as NDArray, y as NDArray, options), [a, b], {
          seed,
        });
      }),
      { numRuns: 40 },
    );
  });

  it("typed errors", () => {
    expect(() => np.linalg.solve_triangular(np.eye(3), np.zeros([2]))).toThrow(ShapeMismatchError);
    expect(() =>
      np.linalg.solve_triangular(
        np.array([
          [0, 0],
          [1, 1],
        ]),
        np.ones([2]),
        { lower: true },
      ),
    ).toThrow(/singular/);
  });
});
