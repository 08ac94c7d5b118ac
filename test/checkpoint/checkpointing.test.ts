import {
  AdjFloat,
  Control,
  np,
  type OverloadedValue,
  overloadFunction,
  ReducedFunction,
  ReducedFunctional,
  Tape,
  taylorToDict,
  withTape,
} from "tsadjoint";
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
  if (value instanceof Float64Array) return Array.from(value);
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
  const steps = 16;
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

describe("tape.enableCheckpointing: Taylor tests and minimize", () => {
  const steps = 16;
  for (const [name, make] of schedules.slice(0, 3)) {
    it(`${name}: Taylor rates 2 and 3, and the same minimize result as the uncheckpointed tape`, () => {
      const checkpointed = record(steps, make(steps), { nonlinear: false });
      const reference = record(steps, undefined, { nonlinear: false });
      const m = checkpointed.rf.controlValues();
      const report = taylorToDict(checkpointed.rf, m, directions(), { hessian: true });
      expect(Math.min(...report.R1.rates)).toBeGreaterThan(1.9);
      expect(Math.min(...(report.R2?.rates ?? [0]))).toBeGreaterThan(2.85);
      const options = { method: "L-BFGS-B", maxIter: 8 } as const;
      const a = minimize(checkpointed.rf, options);
      const b = minimize(reference.rf, options);
      expect(relative(a.xFlat, b.xFlat)).toBeLessThanOrEqual(tolerance);
      expect(relative(a.fun, b.fun)).toBeLessThanOrEqual(tolerance);
      const c = minimize(checkpointed.rf, { method: "Newton-CG", maxIter: 3 });
      const d = minimize(reference.rf, { method: "Newton-CG", maxIter: 3 });
      expect(relative(c.xFlat, d.xFlat)).toBeLessThanOrEqual(tolerance);
    });
  }
});

/** A cheap loop of np operations: u <- u + dt (-p u^3 + sin(u) c), J = sum over steps of |u|^2 dt. */
function cheapLoop(steps: number, schedule?: CheckpointSchedule) {
  const tape = new Tape();
  const u0 = np.array([0.3, -0.2, 0.5, 0.1]);
  const p = new AdjFloat(0.8);
  const c = np.array([0.5, 1, -0.5, 0.2]);
  return withTape(tape, () => {
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u = u0;
    let J: AdjFloat | NDArray = new AdjFloat(0);
    for (const _ of tape.timestepper(steps)) {
      const rate = np.add(np.multiply(np.negative(p), np.power(u, 3)), np.multiply(c, np.sin(u)));
      u = np.add(u, np.multiply(0.01, rate));
      J = np.add(J, np.multiply(0.01, np.sum(np.square(u))));
    }
    J = np.add(J, np.sum(np.square(u)));
    const rf = new ReducedFunctional(J, [new Control(u0), new Control(p), new Control(c)], { tape });
    return { tape, rf };
  });
}

