import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import {
  AdjFloat,
  Control,
  computeJacobianMatrix,
  np,
  ReducedFunction,
  ShapeMismatchError,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { f64, JaxBlock, overloadJax } from "tsadjoint/jax";
import { describe, expect, it } from "vitest";
import { defaultRng } from "../../../src/ops/kernels/random.js";
import { NDArray, shapeSize } from "../../../src/values/ndarray.js";

const EPSILON = 1e-2;
const K = 1.3;

/** p-Laplacian flux k (|g|^2 + eps)^((p - 2) / 2) g for points g [n, 2] and a shared exponent p (0-d). */
const flux = (g: JaxArray, p: JaxArray) => {
  const s = g.ref.mul(g.ref).sum(-1, { keepdims: true }).add(f64(EPSILON));
  return jnp
    .power(s, p.sub(f64(2)).div(f64(2)))
    .mul(f64(K))
    .mul(g);
};

function fluxJS(g: Float64Array, p: number): Float64Array {
  const out = new Float64Array(g.length);
  for (let i = 0; i < g.length / 2; i++) {
    const s = g[2 * i] ** 2 + g[2 * i + 1] ** 2 + EPSILON;
    const scale = K * s ** ((p - 2) / 2);
    out[2 * i] = scale * g[2 * i];
    out[2 * i + 1] = scale * g[2 * i + 1];
  }
  return out;
}

function lastJaxBlock(tape: Tape): JaxBlock {
  const block = tape.blocks.at(-1);
  if (!(block instanceof JaxBlock)) throw new Error("the last block is not a JaxBlock");
  return block;
}

/**
 * Dense Jacobians [output][input] of `evaluate` (raw inputs -> NDArray outputs) by central differences,
 * each of shape [...outShape, ...inShape].
 */
function finiteDifferenceJacobian(
  evaluate: (inputs: (NDArray | number)[]) => NDArray[],
  inputs: (NDArray | number)[],
  step = 1e-6,
): NDArray[][] {
  const base = evaluate(inputs);
  return base.map((output, k) =>
    inputs.map((input, d) => {
      const inShape = typeof input === "number" ? [] : input.shape;
      const inSize = shapeSize(inShape);
      const data = new Float64Array(output.size * inSize);
      for (let q = 0; q < inSize; q++) {
        const shifted = (sign: number) =>
          inputs.map((value, j) => {
            if (j !== d) return value;
            if (typeof value === "number") return value + sign * step;
            const moved = value.data.slice();
            moved[q] += sign * step;
            return new NDArray(moved, value.shape);
          });
        const plus = evaluate(shifted(1))[k].data;
        const minus = evaluate(shifted(-1))[k].data;
        for (let r = 0; r < output.size; r++) data[r * inSize + q] = (plus[r] - minus[r]) / (2 * step);
      }
      return new NDArray(data, [...output.shape, ...inShape]);
    }),
  );
}

function expectClose(actual: NDArray, expected: NDArray, tolerance: number): void {
  expect(actual.shape).toEqual(expected.shape);
  let scale = 1;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < actual.size; i++) {
    expect(Math.abs(actual.data[i] - expected.data[i])).toBeLessThanOrEqual(tolerance * scale);
  }
}

/** The per-point stack [n, a, c] from a dense block-diagonal Jacobian [n, a, n, c]. */
function diagonalBlocks(dense: NDArray): NDArray {
  const [n, a, , c] = dense.shape;
  const data = new Float64Array(n * a * c);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < a; r++) for (let s = 0; s < c; s++) data[(i * a + r) * c + s] = dense.get(i, r, i, s);
  }
  return new NDArray(data, [n, a, c]);
}

