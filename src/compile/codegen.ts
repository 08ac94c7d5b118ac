/**
 * @file JavaScript code generation for a fused group: four straight-line loops over the group's iteration
 * shape (values; tangents; adjoints; adjoints with second-order adjoints), each member's formula written in
 * place with the rule's own scalar functions (`R3.f(a, b)`, `R3.da(a, b, z)`, ...), so the numbers are the
 * ones the blocks compute. Members' values stay in registers from one member to the next (they are also
 * stored, for the reverse loops); an operand of another shape is read in place with stride 0 along its
 * broadcast axes; a sum accumulates into its output inside the loop that produces its input, and its adjoint
 * is a stride-0 read. Adjoints of values used only inside the group never leave registers. Consecutive
 * groups over [...K, ...T] and K that rows.ts chains run as one loop over the rows of K (`chainSource`): per
 * row the groups' bodies in order (reverse order in the reverse loops), the adjoints of one-entry-per-row
 * values read only in the chain in per-row registers, a power's array kernel over each tile of rows.
 *
 * The code is built with `new Function` from the program alone (no user text enters it: names are
 * generated, constants and rules are passed as arguments). Where `new Function` is refused (a strict
 * Content-Security-Policy), the compiled functional interprets the same program through the blocks' modes.
 */
import {
  addRule,
  type BinaryRule,
  expRule,
  multiplyRule,
  powerRule,
  subtractRule,
} from "../ops/elementwise-rules.js";
import { expInto, logInto, powScalarExponentRun, scalarLog } from "../ops/kernels/transcendental.js";
import type { Store } from "./buffers.js";
import type { StepRunner } from "./fallback.js";
import {
  broadcastStrides,
  contiguousStrides,
  type GroupStep,
  type Member,
  POWER_SHORTCUTS,
  type Program,
} from "./program.js";
import { collapsedStride, type RowShape } from "./rows.js";

/** How an operand is addressed inside the loop. */
interface Access {
  readonly id: number;
  readonly slot: number;
  /** "flat": entry i; "scalar": entry 0 (hoisted); "strided": its own offset counter. */
  readonly mode: "flat" | "scalar" | "strided";
  readonly strides: readonly number[];
}

/** The generated source of a group's four loops and the values they close over. */
export interface GroupSource {
  readonly names: string[];
  readonly values: unknown[];
  readonly forward: string;
  readonly tangent: string;
  readonly adjoint: string;
  readonly second: string;
  /**
   * Whether the Hessian action needs the tangent loop: false when it writes nothing but the functional's
   * tangent (which no second-order loop reads) and fills no cache for the second-order loop.
   */
  readonly tangentForHessian: boolean;
  /** A row chain's tangent loop for the Hessian action: without the groups whose tangents it never reads. */
  readonly hessianTangent?: string;
  /**
   * A row chain's second-order loop with that tangent loop fused into it: per row, the tangent bodies (the
   * same statements, in program order) and then the second-order bodies, which read the row's tangents
   * from registers. Run in place of both when no later step reads the chain's outputs.
   */
  readonly secondWithTangents?: string;
}

/** Builds the source of one group. */
class GroupWriter {
  private readonly names: string[];
  private readonly values: unknown[];
  /** Suffix of generated local names (unique per group of a row chain, empty alone). */
  private readonly tag: string;
  /** Set when the group is one body of a row loop (see rows.ts). */
  private readonly row: RowShape | undefined;
  private readonly externIndex: Map<unknown, string>;
  private readonly accesses: Access[] = [];
  private readonly accessOf = new Map<string, Access>();
  private readonly memberOfSlot = new Map<number, number>();
  private readonly shape: readonly number[];
  private readonly size: number;
  private readonly flatStrides: readonly number[];
  private counter = 0;

  constructor(
    private readonly program: Program,
    private readonly group: GroupStep,
    private readonly store: Store,
    private readonly assigned: ReadonlySet<number> = new Set(),
    chain?: ChainContext,
  ) {
    this.names = chain?.names ?? [];
    this.values = chain?.values ?? [];
    this.externIndex = chain?.externIndex ?? new Map();
    this.rowRegisters = chain?.registers ?? new Set();
    this.tag = chain?.tag ?? "";
    this.row = chain?.row;
    this.shape = group.shape;
    this.size = group.shape.reduce((a, b) => a * b, 1);
    this.flatStrides = contiguousStrides(group.shape);
    group.members.forEach((m, j) => {
      if (m.kind !== "sum") this.memberOfSlot.set(m.out, j);
    });
    // register every access first: the loop header needs them all
    for (const m of group.members) {
      for (const k of m.args) if (!this.memberOfSlot.has(k)) this.access(k);
      if (m.kind === "sum") this.sumAccess(m);
    }
  }

  /** A name bound to `value` in the generated function (shared for the same object). */
  private extern(value: unknown, prefix: string): string {
    const known = this.externIndex.get(value);
    if (known !== undefined) return known;
    const name = `${prefix}${this.names.length}`;
    this.names.push(name);
    this.values.push(value);
    this.externIndex.set(value, name);
    return name;
  }

  /**
   * A constant number in the generated code: a finite one as its literal (JavaScript prints the shortest
   * decimal that reads back to the same float64, so the value is exact, and the compiler folds it, e.g. a
   * power's `2 === 0` tests and `2 * (2 - 1)`); -0, infinities and NaN bound by value (equal ones share a
   * name).
   */
  private constant(value: number): string {
    if (Number.isFinite(value) && !Object.is(value, -0)) {
      const text = String(value);
      if (Number(text) !== value) throw new Error("internal: a constant does not print exactly");
      return value < 0 ? `(${text})` : text;
    }
    const key = Object.is(value, -0) ? "-0" : String(value);
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = `K${this.names.length}`;
    this.names.push(name);
    this.values.push(value);
    this.constants.set(key, name);
    return name;
  }

  /** Constants bound so far, by their exact value (-0 apart from 0). */
  private readonly constants = new Map<string, string>();

  private accessWith(slot: number, strides: readonly number[]): Access {
    const key = `${this.program.slots[slot].base}:${strides.join(",")}`;
    const known = this.accessOf.get(key);
    if (known !== undefined) return known;
    const flat = strides.every((s, d) => this.shape[d] === 1 || s === this.flatStrides[d]);
    const scalar = strides.every((s, d) => this.shape[d] === 1 || s === 0);
    const mode = scalar ? "scalar" : flat ? "flat" : "strided";
    const access: Access = { id: this.accesses.length, slot, mode, strides };
    this.accesses.push(access);
    this.accessOf.set(key, access);
    return access;
  }

  private access(slot: number): Access {
    const strides = broadcastStrides(this.program.slots[slot], this.shape);
    if (strides === undefined)
      throw new Error("internal: an operand does not broadcast to its group's shape");
    return this.accessWith(slot, strides);
  }

  /**
   * Whether a sum of a row-chain group adds up exactly the entries of one row (it reduces the row's trailing
   * axes T and nothing else): its output has one entry per row, complete at the end of the group's row body.
   */
  private sumOfRow(m: Extract<Member, { kind: "sum" }>): boolean {
    const row = this.row;
    if (row === undefined || this.shape.length === row.split) return false;
    const axes = new Set(m.params.axes);
    return this.shape.every((n, d) => n === 1 || d >= row.split === axes.has(d));
  }

  /** Statements opening and closing the current loop's row body (a row sum's register, its store). */
  private readonly rowHead: string[] = [];
  private readonly rowTail: string[] = [];

  /** The access of a sum's output: stride 0 along the reduced axes. */
  private sumAccess(m: Extract<Member, { kind: "sum" }>): Access {
    if (this.shape.length === 0) return this.accessWith(m.out, []);
    const keep = contiguousStrides(m.params.keepShape);
    const strides = this.shape.map((_, d) => (m.params.axes.includes(d) ? 0 : keep[d]));
    return this.accessWith(m.out, strides);
  }

  private fresh(prefix: string): string {
    this.counter++;
    return `${prefix}${this.tag}${this.counter}`;
  }

  /** The buffer name of slot `k`'s channel. */
  private buf(channel: "value" | "tangent" | "adjoint" | "hessian", k: number): string {
    const base = this.program.slots[k].base;
    if (this.store.buffers[channel][base] === undefined) {
      throw new Error(`internal: slot ${k} has no ${channel} buffer`);
    }
    const name = `${channel[0].toUpperCase()}${base}`;
    this.usedBuffers.set(name, `${this.extern(this.store.buffers, "S")}.${channel}[${base}]`);
    return name;
  }

  /**
   * The buffers a loop uses, read from the store when it starts (a control's value may be the caller's
   * array, a returned result's buffer is replaced by a fresh one): name -> expression.
   */
  private readonly usedBuffers = new Map<string, string>();

