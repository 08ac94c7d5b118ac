import {
  type AdjContext,
  AdjFloat,
  Block,
  Control,
  ControlCountMismatchError,
  ControlNotOnTapeError,
  computeGradient,
  computeHessian,
  computeTLM,
  type HessianContext,
  MissingRuleError,
  NonFiniteValueError,
  NonScalarFunctionalError,
  np,
  type RecomputeContext,
  recordBlock,
  stopAnnotating,
  Tape,
  type TlmContext,
  ValueNotOnTapeError,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

/** Identity block that counts how often each mode runs. */
class Counting extends Block {
  static calls = { recompute: 0, tlm: 0, adj: 0, hessian: 0 };
  recompute({ inputs }: RecomputeContext) {
    Counting.calls.recompute++;
    return [inputs[0]];
  }
  override evaluateTlm({ tlmInputs }: TlmContext) {
    Counting.calls.tlm++;
    return [tlmInputs[0]];
  }
  override evaluateAdj({ adjInputs }: AdjContext) {
    Counting.calls.adj++;
    return [adjInputs[0]];
  }
  override evaluateHessian({ hessianInputs }: HessianContext) {
    Counting.calls.hessian++;
    return [hessianInputs[0]];
  }
}

function counting(x: AdjFloat): AdjFloat {
  const block = new Counting();
  block.addDependency(x);
  const y = block.addOutput(new AdjFloat(x.value));
  recordBlock(block);
  return y;
}

describe("drivers", () => {
  it("computeGradient, computeTLM and computeHessian of a two-control functional", () => {
    const tape = new Tape();
    const [a, b] = [new AdjFloat(0.7), new AdjFloat(-1.2)];
    // J = a^2 b + sin(a b)
    const J = withTape(tape, () => np.add(np.multiply(np.square(a), b), np.sin(np.multiply(a, b))));
    const controls = [new Control(a), new Control(b)];
    const [ga, gb] = computeGradient(J, controls, { tape });
    const ab = 0.7 * -1.2;
    expect(ga.value).toBeCloseTo(2 * 0.7 * -1.2 + -1.2 * Math.cos(ab), 14);
    expect(gb.value).toBeCloseTo(0.7 * 0.7 + 0.7 * Math.cos(ab), 14);
    const direction = [0.3, -0.5];
    const tlm = computeTLM(J, controls, direction, { tape });
    expect(tlm.value).toBeCloseTo(ga.value * 0.3 + gb.value * -0.5, 14);
    // Hessian of J: [[2b - b^2 sin, 2a + cos - ab sin], [., -a^2 sin]]
    const s = Math.sin(ab);
    const c = Math.cos(ab);
    const Haa = 2 * -1.2 - 1.44 * s;
    const Hab = 2 * 0.7 + c - ab * s;
    const Hbb = -0.49 * s;
    const [ha, hb] = computeHessian(J, controls, direction, { tape });
    expect(ha.value).toBeCloseTo(Haa * 0.3 + Hab * -0.5, 13);
    expect(hb.value).toBeCloseTo(Hab * 0.3 + Hbb * -0.5, 13);
  });

  it("a single control gives a single value; an array gives an array", () => {
    const x = new AdjFloat(2);
    const J = np.exp(x);
    expect(computeGradient(J, new Control(x))).toBeInstanceOf(AdjFloat);
    expect(computeGradient(J, [new Control(x)])).toHaveLength(1);
  });

  it("adjValue seeds the adjoint", () => {
    const x = new AdjFloat(2);
    const J = np.square(x);
    expect(computeGradient(J, new Control(x), { adjValue: 3 }).value).toBe(12);
    expect(computeHessian(J, new Control(x), 1, { adjValue: 3 }).value).toBe(6);
  });

  it("visits only the blocks between the controls and the output", () => {
    const tape = new Tape();
    const x = new AdjFloat(1.5);
    const J = withTape(tape, () => {
      counting(new AdjFloat(3)); // does not depend on x
      const y = np.sin(x);
      counting(y); // depends on x, J does not depend on it
      const J = np.square(y);
      counting(J); // after J
      return J;
    });
    Counting.calls = { recompute: 0, tlm: 0, adj: 0, hessian: 0 };
    computeGradient(J, new Control(x), { tape });
    computeTLM(J, new Control(x), 1, { tape });
    computeHessian(J, new Control(x), 1, { tape });
    expect(Counting.calls).toEqual({ recompute: 0, tlm: 0, adj: 0, hessian: 0 });
  });

  it("a control used twice and a control that is the functional", () => {
    const x = new AdjFloat(0.3);
    const J = np.multiply(x, x);
    expect(computeGradient(J, new Control(x)).value).toBeCloseTo(0.6, 15);
    expect(computeGradient(x, new Control(x)).value).toBe(1);
  });

  it("a functional that does not depend on a control on the tape gives zero", () => {
    const tape = new Tape();
    const x = new AdjFloat(1);
    const z = new AdjFloat(2);
    const J = withTape(tape, () => {
      np.sin(x);
      return np.cos(z);
    });
    expect(computeGradient(J, new Control(x), { tape }).value).toBe(0);
  });

  describe("errors (each leaves the tape usable)", () => {
    it("ControlNotOnTapeError: a control never used on the tape", () => {
      const tape = new Tape();
      const x = new AdjFloat(1);
      const J = withTape(tape, () => np.sin(x));
      expect(() => computeGradient(J, new Control(new AdjFloat(1)), { tape })).toThrow(ControlNotOnTapeError);
      expect(() => computeGradient(J, new Control(new AdjFloat(1)), { tape })).toThrow(
        /control 0 was not used/,
      );
      expect(computeGradient(J, new Control(x), { tape }).value).toBeCloseTo(Math.cos(1), 15);
    });

    it("ValueNotOnTapeError: a functional computed with annotation off, or on another tape", () => {
      const tape = new Tape();
      const x = new AdjFloat(1);
      withTape(tape, () => np.sin(x));
      const J = stopAnnotating(() => np.cos(x));
      expect(() => computeGradient(J, new Control(x), { tape })).toThrow(ValueNotOnTapeError);
      const other = new Tape();
      const K = withTape(other, () => np.cos(x));
      expect(() => computeGradient(K, new Control(x), { tape })).toThrow(/recorded on another tape/);
    });

    it("NonFiniteValueError: names the block where the derivative became infinite", () => {
      const tape = new Tape();
      const x = new AdjFloat(0);
      const J = withTape(tape, () => np.exp(np.sqrt(x)));
      expect(() => computeGradient(J, new Control(x), { tape })).toThrow(NonFiniteValueError);
      expect(() => computeGradient(J, new Control(x), { tape })).toThrow(/block 'sqrt' \(inputs 0\)/);
      const y = new AdjFloat(Number.NaN);
      const K = withTape(tape, () => np.sin(y));
      expect(() => computeGradient(K, new Control(y), { tape })).toThrow(/non-finite/);
      expect(() => computeTLM(J, new Control(x), 1, { tape })).toThrow(NonFiniteValueError);
      expect(() => computeHessian(J, new Control(x), 1, { tape })).toThrow(NonFiniteValueError);
    });

    it("ControlCountMismatchError: directions and controls differ in number", () => {
      const a = new AdjFloat(1);
      const b = new AdjFloat(2);
      const J = np.multiply(a, b);
      // @ts-expect-error one direction for two controls (typed as a tuple)
      expect(() => computeTLM(J, [new Control(a), new Control(b)], [1])).toThrow(ControlCountMismatchError);
    });

    it("MissingRuleError: a custom block without a Hessian rule, never a silent zero", () => {
      class OnlyAdjoint extends Block {
        recompute({ inputs }: RecomputeContext) {
          return [2 * (inputs[0] as number)];
        }
        override evaluateAdj({ adjInputs }: AdjContext) {
          return [2 * ((adjInputs[0] as number | undefined) ?? 0)];
        }
      }
      const tape = new Tape();
      const x = new AdjFloat(1);
      const J = withTape(tape, () => {
        const block = new OnlyAdjoint();
        block.addDependency(x);
        const y = block.addOutput(new AdjFloat(2));
        recordBlock(block);
        return np.square(y);
      });
      expect(computeGradient(J, new Control(x), { tape }).value).toBe(8);
      expect(() => computeHessian(J, new Control(x), 1, { tape })).toThrow(MissingRuleError);
      expect(() => computeTLM(J, new Control(x), 1, { tape })).toThrow(
        /OnlyAdjoint: this block has no tangent-linear rule/,
      );
    });

    it("NonScalarFunctionalError comes from computeGradient on a non-scalar without adjValue (see ReducedFunctional too)", () => {
      expect(NonScalarFunctionalError.prototype).toBeInstanceOf(Error);
    });
  });
});

/** Passes its input through; its adjoint is the output's adjoint object itself (no copy). */
class PassThrough extends Block {
  recompute({ inputs }: RecomputeContext) {
    return [inputs[0]];
  }
  override evaluateTlm({ tlmInputs }: TlmContext) {
    return [tlmInputs[0]];
  }
  override evaluateAdj({ adjInputs }: AdjContext) {
    return [adjInputs[0]];
  }
  override evaluateHessian({ hessianInputs }: HessianContext) {
    return [hessianInputs[0]];
  }
}

function passThrough(x: np.NDArray): np.NDArray {
  const y = new np.NDArray(x.data.slice(), x.shape);
  const block = new PassThrough();
  block.addDependency(x);
  block.addOutput(y);
  recordBlock(block);
  return y;
}

describe("drivers: adjoints accumulated in place", () => {
  it("computeGradient and computeHessian never change a seed, a saved value or an earlier result", () => {
    const tape = new Tape();
    const data = [0.3, -1.2, 2.5, 0.7];
    const x = np.array(data);
    const { J, saved } = withTape(tape, () => {
      // x has five consumers and u (whose adjoint is handed on by PassThrough) three: sums in the sweep
      const u = np.add(np.multiply(x, x), np.sin(x));
      const v = passThrough(u);
      const w = np.add(np.add(np.multiply(v, u), np.exp(u)), np.multiply(x, u));
      const z = np.add(w, np.multiply(passThrough(x), 2));
      return { J: np.sum(np.square(z)), saved: [x, u, v, w, z] };
    });
    const before = saved.map((value) => Array.from(value.data));
    const seed = np.array([1, 2, 3, 4]);
    const direction = np.array([0.5, -1, 2, 0.25]);
    const controls = new Control(x);
    const g1 = computeGradient(J, controls, { tape }) as np.NDArray;
    const g1Copy = Array.from(g1.data);
    const h1 = computeHessian(J, controls, direction, { tape }) as np.NDArray;
    const h1Copy = Array.from(h1.data);
    const g2 = computeGradient(J, controls, { tape }) as np.NDArray;
    const h2 = computeHessian(J, controls, direction, { tape }) as np.NDArray;
    const t = computeTLM(saved[4], controls, seed, { tape }) as np.NDArray;
    expect(Array.from(g1.data)).toEqual(g1Copy);
    expect(Array.from(h1.data)).toEqual(h1Copy);
    expect(Array.from(g2.data)).toEqual(g1Copy);
    expect(Array.from(h2.data)).toEqual(h1Copy);
    expect(saved.map((value) => Array.from(value.data))).toEqual(before);
    expect(Array.from(seed.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(direction.data)).toEqual([0.5, -1, 2, 0.25]);
    expect(Array.from(x.data)).toEqual(data);
    // the gradient by hand: z = w + 2x, w = u^2 + e^u + x u, u = x^2 + sin x
    data.forEach((xi, i) => {
      const ui = xi * xi + Math.sin(xi);
      const zi = ui * ui + Math.exp(ui) + xi * ui + 2 * xi;
      const du = 2 * xi + Math.cos(xi);
      const dz = (2 * ui + Math.exp(ui) + xi) * du + ui + 2;
      expect(g1.data[i]).toBeCloseTo(2 * zi * dz, 10);
      expect(t.data[i]).toBeCloseTo(dz * seed.data[i], 10);
    });
  });

  it("computeGradient with an array adjValue: the seed is handed on (shared) and then summed into, never changed", () => {
    const tape = new Tape();
    const x = np.array([0.3, -1.2, 2.5]);
    const u = withTape(tape, () => np.multiply(x, x));
    // the add block hands the seed's buffer on to u; the sin block's adjoint is then summed into u's
    const z = withTape(tape, () => np.add(u, np.sin(u)));
    const seed = np.array([1, 2, 3]);
    const g = computeGradient(z, new Control(x), { tape, adjValue: seed }) as np.NDArray;
    const h = computeHessian(z, new Control(x), np.array([1, 1, 1]), { tape, adjValue: seed }) as np.NDArray;
    expect(Array.from(seed.data)).toEqual([1, 2, 3]);
    [0.3, -1.2, 2.5].forEach((xi, i) => {
      const ui = xi * xi;
      expect(g.data[i]).toBeCloseTo((i + 1) * (1 + Math.cos(ui)) * 2 * xi, 12);
      const d2 = -Math.sin(ui) * 4 * xi * xi + (1 + Math.cos(ui)) * 2;
      expect(h.data[i]).toBeCloseTo((i + 1) * d2, 12);
    });
  });
});
