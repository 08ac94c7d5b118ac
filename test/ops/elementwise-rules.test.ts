/**
 * The power rule's ln a (in f_b, f_ab and f_bb) is the table logarithm `scalarLog`: the same special values as
 * the `Math.log` it replaced (so every special input gives the same results), within an ulp of it elsewhere,
 * readable by compiled code as `db(a, 1, 1)`, and the rule still passes the rule checker on arrays of random
 * shapes with broadcasting (the array loops take ln a block by block).
 */
import fc from "fast-check";
import { AdjFloat, assertRule, Control, computeGradient, type NDArray, np, Tape, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { powerRule } from "../../src/ops/elementwise-rules.js";
import { scalarLog } from "../../src/ops/kernels/transcendental.js";

/** The rule's exponent derivatives as they were with Math.log (the reference for special inputs). */
const withMathLog = {
  db: (a: number, z: number) => (z === 0 ? 0 : z * Math.log(a)),
  dab: (a: number, b: number, z: number) =>
    a === 0 ? a ** (b - 1) * (1 + b * Math.log(a)) : (z / a) * (1 + b * Math.log(a)),
  dbb: (a: number, z: number) => (z === 0 ? 0 : z * Math.log(a) ** 2),
};

const specialBases = [0, -0, 1, -1, -2, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const exponents = [
  0,
  1,
  2,
  3,
  -1,
  -2,
  0.5,
  -1.5,
  2.7,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

describe("powerRule's ln a is the table logarithm scalarLog", () => {
  it("gives exactly the results of Math.log at a = 0, -0, 1, negative bases (integer exponents included), NaN and +-Infinity", () => {
    for (const a of specialBases)
      for (const b of exponents) {
        const z = powerRule.f(a, b);
        expect(Object.is(powerRule.db(a, b, z), withMathLog.db(a, z)), `db(${a}, ${b})`).toBe(true);
        expect(Object.is(powerRule.dab(a, b, z), withMathLog.dab(a, b, z)), `dab(${a}, ${b})`).toBe(true);
        expect(Object.is(powerRule.dbb(a, b, z), withMathLog.dbb(a, z)), `dbb(${a}, ${b})`).toBe(true);
      }
  });

  it("is within an ulp of Math.log elsewhere (subnormal, tiny, huge and ordinary bases)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: 5e-324, max: 2.2250738585072014e-308, noNaN: true }),
          fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
          fc.double({ min: 0.25, max: 4, noNaN: true }),
        ),
        (a) => {
          const exact = Math.log(a);
          const ulp = 2 ** (Math.floor(Math.log2(Math.abs(exact) || 1)) - 52);
          expect(Math.abs(scalarLog(a) - exact)).toBeLessThanOrEqual(ulp);
          expect(powerRule.db(a, 1, 1)).toBe(scalarLog(a));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is what compiled code reads as db(a, 1, 1) (1 * ln a), special values included", () => {
    for (const a of [...specialBases, 5e-324, 1e-310, 2.8706161938607693, 0.7, 1e300])
      expect(Object.is(powerRule.db(a, 1, 1), scalarLog(a)), `a = ${a}`).toBe(true);
  });
});

describe("np.power on arrays: the rule checker over random shapes and broadcasts", () => {
  it("recompute, TLM vs finite differences, dot test and Taylor rates 1/2/3 with both operands recorded", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom("same", "column", "row", "scalar"),
        fc.integer({ min: 1, max: 1000 }),
        (rows, cols, form, seed) => {
          const rng = np.random.default_rng(seed);
          const a = rng.uniform(0.5, 4, [rows, cols]);
          const bShape =
            form === "same" ? [rows, cols] : form === "column" ? [rows, 1] : form === "row" ? [cols] : [1];
          const b = rng.uniform(-2, 2, bShape);
          assertRule((x, y) => np.power(x as NDArray, y as NDArray), [a, b], { seed });
          assertRule((y) => np.power(a, y as NDArray), [b], { seed });
          assertRule((x) => np.power(x as NDArray, b), [a], { seed });
        },
      ),
      { numRuns: 12 },
    );
  });

  it("over more entries than one block of logarithms (2048), base and exponent broadcast against each other", () => {
    const rng = np.random.default_rng(4);
    const a = rng.uniform(0.5, 4, [1100, 1]);
    const b = rng.uniform(-2, 2, [3]);
    assertRule((x, y) => np.power(x as NDArray, y as NDArray), [a, b], { seed: 4 });
    const base = rng.uniform(0.5, 4, [2500]);
    assertRule((y) => np.power(base, y as NDArray), [rng.uniform(-2, 2, [2500])], { seed: 5 });
  });
});

describe("powerRule's f_a for the exponent 2 is 2 a (autograd's g * 2 * a ** 1)", () => {
  it("is 2 a exactly, where z / a would round, overflow or underflow", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (a) => {
        expect(Object.is(powerRule.da(a, 2, powerRule.f(a, 2)), 2 * a)).toBe(true);
      }),
    );
    expect(powerRule.da(1e200, 2, powerRule.f(1e200, 2))).toBe(2e200); // z = Infinity
    expect(powerRule.da(1e-200, 2, powerRule.f(1e-200, 2))).toBe(2e-200); // z = 0
    expect(Object.is(powerRule.da(-0, 2, 0), -0)).toBe(true);
  });

  it("has f_aa = 2 for the exponent 2, which (2 z) / (a a) gives except where z = a a under- or overflows", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-150, max: 1e150, noNaN: true }), (a) => {
        const z = powerRule.f(a, 2);
        expect(powerRule.daa(a, 2, z)).toBe(2);
        expect((2 * 1 * z) / (a * a)).toBe(2);
      }),
    );
    expect(powerRule.daa(1e-200, 2, powerRule.f(1e-200, 2))).toBe(2); // (2 * 0) / 0 would be NaN
    expect(powerRule.daa(1e200, 2, powerRule.f(1e200, 2))).toBe(2); // Infinity / Infinity would be NaN
  });

  it("gives 2 x seed as the gradient, on arrays and on the scalar tape", () => {
    const rng = np.random.default_rng(11);
    const x = rng.normal(0, 3, [7, 3]);
    const seed = rng.normal(0, 1, [7, 3]);
    const tape = new Tape();
    const J = withTape(tape, () => np.sum(np.multiply(np.power(x, 2), seed)));
    const gradient = computeGradient(J, new Control(x), { tape });
    expect(Array.from(gradient.data)).toEqual(Array.from(x.data, (v, i) => 2 * v * seed.data[i]));
    const scalarTape = new Tape();
    for (const value of [3.7, 0.1, -1e-160, 1e150]) {
      const s = new AdjFloat(value);
      const y = withTape(scalarTape, () => np.power(s, 2));
      expect(computeGradient(y, new Control(s), { tape: scalarTape }).value).toBe(2 * value);
    }
  });
});