  /** A loop's source with its buffer reads in front. */
  private withBuffers(source: string): string {
    const reads = [...this.usedBuffers].map(([name, expr]) => `const ${name} = ${expr};\n`).join("");
    this.usedBuffers.clear();
    return reads + source;
  }

  /** The index expression of an access in the current copy of the body. */
  private index(a: Access, idx: IndexMap): string {
    if (a.mode === "scalar") return "0";
    if (a.mode === "flat") return idx.flat;
    return idx.strided(a.id);
  }

  /**
   * The call of a binary member's partial `name` at (a, b, z): written in place for multiply, add and
   * subtract (their formulas), else the rule's own function.
   */
  private partial(m: Member, name: Partial, a: string, b: string, z: string): string {
    if (m.kind !== "binary" && m.kind !== "constant") throw new Error("internal: not a binary member");
    const inline = INLINE.get(m.rule);
    if (inline !== undefined) return inline[name](a, b);
    const log = this.powerLog;
    if (m.rule === powerRule && (name === "da" || name === "daa" || (name !== "f" && log !== undefined)))
      return powerPartial(name, a, b, z, log ?? "");
    return `${this.rule(m)}.${name}(${a}, ${b}, ${z})`;
  }

  /** Whether a binary member's partial is identically zero (its term is left out, as the rule's loops do). */
  private zero(m: Member, name: Partial): boolean {
    if (m.kind !== "binary" && m.kind !== "constant") return false;
    return INLINE.get(m.rule)?.[name]("a", "b") === "0";
  }

  /** While writing a power's terms: the name holding ln a (taken once per entry). */
  private powerLog: string | undefined;

  /**
   * Scratch buffers of ln a for the powers with a recorded exponent: the tangent loop fills them, the
   * second-order loop (which always follows it, at the same values) reads them.
   */
  private readonly logCache = new Map<Member, string>();

  /**
   * ln a of a power member at the current entry, as the rule takes it: `R.db(a, 1, 1)` is 1 * ln(a), the
   * rule's own logarithm exactly (its db is z ln a); or the entry of the cache a kernel filled before the
   * loop (see powerLogKernel).
   */
  private powerLn(m: Member, a: string, idx: IndexMap, prologue: string[]): string {
    const cache = this.logKernel(m, prologue);
    return cache === undefined ? `${this.rule(m)}.db(${a}, 1, 1)` : `${cache}[${idx.flat}]`;
  }

  /**
   * The cache of ln a filled over the whole base by one kernel call before the loop (once per loop; see
   * powerLogKernel): for a power whose exponent is recorded and whose base is read entry by entry from its
   * own buffer; else undefined.
   */
  private logKernel(m: Member, prologue: string[]): string | undefined {
    const kernel = powerLogKernel.table ? logInto : powerRuleLogInto;
    if (m.kind !== "binary" || this.memberOfSlot.has(m.args[0])) return undefined;
    if (this.access(m.args[0]).mode !== "flat") return undefined;
    const cache = this.logCacheOf(m);
    if (cache === undefined) return undefined;
    const line = `${this.extern(kernel, "X")}(${this.buf("value", m.args[0])}, ${cache}, ${this.size});`;
    if (!prologue.includes(line)) prologue.push(line);
    return cache;
  }

  private logCacheOf(m: Member): string | undefined {
    if (m.kind !== "binary" || m.rule !== powerRule || !this.active(m.args[1]) || this.size === 1)
      return undefined;
    const known = this.logCache.get(m);
    if (known !== undefined) return known;
    const name = this.extern(new Float64Array(this.size), "C");
    this.logCache.set(m, name);
    return name;
  }

  private rule(m: Member): string {
    return m.kind === "sum" ? "" : this.extern(m.rule, "R");
  }

  private active(k: number): boolean {
    return this.program.slots[k].active;
  }

  // ---- the loop skeleton ----

  /**
   * The loop over the iteration shape with `body` per entry: collapses axes where every strided access
   * is contiguous across them, and unrolls an innermost axis of at most 4 entries.
   */
  private loop(body: (idx: IndexMap) => string): string {
    if (this.row !== undefined) {
      this.rowCode = this.rowBody(this.row, body);
      return ROW_MARK;
    }
    const strided = this.accesses.filter((a) => a.mode === "strided");
    if (strided.length === 0) {
      if (this.size === 1) return `{ const i = 0;\n${body({ flat: "0", strided: () => "0" })}}\n`;
      return `for (let i = 0; i < ${this.size}; i++) {\n${hoistReads(body({ flat: "i", strided: () => "i" }))}}\n`;
    }
    // collapse axes (size-1 axes dropped)
    const dims: { n: number; st: number[] }[] = [];
    this.shape.forEach((n, d) => {
      if (n === 1) return;
      const st = strided.map((a) => a.strides[d]);
      const last = dims[dims.length - 1];
      if (last !== undefined && st.every((s, q) => last.st[q] === s * n)) {
        last.n *= n;
        last.st = st;
      } else dims.push({ n, st });
    });
    const r = dims.length;
    const q = (a: number, level: number) => `q${a}_${level}`;
    let open = "";
    let close = "";
    const unroll = r >= 2 && dims[r - 1].n <= 4;
    const levels = unroll ? r - 1 : r;
    for (let level = 0; level < levels; level++) {
      const init = strided
        .map((_, s) => `${q(s, level)} = ${level === 0 ? "0" : q(s, level - 1)}`)
        .join(", ");
      const step = strided.map((_, s) => `${q(s, level)} += ${dims[level].st[s]}`).join(", ");
      open += `for (let j${level} = 0, ${init}; j${level} < ${dims[level].n}; j${level}++, ${step}) {\n`;
      close += "}\n";
    }
    const position = new Map(strided.map((a, s) => [a.id, s]));
    let inner = "";
    if (unroll) {
      const last = dims[r - 1];
      for (let t = 0; t < last.n; t++) {
        const idx: IndexMap = {
          flat: `(i + ${t})`,
          strided: (id) => {
            const s = position.get(id) ?? 0;
            return `(${q(s, levels - 1)} + ${t * last.st[s]})`;
          },
        };
        inner += `{\n${body(idx)}}\n`;
      }
      inner = `${hoistReads(inner)}i += ${last.n};\n`;
    } else {
      inner = `{\n${hoistReads(body({ flat: "i", strided: (id) => q(position.get(id) ?? 0, levels - 1) }))}}\ni++;\n`;
    }
    return `let i = 0;\n${open}${inner}${close}`;
  }

  /** The body of the current loop when the group is one body of a row loop. */
  private rowCode = "";

  /** The strided accesses of a row body, with their per-row counter, step across rows and step in a row. */
  rowCounters(row: RowShape): { id: number; name: string; outer: number; inner: number }[] {
    return this.accesses
      .filter((a) => a.mode === "strided")
      .map((a, s) => {
        const outer = collapsedStride(this.shape, a.strides, 0, row.split);
        const inner = collapsedStride(this.shape, a.strides, row.split, this.shape.length);
        if (outer === undefined || inner === undefined)
          throw new Error("internal: a row access does not collapse");
        return { id: a.id, name: `q${this.tag}${s}`, outer, inner };
      });
  }

  /**
   * One row of the group: a K group's body at entry r; an S group's body at entries i + t of the row (t
   * unrolled up to 4 entries, else looped), its strided operands at their row counter plus t times their
   * stride in the row.
   */
  private rowBody(row: RowShape, body: (idx: IndexMap) => string): string {
    const head = this.rowHead.splice(0).join("");
    const tail = this.rowTail.splice(0).join("");
    return head + this.rowEntries(row, body) + tail;
  }

  /** The index expressions of a row's first entry (t = 0). */
  private rowStart(): IndexMap {
    if (this.row === undefined) throw new Error("internal: not a row body");
    const counters = new Map(this.rowCounters(this.row).map((c) => [c.id, c]));
    return {
      flat: "i",
      strided: (id) => {
        const c = counters.get(id);
        if (c === undefined) throw new Error("internal: no row counter");
        return rowPosition(c, "0");
      },
    };
  }

  /** The entries of one row of the group (see rowBody). */
  private rowEntries(row: RowShape, body: (idx: IndexMap) => string): string {
    if (this.shape.length === row.split) {
      if (this.accesses.some((a) => a.mode === "strided")) throw new Error("internal: a strided row access");
      const code = body({ flat: "r", strided: () => "r" });
      return code.trim() === "" ? "" : `{\n${code}}\n`;
    }
    const counters = new Map(this.rowCounters(row).map((c) => [c.id, c]));
    const at = (id: number, step: (inner: number) => string) => {
      const c = counters.get(id);
      if (c === undefined) throw new Error("internal: no row counter");
      return rowPosition(c, step(c.inner));
    };
    if (row.inner <= 4) {
      let code = "";
      for (let t = 0; t < row.inner; t++)
        code += `{\n${body({ flat: `(i + ${t})`, strided: (id) => at(id, (st) => String(t * st)) })}}\n`;
      return code;
    }
    const idx: IndexMap = { flat: "(i + t)", strided: (id) => at(id, (st) => `t * ${st}`) };
    return `for (let t = 0; t < ${row.inner}; t++) {\n${body(idx)}}\n`;
  }

