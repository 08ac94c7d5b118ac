import { AdjFloat, InvalidArgumentError, np, Tape, tapeToDot, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";

describe("tapeToDot", () => {
  it("exports blocks as boxes (with their tags) and values as ellipses, in data-flow order", () => {
    const tape = new Tape();
    withTape(tape, () => tape.withTag("t", () => np.sin(new AdjFloat(1))));
    const dot = tapeToDot(tape);
    expect(dot).toMatch(/^digraph "tape" \{/);
    expect(dot).toContain('b0 [shape=box, style=filled, fillcolor="#e8eef7", label="sin\\n[t]"];');
    expect(dot).toContain('v0 [shape=ellipse, label="1.000"];');
    expect(dot).toContain(`v1 [shape=ellipse, label="${Math.sin(1).toPrecision(4)}"];`);
    expect(dot).toContain("v0 -> b0;");
    expect(dot).toContain("b0 -> v1;");
    expect(dot.indexOf("v0 -> b0;")).toBeLessThan(dot.indexOf("b0 -> v1;"));
    expect(dot.endsWith("}")).toBe(true);
  });

  it("labels array values by shape, shares a value read by two blocks, and takes the graph's name", () => {
    const tape = new Tape();
    withTape(tape, () => {
      const x = np.array([1, 2, 3]);
      np.add(np.exp(x), np.sin(x));
    });
    const dot = tapeToDot(tape, "program");
    expect(dot).toMatch(/^digraph "program" \{/);
    expect(dot).toContain('v0 [shape=ellipse, label="[3]"];');
    expect(dot.match(/v0 -> b\d;/g)).toEqual(["v0 -> b0;", "v0 -> b1;"]);
    expect(dot.match(/shape=box/g)?.length).toBe(3);
  });

  it("throws InvalidArgumentError for a non-tape or a non-string name", () => {
    expect(() => tapeToDot({} as Tape)).toThrow(InvalidArgumentError);
    expect(() => tapeToDot(new Tape(), 3 as unknown as string)).toThrow(/name must be a string/);
  });
});
