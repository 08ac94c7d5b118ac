/** @file Tests for the seeded xoshiro256** generator: bit-exactness against a BigInt reference, reproducibility, moments. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";

const MASK = (1n << 64n) - 1n;

/** splitmix64 outputs used as the initial xoshiro state (reference C code, in BigInt). */
function splitmix64Words(seed: bigint, count: number): bigint[] {
  let sm = BigInt.asUintN(64, seed);
  const words: bigint[] = [];
  for (let i = 0; i < count; i++) {
    sm = (sm + 0x9e3779b97f4a7c15n) & MASK;
    let z = sm;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    words.push(z ^ (z >> 31n));
  }
  return words;
}

/** Straightforward BigInt xoshiro256** following the reference C code. */
function xoshiroStream(initial: readonly bigint[], count: number): bigint[] {
  const state = initial.slice();
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & MASK;
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    out.push((rotl((state[1] * 5n) & MASK, 7n) * 9n) & MASK);
    const t = (state[1] << 17n) & MASK;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45n);
  }
  return out;
}

function referenceStream(seed: bigint, count: number): bigint[] {
  return xoshiroStream(splitmix64Words(seed, 4), count);
}

describe("defaultRng", () => {
  it("matches a BigInt reference implementation of xoshiro256** bit for bit", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (seed) => {
        const rng = defaultRng(seed);
        const expected = referenceStream(seed, 20);
        for (const value of expected) expect(rng.nextBigUint64()).toBe(value);
      }),
      { numRuns: 50 },
    );
  });

  it("the BigInt reference itself reproduces published known-answer values", () => {
    expect(splitmix64Words(0n, 1)[0]).toBe(0xe220a8397b1dcdafn);
    expect(xoshiroStream([1n, 2n, 3n, 4n], 6)).toEqual([
      11520n,
      0n,
      1509978240n,
      1215971899390074240n,
      1216172134540287360n,
      607988272756665600n,
    ]);
  });

  it("is reproducible for equal seeds and differs for different seeds", () => {
    const a = defaultRng(42).normal(0, 1, [50]);
    const b = defaultRng(42).normal(0, 1, [50]);
    const c = defaultRng(43).normal(0, 1, [50]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    expect(Array.from(defaultRng(7).random(5).data)).toEqual(Array.from(defaultRng(7n).random([5]).data));
  });

  it("returns 0-d arrays when the shape is omitted or []", () => {
    const rng = defaultRng(1);
    expect(rng.random().shape).toEqual([]);
    expect(rng.uniform(0, 1, []).shape).toEqual([]);
    expect(rng.normal().shape).toEqual([]);
    expect(rng.integers(5).shape).toEqual([]);
    expect(rng.random([2, 3]).shape).toEqual([2, 3]);
    expect(rng.random([0]).size).toBe(0);
  });

  it("random/uniform stay in range with roughly the right moments", () => {
    const rng = defaultRng(2024);
    const n = 200_000;
    const u = rng.random([n]).data;
    let total = 0;
    let squares = 0;
    let inRange = true;
    for (const v of u) {
      inRange &&= v >= 0 && v < 1;
      total += v;
      squares += v * v;
    }
    expect(inRange).toBe(true);
    const mean = total / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(squares / n - mean * mean - 1 / 12)).toBeLessThan(0.003);
    const w = Array.from(rng.uniform(-3, 5, [10_000]).data);
    expect(w.every((v) => v >= -3 && v < 5)).toBe(true);
  });

  it("normal samples have the requested mean, std, and near-zero skew", () => {
    const rng = defaultRng(99);
    const n = 200_000;
    const x = rng.normal(2, 3, [n]).data;
    let total = 0;
    for (const v of x) total += v;
    const mean = total / n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of x) {
      const d = v - mean;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    expect(Math.abs(mean - 2)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(m2) - 3)).toBeLessThan(0.05);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.05);
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.1);
  });

  it("integers are uniform over [low, high) and handle the one-argument form and huge ranges", () => {
    const rng = defaultRng(5);
    const counts = new Array<number>(6).fill(0);
    const n = 60_000;
    const x = rng.integers(-2, 4, [n]).data;
    let valid = true;
    for (const v of x) {
      valid &&= Number.isInteger(v) && v >= -2 && v < 4;
      counts[v + 2]++;
    }
    expect(valid).toBe(true);
    for (const c of counts) expect(Math.abs(c - n / 6)).toBeLessThan(500);
    for (const v of rng.integers(3, undefined, [100]).data) expect(v >= 0 && v < 3).toBe(true);
    const big = 2 ** 52 + 12345;
    for (const v of rng.integers(0, big, [100]).data)
      expect(Number.isInteger(v) && v >= 0 && v < big).toBe(true);
    expect(() => rng.integers(3, 3)).toThrow(/low < high/);
  });

  it("permutation returns each index exactly once", () => {
    const p = Array.from(defaultRng(3).permutation(20).data).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("rejects non-integer seeds", () => {
    expect(() => defaultRng(1.5)).toThrow(/seed/);
  });
});
