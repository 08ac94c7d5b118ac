/**
 * @file A fingerprint of every elementwise rule in every mode (recompute, TLM, adjoint, evaluateHessian,
 * evaluateAdjAndHessian) over broadcasting shape pairs and seed combinations, to compare two versions of the
 * array paths: `node --conditions=tsadjoint-source --import tsx bench/elementwise-fingerprint.ts out.json`
 * writes every result (entries as exact hex bit patterns) to out.json and prints a hash per mode;
 * `... bench/elementwise-fingerprint.ts --compare before.json after.json` lists the results that differ, the
 * largest relative difference, and whether every value (forward) result is bit-identical.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { AdjFloat, NDArray, np, Tape, withTape } from "tsadjoint";
import { binaryRules, unaryRules } from "../src/ops/elementwise-rules.js";
import type { Block } from "../src/tape/block.js";

type Raw = number | NDArray;
type Operand = number | AdjFloat | NDArray;

/** A small deterministic generator. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

function bits(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0).toString(16);
}

function encode(raw: unknown): string[] | string | null {
  if (raw === undefined) return null;
  if (typeof raw === "number") return bits(raw);
  if (raw instanceof NDArray) return [`shape:${raw.shape.join("x")}`, ...Array.from(raw.data, bits)];
  return `?${String(raw)}`;
}

const results: Record<string, string[] | string | null> = {};

function put(key: string, raw: unknown): void {
  results[key] = encode(raw);
}

/** An operand of `shape` ("adj" for an AdjFloat, "num" for a constant number) with entries in `domain`. */
function operand(
  spec: number[] | "adj" | "num",
  domain: readonly [number, number],
  rng: () => number,
  zeros: boolean,
): Operand {
  const draw = () =>
    zeros && rng() < 0.25 && domain[0] <= 0 && domain[1] >= 0
      ? 0
      : domain[0] + (domain[1] - domain[0]) * rng();
  if (spec === "adj") return new AdjFloat(draw());
  if (spec === "num") return draw();
  const size = spec.reduce((p, n) => p * n, 1);
  return new NDArray(Float64Array.from({ length: size }, draw), spec);
}

/** A seed like the raw value `like`, some entries exactly 0 when `zeros`. */
function seedLike(like: Raw, rng: () => number, zeros: boolean): Raw {
  const draw = () => (zeros && rng() < 0.3 ? 0 : rng() * 2 - 1);
  if (typeof like === "number") return draw();
  return new NDArray(Float64Array.from({ length: like.size }, draw), like.shape);
}

function runBlock(key: string, block: Block, rng: () => number, zeros: boolean): void {
  const inputs = block.dependencies.map((d) => d.saved as Raw);
  const outputs = block.outputs.map((o) => o.saved as Raw);
  const arity = inputs.length;
  put(`${key}|recompute`, block.recompute({ inputs })[0]);
  // one variable as both operands (x * x) gets one tangent, as the sweeps give it
  const deps = block.dependencies;
  const dots = inputs.map((x) => seedLike(x, rng, zeros));
  if (deps.length === 2 && deps[0] === deps[1]) dots[1] = dots[0];
  const tlmCombos: (Raw | undefined)[][] =
    arity === 2
      ? [
          [dots[0], dots[1]],
          [dots[0], undefined],
          [undefined, dots[1]],
        ]
      : [[dots[0]]];
  for (const [c, tlmInputs] of tlmCombos.entries())
    put(`${key}|tlm${c}`, block.evaluateTlm({ inputs, outputs, tlmInputs })[0]);
  const zbar = seedLike(outputs[0], rng, zeros);
  const zhat = seedLike(outputs[0], rng, zeros);
  const neededCombos =
    arity === 2
      ? [
          [true, true],
          [true, false],
          [false, true],
        ]
      : [[true]];
  for (const needed of neededCombos) {
    const adj = block.evaluateAdj({ inputs, outputs, adjInputs: [zbar], needed });
    for (let i = 0; i < arity; i++) put(`${key}|adj${needed.join("")}|${i}`, adj[i]);
  }
  const tlmAll = [...tlmCombos, arity === 2 ? [undefined, undefined] : [undefined]];
  for (const [barName, bar] of [
    ["bar", zbar],
    ["nobar", undefined],
  ] as const) {
    for (const [hatName, hat] of [
      ["hat", zhat],
      ["nohat", undefined],
    ] as const) {
      if (bar === undefined && hat === undefined) continue;
      for (const [c, tlmInputs] of tlmAll.entries()) {
        for (const needed of neededCombos) {
          const context = { inputs, outputs, adjInputs: [bar], hessianInputs: [hat], tlmInputs, needed };
          const k = `${key}|${barName}|${hatName}|tlm${c}|${needed.join("")}`;
          const hessian = block.evaluateHessian(context);
          for (let i = 0; i < arity; i++) if (needed[i]) put(`${k}|hess|${i}`, hessian[i]);
          const fused = (
            block as unknown as { evaluateAdjAndHessian(c: unknown): readonly [unknown[], unknown[]] }
          ).evaluateAdjAndHessian(context);
          for (let i = 0; i < arity; i++) {
            if (!needed[i]) continue;
            put(`${k}|fusedAdj|${i}`, fused[0][i]);
            put(`${k}|fusedHess|${i}`, fused[1][i]);
          }
        }
      }
    }
  }
}

