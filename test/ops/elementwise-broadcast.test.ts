/**
 * The binary elementwise blocks read broadcast operands in place (rows of a two-level walk for the
 * [n, 1] x [n, k] and [k] x [n, k] patterns and their mixes, blocks of the general N-d broadcast) and
 * sum each operand's adjoint and second-order adjoint straight into its shape. Every mode must give the
 * numbers of the same rule applied to operands and tangents broadcast to the full shape first, with the
 * full-size results summed back entry by entry: bit for bit on the two-level patterns (the same formulas,
 * the same sums in the same order), to 1e-14 relative on the general N-d walk.
 */
import { AdjFloat, NDArray, np, Tape, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";
import { binaryRules } from "../../src/ops/elementwise-rules.js";
import type { Block } from "../../src/tape/block.js";

type Operand = number | AdjFloat | NDArray;
type Raw = number | NDArray;
const binaryFunctions = np as unknown as Record<string, (a: Operand, b: Operand) => Operand>;

/** A small deterministic generator (the test's own). */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** The broadcast shape of two shapes (NumPy rules; the inputs here always broadcast). */
function broadcastShape(sa: readonly number[], sb: readonly number[]): number[] {
  const ndim = Math.max(sa.length, sb.length);
  return Array.from({ length: ndim }, (_, d) => {
    const x = sa[d - (ndim - sa.length)] ?? 1;
    const y = sb[d - (ndim - sb.length)] ?? 1;
    return x === 1 ? y : x;
  });
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

/** Entries drawn from [low, high], some exactly 0 when the range holds 0 and `zeros`. */
function draw(rng: () => number, size: number, [low, high]: readonly [number, number], zeros: boolean) {
  return Float64Array.from({ length: size }, () =>
    zeros && low <= 0 && high >= 0 && rng() < 0.2 ? 0 : low + (high - low) * rng(),
  );
}

/** The flat index in `small` (right-aligned, size-1 axes broadcast) of entry i of the full shape. */
function sourceIndex(small: readonly number[], full: readonly number[], i: number): number {
  let index = 0;
  let stride = 1;
  let rest = i;
  for (let d = full.length - 1; d >= 0; d--) {
    const position = rest % full[d];
    rest = Math.floor(rest / full[d]);
    const k = d - (full.length - small.length);
    if (k >= 0) {
      if (small[k] !== 1) index += position * stride;
      stride *= small[k];
    }
  }
  return index;
}

/** `x` (of shape `small`) broadcast to `full`, as a fresh array. */
function spread(x: NDArray, full: readonly number[]): NDArray {
  const data = new Float64Array(sizeOf(full));
  for (let i = 0; i < data.length; i++) data[i] = x.data[sourceIndex(x.shape, full, i)];
  return new NDArray(data, [...full]);
}

/** Full-size values summed back to `small`, entry by entry in order from 0. */
function sumBack(full: NDArray, small: readonly number[]): NDArray {
  const out = new Float64Array(sizeOf(small));
  for (let i = 0; i < full.data.length; i++) out[sourceIndex(small, full.shape, i)] += full.data[i];
  return new NDArray(out, [...small]);
}

function onlyBlock(record: () => unknown): Block {
  const tape = new Tape();
  withTape(tape, record);
  return tape.blocks[tape.blocks.length - 1];
}

type Fused = { evaluateAdjAndHessian(context: unknown): readonly [readonly Raw[], readonly Raw[]] };

/** The results of every mode of a block, keyed by mode and seed combination. */
function everyMode(block: Block, dots: Raw[], zbar: Raw, zhat: Raw): Map<string, Raw | undefined> {
  const inputs = block.dependencies.map((d) => d.saved as Raw);
  const outputs = block.outputs.map((o) => o.saved as Raw);
  const results = new Map<string, Raw | undefined>();
  results.set("values", block.recompute({ inputs })[0] as Raw);
  const tangents: (Raw | undefined)[][] = [
    [dots[0], dots[1]],
    [dots[0], undefined],
    [undefined, dots[1]],
  ];
  for (const [c, tlmInputs] of tangents.entries())
    results.set(`tlm ${c}`, block.evaluateTlm({ inputs, outputs, tlmInputs })[0] as Raw | undefined);
  const neededs = [
    [true, true],
    [true, false],
    [false, true],
  ];
  for (const needed of neededs) {
    const adjoint = block.evaluateAdj({ inputs, outputs, adjInputs: [zbar], needed });
    for (let i = 0; i < 2; i++) if (needed[i]) results.set(`adj ${needed} ${i}`, adjoint[i] as Raw);
    for (const [c, tlmInputs] of [...tangents, [undefined, undefined]].entries()) {
      for (const [seedName, adjInputs, hessianInputs] of [
        ["both", [zbar], [zhat]],
        ["bar", [zbar], [undefined]],
        ["hat", [undefined], [zhat]],
      ] as const) {
        const context = { inputs, outputs, adjInputs, hessianInputs, tlmInputs, needed };
        const key = `${needed} tlm ${c} ${seedName}`;
        const hessian = block.evaluateHessian(context);
        const [fusedAdj, fusedHess] = (block as unknown as Fused).evaluateAdjAndHessian(context);
        for (let i = 0; i < 2; i++) {
          if (!needed[i]) continue;
          results.set(`hessian ${key} ${i}`, hessian[i] as Raw);
          results.set(`fused adjoint ${key} ${i}`, fusedAdj[i]);
          results.set(`fused hessian ${key} ${i}`, fusedHess[i]);
        }
      }
    }
  }
  return results;
}

/**
 * Compares every mode of f(a, b) (a of shape `sa`, b of shape `sb`) with the same rule on operands and
 * tangents broadcast first; results of an operand summed back to its shape. `exact`: bit for bit.
 */
function checkPair(name: string, sa: number[], sb: number[], seed: number, exact: boolean): void {
  const rule = binaryRules[name as keyof typeof binaryRules];
  const rng = generator(seed);
  const full = broadcastShape(sa, sb);
  const a = new NDArray(draw(rng, sizeOf(sa), rule.domain[0], true), sa);
  const b = new NDArray(draw(rng, sizeOf(sb), rule.domain[1], true), sb);
  const adot = new NDArray(draw(rng, sizeOf(sa), [-1, 1], true), sa);
  const bdot = new NDArray(draw(rng, sizeOf(sb), [-1, 1], true), sb);
  const zbar = new NDArray(draw(rng, sizeOf(full), [-1, 1], true), full);
  const zhat = new NDArray(draw(rng, sizeOf(full), [-1, 1], true), full);
  const actual = everyMode(
    onlyBlock(() => binaryFunctions[name](a, b)),
    [adot, bdot],
    zbar,
    zhat,
  );
  const reference = everyMode(
    onlyBlock(() => binaryFunctions[name](spread(a, full), spread(b, full))),
    [spread(adot, full), spread(bdot, full)],
    zbar,
    zhat,
  );
  expect([...actual.keys()]).toEqual([...reference.keys()]);
  for (const [key, value] of actual) {
    const expectedFull = reference.get(key);
    if (value === undefined || expectedFull === undefined) {
      expect(value, key).toBe(expectedFull);
      continue;
    }
    const operandShape = key.endsWith(" 0") ? sa : key.endsWith(" 1") ? sb : full;
    const isOperandResult = key.startsWith("adj") || key.startsWith("hessian") || key.startsWith("fused");
    const expected = isOperandResult
      ? sumBack(expectedFull as NDArray, operandShape)
      : (expectedFull as NDArray);
    const got = value as NDArray;
    expect(got.shape, key).toEqual(expected.shape);
    for (let i = 0; i < expected.data.length; i++) {
      const x = got.data[i];
      const y = expected.data[i];
      if (exact) {
        if (!Object.is(x, y)) expect(`${key}[${i}] = ${x}`).toBe(`${key}[${i}] = ${y}`);
      } else if (!(Number.isNaN(x) && Number.isNaN(y))) {
        expect(Math.abs(x - y), `${key}[${i}]`).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(y)));
      }
    }
  }
}

