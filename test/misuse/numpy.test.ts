/**
 * Property-based misuse suite of `tsadjoint/numpy`: every exported function (the np namespace, np.linalg,
 * np.random and the generator's methods) is called with wrong types, nested garbage, wrong shapes and
 * misspelt option keys. Each call either succeeds with a result of the right type (and no NaN produced
 * from moderate inputs) or throws a TsadjointError; a misspelt option key always throws an
 * InvalidArgumentError; the working tape still differentiates correctly afterwards.
 */
import fc from "fast-check";
import {
  AdjFloat,
  Control,
  computeGradient,
  getWorkingTape,
  InvalidArgumentError,
  np,
  Tape,
  TsadjointError,
} from "tsadjoint";
import { describe, expect, it } from "vitest";
import { NDArray } from "../../src/values/ndarray.js";

// ----------------------------------------------------------------------------------------------------------
// argument kinds: valid values and garbage
// ----------------------------------------------------------------------------------------------------------

const garbage: unknown[] = [
  "a",
  "",
  "2",
  null,
  undefined,
  {},
  { foo: 1 },
  Number.NaN,
  true,
  false,
  [[1], [2, 3]],
  ["a"],
  [null],
  [undefined],
  [[["x"]]],
  [{}],
  () => 1,
  Symbol("s"),
  new Map(),
  -1.5,
  1e300,
  Number.POSITIVE_INFINITY,
  [Number.NaN],
  2n,
  new Tape(),
  new Date(0),
  [Symbol("t")],
  [2n],
  { length: 2 },
  Object.create(null),
  [[0.5, "a"]],
  Float32Array.from([1, 2]),
  Int32Array.from([5]),
  [0.5, [0.5]],
  -0,
  2 ** 40,
];

const vec2 = () => np.array([0.3, 0.7]);
const vec3 = () => np.array([0.2, 0.5, 0.9]);
const mat22 = () =>
  np.array([
    [2, 0.5],
    [0.5, 3],
  ]);
const mat23 = () =>
  np.array([
    [0.1, 0.2, 0.3],
    [0.4, 0.5, 0.6],
  ]);
const batch = () =>
  np.array([
    mat22().toArray() as number[][],
    [
      [1.5, 0.2],
      [0.1, 2.5],
    ],
  ]);

/** Valid values of each argument kind (shapes deliberately varied, so wrong shapes occur too). */
const valid: Record<string, () => unknown[]> = {
  x: () => [
    vec2(),
    vec3(),
    mat22(),
    mat23(),
    np.array(0.4),
    new AdjFloat(0.6),
    0.5,
    [0.1, 0.2],
    [[0.3, 0.4]],
  ],
  elem: () => [vec2(), vec3(), mat22(), new AdjFloat(0.6), 0.5],
  sq: () => [mat22(), batch(), mat23(), vec2()],
  shape: () => [[2], 2, [2, 3], [], [1, 2, 1], [-1]],
  axis: () => [0, -1, 1, [0], [0, 1], null, undefined],
  int: () => [0, 1, 2, -1],
  num: () => [0.5, 2, -1, 0],
  bool: () => [true, false],
  list: () => [
    [vec2(), vec2()],
    [mat22(), mat23()],
    [vec2(), vec3()],
    [0.5, new AdjFloat(1)],
  ],
  indices: () => [[0, 1], 1, [[0], [1]], Int32Array.from([1, 0]), np.array([1, 0])],
  spec: () => [[{ start: 0 }], [1], [{}, { step: -1 }], [{ start: -1, stop: 0, step: -1 }]],
  entry: () => [0, { start: 1 }, {}, -1],
  subs: () => ["ij,jk->ik", "i,i", "ii", "ij->ji", "...i,...i->..."],
  tdaxes: () => [1, 0, [[0], [0]], [[1], [0]]],
  ord: () => [null, 2, "fro", undefined],
  seed: () => [1, 42, 7n],
  size: () => [[2], 3, undefined, [2, 2]],
  data: () => [[0.5, 0.25], 0.5, [[0.1, 0.2]], Float64Array.from([1, 2]), vec2()],
};

