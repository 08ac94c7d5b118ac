import { describe, expect, it } from "vitest";
import { runJaxBench } from "../../../bench/engines-jax.js";

describe("bench/engines-jax.ts (small configuration)", () => {
  it("runs, agrees with the float64 reference gradient and keeps live buffers flat", async () => {
    const result = await runJaxBench({
      points: 24,
      wasmRepeats: 1,
      devices: ["wasm"],
      leakCalls: 30,
      print: false,
    });
    expect(result.figures.length).toBe(12);
    for (const figure of result.figures) expect(figure.ratio).toBeGreaterThan(0);
    // wasm evaluates tanh in float32
    expect(result.gradientAgreement["wasm, jit true"]).toBeLessThan(1e-5);
    expect(result.leak.liveBuffersAfter).toBe(result.leak.liveBuffersBefore);
  });
});