  /** The four loops cut around the row body (before the row loop, the row, after it), for a row chain. */
  parts(): Record<LoopName, RowPart> & { tangentForHessian: boolean } {
    const part = (code: string): RowPart => {
      const [before, after] = code.split(ROW_MARK);
      if (after === undefined) throw new Error("internal: a row part has no row");
      const buffers = new Map(this.usedBuffers);
      this.usedBuffers.clear();
      const kernels = this.kernels.splice(0);
      return { before, row: this.rowCode, after, buffers, kernels };
    };
    const forward = part(this.forward());
    const tangent = part(this.tangent());
    const adjoint = part(this.adjoint());
    this.checkAssigned(["adjoint"]);
    this.inSecond = true;
    const second = part(this.second());
    this.checkAssigned(["adjoint", "hessian"]);
    this.inSecond = false;
    return { forward, tangent, adjoint, second, tangentForHessian: this.tangentForHessian };
  }

  // ---- operands ----

  /** Hoisted reads of scalar accesses of `channel`, declared before the loop. */
  private hoisted = new Map<string, string>();

  private scalarRead(channel: "value" | "tangent", a: Access, prologue: string[]): string {
    const key = `${channel}:${a.id}`;
    const known = this.hoisted.get(key);
    if (known !== undefined) return known;
    const name = this.fresh(channel === "value" ? "x" : "t");
    prologue.push(`const ${name} = ${this.buf(channel, a.slot)}[0];`);
    this.hoisted.set(key, name);
    return name;
  }

  /** The value of operand slot `k` in the current body. */
  private valueOf(k: number, idx: IndexMap, prologue: string[]): string {
    const j = this.memberOfSlot.get(k);
    if (j !== undefined) return `v${j}`;
    const a = this.access(k);
    if (a.mode === "scalar") return this.scalarRead("value", a, prologue);
    return `${this.buf("value", k)}[${this.index(a, idx)}]`;
  }

  /** The tangent of operand slot `k`, or undefined when it does not depend on a control. */
  private tangentOf(k: number, idx: IndexMap, prologue: string[]): string | undefined {
    if (!this.active(k)) return undefined;
    const j = this.memberOfSlot.get(k);
    if (j !== undefined) return `d${j}`;
    const a = this.access(k);
    if (a.mode === "scalar") return this.scalarRead("tangent", a, prologue);
    return `${this.buf("tangent", k)}[${this.index(a, idx)}]`;
  }

  /**
   * Statement adding `expr` to the adjoint (or second-order adjoint) of operand `k`: a register, an
   * accumulator flushed after the loop (a scalar operand: summed in entry order, then added, as the
   * uncompiled sweep adds a summed broadcast adjoint), or the buffer at its strided position.
   */
  private addTo(
    channel: "adjoint" | "hessian",
    k: number,
    expr: string,
    idx: IndexMap,
    acc: Accumulators,
    site: string,
  ): string {
    if (!this.active(k)) return "";
    const j = this.memberOfSlot.get(k);
    if (j !== undefined) return `${channel === "adjoint" ? "b" : "h"}${j} += ${expr};\n`;
    // the Hessian action reads a first-order adjoint only in the loop of the value's producer: a control's
    // (produced by no step) is not needed there, and the derivative computes it again
    if (this.inSecond && channel === "adjoint" && this.unproduced(k)) return "";
    const register = this.rowRegister(channel, k);
    if (register !== undefined) return `${register} += ${expr};\n`;
    const a = this.access(k);
    const buffer = this.buf(channel, k);
    if (a.mode === "scalar") {
      const name = acc.nameFor(`${channel}:${site}`, channel, buffer);
      return `${name} += ${expr};\n`;
    }
    if (this.ownSum(site)) {
      // summed apart in entry order and added after the loop (see Member.ownSums)
      const size = this.program.slots[this.program.slots[k].base].size;
      const name = acc.sumFor(`${channel}:${site}`, buffer, size, () =>
        this.extern(new Float64Array(size), "zs"),
      );
      return `${name}[${this.index(a, idx)}] += ${expr};\n`;
    }
    const base = this.program.slots[k].base;
    const key = `${channel}:${base}`;
    if (this.assigned.has(base) && !this.written.has(key)) {
      // the first write of this entry in the reverse sweep: the buffer is not cleared, and
      // (expr) + 0 is what 0 + (expr) gives (-0 becomes 0), so the numbers stay the same
      this.written.add(key);
      this.assignedIn.add(key);
      return `${buffer}[${this.index(a, idx)}] = (${expr}) + 0;\n`;
    }
    return `${buffer}[${this.index(a, idx)}] += ${expr};\n`;
  }

  /** Whether the operand at `site` (member j, or j:position) has its broadcast terms summed apart. */
  private ownSum(site: string): boolean {
    const [j, position] = site.split(":").map(Number);
    const m = this.group.members[j];
    return m?.ownSums?.includes(position ?? 0) === true;
  }

  /**
   * Base slots of a row chain whose adjoints (and second-order adjoints) live in per-row registers: values
   * of one row, every reader in the chain (see chainRegisters).
   */
  private readonly rowRegisters: ReadonlySet<number>;

  /** The per-row register of slot k's reverse channel, or undefined when it has a buffer. */
  private rowRegister(channel: "adjoint" | "hessian", k: number): string | undefined {
    const base = this.program.slots[k].base;
    if (!this.rowRegisters.has(base)) return undefined;
    return `${channel === "adjoint" ? "ra" : "rh"}${base}`;
  }

  /** Set while the second-order loop is written. */
  private inSecond = false;

  /** Whether slot k's value is produced by no step of the program (a control). */
  private unproduced(k: number): boolean {
    return this.program.slots[this.program.slots[k].base].producer === undefined;
  }

  /** (channel, base) pairs already written in the current copy of a reverse body. */
  private readonly written = new Set<string>();
  /** (channel, base) pairs a reverse loop assigned (each assigned base must be, in each channel). */
  private readonly assignedIn = new Set<string>();

  /** Checks that a reverse loop assigned every buffer it is meant to (the store does not clear them). */
  private checkAssigned(channels: readonly ("adjoint" | "hessian")[]): void {
    for (const base of this.assigned) {
      for (const channel of channels) {
        if (this.inSecond && channel === "adjoint" && this.unproduced(base)) continue;
        if (this.rowRegisters.has(base)) continue;
        if (!this.assignedIn.has(`${channel}:${base}`))
          throw new Error(`internal: the reverse loop does not assign the ${channel} buffer of slot ${base}`);
      }
    }
    this.assignedIn.clear();
  }

  // ---- the four loops ----

  /** Values: members in order, registers passed on, sums accumulated. */
  forward(): string {
    this.hoisted.clear();
    const prologue: string[] = [];
    const epilogue: string[] = [];
    const sums = this.sumTargets("value", prologue, epilogue);
    const loop = this.loop((idx) => {
      let code = "";
      this.group.members.forEach((m, j) => {
        if (m.kind === "sum") {
          code += `${sums(j, idx)} += ${this.valueOf(m.args[0], idx, prologue)};\n`;
          return;
        }
        if (m.run === true) {
          this.runKernel(m, prologue);
          code += `const v${j} = ${this.buf("value", m.out)}[${idx.flat}];\n`;
          return;
        }
        code += `const v${j} = ${this.valueExpr(m, idx, prologue)};\n`;
        // a cheap value used only here is recomputed by the other loops, not stored
        if (!this.recomputed(m)) code += `${this.buf("value", m.out)}[${idx.flat}] = v${j};\n`;
      });
      return pruneUnused(code);
    });
    return `${prologue.join("\n")}\n${loop}${epilogue.join("\n")}`;
  }

  /** Whether a member's value and tangent are recomputed from its operands instead of stored and loaded. */
  private recomputed(m: Member): boolean {
    if (m.kind === "sum" || m.kind === "unary" || m.run === true) return false;
    if (!this.program.slots[m.out].internal) return false;
    if (INLINE.has(m.rule)) return true;
    return (
      m.kind === "constant" &&
      !m.constantIsFirst &&
      m.rule === powerRule &&
      POWER_SHORTCUTS.includes(m.constant)
    );
  }

  /** A member's value from its operands (the rule's f; the shortcut formulas where the loops use them). */
  private valueExpr(m: Member, idx: IndexMap, prologue: string[]): string {
    if (m.kind === "sum") throw new Error("internal: a sum has no value expression");
    if (m.kind === "unary") return `${this.rule(m)}.f(${this.valueOf(m.args[0], idx, prologue)})`;
    if (m.kind === "binary") {
      const a = this.valueOf(m.args[0], idx, prologue);
      const b = this.valueOf(m.args[1], idx, prologue);
      return this.partial(m, "f", a, b, "");
    }
    const v = this.valueOf(m.args[0], idx, prologue);
    const c = this.constant(m.constant);
    const shortcut = m.rule === powerRule && !m.constantIsFirst ? powerShortcut(v, m.constant) : undefined;
    return shortcut ?? (m.constantIsFirst ? this.partial(m, "f", c, v, "") : this.partial(m, "f", v, c, ""));
  }

