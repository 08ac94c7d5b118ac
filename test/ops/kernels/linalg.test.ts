/** @file Tests for contractions (matmul, dot, tensordot, einsum) and dense solvers against naive references. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eye, zeros } from "../../../src/ops/kernels/creation.js";
import {
  cholesky,
  det,
  dot,
  einsum,
  einsumDirect,
  inner,
  inv,
  luFactor,
  luSolve,
  matmul,
  outer,
  slogdet,
  solve,
  solveTriangular,
  tensordot,
  trace,
  vdot,
} from "../../../src/ops/kernels/linalg.js";
import { matrixTranspose, reshape } from "../../../src/ops/kernels/shape.js";
import { array, NDArray } from "../../../src/values/ndarray.js";
import {
  broadcastGet,
  expectClose,
  fromFunction,
  intArrayArb,
  ravelIndex,
  realArrayArb,
  shapeArb,
  sizeOf,
  unravel,
} from "./reference.js";

/** Naive matmul with NumPy semantics: 1-D promotion, broadcast batch dims. */
function naiveMatmul(a: NDArray, b: NDArray): NDArray {
  const A = a.ndim === 1 ? new NDArray(a.data, [1, a.shape[0]]) : a;
  const B = b.ndim === 1 ? new NDArray(b.data, [b.shape[0], 1]) : b;
  const m = A.shape[A.ndim - 2];
  const k = A.shape[A.ndim - 1];
  const n = B.shape[B.ndim - 1];
  const aBatch = A.shape.slice(0, -2);
  const bBatch = B.shape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch = new Array<number>(rank).fill(1);
  for (const s of [aBatch, bBatch])
    for (let i = 0; i < s.length; i++)
      batch[i + rank - s.length] = Math.max(batch[i + rank - s.length], s[i]);
  const full = fromFunction([...batch, m, n], (index) => {
    const bi = index.slice(0, rank);
    const [i, j] = index.slice(rank);
    let total = 0;
    for (let p = 0; p < k; p++) {
      total += broadcastGet(A, [...bi, i, p]) * broadcastGet(B, [...bi, p, j]);
    }
    return total;
  });
  const shape = [...batch];
  if (a.ndim > 1) shape.push(m);
  if (b.ndim > 1) shape.push(n);
  return new NDArray(full.data, shape);
}

/** Naive einsum for explicit letter-only subscripts, with size-1 broadcasting of any label. */
function naiveEinsum(subscripts: string, operands: NDArray[]): NDArray {
  const [lhs, rhs] = subscripts.split("->");
  const terms = lhs.split(",");
  const sizes = new Map<string, number>();
  terms.forEach((term, i) => {
    [...term].forEach((label, d) => {
      sizes.set(label, Math.max(sizes.get(label) ?? 1, operands[i].shape[d]));
    });
  });
  const labels = [...sizes.keys()];
  const outShape = [...rhs].map((l) => sizes.get(l) ?? 1);
  const out = new Float64Array(sizeOf(outShape));
  const loopShape = labels.map((l) => sizes.get(l) ?? 1);
  for (let flat = 0; flat < sizeOf(loopShape); flat++) {
    const value = new Map(labels.map((l, i) => [l, unravel(flat, loopShape)[i]]));
    let product = 1;
    terms.forEach((term, i) => {
      const index = [...term].map((l, d) => (operands[i].shape[d] === 1 ? 0 : (value.get(l) ?? 0)));
      product *= operands[i].data[ravelIndex(index, operands[i].shape)];
    });
    out[
      ravelIndex(
        [...rhs].map((l) => value.get(l) ?? 0),
        outShape,
      )
    ] += product;
  }
  return new NDArray(out, outShape);
}

/** Random einsum problems over labels a-d: 1-3 operands, repeated labels, random outputs, some size-1 broadcasting. */
const einsumCaseArb = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
    fc.array(fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  )
  .chain(([sizes, terms]) => {
    const used = [...new Set(terms.flat())];
    const sizeOfLabel = (l: string): number => sizes["abcd".indexOf(l)];
    const output = fc.shuffledSubarray(used);
    const shapes = terms.map((term) =>
      fc.tuple(...term.map((l) => fc.boolean().map((ones) => (ones ? 1 : sizeOfLabel(l))))).map((shape) =>
        // Repeated labels inside one operand must share a size.
        shape.map((n, d) => (term.indexOf(term[d]) !== d ? shape[term.indexOf(term[d])] : n)),
      ),
    );
    return fc.tuple(output, fc.tuple(...shapes)).chain(([out, operandShapes]) =>
      fc.tuple(...operandShapes.map((s) => realArrayArb(s))).map((operands) => ({
        subscripts: `${terms.map((t) => t.join("")).join(",")}->${out.join("")}`,
        operands,
      })),
    );
  });