const rules = ["add", "subtract", "multiply", "divide", "power", "hypot", "maximum"];

describe("np binary functions read broadcast operands in place", () => {
  const twoLevel: [number[], number[]][] = [
    [
      [6, 1],
      [6, 3],
    ],
    [
      [6, 3],
      [6, 1],
    ],
    [[3], [5, 3]],
    [[5, 3], [3]],
    [
      [1, 3],
      [5, 3],
    ],
    [
      [6, 1],
      [1, 4],
    ],
    [
      [1, 4],
      [6, 1],
    ],
    [
      [4, 1, 1],
      [4, 2, 3],
    ],
    [
      [2, 3],
      [4, 2, 3],
    ],
    [
      [5, 2],
      [5, 1],
    ],
  ];
  it("two-level patterns ([n, 1] x [n, k], [k] x [n, k] and mixes): every mode bit for bit as broadcast first", () => {
    let seed = 1;
    for (const name of rules) for (const [sa, sb] of twoLevel) checkPair(name, sa, sb, seed++, true);
  });

  it("general N-d broadcasts (walked block by block): every mode to 1e-14 relative of broadcasting first", () => {
    const general: [number[], number[]][] = [
      [
        [2, 1, 4],
        [2, 3, 4],
      ],
      [
        [2, 3, 1],
        [1, 3, 4],
      ],
      [
        [3, 1, 2, 1],
        [3, 4, 2, 2],
      ],
    ];
    let seed = 100;
    for (const name of rules) for (const [sa, sb] of general) checkPair(name, sa, sb, seed++, false);
  });

  it("np.multiply(x, x) gives both operands the numbers of two distinct operands, computed once", () => {
    const rng = generator(7);
    for (const shape of [[4, 3], [5, 1], [6]]) {
      const x = new NDArray(draw(rng, sizeOf(shape), [-2, 2], true), shape);
      const copy = new NDArray(x.data.slice(), shape);
      const dot = new NDArray(draw(rng, sizeOf(shape), [-1, 1], true), shape);
      const zbar = new NDArray(draw(rng, sizeOf(shape), [-1, 1], true), shape);
      const zhat = new NDArray(draw(rng, sizeOf(shape), [-1, 1], true), shape);
      const same = everyMode(
        onlyBlock(() => np.multiply(x, x)),
        [dot, dot],
        zbar,
        zhat,
      );
      const distinct = everyMode(
        onlyBlock(() => np.multiply(x, copy)),
        [dot, dot],
        zbar,
        zhat,
      );
      for (const [key, value] of same) {
        const expected = distinct.get(key);
        if (value === undefined || expected === undefined) expect(value, key).toBe(expected);
        else expect(Array.from((value as NDArray).data), key).toEqual(Array.from((expected as NDArray).data));
      }
    }
  });

  it("an AdjFloat exponent's adjoint and second-order adjoint are single sums over the array", () => {
    const x = new NDArray(Float64Array.of(0.5, 1, 2, 3, 0.25, 4), [3, 2]);
    const e = new AdjFloat(1.5);
    const block = onlyBlock(() => np.power(x, e));
    const inputs = block.dependencies.map((d) => d.saved as Raw);
    const outputs = block.outputs.map((o) => o.saved as Raw);
    const zbar = new NDArray(Float64Array.of(1, -1, 0.5, 2, 0, 1), [3, 2]);
    const context = {
      inputs,
      outputs,
      adjInputs: [zbar],
      hessianInputs: [zbar],
      tlmInputs: [undefined, 0.5],
      needed: [false, true],
    };
    const [adjoint, hessian] = (block as unknown as Fused).evaluateAdjAndHessian(context);
    let bar = 0;
    let hat = 0;
    for (let i = 0; i < 6; i++) {
      const z = x.data[i] ** 1.5;
      const db = z * Math.log(x.data[i]);
      bar += db * zbar.data[i];
      hat += db * zbar.data[i] + zbar.data[i] * z * Math.log(x.data[i]) ** 2 * 0.5;
    }
    expect(typeof adjoint[1]).toBe("number");
    expect(adjoint[1] as number).toBeCloseTo(bar, 12);
    expect(hessian[1] as number).toBeCloseTo(hat, 12);
  });
});