  /** A member's tangent from its operands' values and tangents (`v{j}` is its value). */
  private tangentExpr(m: Member, j: number, idx: IndexMap, prologue: string[]): string {
    if (m.kind === "sum") throw new Error("internal: a sum has no tangent expression");
    const z = `v${j}`;
    if (m.kind === "unary") {
      const xd = this.tangentOf(m.args[0], idx, prologue);
      if (xd === undefined) return "0";
      return `${this.rule(m)}.df(${this.valueOf(m.args[0], idx, prologue)}, ${z}) * ${xd}`;
    }
    if (m.kind === "binary") {
      const a = this.valueOf(m.args[0], idx, prologue);
      const b = this.valueOf(m.args[1], idx, prologue);
      const ad = this.tangentOf(m.args[0], idx, prologue);
      const bd = this.tangentOf(m.args[1], idx, prologue);
      const ta = ad === undefined ? undefined : `${this.partial(m, "da", a, b, z)} * ${ad}`;
      const tb = bd === undefined ? undefined : `${this.partial(m, "db", a, b, z)} * ${bd}`;
      if (ta !== undefined && tb !== undefined) return `${ta} + ${tb}`;
      return ta ?? tb ?? "0";
    }
    const v = this.valueOf(m.args[0], idx, prologue);
    const vd = this.tangentOf(m.args[0], idx, prologue);
    const c = this.constant(m.constant);
    if (vd === undefined) return "0";
    return m.constantIsFirst
      ? `${this.partial(m, "db", c, v, z)} * ${vd}`
      : `${this.partial(m, "da", v, c, z)} * ${vd}`;
  }

  /** Emits (once, before the loop) the array kernel computing a run member's whole output. */
  private readonly ran = new Set<Member>();
  private runKernel(m: Member, prologue: string[]): void {
    if (this.ran.has(m) || m.kind === "sum") return;
    this.ran.add(m);
    const out = this.buf("value", m.out);
    const base = this.buf("value", m.args[0]);
    const n = this.size;
    if (m.kind === "unary") {
      const kernel = this.extern(m.rule === expRule ? expInto : logInto, "X");
      prologue.push(`${kernel}(${base}, ${out}, ${n});`);
      return;
    }
    const kernel = this.extern(powScalarExponentRun, "X");
    const exponent =
      m.kind === "constant"
        ? this.constant(m.constant)
        : this.scalarRead("value", this.access(m.args[1]), prologue);
    if (this.row !== undefined) {
      // in a row chain the power runs over each tile of rows, after the bodies producing its operand
      const per = this.size / this.row.rows;
      const from = per === 1 ? "r0" : `r0 * ${per}`;
      const count = per === 1 ? "r1 - r0" : `(r1 - r0) * ${per}`;
      this.kernels.push(`${kernel}(${out}, ${from}, ${base}, ${from}, 1, ${exponent}, ${count});`);
      return;
    }
    prologue.push(`${kernel}(${out}, 0, ${base}, 0, 1, ${exponent}, ${n});`);
  }

  /** The power runs of the forward loop of a row chain's group, over the tile of rows [r0, r1). */
  private readonly kernels: string[] = [];

  /**
   * The write target of each sum's `channel` ("value" or "tangent"): a scalar accumulator (stored after the
   * loop) or the output buffer at the stride-0 position (zeroed before the loop).
   */
  private sumTargets(
    channel: "value" | "tangent",
    prologue: string[],
    epilogue: string[],
  ): (j: number, idx: IndexMap) => string {
    const names = new Map<number, string>();
    const rows = new Map<number, string>();
    this.group.members.forEach((m, j) => {
      if (m.kind !== "sum") return;
      const a = this.sumAccess(m);
      const buffer = this.buf(channel, m.out);
      if (channel === "tangent") this.tangentWrite(m.out);
      if (a.mode === "scalar") {
        const name = this.fresh("s");
        prologue.push(`let ${name} = 0;`);
        epilogue.push(`${buffer}[0] = ${name};`);
        names.set(j, name);
      } else if (this.sumOfRow(m)) {
        // the sum of a row's entries: a register from 0 (the same additions), stored once at the row's end
        const name = this.fresh("rs");
        this.rowHead.push(`let ${name} = 0;\n`);
        this.rowTail.push(`${buffer}[${this.index(a, this.rowStart())}] = ${name};\n`);
        rows.set(j, name);
      } else prologue.push(`${buffer}.fill(0);`);
    });
    return (j, idx) => {
      const name = names.get(j) ?? rows.get(j);
      if (name !== undefined) return name;
      const m = this.group.members[j];
      if (m.kind !== "sum") throw new Error("internal: not a sum");
      return `${this.buf(channel, m.out)}[${this.index(this.sumAccess(m), idx)}]`;
    };
  }

  /** Loads of the members' stored values (and tangents) at the start of a body. */
  private loads(idx: IndexMap, tangents: boolean, prologue: string[]): string {
    let code = "";
    this.group.members.forEach((m, j) => {
      if (m.kind === "sum") return;
      if (this.recomputed(m)) {
        code += `const v${j} = ${this.valueExpr(m, idx, prologue)};\n`;
        if (tangents) code += `const d${j} = ${this.tangentExpr(m, j, idx, prologue)};\n`;
        return;
      }
      code += `const v${j} = ${this.buf("value", m.out)}[${idx.flat}];\n`;
      if (tangents) code += `const d${j} = ${this.buf("tangent", m.out)}[${idx.flat}];\n`;
    });
    return code;
  }

  /** Set by the tangent loop: it writes a tangent some later loop reads, or fills a cache. */
  private tangentForHessian = false;

  /** Notes a tangent buffer the tangent loop writes (all but the functional's are read later). */
  private tangentWrite(k: number): void {
    const functional = this.program.slots[this.program.functional].base;
    if (this.program.slots[k].base !== functional) this.tangentForHessian = true;
  }

  /** Tangents: ydot = f' xdot, zdot = f_a adot + f_b bdot, a sum's tangent the sum of tangents. */
  tangent(): string {
    this.hoisted.clear();
    const prologue: string[] = [];
    const epilogue: string[] = [];
    const sums = this.sumTargets("tangent", prologue, epilogue);
    const loop = this.loop((idx) => {
      let code = this.loads(idx, false, prologue);
      this.group.members.forEach((m, j) => {
        if (m.kind === "sum") {
          const xd = this.tangentOf(m.args[0], idx, prologue);
          if (xd !== undefined) code += `${sums(j, idx)} += ${xd};\n`;
          return;
        }
        const cache = this.logCacheOf(m);
        if (cache !== undefined) this.tangentForHessian = true;
        if (cache !== undefined && m.kind === "binary") {
          // the tangent's f_b takes ln a: kept for the second-order loop that follows in a Hessian action
          const a = this.valueOf(m.args[0], idx, prologue);
          const ln = this.powerLn(m, a, idx, prologue);
          code += `const L${j} = ${ln};\n`;
          if (ln !== `${cache}[${idx.flat}]`) code += `${cache}[${idx.flat}] = L${j};\n`;
          this.powerLog = `L${j}`;
        }
        code += `const d${j} = ${this.tangentExpr(m, j, idx, prologue)};\n`;
        this.powerLog = undefined;
        if (!this.recomputed(m)) {
          this.tangentWrite(m.out);
          code += `${this.buf("tangent", m.out)}[${idx.flat}] = d${j};\n`;
        }
      });
      return pruneUnused(code);
    });
    return `${prologue.join("\n")}\n${loop}${epilogue.join("\n")}`;
  }

  /** Declarations of the members' adjoint registers (from their buffers when others add to them too). */
  private registers(idx: IndexMap, hessian: boolean): string {
    let code = "";
    this.group.members.forEach((m, j) => {
      if (m.kind === "sum") return;
      const internal = this.program.slots[m.out].internal;
      const load = (channel: "adjoint" | "hessian") =>
        internal ? "0" : (this.rowRegister(channel, m.out) ?? `${this.buf(channel, m.out)}[${idx.flat}]`);
      code += `let b${j} = ${load("adjoint")};\n`;
      if (hessian) code += `let h${j} = ${load("hessian")};\n`;
    });
    return code;
  }

