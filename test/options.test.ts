import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../src/errors.js";
import { checkNumber, checkOptions, isPlainObject } from "../src/options.js";
import { NDArray } from "../src/values/ndarray.js";

describe("checkOptions", () => {
  it("returns the options, or {} for undefined", () => {
    expect(
      checkOptions<{ axis?: number; keepdims?: boolean }>("op", { axis: 0 }, ["axis", "keepdims"]),
    ).toEqual({ axis: 0 });
    expect(checkOptions<{ axis?: number }>("op", undefined, ["axis"])).toEqual({});
  });
  it("rejects an unknown key, naming it, the closest accepted key and all accepted keys", () => {
    expect(() =>
      checkOptions("np.sum", { axes: 0 } as { axis?: number; keepdims?: boolean }, ["axis", "keepdims"]),
    ).toThrow(
      /np\.sum: unknown option "axes" \(did you mean "axis"\?\); accepted options: "axis", "keepdims"/,
    );
    expect(() => checkOptions("op", { zzzzzz: 1 } as { axis?: number }, ["axis"])).toThrow(
      /unknown option "zzzzzz";/,
    );
  });
  it("rejects a non-object", () => {
    for (const bad of [null, 3, "a", [1]]) {
      expect(() => checkOptions("op", bad as unknown as { axis?: number }, ["axis"])).toThrow(
        InvalidArgumentError,
      );
    }
  });
});

describe("checkNumber", () => {
  it("accepts numbers within the constraints", () => {
    expect(checkNumber("op", "n", 3, { integer: true, positive: true })).toBe(3);
    expect(checkNumber("op", "x", Number.POSITIVE_INFINITY, { finite: false })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
  it("names the argument of a wrong value", () => {
    expect(() => checkNumber("np.linspace", "stop", "a")).toThrow(
      /np\.linspace: stop must be a finite number, got string/,
    );
    expect(() => checkNumber("op", "n", 1.5, { integer: true })).toThrow(/n must be an integer/);
    expect(() => checkNumber("op", "scale", -1, { nonNegative: true })).toThrow(/scale must be non-negative/);
    expect(() => checkNumber("op", "x", Number.NaN)).toThrow(InvalidArgumentError);
  });
});

describe("isPlainObject", () => {
  it("is true for object literals and null-prototype objects only", () => {
    expect(isPlainObject({ axis: 0 })).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const other of [
      null,
      undefined,
      1,
      "a",
      [1],
      new Float64Array(1),
      new NDArray(Float64Array.of(1), [1]),
      new Map(),
    ]) {
      expect(isPlainObject(other)).toBe(false);
    }
  });
});
