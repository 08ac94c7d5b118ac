/** @file Test helpers for the solve blocks: sums of squares, seeded random vectors and matrices. */
import { np } from "tsadjoint";
import type { NDArray } from "../../src/values/ndarray.js";

/** sum(x^2), recorded (a 0-d NDArray). */
export function sumOfSquares(x: NDArray): NDArray {
  return np.sum(np.square(x));
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random vector with entries in [-1, 1). */
export function randomVector(n: number, random: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * random() - 1;
  return out;
}

/**
 * Random sparse triplets of an n x n strictly diagonally dominant matrix (margin `margin`), with duplicate
 * coordinates; symmetric when asked.
 */
export function randomTriplets(
  n: number,
  random: () => number,
  options: { density?: number; symmetric?: boolean; margin?: number } = {},
): { rows: number[]; cols: number[]; values: number[] } {
  const density = options.density ?? 0.3;
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  const rowSums = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j || random() >= density) continue;
      if (options.symmetric && j > i) continue;
      const v = (2 * random() - 1) * 0.5;
      rows.push(i);
      cols.push(j);
      values.push(v);
      rowSums[i] += Math.abs(v);
      if (options.symmetric) {
        rows.push(j);
        cols.push(i);
        values.push(v);
        rowSums[j] += Math.abs(v);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    // split the diagonal over two triplets to exercise duplicate summation
    const diagonal = rowSums[i] + (options.margin ?? 2);
    rows.push(i, i);
    cols.push(i, i);
    values.push(0.25 * diagonal, 0.75 * diagonal);
  }
  return { rows, cols, values };
}

/** A dense n x n diagonally dominant matrix with entries of both signs (row-major). */
export function randomDense(n: number, random: () => number, margin = 2): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const v = 2 * random() - 1;
      out[i * n + j] = v;
      sum += Math.abs(v);
    }
    out[i * n + i] = (random() < 0.5 ? -1 : 1) * (sum + margin);
  }
  return out;
}