describe("JaxBlock.jacobian: per-point stacks for pointwise functions", () => {
  const n = 7;
  const G = defaultRng(31).normal(0, 1, [n, 2]);
  const p = new NDArray(Float64Array.of(3.3), []);

  for (const jit of [true, false]) {
    it(`p-Laplacian flux: the stack [n, 2, 2] and the shared-parameter Jacobian [n, 2] match finite differences (jit ${jit})`, () => {
      const f = overloadJax(flux, { pointwise: [true, false], jit });
      const tape = new Tape();
      const q = withTape(tape, () => f(G, p));
      for (let i = 0; i < q.size; i++) expect(q.data[i]).toBeCloseTo(fluxJS(G.data, 3.3)[i], 13);
      const block = lastJaxBlock(tape);
      const [[stack, dp]] = block.jacobian();
      expect(stack.shape).toEqual([n, 2, 2]);
      expect(dp.shape).toEqual([n, 2]);
      const evaluate = (inputs: (NDArray | number)[]) => {
        const g = inputs[0] as NDArray;
        const exponent = inputs[1] as NDArray;
        return [new NDArray(fluxJS(g.data, exponent.data[0]), g.shape)];
      };
      const [[denseG, denseP]] = finiteDifferenceJacobian(evaluate, [G, p]);
      expectClose(stack, diagonalBlocks(denseG), 1e-8);
      expectClose(dp, denseP, 1e-8);
      // the dense form is block diagonal and agrees with the stack
      const [[fullG, fullP]] = block.jacobian(undefined, { dense: true });
      expect(fullG.shape).toEqual([n, 2, n, 2]);
      expectClose(fullG, denseG, 1e-8);
      expectClose(fullP, denseP, 1e-8);
      f.dispose();
    });
  }

  it("the output can be marked not pointwise; inconsistent point counts are a ShapeMismatchError", () => {
    const f = overloadJax(flux, { pointwise: [true, false], outPointwise: false });
    const tape = new Tape();
    withTape(tape, () => f(G, p));
    const [[dense]] = lastJaxBlock(tape).jacobian();
    expect(dense.shape).toEqual([n, 2, n, 2]);
    const total = overloadJax((g: JaxArray, p0: JaxArray) => flux(g, p0).sum(0), {
      pointwise: [true, false],
      outPointwise: true,
    });
    withTape(tape, () => total(G, p));
    expect(() => lastJaxBlock(tape).jacobian()).toThrow(ShapeMismatchError);
    f.dispose();
    total.dispose();
  });
});

describe("JaxBlock.jacobian: dense Jacobians, by vjp rows or jvp columns", () => {
  const rng = defaultRng(41);
  const a = rng.normal(0, 0.6, [3]);
  const b = rng.normal(0, 0.6, [2, 2]);

  const cases = [
    {
      // 3 + 4 outputs <= 3 + 4 inputs: rows (vjp)
      name: "rows",
      fn: (x: JaxArray, y: JaxArray) => [
        jnp.tanh(x.ref).mul(y.ref.sum()),
        jnp.exp(y.mul(x.slice(0))).mul(f64(0.5)),
      ],
    },
    {
      // outer product: 12 outputs > 7 inputs: columns (jvp)
      name: "columns",
      fn: (x: JaxArray, y: JaxArray) => [
        jnp.sin(x.ref.reshape([3, 1]).mul(y.reshape([1, 4]))),
        jnp.exp(x.sum()),
      ],
    },
  ];
  for (const { name, fn } of cases) {
    it(`${name}: every [output][input] block matches finite differences`, () => {
      const f = overloadJax(fn);
      const tape = new Tape();
      withTape(tape, () => f(a, b));
      const jacobian = lastJaxBlock(tape).jacobian();
      const expected = finiteDifferenceJacobian(
        (inputs) => stopAnnotating(() => f(inputs[0] as NDArray, inputs[1] as NDArray)),
        [a, b],
      );
      for (let k = 0; k < 2; k++)
        for (let d = 0; d < 2; d++) expectClose(jacobian[k][d], expected[k][d], 1e-8);
      f.dispose();
    });
  }

  it("a number dependency gives blocks of shape [...outShape]", () => {
    const f = overloadJax((x: JaxArray, k: JaxArray) => jnp.sin(x.mul(k)));
    const tape = new Tape();
    withTape(tape, () => f(a, new AdjFloat(0.8)));
    const [[dx, dk]] = lastJaxBlock(tape).jacobian();
    expect(dx.shape).toEqual([3, 3]);
    expect(dk.shape).toEqual([3]);
    for (let i = 0; i < 3; i++) expect(dk.data[i]).toBeCloseTo(a.data[i] * Math.cos(0.8 * a.data[i]), 14);
    f.dispose();
  });
});

