/** @file Seeded, reproducible random numbers: xoshiro256** (seeded by splitmix64) with uniform, normal and integer sampling. */

import { invalidArgument } from "../../errors.js";
import { checkArraySize, NDArray, shapeSize, validateShape } from "../../values/ndarray.js";

const MASK_64 = (1n << 64n) - 1n;
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_21 = 2097152;

/** A random shape argument: omitted / `[]` for a 0-d result, a length for 1-D, or a full shape. */
export type RandomShape = number | readonly number[] | undefined;

function resolveShape(shape: RandomShape, op: string): readonly number[] {
  const resolved = shape === undefined ? [] : typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(resolved) || resolved.some((n) => typeof n !== "number")) {
    throw invalidArgument(
      `np.random.Generator.${op}: size must be a non-negative integer or a list of them, got ${typeof shape === "object" ? (shape === null ? "null" : "an object") : typeof shape}`,
    );
  }
  validateShape(resolved, `np.random.Generator.${op}`);
  return resolved;
}

/** A value for a message (never throws, whatever its type). */
function show(value: unknown): string {
  return typeof value === "number" ? String(value) : value === null ? "null" : typeof value;
}

/** A finite number parameter of a distribution. */
function parameter(op: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalidArgument(
      `np.random.Generator.${op}: ${name} must be a finite number, got ${typeof value === "number" ? value : typeof value}`,
    );
  }
  return value;
}

/**
 * A reproducible pseudo-random generator: xoshiro256** (Blackman & Vigna) on 32-bit halves, its 256-bit state
 * seeded from the seed by splitmix64. Same seed gives the same stream on every platform and run.
 * Create with `np.random.default_rng(seed)`.
 * @example
 * const rng = defaultRng(42);
 * rng.normal(0, 1, [2, 3]).shape; // [2, 3]
 */
export class RandomGenerator {
  // State words s0..s3 as (hi, lo) 32-bit halves, kept as int32.
  private s0h = 0;
  private s0l = 0;
  private s1h = 0;
  private s1l = 0;
  private s2h = 0;
  private s2l = 0;
  private s3h = 0;
  private s3l = 0;
  private spareNormal = 0;
  private hasSpareNormal = false;
  /** Low 32 bits of the most recent 64-bit output (internal, for {@link nextDouble}). */
  private lastLow = 0;