/** Valid values of option keys. */
const optionValues: Record<string, () => unknown[]> = {
  axis: () => [0, -1, null],
  axes: () => [[1, 0], null],
  keepdims: () => [true, false],
  tape: () => [new Tape()],
  ord: () => [null, 2, "fro"],
  offset: () => [0, 1],
  axis1: () => [0],
  axis2: () => [1],
  lower: () => [true, false],
  trans: () => [0, 1, "T", "N"],
  unit_diagonal: () => [true, false],
};

/** A slot: an argument kind; `?` marks an optional one, `opts` an options object with these keys. */
interface Spec {
  readonly call: (...args: unknown[]) => unknown;
  /** Argument kinds; "opts" for an options object; a trailing "?" makes a slot optional. */
  readonly args: readonly string[];
  /** Keys accepted by the options object (slots of kind "opts" or "x|opts"). */
  readonly keys?: readonly string[];
  /** The function may give NaN from moderate inputs (outside its mathematical domain). */
  readonly nanOk?: boolean;
}

const anyNp = np as unknown as Record<string, (...args: unknown[]) => unknown>;
const anyLinalg = np.linalg as unknown as Record<string, (...args: unknown[]) => unknown>;
const fn =
  (name: string) =>
  (...args: unknown[]) =>
    (anyNp[name] as (...a: unknown[]) => unknown)(...args);
const linalgFn =
  (name: string) =>
  (...args: unknown[]) =>
    (anyLinalg[name] as (...a: unknown[]) => unknown)(...args);
const generatorMethod =
  (name: string) =>
  (...args: unknown[]) =>
    (np.random.default_rng(3) as unknown as Record<string, (...a: unknown[]) => unknown>)[name]?.(...args);

const unary = [
  "negative",
  "absolute",
  "abs",
  "exp",
  "expm1",
  "log",
  "log1p",
  "log2",
  "log10",
  "sqrt",
  "cbrt",
  "square",
  "reciprocal",
  "sin",
  "cos",
  "tan",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "arcsinh",
  "arccosh",
  "arctanh",
];
const binary = ["add", "subtract", "multiply", "divide", "power", "arctan2", "hypot", "minimum", "maximum"];
const comparisons = [
  "greater",
  "greater_equal",
  "less",
  "less_equal",
  "equal",
  "not_equal",
  "logical_and",
  "logical_or",
  "logical_xor",
];
const maskUnary = ["logical_not", "sign", "isfinite", "isnan", "isinf"];
const reductions = ["sum", "mean", "prod", "max", "min", "amax", "amin"];
const tapeKey = ["tape"];