  /** A sum output's adjoint (or second-order adjoint) at the current entry: a stride-0 read. */
  private sumSeed(channel: "adjoint" | "hessian", m: Member, idx: IndexMap, prologue: string[]): string {
    if (m.kind !== "sum") throw new Error("internal: not a sum");
    const a = this.sumAccess(m);
    const register = this.rowRegister(channel, m.out);
    if (register !== undefined) return register;
    const buffer = this.buf(channel, m.out);
    if (a.mode !== "scalar") return `${buffer}[${this.index(a, idx)}]`;
    const key = `${channel}:sum:${m.out}`;
    const known = this.hoisted.get(key);
    if (known !== undefined) return known;
    const name = this.fresh("y");
    prologue.push(`const ${name} = ${buffer}[0];`);
    this.hoisted.set(key, name);
    return name;
  }

  /** Adjoints: members in reverse order, xbar += f' ybar, abar += f_a zbar, bbar += f_b zbar. */
  adjoint(): string {
    this.hoisted.clear();
    const prologue: string[] = [];
    const acc = new Accumulators(this.tag);
    const loop = this.loop((idx) => {
      this.written.clear();
      let code = this.loads(idx, false, prologue) + this.registers(idx, false);
      for (let j = this.group.members.length - 1; j >= 0; j--) {
        const m = this.group.members[j];
        if (m.kind === "sum") {
          code += this.addTo(
            "adjoint",
            m.args[0],
            this.sumSeed("adjoint", m, idx, prologue),
            idx,
            acc,
            `${j}`,
          );
          continue;
        }
        const R = this.rule(m);
        const z = `v${j}`;
        if (m.kind === "unary") {
          const x = this.valueOf(m.args[0], idx, prologue);
          code += this.addTo("adjoint", m.args[0], `${R}.df(${x}, ${z}) * b${j}`, idx, acc, `${j}`);
        } else if (m.kind === "binary") {
          const [ka, kb] = m.args;
          const a = this.valueOf(ka, idx, prologue);
          const b = this.valueOf(kb, idx, prologue);
          const ga = this.fresh("g");
          const gb = this.fresh("g");
          if (this.active(ka)) code += `const ${ga} = ${this.partial(m, "da", a, b, z)} * b${j};\n`;
          const cache = m.rule === powerRule && this.active(kb) ? this.logKernel(m, prologue) : undefined;
          if (cache !== undefined) this.powerLog = `${cache}[${idx.flat}]`;
          if (this.active(kb)) code += `const ${gb} = ${this.partial(m, "db", a, b, z)} * b${j};\n`;
          this.powerLog = undefined;
          code += this.addTo("adjoint", ka, ga, idx, acc, `${j}:0`);
          code += this.addTo("adjoint", kb, gb, idx, acc, `${j}:1`);
        } else {
          const v = this.valueOf(m.args[0], idx, prologue);
          const c = this.constant(m.constant);
          const partial = m.constantIsFirst ? this.partial(m, "db", c, v, z) : this.partial(m, "da", v, c, z);
          code += this.addTo("adjoint", m.args[0], `${partial} * b${j}`, idx, acc, `${j}`);
        }
      }
      return pruneUnused(code);
    });
    return `${prologue.join("\n")}\n${acc.declarations()}${loop}${acc.flushes()}`;
  }

  /**
   * Adjoints and second-order adjoints in one reverse loop, with the blocks' formulas:
   * xhat = f' yhat + f'' ybar xdot; ahat = f_a zhat + zbar (f_aa adot + f_ab bdot),
   * bhat = f_b zhat + zbar (f_ab adot + f_bb bdot); a term is added for nonzero factors only, as the
   * uncompiled loops do.
   */
  second(): string {
    this.hoisted.clear();
    const prologue: string[] = [];
    const acc = new Accumulators(this.tag);
    const loop = this.loop((idx) => {
      this.written.clear();
      let code = this.loads(idx, true, prologue) + this.registers(idx, true);
      for (let j = this.group.members.length - 1; j >= 0; j--) {
        const m = this.group.members[j];
        if (m.kind === "sum") {
          code += this.addTo(
            "adjoint",
            m.args[0],
            this.sumSeed("adjoint", m, idx, prologue),
            idx,
            acc,
            `${j}`,
          );
          code += this.addTo(
            "hessian",
            m.args[0],
            this.sumSeed("hessian", m, idx, prologue),
            idx,
            acc,
            `${j}`,
          );
          continue;
        }
        code += this.secondMember(m, j, idx, prologue, acc);
      }
      return pruneUnused(code);
    });
    return `${prologue.join("\n")}\n${acc.declarations()}${loop}${acc.flushes()}`;
  }

  // long: the three member kinds' second-order formulas written side by side, as the blocks state them
  private secondMember(m: Member, j: number, idx: IndexMap, prologue: string[], acc: Accumulators): string {
    if (m.kind === "sum") return "";
    const R = this.rule(m);
    const z = `v${j}`;
    const w = `b${j}`;
    const hh = `h${j}`;
    let code = "";
    if (m.kind === "unary") {
      const k = m.args[0];
      if (!this.active(k)) return "";
      const x = this.valueOf(k, idx, prologue);
      const xd = this.tangentOf(k, idx, prologue) ?? "0";
      const f = this.fresh("f");
      const e = this.fresh("e");
      code += `const ${f} = ${R}.df(${x}, ${z});\n`;
      code += `let ${e} = ${hh} !== 0 ? ${f} * ${hh} : 0;\n`;
      code += `if (${w} !== 0 && ${xd} !== 0) ${e} += ${R}.d2f(${x}, ${z}) * ${w} * ${xd};\n`;
      code += this.addTo("adjoint", k, `${f} * ${w}`, idx, acc, `${j}`);
      code += this.addTo("hessian", k, e, idx, acc, `${j}`);
      return code;
    }
    let ka: number | undefined;
    let kb: number | undefined;
    let a: string;
    let b: string;
    if (m.kind === "binary") {
      [ka, kb] = m.args;
      a = this.valueOf(ka, idx, prologue);
      b = this.valueOf(kb, idx, prologue);
    } else {
      const v = this.valueOf(m.args[0], idx, prologue);
      const c = this.constant(m.constant);
      if (m.constantIsFirst) {
        kb = m.args[0];
        a = c;
        b = v;
      } else {
        ka = m.args[0];
        a = v;
        b = c;
      }
    }
    const needA = ka !== undefined && this.active(ka);
    const needB = kb !== undefined && this.active(kb);
    const ad = needA && ka !== undefined ? this.tangentOf(ka, idx, prologue) : undefined;
    const bd = needB && kb !== undefined ? this.tangentOf(kb, idx, prologue) : undefined;
    const adi = this.fresh("p");
    const bdi = this.fresh("p");
    code += `const ${adi} = ${ad ?? "0"};\nconst ${bdi} = ${bd ?? "0"};\n`;
    const cross = this.fresh("c");
    const crossUsed = (needA && bd !== undefined) || (needB && ad !== undefined);
    if (m.rule === powerRule && (needB || crossUsed)) {
      // ln a once per entry (as the power's second-order loop takes it), kept by the tangent loop
      const log = this.fresh("L");
      const cached = this.logCache.get(m);
      code += `const ${log} = ${cached === undefined ? this.powerLn(m, a, idx, prologue) : `${cached}[${idx.flat}]`};\n`;
      this.powerLog = log;
    }
    // the cross term enters ahat with bdot and bhat with adot only: skipped where neither is needed
    const crossNeeded = !this.zero(m, "dab") && ((needA && bd !== undefined) || (needB && ad !== undefined));
    if (crossNeeded)
      code += `const ${cross} = ${w} !== 0 && (${adi} !== 0 || ${bdi} !== 0) ? ${w} * ${this.partial(m, "dab", a, b, z)} : 0;\n`;
    const adjoints: string[] = [];
    const hats: string[] = [];
    if (needA && ka !== undefined) {
      const p = this.fresh("f");
      const e = this.fresh("e");
      code += `const ${p} = ${this.partial(m, "da", a, b, z)};\n`;
      code += `let ${e} = ${hh} !== 0 ? ${p} * ${hh} : 0;\n`;
      if (!this.zero(m, "daa"))
        code += `if (${w} !== 0 && ${adi} !== 0) ${e} += ${w} * ${this.partial(m, "daa", a, b, z)} * ${adi};\n`;
      if (crossNeeded && bd !== undefined) code += `if (${bdi} !== 0) ${e} += ${cross} * ${bdi};\n`;
      adjoints.push(this.addTo("adjoint", ka, `${p} * ${w}`, idx, acc, `${j}:0`));
      hats.push(this.addTo("hessian", ka, e, idx, acc, `${j}:0`));
    }
    if (needB && kb !== undefined) {
      const p = this.fresh("f");
      const e = this.fresh("e");
      code += `const ${p} = ${this.partial(m, "db", a, b, z)};\n`;
      code += `let ${e} = ${hh} !== 0 ? ${p} * ${hh} : 0;\n`;
      if (!this.zero(m, "dbb"))
        code += `if (${w} !== 0 && ${bdi} !== 0) ${e} += ${w} * ${this.partial(m, "dbb", a, b, z)} * ${bdi};\n`;
      if (crossNeeded && ad !== undefined) code += `if (${adi} !== 0) ${e} += ${cross} * ${adi};\n`;
      adjoints.push(this.addTo("adjoint", kb, `${p} * ${w}`, idx, acc, `${j}:1`));
      hats.push(this.addTo("hessian", kb, e, idx, acc, `${j}:1`));
    }
    this.powerLog = undefined;
    return code + adjoints.join("") + hats.join("");
  }