describe("tape.checkpointStatistics: steps advanced", () => {
  it("Revolve advances the binomial optimum on a recorded loop: 416 for 100 steps and 5 snapshots", () => {
    const { tape, rf } = cheapLoop(100, new Revolve(100, 5));
    expect(tape.checkpointStatistics()).toMatchObject({ steps: 100, forwardSteps: 100, recomputedSteps: 0 });
    rf.derivative();
    const stats = tape.checkpointStatistics();
    expect(stats.forwardSteps).toBe(416);
    expect(stats.recomputedSteps).toBe(316);
    expect(stats.maxSnapshotsInMemory).toBeLessThanOrEqual(5);
    expect(stats.maxSnapshotsOnDisk).toBe(0);
    expect(stats.maxStepsInMemory).toBeLessThanOrEqual(3);
  });

  it("MultistageCheckpointSchedule: 345 for 100 steps, 3 snapshots in memory and 5 on disk", () => {
    const { tape, rf } = cheapLoop(100, new MultistageCheckpointSchedule(100, 3, 5));
    rf.derivative();
    const stats = tape.checkpointStatistics();
    expect(stats.forwardSteps).toBe(345);
    expect(stats.maxSnapshotsInMemory).toBeLessThanOrEqual(3);
    expect(stats.maxSnapshotsOnDisk).toBeLessThanOrEqual(5);
    expect(stats.maxSnapshotsOnDisk).toBeGreaterThan(0);
    tape.clear();
  });

  it("a second derivative at the same values runs the forward again and then the same reverse", () => {
    const { tape, rf } = cheapLoop(100, new Revolve(100, 5));
    rf.derivative();
    rf.derivative();
    expect(tape.checkpointStatistics().forwardSteps).toBe(416 + 416);
    rf.evaluate(rf.controlValues());
    rf.derivative();
    expect(tape.checkpointStatistics().forwardSteps).toBe(3 * 416);
  });

  it("1000 steps: Revolve(1000, 10) advances 4636 steps and every derivative equals the uncheckpointed tape", () => {
    const checkpointed = cheapLoop(1000, new Revolve(1000, 10));
    const reference = cheapLoop(1000);
    const h = [np.array([0.1, 0.2, -0.1, 0.3]), new AdjFloat(0.2), np.array([0.3, -0.1, 0.2, 0.1])] as const;
    const values = [
      np.array([0.2, -0.1, 0.4, 0.2]),
      new AdjFloat(0.7),
      np.array([0.4, 0.9, -0.4, 0.3]),
    ] as const;
    expect(relative(checkpointed.rf.derivative(), reference.rf.derivative())).toBeLessThanOrEqual(tolerance);
    expect(checkpointed.tape.checkpointStatistics().forwardSteps).toBe(4636);
    expect(relative(checkpointed.rf.hessian(h), reference.rf.hessian(h))).toBeLessThanOrEqual(tolerance);
    expect(relative(checkpointed.rf.tlm(h), reference.rf.tlm(h))).toBeLessThanOrEqual(tolerance);
    expect(relative(checkpointed.rf.evaluate(values), reference.rf.evaluate(values))).toBeLessThanOrEqual(
      tolerance,
    );
    expect(relative(checkpointed.rf.hessian(h), reference.rf.hessian(h))).toBeLessThanOrEqual(tolerance);
    expect(relative(checkpointed.rf.derivative(), reference.rf.derivative())).toBeLessThanOrEqual(tolerance);
  });
});

describe("NoneCheckpointSchedule", () => {
  it("replays and tangent-linear actions work; an adjoint is a CheckpointError and leaves the tape usable", () => {
    const checkpointed = cheapLoop(30, new NoneCheckpointSchedule());
    const reference = cheapLoop(30);
    const h = [np.array([0.1, 0.2, -0.1, 0.3]), new AdjFloat(0.2), np.array([0.3, -0.1, 0.2, 0.1])] as const;
    expect(() => checkpointed.rf.derivative()).toThrow(CheckpointError);
    expect(() => checkpointed.rf.hessian(h)).toThrow(/forward only/);
    expect(relative(checkpointed.rf.tlm(h), reference.rf.tlm(h))).toBeLessThanOrEqual(tolerance);
    const values = [
      np.array([0.2, -0.1, 0.4, 0.2]),
      new AdjFloat(0.7),
      np.array([0.4, 0.9, -0.4, 0.3]),
    ] as const;
    expect(relative(checkpointed.rf.evaluate(values), reference.rf.evaluate(values))).toBeLessThanOrEqual(
      tolerance,
    );
    expect(checkpointed.tape.checkpointStatistics().maxStepsInMemory).toBeLessThanOrEqual(2);
  });
});

describe("tape.endTimestep with a checkpoint schedule", () => {
  it("rejects more steps than an offline schedule was made for, and derivatives before all its steps", () => {
    const tape = new Tape();
    const x = np.array([1, 2]);
    withTape(tape, () => {
      tape.enableCheckpointing(new Revolve(2, 1));
      let u = np.sin(x);
      tape.endTimestep();
      const early = np.sum(u);
      expect(() => new ReducedFunctional(early, new Control(x), { tape }).derivative()).toThrow(
        /expects 2 steps but 1/,
      );
      u = np.sin(u);
      tape.endTimestep();
      expect(() => tape.endTimestep()).toThrow(/made for 2 steps/);
      const J = np.sum(u);
      const g = new ReducedFunctional(J, new Control(x), { tape }).derivative() as NDArray;
      const expected = Array.from(x.data, (v) => Math.cos(Math.sin(v)) * Math.cos(v));
      expect(relative(g, np.array(expected))).toBeLessThanOrEqual(1e-15);
    });
  });
});

