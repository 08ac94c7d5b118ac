import fc from "fast-check";
import { AdjFloat, assertRule, Control, checkRule, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";
import {
  BinaryConstantBlock,
  BinaryElementwiseBlock,
  UnaryElementwiseBlock,
} from "../../src/ops/elementwise.js";
import { binaryRules, unaryRules } from "../../src/ops/elementwise-rules.js";
import { scalarSweeps } from "../../src/tape/capabilities.js";

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

describe("elementwise blocks: the sweeps' scalar fast paths", () => {
  const FAST = ["_soleOutput", "_recomputeScalar", "_tlmScalar", "_adjointScalar", "_secondOrderScalar"];
  const CLASSES = [UnaryElementwiseBlock, BinaryElementwiseBlock, BinaryConstantBlock];

  /** Every figure a ReducedFunctional gives for a scalar program using all three block kinds. */
  function figures(): string[] {
    const tape = new Tape();
    const x0 = new AdjFloat(0.3);
    const a = new AdjFloat(0.9);
    const J = withTape(tape, () => {
      let x = x0;
      for (let i = 0; i < 12; i++) {
        x = np.add(np.multiply(x, a), np.sin(x)); // binary, unary
        x = np.divide(np.subtract(2, x), np.add(np.multiply(x, x), 3)); // constants first and last, x*x
        x = np.add(np.power(x, 2), np.multiply(np.exp(np.multiply(a, -0.5)), x));
        x = np.divide(np.power(np.add(x, 2), a), np.add(a, np.tanh(x))); // both second partials nonzero
      }
      return x;
    });
    // reading the block list turns the tape's scalar segment into the per-operation blocks tested here
    expect(tape.blocks.length).toBe(12 * 17);
    const rf = new ReducedFunctional(J, [new Control(x0), new Control(a)], { tape });
    const out: number[] = [rf.value()];
    const take = (values: readonly AdjFloat[]) => out.push(...values.map((v) => v.value));
    take(rf.derivative());
    take(rf.hessian([1, 0.5]));
    out.push(rf.tlm([0.25, -2]));
    out.push(rf.evaluate([0.35, 0.8]));
    take(rf.derivative());
    take(rf.hessian([-0.5, 2]));
    out.push(rf.tlm([1, 1]));
    return out.map(String); // the shortest round-trip text: equal strings are equal doubles
  }

  it("replay, tangent-linear, adjoint and Hessian sweeps equal the generic path bit for bit", () => {
    const calls = new Map<string, number>();
    const originals = CLASSES.map((cls) => FAST.map((name) => (cls.prototype as never)[name] as unknown));
    const setAll = (make: (cls: number, name: number) => unknown) =>
      CLASSES.forEach((cls, c) => {
        FAST.forEach((name, n) => {
          Object.defineProperty(cls.prototype, name, {
            value: make(c, n),
            configurable: true,
            writable: true,
          });
        });
      });
    // the generic path: the blocks no longer declare the scalar fast paths (the sweeps test the marker)
    const markers = CLASSES.map((cls) => Object.getOwnPropertyDescriptor(cls.prototype, scalarSweeps));
    const setMarkers = (make: (cls: number) => PropertyDescriptor | undefined) =>
      CLASSES.forEach((cls, c) => {
        const descriptor = make(c);
        if (descriptor !== undefined) Object.defineProperty(cls.prototype, scalarSweeps, descriptor);
      });
    let fast: string[];
    let generic: string[];
    try {
      // counting wrappers: the fast paths must really be taken
      setAll((c, n) => {
        const original = originals[c][n] as (...args: unknown[]) => unknown;
        return function (this: unknown, ...args: unknown[]) {
          const key = `${CLASSES[c].name}.${FAST[n]}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return original.apply(this, args);
        };
      });
      fast = figures();
      setAll(() => undefined);
      setMarkers(() => ({ get: () => false, configurable: true }));
      generic = figures();
    } finally {
      setAll((c, n) => originals[c][n]);
      setMarkers((c) => markers[c]);
    }
    for (const cls of CLASSES)
      for (const name of FAST) expect(calls.get(`${cls.name}.${name}`)).toBeGreaterThan(0);
    expect(fast).toEqual(generic);
    expect(fast.every((text) => Number.isFinite(Number(text)))).toBe(true);
  });
});

describe("elementwise blocks: shared buffers and left-out adjoints in the second-order modes", () => {
  const rng = np.random.default_rng(5);

  /** A Hessian context of a one-dependency block (x + c or x - c) on arrays of shape [6]. */
  function constantContext(zhat: Float64Array, adjNeeded?: boolean[]) {
    const x = rng.normal(0, 1, [6]);
    const zbar = rng.normal(0, 1, [6]);
    const xdot = rng.normal(0, 1, [6]);
    return {
      x,
      zbar,
      context: {
        inputs: [x] as const,
        outputs: [np.add(x, 0.5)] as const,
        adjInputs: [zbar] as const,
        hessianInputs: [new np.NDArray(zhat, [6])] as const,
        tlmInputs: [xdot] as const,
        needed: [true],
        ...(adjNeeded === undefined ? {} : { adjNeeded }),
      },
    };
  }

  it("x + c passes zbar, zhat and the tangent on as they are (1 * v is v), but writes +0 for a -0 in zhat", () => {
    const zhat = Float64Array.of(0.5, -2, 0, 3, 1e-300, -7);
    for (const rule of [binaryRules.add, binaryRules.subtract]) {
      const { x, zbar, context } = constantContext(zhat);
      const block = new BinaryConstantBlock(rule, 0.5, false, x.blockVariable, np.add(x, 0.5).blockVariable);
      const [[xbar], [xhat]] = block.evaluateAdjAndHessian(context);
      expect((xbar as np.NDArray).data).toBe(zbar.data);
      expect((xhat as np.NDArray).data).toBe(zhat);
      const [xdotOut] = block.evaluateTlm(context);
      expect((xdotOut as np.NDArray).data).toBe(context.tlmInputs[0].data);
    }
    const withNegativeZero = Float64Array.of(0.5, -0, 0, 3, -1, -7);
    const { x, context } = constantContext(withNegativeZero);
    const block = new BinaryConstantBlock(
      binaryRules.add,
      0.5,
      false,
      x.blockVariable,
      np.add(x, 0.5).blockVariable,
    );
    const [, [xhat]] = block.evaluateAdjAndHessian(context);
    const data = (xhat as np.NDArray).data;
    expect(data).not.toBe(withNegativeZero);
    expect(Object.is(data[1], 0)).toBe(true);
    expect(Array.from(data)).toEqual([0.5, 0, 0, 3, -1, -7]);
  });

  it("evaluateAdjAndHessian leaves out the adjoints adjNeeded does not ask for, with the same second-order adjoints", () => {
    const a = rng.normal(0, 1, [4, 1]);
    const b = rng.normal(0, 1, [4, 3]);
    const z = np.multiply(a, b);
    const base = {
      inputs: [a, b] as const,
      outputs: [z] as const,
      adjInputs: [rng.normal(0, 1, [4, 3])] as const,
      hessianInputs: [rng.normal(0, 1, [4, 3])] as const,
      tlmInputs: [rng.normal(0, 1, [4, 1]), rng.normal(0, 1, [4, 3])] as const,
      needed: [true, true],
    };
    for (const rule of [binaryRules.multiply, binaryRules.power, binaryRules.add]) {
      const block = new BinaryElementwiseBlock(rule, a.blockVariable, b.blockVariable, z.blockVariable);
      const operands = rule === binaryRules.power ? { inputs: [np.add(np.abs(a), 0.5), b] as const } : {};
      const all = block.evaluateAdjAndHessian({ ...base, ...operands });
      const some = block.evaluateAdjAndHessian({ ...base, ...operands, adjNeeded: [true, false] });
      expect(some[0][1]).toBeUndefined();
      expect(Array.from((some[0][0] as np.NDArray).data)).toEqual(Array.from((all[0][0] as np.NDArray).data));
      for (const k of [0, 1])
        expect(Array.from((some[1][k] as np.NDArray).data)).toEqual(
          Array.from((all[1][k] as np.NDArray).data),
        );
    }
  });
});
