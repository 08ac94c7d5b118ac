import { describe, expect, it } from "vitest";
import { parseCli } from "../../../examples/cr-inference/cli.js";
import {
  checkpointSchedule,
  runTransient,
  TRANSIENT_DEFAULTS,
} from "../../../examples/cr-inference/transient.js";

describe("transient CR inference (npm start -- --problem transient)", () => {
  it("infers the same parameters with Revolve checkpointing as without (1e-10), Taylor rates 2 and 3 with checkpointing on", async () => {
    const settings = { ...TRANSIENT_DEFAULTS, mesh: 4, steps: 12, observeEvery: 4, maxIterations: 25 };
    const checkpointed = await runTransient({ ...settings, checkpoint: "revolve:4" });
    const plain = await runTransient({ ...settings, checkpoint: "none", skipTaylor: true });
    expect(checkpointed.taylor?.rate).toBeGreaterThan(1.9);
    expect(checkpointed.taylor?.hessianRate).toBeGreaterThan(2.85);
    checkpointed.parameters.forEach((parameter, i) => {
      const reference = plain.parameters[i].inferred;
      expect(Math.abs(parameter.inferred - reference)).toBeLessThanOrEqual(1e-10 * Math.abs(reference));
      expect(parameter.relativeError).toBeLessThan(0.05);
    });
    expect(checkpointed.checkpointing.maxSnapshotsInMemory).toBeLessThanOrEqual(4);
    expect(checkpointed.checkpointing.recomputedSteps).toBeGreaterThan(0);
    expect(plain.checkpointing.forwardSteps).toBe(0);
  });

  it("parses --problem, --steps and --checkpoint", () => {
    const options = parseCli(["--problem", "transient", "--steps", "50", "--checkpoint", "multistage:2:3"]);
    expect(options.transient).toMatchObject({ steps: 50, checkpoint: "multistage:2:3", mesh: 8 });
    expect(checkpointSchedule("revolve:7", 50)?.describe()).toBe("Revolve(50 steps, 7 snapshots)");
    expect(checkpointSchedule("none", 50)).toBeUndefined();
    expect(checkpointSchedule("disk", 50)?.describe()).toBe("SingleDiskStorageSchedule");
    expect(() => parseCli(["--problem", "transient", "--checkpoint", "revolve"])).toThrow(/--checkpoint/);
    expect(() => parseCli(["--checkpoint", "memory"])).toThrow(/apply to --problem transient/);
  });
});
