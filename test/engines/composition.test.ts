/** @file One tape holding a native tsadjoint/numpy block, a jax-js block and a TensorFlow.js block. */
import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs";
import {
  AdjFloat,
  Control,
  type NDArray,
  np,
  ReducedFunctional,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { overloadJax } from "tsadjoint/jax";
import { runTensorflowGraph } from "tsadjoint/tfjs";
import { describe, expect, it } from "vitest";

tf.enableProdMode();
await tf.setBackend("cpu");

// b = tanh(a) * a through jax-js (cpu device: exact float64)
const jaxStage = overloadJax((a: JaxArray) => jnp.tanh(a.ref).mul(a), { name: "tanh-times" });
// c = sum(t^2, axis 1) + t[:, 0] through TensorFlow.js (float32)
const tfStage = (t: tf.Tensor) =>
  tf.add(tf.sum(tf.square(t), 1), tf.squeeze(tf.slice(t, [0, 0], [-1, 1]), [1]));

type Stages = { jax: (a: NDArray) => NDArray; tfjs: (b: NDArray) => NDArray };
const engines: Stages = { jax: (a) => jaxStage(a), tfjs: (b) => runTensorflowGraph(tfStage, [b]) };
const native: Stages = {
  jax: (a) => np.multiply(np.tanh(a), a),
  tfjs: (b) => np.add(np.sum(np.square(b), 1), np.index(b, { start: 0, stop: undefined }, 0)),
};

/** J(x, p) = sum(c^2) with a = sin(x) * p natively, b and c by the stages. */
function program(stages: Stages, x: NDArray, p: AdjFloat): NDArray {
  const a = np.multiply(np.sin(x), p);
  const c = stages.tfjs(stages.jax(a));
  return np.sum(np.square(c)) as NDArray;
}

function record(stages: Stages) {
  const tape = new Tape();
  const x = np.array([
    [0.3, -0.7],
    [1.1, 0.4],
    [-0.2, 0.9],
  ]);
  const p = new AdjFloat(0.8);
  const J = withTape(tape, () => program(stages, x, p));
  return { tape, rf: new ReducedFunctional(J, [new Control(x), new Control(p)], { tape }), x, p };
}

const flat = (values: unknown[]) =>
  values.flatMap((v) => (v instanceof AdjFloat ? [v.value] : Array.from((v as NDArray).data)));

describe("composition of native, jax-js and TensorFlow.js blocks on one tape", () => {
  it("records one block per engine call and agrees with the all-native program", () => {
    const mixed = record(engines);
    const names = mixed.tape.blocks.map((b) => b.name);
    expect(names.some((n) => n.includes("tanh-times"))).toBe(true);
    expect(names.filter((n) => n.includes("Tf") || n.includes("tf")).length).toBe(1);
    const reference = record(native);
    expect(mixed.rf.value()).toBeCloseTo(reference.rf.value(), 5);
    const g = flat(mixed.rf.derivative());
    const gRef = flat(reference.rf.derivative());
    const direction = [
      np.array([
        [0.2, -0.1],
        [0.5, 0.3],
        [-0.4, 0.1],
      ]),
      0.7,
    ] as const;
    const h = flat(mixed.rf.hessian(direction));
    const hRef = flat(reference.rf.hessian(direction));
    const scale = (v: number[]) => Math.max(...v.map(Math.abs));
    for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - gRef[i])).toBeLessThan(1e-5 * scale(gRef));
    for (let i = 0; i < h.length; i++) expect(Math.abs(h[i] - hRef[i])).toBeLessThan(1e-5 * scale(hRef));
  });

  it("gradient and Hessian action agree with finite differences", () => {
    const { rf, x } = record(engines);
    const dx = np.array([
      [0.2, -0.1],
      [0.5, 0.3],
      [-0.4, 0.1],
    ]);
    const dp = 0.7;
    const eps = 1e-3;
    const at = (s: number) => [np.add(x, np.multiply(dx, s)), 0.8 + s * dp] as const;
    const J = (s: number) => stopAnnotating(() => rf.evaluate(at(s)));
    const gradient = (s: number) => {
      rf.evaluate(at(s));
      const [gx, gp] = rf.derivative();
      return np.sum(np.multiply(gx, dx)).item() + gp.value * dp;
    };
    rf.evaluate(at(0));
    const [gx, gp] = rf.derivative();
    const directional = np.sum(np.multiply(gx, dx)).item() + gp.value * dp;
    const fd = (J(eps) - J(-eps)) / (2 * eps);
    expect(Math.abs(directional - fd)).toBeLessThan(1e-3 * Math.abs(fd));
    rf.evaluate(at(0));
    const [hx, hp] = rf.hessian([dx, dp]);
    const curvature = np.sum(np.multiply(hx, dx)).item() + hp.value * dp;
    const fdCurvature = (gradient(eps) - gradient(-eps)) / (2 * eps);
    expect(Math.abs(curvature - fdCurvature)).toBeLessThan(1e-3 * Math.abs(fdCurvature));
  });
});
