import {
  AdjFloat,
  annotating,
  Control,
  computeGradient,
  continueAnnotation,
  getWorkingTape,
  np,
  pauseAnnotation,
  setWorkingTape,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

describe("working tape and annotation", () => {
  it("getWorkingTape: a working tape exists from import and annotation is on", () => {
    expect(getWorkingTape()).toBeInstanceOf(Tape);
    expect(annotating()).toBe(true);
    const before = getWorkingTape().blocks.length;
    np.sin(new AdjFloat(1));
    expect(getWorkingTape().blocks.length).toBe(before + 1);
  });

  it("stopAnnotating records nothing and restores annotation, also after a throw", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const y = stopAnnotating(() => np.exp(np.sin(new AdjFloat(0.3))));
      expect(y.value).toBeCloseTo(Math.exp(Math.sin(0.3)), 15);
      expect(() =>
        stopAnnotating(() => {
          throw new Error("boom");
        }),
      ).toThrow("boom");
    });
    expect(tape.blocks.length).toBe(0);
    expect(annotating()).toBe(true);
  });

  it("pauseAnnotation / continueAnnotation nest", () => {
    const tape = new Tape();
    withTape(tape, () => {
      pauseAnnotation();
      pauseAnnotation();
      np.sin(new AdjFloat(1));
      expect(continueAnnotation()).toBe(false);
      np.sin(new AdjFloat(1));
      expect(continueAnnotation()).toBe(true);
      np.sin(new AdjFloat(1));
    });
    expect(tape.blocks.length).toBe(1);
  });

  it("withTape / setWorkingTape choose the tape and withTape restores it", () => {
    const original = getWorkingTape();
    const tape = new Tape();
    withTape(tape, () => {
      expect(getWorkingTape()).toBe(tape);
      np.cos(new AdjFloat(1));
    });
    expect(getWorkingTape()).toBe(original);
    expect(tape.blocks.length).toBe(1);
    const other = new Tape();
    setWorkingTape(other);
    try {
      np.cos(new AdjFloat(1));
      expect(other.blocks.length).toBe(1);
    } finally {
      setWorkingTape(original);
    }
  });

  it("tape.clear, tags (getBlocks), timesteps", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const x = new AdjFloat(0.5);
      const y = tape.withTag("first", () => np.sin(x));
      tape.endTimestep();
      np.exp(y);
    });
    expect(tape.blocks.length).toBe(2);
    expect(tape.getBlocks("first").map((b) => b.name)).toEqual(["sin"]);
    expect(tape.getBlocks().length).toBe(2);
    expect(tape.timesteps).toBe(2);
    expect(tape.timestepBlocks(1).map((b) => b.name)).toEqual(["exp"]);
    tape.clear();
    expect(tape.blocks.length).toBe(0);
    expect(tape.timesteps).toBe(1);
  });

  it("tape.optimize keeps only blocks between controls and outputs, leaving the original intact", () => {
    const tape = new Tape();
    const { x, J } = withTape(tape, () => {
      const x = new AdjFloat(0.5);
      const c = np.exp(new AdjFloat(2)); // independent of x
      const unused = np.sin(x); // not needed by J
      const J = np.multiply(np.cos(x), c);
      np.tanh(J); // after J
      return { x, J, unused };
    });
    expect(tape.blocks.length).toBe(5);
    const small = tape.optimize({ controls: [new Control(x)], outputs: [J] });
    expect(small.blocks.map((b) => b.name)).toEqual(["cos", "multiply"]);
    expect(tape.blocks.length).toBe(5);
    const gradient = computeGradient(J, new Control(x), { tape: small }) as AdjFloat;
    expect(gradient.value).toBeCloseTo(-Math.sin(0.5) * Math.exp(2), 12);
  });
});