  source(): GroupSource {
    const forward = this.withBuffers(this.forward());
    const tangent = this.withBuffers(this.tangent());
    const adjoint = this.withBuffers(this.adjoint());
    this.checkAssigned(["adjoint"]);
    this.inSecond = true;
    const second = this.withBuffers(this.second());
    this.checkAssigned(["adjoint", "hessian"]);
    this.inSecond = false;
    return {
      names: this.names,
      values: this.values,
      forward,
      tangent,
      adjoint,
      second,
      tangentForHessian: this.tangentForHessian,
    };
  }
}

/** A value where the table logarithm and V8's `Math.log` differ (2 ulp apart). */
const LOG_PROBE = 2.8706161938607693;

/**
 * How the generated loops take a power's ln a where its base is read entry by entry from its own buffer:
 * by one kernel call over the whole base before the loop, into a cache the loop reads (measured: the Hessian
 * action's fused loop about 8% faster with the logarithm's calls out of it, the gradient the same). The
 * kernel is `logInto` when the power rule's logarithm is the table logarithm (`scalarLog`, whose entries
 * `logInto` reproduces bit for bit; recognised where it and `Math.log` differ, and fast where the kernel is),
 * else the rule's own logarithm entry by entry (powerRuleLogInto). `table` is writable for tests.
 */
export const powerLogKernel = {
  table:
    powerRule.db(LOG_PROBE, 1, 1) === scalarLog(LOG_PROBE) && scalarLog(LOG_PROBE) !== Math.log(LOG_PROBE),
};

/** out[i] = ln x[i] for i < n as the power rule takes it (its db at z = 1): the rule's log over an array. */
function powerRuleLogInto(x: Float64Array, out: Float64Array, n: number): void {
  const db = powerRule.db;
  for (let i = 0; i < n; i++) out[i] = db(x[i], 1, 1);
}

/** Stands for the row body in a loop's source while a row chain's parts are cut apart. */
const ROW_MARK = "\u0000row\u0000";

/** What a group of a row chain shares with the others: extern names, its local-name tag, the row split. */
interface ChainContext {
  readonly names: string[];
  readonly values: unknown[];
  readonly externIndex: Map<unknown, string>;
  readonly registers: ReadonlySet<number>;
  readonly tag: string;
  readonly row: RowShape;
}

type LoopName = "forward" | "tangent" | "adjoint" | "second";

/** One loop of a group in a row chain: code before the row loop, the row body, code after; its buffers. */
interface RowPart {
  readonly before: string;
  readonly row: string;
  readonly after: string;
  readonly buffers: ReadonlyMap<string, string>;
  /** Power runs over the tile [r0, r1) that must follow the earlier groups' rows of the tile. */
  readonly kernels: readonly string[];
}

/** Rows per tile of a row chain whose forward loop runs power kernels between its groups. */
const TILE_ROWS = 1024;

/** The partials of the linear and bilinear rules, written in place: f, da, db, daa, dab, dbb. */
type Partial = "f" | "da" | "db" | "daa" | "dab" | "dbb";
const INLINE = new Map<BinaryRule, Record<Partial, (a: string, b: string) => string>>([
  [
    multiplyRule,
    {
      f: (a, b) => `${a} * ${b}`,
      da: (_a, b) => b,
      db: (a) => a,
      daa: () => "0",
      dab: () => "1",
      dbb: () => "0",
    },
  ],
  [
    addRule,
    {
      f: (a, b) => `${a} + ${b}`,
      da: () => "1",
      db: () => "1",
      daa: () => "0",
      dab: () => "0",
      dbb: () => "0",
    },
  ],
  [
    subtractRule,
    {
      f: (a, b) => `${a} - ${b}`,
      da: () => "1",
      db: () => "(-1)",
      daa: () => "0",
      dab: () => "0",
      dbb: () => "0",
    },
  ],
]);

/**
 * The power rule's partials written in place with ln a held in `log` (the rule's formulas: the same numbers,
 * one logarithm per entry instead of three).
 */
function powerPartial(name: Partial, a: string, b: string, z: string, log: string): string {
  switch (name) {
    case "f":
      return `${a} ** ${b}`;
    case "da":
      return `(${b} === 2 ? 2 * ${a} : ${b} === 0 ? 0 : ${a} === 0 ? ${b} * ${a} ** (${b} - 1) : (${b} * ${z}) / ${a})`;
    case "db":
      return `(${z} === 0 ? 0 : ${z} * ${log})`;
    case "daa":
      return `(${b} === 2 ? 2 : ${b} === 0 || ${b} === 1 ? 0 : ${a} === 0 ? ${b} * (${b} - 1) * ${a} ** (${b} - 2) : (${b} * (${b} - 1) * ${z}) / (${a} * ${a}))`;
    case "dab":
      return `(${a} === 0 ? ${a} ** (${b} - 1) * (1 + ${b} * ${log}) : (${z} / ${a}) * (1 + ${b} * ${log}))`;
    default:
      return `(${z} === 0 ? 0 : ${z} * (${log} * ${log}))`; // ln a ** 2: pow with exponent 2 is x * x, exactly
  }
}

/**
 * x ** c written without pow for the exponents the array loops special-case (the same expressions, so the
 * same numbers), or undefined.
 */
function powerShortcut(x: string, c: number): string | undefined {
  if (c === 2) return `${x} * ${x}`;
  if (c === 1) return `${x}`;
  if (c === 0) return "1";
  if (c === -1) return `1 / ${x}`;
  if (c === 0.5) return `(${x} === 0 ? 0 : ${x} === -Infinity ? Infinity : Math.sqrt(${x}))`;
  return undefined;
}

/**
 * A loop body without its unused constants (`const name = expr;` lines whose name nothing else reads, e.g. a
 * recomputed member's tangent the second-order loop does not need), repeated until none is left. The
 * expressions are pure (arithmetic, buffer reads, the rules' scalar functions), so the numbers do not change.
 */
function pruneUnused(code: string): string {
  let lines = mergeWrites(code.split("\n"));
  for (;;) {
    const text = lines.join("\n");
    const kept = lines.filter((line) => {
      const match = /^const (\w+) = /.exec(line);
      if (match === null) return true;
      const uses = text.match(new RegExp(`\\b${match[1]}\\b`, "g"));
      return (uses?.length ?? 0) > 1;
    });
    if (kept.length === lines.length) return text;
    lines = kept;
  }
}

/**
 * Consecutive writes to the same entry merged into one statement: `X[j] += e1; X[j] += e2;` becomes
 * `X[j] = X[j] + (e1) + (e2);` (and `X[j] = r; X[j] += e2;` becomes `X[j] = (r) + (e2);`): the same additions in
 * the same order, one load and one store.
 */
function mergeWrites(lines: string[]): string[] {
  const out: string[] = [];
  const write = /^(\w+\[[^\]=]+\]) (\+?=) (.*);$/;
  let target: string | undefined;
  let sum = "";
  const flush = () => {
    if (target !== undefined) out.push(`${target} = ${sum};`);
    target = undefined;
  };
  for (const line of lines) {
    const match = write.exec(line);
    if (match === null) {
      flush();
      out.push(line);
      continue;
    }
    const [, to, op, expr] = match;
    if (to === target && op === "+=") {
      sum += ` + (${expr})`;
      continue;
    }
    flush();
    target = to;
    sum = op === "=" ? `(${expr})` : `${to} + (${expr})`;
  }
  flush();
  return out;
}

/** Index expressions of one copy of the loop body. */
interface IndexMap {
  readonly flat: string;
  strided(accessId: number): string;
}

/**
 * Accumulators of scalar operands' adjoints: one per (channel, operand occurrence), summed in entry order
 * and added to the buffer after the loop, in the order the occurrences were met.
 */
class Accumulators {
  /** Scalar running sums (size undefined) and arrays of broadcast terms summed apart, in the order met. */
  private readonly list: { name: string; buffer: string; size?: number }[] = [];
  private readonly byKey = new Map<string, string>();

  constructor(private readonly tag: string) {}

  /** The accumulator of one occurrence (`key`: channel, member, operand), shared by unrolled copies. */
  nameFor(key: string, channel: "adjoint" | "hessian", buffer: string): string {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const name = `${channel === "adjoint" ? "ga" : "ha"}${this.tag}${this.list.length}`;
    this.list.push({ name, buffer });
    this.byKey.set(key, name);
    return name;
  }

