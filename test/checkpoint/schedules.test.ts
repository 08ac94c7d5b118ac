import {
  type CheckpointAction,
  type CheckpointSchedule,
  MultistageCheckpointSchedule,
  NoneCheckpointSchedule,
  PeriodicCheckpointSchedule,
  Revolve,
  SingleDiskStorageSchedule,
  SingleMemoryStorageSchedule,
} from "tsadjoint/checkpoint";
import { describe, expect, it } from "vitest";

/** C(n, k) by Pascal's triangle (independent of the library's formula). */
function pascal(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const row = [1];
  for (let i = 1; i <= n; i++) {
    for (let j = i; j > 0; j--) row[j] = (row[j] ?? 0) + row[j - 1];
  }
  return row[k];
}

/** Least forward steps (first run included) to reverse l steps with s slots, by exhaustive recursion. */
function optimum(l: number, s: number, memo = new Map<string, number>()): number {
  if (l === 1) return 1;
  if (s === 1) return (l * (l + 1)) / 2;
  const key = `${l},${s}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  let best = Number.POSITIVE_INFINITY;
  for (let m = 1; m < l; m++) best = Math.min(best, m + optimum(l - m, s - 1, memo) + optimum(m, s, memo));
  memo.set(key, best);
  return best;
}

/**
 * Runs the actions on a model of the tape: the state position, the stored snapshots by storage, the
 * steps whose values are kept. Checks every action is possible and every step is reversed once, in order.
 */
function simulate(actions: Iterable<CheckpointAction>, steps: number) {
  let position = 0;
  const snapshots = new Map<number, string>();
  const kept = new Set<number>();
  const reversed: number[] = [];
  let forwardSteps = 0;
  let maxMemory = 0;
  let maxDisk = 0;
  let endForward = 0;
  let endReverse = 0;
  let forwardPhase = true;
  for (const action of actions) {
    switch (action.type) {
      case "Forward":
        expect(action.n0).toBe(position);
        expect(action.n1).toBeGreaterThan(action.n0);
        expect(action.n1).toBeLessThanOrEqual(steps);
        if (action.writeIcs) snapshots.set(action.n0, action.storage);
        for (let k = action.n0; k < action.n1; k++) if (action.writeAdjDeps) kept.add(k);
        forwardSteps += action.n1 - action.n0;
        position = action.n1;
        break;
      case "Reverse":
        expect(forwardPhase).toBe(false);
        for (let k = action.n1 - 1; k >= action.n0; k--) {
          expect(kept.has(k)).toBe(true);
          kept.delete(k);
          reversed.push(k);
        }
        break;
      case "Copy":
      case "Move":
        expect(snapshots.get(action.n)).toBe(action.from);
        expect(action.to).toBe("work");
        position = action.n;
        if (action.type === "Move") snapshots.delete(action.n);
        break;
      case "EndForward":
        forwardPhase = false;
        endForward++;
        expect(forwardSteps).toBe(steps);
        break;
      case "EndReverse":
        endReverse++;
        break;
    }
    let memory = 0;
    let disk = 0;
    for (const storage of snapshots.values()) storage === "disk" ? disk++ : memory++;
    maxMemory = Math.max(maxMemory, memory);
    maxDisk = Math.max(maxDisk, disk);
  }
  return { forwardSteps, reversed, maxMemory, maxDisk, endForward, endReverse, leftover: snapshots.size };
}

function checkAdjointPlan(schedule: CheckpointSchedule, steps: number) {
  const run = simulate(schedule.actions(steps), steps);
  expect(run.reversed).toEqual(Array.from({ length: steps }, (_, i) => steps - 1 - i));
  expect(run.endForward).toBe(1);
  expect(run.endReverse).toBe(1);
  expect(run.leftover).toBe(0);
  return run;
}

describe("Revolve", () => {
  it("advances 416 steps for 100 steps and 5 snapshots, 4636 for 1000 and 10 (the binomial optimum)", () => {
    expect(checkAdjointPlan(new Revolve(100, 5), 100).forwardSteps).toBe(416);
    expect(checkAdjointPlan(new Revolve(1000, 10), 1000).forwardSteps).toBe(4636);
  });

  it("matches the binomial formula and an exhaustive optimum, never holding more snapshots than given", () => {
    for (const [l, s] of [
      [1, 1],
      [2, 1],
      [7, 1],
      [10, 2],
      [23, 3],
      [40, 4],
      [64, 6],
      [30, 30],
    ]) {
      // t: the least t with C(s + t, s) >= l; p = t l - C(s + t, s + 1)
      let t = 0;
      while (pascal(s + t, s) < l) t++;
      const formula = l + t * l - pascal(s + t, s + 1);
      const run = checkAdjointPlan(new Revolve(l, s), l);
      expect(run.forwardSteps).toBe(formula);
      expect(run.forwardSteps).toBe(optimum(l, s));
      expect(run.maxMemory).toBeLessThanOrEqual(s);
      expect(run.maxDisk).toBe(0);
    }
  });

  it("yields the textbook plan for 3 steps and 2 snapshots", () => {
    const plan = [...new Revolve(3, 2)].map((a) =>
      a.type === "Forward"
        ? `F${a.n0}-${a.n1}${a.writeIcs ? "w" : ""}${a.writeAdjDeps ? "t" : ""}`
        : a.type === "Reverse"
          ? `R${a.n1}-${a.n0}`
          : a.type === "Copy" || a.type === "Move"
            ? `${a.type[0]}${a.n}`
            : a.type,
    );
    // store 0, advance 2 (storing 1 would not help: one slot left), tape the last step, ...
    expect(plan[0]).toBe("F0-1w");
    expect(plan).toContain("EndForward");
    expect(plan[plan.length - 1]).toBe("EndReverse");
    expect(simulate(new Revolve(3, 2).actions(), 3).forwardSteps).toBe(optimum(3, 2));
  });

  it("rejects a plan for another number of steps and bad arguments", () => {
    expect(() => [...new Revolve(10, 2).actions(11)]).toThrow(/made for 10 steps/);
    expect(() => new Revolve(0, 2)).toThrow(/steps/);
    expect(() => new Revolve(10, 1.5)).toThrow(/snapshotsInMemory/);
  });
});

describe("MultistageCheckpointSchedule", () => {
  it("advances 345 steps for 100 steps, 3 in memory and 5 on disk, within both limits", () => {
    const run = checkAdjointPlan(new MultistageCheckpointSchedule(100, 3, 5), 100);
    expect(run.forwardSteps).toBe(345);
    expect(run.forwardSteps).toBe(optimum(100, 8));
    expect(run.maxMemory).toBeLessThanOrEqual(3);
    expect(run.maxDisk).toBeLessThanOrEqual(5);
    expect(run.maxDisk).toBeGreaterThan(0);
  });

  it("works with memory only or disk only", () => {
    expect(checkAdjointPlan(new MultistageCheckpointSchedule(50, 4, 0), 50).maxDisk).toBe(0);
    expect(checkAdjointPlan(new MultistageCheckpointSchedule(50, 0, 4), 50).maxMemory).toBe(0);
  });
});

describe("SingleMemoryStorageSchedule and SingleDiskStorageSchedule", () => {
  it("keep every step and advance each once, for any number of steps", () => {
    for (const schedule of [new SingleMemoryStorageSchedule(), new SingleDiskStorageSchedule()]) {
      for (const steps of [1, 17]) expect(checkAdjointPlan(schedule, steps).forwardSteps).toBe(steps);
    }
    const [forward] = new SingleDiskStorageSchedule().actions(5);
    expect(forward).toMatchObject({ type: "Forward", writeAdjDeps: true, storage: "disk" });
  });
});

describe("NoneCheckpointSchedule", () => {
  it("plans the forward only", () => {
    const actions = [...new NoneCheckpointSchedule().actions(9)].map((a) => a.type);
    expect(actions).toEqual(["Forward", "EndForward"]);
    expect(new NoneCheckpointSchedule().supportsAdjoint).toBe(false);
  });
});

describe("PeriodicCheckpointSchedule", () => {
  it("never holds more snapshots than given while recording a loop of unknown length", () => {
    for (const s of [1, 2, 3, 5]) {
      const policy = new PeriodicCheckpointSchedule(s).recording();
      const stored = new Set<number>();
      for (let k = 0; k < 500; k++) {
        const { write, discard } = policy.boundary(k);
        for (const c of discard) {
          expect(stored.has(c)).toBe(true);
          stored.delete(c);
        }
        if (write !== undefined) stored.add(k);
        expect(stored.size).toBeLessThanOrEqual(s);
      }
    }
  });

  it("reverses every step in order within the snapshot limit, at a bounded cost", () => {
    for (const [steps, s] of [
      [1, 1],
      [2, 1],
      [13, 2],
      [100, 5],
      [257, 4],
      [400, 10],
    ]) {
      const run = checkAdjointPlan(new PeriodicCheckpointSchedule(s), steps);
      expect(run.maxMemory).toBeLessThanOrEqual(s);
      expect(run.forwardSteps).toBeGreaterThanOrEqual(optimum(steps, s));
      if (s >= 4) expect(run.forwardSteps).toBeLessThan(2.5 * optimum(steps, s));
    }
  });
});
