/**
 * The array fast paths of the binary elementwise functions (flat same-shape / scalar-broadcast loops, inline
 * formulas of add, subtract, multiply, divide and power, power's special exponents) give the numbers of the
 * rules applied entry by entry: values, gradients and Hessian actions to 1e-14 relative per entry.
 */
import fc from "fast-check";
import { AdjFloat, Control, computeGradient, computeHessian, NDArray, np, Tape, withTape } from "tsadjoint";
import { describe, expect, it } from "vitest";
import {
  adjointInto,
  binaryValuesGrid,
  type Grid,
  gridOf,
  partialTimesInto,
  type SecondOrderLoop,
  secondOrderInto,
  tlmBothInto,
} from "../../src/ops/elementwise-loops.js";
import { type BinaryRule, binaryRules, powerRule, unaryRules } from "../../src/ops/elementwise-rules.js";
import { scalarLog, transcendentalBackend, useWasmKernels } from "../../src/ops/kernels/transcendental.js";

type BinaryName = keyof typeof binaryRules;
type Operand = number | AdjFloat | NDArray;
const binaryFunctions = np as unknown as Record<BinaryName, (a: Operand, b: Operand) => Operand>;

/** |actual - expected| <= 1e-14 |expected| (+ a tiny floor for results that are 0 up to rounding). */
function expectClose(actual: number, expected: number, scale = Math.abs(expected)): void {
  if (Number.isNaN(expected)) {
    expect(actual).toBeNaN();
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-14 * scale + 1e-300);
}

function uniform(rng: () => number, [low, high]: readonly [number, number], size: number): Float64Array {
  return Float64Array.from({ length: size }, () => low + (high - low) * rng());
}

/** A small deterministic generator (the test's own, so the reference needs nothing from the library). */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

type BForm = "same shape" | "AdjFloat" | "number" | "column";

