import {
  AdjFloat,
  Control,
  computeGradient,
  getWorkingTape,
  InvalidArgumentError,
  np,
  Tape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import type { NDArray } from "../../src/values/ndarray.js";

const m = () =>
  np.array([
    [2, 0.5],
    [0.5, 3],
  ]);
const v = () => np.array([0.3, -0.7]);

/** Every recording np function called with `{ tape }` (in its options object or a trailing argument). */
const calls: [string, (tape: Tape) => unknown][] = [
  ["sin", (tape) => np.sin(v(), { tape })],
  ["exp (AdjFloat)", (tape) => np.exp(new AdjFloat(1), { tape })],
  ["add", (tape) => np.add(v(), 1, { tape })],
  ["maximum", (tape) => np.maximum(v(), v(), { tape })],
  ["greater", (tape) => np.greater(v(), 0, { tape })],
  ["logical_not", (tape) => np.logical_not(v(), { tape })],
  ["sign", (tape) => np.sign(v(), { tape })],
  ["isfinite", (tape) => np.isfinite(v(), { tape })],
  ["where", (tape) => np.where([1, 0], v(), 0, { tape })],
  ["clip", (tape) => np.clip(v(), 0, 1, { tape })],
  ["sum", (tape) => np.sum(v(), { tape })],
  ["mean", (tape) => np.mean(m(), { axis: 0, tape })],
  ["prod", (tape) => np.prod(v(), { tape })],
  ["max", (tape) => np.max(v(), { tape })],
  ["min", (tape) => np.min(v(), { tape })],
  ["norm", (tape) => np.norm(v(), { tape })],
  ["cumsum", (tape) => np.cumsum(v(), { tape })],
  ["reshape", (tape) => np.reshape(v(), [2, 1], { tape })],
  ["ravel", (tape) => np.ravel(m(), { tape })],
  ["expand_dims", (tape) => np.expand_dims(v(), 0, { tape })],
  ["squeeze", (tape) => np.squeeze(np.zeros([1, 2]), { tape })],
  ["transpose", (tape) => np.transpose(m(), { tape })],
  ["moveaxis", (tape) => np.moveaxis(m(), 0, 1, { tape })],
  ["swapaxes", (tape) => np.swapaxes(m(), 0, 1, { tape })],
  ["concatenate", (tape) => np.concatenate([v(), v()], { tape })],
  ["stack", (tape) => np.stack([v(), v()], { tape })],
  ["broadcast_to", (tape) => np.broadcast_to(v(), [3, 2], { tape })],
  ["take", (tape) => np.take(v(), [1], { tape })],
  ["slice", (tape) => np.slice(v(), [{ start: 1 }], { tape })],
  ["diagonal", (tape) => np.diagonal(m(), { tape })],
  ["flip", (tape) => np.flip(v(), { tape })],
  ["matmul", (tape) => np.matmul(m(), v(), { tape })],
  ["dot", (tape) => np.dot(v(), v(), { tape })],
  ["inner", (tape) => np.inner(v(), v(), { tape })],
  ["outer", (tape) => np.outer(v(), v(), { tape })],
  ["vdot", (tape) => np.vdot(v(), v(), { tape })],
  ["tensordot", (tape) => np.tensordot(m(), m(), 2, { tape })],
  ["einsum", (tape) => np.einsum("ij,j->i", m(), v(), { tape })],
  ["trace", (tape) => np.trace(m(), 0, 0, 1, { tape })],
  ["linalg.inv", (tape) => np.linalg.inv(m(), { tape })],
  ["linalg.det", (tape) => np.linalg.det(m(), { tape })],
  ["linalg.slogdet", (tape) => np.linalg.slogdet(m(), { tape })],
  ["linalg.cholesky", (tape) => np.linalg.cholesky(m(), { tape })],
  ["linalg.solve_triangular", (tape) => np.linalg.solve_triangular(m(), v(), { lower: true, tape })],
  ["linalg.solve", (tape) => np.linalg.solve(m(), v(), { tape })],
  ["linalg.norm", (tape) => np.linalg.norm(m(), { tape })],
];

describe("{ tape } on np functions", () => {
  for (const [name, call] of calls) {
    it(`np.${name} records on the given tape, not the working tape`, () => {
      const working = getWorkingTape();
      const before = working.blocks.length;
      const tape = new Tape();
      call(tape);
      expect(tape.blocks.length).toBeGreaterThan(0);
      expect(working.blocks.length).toBe(before);
    });
  }

  it("a derivative on the given tape is right", () => {
    const tape = new Tape();
    const x = np.array([0.5, -1]);
    const J = np.sum(np.square(np.sin(x, { tape }), { tape }), { tape });
    const g = computeGradient(J, new Control(x), { tape }) as NDArray;
    expect(g.data[0]).toBeCloseTo(2 * Math.sin(0.5) * Math.cos(0.5), 14);
    expect(g.data[1]).toBeCloseTo(2 * Math.sin(-1) * Math.cos(-1), 14);
  });

  it("a tape that is not a Tape, or another key, is an InvalidArgumentError", () => {
    expect(() => np.sin(v(), { tape: {} as Tape })).toThrow(InvalidArgumentError);
    expect(() => np.sin(v(), { tapes: new Tape() } as never)).toThrow(/did you mean "tape"/);
  });
});
