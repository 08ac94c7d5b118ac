import fc from "fast-check";
import { InvalidArgumentError } from "tsadjoint";
import { describe, expect, it } from "vitest";
import {
  assembleValues,
  assembleValuesInto,
  CsrMatrix,
  gatherTripletValues,
  scatterMap,
  transposePattern,
} from "../../../src/solve/sparse/csr.js";
import { laplacian2d, matrixSpec, randomNonsymmetric, randomVector, seededRandom } from "./helpers.js";

/** Random triplets (with many duplicates) for a rows x cols matrix. */
const tripletSpec = fc
  .record({
    rows: fc.integer({ min: 0, max: 12 }),
    cols: fc.integer({ min: 0, max: 12 }),
    count: fc.integer({ min: 0, max: 80 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map(({ rows, cols, count, seed }) => {
    const random = seededRandom(seed);
    const actualCount = rows === 0 || cols === 0 ? 0 : count;
    const rowIdx = Array.from({ length: actualCount }, () => Math.floor(random() * rows));
    const colIdx = Array.from({ length: actualCount }, () => Math.floor(random() * cols));
    const vals = Array.from({ length: actualCount }, () => Math.round(20 * random() - 10));
    return { rows, cols, rowIdx, colIdx, vals };
  });

function denseFromTriplets(t: {
  rows: number;
  cols: number;
  rowIdx: number[];
  colIdx: number[];
  vals: number[];
}): Float64Array {
  const dense = new Float64Array(t.rows * t.cols);
  for (let k = 0; k < t.vals.length; k++) dense[t.rowIdx[k] * t.cols + t.colIdx[k]] += t.vals[k];
  return dense;
}

describe("CsrMatrix construction", () => {
  it("fromTriplets sums duplicates and sorts columns", () => {
    const A = CsrMatrix.fromTriplets(2, 3, [1, 0, 0, 1, 0], [2, 1, 1, 0, 0], [5, 1, 2, 7, 3]);
    expect(Array.from(A.rowPtr)).toEqual([0, 2, 4]);
    expect(Array.from(A.colIndex)).toEqual([0, 1, 0, 2]);
    expect(Array.from(A.values)).toEqual([3, 3, 7, 5]);
    A.validate();
  });

  it("fromTriplets matches dense accumulation (property)", () => {
    fc.assert(
      fc.property(tripletSpec, (t) => {
        const A = CsrMatrix.fromTriplets(t.rows, t.cols, t.rowIdx, t.colIdx, t.vals);
        A.validate();
        expect(Array.from(A.toDense())).toEqual(Array.from(denseFromTriplets(t)));
      }),
    );
  });

  it("keeps cancelled duplicates as explicit zeros (pattern independent of values)", () => {
    const A = CsrMatrix.fromTriplets(1, 1, [0, 0], [0, 0], [1, -1]);
    expect(A.nnz).toBe(1);
    expect(A.values[0]).toBe(0);
  });

  it("rejects out-of-range and non-integer indices", () => {
    expect(() => CsrMatrix.fromTriplets(2, 2, [2], [0], [1])).toThrow(InvalidArgumentError);
    expect(() => CsrMatrix.fromTriplets(2, 2, [0], [-1], [1])).toThrow(InvalidArgumentError);
    expect(() => CsrMatrix.fromTriplets(2, 2, [0.5], [0], [1])).toThrow(InvalidArgumentError);
    expect(() => CsrMatrix.fromTriplets(2, 2, [0], [0], [1, 2])).toThrow(InvalidArgumentError);
  });

  it("fromDense / toDense round trip and identity", () => {
    const data = [0, 1, 2, 0, 0, 3];
    expect(Array.from(CsrMatrix.fromDense(2, 3, data).toDense())).toEqual(data);
    expect(Array.from(CsrMatrix.identity(2).toDense())).toEqual([1, 0, 0, 1]);
  });
});

describe("CsrMatrix operations", () => {
  it("transpose twice is the identity (property)", () => {
    fc.assert(
      fc.property(tripletSpec, (t) => {
        const A = CsrMatrix.fromTriplets(t.rows, t.cols, t.rowIdx, t.colIdx, t.vals);
        const At = A.transpose();
        At.validate();
        const Att = At.transpose();
        expect(Array.from(Att.rowPtr)).toEqual(Array.from(A.rowPtr));
        expect(Array.from(Att.colIndex)).toEqual(Array.from(A.colIndex));
        expect(Array.from(Att.values)).toEqual(Array.from(A.values));
        const dense = A.toDense();
        const denseT = At.toDense();
        for (let i = 0; i < t.rows; i++) {
          for (let j = 0; j < t.cols; j++) expect(denseT[j * t.rows + i]).toBe(dense[i * t.cols + j]);
        }
      }),
    );
  });

  it("matvec and matvecTranspose agree with dense products (property)", () => {
    fc.assert(
      fc.property(tripletSpec, fc.integer(), (t, seed) => {
        const A = CsrMatrix.fromTriplets(t.rows, t.cols, t.rowIdx, t.colIdx, t.vals);
        const dense = A.toDense();
        const x = randomVector(t.cols, seed);
        const y = randomVector(t.rows, seed + 1);
        const Ax = A.matvec(x);
        const Aty = A.matvecTranspose(y);
        for (let i = 0; i < t.rows; i++) {
          let sum = 0;
          for (let j = 0; j < t.cols; j++) sum += dense[i * t.cols + j] * x[j];
          expect(Ax[i]).toBeCloseTo(sum, 12);
        }
        for (let j = 0; j < t.cols; j++) {
          let sum = 0;
          for (let i = 0; i < t.rows; i++) sum += dense[i * t.cols + j] * y[i];
          expect(Aty[j]).toBeCloseTo(sum, 12);
        }
        // Adjoint identity y^T (A x) = (A^T y)^T x.
        let left = 0;
        let right = 0;
        for (let i = 0; i < t.rows; i++) left += y[i] * Ax[i];
        for (let j = 0; j < t.cols; j++) right += Aty[j] * x[j];
        expect(left).toBeCloseTo(right, 10);
      }),
    );
  });

  it("matvec into out and length checks", () => {
    const A = CsrMatrix.fromDense(2, 2, [1, 2, 3, 4]);
    const out = new Float64Array(2);
    expect(A.matvec([1, 1], out)).toBe(out);
    expect(Array.from(out)).toEqual([3, 7]);
    expect(() => A.matvec([1])).toThrow(InvalidArgumentError);
  });

  it("withValues shares the pattern and copies the values", () => {
    const A = laplacian2d(3, 3);
    const values = new Float64Array(A.nnz).fill(2);
    const B = A.withValues(values);
    values[0] = 99;
    expect(B.values[0]).toBe(2);
    expect(B.rowPtr).toBe(A.rowPtr);
    expect(B.colIndex).toBe(A.colIndex);
    expect(A.hasSamePattern(B)).toBe(true);
    expect(() => A.withValues([1])).toThrow(InvalidArgumentError);
  });

  it("diagonal, get, indexOf", () => {
    const A = CsrMatrix.fromDense(3, 3, [1, 0, 2, 0, 0, 0, 3, 0, 5]);
    expect(Array.from(A.diagonal())).toEqual([1, 0, 5]);
    expect(A.get(2, 0)).toBe(3);
    expect(A.get(1, 1)).toBe(0);
    expect(A.indexOf(0, 2)).toBe(1);
    expect(A.indexOf(1, 1)).toBe(-1);
  });

  it("structural and numerical symmetry", () => {
    expect(laplacian2d(4, 3).isStructurallySymmetric()).toBe(true);
    expect(laplacian2d(4, 3).isNumericallySymmetric()).toBe(true);
    const convective = laplacian2d(4, 3, 0.3);
    expect(convective.isStructurallySymmetric()).toBe(true);
    expect(convective.isNumericallySymmetric()).toBe(false);
    expect(CsrMatrix.fromDense(2, 2, [1, 1, 0, 1]).isStructurallySymmetric()).toBe(false);
    // Explicit zero on one side only is still numerically symmetric.
    const oneSided = CsrMatrix.fromTriplets(2, 2, [0, 1, 0], [0, 1, 1], [1, 1, 0]);
    expect(oneSided.isStructurallySymmetric()).toBe(false);
    expect(oneSided.isNumericallySymmetric()).toBe(true);
    expect(CsrMatrix.fromDense(2, 2, [1, 1, 1 + 1e-15, 1]).isNumericallySymmetric(1e-14)).toBe(true);
    expect(CsrMatrix.fromDense(1, 2, [1, 1]).isNumericallySymmetric()).toBe(false);
  });

  it("numerical symmetry agrees with the dense definition when values change on a shared pattern (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (n, density, seed, structurallySymmetric) => {
          const random = seededRandom(seed);
          const dense = new Float64Array(n * n);
          for (let i = 0; i < n; i++)
            for (let j = 0; j <= i; j++)
              if (i === j || random() < density) {
                dense[i * n + j] = 2 * random() - 1;
                dense[j * n + i] = structurallySymmetric || random() < 0.5 ? dense[i * n + j] : 0;
              }
          const A = CsrMatrix.fromDense(n, n, dense);
          const tolerance = 1e-12;
          const denseSymmetric = (values: Float64Array) => {
            const full = A.withValues(values).toDense();
            let bound = 0;
            for (const v of values) bound = Math.max(bound, Math.abs(v));
            for (let i = 0; i < n; i++)
              for (let j = 0; j < n; j++)
                if (Math.abs(full[i * n + j] - full[j * n + i]) > tolerance * bound) return false;
            return true;
          };
          expect(A.isNumericallySymmetric(tolerance)).toBe(denseSymmetric(A.values));
          // new values on the same pattern arrays: symmetric, then one off-diagonal entry perturbed
          for (let trial = 0; trial < 3; trial++) {
            const values = A.values.map((v) => v * (1 + trial));
            const offDiagonal: number[] = [];
            for (let i = 0; i < n; i++)
              for (let p = A.rowPtr[i]; p < A.rowPtr[i + 1]; p++)
                if (A.colIndex[p] !== i) offDiagonal.push(p);
            if (trial === 2 && offDiagonal.length > 0) values[offDiagonal[seed % offDiagonal.length]] += 0.5;
            const B = A.withValues(values);
            expect(B.isNumericallySymmetric(tolerance)).toBe(denseSymmetric(values));
          }
        },
      ),
    );
  });

  it("scale and add with different patterns (property)", () => {
    fc.assert(
      fc.property(matrixSpec, matrixSpec, fc.double({ min: -3, max: 3, noNaN: true }), (s1, s2, alpha) => {
        const n = s1.n;
        const A = randomNonsymmetric(s1);
        const B = randomNonsymmetric({ ...s2, n });
        const C = A.add(B, alpha);
        C.validate();
        const a = A.toDense();
        const b = B.toDense();
        const c = C.toDense();
        for (let k = 0; k < n * n; k++) expect(c[k]).toBeCloseTo(a[k] + alpha * b[k], 12);
        const scaled = A.scale(alpha).toDense();
        for (let k = 0; k < n * n; k++) expect(scaled[k] - alpha * a[k]).toBe(0);
      }),
    );
    expect(() => CsrMatrix.identity(2).add(CsrMatrix.identity(3))).toThrow(InvalidArgumentError);
  });

  it("transposePattern gathers transposed values", () => {
    const A = randomNonsymmetric({ n: 20, density: 0.2, seed: 7 });
    const { pattern, sourceSlot } = transposePattern(A);
    const values = Float64Array.from(sourceSlot, (slot) => A.values[slot]);
    expect(Array.from(pattern.withValues(values).toDense())).toEqual(Array.from(A.transpose().toDense()));
  });

  it("patternOuter is the gradient of u^T A v with respect to the values", () => {
    const A = randomNonsymmetric({ n: 8, density: 0.3, seed: 3 });
    const u = randomVector(8, 1);
    const v = randomVector(8, 2);
    const gradient = A.patternOuter(u, v);
    const f = (M: CsrMatrix): number => {
      const Mv = M.matvec(v);
      return Mv.reduce((sum, value, i) => sum + u[i] * value, 0);
    };
    const direction = randomVector(A.nnz, 5);
    const h = 1e-6;
    const shifted = A.withValues(A.values.map((value, p) => value + h * direction[p]));
    const directional = gradient.reduce((sum, g, p) => sum + g * direction[p], 0);
    expect((f(shifted) - f(A)) / h).toBeCloseTo(directional, 6);
  });
});