const table: Record<string, Spec> = {
  array: { call: fn("array"), args: ["data", "shape?"] },
  asNDArray: { call: fn("asNDArray"), args: ["x"] },
  NDArray: {
    call: (data, shape) => new np.NDArray(data as Float64Array, shape as number[]),
    args: ["data", "shape"],
  },
  RandomGenerator: { call: (seed) => new np.RandomGenerator(seed as number), args: ["seed"] },
  zeros: { call: fn("zeros"), args: ["shape"] },
  ones: { call: fn("ones"), args: ["shape"] },
  full: { call: fn("full"), args: ["shape", "num"] },
  zerosLike: { call: fn("zerosLike"), args: ["x"] },
  onesLike: { call: fn("onesLike"), args: ["x"] },
  arange: { call: fn("arange"), args: ["num", "num?", "num?"] },
  linspace: { call: fn("linspace"), args: ["num", "num", "int?", "bool?"] },
  eye: { call: fn("eye"), args: ["int", "int?", "int?"] },
  matmul: { call: fn("matmul"), args: ["x", "x", "opts?"], keys: tapeKey },
  dot: { call: fn("dot"), args: ["x", "x", "opts?"], keys: tapeKey },
  inner: { call: fn("inner"), args: ["x", "x", "opts?"], keys: tapeKey },
  outer: { call: fn("outer"), args: ["x", "x", "opts?"], keys: tapeKey },
  vdot: { call: fn("vdot"), args: ["x", "x", "opts?"], keys: tapeKey },
  tensordot: { call: fn("tensordot"), args: ["x", "x", "tdaxes?", "opts?"], keys: tapeKey },
  einsum: { call: fn("einsum"), args: ["subs", "x", "x?", "opts?"], keys: tapeKey },
  trace: { call: fn("trace"), args: ["sq", "int?", "int?", "int?", "opts?"], keys: tapeKey },
  norm: {
    call: fn("norm"),
    args: ["x", "ord|opts?", "axis?", "bool?"],
    keys: ["ord", "axis", "keepdims", "tape"],
  },
  cumsum: { call: fn("cumsum"), args: ["x", "axis|opts?"], keys: ["axis", "tape"] },
  reshape: { call: fn("reshape"), args: ["x", "shape", "opts?"], keys: tapeKey },
  ravel: { call: fn("ravel"), args: ["x", "opts?"], keys: tapeKey },
  expand_dims: { call: fn("expand_dims"), args: ["x", "axis", "opts?"], keys: tapeKey },
  squeeze: { call: fn("squeeze"), args: ["x", "axis|opts?"], keys: ["axis", "tape"] },
  transpose: { call: fn("transpose"), args: ["x", "axis|opts?"], keys: ["axes", "tape"] },
  moveaxis: { call: fn("moveaxis"), args: ["x", "axis", "axis", "opts?"], keys: tapeKey },
  swapaxes: { call: fn("swapaxes"), args: ["x", "int", "int", "opts?"], keys: tapeKey },
  concatenate: { call: fn("concatenate"), args: ["list", "axis|opts?"], keys: ["axis", "tape"] },
  stack: { call: fn("stack"), args: ["list", "axis|opts?"], keys: ["axis", "tape"] },
  broadcast_to: { call: fn("broadcast_to"), args: ["x", "shape", "opts?"], keys: tapeKey },
  take: { call: fn("take"), args: ["x", "indices", "axis|opts?"], keys: ["axis", "tape"] },
  slice: { call: fn("slice"), args: ["x", "spec", "opts?"], keys: tapeKey },
  index: { call: fn("index"), args: ["x", "entry?", "entry?"] },
  diagonal: {
    call: fn("diagonal"),
    args: ["sq", "int|opts?", "int?", "int?"],
    keys: ["offset", "axis1", "axis2", "tape"],
  },
  flip: { call: fn("flip"), args: ["x", "axis|opts?"], keys: ["axis", "tape"] },
  where: { call: fn("where"), args: ["x", "x", "x", "opts?"], keys: tapeKey },
  clip: { call: fn("clip"), args: ["x", "x?", "x?", "opts?"], keys: tapeKey },
  "linalg.solve": { call: linalgFn("solve"), args: ["sq", "x", "opts?"], keys: tapeKey },
  "linalg.inv": { call: linalgFn("inv"), args: ["sq", "opts?"], keys: tapeKey },
  "linalg.det": { call: linalgFn("det"), args: ["sq", "opts?"], keys: tapeKey },
  "linalg.slogdet": { call: linalgFn("slogdet"), args: ["sq", "opts?"], keys: tapeKey },
  "linalg.cholesky": { call: linalgFn("cholesky"), args: ["sq", "opts?"], keys: tapeKey },
  "linalg.solve_triangular": {
    call: linalgFn("solve_triangular"),
    args: ["sq", "x", "opts?"],
    keys: ["lower", "trans", "unit_diagonal", "tape"],
  },
  "linalg.norm": {
    call: linalgFn("norm"),
    args: ["x", "ord|opts?", "axis?", "bool?"],
    keys: ["ord", "axis", "keepdims", "tape"],
  },
  "random.default_rng": { call: (seed) => np.random.default_rng(seed as number), args: ["seed"] },
  "random.defaultRng": { call: (seed) => np.random.defaultRng(seed as number), args: ["seed"] },
  "Generator.random": { call: generatorMethod("random"), args: ["size?"] },
  "Generator.uniform": { call: generatorMethod("uniform"), args: ["num?", "num?", "size?"] },
  "Generator.normal": { call: generatorMethod("normal"), args: ["num?", "num?", "size?"] },
  "Generator.standardNormal": { call: generatorMethod("standardNormal"), args: ["size?"] },
  "Generator.integers": { call: generatorMethod("integers"), args: ["int", "int?", "size?"] },
  "Generator.permutation": { call: generatorMethod("permutation"), args: ["int"] },
};
for (const name of unary)
  table[name] = {
    call: fn(name),
    args: ["elem", "opts?"],
    keys: tapeKey,
    // outside the mathematical domain NumPy gives NaN too (with a warning)
    nanOk: ["arccosh", "log", "log2", "log10", "log1p", "sqrt", "arcsin", "arccos", "arctanh"].includes(name),
  };
