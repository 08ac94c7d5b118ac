import fc from "fast-check";
import { InvalidArgumentError } from "tsadjoint";
import { jacobianPattern, unitSquareMesh } from "tsadjoint/fem";
import {
  bandedPattern,
  CsrMatrix,
  colorColumns,
  colorSeeds,
  recoverJacobian,
  tridiagonalPattern,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";
import { seededRandom } from "./helpers.js";

describe("distance-2 column coloring and Jacobian recovery", () => {
  it("banded patterns need bandwidth + 1 colors", () => {
    expect(colorColumns(tridiagonalPattern(100)).count).toBe(3);
    expect(colorColumns(bandedPattern(50, 2, 1)).count).toBe(4);
    expect(colorColumns(bandedPattern(10, 0, 0)).count).toBe(1);
    expect(tridiagonalPattern(4).nnz).toBe(10);
    expect(bandedPattern(5, 1, 1).nnz).toBe(13);
    expect(() => bandedPattern(-1, 0, 0)).toThrow(/non-negative/);
  });

  it("columns of one color share no row, and recovery from compressed products gives the matrix", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 1, max: 25 }),
        fc.double({ min: 0.02, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (rows, cols, density, seed) => {
          const random = seededRandom(seed);
          const dense = new Float64Array(rows * cols);
          for (let k = 0; k < dense.length; k++) if (random() < density) dense[k] = 2 * random() - 1;
          const matrix = CsrMatrix.fromDense(rows, cols, dense);
          const coloring = colorColumns(matrix);
          for (let i = 0; i < rows; i++) {
            const seen = new Set<number>();
            for (let p = matrix.rowPtr[i]; p < matrix.rowPtr[i + 1]; p++) {
              const color = coloring.colors[matrix.colIndex[p]];
              expect(seen.has(color)).toBe(false);
              seen.add(color);
            }
          }
          const products = colorSeeds(coloring).map((seed) => matrix.matvec(seed));
          const recovered = recoverJacobian(matrix, coloring, products);
          expect(Array.from(recovered.values)).toEqual(Array.from(matrix.values));
          expect(recovered.rowPtr).toBe(matrix.rowPtr);
        },
      ),
      { numRuns: 60 },
    );
  });

  function expectValid(pattern: CsrMatrix, colors: Int32Array): void {
    for (let i = 0; i < pattern.rows; i++) {
      const seen = new Set<number>();
      for (let p = pattern.rowPtr[i]; p < pattern.rowPtr[i + 1]; p++) {
        const color = colors[pattern.colIndex[p]];
        expect(seen.has(color)).toBe(false);
        seen.add(color);
      }
    }
  }

  it("colors the 7-point P1 stencil of structured triangle meshes with the optimal 7 colors", () => {
    for (const cells of [8, 32]) {
      const pattern = jacobianPattern(unitSquareMesh(cells));
      let longest = 0;
      for (let i = 0; i < pattern.rows; i++)
        longest = Math.max(longest, pattern.rowPtr[i + 1] - pattern.rowPtr[i]);
      expect(longest).toBe(7); // a lower bound: the columns of one row need distinct colors
      const coloring = colorColumns(pattern);
      expect(coloring.count).toBe(7);
      expectValid(pattern, coloring.colors);
      const values = pattern.values.map((_, p) => Math.sin(p + 1));
      const matrix = new CsrMatrix(pattern.rows, pattern.cols, pattern.rowPtr, pattern.colIndex, values);
      const products = colorSeeds(coloring).map((seed) => matrix.matvec(seed));
      expect(Array.from(recoverJacobian(matrix, coloring, products).values)).toEqual(Array.from(values));
      // recoverJacobian(..., out): the values land in the given array
      const out = new Float64Array(pattern.nnz).fill(Number.NaN);
      const into = recoverJacobian(matrix, coloring, products, out);
      expect(into.values).toBe(out);
      expect(Array.from(out)).toEqual(Array.from(values));
      expect(() => recoverJacobian(matrix, coloring, products, new Float64Array(pattern.nnz - 1))).toThrow(
        InvalidArgumentError,
      );
    }
  });
});