  /**
   * The array (bound by `bind`, laid out as the operand's buffer) summing one occurrence's broadcast terms,
   * zeroed before the loop and added to the buffer after it.
   */
  sumFor(key: string, buffer: string, size: number, bind: () => string): string {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const name = bind();
    this.list.push({ name, buffer, size });
    this.byKey.set(key, name);
    return name;
  }

  declarations(): string {
    return this.list
      .map(({ name, size }) => (size === undefined ? `let ${name} = 0;\n` : `${name}.fill(0);\n`))
      .join("");
  }

  flushes(): string {
    return this.list
      .map(({ name, buffer, size }) =>
        size === undefined
          ? `${buffer}[0] += ${name};\n`
          : `for (let q = 0; q < ${size}; q++) ${buffer}[q] += ${name}[q];\n`,
      )
      .join("");
  }
}

/**
 * The source of a group's four loops.
 *
 * @example
 * const source = groupSource(program, group, store);
 */
export function groupSource(
  program: Program,
  group: GroupStep,
  store: Store,
  assigned?: ReadonlySet<number>,
): GroupSource {
  return new GroupWriter(program, group, store, assigned).source();
}

/**
 * The adjoint and second-order buffers each group's reverse loops assign instead of adding to (so the store
 * need not clear them): per group, the base slots of its operands that no earlier step of the reverse sweep
 * touches (nor the functional's seed), read in the group at one contiguous access covering the whole base
 * buffer (each entry written first by this loop, exactly once before any other write).
 *
 * @example
 * const assigned = reverseAssignments(program); // Map<GroupStep, Set<base slot>>
 */
export function reverseAssignments(program: Program): Map<GroupStep, Set<number>> {
  const { slots } = program;
  const touched = new Set<number>([slots[program.functional].base]);
  const result = new Map<GroupStep, Set<number>>();
  for (let s = program.steps.length - 1; s >= 0; s--) {
    const step = program.steps[s];
    if (step.kind === "fallback") {
      for (const k of [...step.inputs, ...step.outputs]) touched.add(slots[k].base);
      continue;
    }
    const outs = new Set(step.members.map((m) => slots[m.out].base));
    const size = step.shape.reduce((a, b) => a * b, 1);
    const unit = contiguousStrides(step.shape);
    const accesses = new Map<number, Set<string>>();
    const flat = new Set<number>();
    for (const m of step.members) {
      for (const k of m.args) {
        const base = slots[k].base;
        if (outs.has(base)) continue;
        const strides = broadcastStrides(slots[k], step.shape);
        const key = strides === undefined ? "?" : strides.join(",");
        const keys = accesses.get(base) ?? new Set<string>();
        keys.add(key);
        accesses.set(base, keys);
        const contiguous = strides?.every((st, d) => step.shape[d] === 1 || st === unit[d]) ?? false;
        if (contiguous && size > 1 && slots[k].active && slots[base].size === size) flat.add(base);
      }
    }
    const mine = new Set<number>();
    for (const base of flat) {
      if (!touched.has(base) && accesses.get(base)?.size === 1) mine.add(base);
    }
    if (mine.size > 0) result.set(step, mine);
    for (const base of accesses.keys()) touched.add(base);
    for (const base of outs) touched.add(base);
  }
  return result;
}

/** A generated group's runner and whether the Hessian action needs its tangent loop. */
export interface GroupRunner extends StepRunner {
  readonly tangentForHessian: boolean;
}

/**
 * The runner of a group: its four loops built with `new Function` (throws where code generation is
 * refused, e.g. under a strict Content-Security-Policy).
 *
 * @example
 * groupRunner(program, group, store).forward();
 */
export function groupRunner(
  program: Program,
  group: GroupStep,
  store: Store,
  assigned?: ReadonlySet<number>,
): GroupRunner {
  return runnerOf(groupSource(program, group, store, assigned));
}

/**
 * The source of a row chain's four loops (see rows.ts): one loop over the rows each, running the groups'
 * row bodies in program order (the reverse loops in reverse order); what each group does before and after
 * its own loop comes before and after the row loop (the reverse loops' scalar flushes in reverse order).
 *
 * @example
 * for (const { steps, row } of rowChains(program)) if (row) chainSource(program, steps, row, store, assigned);
 */
export function chainSource(
  program: Program,
  groups: readonly GroupStep[],
  row: RowShape,
  store: Store,
  assigned: ReadonlyMap<GroupStep, ReadonlySet<number>> = new Map(),
): GroupSource {
  const names: string[] = [];
  const values: unknown[] = [];
  const externIndex = new Map<unknown, string>();
  const registers = chainRegisters(program, groups, row);
  const writers = groups.map(
    (g, c) =>
      new GroupWriter(program, g, store, assigned.get(g), {
        names,
        values,
        externIndex,
        registers,
        tag: `${c}_`,
        row,
      }),
  );
  const parts = writers.map((w) => w.parts());
  const counters = writers.flatMap((w) => w.rowCounters(row));
  const declare = (prefix: string) => [...registers].map((base) => `let ${prefix}${base} = 0;\n`).join("");
  const heads: Record<LoopName, string> = {
    forward: "",
    tangent: "",
    adjoint: declare("ra"),
    second: declare("ra") + declare("rh"),
  };
  const kept = parts.filter((p) => p.tangentForHessian);
  const loop = (name: LoopName, reverse: boolean, kept = parts) => {
    const inOrder = kept.map((p) => p[name]);
    return rowLoop(reverse ? [...inOrder].reverse() : inOrder, row, counters, heads[name]);
  };
  return {
    names,
    values,
    forward: loop("forward", false),
    tangent: loop("tangent", false),
    adjoint: loop("adjoint", true),
    second: loop("second", true),
    tangentForHessian: parts.some((p) => p.tangentForHessian),
    hessianTangent: loop("tangent", false, kept),
    ...(kept.length === 0
      ? {}
      : {
          secondWithTangents: withoutDeadStores(
            rowLoop(
              [...kept.map((p) => p.tangent), ...[...parts].reverse().map((p) => p.second)],
              row,
              counters,
              heads.second,
            ),
          ),
        }),
  };
}

/**
 * One loop of a row chain from its groups' parts in execution order: buffer reads, what comes before the
 * groups' loops, the loop over the rows (`head` opening each row), what comes after. With power runs, the
 * rows go by tiles, each segment's rows of the tile followed by the runs the next segment reads.
 */
function rowLoop(
  order: readonly RowPart[],
  row: RowShape,
  counters: readonly { name: string; outer: number }[],
  head: string,
): string {
  const init = counters.map((c) => `, ${c.name} = 0`).join("");
  const step = counters.map((c) => `, ${c.name} += ${c.outer}`).join("");
  const buffers = new Map<string, string>();
  for (const p of order) for (const [buffer, expr] of p.buffers) buffers.set(buffer, expr);
  const reads = [...buffers].map(([buffer, expr]) => `const ${buffer} = ${expr};\n`).join("");
  const before = order
    .map((p) => p.before.trim())
    .filter((code) => code !== "")
    .map((code) => `${code}\n`)
    .join("");
  const after = order
    .map((p) => p.after.trim())
    .filter((code) => code !== "")
    .join("\n");
  if (order.every((p) => p.kernels.length === 0)) {
    const body = hoistReads(order.map((p) => p.row).join(""));
    return (
      `${reads}${before}let i = 0;\n` +
      `for (let r = 0${init}; r < ${row.rows}; r++${step}) {\n${head}${body}` +
      `i += ${row.inner};\n}\n${after}\n`
    );
  }
  let tile = "";
  let rows = "";
  const flush = () => {
    if (rows === "") return;
    const from = counters.map((c) => `, ${c.name} = r0 * ${c.outer}`).join("");
    tile += `for (let r = r0${from}; r < r1; r++${step}) {\nconst i = r * ${row.inner};\n${head}${hoistReads(rows)}}\n`;
    rows = "";
  };
  for (const p of order) {
    if (p.kernels.length > 0) flush();
    tile += p.kernels.map((k) => `${k}\n`).join("");
    rows += p.row;
  }
  flush();
  return (
    `${reads}${before}for (let r0 = 0; r0 < ${row.rows}; r0 += ${TILE_ROWS}) {\n` +
    `const r1 = Math.min(r0 + ${TILE_ROWS}, ${row.rows});\n${tile}}\n${after}\n`
  );
}

/**
 * The position of a strided access in a row: its row counter plus `offset`; a counter stepping by 1 per row
 * is the row index r itself, written so (the same entry is then the same text wherever it is read).
 */
function rowPosition(counter: { name: string; outer: number }, offset: string): string {
  const base = counter.outer === 1 ? "r" : counter.name;
  return offset === "0" && base === "r" ? "r" : `(${base} + ${offset})`;
}

