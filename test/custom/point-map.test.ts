import fc from "fast-check";
import {
  AdjFloat,
  assertRule,
  Control,
  type HessianContext,
  InvalidArgumentError,
  np,
  type RawValues,
  ShapeMismatchError,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { PointMapBlock, pointMap } from "../../src/custom/point-map.js";
import { ReducedFunction } from "../../src/reduced/reduced-function.js";

type NDArray = InstanceType<typeof np.NDArray>;

/** The seed's flux, q = (|g|^2 + 1e-12)^((p-2)/2) g. */
const flux = pointMap([[-1], [-1, 2], []], [-1, 2], { bare: true })(function flux(
  _u: NDArray,
  g: NDArray,
  p: AdjFloat | number,
): NDArray {
  const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
  return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
});

function fluxPlain(g: NDArray, p: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < g.shape[0]; k++) {
    const [a, b] = [g.data[2 * k], g.data[2 * k + 1]];
    const mu = (a * a + b * b + 1e-12) ** ((p - 2) / 2);
    out.push(mu * a, mu * b);
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tolerance * scale);
}

function setup(n = 6) {
  const rng = np.random.default_rng(3);
  const tape = new Tape();
  const u = rng.normal(0, 1, [n]);
  const g = rng.uniform(0.5, 1.5, [n, 2]);
  const p = new AdjFloat(3.2);
  const q = withTape(tape, () => flux(u, g, p));
  return { tape, u, g, p, q, rng };
}