/** Records f(a, b) on a fresh tape and returns its one block. */
function recordOne(f: () => unknown): Block {
  const tape = new Tape();
  withTape(tape, f);
  const blocks = tape.blocks;
  return blocks[blocks.length - 1];
}

function collect(): void {
  const binaryFunctions = np as unknown as Record<string, (a: Operand, b: Operand) => Operand>;
  const unaryFunctions = np as unknown as Record<string, (x: Operand) => Operand>;
  const pairs: [number[] | "adj" | "num", number[] | "adj" | "num"][] = [
    [
      [3, 4],
      [3, 4],
    ],
    [
      [3, 1],
      [3, 4],
    ],
    [
      [3, 4],
      [3, 1],
    ],
    [[4], [3, 4]],
    [[3, 4], [4]],
    [
      [5, 1],
      [5, 2],
    ],
    [
      [5, 2],
      [5, 1],
    ],
    [
      [1, 4],
      [3, 4],
    ],
    [
      [3, 4],
      [1, 4],
    ],
    [
      [3, 1],
      [1, 4],
    ],
    [
      [1, 4],
      [3, 1],
    ],
    [[], [3, 4]],
    [[3, 4], []],
    [[1], [3, 4]],
    [
      [3, 4],
      [1, 1],
    ],
    ["adj", [3, 4]],
    [[3, 4], "adj"],
    ["num", [3, 4]],
    [[3, 4], "num"],
    [
      [2, 1, 4],
      [2, 3, 4],
    ],
    [
      [2, 3, 4],
      [2, 1, 4],
    ],
    [
      [2, 3, 1],
      [1, 3, 4],
    ],
    [
      [3, 1, 1],
      [3, 2, 4],
    ],
    [
      [3, 2, 4],
      [3, 1, 1],
    ],
    [
      [2, 4],
      [3, 2, 4],
    ],
    [
      [5, 1],
      [5, 2],
    ],
    [
      [5, 2],
      [5, 1],
    ],
    [
      [4, 1, 3],
      [5, 3],
    ],
    [
      [2, 1],
      [2, 1, 3],
    ],
  ];
  let seed = 1;
  for (const [name, rule] of Object.entries(binaryRules)) {
    for (const [sa, sb] of pairs) {
      for (const zeros of [false, true]) {
        const rng = generator(seed++);
        const a = operand(sa, rule.domain[0], rng, zeros);
        const b = operand(sb, rule.domain[1], rng, zeros);
        const key = `${name}|${JSON.stringify(sa)}|${JSON.stringify(sb)}|${zeros ? "z" : "r"}`;
        const block = recordOne(() => binaryFunctions[name](a, b));
        runBlock(key, block, rng, zeros);
      }
    }
    // one array as both operands (x * x, x + x, ...)
    for (const shape of [[3, 4], [5, 1], []]) {
      const rng = generator(seed++);
      const x = operand(shape, rule.domain[0], rng, true);
      runBlock(
        `${name}|same ${JSON.stringify(shape)}`,
        recordOne(() => binaryFunctions[name](x, x)),
        rng,
        true,
      );
    }
    // special exponents of power and friends: a constant b
    for (const bValue of [0, 0.5, 1, 2, 3]) {
      const rng = generator(seed++);
      const a = operand([3, 4], rule.domain[0], rng, true);
      for (const form of ["num", "adj"] as const) {
        const b = form === "num" ? bValue : new AdjFloat(bValue);
        const block = recordOne(() => binaryFunctions[name](a, b));
        runBlock(`${name}|special ${bValue}|${form}`, block, rng, true);
      }
    }
  }
  for (const [name, rule] of Object.entries(unaryRules)) {
    for (const shape of [[3, 4], [], "adj"] as const) {
      const rng = generator(seed++);
      const x = operand(shape === "adj" ? "adj" : [...shape], rule.domain, rng, false);
      const block = recordOne(() => unaryFunctions[name](x));
      runBlock(`${name}|${JSON.stringify(shape)}`, block, rng, true);
    }
  }
}

