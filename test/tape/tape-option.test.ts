/**
 * @file `{ tape }` on every entry point that records outside `np`: overloadFunction, pointMap, solve,
 * nonlinearSolve and the sparse operations record their block on the given tape (through `recordBlock`),
 * never on the working tape, and the derivative taken on that tape is right.
 */
import {
  AdjFloat,
  Control,
  computeGradient,
  getWorkingTape,
  InvalidArgumentError,
  np,
  overloadFunction,
  pointMap,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import {
  CsrMatrix,
  matvec,
  nonlinearSolve,
  solve,
  sparseFromValues,
  sparseValues,
  transpose,
} from "tsadjoint/solve";
import { describe, expect, it } from "vitest";

type NDArray = InstanceType<typeof np.NDArray>;

/** Runs `record` and checks that it added `count` blocks to `tape` and none to the working tape. */
function recordsOn<T>(tape: Tape, count: number, record: () => T): T {
  const working = getWorkingTape();
  const before = working.blocks.length;
  const result = record();
  expect(tape.blocks.length).toBe(count);
  expect(working.blocks.length).toBe(before);
  return result;
}

describe("{ tape } on the recording entry points outside np", () => {
  it("overloadFunction(fn, { vjp, tape }) records each call on that tape", () => {
    const tape = new Tape();
    const triple = overloadFunction((x: number) => 3 * x, {
      jvp: ({ tangents: [dx] }) => 3 * (dx as number),
      vjp: ({ cotangents: [ybar] }) => [3 * (ybar as number)],
      tape,
    });
    const x = new AdjFloat(2);
    const y = recordsOn(tape, 1, () => triple(x));
    expect((computeGradient(y, new Control(x), { tape }) as AdjFloat).value).toBe(3);
  });

  it("pointMap(shapes, out, { tape }) records its one block on that tape (f's ops go to the nested tape)", () => {
    const tape = new Tape();
    const squares = pointMap([[-1]], [-1], { bare: true, tape })((u: NDArray) => np.square(u));
    const u = np.array([1, 2, 3]);
    const q = recordsOn(tape, 1, () => squares(u));
    const g = computeGradient(
      withTape(tape, () => np.sum(q)),
      new Control(u),
      { tape },
    ) as NDArray;
    expect(Array.from(g.data)).toEqual([2, 4, 6]);
  });

  it("solve(A, b, { tape }) and nonlinearSolve(F, u0, params, { tape })", () => {
    const tape = new Tape();
    const A = np.array([
      [2, 0],
      [0, 4],
    ]);
    const b = np.array([1, 2]);
    const x = recordsOn(tape, 1, () => solve(A, b, { tape }));
    expect(Array.from(x.data)).toEqual([0.5, 0.5]);
    const g = computeGradient(
      withTape(tape, () => np.sum(x)),
      new Control(b),
      { tape },
    ) as NDArray;
    expect(Array.from(g.data)).toEqual([0.5, 0.25]);

    const other = new Tape();
    const a = np.array([4, 9]);
    const u = recordsOn(other, 1, () =>
      nonlinearSolve((v, p) => np.subtract(np.square(v), p as NDArray), np.ones([2]), [a] as const, {
        tape: other,
      }),
    );
    const du = computeGradient(
      withTape(other, () => np.sum(u)),
      new Control(a),
      { tape: other },
    ) as NDArray;
    expect(du.data[0]).toBeCloseTo(0.25, 12);
    expect(du.data[1]).toBeCloseTo(1 / 6, 12);
  });

  it("sparse operations: sparseFromValues, transpose, matvec, sparseValues take { tape }", () => {
    const tape = new Tape();
    const pattern = CsrMatrix.fromDense(2, 2, [1, 1, 0, 1]);
    const values = np.array([1, 2, 3]);
    const x = np.array([1, 1]);
    const y = recordsOn(tape, 4, () => {
      const A = sparseFromValues(pattern, values, { tape });
      const At = transpose(A, { tape });
      sparseValues(At, { tape });
      return matvec(At, x, { tape });
    });
    // A = [[1, 2], [0, 3]], A^T x = [1, 5]
    expect(Array.from(y.data)).toEqual([1, 5]);
    const g = computeGradient(
      withTape(tape, () => np.sum(y)),
      new Control(values),
      { tape },
    ) as NDArray;
    expect(Array.from(g.data)).toEqual([1, 1, 1]);
  });

  it("a tape option that is not a Tape is an InvalidArgumentError; with annotation off nothing is recorded", () => {
    const bad = { tape: {} as Tape };
    expect(() => pointMap([[-1]], [-1], { bare: true, ...bad })).toThrow(InvalidArgumentError);
    expect(() => overloadFunction((x: number) => x, bad)).toThrow(InvalidArgumentError);
    expect(() => solve(np.eye(2), np.ones([2]), bad)).toThrow(InvalidArgumentError);
    expect(() => matvec(CsrMatrix.identity(2), np.ones([2]), bad)).toThrow(InvalidArgumentError);
    const tape = new Tape();
    stopAnnotating(() => solve(np.eye(2), np.ones([2]), { tape }));
    expect(tape.blocks.length).toBe(0);
  });
});