for (const name of binary) {
  // a negative base to a fractional power is NaN in NumPy too
  table[name] = { call: fn(name), args: ["elem", "elem", "opts?"], keys: tapeKey, nanOk: name === "power" };
}
for (const name of comparisons) table[name] = { call: fn(name), args: ["x", "x", "opts?"], keys: tapeKey };
for (const name of maskUnary) table[name] = { call: fn(name), args: ["x", "opts?"], keys: tapeKey };
for (const name of reductions) {
  table[name] = { call: fn(name), args: ["x", "axis|opts?", "bool?"], keys: ["axis", "keepdims", "tape"] };
}

// ----------------------------------------------------------------------------------------------------------
// generators
// ----------------------------------------------------------------------------------------------------------

/** An options object: valid keys with valid or garbage values, or a misspelt / unknown key. */
function optionsArbitrary(keys: readonly string[]): fc.Arbitrary<{ value: unknown; misspelt: boolean }> {
  const validOptions = fc.subarray([...keys]).chain((chosen) =>
    fc
      .tuple(...chosen.map((key) => fc.constantFrom(...(optionValues[key]?.() ?? [undefined]))))
      .map((values) => ({
        value: Object.fromEntries(chosen.map((key, i) => [key, values[i]])),
        misspelt: false,
      })),
  );
  const garbageValue = fc
    .tuple(fc.constantFrom(...keys), fc.constantFrom(...garbage))
    .map(([key, value]) => ({ value: { [key]: value }, misspelt: false }));
  const misspelt = fc
    .tuple(
      fc.constantFrom(...keys),
      fc.constantFrom(
        (k: string) => `${k}s`,
        (k: string) => k.slice(0, -1),
        (k: string) => k.toUpperCase(),
        () => "foo",
      ),
    )
    .filter(([key, change]) => !keys.includes(change(key)))
    .map(([key, change]) => ({ value: { [change(key)]: 0 }, misspelt: true }));
  return fc.oneof(validOptions, garbageValue, misspelt);
}

interface Drawn {
  readonly args: unknown[];
  readonly misspelt: boolean;
}

function argumentsArbitrary(spec: Spec): fc.Arbitrary<Drawn> {
  const slots = spec.args.map((slot) => {
    const optional = slot.endsWith("?");
    const kinds = slot.replace("?", "").split("|");
    const choices: fc.Arbitrary<{ value: unknown; misspelt: boolean }>[] = [];
    for (const kind of kinds) {
      if (kind === "opts") choices.push(optionsArbitrary(spec.keys ?? []));
      else
        choices.push(
          fc.constantFrom(...(valid[kind]?.() ?? [])).map((value) => ({ value, misspelt: false })),
        );
    }
    const wrong = fc.constantFrom(...garbage).map((value) => ({ value, misspelt: false }));
    const missing = fc.constant({ value: undefined, misspelt: false, omitted: true });
    return fc.oneof(
      { arbitrary: fc.oneof(...choices), weight: 4 },
      { arbitrary: wrong, weight: 2 },
      ...(optional ? [{ arbitrary: missing, weight: 1 }] : []),
    );
  });
  return fc.tuple(...slots).map((drawn) => {
    const args = drawn.map((d) => d.value);
    // drop trailing omitted optional arguments so that functions see the real arity
    let length = args.length;
    while (length > 0 && (drawn[length - 1] as { omitted?: boolean }).omitted) length--;
    return { args: args.slice(0, length), misspelt: drawn.some((d) => d.misspelt) };
  });
}

// ----------------------------------------------------------------------------------------------------------
// checks
// ----------------------------------------------------------------------------------------------------------

/** Whether every number inside `value` (deeply) is finite and moderate, so NaN in a result is a bug. */
function moderate(value: unknown, depth = 0): boolean {
  if (depth > 6) return true;
  if (typeof value === "number") return Number.isFinite(value) && Math.abs(value) <= 1e3;
  if (typeof value === "bigint") return true;
  if (value instanceof NDArray) return moderate(Array.from(value.data), depth + 1);
  if (value instanceof AdjFloat) return moderate(value.value, depth + 1);
  if (ArrayBuffer.isView(value)) return moderate(Array.from(value as Float64Array), depth + 1);
  if (Array.isArray(value)) return value.every((v) => moderate(v, depth + 1));
  return true;
}

