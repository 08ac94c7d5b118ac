import { AdjFloat, np, type OverloadedValue, taylorTest } from "tsadjoint";
import {
  CheckpointError,
  type CheckpointSchedule,
  MultistageCheckpointSchedule,
  NoneCheckpointSchedule,
  PeriodicCheckpointSchedule,
  Revolve,
  SingleDiskStorageSchedule,
  SingleMemoryStorageSchedule,
} from "tsadjoint/checkpoint";
import { minimize } from "tsadjoint/optimize";
import { describe, expect, it } from "vitest";
import { type Program, record } from "./program.js";

type NDArray = InstanceType<typeof np.NDArray>;

function flat(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.flatMap(flat);
  if (value instanceof AdjFloat) return [value.value];
  return Array.from((value as NDArray).data);
}

/** Relative difference of two results (any nesting of numbers, AdjFloats and arrays). */
function relative(a: unknown, b: unknown): number {
  const x = flat(a);
  const y = flat(b);
  expect(x.length).toBe(y.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < x.length; i++) {
    scale = Math.max(scale, Math.abs(y[i]));
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

const tolerance = 1e-13;

function directions() {
  return [np.array([0.2, -0.1, 0.3, 0.05, 0.1]), new AdjFloat(0.3), np.array([0.1, 0.2, -0.2, 0.05, 0.4])];
}

function newValues(): OverloadedValue[] {
  return [np.array([0.25, -0.1, 0.45, 0.2, -0.3]), new AdjFloat(0.6), np.array([0.9, 0.4, -0.2, 0.7, 0.3])];
}

function seeds(program: Program): unknown[] {
  const J = program.J instanceof AdjFloat ? new AdjFloat(0.7) : np.reshape(np.array([0.7]), []);
  return [np.array([1, -0.5, 0.25, 0.3, 0.1]), J];
}

/** Every derivative of both programs, in the given order; each compared as it comes. */
function compareAll(checkpointed: Program, reference: Program, order: readonly string[]): void {
  const h = directions();
  for (const what of order) {
    const results = [checkpointed, reference].map((program) => {
      switch (what) {
        case "derivative":
          return program.rf.derivative();
        case "tlm":
          return program.rf.tlm(h);
        case "hessian":
          return program.rf.hessian(h);
        case "jacAction":
          return program.rfun.jacAction(h);
        case "adjJacAction":
          return program.rfun.adjJacAction(seeds(program));
        case "hessAction":
          return program.rfun.hessAction(h, seeds(program));
        case "evaluate":
          return program.rf.evaluate(newValues());
        case "evaluateFunction":
          return program.rfun.evaluate(newValues());
        default:
          throw new Error(what);
      }
    });
    expect(relative(results[0], results[1]), what).toBeLessThanOrEqual(tolerance);
  }
}

const schedules: [string, (steps: number) => CheckpointSchedule][] = [
  ["Revolve", (steps) => new Revolve(steps, 4)],
  ["Revolve with one snapshot", (steps) => new Revolve(steps, 1)],
  ["MultistageCheckpointSchedule", (steps) => new MultistageCheckpointSchedule(steps, 2, 2)],
  ["SingleMemoryStorageSchedule", () => new SingleMemoryStorageSchedule()],
  ["SingleDiskStorageSchedule", () => new SingleDiskStorageSchedule()],
  ["PeriodicCheckpointSchedule", () => new PeriodicCheckpointSchedule(3)],
];

describe("tape.enableCheckpointing: exact derivatives with every schedule", () => {
  const steps = 24;
  for (const [name, make] of schedules) {
    it(`${name}: derivative, tlm, hessian, Jacobian actions equal the uncheckpointed tape, in any order, repeated, after evaluate at new values`, () => {
      const reference = record(steps);
      const checkpointed = record(steps, make(steps));
      expect(relative(checkpointed.rf.value(), reference.rf.value())).toBeLessThanOrEqual(tolerance);
      compareAll(checkpointed, reference, [
        "derivative",
        "derivative",
        "tlm",
        "hessian",
        "hessian",
        "derivative",
      ]);
      compareAll(checkpointed, reference, ["jacAction", "adjJacAction", "hessAction", "tlm"]);
      compareAll(checkpointed, reference, ["evaluate", "derivative", "hessian", "tlm", "adjJacAction"]);
      compareAll(checkpointed, reference, ["evaluateFunction", "hessAction", "jacAction", "derivative"]);
      compareAll(checkpointed, reference, ["evaluate", "hessian", "derivative", "evaluate", "tlm"]);
      checkpointed.tape.clear();
    });
  }
});