/**
 * A random well-conditioned batch of square matrices: diagonally dominant, then with rows randomly permuted so
 * that partial pivoting has to swap rows.
 */
function wellConditioned(batch: number[], n: number, permuteRows = true): fc.Arbitrary<NDArray> {
  const identity = Array.from({ length: n }, (_, i) => i);
  const permutation = permuteRows
    ? fc.shuffledSubarray(identity, { minLength: n, maxLength: n })
    : fc.constant(identity);
  return fc.tuple(realArrayArb([...batch, n, n], 1), permutation).map(([m, rows]) =>
    fromFunction(m.shape, (index) => {
      const i = rows[index[index.length - 2]];
      const j = index[index.length - 1];
      const source = [...index.slice(0, -2), i, j];
      return m.data[ravelIndex(source, m.shape)] + (i === j ? n + 1 : 0);
    }),
  );
}

const squareCaseArb = fc
  .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.integer({ min: 1, max: 5 }))
  .chain(([batch, n]) => wellConditioned(batch, n));

/** Diagonally dominant without row permutation (safe for triangular solves). */
const dominantCaseArb = fc
  .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.integer({ min: 1, max: 5 }))
  .chain(([batch, n]) => wellConditioned(batch, n, false));

describe("matmul", () => {
  it("agrees with a naive loop including 1-D promotion and batch broadcasting", () => {
    const arb = fc
      .tuple(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.boolean(),
      )
      .chain(([m, k, n, batch, aRank, bRank, aVector, bVector]) => {
        const aBatch = batch
          .slice(batch.length - Math.min(aRank, batch.length))
          .map((x, i) => (i % 2 ? x : 1));
        const bBatch = batch.slice(batch.length - Math.min(bRank, batch.length));
        const aShape = aVector ? [k] : [...aBatch, m, k];
        const bShape = bVector ? [k] : [...bBatch, k, n];
        return fc.tuple(realArrayArb(aShape), realArrayArb(bShape));
      });
    fc.assert(
      fc.property(arb, ([a, b]) => {
        expectClose(matmul(a, b), naiveMatmul(a, b), 1e-12, 1e-12);
      }),
    );
  });

  it("gives clear errors", () => {
    expect(() => matmul(zeros([2, 3]), zeros([2, 3]))).toThrow(
      "matmul: shapes [2, 3] and [2, 3] are not aligned",
    );
    expect(() => matmul(array(1), zeros([2]))).toThrow(/at least 1-D/);
    expect(() => matmul(zeros([2, 2, 2]), zeros([3, 2, 2]))).toThrow(/could not be broadcast/);
  });

  it("handles empty dimensions", () => {
    expect(matmul(zeros([2, 0]), zeros([0, 3])).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(matmul(zeros([0, 2]), zeros([2, 3])).shape).toEqual([0, 3]);
  });
});

describe("tensordot / dot / inner / outer / vdot / trace", () => {
  it("tensordot agrees with einsum and naive loops", () => {
    const arb = fc
      .tuple(shapeArb(2, 1, 3), shapeArb(2, 1, 3), shapeArb(2, 1, 3))
      .chain(([freeA, shared, freeB]) =>
        fc.tuple(
          realArrayArb([...freeA, ...shared]),
          realArrayArb([...shared, ...freeB]),
          fc.constant(shared.length),
        ),
      );
    fc.assert(
      fc.property(arb, ([a, b, count]) => {
        const out = tensordot(a, b, count);
        const letters = "abcdefgh";
        const aTerm = letters.slice(0, a.ndim);
        const bTerm = letters.slice(a.ndim - count, a.ndim - count + b.ndim);
        const outTerm = aTerm.slice(0, a.ndim - count) + bTerm.slice(count);
        expectClose(out, naiveEinsum(`${aTerm},${bTerm}->${outTerm}`, [a, b]), 1e-12, 1e-12);
      }),
    );
    const a = fromFunction([2, 3, 4], (i) => i[0] + 2 * i[1] - i[2]);
    const b = fromFunction([4, 2], (i) => i[0] * i[1] + 1);
    expectClose(
      tensordot(a, b, [
        [2, 0],
        [0, 1],
      ]),
      naiveEinsum("ijk,ki->j", [a, b]),
    );
    expect(() => tensordot(zeros([2]), zeros([3]), 1)).toThrow(/shape mismatch/);
  });

  it("dot follows NumPy for 0-d, 1-D, 2-D and N-D operands", () => {
    const a = fromFunction([2, 3, 4], (i) => i[0] - i[1] + 2 * i[2]);
    const b = fromFunction([5, 4, 2], (i) => i[0] + i[1] * i[2] - 1);
    expectClose(dot(a, b), naiveEinsum("ijk,lkm->ijlm", [a, b]));
    const v = array([1, 2, 3, 4]);
    expectClose(dot(a, v), naiveEinsum("ijk,k->ij", [a, v]));
    expect(dot(array([1, 2]), array([3, 4])).item()).toBe(11);
    expect(dot(array(2), array([3, 4])).toArray()).toEqual([6, 8]);
    expectClose(dot(array([[1, 2]]), array([[3], [4]])), array([[11]]));
    expect(() => dot(a, zeros([3, 2]))).toThrow(/not aligned/);
  });

  it("inner, outer and vdot", () => {
    const a = fromFunction([2, 3], (i) => i[0] + i[1]);
    const b = fromFunction([4, 3], (i) => i[0] - i[1]);
    expectClose(inner(a, b), naiveEinsum("ij,kj->ik", [a, b]));
    expect(inner(array([1, 2]), array(3)).toArray()).toEqual([3, 6]);
    expect(outer(array([1, 2]), array([[3, 4]])).toArray()).toEqual([
      [3, 4],
      [6, 8],
    ]);
    expect(vdot(a, a)).toBe(1 + 4 + 1 + 4 + 9);
    expect(() => vdot(array([1]), array([1, 2]))).toThrow(/same size/);
  });

  it("trace with offsets and axes", () => {
    const a = fromFunction([3, 4, 2], (i) => i[0] * 10 + i[1] + i[2] * 100);
    expectClose(
      trace(a, 0, 0, 1),
      naiveEinsum("iik->k", [fromFunction([3, 3, 2], (i) => a.get(i[0], i[1], i[2]))]),
    );
    expect(
      trace(
        array([
          [1, 2],
          [3, 4],
        ]),
      ).item(),
    ).toBe(5);
    expect(
      trace(
        array([
          [1, 2],
          [3, 4],
        ]),
        1,
      ).item(),
    ).toBe(2);
    expect(
      trace(
        array([
          [1, 2],
          [3, 4],
        ]),
        -1,
      ).item(),
    ).toBe(3);
    expect(
      trace(
        array([
          [1, 2],
          [3, 4],
        ]),
        5,
      ).item(),
    ).toBe(0);
  });
});

describe("einsum", () => {
  it("agrees with a naive loop and with the direct strided loop on random problems", () => {
    fc.assert(
      fc.property(einsumCaseArb, ({ subscripts, operands }) => {
        const expected = naiveEinsum(subscripts, operands);
        expectClose(einsum(subscripts, ...operands), expected, 1e-12, 1e-12);
        expectClose(einsumDirect(subscripts, ...operands), expected, 1e-12, 1e-12);
      }),
      { numRuns: 300 },
    );
  });

  it("matches matmul, transpose, trace, diagonal and outer", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(
            fc.integer({ min: 1, max: 4 }),
            fc.integer({ min: 1, max: 4 }),
            fc.integer({ min: 1, max: 4 }),
          )
          .chain(([m, k, n]) => fc.tuple(realArrayArb([m, k]), realArrayArb([k, n]), realArrayArb([k, k]))),
        ([a, b, s]) => {
          expectClose(einsum("ij,jk->ik", a, b), matmul(a, b), 1e-12, 1e-12);
          expectClose(einsum("ij,jk", a, b), matmul(a, b), 1e-12, 1e-12);
          expectClose(einsum("ij->ji", a), matrixTranspose(a));
          expectClose(einsum("ii->", s), trace(s));
          expectClose(
            einsum("ii->i", s),
            fromFunction([s.shape[0]], (i) => s.get(i[0], i[0])),
          );
          expectClose(
            einsum("ij,kl->ijkl", a, b),
            reshape(outer(a, b), [...a.shape, ...b.shape]),
            1e-12,
            1e-12,
          );
        },
      ),
    );
  });

  it("supports ellipsis broadcasting", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.integer({ min: 1, max: 3 }))
          .chain(([batch, n]) =>
            fc.tuple(
              realArrayArb([...batch, n, n + 1]),
              realArrayArb([n + 1, 2]),
              realArrayArb([...batch.map(() => 1), 2, 3]),
            ),
          ),
        ([a, b, c]) => {
          expectClose(einsum("...ij,jk->...ik", a, b), matmul(a, b), 1e-12, 1e-12);
          expectClose(einsum("...ij,...jk,...kl->...il", a, b, c), matmul(matmul(a, b), c), 1e-11, 1e-11);
          expectClose(einsum("...ij->...ji", a), matrixTranspose(a));
        },
      ),
    );
    // Implicit mode puts the ellipsis axes first, then the remaining letters in alphabetical order.
    const x = fromFunction([2, 3, 4], (i) => i[0] + 10 * i[1] + 100 * i[2]);
    expect(einsum("i...", x).shape).toEqual([3, 4, 2]);
    expect(einsum("ba", zeros([2, 3])).shape).toEqual([3, 2]);
  });

  it("validates subscripts", () => {
    expect(() => einsum("ij,jk->ik", zeros([2, 3]))).toThrow(/operand terms/);
    expect(() => einsum("ij->i", zeros([2]))).toThrow(/name 2 axes/);
    expect(() => einsum("ij,jk->ik", zeros([2, 3]), zeros([4, 2]))).toThrow(
      /size mismatch for subscript 'j'/,
    );
    expect(() => einsum("ij->iz", zeros([2, 3]))).toThrow(/'z' does not appear/);
    expect(() => einsum("ij->ii", zeros([2, 3]))).toThrow(/more than once/);
    expect(() => einsum("ii->i", zeros([2, 3]))).toThrow(/unequal sizes/);
    expect(() => einsum("i1->i", zeros([2, 3]))).toThrow(/invalid subscript character/);
    expect(() => einsum("...i->i", zeros([2, 3]))).toThrow(/has no '...'/);
    expect(einsum("...i->i", zeros([3])).shape).toEqual([3]);
  });

  it("returns a new object even for the identity", () => {
    const a = zeros([2, 2]);
    expect(einsum("ij->ij", a)).not.toBe(a);
  });
});