function hasNaN(result: unknown): boolean {
  if (typeof result === "number") return Number.isNaN(result);
  if (result instanceof AdjFloat) return Number.isNaN(result.value);
  if (result instanceof NDArray) return result.data.some((v) => Number.isNaN(v));
  if (Array.isArray(result)) return result.some(hasNaN);
  return false;
}

/** A result of the right type: numbers, AdjFloats, well-formed NDArrays, slogdet pairs, generators. */
function wellTyped(result: unknown): boolean {
  if (typeof result === "number") return true;
  if (result instanceof AdjFloat) return typeof result.value === "number";
  if (result instanceof NDArray) {
    return (
      result.data instanceof Float64Array &&
      result.shape.every((n) => Number.isInteger(n) && n >= 0) &&
      result.data.length === result.shape.reduce((p, n) => p * n, 1)
    );
  }
  if (result instanceof np.RandomGenerator) return true;
  if (Array.isArray(result)) return result.length > 0 && result.every(wellTyped);
  return false;
}

const runs = Number(process.env.MISUSE_RUNS ?? 150);
let calls = 0;

describe("np misuse suite", () => {
  it("the table covers every exported np function (and np.linalg, np.random, the generator's methods)", () => {
    const exported = Object.keys(np).filter((key) => typeof anyNp[key] === "function");
    const missing = [
      ...exported.filter((key) => !(key in table)),
      ...Object.keys(np.linalg)
        .map((key) => `linalg.${key}`)
        .filter((key) => !(key in table)),
      ...Object.keys(np.random)
        .map((key) => `random.${key}`)
        .filter((key) => !(key in table)),
      ...Object.getOwnPropertyNames(np.RandomGenerator.prototype)
        .filter((key) => key !== "constructor" && !key.startsWith("next"))
        .map((key) => `Generator.${key}`)
        .filter((key) => !(key in table)),
    ];
    expect(missing).toEqual([]);
    expect(Object.keys(table).length).toBeGreaterThanOrEqual(100);
  });

  for (const [name, spec] of Object.entries(table)) {
    it(`np.${name}: succeeds with a well-typed result or throws a TsadjointError`, () => {
      fc.assert(
        fc.property(argumentsArbitrary(spec), ({ args, misspelt }) => {
          calls++;
          let result: unknown;
          try {
            result = spec.call(...args);
          } catch (error) {
            if (!(error instanceof TsadjointError)) {
              throw new Error(
                `np.${name}(${args.map(show).join(", ")}) threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`,
              );
            }
            if (/shapes \[\]( and \[\])+ do not fit/.test(error.message)) {
              throw new Error(`np.${name}: self-contradicting message "${error.message}"`);
            }
            if (misspelt && !(error instanceof InvalidArgumentError)) {
              throw new Error(
                `np.${name}: a misspelt option gave ${error.constructor.name}, not InvalidArgumentError`,
              );
            }
            return;
          }
          if (misspelt)
            throw new Error(`np.${name}(${args.map(show).join(", ")}) accepted a misspelt option`);
          if (!wellTyped(result)) {
            throw new Error(`np.${name}(${args.map(show).join(", ")}) returned ${show(result)}`);
          }
          if (!spec.nanOk && args.every((a) => moderate(a)) && hasNaN(result)) {
            throw new Error(`np.${name}(${args.map(show).join(", ")}) returned NaN from moderate inputs`);
          }
        }),
        { numRuns: runs },
      );
    });
  }

  it("the working tape still differentiates correctly after the failures", () => {
    expect(calls).toBeGreaterThanOrEqual(Object.keys(table).length * runs);
    const tape = getWorkingTape();
    const x = np.array([0.3, -0.4]);
    const J = np.sum(np.where(np.greater(x, 0), np.sin(x), np.square(x)));
    const g = computeGradient(J, new Control(x), { tape }) as NDArray;
    expect(g.data[0]).toBeCloseTo(Math.cos(0.3), 14);
    expect(g.data[1]).toBeCloseTo(-0.8, 14);
  });
});

function show(value: unknown): string {
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "function";
  if (value instanceof NDArray) return `NDArray[${value.shape.join(",")}]`;
  if (value instanceof AdjFloat) return `AdjFloat(${value.value})`;
  if (value instanceof Tape) return "Tape";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
