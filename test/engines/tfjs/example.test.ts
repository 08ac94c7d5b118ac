import { describe, expect, it } from "vitest";
import { tfjsNetwork } from "../../../examples/tfjs-network.js";
import { expectRates } from "./helpers.js";

describe("examples/tfjs-network.ts", () => {
  it("differentiates the seed network, trains it through a larger program, refuses a wrong Hessian", async () => {
    const result = await tfjsNetwork();
    expect(result.blocks[0]).toMatch(/^runTensorflowGraph/);
    expect(result.inputGradient.shape).toEqual([15, 2]);
    expectRates(result.gradientRates, 2);
    expectRates(result.hessianRates, 3);
    expect(result.lossAfter).toBeLessThan(result.lossBefore / 100);
    expect(result.refusal).toMatch(/Tanh/);
  });
});
