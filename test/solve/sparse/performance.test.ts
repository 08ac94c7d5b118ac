import { describe, expect, it } from "vitest";
import { analyzeCholesky } from "../../../src/solve/sparse/cholesky.js";
import { assembleValues, type CsrMatrix, scatterMap } from "../../../src/solve/sparse/csr.js";
import { analyzeLu } from "../../../src/solve/sparse/lu.js";
import { laplacian2d, randomVector, scaledResidual, tridiagonal } from "./helpers.js";

// Performance sanity report: timings are printed, never asserted (only correctness is checked).

function milliseconds(start: number): string {
  return `${(performance.now() - start).toFixed(1)} ms`;
}

const cases: [string, () => CsrMatrix][] = [
  ["1D tridiagonal n=10^4", () => tridiagonal(10_000)],
  ["2D 5-point Laplacian 100x100", () => laplacian2d(100, 100)],
  ["2D 5-point Laplacian 200x200", () => laplacian2d(200, 200)],
];

describe("performance sanity (printed, not asserted)", () => {
  it("warms up the JIT on a small problem", () => {
    const A = laplacian2d(40, 40);
    const b = randomVector(A.rows, 0);
    expect(scaledResidual(A, analyzeCholesky(A).factor(A).solve(b), b)).toBeLessThan(1e-14);
    expect(scaledResidual(A, analyzeLu(A).factor(A).solve(b), b)).toBeLessThan(1e-14);
  });

  for (const [name, build] of cases) {
    it(`Cholesky (AMD) factor + solve: ${name}`, () => {
      const A = build();
      const b = randomVector(A.rows, 1);
      let start = performance.now();
      const symbolic = analyzeCholesky(A);
      const analyzeTime = milliseconds(start);
      start = performance.now();
      const factor = symbolic.factor(A);
      const factorTime = milliseconds(start);
      start = performance.now();
      const x = factor.solve(b);
      const solveTime = milliseconds(start);
      start = performance.now();
      symbolic.factor(A.scale(2));
      const refactorTime = milliseconds(start);
      console.log(
        `[sparse perf] Cholesky ${name}: n=${A.rows} nnz(A)=${A.nnz} nnz(L)=${factor.nnz} ` +
          `(fill ratio ${(factor.nnz / ((A.nnz + A.rows) / 2)).toFixed(2)}) analyze ${analyzeTime}, ` +
          `factor ${factorTime}, solve ${solveTime}, refactor ${refactorTime}`,
      );
      expect(scaledResidual(A, x, b)).toBeLessThan(1e-14);
    });

    it(`LU (AMD on A+A^T) factor + solve: ${name}`, () => {
      const A = build();
      const b = randomVector(A.rows, 2);
      let start = performance.now();
      const symbolic = analyzeLu(A);
      const analyzeTime = milliseconds(start);
      start = performance.now();
      const factor = symbolic.factor(A);
      const factorTime = milliseconds(start);
      start = performance.now();
      const x = factor.solve(b);
      const y = factor.solveTranspose(b);
      const solveTime = milliseconds(start);
      start = performance.now();
      factor.refactor(A.scale(2));
      const refactorTime = milliseconds(start);
      console.log(
        `[sparse perf] LU ${name}: n=${A.rows} nnz(A)=${A.nnz} nnz(L+U)=${factor.nnz} analyze ${analyzeTime}, ` +
          `factor ${factorTime}, solve+solveTranspose ${solveTime}, same-pivot refactor ${refactorTime}`,
      );
      expect(scaledResidual(A, x, b)).toBeLessThan(1e-14);
      expect(scaledResidual(A.transpose(), y, b)).toBeLessThan(1e-14);
    });
  }

  it("finite-element style assembly through a scatter map (P1 triangles, 200x200 grid)", () => {
    const m = 200;
    const id = (i: number, j: number): number => i * (m + 1) + j;
    const count = m * m * 2 * 9;
    const rowIdx = new Int32Array(count);
    const colIdx = new Int32Array(count);
    let t = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const triangles = [
          [id(i, j), id(i + 1, j), id(i, j + 1)],
          [id(i + 1, j + 1), id(i, j + 1), id(i + 1, j)],
        ];
        for (const triangle of triangles) {
          for (const a of triangle) {
            for (const b of triangle) {
              rowIdx[t] = a;
              colIdx[t] = b;
              t++;
            }
          }
        }
      }
    }
    const n = (m + 1) * (m + 1);
    let start = performance.now();
    const scatter = scatterMap(n, n, rowIdx, colIdx);
    const planTime = milliseconds(start);
    const values = randomVector(count, 3);
    start = performance.now();
    const A = assembleValues(scatter, values);
    const assembleTime = milliseconds(start);
    console.log(
      `[sparse perf] scatterMap: ${count} triplets -> nnz ${A.nnz}, plan ${planTime}, reassembly ${assembleTime}`,
    );
    expect(A.nnz).toBe(scatter.pattern.nnz);
  });
});
