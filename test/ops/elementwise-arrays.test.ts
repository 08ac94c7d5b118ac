import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  computeGradient,
  NDArray,
  np,
  ShapeMismatchError,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { binaryRules, unaryRules } from "../../src/ops/elementwise-rules.js";

type UnaryName = keyof typeof unaryRules;
type BinaryName = keyof typeof binaryRules;
type Operand = number | AdjFloat | NDArray;
const unaryFunctions = np as unknown as Record<UnaryName, (x: Operand) => Operand>;
const binaryFunctions = np as unknown as Record<BinaryName, (a: Operand, b: Operand) => Operand>;

/** A shape of rank 0..3 with sizes 1..3 (so size-1 axes and 0-d arrays appear). */
const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 });

/** A shape that broadcasts with `shape`: some axes set to 1, some leading axes dropped. */
function broadcastPartner(shape: readonly number[]) {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), fc.nat(shape.length))
    .map(([ones, drop]) => shape.map((n, i) => (ones[i] ? 1 : n)).slice(drop));
}

function arrayIn(shape: readonly number[], [low, high]: readonly [number, number]) {
  const size = shape.reduce((a, b) => a * b, 1);
  return fc
    .array(fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true }), {
      minLength: size,
      maxLength: size,
    })
    .map((values) => new NDArray(Float64Array.from(values), shape));
}

describe("elementwise rules on NDArrays: the rule checker over random shapes", () => {
  for (const name of Object.keys(unaryRules) as UnaryName[]) {
    it(`np.${name} on arrays of rank 0..3`, () => {
      const rule = unaryRules[name];
      fc.assert(
        fc.property(
          shapeArb.chain((shape) => arrayIn(shape, rule.domain)),
          fc.integer({ min: 1, max: 1000 }),
          (x, seed) => {
            assertRule((a) => unaryFunctions[name](a as NDArray) as NDArray, [x], { seed });
          },
        ),
        { numRuns: 10 },
      );
    });
  }

  for (const name of Object.keys(binaryRules) as BinaryName[]) {
    it(`np.${name} with broadcasting, AdjFloat and constant operands`, () => {
      const rule = binaryRules[name];
      const fn = binaryFunctions[name];
      const pair = shapeArb.chain((shape) =>
        broadcastPartner(shape).chain((other) =>
          fc.tuple(arrayIn(shape, rule.domain[0]), arrayIn(other, rule.domain[1]), fc.boolean()),
        ),
      );
      fc.assert(
        fc.property(pair, fc.integer({ min: 1, max: 1000 }), ([a, b, swap], seed) => {
          if (rule.kink !== undefined) {
            const bs = np.add(b, np.multiply(a, 0)) as NDArray; // b broadcast to the result shape
            const as = np.add(a, np.multiply(b, 0)) as NDArray;
            fc.pre(
              as.data.every(
                (v, i) =>
                  rule.kink?.(v, bs.data[i]) !== undefined && (rule.kink?.(v, bs.data[i]) ?? 0) > 0.05,
              ),
            );
          }
          const [first, second] = swap && rule.domain[0][0] === rule.domain[1][0] ? [b, a] : [a, b];
          assertRule((x, y) => fn(x as NDArray, y as NDArray) as NDArray, [first, second], { seed });
          // one operand an AdjFloat (0-d), the other an array
          const scalar = first.size > 0 ? first.data[0] : 1;
          const scalarAwayFromKink = second.data.every(
            (v) => rule.kink === undefined || rule.kink(scalar, v) > 0.05,
          );
          if (scalarAwayFromKink) {
            assertRule((x, y) => fn(x as AdjFloat, y as NDArray) as NDArray, [scalar, second], { seed });
            // a plain-number constant
            assertRule((y) => fn(scalar, y as NDArray) as NDArray, [second], { seed });
          }
          // a constant NDArray
          assertRule((x) => fn(x as NDArray, second) as NDArray, [first], { seed });
        }),
        { numRuns: 10 },
      );
    });
  }

  it("the adjoint of broadcasting sums over the broadcast axes", () => {
    const tape = new Tape();
    const a = np.array([[1, 2, 3]]);
    const b = np.array([[10], [20]]);
    const c = withTape(tape, () => np.multiply(a, b));
    expect(c.shape).toEqual([2, 3]);
    const [ga, gb] = computeGradient(c, [new Control(a), new Control(b)], {
      tape,
      adjValue: np.ones([2, 3]),
    }) as NDArray[];
    expect(ga.toArray()).toEqual([[30, 30, 30]]);
    expect(gb.toArray()).toEqual([[6], [6]]);
  });

  it("an AdjFloat times an array gives an array, and its gradient sums over the array", () => {
    const tape = new Tape();
    const p = new AdjFloat(2);
    const g = np.array([1, 2, 3]);
    const y = withTape(tape, () => np.multiply(p, g));
    expect(y).toBeInstanceOf(NDArray);
    const gp = computeGradient(y, new Control(p), { tape, adjValue: np.ones([3]) });
    expect(gp.value).toBe(6);
  });

  it("shapes that do not broadcast are a typed error naming the function", () => {
    expect(() => np.add(np.zeros([2, 3]), np.zeros([4]))).toThrow(ShapeMismatchError);
    expect(() => np.add(np.zeros([2, 3]), np.zeros([4]))).toThrow(/np.add: shapes \[2, 3\] and \[4\]/);
  });
});
