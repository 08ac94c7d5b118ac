import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AdjFloat, Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import {
  CheckpointError,
  DiskStore,
  MultistageCheckpointSchedule,
  SingleDiskStorageSchedule,
} from "tsadjoint/checkpoint";
import { describe, expect, it } from "vitest";

describe("DiskStore", () => {
  it("writes numbers, arrays and zero tangents as float64 and reads them back bit for bit", () => {
    const store = new DiskStore();
    const a = np.array([
      [Math.PI, -1e-300],
      [1 / 3, 2 ** 60],
    ]);
    store.write("k", [a, 0.1, undefined, np.array([7])]);
    const [b, c, d, e] = store.read("k");
    expect(Array.from((b as typeof a).data)).toEqual(Array.from(a.data));
    expect((b as typeof a).shape).toEqual([2, 2]);
    expect(c).toBe(0.1);
    expect(d).toBeUndefined();
    expect(Array.from((e as typeof a).data)).toEqual([7]);
    const folder = store.path as string;
    expect(readdirSync(folder)).toEqual(["k.f64"]);
    store.delete("k");
    expect(readdirSync(folder)).toEqual([]);
    expect(() => store.read("k")).toThrow(/no snapshot 'k'/);
    store.clear();
    expect(existsSync(folder)).toBe(false);
  });
});

function diskLoop(tape: Tape, steps: number) {
  return withTape(tape, () => {
    const x = np.array([0.5, 1.5, -0.3]);
    const p = new AdjFloat(0.9);
    let u = x;
    for (const _ of tape.timestepper(steps)) u = np.add(np.multiply(p, np.sin(u)), np.multiply(0.1, x));
    return new ReducedFunctional(np.sum(np.square(u)), [new Control(x), new Control(p)], { tape });
  });
}

describe("disk snapshots", () => {
  it("live in a temporary folder that tape.clear() removes", () => {
    for (const schedule of [new SingleDiskStorageSchedule(), new MultistageCheckpointSchedule(40, 1, 3)]) {
      const tape = new Tape();
      tape.enableCheckpointing(schedule);
      const rf = diskLoop(tape, 40);
      rf.derivative();
      rf.evaluate(rf.controlValues());
      const folder = tape.checkpointManager?.diskPath as string;
      expect(existsSync(folder)).toBe(true);
      expect(readdirSync(folder).length).toBeGreaterThan(0);
      expect(tape.checkpointStatistics().maxSnapshotsOnDisk).toBeGreaterThan(0);
      tape.clear();
      expect(existsSync(folder)).toBe(false);
    }
  });

  it("are removed at process exit", () => {
    const fixture = fileURLToPath(new URL("./disk-exit.fixture.ts", import.meta.url));
    const output = execFileSync(
      process.execPath,
      ["--conditions=tsadjoint-source", "--import", "tsx", fixture],
      {
        encoding: "utf8",
      },
    );
    const [folder, existed] = output.split("|");
    expect(folder).toMatch(/tsadjoint-checkpoint-/);
    expect(existed).toBe("true");
    expect(existsSync(folder)).toBe(false);
  });

  it("are a clear CheckpointError where node:fs is not available (a browser)", () => {
    const process = globalThis.process as { getBuiltinModule?: unknown };
    const original = process.getBuiltinModule;
    process.getBuiltinModule = undefined;
    try {
      expect(() => new Tape().enableCheckpointing(new SingleDiskStorageSchedule())).toThrow(CheckpointError);
      expect(() => new DiskStore().write("k", [1])).toThrow(/in a browser use a memory schedule/);
    } finally {
      process.getBuiltinModule = original;
    }
  });
});
