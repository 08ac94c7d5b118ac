import {
  AdjFloat,
  assertRule,
  Control,
  checkRule,
  computeGradient,
  computeHessian,
  defineLinear,
  InvalidArgumentError,
  LinearBlock,
  np,
  ShapeMismatchError,
  stopAnnotating,
  Tape,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";

type NDArray = InstanceType<typeof np.NDArray>;

/** y_i = x_0 + ... + x_i on a 1-D array (plain loops: apply and transpose are the user's code). */
function runningSum(x: NDArray): NDArray {
  const out = new Float64Array(x.size);
  let total = 0;
  for (let i = 0; i < out.length; i++) out[i] = total += x.data[i];
  return new np.NDArray(out, x.shape);
}

/** xbar_i = ybar_i + ... + ybar_{n-1}: the transpose of runningSum. */
function reversedRunningSum(y: NDArray): NDArray {
  const out = new Float64Array(y.size);
  let total = 0;
  for (let i = out.length - 1; i >= 0; i--) out[i] = total += y.data[i];
  return new np.NDArray(out, y.shape);
}

const cumulative = defineLinear({ name: "cumulative", apply: runningSum, transpose: reversedRunningSum });

/** A product with a fixed matrix, the matrix given per call; apply and transpose use np (unrecorded). */
const times = defineLinear<NDArray>({
  name: "times",
  apply: (x, A) => np.matmul(A, x),
  transpose: (y, A) => np.matmul(np.transpose(A), y),
  outputShape: (_shape, A) => [A.shape[0]],
});

const A = np.array([
  [1, -2, 0.5],
  [0.3, 4, -1],
]);

describe("defineLinear", () => {
  it("a user cumulative sum passes the rule checker alone and inside nonlinear functions", () => {
    assertRule((x) => cumulative(x as NDArray), [np.array([0.4, -1.2, 2, 0.7])]);
    const report = assertRule(
      (x) => np.sum(np.sin(cumulative(np.square(x as NDArray)))),
      [np.array([0.4, -1.2, 2, 0.7])],
    );
    expect(report.rateR2).toBeGreaterThan(2.9);
  });

  it("a fixed matrix product with per-call parameters passes the rule checker", () => {
    assertRule((x) => times(x as NDArray, A), [np.array([0.5, -1, 2])]);
    assertRule((x) => np.sum(np.exp(times(np.sin(x as NDArray), A))), [np.array([0.5, -1, 2])]);
  });

  it("records one block under its name, with apply's np calls unrecorded", () => {
    const tape = new Tape();
    const x = np.array([1, 2, 3]);
    const y = withTape(tape, () => times(x, A));
    expect(tape.blocks.map((b) => b.name)).toEqual(["times"]);
    expect(tape.blocks[0]).toBeInstanceOf(LinearBlock);
    expect(y.toArray()).toEqual([1 * 1 - 2 * 2 + 0.5 * 3, 0.3 + 8 - 3]);
  });

  it("gives the gradient A^T w and the Hessian A^T diag(-sin(Ax)) A v of sum(sin(A x))", () => {
    const tape = new Tape();
    const x = np.array([0.5, -1, 2]);
    const J = withTape(tape, () => np.sum(np.sin(times(x, A))));
    const Ax = [0, 1].map((i) => A.data[3 * i] * 0.5 - A.data[3 * i + 1] + 2 * A.data[3 * i + 2]);
    const gradient = computeGradient(J, new Control(x), { tape }) as NDArray;
    const v = [0.2, -0.7, 1.1];
    const hessian = computeHessian(J, new Control(x), np.array(v), { tape }) as NDArray;
    for (let j = 0; j < 3; j++) {
      let g = 0;
      let h = 0;
      for (let i = 0; i < 2; i++) {
        const Av = A.data[3 * i] * v[0] + A.data[3 * i + 1] * v[1] + A.data[3 * i + 2] * v[2];
        g += A.data[3 * i + j] * Math.cos(Ax[i]);
        h -= A.data[3 * i + j] * Math.sin(Ax[i]) * Av;
      }
      expect(gradient.data[j]).toBeCloseTo(g, 13);
      expect(hessian.data[j]).toBeCloseTo(h, 13);
    }
  });

  it("views an AdjFloat input as a 0-d array and gives it a number adjoint", () => {
    const scale = defineLinear<number>({
      name: "scale",
      apply: (x, c) => np.multiply(x, c) as NDArray,
      transpose: (y, c) => np.multiply(y, c) as NDArray,
    });
    const tape = new Tape();
    const x = new AdjFloat(1.5);
    const y = withTape(tape, () => np.sum(np.square(scale(x, 3))));
    const gradient = computeGradient(y, new Control(x), { tape }) as AdjFloat;
    expect(gradient).toBeInstanceOf(AdjFloat);
    expect(gradient.value).toBeCloseTo(2 * 9 * 1.5, 13);
    assertRule((v) => scale(v as AdjFloat, -2), [0.8]);
  });

  it("a wrong transpose fails the dot-product test", () => {
    const wrong = defineLinear({ name: "wrong", apply: runningSum, transpose: runningSum });
    const report = checkRule((x) => wrong(x as NDArray), [np.array([0.4, -1.2, 2])]);
    expect(report.dotProductError).toBeGreaterThan(1e-3);
  });

  it("a result that is the input itself keeps the input's place on the tape", () => {
    const identity = defineLinear({ name: "identity", apply: (x) => x, transpose: (y) => y });
    const tape = new Tape();
    const x = np.array([1, 2]);
    const y = withTape(tape, () => identity(x));
    expect(y).not.toBe(x);
    expect(y.blockVariable).not.toBe(x.blockVariable);
    assertRule((v) => np.sum(np.square(identity(v as NDArray))), [np.array([0.3, -0.9])]);
  });

  it("records on the tape option and not while annotation is off", () => {
    const tape = new Tape();
    cumulative(np.array([1, 2]), undefined, { tape });
    expect(tape.blocks.map((b) => b.name)).toEqual(["cumulative"]);
    const quiet = new Tape();
    const y = withTape(quiet, () => stopAnnotating(() => cumulative(np.array([1, 2]))));
    expect(quiet.blocks).toHaveLength(0);
    expect(y.toArray()).toEqual([1, 3]);
  });

  it("rejects a malformed definition and checks apply against outputShape", () => {
    expect(() => defineLinear({ name: "", apply: runningSum, transpose: runningSum })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      defineLinear({ name: "bad", apply: runningSum } as unknown as Parameters<typeof defineLinear>[0]),
    ).toThrow(/transpose must be a function/);
    const lying = defineLinear<NDArray>({
      name: "lying",
      apply: (x, M) => np.matmul(M, x),
      transpose: (y, M) => np.matmul(np.transpose(M), y),
      outputShape: () => [5],
    });
    expect(() => lying(np.array([1, 2, 3]), A)).toThrow(ShapeMismatchError);
    expect(() => cumulative("x" as unknown as NDArray)).toThrow(/cumulative: expected a number/);
  });

  it("the built-in shape operations and linear reductions are LinearBlocks under their NumPy names", () => {
    const tape = new Tape();
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    withTape(tape, () => {
      np.reshape(x, [3, 2]);
      np.ravel(x);
      np.transpose(x);
      np.swapaxes(x, 0, 1);
      np.broadcast_to(x, [2, 2, 3]);
      np.take(x, [0, 2], { axis: 1 });
      np.diagonal(x);
      np.flip(x, 0);
      np.sum(x, 0);
      np.mean(x);
      np.cumsum(x, 1);
    });
    expect(tape.blocks.map((b) => b.name)).toEqual([
      "reshape",
      "ravel",
      "transpose",
      "swapaxes",
      "broadcast_to",
      "take",
      "diagonal",
      "flip",
      "sum",
      "mean",
      "cumsum",
    ]);
    for (const block of tape.blocks) expect(block).toBeInstanceOf(LinearBlock);
  });
});