/** J = sum(w * z * z) with z = f(a, b): its value, gradient and Hessian action against per-entry formulas. */
function checkAgainstRule(rule: BinaryRule, form: BForm, seed: number, bValue?: number): void {
  const rng = generator(seed);
  const rows = 7;
  const cols = 3;
  const n = rows * cols;
  const aData = uniform(rng, rule.domain[0], n);
  const bEntries = form === "same shape" ? n : form === "column" ? rows : 1;
  const bData =
    bValue !== undefined ? new Float64Array(bEntries).fill(bValue) : uniform(rng, rule.domain[1], bEntries);
  const w = uniform(rng, [-1, 1], n);
  const adot = uniform(rng, [-1, 1], n);
  const bdotData = uniform(rng, [-1, 1], bEntries);
  const bAt = (i: number) =>
    form === "same shape" ? bData[i] : form === "column" ? bData[Math.floor(i / cols)] : bData[0];
  const bdotAt = (i: number) =>
    form === "same shape" ? bdotData[i] : form === "column" ? bdotData[Math.floor(i / cols)] : bdotData[0];

  const tape = new Tape();
  const a = new NDArray(aData, [rows, cols]);
  const b: Operand =
    form === "same shape"
      ? new NDArray(bData, [rows, cols])
      : form === "column"
        ? new NDArray(bData, [rows, 1])
        : form === "AdjFloat"
          ? new AdjFloat(bData[0])
          : bData[0];
  const z = withTape(tape, () => binaryFunctions[rule.name as BinaryName](a, b)) as NDArray;
  const J = withTape(tape, () => np.sum(np.multiply(new NDArray(w, [rows, cols]), np.multiply(z, z))));
  const recordedB = typeof b !== "number";
  const controls = recordedB ? [new Control(a), new Control(b as NDArray)] : [new Control(a)];
  const gradient = computeGradient(J, controls, { tape }) as unknown as Operand[];
  const bdot: Operand =
    form === "same shape"
      ? new NDArray(bdotData, [rows, cols])
      : form === "column"
        ? new NDArray(bdotData, [rows, 1])
        : bdotData[0];
  const direction = recordedB ? [new NDArray(adot, [rows, cols]), bdot] : [new NDArray(adot, [rows, cols])];
  const hessian = computeHessian(J, controls as unknown as [Control], direction as [NDArray], {
    tape,
  }) as unknown as Operand[];

  const bBar = new Float64Array(bEntries);
  const bHat = new Float64Array(bEntries);
  const bBarScale = new Float64Array(bEntries);
  const bHatScale = new Float64Array(bEntries);
  const slot = (i: number) => (form === "same shape" ? i : form === "column" ? Math.floor(i / cols) : 0);
  for (let i = 0; i < n; i++) {
    const ai = aData[i];
    const bi = bAt(i);
    const zi = rule.f(ai, bi);
    expectClose(z.data[i], zi);
    const da = rule.da(ai, bi, zi);
    const db = rule.db(ai, bi, zi);
    const zbar = 2 * w[i] * zi;
    const bd = recordedB ? bdotAt(i) : 0;
    const zdot = da * adot[i] + db * bd;
    const zhat = 2 * w[i] * zdot;
    const aBar = da * zbar;
    const aHat = da * zhat + zbar * (rule.daa(ai, bi, zi) * adot[i] + rule.dab(ai, bi, zi) * bd);
    expectClose((gradient[0] as NDArray).data[i], aBar);
    const hatScale =
      Math.abs(da * zhat) +
      Math.abs(zbar * rule.daa(ai, bi, zi) * adot[i]) +
      Math.abs(zbar * rule.dab(ai, bi, zi) * bd);
    expectClose((hessian[0] as NDArray).data[i], aHat, 4 * hatScale);
    const k = slot(i);
    bBar[k] += db * zbar;
    bBarScale[k] += Math.abs(db * zbar);
    const hb = db * zhat + zbar * (rule.dab(ai, bi, zi) * adot[i] + rule.dbb(ai, bi, zi) * bd);
    bHat[k] += hb;
    bHatScale[k] +=
      Math.abs(db * zhat) +
      Math.abs(zbar * rule.dab(ai, bi, zi) * adot[i]) +
      Math.abs(zbar * rule.dbb(ai, bi, zi) * bd);
  }
  if (!recordedB) return;
  const flat = (value: Operand) =>
    typeof value === "number" ? [value] : value instanceof AdjFloat ? [value.value] : [...value.data];
  const gb = flat(gradient[1]);
  const hb = flat(hessian[1]);
  for (let k = 0; k < bEntries; k++) {
    expectClose(gb[k], bBar[k], 4 * bBarScale[k]);
    expectClose(hb[k], bHat[k], 8 * bHatScale[k]);
  }
}

describe("np binary functions on arrays agree entry by entry with their rules", () => {
  const forms: BForm[] = ["same shape", "AdjFloat", "number", "column"];
  for (const name of Object.keys(binaryRules) as BinaryName[]) {
    it(`np.${name}: values, gradient and Hessian action (same shape, AdjFloat, number, [n, 1] operand)`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...forms), fc.integer({ min: 1, max: 100000 }), (form, seed) => {
          checkAgainstRule(binaryRules[name], form, seed);
        }),
        { numRuns: 12 },
      );
    });
  }

  it("np.power with the special-cased exponents 0, 0.5, 1, 2 (AdjFloat and number) and a general one", () => {
    for (const exponent of [0, 0.5, 1, 2, 3, -1.5])
      for (const form of ["AdjFloat", "number"] as const)
        checkAgainstRule(binaryRules.power, form, 7, exponent);
  });

  it("np.power(x, 0.5) keeps Math.pow's special cases where it differs from Math.sqrt", () => {
    const x = new NDArray(Float64Array.of(-0, Number.NEGATIVE_INFINITY, 0, 4, -1, Number.NaN), [6]);
    const expected = [...x.data].map((v) => v ** 0.5);
    const actual = [...(np.power(x, 0.5) as NDArray).data];
    expect(actual.map((v) => Object.is(v, -0))).toEqual(expected.map((v) => Object.is(v, -0)));
    expect(actual).toEqual(expected);
    expect([...(np.power(x, 2) as NDArray).data]).toEqual([...x.data].map((v) => v ** 2));
    expect([...(np.power(x, 0) as NDArray).data]).toEqual([...x.data].map((v) => v ** 0));
    expect([...(np.power(x, 1) as NDArray).data]).toEqual([...x.data].map((v) => v ** 1));
  });
});