/** np.sum over axis sets and broadcastTo (the kernels the array paths share), values only. */
function collectReductions(): void {
  const rng = generator(99);
  const shapes: number[][] = [[7], [5, 1], [5, 2], [5, 3], [1, 5], [4, 3, 2], [3, 1, 4], [2, 20]];
  for (const shape of shapes) {
    const size = shape.reduce((p, n) => p * n, 1);
    const data = Float64Array.from({ length: size }, () => (rng() < 0.1 ? -0 : rng() * 2 - 1));
    const x = new NDArray(data, shape);
    const axesList: (number | number[] | undefined)[] = [undefined, ...shape.map((_, i) => i)];
    if (shape.length === 3) axesList.push([0, 2], [1, 2], [0, 1]);
    for (const axes of axesList) {
      for (const keepdims of [false, true]) {
        const key = `sum|${JSON.stringify(shape)}|${JSON.stringify(axes)}|${keepdims}|recompute`;
        put(key, np.sum(x, axes, keepdims));
      }
    }
    for (const target of [
      [2, ...shape],
      [3, ...shape.map((n) => (n === 1 ? 4 : n))],
    ]) {
      put(
        `broadcastTo|${JSON.stringify(shape)}|${JSON.stringify(target)}|recompute`,
        np.broadcast_to(x, target),
      );
    }
  }
}

function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

function compare(beforePath: string, afterPath: string): void {
  const before = JSON.parse(readFileSync(beforePath, "utf8")) as typeof results;
  const after = JSON.parse(readFileSync(afterPath, "utf8")) as typeof results;
  let differing = 0;
  let valuesDiffering = 0;
  let worst = 0;
  let worstKey = "";
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const x = JSON.stringify(before[key]);
    const y = JSON.stringify(after[key]);
    if (x === y) continue;
    differing++;
    if (key.includes("|recompute")) valuesDiffering++;
    const bx = before[key];
    const by = after[key];
    if (Array.isArray(bx) && Array.isArray(by) && bx[0] === by[0] && bx.length === by.length) {
      for (let i = 1; i < bx.length; i++) {
        const u = fromBits(bx[i]);
        const v = fromBits(by[i]);
        if (Object.is(u, v) || (Number.isNaN(u) && Number.isNaN(v))) continue;
        const rel = Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v));
        if (rel > worst || Number.isNaN(rel)) {
          worst = rel;
          worstKey = `${key}[${i - 1}]: ${u} vs ${v}`;
        }
      }
    } else if (typeof bx === "string" && typeof by === "string") {
      const u = fromBits(bx);
      const v = fromBits(by);
      const rel = Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v));
      if (rel > worst || Number.isNaN(rel)) {
        worst = rel;
        worstKey = `${key}: ${u} vs ${v}`;
      }
    } else {
      worst = Number.POSITIVE_INFINITY;
      worstKey = `${key}: ${x.slice(0, 80)} vs ${y.slice(0, 80)}`;
    }
    if (differing <= 20) console.log(`differs: ${key}`);
  }
  console.log(
    `${keys.size} results compared: ${differing} differ (${valuesDiffering} of them values); ` +
      `largest relative difference ${worst}${worstKey === "" ? "" : ` at ${worstKey}`}`,
  );
}

if (process.argv[2] === "--compare") compare(process.argv[3], process.argv[4]);
else {
  collect();
  collectReductions();
  const byMode = new Map<string, string[]>();
  for (const [key, value] of Object.entries(results)) {
    const mode = key.includes("|recompute")
      ? "values"
      : key.includes("|tlm") && !key.includes("hess") && !key.includes("fused")
        ? "tlm"
        : key.includes("|adj")
          ? "adjoint"
          : key.includes("fused")
            ? "adjAndHessian"
            : "hessian";
    const list = byMode.get(mode) ?? [];
    list.push(`${key}=${JSON.stringify(value)}`);
    byMode.set(mode, list);
  }
  for (const [mode, list] of byMode)
    console.log(`${mode.padEnd(14)} ${list.length} results, hash ${fnv(list.join("\n"))}`);
  if (process.argv[2] !== undefined) writeFileSync(process.argv[2], JSON.stringify(results));
}
