import fc from "fast-check";
import { assertRule, InvalidArgumentError, np, ShapeMismatchError, TsadjointError } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { NDArray } from "../../src/values/ndarray.js";

const seedArb = fc.integer({ min: 1, max: 1000 });
const entry = fc.double({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true });

function arrayOf(shape: readonly number[]): fc.Arbitrary<NDArray> {
  const size = shape.reduce((p, n) => p * n, 1);
  return fc
    .array(entry, { minLength: size, maxLength: size })
    .map((values) => new NDArray(Float64Array.from(values), shape));
}

/** Well-conditioned matrices: a random perturbation of n times the identity. */
function matrices(batch: readonly number[], n: number): fc.Arbitrary<NDArray> {
  return arrayOf([...batch, n, n]).map((m) => np.add(m, np.multiply(np.eye(n), n + 1)) as NDArray);
}

const solveCase = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 3 }),
    batchA: fc.constantFrom<number[]>([], [2], [2, 1]),
    batchB: fc.constantFrom<number[]>([], [1], [2]),
    vector: fc.boolean(),
  })
  .chain(({ n, k, batchA, batchB, vector }) =>
    fc.tuple(matrices(batchA, n), arrayOf(vector ? [n] : [...batchB, n, k])),
  );

describe("np.linalg.solve", () => {
  it("solves like NumPy (vector and column right-hand sides, broadcast batches): a @ y == b", () => {
    fc.assert(
      fc.property(solveCase, ([a, b]) => {
        const y = np.linalg.solve(a, b);
        const back = b.ndim === 1 ? np.einsum("...ij,...j->...i", a, y) : np.matmul(a, y);
        const expected = np.broadcast_to(b, back.shape);
        for (let i = 0; i < back.size; i++) {
          expect(Math.abs((back.data[i] as number) - (expected.data[i] as number))).toBeLessThan(1e-12);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("all four modes pass the rule checker in a and b (property)", () => {
    fc.assert(
      fc.property(solveCase, seedArb, ([a, b], seed) => {
        assertRule((x, y) => np.linalg.solve(x as NDArray, y as NDArray), [a, b], { seed });
        assertRule((x) => np.linalg.solve(x as NDArray, b), [a], { seed });
        assertRule((y) => np.linalg.solve(a, y as NDArray), [b], { seed });
        // nonlinear use of the result so the second-order terms matter
        assertRule((x) => np.sum(np.square(np.linalg.solve(x as NDArray, b))), [a], { seed });
      }),
      { numRuns: 30 },
    );
  });

  it("names np.linalg.solve in shape and singularity errors", () => {
    expect(() => np.linalg.solve(np.eye(2), np.zeros([3]))).toThrow(ShapeMismatchError);
    expect(() => np.linalg.solve(np.zeros([2, 3]), np.zeros([2]))).toThrow(/np\.linalg\.solve/);
    expect(() =>
      np.linalg.solve(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 1],
      ),
    ).toThrow(TsadjointError);
    expect(() => np.linalg.solve(np.eye(2), [1, 1], { tap: 1 } as never)).toThrow(InvalidArgumentError);
  });
});

describe("np.linalg.norm", () => {
  it("is np.norm with NumPy's ord / axis / keepdims", () => {
    const x = np.array([
      [3, 4],
      [6, 8],
    ]);
    expect(np.linalg.norm(x).toArray()).toBeCloseTo(Math.sqrt(125), 14);
    expect(np.linalg.norm(x, null, 1).toArray()).toEqual([5, 10]);
    expect(np.linalg.norm(x, { axis: 0, keepdims: true }).shape).toEqual([1, 2]);
    expect(np.linalg.norm(x, "fro").toArray()).toBeCloseTo(Math.sqrt(125), 14);
    expect(() => np.linalg.norm(x, 2)).toThrow(InvalidArgumentError);
    assertRule((v) => np.linalg.norm(v as NDArray, { axis: 1 }), [x]);
  });
});
