import {
  type AdjContext,
  AdjFloat,
  assertRule,
  Block,
  checkRule,
  type HessianContext,
  np,
  type RecomputeContext,
  recordBlock,
  type TlmContext,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

/** y = x^3 with a deliberately wrong second derivative (4x instead of 6x) and optionally wrong adjoint. */
class FaultyCube extends Block {
  constructor(
    x: AdjFloat,
    private readonly adjointFactor: number,
  ) {
    super();
    this.addDependency(x);
  }
  recompute({ inputs }: RecomputeContext) {
    const x = inputs[0] as number;
    return [x * x * x];
  }
  override evaluateTlm({ inputs, tlmInputs }: TlmContext) {
    const x = inputs[0] as number;
    return [3 * x * x * ((tlmInputs[0] as number | undefined) ?? 0)];
  }
  override evaluateAdj({ inputs, adjInputs }: AdjContext) {
    const x = inputs[0] as number;
    return [this.adjointFactor * x * x * ((adjInputs[0] as number | undefined) ?? 0)];
  }
  override evaluateHessian({ inputs, adjInputs, hessianInputs, tlmInputs }: HessianContext) {
    const x = inputs[0] as number;
    const bar = (adjInputs[0] as number | undefined) ?? 0;
    const hat = (hessianInputs[0] as number | undefined) ?? 0;
    const dot = (tlmInputs[0] as number | undefined) ?? 0;
    return [3 * x * x * hat + 4 * x * bar * dot];
  }
}

function faultyCube(x: AdjFloat, adjointFactor: number): AdjFloat {
  const block = new FaultyCube(x, adjointFactor);
  const y = block.addOutput(new AdjFloat(x.value ** 3));
  recordBlock(block);
  return y;
}

describe("checkRule / assertRule", () => {
  it("passes a correct rule with rates about 1, 2 and 3", () => {
    const report = assertRule((x) => np.multiply(np.sin(x as AdjFloat), np.exp(x as AdjFloat)), [0.8]);
    expect(report.rateR0).toBeCloseTo(1, 1);
    expect(report.rateR1).toBeCloseTo(2, 1);
    expect(report.rateR2).toBeCloseTo(3, 1);
  });

  it("catches a wrong second derivative (R2 rate about 2)", () => {
    const report = checkRule((x) => faultyCube(x as AdjFloat, 3), [1.3]);
    expect(report.dotProductError).toBeLessThan(1e-12);
    expect(report.rateR2).toBeLessThan(2.5);
    expect(() => assertRule((x) => faultyCube(x as AdjFloat, 3), [1.3])).toThrow(/R2 rate/);
  });

  it("catches a wrong adjoint (dot-product test)", () => {
    expect(() => assertRule((x) => faultyCube(x as AdjFloat, 2.9), [1.3])).toThrow(/dot-product/);
  });
});