describe("LU, solve, inv, det", () => {
  it("solve satisfies a @ x = b for vectors and matrices (NumPy 2 conventions, batched)", () => {
    const arb = squareCaseArb.chain((a) => {
      const n = a.shape[a.ndim - 1];
      const batch = a.shape.slice(0, -2);
      return fc.tuple(
        fc.constant(a),
        fc.oneof(
          realArrayArb([n]),
          fc.integer({ min: 1, max: 3 }).chain((k) => realArrayArb([...batch, n, k])),
          realArrayArb([n, 2]),
        ),
      );
    });
    fc.assert(
      fc.property(arb, ([a, b]) => {
        const x = solve(a, b);
        if (b.ndim === 1) {
          expect(x.shape).toEqual([...a.shape.slice(0, -2), b.shape[0]]);
          expectClose(
            einsum("...ij,...j->...i", a, x),
            fromFunction(x.shape, (i) => b.data[i[i.length - 1]]),
            1e-9,
            1e-9,
          );
        } else {
          expectClose(matmul(a, x), naiveMatmul(a, x), 1e-12, 1e-12);
          const expected = fromFunction(matmul(a, x).shape, (index) => broadcastGet(b, index));
          expectClose(matmul(a, x), expected, 1e-9, 1e-9);
        }
        // Reusing the factorisation, also for the transposed system.
        const factor = luFactor(a);
        const y = luSolve(factor, b, true);
        const lhs = b.ndim === 1 ? einsum("...ji,...j->...i", a, y) : matmul(matrixTranspose(a), y);
        const target =
          b.ndim === 1
            ? fromFunction(lhs.shape, (i) => b.data[i[i.length - 1]])
            : fromFunction(lhs.shape, (i) => broadcastGet(b, i));
        expectClose(lhs, target, 1e-9, 1e-9);
      }),
    );
  });

  it("actually pivots on row-permuted matrices", () => {
    fc.assert(
      fc.property(squareCaseArb, (a) => {
        const factor = luFactor(a);
        const n = factor.n;
        // Reconstruct P A = L U for each batch entry and compare with the row-swapped input.
        for (let b = 0; b < factor.pivotSigns.length; b++) {
          const rows = Array.from({ length: n }, (_, i) => i);
          for (let k = 0; k < n; k++) {
            const p = factor.pivots[b * n + k];
            [rows[k], rows[p]] = [rows[p], rows[k]];
          }
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              let total = 0;
              for (let k = 0; k <= Math.min(i, j); k++) {
                const l = k === i ? 1 : factor.lu.data[b * n * n + i * n + k];
                total += l * factor.lu.data[b * n * n + k * n + j];
              }
              expect(Math.abs(total - a.data[b * n * n + rows[i] * n + j])).toBeLessThan(1e-12);
            }
          }
        }
      }),
    );
    const swapped = luFactor(
      array([
        [0, 1, 0],
        [0, 0, 2],
        [3, 0, 0],
      ]),
    );
    expect(Array.from(swapped.pivots)).toEqual([2, 2, 2]);
  });

  it("pivots when the leading entry is zero", () => {
    expect(
      solve(
        array([
          [0, 1],
          [2, 3],
        ]),
        array([1, 5]),
      ).toArray(),
    ).toEqual([1, 1]);
    expectClose(
      solve(
        array([
          [3, 1],
          [1, 2],
        ]),
        array([9, 8]),
      ),
      array([2, 3]),
      1e-14,
      1e-14,
    );
  });

  it("inv(a) @ a = I", () => {
    fc.assert(
      fc.property(squareCaseArb, (a) => {
        const n = a.shape[a.ndim - 1];
        const product = matmul(inv(a), a);
        expectClose(
          product,
          fromFunction(product.shape, (i) => (i[i.length - 1] === i[i.length - 2] ? 1 : 0)),
          1e-9,
          1e-9,
        );
        expect(n).toBeGreaterThan(0);
      }),
    );
  });

  it("det agrees with cofactor expansion and is multiplicative", () => {
    const cofactor = (m: number[][]): number =>
      m.length === 0
        ? 1
        : m[0].reduce(
            (acc, v, j) =>
              acc + (j % 2 ? -1 : 1) * v * cofactor(m.slice(1).map((row) => row.filter((_, c) => c !== j))),
            0,
          );
    const arb = fc
      .integer({ min: 1, max: 4 })
      .chain((n) => fc.tuple(intArrayArb([n, n], 3), intArrayArb([n, n], 3)));
    fc.assert(
      fc.property(arb, ([a, b]) => {
        const expected = cofactor(a.toArray() as number[][]);
        expect(det(a).item()).toBeCloseTo(expected, 8);
        const product = det(matmul(a, b)).item();
        const scale = 1 + Math.abs(product);
        expect(Math.abs(product - det(a).item() * det(b).item()) / scale).toBeLessThan(1e-9);
        const { sign, logAbsDet } = slogdet(a);
        if (expected === 0) {
          expect(Math.abs(det(a).item())).toBeLessThan(1e-9);
        } else {
          expect(sign.item()).toBe(Math.sign(expected));
          expect(logAbsDet.item()).toBeCloseTo(Math.log(Math.abs(expected)), 8);
        }
      }),
    );
  });

  it("det is sign-correct for permutations, batched and 0 for singular matrices", () => {
    expect(
      det(
        array([
          [0, 1],
          [1, 0],
        ]),
      ).item(),
    ).toBe(-1);
    expect(
      det(
        array([
          [0, 1, 0],
          [0, 0, 1],
          [1, 0, 0],
        ]),
      ).item(),
    ).toBe(1);
    expect(
      det(
        array([
          [1, 2],
          [2, 4],
        ]),
      ).item(),
    ).toBe(0);
    const batch = array([
      [
        [2, 0],
        [0, 3],
      ],
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    expect(det(batch).toArray()).toEqual([6, -2]);
    const singular = slogdet(
      array([
        [1, 2],
        [2, 4],
      ]),
    );
    expect(singular.sign.item()).toBe(0);
    expect(singular.logAbsDet.item()).toBe(Number.NEGATIVE_INFINITY);
  });

  it("singular systems give a clear error", () => {
    expect(() =>
      solve(
        array([
          [1, 2],
          [2, 4],
        ]),
        array([1, 1]),
      ),
    ).toThrow("solve: singular matrix");
    expect(() => inv(zeros([2, 2]))).toThrow("inv: singular matrix");
    expect(() =>
      inv(
        array([
          [
            [1, 0],
            [0, 1],
          ],
          [
            [1, 1],
            [1, 1],
          ],
        ]),
      ),
    ).toThrow("inv: singular matrix (batch index [1])");
    expect(() => solve(zeros([2, 3]), zeros([2]))).toThrow(/square matrices/);
    expect(() => solve(eye(2), zeros([3]))).toThrow(/does not match/);
  });
});