describe("np unary functions on arrays agree entry by entry with their rules", () => {
  const unaryFunctions = np as unknown as Record<keyof typeof unaryRules, (x: NDArray) => NDArray>;
  for (const name of Object.keys(unaryRules) as (keyof typeof unaryRules)[]) {
    it(`np.${name}: values, and the gradient of sum(w * f(x)) as f'(x) w`, () => {
      const rule = unaryRules[name];
      const rng = generator(name.length * 7919);
      const n = 40;
      const x = new NDArray(uniform(rng, rule.domain, n), [n / 4, 4]);
      const w = new NDArray(uniform(rng, [-1, 1], n), [n / 4, 4]);
      const tape = new Tape();
      const y = withTape(tape, () => unaryFunctions[name](x));
      const J = withTape(tape, () => np.sum(np.multiply(y, w)));
      const gradient = computeGradient(J, new Control(x), { tape }) as NDArray;
      for (let i = 0; i < n; i++) {
        const yi = rule.f(x.data[i]);
        expectClose(y.data[i], yi);
        expectClose(gradient.data[i], rule.df(x.data[i], yi) * (1 * w.data[i]));
      }
    });
  }
});

describe("np.multiply of a column against rows (the [n, 1] x [n, k] loop)", () => {
  it("gives a[i] * b[i, j] exactly for either operand order, k = 1, 2, 3, 5, and in N-d broadcast blocks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(1, 2, 3, 5),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 100000 }),
        (n, k, lead, seed) => {
          let state = seed;
          const draw = () => {
            state = (state * 1103515245 + 12345) % 2147483648;
            return state / 2147483648 - 0.5;
          };
          const column = new NDArray(Float64Array.from({ length: lead * n }, draw), [lead, n, 1]);
          const rows = new NDArray(Float64Array.from({ length: lead * n * k }, draw), [lead, n, k]);
          const expected = Array.from(
            { length: lead * n * k },
            (_, i) => column.data[Math.floor(i / k)] * rows.data[i],
          );
          expect([...(np.multiply(column, rows) as NDArray).data]).toEqual(expected);
          expect([...(np.multiply(rows, column) as NDArray).data]).toEqual(expected);
          // a [1, n, 1] column broadcast over the leading axis too (one walk per block)
          const shared = new NDArray(column.data.slice(0, n), [1, n, 1]);
          const blocks = Array.from(
            { length: lead * n * k },
            (_, i) => shared.data[Math.floor(i / k) % n] * rows.data[i],
          );
          expect([...(np.multiply(shared, rows) as NDArray).data]).toEqual(blocks);
          expect([...(np.multiply(rows, shared) as NDArray).data]).toEqual(blocks);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("np.add, np.subtract, np.multiply, np.divide and np.power(x, 2) against one value, and x * x", () => {
  it("give the IEEE results entry by entry (special values included) with the number on either side", () => {
    const specials = [0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), fc.constantFrom(...specials)), { minLength: 1, maxLength: 40 }),
        fc.oneof(fc.double(), fc.constantFrom(...specials)),
        (values, c) => {
          const x = new NDArray(Float64Array.from(values), [values.length]);
          const one = new NDArray(Float64Array.of(c), [1]);
          const same = (actual: NDArray | number, expected: number[]) =>
            expect([...(actual as NDArray).data].map((v) => Object.is(v, -0) || v)).toEqual(
              expected.map((v) => Object.is(v, -0) || v),
            );
          for (const c2 of [c, one]) {
            same(
              np.add(x, c2),
              values.map((v) => v + c),
            );
            same(
              np.add(c2, x),
              values.map((v) => c + v),
            );
            same(
              np.subtract(x, c2),
              values.map((v) => v - c),
            );
            same(
              np.subtract(c2, x),
              values.map((v) => c - v),
            );
            same(
              np.multiply(x, c2),
              values.map((v) => v * c),
            );
            same(
              np.multiply(c2, x),
              values.map((v) => c * v),
            );
            same(
              np.divide(x, c2),
              values.map((v) => v / c),
            );
            same(
              np.divide(c2, x),
              values.map((v) => c / v),
            );
          }
          same(
            np.multiply(x, x),
            values.map((v) => v * v),
          );
          same(
            np.power(x, 2),
            values.map((v) => v * v),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("np.power's loops take ln a block by block with the batch kernel, as the rule takes it (scalarLog)", () => {
  // The rule's functions with the power loops' dispatch off: the generic loops call da/db/dab/dbb entry by
  // entry (ln a from scalarLog), the reference for the power loops' blocks of logRun.
  const viaRule: BinaryRule = { ...powerRule };
  const baseSpecials = [0, -0, 1, 5e-324, 1e-310, Number.POSITIVE_INFINITY, Number.NaN, -2, -0.5, -3];
  const exponentSpecials = [0, 1, 2, 3, -1, 0.5, Number.NaN, Number.NEGATIVE_INFINITY];

  /** Entries in [low, high], a quarter replaced by special values (and a tenth of seeds by 0). */
  function draw(
    rng: () => number,
    size: number,
    low: number,
    high: number,
    specials: number[],
  ): Float64Array {
    return Float64Array.from({ length: size }, () =>
      specials.length > 0 && rng() < 0.25
        ? specials[Math.floor(rng() * specials.length)]
        : low + (high - low) * rng(),
    );
  }

  /** Operand lengths and broadcast flags of a grid over rows x cols entries (plus the offsets). */
  interface Case {
    name: string;
    grid: Grid;
    aSize: number;
    bSize: number;
    aReduce: boolean;
    bReduce: boolean;
  }
  const rows = 1700;
  const cols = 3; // a block of 2048 entries crosses rows: the bases are gathered along the walk
  const n = rows * cols;
  const cases: Case[] = [
    {
      name: "same shape",
      grid: gridOf(1, n, 0, 1, 0, 1),
      aSize: n,
      bSize: n,
      aReduce: false,
      bReduce: false,
    },
    {
      name: "one exponent",
      grid: gridOf(1, n, 0, 1, 0, 0),
      aSize: n,
      bSize: 1,
      aReduce: false,
      bReduce: true,
    },
    { name: "one base", grid: gridOf(1, n, 0, 0, 0, 1), aSize: 1, bSize: n, aReduce: true, bReduce: false },
    {
      name: "[n, 1] base, [n, k] exponent",
      grid: gridOf(rows, cols, 1, 0, cols, 1),
      aSize: rows,
      bSize: n,
      aReduce: true,
      bReduce: false,
    },
    {
      name: "[k] base, [n, k] exponent",
      grid: gridOf(rows, cols, 0, 1, cols, 1),
      aSize: cols,
      bSize: n,
      aReduce: true,
      bReduce: false,
    },
    {
      name: "[n, k] base, [n, 1] exponent",
      grid: gridOf(rows, cols, cols, 1, 1, 0),
      aSize: n,
      bSize: rows,
      aReduce: false,
      bReduce: true,
    },
    {
      name: "a block at offsets (N-d broadcast)",
      grid: gridOf(rows, cols, cols, 1, cols, 1, 6, 9, 12),
      aSize: n + 9,
      bSize: n + 12,
      aReduce: false,
      bReduce: false,
    },
  ];

  function same(actual: Float64Array | undefined, expected: Float64Array | undefined, what: string): void {
    expect(actual === undefined, what).toBe(expected === undefined);
    if (actual === undefined || expected === undefined) return;
    const differ = [...actual].findIndex((v, i) => !Object.is(v, expected[i]));
    expect(differ, `${what}: first entry that differs`).toBe(-1);
  }

  function checkCase(c: Case, seed: number): void {
    const rng = generator(seed);
    const g = c.grid;
    const size = g.o0 + g.n;
    const a = draw(rng, c.aSize, 0.2, 4, baseSpecials);
    const b = draw(rng, c.bSize, -2, 2, exponentSpecials);
    const z = new Float64Array(size);
    binaryValuesGrid(powerRule, z, a, b, g);
    const seedOf = (length: number) => draw(rng, length, -1, 1, [0]);
    const ad = seedOf(c.aSize);
    const bd = seedOf(c.bSize);
    const hat = seedOf(size);
    const bar = seedOf(size);
    const outLength = (reduce: boolean, operand: number) => (reduce ? operand : size);
    for (const rule of [powerRule, viaRule]) expect(rule.f(2, 3)).toBe(8);
    const run = (rule: BinaryRule) => {
      const results: Record<string, Float64Array | undefined> = {};
      for (const wrt of [0, 1] as const) {
        const out = new Float64Array(size);
        partialTimesInto(rule, wrt, out, a, b, z, wrt === 0 ? ad : bd, g);
        results[`partial ${wrt}`] = out;
      }
      const both = new Float64Array(size);
      tlmBothInto(rule, both, a, b, z, ad, bd, g);
      results.tlm = both;
      for (const [withA, withB] of [
        [true, true],
        [false, true],
        [true, false],
      ]) {
        const outA = withA ? new Float64Array(outLength(c.aReduce, c.aSize)) : undefined;
        const outB = withB ? new Float64Array(outLength(c.bReduce, c.bSize)) : undefined;
        adjointInto(
          rule,
          a,
          b,
          z,
          bar,
          g,
          { out: outA, reduce: c.aReduce },
          { out: outB, reduce: c.bReduce },
        );
        results[`adjoint a ${withA} b ${withB}`] = outA;
        results[`adjoint b ${withA} b ${withB}`] = outB;
        for (const withBd of [true, false]) {
          const loop: SecondOrderLoop = {
            hat,
            bar,
            ad,
            bd: withBd ? bd : undefined,
            outA: withA ? new Float64Array(outLength(c.aReduce, c.aSize)) : undefined,
            outB: withB ? new Float64Array(outLength(c.bReduce, c.bSize)) : undefined,
            adjA: withA ? new Float64Array(outLength(c.aReduce, c.aSize)) : undefined,
            adjB: withB ? new Float64Array(outLength(c.bReduce, c.bSize)) : undefined,
            reduceA: c.aReduce,
            reduceB: c.bReduce,
            dense: false,
          };
          secondOrderInto(rule, a, b, z, loop, g);
          const key = `second order (a ${withA}, b ${withB}, bdot ${withBd})`;
          results[`${key} outA`] = loop.outA;
          results[`${key} outB`] = loop.outB;
          results[`${key} adjA`] = loop.adjA;
          results[`${key} adjB`] = loop.adjB;
        }
      }
      return results;
    };
    const loops = run(powerRule);
    const reference = run(viaRule);
    for (const key of Object.keys(reference)) same(loops[key], reference[key], `${c.name}, ${key}`);
  }

  for (const wasm of [true, false]) {
    it(`every mode and broadcast pattern, special bases and exponents included, bit for bit (${wasm ? "WebAssembly SIMD" : "JavaScript"} kernels)`, () => {
      const previous = transcendentalBackend() === "wasm-simd";
      useWasmKernels(wasm);
      try {
        for (const c of cases) for (const seed of [3, 11]) checkCase(c, seed);
      } finally {
        useWasmKernels(previous);
      }
    });
  }

  it("the ln a of the exponent's derivatives is scalarLog's, not Math.log's (they differ on some entries)", () => {
    // entries where the table logarithm and Math.log differ (by 1 ulp): the loops follow the rule there too
    const rng = generator(5);
    const candidates = Float64Array.from({ length: 200000 }, () => 0.2 + 3.8 * rng());
    const differing = candidates.filter((x) => scalarLog(x) !== Math.log(x)).slice(0, 64);
    expect(differing.length).toBeGreaterThan(0);
    const a = new NDArray(differing, [differing.length]);
    const b = np.full([differing.length], 1);
    const tape = new Tape();
    const z = withTape(tape, () => np.power(a, b));
    const J = withTape(tape, () => np.sum(z));
    const [gb] = computeGradient(J, [new Control(b)], { tape });
    const actual = [...(gb as NDArray).data];
    const zs = [...z.data];
    expect(actual).toEqual(zs.map((zi, i) => powerRule.db(differing[i], 1, zi) * 1));
    expect(actual).toEqual(zs.map((zi, i) => zi * scalarLog(differing[i])));
    expect(actual).not.toEqual(zs.map((zi, i) => zi * Math.log(differing[i])));
  });
});