describe("pointMap", () => {
  it("the seed's flux: right values, ONE block per call on the outer tape, nothing of f leaks", () => {
    const { tape, g, q } = setup();
    expectClose(q.data, fluxPlain(g, 3.2), 1e-14);
    expect(tape.blocks).toHaveLength(1);
    const block = tape.blocks[0] as PointMapBlock;
    expect(block).toBeInstanceOf(PointMapBlock);
    expect(block.name).toBe("flux");
    expect(block.innerTape.blocks.length).toBeGreaterThan(3);
    expect(block.innerTape.blocks.every((b) => !tape.blocks.includes(b))).toBe(true);
    // every value on the outer tape belongs to the outer block
    expect(block.outputs[0]).toBe(q.blockVariable);
    // a second call adds exactly one more block
    withTape(tape, () => flux(np.zeros([6]), q, new AdjFloat(2.5)));
    expect(tape.blocks).toHaveLength(2);
    // with annotation off, f simply runs: same values, nothing recorded
    const before = tape.blocks.length;
    const plain = withTape(tape, () => stopAnnotating(() => flux(np.zeros([6]), g, 3.2)));
    expectClose(plain.data, fluxPlain(g, 3.2), 1e-14);
    expect(tape.blocks).toHaveLength(before);
  });

  it("a shape error names the argument, the expected and the received shape", () => {
    const u = np.zeros([4]);
    const untyped = flux as unknown as (...args: unknown[]) => unknown;
    const check = (call: () => unknown, pattern: RegExp) => {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ShapeMismatchError);
      expect((error as Error).message).toMatch(pattern);
    };
    check(() => flux(u, np.zeros([2]), 3), /argument 1: expected shape \[-1, 2\].*received shape \[2\]/);
    check(
      () => flux(u, np.zeros([4, 3]), 3),
      /argument 1: expected shape \[-1, 2\].*received shape \[4, 3\]/,
    );
    check(
      () => untyped(u, np.zeros([4, 2]), np.zeros([1])),
      /argument 2: expected shape \[\].*received shape \[1\]/,
    );
    check(() => flux(np.zeros([3]), np.ones([4, 2]), 3), /argument 1 has 4 points but argument 0 has 3/);
    const wrongOutput = pointMap([[-1]], [-1, 2], { bare: true })((x: NDArray) => x);
    check(() => wrongOutput(np.ones([3])), /output 0: expected shape \[-1, 2\].*received shape \[3\]/);
    expect(() => untyped(u, np.ones([4, 2]))).toThrow(InvalidArgumentError);
    expect(() => pointMap([[-2]], [])).toThrow(InvalidArgumentError);
  });

  it("all four modes pass assertRule over random point counts (the block is differentiated as a whole)", () => {
    const law = pointMap([[-1, 2], [-1], []], [-1, 2], { bare: true })(
      (g: NDArray, c: NDArray, s: AdjFloat) =>
        np.multiply(np.tanh(np.multiply(g, s)), np.reshape(np.exp(np.multiply(c, 0.5)), [c.shape[0], 1])),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 10_000 }), (n, seed) => {
        const rng = np.random.default_rng(seed);
        const g = rng.uniform(-1, 1, [n, 2]);
        const c = rng.uniform(-1, 1, [n]);
        assertRule((gv, cv, sv) => law(gv as NDArray, cv as NDArray, sv as AdjFloat), [g, c, 0.8]);
        // the tape the rule checker records holds one block per call
        const tape = new Tape();
        withTape(tape, () => law(g, c, new AdjFloat(0.8)));
        expect(tape.blocks).toHaveLength(1);
      }),
      { numRuns: 15 },
    );
  });

  it("bare: false passes the inputs as one array; a list of shapes gives several outputs", () => {
    const split = pointMap(
      [[-1, 2], []],
      [[-1], [-1], []],
    )(([g, s]: [NDArray, AdjFloat]) => [
      np.multiply(np.slice(g, [{}, 0]), s),
      np.sin(np.slice(g, [{}, 1])),
      np.square(s),
    ]);
    const tape = new Tape();
    const g = np.array([
      [1, 2],
      [3, 4],
    ]);
    const s = new AdjFloat(1.5);
    const [a, b, c] = withTape(tape, () => split([g, s])) as [NDArray, NDArray, AdjFloat];
    expect(Array.from(a.data)).toEqual([1.5, 4.5]);
    expectClose(b.data, [Math.sin(2), Math.sin(4)]);
    expect(c.value).toBe(2.25);
    expect(tape.blocks).toHaveLength(1);
    assertRule(
      (gv, sv) => {
        const [x, y, z] = split([gv as NDArray, sv as AdjFloat]) as [NDArray, NDArray, AdjFloat];
        return np.add(np.multiply(x, y), z);
      },
      [g, 1.5],
    );
    expect(() => (split as unknown as (a: unknown, b: unknown) => unknown)(g, s)).toThrow(
      InvalidArgumentError,
    );
  });

  it("replay: ReducedFunction.evaluate at new g and p equals a fresh call", () => {
    const { tape, g, p, q, rng } = setup();
    const rf = new ReducedFunction(q, [new Control(g), new Control(p)], { tape });
    const g2 = rng.uniform(0.5, 1.5, [6, 2]);
    const replayed = rf.evaluate([g2, 2.7]);
    expectClose(replayed.data, fluxPlain(g2, 2.7), 1e-14);
    expect(tape.blocks).toHaveLength(1);
  });

  it("jacMatrix: the per-point stack [n, 2, 2] for g (the diagonal blocks of the dense Jacobian), dense [n, 2] for p", () => {
    const n = 7;
    const { tape, g, p, q } = setup(n);
    const rf = new ReducedFunction(q, [new Control(g), new Control(p)], { tape });
    const [stack, byP] = rf.jacMatrix();
    expect([...stack.shape]).toEqual([n, 2, 2]);
    expect([...byP.shape]).toEqual([n, 2]);
    const [dense] = rf.jacMatrix({ pointwise: false });
    expect([...dense.shape]).toEqual([n, 2, n, 2]);
    for (let k = 0; k < n; k++) {
      for (let l = 0; l < n; l++) {
        for (let a = 0; a < 2; a++) {
          for (let c = 0; c < 2; c++) {
            const entry = dense.get(k, a, l, c);
            if (k === l) expect(entry).toBeCloseTo(stack.get(k, a, c), 13);
            else expect(entry).toBe(0);
          }
        }
      }
    }
    // columns of the stack equal Jacobian actions along one-hot per-point directions
    for (let c = 0; c < 2; c++) {
      const data = new Float64Array(2 * n);
      for (let k = 0; k < n; k++) data[2 * k + c] = 1;
      const action = rf.jacAction([new np.NDArray(data, [n, 2]), 0]);
      const column = Array.from({ length: 2 * n }, (_, r) => stack.data[r * 2 + c]);
      expectClose(action.data, column);
    }
    expectClose(byP.data, rf.jacAction([np.zeros([n, 2]), 1]).data);
  });

  it("the stack costs (per-point input size) nested TLM sweeps, not n", () => {
    const n = 50;
    const { tape, g, q } = setup(n);
    const block = tape.blocks[0] as PointMapBlock;
    const first = block.innerTape.blocks[0];
    let calls = 0;
    const original = first.evaluateTlm.bind(first);
    first.evaluateTlm = (context) => {
      calls++;
      return original(context);
    };
    const stack = new ReducedFunction(q, new Control(g), { tape }).jacMatrix();
    expect([...stack.shape]).toEqual([n, 2, 2]);
    expect(calls).toBe(2);
  });

  it("chained point maps propagate the stack; any other block gets the dense form", () => {
    const square = pointMap([[-1, 2]], [-1, 2], { bare: true })((x: NDArray) => np.multiply(x, x));
    const tape = new Tape();
    const g = np.array([
      [0.5, 1],
      [1.5, -2],
    ]);
    const [chained, summed] = withTape(tape, () => {
      const first = square(g);
      const second = square(np.sin(first));
      return [square(square(g)), np.add(second, 0)];
    });
    const rf = new ReducedFunction([chained, summed], new Control(g), { tape });
    const [stack, dense] = rf.jacMatrix();
    expect([...stack.shape]).toEqual([2, 2, 2]);
    // d(g^4)/dg = 4 g^3 on the diagonal of each point's 2x2 block
    expectClose(
      [stack.get(0, 0, 0), stack.get(0, 1, 1), stack.get(1, 1, 1), stack.get(0, 0, 1)],
      [0.5, 4, -32, 0],
    );
    expect([...dense.shape]).toEqual([2, 2, 2, 2]);
  });

  it("a value f captures is a constant inside the map and its outer derivative is left intact", () => {
    const tape = new Tape();
    const x = np.array([0.3, 0.9]);
    const r = withTape(tape, () => {
      const a = np.sin(x); // recorded on the outer tape, depends on x
      const scaled = pointMap([[-1]], [-1], { bare: true })((g: NDArray) => np.multiply(g, a));
      return np.add(scaled(np.multiply(x, 2)), a);
    });
    expect(tape.blocks.map((b) => b.name)).toEqual(["sin", "multiply", "pointMap", "add"]);
    const rf = new ReducedFunction(r, new Control(x), { tape });
    // r = 2 x a_captured + a: with the captured a constant, dr/dx = 2 sin(x) + cos(x) (diagonal)
    const expected = [0.3, 0.9].map((v) => 2 * Math.sin(v) + Math.cos(v));
    const gradient = rf.adjJacAction(np.array([1, -2]));
    expectClose(gradient.data, [expected[0], -2 * expected[1]], 1e-14);
    const tangent = rf.jacAction(np.array([1, 1]));
    expectClose(tangent.data, expected, 1e-14);
  });

  it("Hessian: reusing the nested tangents and adjoints gives what a fresh nested sweep gives", () => {
    const { tape, u, g, p, q } = setup();
    const rf = new ReducedFunction(q, [new Control(g), new Control(p)], { tape });
    const rng = np.random.default_rng(11);
    const direction = [rng.uniform(-1, 1, [6, 2]), 0.3] as const;
    const seed = rng.uniform(-1, 1, [6, 2]);
    const reused = rf.hessAction(direction, seed);
    // call the block's Hessian mode directly with copies of the seeds: nothing can be reused
    const block = tape.blocks[0];
    if (!(block instanceof PointMapBlock)) throw new Error("expected the point map's block");
    const copy = (a: NDArray) => new np.NDArray(a.data.slice(), a.shape);
    // the values the tape holds for the dependencies (u, g, p) and the output q
    const saved = block.dependencies.map((d) => d.saved);
    expect(saved[0]).toBe(u);
    expect(saved[1]).toBe(g);
    expect(saved[2]).toBe(p.value);
    const context: HessianContext<RawValues, RawValues> = {
      inputs: [u, g, p.value],
      outputs: [q],
      adjInputs: [copy(seed)],
      hessianInputs: [undefined],
      tlmInputs: [undefined, copy(direction[0]), 0.3],
      needed: [false, true, true],
    };
    const fresh = block.evaluateHessian(context);
    const [xbarU, xbarG, xbarP] = fresh;
    if (!(xbarG instanceof np.NDArray) || typeof xbarP !== "number")
      throw new Error("expected [NDArray, number]");
    expectClose(xbarG.data, reused[0].data, 1e-14);
    expect(xbarP).toBeCloseTo(reused[1].value, 13);
    expect(xbarU).toBeUndefined();
  });

  it("evaluateTlm: repeated tangents along the per-point input come from per-point Jacobian stacks with the nested sweep's values", () => {
    const { tape, u, g, p, q } = setup();
    const block = tape.blocks[0];
    if (!(block instanceof PointMapBlock)) throw new Error("expected the point map's block");
    // nested TLM sweeps, counted on the first block of the nested tape
    const firstInner = block.innerTape.blocks[0];
    let sweeps = 0;
    const original = firstInner.evaluateTlm.bind(firstInner);
    firstInner.evaluateTlm = (context) => {
      sweeps++;
      return original(context);
    };
    const seed = (phase: number) =>
      new np.NDArray(
        g.data.map((_, i) => Math.sin(3 * i + phase)),
        g.shape,
      );
    const tlmOf = (on: PointMapBlock, at: RawValues, gdot: NDArray, udot?: NDArray): NDArray => {
      const [qdot] = on.evaluateTlm({ inputs: at, outputs: [q], tlmInputs: [udot, gdot, undefined] });
      if (!(qdot instanceof np.NDArray)) throw new Error("expected an NDArray tangent");
      return qdot;
    };
    const tlm = (at: RawValues, gdot: NDArray, udot?: NDArray) => tlmOf(block, at, gdot, udot);
    // the nested sweep's tangent, on a block of its own whose first tangent this is
    const nested = (at: RawValues, gdot: NDArray): NDArray => {
      const other = setup();
      const otherBlock = other.tape.blocks[0];
      if (!(otherBlock instanceof PointMapBlock)) throw new Error("expected the point map's block");
      return tlmOf(otherBlock, at, gdot);
    };
    const inputs: RawValues = [u, g, p.value];
    const first = tlm(inputs, seed(0)); // a nested sweep
    expect(sweeps).toBe(1);
    const second = tlm(inputs, seed(1)); // builds the stacks (one nested sweep per component), then a product
    expect(sweeps).toBe(3);
    const again = tlm(inputs, seed(0)); // a product with the stacks
    expect(sweeps).toBe(3);
    expectClose(again.data, first.data, 1e-14);
    expectClose(second.data, nested(inputs, seed(1)).data, 1e-14);
    // against the plain flux by central differences
    const h = 1e-6;
    const shifted = (sign: number) =>
      fluxPlain(
        new np.NDArray(
          g.data.map((v, i) => v + sign * h * Math.sin(3 * i + 1)),
          g.shape,
        ),
        p.value,
      );
    const plus = shifted(1);
    const minus = shifted(-1);
    expectClose(
      second.data,
      plus.map((v, i) => (v - minus[i]) / (2 * h)),
      1e-6,
    );
    // the previous point had 3 tangents along g (> 2 components): at a new point the first tangent builds the stacks
    const moved: RawValues = [
      u,
      new np.NDArray(
        g.data.map((v) => 1.3 * v - 0.2),
        g.shape,
      ),
      p.value,
    ];
    const atMoved = tlm(moved, seed(2));
    expect(sweeps).toBe(5);
    expectClose(atMoved.data, nested(moved, seed(2)).data, 1e-14);
    expectClose(tlm(moved, seed(1)).data, nested(moved, seed(1)).data, 1e-14);
    expectClose(tlm(moved, seed(0)).data, nested(moved, seed(0)).data, 1e-14);
    expect(sweeps).toBe(5);
    // one tangent at a point, then a new point: its first tangent is a nested sweep again
    tlm(inputs, seed(0));
    expect(sweeps).toBe(7);
    tlm(moved, seed(0));
    expect(sweeps).toBe(8);
    // a tangent along two inputs takes the nested sweep (u does not reach q) and stays exact
    expectClose(tlm(moved, seed(1), np.ones([6])).data, nested(moved, seed(1)).data, 1e-14);
    expect(sweeps).toBe(9);
    // along u alone (a per-point input that f does not use): no tangent, stacks or not
    for (let repeat = 0; repeat < 3; repeat++) {
      const [alongU] = block.evaluateTlm({
        inputs,
        outputs: [q],
        tlmInputs: [np.ones([6]), undefined, undefined],
      });
      expect(alongU).toBeUndefined();
    }
  });

  it("evaluateTlm from the stacks for other per-point sizes: [n, 3] -> [n] equals 2 x . v", () => {
    const squaredNorm = pointMap([[-1, 3]], [-1], { bare: true })((x: NDArray) =>
      np.sum(np.multiply(x, x), 1),
    );
    const tape = new Tape();
    const x = np.random.default_rng(5).uniform(-1, 1, [4, 3]);
    const y = withTape(tape, () => squaredNorm(x));
    const block = tape.blocks[0];
    if (!(block instanceof PointMapBlock)) throw new Error("expected the point map's block");
    for (let phase = 0; phase < 4; phase++) {
      const v = new np.NDArray(
        x.data.map((_, i) => Math.cos(2 * i + phase)),
        x.shape,
      );
      const [ydot] = block.evaluateTlm({ inputs: [x], outputs: [y], tlmInputs: [v] });
      if (!(ydot instanceof np.NDArray)) throw new Error("expected an NDArray tangent");
      const expected = [0, 1, 2, 3].map((k) =>
        [0, 1, 2].reduce((sum, j) => sum + 2 * x.data[3 * k + j] * v.data[3 * k + j], 0),
      );
      expectClose(ydot.data, expected, 1e-14);
    }
  });

  it("evaluateHessian after tangents from the stacks uses the nested tangents of its own seed", () => {
    const { tape, u, g, p, q, rng } = setup();
    const block = tape.blocks[0];
    if (!(block instanceof PointMapBlock)) throw new Error("expected the point map's block");
    const inputs: RawValues = [u, g, p.value];
    const gdot = rng.uniform(-1, 1, [6, 2]);
    const ybar = rng.uniform(-1, 1, [6, 2]);
    const context = (at: RawValues): HessianContext<RawValues, RawValues> => ({
      inputs: at,
      outputs: [q],
      adjInputs: [ybar],
      hessianInputs: [undefined],
      tlmInputs: [undefined, gdot, undefined],
      needed: [false, true, true],
    });
    // three tangents at this point: the last two come from the stacks, the nested tape holds other tangents
    for (let c = 0; c < 3; c++) {
      const seed = c === 0 ? gdot : rng.uniform(-1, 1, [6, 2]);
      block.evaluateTlm({ inputs, outputs: [q], tlmInputs: [undefined, seed, undefined] });
    }
    block.evaluateAdj({ inputs, outputs: [q], adjInputs: [ybar], needed: [false, true, true] });
    const [, afterStacksG, afterStacksP] = block.evaluateHessian(context(inputs));
    const copy = (a: NDArray) => new np.NDArray(a.data.slice(), a.shape);
    const [, freshG, freshP] = block.evaluateHessian(context([copy(u), copy(g), p.value]));
    if (!(afterStacksG instanceof np.NDArray) || !(freshG instanceof np.NDArray))
      throw new Error("expected NDArray second-order adjoints");
    expectClose(afterStacksG.data, freshG.data, 1e-14);
    if (typeof afterStacksP !== "number" || typeof freshP !== "number") throw new Error("expected numbers");
    expect(afterStacksP).toBeCloseTo(freshP, 13);
  });
});

