import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyzeCholesky } from "../../../src/solve/sparse/cholesky.js";
import { CsrMatrix } from "../../../src/solve/sparse/csr.js";
import {
  approximateMinimumDegree,
  eliminationTree,
  fillReducingOrder,
  inversePermutation,
  postorderForest,
  reverseCuthillMcKee,
  symmetricGraph,
} from "../../../src/solve/sparse/ordering.js";
import { laplacian2d, matrixSpec, randomNonsymmetric, randomSpd, tridiagonal } from "./helpers.js";

function isPermutation(order: Int32Array, n: number): boolean {
  if (order.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const v of order) {
    if (v < 0 || v >= n || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

/** Fill of the dense symbolic Cholesky factor of P A P^T (reference, O(n^3)). */
function denseFill(A: ReturnType<typeof randomSpd>, order: Int32Array): number {
  const n = A.rows;
  const inverse = inversePermutation(order);
  const pattern = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let p = A.rowPtr[i]; p < A.rowPtr[i + 1]; p++) {
      const a = inverse[i];
      const b = inverse[A.colIndex[p]];
      pattern[a * n + b] = 1;
      pattern[b * n + a] = 1;
    }
    pattern[inverse[i] * n + inverse[i]] = 1;
  }
  let count = 0;
  for (let k = 0; k < n; k++) {
    for (let i = k; i < n; i++) {
      if (!pattern[i * n + k]) continue;
      count++;
      for (let j = k + 1; j <= i; j++) if (pattern[j * n + k]) pattern[i * n + j] = 1;
    }
  }
  return count;
}

describe("symmetricGraph", () => {
  it("symmetrizes, drops the diagonal and duplicates", () => {
    const A = randomNonsymmetric({ n: 15, density: 0.2, seed: 4 });
    const g = symmetricGraph(A.rows, A.rowPtr, A.colIndex, false);
    const dense = A.toDense();
    for (let i = 0; i < 15; i++) {
      const neighbors = Array.from(g.index.subarray(g.start[i], g.start[i + 1])).sort((a, b) => a - b);
      const expected: number[] = [];
      for (let j = 0; j < 15; j++)
        if (j !== i && (dense[i * 15 + j] !== 0 || dense[j * 15 + i] !== 0)) expected.push(j);
      expect(neighbors).toEqual(expected);
    }
  });
});

describe("orderings", () => {
  it("AMD and RCM return permutations and exact symbolic counts (property)", () => {
    fc.assert(
      fc.property(
        matrixSpec,
        fc.constantFrom("amd" as const, "rcm" as const, "natural" as const),
        (spec, kind) => {
          const A = randomSpd(spec);
          const g = symmetricGraph(A.rows, A.rowPtr, A.colIndex, true);
          const order = fillReducingOrder(g, kind);
          expect(isPermutation(order, A.rows)).toBe(true);
          const symbolic = analyzeCholesky(A, { ordering: kind });
          expect(symbolic.factorNnz).toBe(denseFill(A, symbolic.permutation));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("raw AMD and RCM are permutations on graphs with dense rows and isolated vertices", () => {
    // Arrow matrix: vertex 0 connected to everything (dense row), plus isolated vertices at the end.
    const n = 400;
    const rows: number[] = [];
    const cols: number[] = [];
    for (let i = 1; i < n - 5; i++) {
      rows.push(0, i);
      cols.push(i, 0);
    }
    const arrow = CsrMatrix.fromTriplets(n, n, rows, cols, new Array(rows.length).fill(1));
    const g = symmetricGraph(n, arrow.rowPtr, arrow.colIndex, false);
    const amd = approximateMinimumDegree(g);
    expect(isPermutation(amd, n)).toBe(true);
    expect(amd[n - 1]).toBe(0); // the dense vertex is ordered last
    expect(isPermutation(reverseCuthillMcKee(g), n)).toBe(true);
  });

  it("AMD keeps tridiagonal fill-free and beats natural/RCM ordering on a 2D grid", () => {
    const T = tridiagonal(200);
    expect(analyzeCholesky(T).factorNnz).toBe(2 * 200 - 1);
    const A = laplacian2d(30, 30);
    const amd = analyzeCholesky(A, { ordering: "amd" }).factorNnz;
    const rcm = analyzeCholesky(A, { ordering: "rcm" }).factorNnz;
    const natural = analyzeCholesky(A, { ordering: "natural" }).factorNnz;
    expect(amd).toBeLessThan(rcm);
    expect(rcm).toBeLessThanOrEqual(natural);
  });

  it("eliminationTree and postorderForest", () => {
    const T = tridiagonal(5);
    const g = symmetricGraph(5, T.rowPtr, T.colIndex, true);
    const identity = Int32Array.from([0, 1, 2, 3, 4]);
    expect(Array.from(eliminationTree(g, identity))).toEqual([1, 2, 3, 4, -1]);
    const post = postorderForest(Int32Array.from([3, 3, 4, 4, -1]));
    expect(Array.from(post)).toEqual([2, 0, 1, 3, 4]);
    expect(Array.from(inversePermutation(Int32Array.from([2, 0, 1])))).toEqual([1, 2, 0]);
  });
});
