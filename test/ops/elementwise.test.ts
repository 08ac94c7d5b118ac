import fc from "fast-check";
import { type AdjFloat, assertRule, checkRule, np } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { binaryRules, unaryRules } from "../../src/ops/elementwise-rules.js";

type UnaryName = keyof typeof unaryRules;
type BinaryName = keyof typeof binaryRules;
const unaryFunctions = np as unknown as Record<UnaryName, (x: AdjFloat | number) => AdjFloat>;
const binaryFunctions = np as unknown as Record<
  BinaryName,
  (a: AdjFloat | number, b: AdjFloat | number) => AdjFloat
>;

const inside = ([low, high]: readonly [number, number]) =>
  fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true });

describe("elementwise rules on AdjFloat: the rule checker over each domain", () => {
  for (const name of Object.keys(unaryRules) as UnaryName[]) {
    it(`np.${name}: recompute, TLM vs FD, dot test, Taylor rates 1/2/3`, () => {
      const rule = unaryRules[name];
      fc.assert(
        fc.property(inside(rule.domain), fc.integer({ min: 1, max: 1000 }), (x, seed) => {
          assertRule((a) => unaryFunctions[name](a as AdjFloat), [x], { seed });
        }),
        { numRuns: 25 },
      );
    });
  }

  for (const name of Object.keys(binaryRules) as BinaryName[]) {
    it(`np.${name}: both operands recorded, and each with the other a constant`, () => {
      const rule = binaryRules[name];
      const fn = binaryFunctions[name];
      fc.assert(
        fc.property(
          inside(rule.domain[0]),
          inside(rule.domain[1]),
          fc.integer({ min: 1, max: 1000 }),
          (a, b, seed) => {
            fc.pre(rule.kink === undefined || rule.kink(a, b) > 0.05);
            assertRule((x, y) => fn(x as AdjFloat, y as AdjFloat), [a, b], { seed });
            assertRule((y) => fn(a, y as AdjFloat), [b], { seed });
            assertRule((x) => fn(x as AdjFloat, b), [a], { seed });
            const [low, high] = rule.domain[1];
            const shared = Math.min(Math.max(a, low), high);
            assertRule((x) => fn(x as AdjFloat, x as AdjFloat), [shared], { seed });
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it("every function listed by the issue exists in tsadjoint/numpy", () => {
    const names = [
      "add subtract multiply divide power negative absolute exp expm1 log log1p log2 log10 sqrt cbrt square",
      "reciprocal sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh hypot minimum maximum",
    ]
      .join(" ")
      .split(" ");
    for (const name of names) expect(typeof (np as Record<string, unknown>)[name]).toBe("function");
  });

  it("power with a constant integer exponent is differentiable at negative bases", () => {
    assertRule((x) => np.power(x as AdjFloat, 3), [-1.7]);
    assertRule((x) => np.power(x as AdjFloat, 2), [0]);
  });

  it("minimum / maximum split the derivative evenly at a tie", () => {
    const report = checkRule((x) => np.maximum(x as AdjFloat, x as AdjFloat), [1.0]);
    expect(report.dotProductError).toBeLessThan(1e-12);
  });
});