/** A read of a buffer entry in generated code: buffer name and index expression. */
const BUFFER_READ = /\b([A-Z]\d+)\[([^[\]]*)\]/g;
/** A write (or a fill) of a buffer in generated code. */
const BUFFER_WRITE = /\b([A-Z]\d+)(?:\[[^[\]]*\] \+?=(?!=)|\.fill\()/g;
/** A statement writing one buffer entry: buffer, index, operator, right-hand side. */
const WRITE_STATEMENT = /^([A-Z]\d+)\[([^[\]]*)\] (\+?=) (.*);$/;

/** An index expression as (variable, constant offset) when it has that form: `r`, `(i + 3)`, `0`. */
function offsetForm(index: string): [string, number] | undefined {
  const text = index.replace(/\s/g, "");
  const match = /^\(?([a-z]\w*)?(?:\+?(\d+))?\)?$/.exec(text);
  if (match === null || (match[1] === undefined && match[2] === undefined)) return undefined;
  return [match[1] ?? "", Number(match[2] ?? 0)];
}

/** Whether two index expressions of one row are different entries for certain (same variable, offsets). */
function distinct(a: string, b: string): boolean {
  const x = offsetForm(a);
  const y = offsetForm(b);
  return x !== undefined && y !== undefined && x[0] === y[0] && x[1] !== y[1];
}

/**
 * A row body with its buffer traffic kept in registers where the numbers cannot change:
 * - each entry read from a value, tangent or log-cache buffer the row does not write is loaded once, at the
 *   start of the row (the bodies of a row read the same entries again and again: an operand in the value,
 *   the partials and the adjoint of each member);
 * - a buffer entry the row writes and reads again later in the row (a sum then read by the next group, an
 *   adjoint assigned and then added to) is read from the register holding what was stored, as long as no
 *   write in between may hit the same entry.
 * The compiler cannot do either by itself across the stores to other typed arrays in between. Reads indexed
 * by an inner loop's `t`, and any forwarding in a row with an inner loop, are left as they are.
 */
function hoistReads(body: string): string {
  const written = new Set([...body.matchAll(BUFFER_WRITE)].map((m) => m[1]));
  const inner = body.includes("for (");
  const names = new Map<string, string>();
  const loads: string[] = [];
  /** Per written buffer: index text -> the register holding the entry's last stored value. */
  const known = new Map<string, Map<string, string>>();
  let registers = 0;
  const readsIn = (code: string) =>
    code.replace(BUFFER_READ, (read: string, buffer: string, index: string) => {
      if (written.has(buffer)) return inner ? read : (known.get(buffer)?.get(index) ?? read);
      if (!/^[VTC]/.test(buffer) || /\bt\b/.test(index)) return read;
      const key = `${buffer}[${index.replace(/[()\s]/g, "")}]`;
      let name = names.get(key);
      if (name === undefined) {
        name = `ld${names.size}`;
        names.set(key, name);
        loads.push(`const ${name} = ${read};\n`);
      }
      return name;
    });
  const lines = body.split("\n").map((line) => {
    const write = WRITE_STATEMENT.exec(line);
    if (write === null || inner) return readsIn(line);
    const [, buffer, index, op, rhs] = write;
    const value = op === "=" ? readsIn(rhs) : `${readsIn(`${buffer}[${index}]`)} + (${readsIn(rhs)})`;
    const entries = known.get(buffer) ?? new Map<string, string>();
    for (const other of [...entries.keys()]) if (!distinct(other, index)) entries.delete(other);
    const register = `fw${registers++}`;
    entries.set(index, register);
    known.set(buffer, entries);
    return `${buffer}[${index}] = (${register} = ${value});`;
  });
  const declared =
    registers === 0 ? "" : `let ${Array.from({ length: registers }, (_, k) => `fw${k}`).join(", ")};\n`;
  return loads.join("") + declared + lines.join("\n");
}

/** A store of a tangent or log-cache entry whose value a register also holds (see hoistReads). */
const FORWARDED_STORE = /^([TC]\d+)\[[^[\]]*\] = \((fw\d+ = .*)\);$/;

/**
 * The fused tangent and second-order loop without the stores of tangents and logs that nothing reads from
 * memory: a buffer whose every appearance in the loop is such a store, each of its entries read back from
 * the register (the loop runs only when no later step reads the chain's outputs, and the buffers are the
 * chain's own, so no other loop of the Hessian action reads them; `tlm` fills them again itself).
 */
function withoutDeadStores(loop: string): string {
  const lines = loop.split("\n");
  const stores = new Map<string, number>();
  for (const line of lines) {
    const match = FORWARDED_STORE.exec(line);
    if (match !== null) stores.set(match[1], (stores.get(match[1]) ?? 0) + 1);
  }
  // the buffer's name appears in these stores only, and in its declaration (a log cache is bound by name)
  const appearances = (buffer: string) => loop.match(new RegExp(`\\b${buffer}\\b`, "g"))?.length ?? 0;
  const declared = (buffer: string) => (loop.includes(`const ${buffer} = `) ? 1 : 0);
  const dead = new Set(
    [...stores]
      .filter(([buffer, count]) => appearances(buffer) === count + declared(buffer))
      .map(([buffer]) => buffer),
  );
  return lines
    .filter((line) => !/^const ([TC]\d+) = /.test(line) || !dead.has(line.slice(6, line.indexOf(" ", 6))))
    .map((line) => {
      const match = FORWARDED_STORE.exec(line);
      return match !== null && dead.has(match[1]) ? `${match[2]};` : line;
    })
    .join("\n");
}

/**
 * The runner of a row chain: its four row loops built with `new Function`.
 *
 * @example
 * for (const { steps, row } of rowChains(program)) if (row) chainRunner(program, steps, row, store).forward();
 */
export function chainRunner(
  program: Program,
  groups: readonly GroupStep[],
  row: RowShape,
  store: Store,
  assigned?: ReadonlyMap<GroupStep, ReadonlySet<number>>,
): GroupRunner {
  return runnerOf(chainSource(program, groups, row, store, assigned));
}

/**
 * The base slots of a chain whose reverse channels can live in per-row registers: one entry per row (K's
 * size, read at the row by construction of the chain), produced in the chain, read by chain groups only, not
 * a control nor the functional. Their buffers are never written by the reverse loops (nor need clearing).
 *
 * @example
 * for (const { steps, row } of rowChains(program)) if (row) store.assignedByLoops(chainRegisters(program, steps, row));
 */
export function chainRegisters(program: Program, groups: readonly GroupStep[], row: RowShape): Set<number> {
  const { slots } = program;
  const inChain = new Set<unknown>(groups);
  const readOutside = new Set<number>();
  for (const step of program.steps) {
    if (inChain.has(step)) continue;
    const args = step.kind === "group" ? step.members.flatMap((m) => m.args) : step.inputs;
    for (const k of args) readOutside.add(slots[k].base);
  }
  const result = new Set<number>();
  for (const group of groups) {
    for (const m of group.members) {
      const slot = slots[m.out];
      if (slot.base !== slot.id || !slot.active || slot.internal || slot.size !== row.rows) continue;
      if (slot.id === slots[program.functional].base || readOutside.has(slot.id)) continue;
      if (program.controls.some((k) => slots[k].base === slot.id)) continue;
      result.add(slot.id);
    }
  }
  return result;
}

/** The runner of generated source. */
function runnerOf(s: GroupSource): GroupRunner {
  const hessianTangent = s.hessianTangent === undefined ? "" : `hessianTangent() {\n${s.hessianTangent}},\n`;
  const fused =
    s.secondWithTangents === undefined ? "" : `secondWithTangents() {\n${s.secondWithTangents}},\n`;
  const body =
    `"use strict";\nreturn {\nforward() {\n${s.forward}},\ntangent() {\n${s.tangent}},\n` +
    `adjoint() {\n${s.adjoint}},\nsecond() {\n${s.second}},\n${hessianTangent}${fused}};`;
  const make = new Function(...s.names, body);
  const runner: unknown = make(...s.values);
  if (!isRunner(runner)) throw new Error("internal: the generated group is not a runner");
  const { forward, tangent, adjoint, second } = runner;
  const result: GroupRunner = { forward, tangent, adjoint, second, tangentForHessian: s.tangentForHessian };
  let full: GroupRunner = result;
  if ("hessianTangent" in runner && typeof runner.hessianTangent === "function") {
    const hessian = runner.hessianTangent;
    full = { ...full, hessianTangent: () => hessian() };
  }
  if ("secondWithTangents" in runner && typeof runner.secondWithTangents === "function") {
    const fusedLoop = runner.secondWithTangents;
    full = { ...full, secondWithTangents: () => fusedLoop() };
  }
  return full;
}

function isRunner(value: unknown): value is StepRunner {
  return (
    typeof value === "object" &&
    value !== null &&
    "forward" in value &&
    typeof value.forward === "function" &&
    "tangent" in value &&
    "adjoint" in value &&
    "second" in value
  );
}