describe("pointMap Hessian actions between other sweeps", () => {
  /** The flux's body recorded block by block (the reference for the pointMap block). */
  function fluxBody(g: NDArray, p: AdjFloat | number): NDArray {
    const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
    return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
  }

  it("hessAction equals the plain tape's before and after adjoint, tangent and other Hessian sweeps", () => {
    const rng = np.random.default_rng(21);
    const n = 7;
    const u = rng.normal(0, 1, [n]);
    const h = rng.uniform(0.5, 1.5, [n, 2]);
    const p = new AdjFloat(3.4);
    // the point map's output alone (its tangents are not read) and fed to a later block (they are), with
    // its per-point input a control (no first-order adjoint asked for) or computed from one (asked for)
    const build = (mapped: boolean) => {
      const tape = new Tape();
      const outputs = withTape(tape, () => {
        const g = np.multiply(h, h);
        const q = mapped ? flux(u, g, p) : fluxBody(g, p);
        const r = mapped ? flux(u, h, p) : fluxBody(h, p);
        return [q, np.multiply(r, r)] as const;
      });
      return new ReducedFunction([...outputs], [new Control(h), new Control(p)], { tape });
    };
    const mapped = build(true);
    const plain = build(false);
    const d1 = [rng.uniform(-1, 1, [n, 2]), 0.4] as const;
    const d2 = [rng.uniform(-1, 1, [n, 2]), -0.2] as const;
    const w1 = [rng.uniform(-1, 1, [n, 2]), rng.uniform(-1, 1, [n, 2])] as const;
    const w2 = [rng.uniform(-1, 1, [n, 2]), undefined] as const;
    const steps: ((rf: ReturnType<typeof build>) => unknown)[] = [
      (rf) => rf.hessAction(d1, w1),
      (rf) => rf.hessAction(d1, w1),
      (rf) => rf.adjJacAction(w1),
      (rf) => rf.hessAction(d1, w1),
      (rf) => rf.jacAction(d2),
      (rf) => rf.hessAction(d1, w2),
      (rf) => rf.hessAction(d2, w2),
      (rf) => rf.adjJacAction(w2),
      (rf) => rf.hessAction(d2, w1),
    ];
    for (const step of steps) {
      const a = step(mapped) as (NDArray | AdjFloat)[];
      const b = step(plain) as (NDArray | AdjFloat)[];
      expect(a).toHaveLength(b.length);
      a.forEach((value, i) => {
        const other = b[i];
        if (value instanceof np.NDArray && other instanceof np.NDArray)
          expectClose(value.data, other.data, 1e-13);
        else if (value instanceof AdjFloat && other instanceof AdjFloat)
          expect(value.value).toBeCloseTo(other.value, 12);
        else throw new Error("expected matching result types");
      });
    }
  });
});