describe("scatterMap assembly", () => {
  it("assembled matrix equals fromTriplets (property)", () => {
    fc.assert(
      fc.property(tripletSpec, fc.integer(), (t, seed) => {
        const scatter = scatterMap(t.rows, t.cols, t.rowIdx, t.colIdx);
        const A = assembleValues(scatter, t.vals);
        const reference = CsrMatrix.fromTriplets(t.rows, t.cols, t.rowIdx, t.colIdx, t.vals);
        expect(Array.from(A.rowPtr)).toEqual(Array.from(reference.rowPtr));
        expect(Array.from(A.colIndex)).toEqual(Array.from(reference.colIndex));
        expect(Array.from(A.values)).toEqual(Array.from(reference.values));
        // Reassembly with new values on the same plan.
        const newValues = randomVector(t.vals.length, seed);
        const B = assembleValues(scatter, newValues);
        const direct = CsrMatrix.fromTriplets(t.rows, t.cols, t.rowIdx, t.colIdx, newValues);
        expect(B.hasSamePattern(direct)).toBe(true);
        for (let p = 0; p < B.nnz; p++) expect(B.values[p]).toBeCloseTo(direct.values[p], 14);
      }),
    );
  });

  it("map sends each triplet to the slot of its (row, col)", () => {
    const rowIdx = [2, 0, 2, 1, 0];
    const colIdx = [1, 0, 1, 2, 0];
    const { pattern, map } = scatterMap(3, 3, rowIdx, colIdx);
    for (let t = 0; t < rowIdx.length; t++) expect(map[t]).toBe(pattern.indexOf(rowIdx[t], colIdx[t]));
    const out = new Float64Array(pattern.nnz).fill(42);
    assembleValuesInto(map, [1, 2, 3, 4, 5], out);
    expect(Array.from(out)).toEqual([7, 4, 4]);
  });

  it("gatherTripletValues is the adjoint of assembly", () => {
    const scatter = scatterMap(4, 4, [0, 1, 1, 3, 0, 3], [0, 1, 1, 2, 0, 2]);
    const tripletValues = randomVector(6, 11);
    const slotWeights = randomVector(scatter.pattern.nnz, 12);
    const assembled = assembleValues(scatter, tripletValues).values;
    const gathered = gatherTripletValues(scatter.map, slotWeights);
    const left = assembled.reduce((sum, v, p) => sum + v * slotWeights[p], 0);
    const right = gathered.reduce((sum, v, t) => sum + v * tripletValues[t], 0);
    expect(left).toBeCloseTo(right, 12);
  });

  it("large finite-element-like assembly is a single pass", () => {
    // P1 triangles on a 60x60 grid: 9 triplets per element, many duplicates.
    const m = 60;
    const rowIdx: number[] = [];
    const colIdx: number[] = [];
    const id = (i: number, j: number): number => i * (m + 1) + j;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        for (const tri of [
          [id(i, j), id(i + 1, j), id(i, j + 1)],
          [id(i + 1, j + 1), id(i, j + 1), id(i + 1, j)],
        ]) {
          for (const a of tri) {
            for (const b of tri) {
              rowIdx.push(a);
              colIdx.push(b);
            }
          }
        }
      }
    }
    const n = (m + 1) * (m + 1);
    const scatter = scatterMap(n, n, rowIdx, colIdx);
    expect(scatter.pattern.nnz).toBeLessThan(rowIdx.length);
    expect(scatter.pattern.isStructurallySymmetric()).toBe(true);
    const ones = new Float64Array(rowIdx.length).fill(1);
    const counts = assembleValues(scatter, ones);
    // Interior diagonal entries belong to 6 triangles.
    expect(counts.get(id(5, 5), id(5, 5))).toBe(6);
  });
});
