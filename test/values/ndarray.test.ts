/** @file Tests for the NDArray class, the array()/asNDArray factories and shape utilities. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import {
  array,
  arrayFromUnknown,
  asNDArray,
  contiguousStrides,
  formatShape,
  NDArray,
  normalizeAxes,
  normalizeAxis,
  shapeSize,
  shapesEqual,
} from "../../src/values/ndarray.js";

describe("NDArray", () => {
  it("wraps data with a frozen shape and exposes size, ndim, strides", () => {
    const data = new Float64Array([1, 2, 3, 4, 5, 6]);
    const a = new NDArray(data, [2, 3]);
    expect(a.data).toBe(data);
    expect(a.shape).toEqual([2, 3]);
    expect(Object.isFrozen(a.shape)).toBe(true);
    expect(a.size).toBe(6);
    expect(a.ndim).toBe(2);
    expect(a.strides).toEqual([3, 1]);
    expect(a._blockVariable).toBeUndefined();
  });

  it("copies the shape argument so later mutation of the caller's array has no effect", () => {
    const shape = [2, 2];
    const a = new NDArray(new Float64Array(4), shape);
    shape[0] = 7;
    expect(a.shape).toEqual([2, 2]);
  });

  it("supports 0-d arrays", () => {
    const a = new NDArray(new Float64Array([3.5]), []);
    expect(a.size).toBe(1);
    expect(a.ndim).toBe(0);
    expect(a.strides).toEqual([]);
    expect(a.item()).toBe(3.5);
    expect(a.toArray()).toBe(3.5);
    expect(a.get()).toBe(3.5);
    expect(String(a)).toBe("array(3.5)");
  });

  it("rejects data/shape mismatches with a message naming both", () => {
    expect(() => new NDArray(new Float64Array(5), [2, 3])).toThrow(/length 5 .*\[2, 3\]/);
    expect(() => new NDArray(new Float64Array(1), [-1])).toThrow(/invalid shape/);
    expect(() => new NDArray(new Float64Array(1), [1.5])).toThrow(/invalid shape/);
  });

  it("item() requires size 1", () => {
    expect(array([[7]]).item()).toBe(7);
    expect(() => array([1, 2]).item()).toThrow(/size 1/);
  });

  it("get() reads by multi-index with negative indices and bounds checks", () => {
    const a = array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a.get(1, 2)).toBe(6);
    expect(a.get(-1, -3)).toBe(4);
    expect(() => a.get(2, 0)).toThrow(/out of bounds/);
    expect(() => a.get(0)).toThrow(/expected 2 indices/);
  });

  it("toArray round-trips through array() for random nested shapes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (shape, seed) => {
          const size = shapeSize(shape);
          const data = Float64Array.from({ length: size }, (_, i) => (i * 7 + seed) % 13);
          const a = new NDArray(data, shape);
          const nested = a.toArray();
          const b = shape.length === 0 ? array(nested as number) : array(nested as number[], shape);
          expect(b.shape).toEqual(shape);
          expect(Array.from(b.data)).toEqual(Array.from(data));
          if (shape.every((n) => n > 0)) expect(array(nested as number[]).shape).toEqual(shape);
        },
      ),
    );
  });

  it("toString is NumPy-like and summarises large arrays", () => {
    expect(
      String(
        array([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe("array([[1, 2],\n       [3, 4]])");
    expect(String(array([0.1, 2]))).toBe("array([0.1, 2])");
    const big = String(new NDArray(new Float64Array(5000), [5000]));
    expect(big).toContain("...");
    expect(big.length).toBeLessThan(100);
  });
});

describe("array()", () => {
  it("builds from nested arrays", () => {
    const a = array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(array([]).shape).toEqual([0]);
    expect(array([[]]).shape).toEqual([1, 0]);
  });

  it("rejects ragged or non-numeric nested arrays with a clear error", () => {
    expect(() => array([[1, 2], [3]])).toThrow(/ragged.*index \[1\]/);
    expect(() => array([[1, 2], 3])).toThrow(/ragged/);
    expect(() => array([1, [2]])).toThrow(/ragged/);
    expect(() => array([["x"]] as unknown as number[][])).toThrow(/expected a number/);
  });

  it("builds from flat number[] and typed arrays with a shape, copying the input", () => {
    const flat = [1, 2, 3, 4, 5, 6];
    const a = array(flat, [3, 2]);
    expect(a.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ints = new Int32Array([1, 2, 3, 4]);
    const b = array(ints, [2, 2]);
    ints[0] = 99;
    expect(b.get(0, 0)).toBe(1);
    const f = new Float64Array([1, 2]);
    const c = array(f);
    f[0] = 5;
    expect(c.shape).toEqual([2]);
    expect(c.get(0)).toBe(1);
    expect(() => array([1, 2, 3], [2, 2])).toThrow(/does not match shape \[2, 2\]/);
    expect(() => array(new Float32Array(3), [2])).toThrow(/length 3/);
  });

  it("builds 0-d arrays from numbers and returns NDArrays as is", () => {
    const a = array(2.5);
    expect(a.shape).toEqual([]);
    expect(a.item()).toBe(2.5);
    expect(array(2, [1, 1]).shape).toEqual([1, 1]);
    expect(() => array(2, [2])).toThrow(/cannot fill/);
    expect(array(a)).toBe(a);
    const m = array([1, 2, 3, 4]);
    const r = array(m, [2, 2]);
    expect(r.shape).toEqual([2, 2]);
    expect(r.data).toBe(m.data);
  });

  it("asNDArray wraps numbers and passes NDArrays through", () => {
    const a = array([1]);
    expect(asNDArray(a)).toBe(a);
    expect(asNDArray(4).shape).toEqual([]);
    expect(asNDArray(4).item()).toBe(4);
    expect(asNDArray(4)).not.toBe(asNDArray(4));
    expect(Object.is(asNDArray(-0).item(), -0)).toBe(true);
    expect(() => asNDArray("4" as unknown as number)).toThrow(InvalidArgumentError);
    expect(() => asNDArray("4" as unknown as number)).toThrow(
      /asNDArray: expected a number or NDArray, got string/,
    );
  });

  it("arrayFromUnknown is array() for unchecked data, with the same results and errors", () => {
    const inputs: unknown[] = [
      [
        [1, 2],
        [3, 4],
      ],
      new Int16Array([1, -2]),
      3,
      array([5, 6]),
    ];
    for (const input of inputs) {
      const direct = array(input as Parameters<typeof array>[0]);
      expect(arrayFromUnknown(input).toArray()).toEqual(direct.toArray());
    }
    const errorOf = (f: () => unknown): string => {
      try {
        f();
      } catch (error) {
        return String(error);
      }
      return "no error";
    };
    const bad: unknown[] = [new DataView(new ArrayBuffer(8)), new BigInt64Array(1), "x", {}, null, [[1], 2]];
    for (const input of bad) {
      const message = errorOf(() => arrayFromUnknown(input));
      expect(message).toMatch(/^InvalidArgumentError: array: /);
      expect(errorOf(() => array(input as Parameters<typeof array>[0]))).toBe(message);
    }
    expect(errorOf(() => arrayFromUnknown(new DataView(new ArrayBuffer(8))))).toMatch(
      /DataView is not supported/,
    );
  });
});

describe("shape utilities", () => {
  it("compute sizes, strides and comparisons", () => {
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([2, 0, 3])).toBe(0);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(shapesEqual([1, 2], [1, 2])).toBe(true);
    expect(shapesEqual([1, 2], [2, 1])).toBe(false);
    expect(formatShape([])).toBe("[]");
  });

  it("normalise axes with clear errors", () => {
    expect(normalizeAxis(-1, 3, "op")).toBe(2);
    expect(() => normalizeAxis(3, 3, "sum")).toThrow("sum: axis 3 is out of bounds for array of dimension 3");
    expect(normalizeAxes(undefined, 3, "op")).toEqual([0, 1, 2]);
    expect(normalizeAxes([-1, 0], 3, "op")).toEqual([0, 2]);
    expect(() => normalizeAxes([0, -3], 3, "op")).toThrow(/repeated axis/);
  });
});
