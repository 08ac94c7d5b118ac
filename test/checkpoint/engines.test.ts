import { type Array as JaxArray, numpy as jnp } from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs";
import { AdjFloat, Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { type CheckpointSchedule, PeriodicCheckpointSchedule, Revolve } from "tsadjoint/checkpoint";
import { overloadJax } from "tsadjoint/jax";
import { runTensorflowGraph } from "tsadjoint/tfjs";
import { describe, expect, it } from "vitest";

type NDArray = InstanceType<typeof np.NDArray>;

/** tanh(u p) through jax-js on its float64 cpu device. */
const jaxTanh = overloadJax((u: JaxArray, p: JaxArray) => jnp.tanh(u.mul(p)), { device: "cpu" });

await tf.setBackend("cpu");

/** 0.5 sin(t) through TensorFlow.js (float32 inside; deterministic, so a replay gives the same bits). */
const tfSine = (t: tf.Tensor) => tf.mul(tf.sin(t), 0.5);

function tfjsLoop(schedule?: CheckpointSchedule) {
  const tape = new Tape();
  const x = np.array([0.3, -0.6, 0.9]);
  const p = new AdjFloat(1.3);
  return withTape(tape, () => {
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u: NDArray = x;
    for (const _ of tape.timestepper(6)) {
      u = np.add(u, np.multiply(0.2, runTensorflowGraph(tfSine, [np.multiply(u, p)]) as NDArray));
    }
    return new ReducedFunctional(np.sum(np.square(u)), [new Control(x), new Control(p)], { tape });
  });
}

function loop(schedule?: CheckpointSchedule) {
  const tape = new Tape();
  const x = np.array([0.3, -0.6, 0.9]);
  const p = new AdjFloat(1.3);
  return withTape(tape, () => {
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u: NDArray = x;
    for (const _ of tape.timestepper(6)) u = np.add(u, np.multiply(0.2, jaxTanh(u, p) as NDArray));
    return new ReducedFunctional(np.sum(np.square(u)), [new Control(x), new Control(p)], { tape });
  });
}

function relative(a: unknown, b: unknown): number {
  const flat = (v: unknown): number[] =>
    Array.isArray(v)
      ? v.flatMap(flat)
      : v instanceof AdjFloat
        ? [v.value]
        : typeof v === "number"
          ? [v]
          : Array.from((v as NDArray).data);
  const [x, y] = [flat(a), flat(b)];
  const scale = Math.max(...y.map(Math.abs));
  return Math.max(...x.map((value, i) => Math.abs(value - y[i]))) / scale;
}

describe("tape.enableCheckpointing with engine blocks in the steps", () => {
  it("jax-js blocks: derivative, Hessian and evaluate equal the uncheckpointed tape", () => {
    for (const schedule of [new Revolve(6, 2), new PeriodicCheckpointSchedule(2)]) {
      const a = loop(schedule);
      const b = loop();
      const h = [np.array([0.1, 0.2, -0.1]), new AdjFloat(0.3)] as const;
      expect(relative(a.derivative(), b.derivative())).toBeLessThanOrEqual(1e-13);
      expect(relative(a.hessian(h), b.hessian(h))).toBeLessThanOrEqual(1e-13);
      const values = [np.array([0.2, -0.5, 0.7]), new AdjFloat(1.1)] as const;
      expect(relative(a.evaluate(values), b.evaluate(values))).toBeLessThanOrEqual(1e-13);
      expect(relative(a.derivative(), b.derivative())).toBeLessThanOrEqual(1e-13);
      a.tape.clear();
      b.tape.clear();
    }
  });

  it("TensorFlow.js blocks: derivative, Hessian and evaluate equal the uncheckpointed tape", () => {
    for (const schedule of [new Revolve(6, 2), new PeriodicCheckpointSchedule(2)]) {
      const a = tfjsLoop(schedule);
      const b = tfjsLoop();
      const h = [np.array([0.1, 0.2, -0.1]), new AdjFloat(0.3)] as const;
      expect(relative(a.derivative(), b.derivative())).toBeLessThanOrEqual(1e-13);
      expect(relative(a.hessian(h), b.hessian(h))).toBeLessThanOrEqual(1e-13);
      const values = [np.array([0.2, -0.5, 0.7]), new AdjFloat(1.1)] as const;
      expect(relative(a.evaluate(values), b.evaluate(values))).toBeLessThanOrEqual(1e-13);
      expect(relative(a.derivative(), b.derivative())).toBeLessThanOrEqual(1e-13);
      expect(relative(a.tlm(h), b.tlm(h))).toBeLessThanOrEqual(1e-13);
      a.tape.clear();
      b.tape.clear();
    }
  });
});