/** A loop whose step 6 first reads the state of step 0, with an output taken in the middle of the loop. */
function longRangeLoop(schedule?: CheckpointSchedule) {
  const tape = new Tape();
  const x = np.array([0.4, -0.3, 0.8]);
  const p = new AdjFloat(1.1);
  return withTape(tape, () => {
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u = x;
    let early: NDArray | undefined;
    let middle: NDArray | undefined;
    for (const t of tape.timestepper(20)) {
      u = np.add(np.multiply(0.9, np.sin(np.multiply(p, u))), np.multiply(0.1, x));
      if (t >= 6 && early !== undefined) u = np.add(u, np.multiply(0.05, early));
      if (t === 0) early = u;
      if (t === 9) middle = np.square(u);
    }
    const J = np.sum(np.square(u));
    const controls = [new Control(x), new Control(p)];
    // `middle` was computed in step 9 and dropped by then: taking it as an output keeps it from now on
    const rfun = new ReducedFunction([middle as NDArray, J], controls, { tape });
    const rf = new ReducedFunctional(J, controls, { tape });
    return { tape, rf, rfun };
  });
}

describe("tape.enableCheckpointing: values read across many steps", () => {
  it("a step may read a value of any earlier step, and outputs may be computed inside the loop", () => {
    for (const schedule of [
      new Revolve(20, 2),
      new PeriodicCheckpointSchedule(2),
      new MultistageCheckpointSchedule(20, 1, 1),
    ]) {
      const a = longRangeLoop(schedule);
      const b = longRangeLoop();
      const h = [np.array([0.1, 0.2, -0.3]), new AdjFloat(0.4)] as const;
      const w = [np.array([1, 2, 3]), np.reshape(np.array([0.5]), [])] as const;
      const values = [np.array([0.3, -0.2, 0.7]), new AdjFloat(0.9)] as const;
      expect(relative(a.rf.derivative(), b.rf.derivative())).toBeLessThanOrEqual(tolerance);
      expect(relative(a.rfun.jacAction(h), b.rfun.jacAction(h))).toBeLessThanOrEqual(tolerance);
      expect(relative(a.rfun.evaluate(values), b.rfun.evaluate(values))).toBeLessThanOrEqual(tolerance);
      expect(relative(a.rfun.adjJacAction(w), b.rfun.adjJacAction(w))).toBeLessThanOrEqual(tolerance);
      expect(relative(a.rfun.hessAction(h, w), b.rfun.hessAction(h, w))).toBeLessThanOrEqual(tolerance);
      expect(relative(a.rf.hessian(h), b.rf.hessian(h))).toBeLessThanOrEqual(tolerance);
      expect(() => a.rfun.jacMatrix()).toThrow(CheckpointError);
      a.tape.clear();
    }
  });
});

/** exp(a) x elementwise, refusing a > 5 (a block whose recompute can fail). */
const guardedScale = overloadFunction(
  (x: NDArray, a: number) => {
    if (a > 5) throw new RangeError("a > 5");
    return np.multiply(x, Math.exp(a)) as NDArray;
  },
  {
    name: "guardedScale",
    jvp: ({ inputs: [x, a], tangents: [dx, da] }) =>
      np.add(
        np.multiply((dx as NDArray) ?? 0, Math.exp(a as number)),
        np.multiply(x as NDArray, Math.exp(a as number) * ((da as number) ?? 0)),
      ),
    vjp: ({ inputs: [x, a], cotangents: [ybar] }) => [
      np.multiply(ybar as NDArray, Math.exp(a as number)),
      np.sum(np.multiply(np.multiply(x as NDArray, ybar as NDArray), Math.exp(a as number))).data[0],
    ],
  },
);

describe("tape.enableCheckpointing: a failed replay leaves the tape usable", () => {
  it("an evaluation that throws inside a step, then evaluate and derivative at good values", () => {
    const build = (schedule?: CheckpointSchedule) => {
      const tape = new Tape();
      const x = np.array([0.5, -0.2]);
      const a = new AdjFloat(-0.1);
      return withTape(tape, () => {
        if (schedule !== undefined) tape.enableCheckpointing(schedule);
        let u = x;
        for (const _ of tape.timestepper(12)) u = np.sin(guardedScale(u, a));
        return new ReducedFunctional(np.sum(np.square(u)), [new Control(x), new Control(a)], { tape });
      });
    };
    const checkpointed = build(new Revolve(12, 3));
    const reference = build();
    expect(() => checkpointed.evaluate([np.array([0.5, -0.2]), new AdjFloat(6)])).toThrow(RangeError);
    const good = [np.array([0.4, -0.1]), new AdjFloat(-0.2)] as const;
    expect(relative(checkpointed.evaluate(good), reference.evaluate(good))).toBeLessThanOrEqual(tolerance);
    expect(relative(checkpointed.derivative(), reference.derivative())).toBeLessThanOrEqual(tolerance);
    expect(relative(checkpointed.derivative(), reference.derivative())).toBeLessThanOrEqual(tolerance);
  });
});
