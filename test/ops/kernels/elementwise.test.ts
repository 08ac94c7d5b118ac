/** @file Tests for the dedicated elementwise kernels against Math and mapBinary references. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mapBinary } from "../../../src/ops/kernels/broadcast.js";
import * as ew from "../../../src/ops/kernels/elementwise.js";
import { scalarExp, scalarLog, scalarPow } from "../../../src/ops/kernels/transcendental.js";
import { array } from "../../../src/values/ndarray.js";
import { broadcastShapesArb, realArrayArb } from "./reference.js";

const binaryCases: [string, (a: number, b: number) => number][] = [
  ["add", (a, b) => a + b],
  ["subtract", (a, b) => a - b],
  ["multiply", (a, b) => a * b],
  ["divide", (a, b) => a / b],
  ["power", (a, b) => scalarPow(Math.abs(a), b)],
  ["maximum", Math.max],
  ["minimum", Math.min],
  ["arctan2", Math.atan2],
  ["greater", (a, b) => (a > b ? 1 : 0)],
  ["greaterEqual", (a, b) => (a >= b ? 1 : 0)],
  ["less", (a, b) => (a < b ? 1 : 0)],
  ["lessEqual", (a, b) => (a <= b ? 1 : 0)],
  ["equal", (a, b) => (a === b ? 1 : 0)],
  ["notEqual", (a, b) => (a !== b ? 1 : 0)],
];

const unaryCases: [string, (a: number) => number][] = [
  ["negative", (a) => -a],
  ["abs", Math.abs],
  ["sign", Math.sign],
  ["square", (a) => a * a],
  ["sqrt", (a) => Math.sqrt(Math.abs(a))],
  ["reciprocal", (a) => 1 / a],
  ["exp", scalarExp],
  ["expm1", Math.expm1],
  ["log", (a) => scalarLog(Math.abs(a))],
  ["log1p", (a) => Math.log1p(Math.abs(a))],
  ["sin", Math.sin],
  ["cos", Math.cos],
  ["tan", Math.tan],
  ["arcsin", (a) => Math.asin(a / 2)],
  ["arccos", (a) => Math.acos(a / 2)],
  ["arctan", Math.atan],
  ["sinh", Math.sinh],
  ["cosh", Math.cosh],
  ["tanh", Math.tanh],
];

type Kernel = (...args: unknown[]) => { data: Float64Array; shape: readonly number[] };
const kernels = ew as unknown as Record<string, Kernel>;

describe("binary elementwise kernels", () => {
  for (const [name, f] of binaryCases) {
    it(`${name} agrees with mapBinary under broadcasting`, () => {
      fc.assert(
        fc.property(
          broadcastShapesArb(2).chain(({ shapes }) =>
            fc.tuple(realArrayArb(shapes[0]), realArrayArb(shapes[1])),
          ),
          ([a, b]) => {
            const x = name === "power" ? ew.abs(a) : a;
            const out = kernels[name](x, b);
            const expected = mapBinary(a, b, f);
            expect(out.shape).toEqual(expected.shape);
            expect(Array.from(out.data)).toEqual(Array.from(expected.data));
          },
        ),
        { numRuns: 30 },
      );
    });
  }

  it("accept numbers", () => {
    expect(ew.add(1, 2).item()).toBe(3);
    expect(ew.divide(array([2, 4]), 2).toArray()).toEqual([1, 2]);
    expect(ew.maximum(array([1, Number.NaN]), 0).toArray()).toEqual([1, Number.NaN]);
  });
});

describe("unary elementwise kernels", () => {
  for (const [name, f] of unaryCases) {
    it(`${name} agrees with Math`, () => {
      const values = array([-1.5, -0.25, 0, 0.5, 1.75]);
      const input =
        name === "sqrt" || name === "log" || name === "log1p"
          ? ew.abs(values)
          : name === "arcsin" || name === "arccos"
            ? ew.scale(values, 0.5)
            : values;
      const out = kernels[name](input);
      expect(out.shape).toEqual([5]);
      expect(Array.from(out.data)).toEqual(Array.from(values.data, f));
    });
  }

  it("scale and addScaled", () => {
    expect(ew.scale(array([1, 2]), 3).toArray()).toEqual([3, 6]);
    expect(ew.addScaled(array([1, 1]), 2, array([1, 2])).toArray()).toEqual([3, 5]);
    expect(ew.addScaled(array([[1], [1]]), 2, array([1, 2])).toArray()).toEqual([
      [3, 5],
      [3, 5],
    ]);
  });
});
