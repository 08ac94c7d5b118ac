/** @file Tests for the NDArray class, the array()/asNDArray factories and shape utilities. */

import fc from "fast-check";
import { AdjFloat, Control, computeGradient, computeHessian, np, Tape, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import {
  array,
  arrayFromUnknown,
  asNDArray,
  contiguousStrides,
  emptyArray,
  formatShape,
  NDArray,
  normalizeAxes,
  normalizeAxis,
  setEmptyArrayPoison,
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

describe("emptyArray", () => {
  it("gives a new array of the length asked for, of its own buffer, filled with the poison when one is set", () => {
    for (const length of [0, 1, 7, 4095, 4096, 10_000]) {
      const a = emptyArray(length);
      expect(a).toBeInstanceOf(Float64Array);
      expect(a.length).toBe(length);
      expect(a.byteOffset).toBe(0);
      expect(a.buffer.byteLength).toBe(length * 8);
      expect(emptyArray(length).buffer).not.toBe(a.buffer);
    }
    const previous = setEmptyArrayPoison(2.5);
    try {
      expect(Array.from(emptyArray(3))).toEqual([2.5, 2.5, 2.5]);
      expect(emptyArray(5000).every((v) => v === 2.5)).toBe(true);
    } finally {
      setEmptyArrayPoison(previous);
    }
    expect(setEmptyArrayPoison(undefined)).toBe(previous);
  });

  /** Float64 bit patterns (exact comparison, -0 and NaN payloads included). */
  const bitsOf = (values: readonly (NDArray | number)[]) =>
    values.flatMap((v) =>
      Array.from(new BigUint64Array(Float64Array.from(v instanceof NDArray ? v.data : [v]).buffer), (b) =>
        b.toString(16),
      ),
    );

  /** Everything the uninitialised allocations feed: values, sums over axes, broadcasts, sums back to shape. */
  function results(shapeA: number[], shapeB: number[], seed: number): (NDArray | number)[] {
    const rng = np.random.default_rng(seed);
    const a = rng.normal(0, 1, shapeA);
    const b = np.add(np.abs(rng.normal(0, 1, shapeB)), 0.5);
    const out: (NDArray | number)[] = [];
    const binaries = [np.add, np.subtract, np.multiply, np.divide, np.power, np.arctan2, np.maximum];
    for (const op of binaries) {
      out.push(op(a, b), op(b, a), op(a, 2), op(2, b), op(np.abs(b), 0.5), op(a, a));
    }
    for (const op of [np.exp, np.log, np.sqrt, np.sin, np.tanh, np.negative, np.square, np.cos])
      out.push(op(b));
    const z = np.multiply(a, b);
    for (let axis = -z.ndim; axis < z.ndim; axis++) {
      out.push(np.sum(z, axis), np.sum(z, axis, true), np.mean(z, axis));
      if (z.shape[axis + (axis < 0 ? z.ndim : 0)] > 0) out.push(np.max(z, axis));
    }
    out.push(np.sum(z), np.norm(z), np.broadcast_to(b, z.shape), np.broadcast_to(a, z.shape));
    return out;
  }

  it("is fully written by every kernel that uses it (a poison never shows, over many shapes)", () => {
    const dimension = fc.integer({ min: 0, max: 5 });
    fc.assert(
      fc.property(
        fc.array(dimension, { minLength: 0, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (shape, ones, seed) => {
          // b broadcasts against a: some axes of a set to 1, leading axes dropped
          const shapeB = shape.map((n, i) => (ones[i] ? 1 : n)).slice(seed % 2);
          const run = (poison: number | undefined) => {
            const previous = setEmptyArrayPoison(poison);
            try {
              return bitsOf(results(shape, shapeB, seed));
            } finally {
              setEmptyArrayPoison(previous);
            }
          };
          const reference = run(undefined);
          expect(run(Number.NaN)).toEqual(reference);
          expect(run(-7.25)).toEqual(reference);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("is fully written on large arrays too (the uninitialised path), gradients and Hessian actions included", () => {
    const run = (poison: number | undefined) => {
      const previous = setEmptyArrayPoison(poison);
      try {
        const out = results([2500, 2], [2500, 1], 3).concat(results([3, 1700], [1700], 4));
        const tape = new Tape();
        const rng = np.random.default_rng(5);
        const g = rng.normal(0, 1, [3000, 2]);
        const p = new AdjFloat(3.2);
        const J = withTape(tape, () => {
          const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
          return np.sum(np.power(np.multiply(np.reshape(mu, [3000, 1]), g), 2));
        });
        const controls = [new Control(g), new Control(p)];
        const gradient = computeGradient(J, controls, { tape });
        const hessian = computeHessian(J, controls, [rng.normal(0, 1, [3000, 2]), 0.3], { tape });
        return bitsOf([...out, ...gradient, ...hessian].map((v) => (v instanceof AdjFloat ? v.value : v)));
      } finally {
        setEmptyArrayPoison(previous);
      }
    };
    const reference = run(undefined);
    expect(run(Number.NaN)).toEqual(reference);
    expect(run(1e300)).toEqual(reference);
  });
});