describe("cholesky / solveTriangular", () => {
  const spdArb = fc
    .tuple(fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }), fc.integer({ min: 1, max: 5 }))
    .chain(([batch, n]) => realArrayArb([...batch, n, n], 1))
    .map((m) => {
      const n = m.shape[m.ndim - 1];
      const product = matmul(m, matrixTranspose(m));
      return fromFunction(
        product.shape,
        (i) =>
          product.data[ravelIndex(i, product.shape)] + (i[i.length - 1] === i[i.length - 2] ? 0.5 * n : 0),
      );
    });

  it("L is lower triangular with L @ L^T = A", () => {
    fc.assert(
      fc.property(spdArb, (a) => {
        const l = cholesky(a);
        expectClose(matmul(l, matrixTranspose(l)), a, 1e-10, 1e-10);
        for (let i = 0; i < l.size; i++) {
          const index = unravel(i, l.shape);
          const [r, c] = index.slice(-2);
          if (c > r) expect(l.data[i]).toBe(0);
          if (c === r) expect(l.data[i]).toBeGreaterThan(0);
        }
      }),
    );
    expect(
      cholesky(
        array([
          [4, 2],
          [2, 5],
        ]),
      ).toArray(),
    ).toEqual([
      [2, 0],
      [1, 2],
    ]);
  });

  it("rejects matrices that are not positive definite", () => {
    expect(() =>
      cholesky(
        array([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toThrow("cholesky: matrix is not positive definite (leading minor of order 2)");
    expect(() => cholesky(array([[Number.NaN]]))).toThrow(/not positive definite/);
  });

  it("solveTriangular agrees with solve on the chosen triangle", () => {
    const arb = fc
      .tuple(dominantCaseArb, fc.boolean(), fc.boolean(), fc.boolean())
      .chain(([a, lower, transposed, unit]) =>
        realArrayArb([a.shape[a.ndim - 1], 2]).map((b) => ({ a, b, lower, transposed, unit })),
      );
    fc.assert(
      fc.property(arb, ({ a, b, lower, transposed, unit }) => {
        const triangle = fromFunction(a.shape, (index) => {
          const [i, j] = index.slice(-2);
          if (i === j) return unit ? 1 : a.data[ravelIndex(index, a.shape)];
          return (lower ? i > j : i < j) ? a.data[ravelIndex(index, a.shape)] : 0;
        });
        const x = solveTriangular(a, b, { lower, transpose: transposed, unitDiagonal: unit });
        expectClose(x, solve(transposed ? matrixTranspose(triangle) : triangle, b), 1e-9, 1e-9);
      }),
    );
    expect(
      solveTriangular(
        array([
          [2, 0],
          [1, 1],
        ]),
        array([2, 3]),
        { lower: true },
      ).toArray(),
    ).toEqual([1, 2]);
    expect(() =>
      solveTriangular(
        array([
          [0, 1],
          [0, 1],
        ]),
        array([1, 1]),
      ),
    ).toThrow(/singular/);
  });
});
