/** @file Tests for the strided run iterator against a naive multi-index loop. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { broadcastStrides, forEachRun, splitAtAxis } from "../../../src/ops/kernels/strided.js";
import { sizeOf, unravel } from "./reference.js";

describe("forEachRun", () => {
  it("visits every multi-index in row-major order with the right operand offsets", () => {
    const arb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }).chain((shape) =>
      fc
        .array(
          fc.array(fc.integer({ min: -6, max: 6 }), { minLength: shape.length, maxLength: shape.length }),
          {
            minLength: 1,
            maxLength: 3,
          },
        )
        .map((strides) => ({ shape, strides })),
    );
    fc.assert(
      fc.property(arb, ({ shape, strides }) => {
        const base = strides.map((_, j) => 100 + j);
        const visited: number[][] = [];
        forEachRun(shape, strides, base, (offsets, length, steps) => {
          for (let t = 0; t < length; t++) visited.push(Array.from(offsets, (o, j) => o + t * steps[j]));
        });
        const expected: number[][] = [];
        for (let i = 0; i < sizeOf(shape); i++) {
          const index = unravel(i, shape);
          expected.push(strides.map((s, j) => base[j] + index.reduce((acc, k, d) => acc + k * s[d], 0)));
        }
        expect(visited).toEqual(expected);
      }),
    );
  });

  it("merges contiguous axes into long runs", () => {
    const lengths: number[] = [];
    forEachRun([2, 3, 4], [[12, 4, 1]], null, (_offsets, length) => lengths.push(length));
    expect(lengths).toEqual([24]);
  });

  it("broadcastStrides and splitAtAxis", () => {
    expect(broadcastStrides([3, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expect(broadcastStrides([], [2])).toEqual([0]);
    expect(splitAtAxis([2, 3, 4], 1)).toEqual([2, 3, 4]);
    expect(splitAtAxis([5], 0)).toEqual([1, 5, 1]);
  });
});
