/** @file Tests for the array creation helpers. */

import { describe, expect, it } from "vitest";
import {
  arange,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  zeros,
  zerosLike,
} from "../../../src/ops/kernels/creation.js";
import { array } from "../../../src/values/ndarray.js";

describe("creation helpers", () => {
  it("zeros/ones/full and the *Like variants", () => {
    expect(zeros([2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(zeros([]).shape).toEqual([]);
    expect(ones([2]).toArray()).toEqual([1, 1]);
    expect(full([2, 1], 7).toArray()).toEqual([[7], [7]]);
    const a = array([[1, 2]]);
    expect(zerosLike(a).toArray()).toEqual([[0, 0]]);
    expect(onesLike(a).toArray()).toEqual([[1, 1]]);
    expect(fullLike(a, 3).toArray()).toEqual([[3, 3]]);
    expect(() => zeros([-1])).toThrow(/invalid shape/);
  });

  it("arange follows NumPy", () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(2, 5).toArray()).toEqual([2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 1, -2).toArray()).toEqual([5, 3]);
    expect(arange(3, 1).toArray()).toEqual([]);
    expect(arange(0, 1, 0.1).size).toBe(10);
    expect(() => arange(0, 1, 0)).toThrow(/step/);
  });

  it("linspace follows NumPy", () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(0, 1, 4, false).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(linspace(2, 3, 1).toArray()).toEqual([2]);
    expect(linspace(2, 3, 0).toArray()).toEqual([]);
    expect(linspace(0, 1).size).toBe(50);
    const x = linspace(0.1, 0.7, 7);
    expect(x.get(6)).toBe(0.7);
  });

  it("eye with rectangular shapes and offsets", () => {
    expect(eye(2).toArray()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(eye(2, 3, 1).toArray()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(eye(3, 2, -1).toArray()).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
    expect(eye(0).shape).toEqual([0, 0]);
  });
});
