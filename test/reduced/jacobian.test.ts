import fc from "fast-check";
import {
  AdjFloat,
  Block,
  Control,
  ControlNotOnTapeError,
  np,
  type OverloadedValue,
  type RecomputeContext,
  recordBlock,
  stopAnnotating,
  Tape,
  type TlmContext,
  withTape,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { computeJacobianAction, computeJacobianMatrix } from "../../src/reduced/jacobian.js";
import { ReducedFunction } from "../../src/reduced/reduced-function.js";
import { type JacobianContext, jacobianPropagation } from "../../src/tape/capabilities.js";
import { DenseJacobian, IDENTITY, type JacobianValue } from "../../src/tape/jacobian.js";

type NDArray = InstanceType<typeof np.NDArray>;
type Raw = number | NDArray;

function mulberry(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rawOf(value: OverloadedValue): Raw {
  return value.raw() as Raw;
}

function sizeOf(raw: Raw): number {
  return typeof raw === "number" ? 1 : raw.size;
}

function flat(raw: Raw): number[] {
  return typeof raw === "number" ? [raw] : Array.from(raw.data);
}

function oneHot(like: Raw, q: number): Raw {
  if (typeof like === "number") return 1;
  const data = new Float64Array(like.size);
  data[q] = 1;
  return new np.NDArray(data, like.shape);
}

function zeroLike(like: Raw): Raw {
  return typeof like === "number" ? 0 : new np.NDArray(new Float64Array(like.size), like.shape);
}

function expectClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tolerance * scale);
}

/** A random problem: controls of shapes broadcasting to a base shape, outputs from elementwise ops. */
function randomProblem(seed: number, controlCount: number, outputCount: number) {
  const next = mulberry(seed);
  const rank = Math.floor(next() * 3);
  const base = Array.from({ length: rank }, () => 1 + Math.floor(next() * 3));
  const controls: OverloadedValue[] = [];
  for (let c = 0; c < controlCount; c++) {
    if (next() < 0.25) {
      controls.push(new AdjFloat(0.3 + next()));
      continue;
    }
    const keep = Math.floor(next() * (rank + 1));
    const shape = base.slice(rank - keep).map((n) => (next() < 0.3 ? 1 : n));
    const data = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.2 + next());
    controls.push(new np.NDArray(data, shape));
  }
  const tape = new Tape();
  const outputs = withTape(tape, () => {
    const list: OverloadedValue[] = [];
    for (let o = 0; o < outputCount; o++) {
      const a = controls[Math.floor(next() * controlCount)] as NDArray;
      const b = controls[Math.floor(next() * controlCount)] as NDArray;
      const kind = Math.floor(next() * 4);
      let out: OverloadedValue;
      if (kind === 0) out = np.multiply(np.sin(a), b);
      else if (kind === 1) out = np.add(np.exp(np.multiply(a, 0.5)), np.square(b));
      else if (kind === 2) out = np.divide(np.tanh(a), np.add(b, 2));
      else out = np.multiply(np.multiply(a, b), np.cos(a));
      list.push(out);
    }
    // make sure every control is used by some output
    list[0] = controls.reduce<OverloadedValue>(
      (sum, c) => np.add(sum as NDArray, np.sin(c as NDArray)),
      list[0],
    );
    return list;
  });
  return { tape, controls, outputs };
}