describe("evaluateJacobian: computeJacobianMatrix and ReducedFunction.jacMatrix through jax blocks", () => {
  const n = 6;
  const G = defaultRng(51).normal(0, 1, [n, 2]);
  const p = new NDArray(Float64Array.of(3.3), []);

  it("a pointwise block fed the control gives a per-point stack equal to the block's own Jacobian", () => {
    const f = overloadJax(flux, { pointwise: [true, false] });
    const tape = new Tape();
    const q = withTape(tape, () => f(G, p));
    const stack = computeJacobianMatrix(q, new Control(G), { tape });
    expect(stack.shape).toEqual([n, 2, 2]);
    const [[own]] = lastJaxBlock(tape).jacobian();
    expectClose(stack, own, 1e-14);
    const dense = computeJacobianMatrix(q, new Control(G), { tape, pointwise: false });
    expect(dense.shape).toEqual([n, 2, n, 2]);
    expectClose(diagonalBlocks(dense), own, 1e-14);
    const dp = computeJacobianMatrix(q, new Control(p), { tape });
    expect(dp.shape).toEqual([n, 2]);
    f.dispose();
  });

  it("two pointwise jax blocks compose per point; a core op in between makes it dense; all match finite differences", () => {
    const first = overloadJax(flux, { pointwise: [true, false] });
    const second = overloadJax(
      (g: JaxArray) =>
        jnp
          .sin(g.ref)
          .mul(g.ref.sum(-1, { keepdims: true }))
          .add(g),
      {
        pointwise: true,
      },
    );
    const evaluateChain = (g: NDArray, scaled: boolean) =>
      stopAnnotating(() => second(first(scaled ? np.multiply(g, 2) : g, p)));
    for (const scaled of [false, true]) {
      const tape = new Tape();
      const y = withTape(tape, () => second(first(scaled ? np.multiply(G, 2) : G, p)));
      const expected = finiteDifferenceJacobian(
        (inputs) => [evaluateChain(inputs[0] as NDArray, scaled)],
        [G],
      )[0][0];
      const perPoint = computeJacobianMatrix(y, new Control(G), { tape });
      // np.multiply has no Jacobian rule: the driver passes a dense Jacobian on and the jax blocks stay dense
      expect(perPoint.shape).toEqual(scaled ? [n, 2, n, 2] : [n, 2, 2]);
      expectClose(perPoint, scaled ? expected : diagonalBlocks(expected), 1e-7);
      const rf = new ReducedFunction(y, new Control(G), { tape });
      const dense = rf.jacMatrix({ pointwise: false });
      expectClose(dense, expected, 1e-7);
    }
    first.dispose();
    second.dispose();
  });

  it("dense blocks of a multi-output function with respect to several controls", () => {
    const rng = defaultRng(61);
    const a = rng.normal(0, 0.6, [3]);
    const b = rng.normal(0, 0.6, [2, 2]);
    const f = overloadJax((x: JaxArray, y: JaxArray) => [
      jnp.tanh(x.ref).mul(y.ref.sum()),
      jnp.exp(y.mul(x.slice(0))),
    ]);
    const tape = new Tape();
    const outputs = withTape(tape, () => f(a, b));
    const blocks = computeJacobianMatrix(outputs, [new Control(a), new Control(b)], { tape });
    const own = lastJaxBlock(tape).jacobian();
    for (let k = 0; k < 2; k++) for (let d = 0; d < 2; d++) expectClose(blocks[k][d], own[k][d], 1e-14);
    f.dispose();
  });
});