  /**
   * Seeds the generator; integers (number up to 2^53 or bigint, negatives wrap mod 2^64).
   * @example
   * new RandomGenerator(1).nextDouble();
   */
  constructor(seed: number | bigint) {
    if (
      (typeof seed !== "number" && typeof seed !== "bigint") ||
      (typeof seed === "number" && !Number.isSafeInteger(seed))
    ) {
      throw invalidArgument(
        `np.random.default_rng: seed must be a safe integer or a bigint, got ${typeof seed === "number" ? seed : typeof seed}`,
      );
    }
    let state = BigInt.asUintN(64, BigInt(seed));
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      state = (state + 0x9e3779b97f4a7c15n) & MASK_64;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
      z ^= z >> 31n;
      words.push(Number(z >> 32n) | 0, Number(z & 0xffffffffn) | 0);
    }
    [this.s0h, this.s0l, this.s1h, this.s1l, this.s2h, this.s2l, this.s3h, this.s3l] = words;
  }

  /**
   * Advances the state and returns the high 32 bits of the next 64-bit output as an unsigned integer;
   * the low 32 bits are kept for {@link nextDouble}.
   * @example
   * defaultRng(0).nextUint32(); // an integer in [0, 2^32)
   */
  nextUint32(): number {
    const s1h = this.s1h;
    const s1l = this.s1l;
    // result = rotl(s1 * 5, 7) * 9
    let product = (s1l >>> 0) * 5;
    let lo = product >>> 0;
    let hi = (Math.imul(s1h, 5) + Math.floor(product / TWO_POW_32)) | 0;
    const rotatedHigh = (hi << 7) | (lo >>> 25);
    const rotatedLow = (lo << 7) | (hi >>> 25);
    product = (rotatedLow >>> 0) * 9;
    lo = product >>> 0;
    hi = (Math.imul(rotatedHigh, 9) + Math.floor(product / TWO_POW_32)) | 0;
    // t = s1 << 17
    const shiftedHigh = (s1h << 17) | (s1l >>> 15);
    const shiftedLow = s1l << 17;
    this.s2h ^= this.s0h;
    this.s2l ^= this.s0l;
    this.s3h ^= s1h;
    this.s3l ^= s1l;
    this.s1h = s1h ^ this.s2h;
    this.s1l = s1l ^ this.s2l;
    this.s0h ^= this.s3h;
    this.s0l ^= this.s3l;
    this.s2h ^= shiftedHigh;
    this.s2l ^= shiftedLow;
    // s3 = rotl(s3, 45) = rotl(swap halves, 13)
    const h = this.s3l;
    const l = this.s3h;
    this.s3h = (h << 13) | (l >>> 19);
    this.s3l = (l << 13) | (h >>> 19);
    this.lastLow = lo;
    return hi >>> 0;
  }

  /**
   * The next full 64-bit output as a bigint (slow; for testing and interop).
   * @example
   * typeof defaultRng(0).nextBigUint64(); // "bigint"
   */
  nextBigUint64(): bigint {
    const hi = this.nextUint32();
    return (BigInt(hi) << 32n) | BigInt(this.lastLow >>> 0);
  }

  /**
   * A uniform double in [0, 1) built from the top 53 bits of one 64-bit output.
   * @example
   * defaultRng(0).nextDouble(); // in [0, 1)
   */
  nextDouble(): number {
    const hi = this.nextUint32();
    return (hi * TWO_POW_21 + (this.lastLow >>> 11)) / TWO_POW_53;
  }

  /**
   * One standard normal sample (Box-Muller; the second value of each pair is cached for the next call).
   * @example
   * defaultRng(0).nextNormal();
   */
  nextNormal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    const u1 = 1 - this.nextDouble(); // (0, 1]
    const u2 = this.nextDouble();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spareNormal = radius * Math.sin(angle);
    this.hasSpareNormal = true;
    return radius * Math.cos(angle);
  }

  /**
   * An unbiased integer in [0, range) for 1 <= range <= 2^53 (rejection sampling).
   * @example
   * defaultRng(0).nextBelow(6); // 0..5
   */
  nextBelow(range: number): number {
    if (!Number.isSafeInteger(range) || range < 1) throw invalidArgument(`integers: invalid range ${range}`);
    if (range <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % range);
      for (;;) {
        const value = this.nextUint32();
        if (value < limit) return value % range;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % range);
    for (;;) {
      const hi = this.nextUint32();
      const value = hi * TWO_POW_21 + (this.lastLow >>> 11);
      if (value < limit) return value % range;
    }
  }

  /**
   * Uniform samples in [0, 1).
   * @example
   * defaultRng(1).random([3]).shape; // [3]
   */
  random(shape?: RandomShape): NDArray {
    const resolved = resolveShape(shape, "random");
    const out = new Float64Array(shapeSize(resolved));
    for (let i = 0; i < out.length; i++) out[i] = this.nextDouble();
    return new NDArray(out, resolved);
  }

  /**
   * Uniform samples in [low, high).
   * @example
   * defaultRng(1).uniform(-1, 1, [2, 2]).shape; // [2, 2]
   */
  uniform(low = 0, high = 1, shape?: RandomShape): NDArray {
    parameter("uniform", "low", low);
    parameter("uniform", "high", high);
    const resolved = resolveShape(shape, "uniform");
    const out = new Float64Array(shapeSize(resolved));
    const width = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + width * this.nextDouble();
    return new NDArray(out, resolved);
  }

  /**
   * Normal samples with mean `loc` and standard deviation `scale`.
   * @example
   * defaultRng(1).normal(0, 1, 5).shape; // [5]
   */
  normal(loc = 0, scale = 1, shape?: RandomShape): NDArray {
    parameter("normal", "loc", loc);
    if (parameter("normal", "scale", scale) < 0) {
      throw invalidArgument(`np.random.Generator.normal: scale must be non-negative, got ${scale}`);
    }
    const resolved = resolveShape(shape, "normal");
    const out = new Float64Array(shapeSize(resolved));
    for (let i = 0; i < out.length; i++) out[i] = loc + scale * this.nextNormal();
    return new NDArray(out, resolved);
  }

  /**
   * Standard normal samples (mean 0, standard deviation 1).
   * @example
   * defaultRng(1).standardNormal([2]).shape; // [2]
   */
  standardNormal(shape?: RandomShape): NDArray {
    return this.normal(0, 1, shape);
  }

  /**
   * Uniform integers in [low, high) as float64 values (NumPy `Generator.integers`; with `high` omitted the
   * range is [0, low)). Unbiased for ranges up to 2^53.
   * @example
   * defaultRng(1).integers(0, 10, [4]).shape; // [4]
   */
  integers(low: number, high?: number, shape?: RandomShape): NDArray {
    let from = low;
    let to = high;
    if (to === undefined) {
      to = from;
      from = 0;
    }
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to <= from) {
      throw invalidArgument(
        `np.random.Generator.integers: need integers low < high, got [${show(from)}, ${show(to)})`,
      );
    }
    const resolved = resolveShape(shape, "integers");
    const out = new Float64Array(shapeSize(resolved));
    const range = to - from;
    for (let i = 0; i < out.length; i++) out[i] = from + this.nextBelow(range);
    return new NDArray(out, resolved);
  }

  /**
   * A random permutation of `0..n-1` (Fisher-Yates) as float64 values.
   * @example
   * defaultRng(1).permutation(4).shape; // [4]
   */
  permutation(n: number): NDArray {
    if (!Number.isInteger(n) || n < 0)
      throw invalidArgument(
        `np.random.Generator.permutation: n must be a non-negative integer, got ${show(n)}`,
      );
    checkArraySize("np.random.Generator.permutation", n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextBelow(i + 1);
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return new NDArray(out, [n]);
  }
}

/**
 * A new seeded {@link RandomGenerator} (like NumPy `default_rng(seed)`, though the streams differ from NumPy's).
 * @example
 * defaultRng(123).random([2]).toArray(); // the same two numbers on every run
 */
export function defaultRng(seed: number | bigint): RandomGenerator {
  return new RandomGenerator(seed);
}