describe("Jacobian matrix", () => {
  it("equals stacked jacAction columns and stacked adjJacAction rows (several outputs and controls)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, controlCount, outputCount) => {
          const { tape, controls, outputs } = randomProblem(seed, controlCount, outputCount);
          const rf = new ReducedFunction(
            outputs,
            controls.map((c) => new Control(c)),
            { tape },
          );
          const J = rf.jacMatrix();
          const controlRaws = controls.map(rawOf);
          const outputRaws = outputs.map(rawOf);
          // shapes: [...outShape, ...controlShape]
          outputRaws.forEach((y, i) => {
            controlRaws.forEach((m, j) => {
              const yShape = typeof y === "number" ? [] : [...y.shape];
              const mShape = typeof m === "number" ? [] : [...m.shape];
              expect([...J[i][j].shape]).toEqual([...yShape, ...mShape]);
            });
          });
          // columns: J[i][j][:, q] = jacAction(e_q in control j)[i]
          controlRaws.forEach((m, j) => {
            for (let q = 0; q < sizeOf(m); q++) {
              const direction = controlRaws.map((c, k) => (k === j ? oneHot(c, q) : zeroLike(c)));
              const action = rf.jacAction(direction);
              outputRaws.forEach((y, i) => {
                const columns = sizeOf(m);
                const column = Array.from({ length: sizeOf(y) }, (_, r) => J[i][j].data[r * columns + q]);
                expectClose(flat(rawOf(action[i])), column);
              });
            }
          });
          // rows: J[i][j][r, :] = adjJacAction(e_r in output i)[j]
          outputRaws.forEach((y, i) => {
            for (let r = 0; r < sizeOf(y); r++) {
              const seeds = outputRaws.map((o, k) => (k === i ? oneHot(o, r) : undefined));
              const rows = rf.adjJacAction(seeds);
              controlRaws.forEach((m, j) => {
                const columns = sizeOf(m);
                const row = Array.from({ length: columns }, (_, q) => J[i][j].data[r * columns + q]);
                expectClose(flat(rawOf(rows[j])), row);
              });
            }
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("computeJacobianMatrix and computeJacobianAction take { tape } and shape results like the arguments", () => {
    const tape = new Tape();
    const x = np.array([0.5, 1.5, -0.25]);
    const s = new AdjFloat(2);
    const [y, z] = withTape(tape, () => [np.multiply(np.sin(x), s), np.square(s)]);
    const single = computeJacobianMatrix(y, new Control(x), { tape });
    expect([...single.shape]).toEqual([3, 3]);
    const diagonal = [0, 1, 2].map((i) => single.get(i, i));
    expectClose(
      diagonal,
      [0.5, 1.5, -0.25].map((v) => 2 * Math.cos(v)),
    );
    expect(single.get(0, 1)).toBe(0);
    const blocks = computeJacobianMatrix([y, z], [new Control(x), new Control(s)], { tape });
    expect([...blocks[0][1].shape]).toEqual([3]);
    expectClose(Array.from(blocks[0][1].data), [0.5, 1.5, -0.25].map(Math.sin));
    expect([...blocks[1][1].shape]).toEqual([]);
    expect(blocks[1][1].item()).toBeCloseTo(4, 14);
    expect(Array.from(blocks[1][0].data)).toEqual([0, 0, 0]);
    const action = computeJacobianAction([y, z], [new Control(x), new Control(s)], [np.array([1, 0, 0]), 1], {
      tape,
    }) as OverloadedValue[];
    expectClose(flat(rawOf(action[0])), [2 * Math.cos(0.5) + Math.sin(0.5), Math.sin(1.5), Math.sin(-0.25)]);
    expect((action[1] as AdjFloat).value).toBeCloseTo(4, 14);
    expect(() => computeJacobianMatrix(y, new Control(np.array([1])), { tape })).toThrow(
      ControlNotOnTapeError,
    );
  });

  it("an output that is the control gets the identity; controls on intermediate values are held fixed", () => {
    const tape = new Tape();
    const x = np.array([0.1, 0.2]);
    const [mid, out] = withTape(tape, () => {
      const m = np.sin(x);
      return [m, np.multiply(m, x)];
    });
    const blocks = computeJacobianMatrix([x, out], [new Control(x), new Control(mid)], {
      tape,
    }) as NDArray[][];
    expect(Array.from(blocks[0][0].data)).toEqual([1, 0, 0, 1]);
    // d out / d x with mid held fixed: diag(mid)
    expectClose(Array.from(blocks[1][0].data), [Math.sin(0.1), 0, 0, Math.sin(0.2)]);
    expectClose(Array.from(blocks[1][1].data), [0.1, 0, 0, 0.2]);
  });

  it("uses a block's evaluateJacobian when it has one, the column fallback otherwise", () => {
    let jacobianCalls = 0;
    let tlmCalls = 0;
    /** y = 3 x with an explicit Jacobian rule. */
    class Triple extends Block {
      recompute({ inputs }: RecomputeContext) {
        return [np.multiply(inputs[0] as NDArray, 3)];
      }
      override evaluateTlm({ tlmInputs }: TlmContext) {
        tlmCalls++;
        return [tlmInputs[0] === undefined ? undefined : np.multiply(tlmInputs[0] as NDArray, 3)];
      }
      get [jacobianPropagation](): true {
        return true;
      }
      evaluateJacobian({ jacobianInputs, control }: JacobianContext): JacobianValue[] | undefined {
        jacobianCalls++;
        const jacobian = jacobianInputs[0];
        if (jacobian !== IDENTITY) return undefined; // fall back for anything but the identity
        const m = control as NDArray;
        const data = new Float64Array(m.size * m.size);
        for (let i = 0; i < m.size; i++) data[i * m.size + i] = 3;
        return [new DenseJacobian(new np.NDArray(data, [...m.shape, ...m.shape]), m.shape, m.shape)];
      }
    }
    const triple = (x: NDArray) => {
      const block = new Triple();
      block.addDependency(x);
      const y = block.addOutput(stopAnnotating(() => np.multiply(x, 3)));
      recordBlock(block);
      return y;
    };
    const tape = new Tape();
    const x = np.array([1, 2]);
    const y = withTape(tape, () => triple(triple(x)));
    const J = computeJacobianMatrix(y, new Control(x), { tape });
    expect(Array.from(J.data)).toEqual([9, 0, 0, 9]);
    expect(jacobianCalls).toBe(2);
    expect(tlmCalls).toBe(2); // the second block declined: one TLM per control component
  });
});
