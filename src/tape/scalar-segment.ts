/**
 * @file ScalarSegment: a run of consecutive scalar elementwise operations (AdjFloat in, AdjFloat out)
 * recorded into growable typed arrays instead of one Block and one BlockVariable an operation. The tape
 * holds the run as one entry; the sweeps run it as tight loops over the arrays with the same rule calls in
 * the same order as the per-operation blocks (so every value and derivative is bit-identical), and the
 * per-operation blocks and variables are built only when something asks for them: a value's
 * `blockVariable` (one variable, an output of the segment), or `tape.blocks` and every other view of the
 * block list (the whole run is then replaced by its blocks, exactly as they would have been recorded).
 */
import { TsadjointError } from "../errors.js";
import {
  type AdjContext,
  Block,
  BlockVariable,
  type HessianContext,
  type RecomputeContext,
  type Recordable,
  type TlmContext,
} from "./block.js";
import { type FusedSecondOrder, fusedSecondOrder } from "./capabilities.js";

/** A unary scalar rule, as the segment calls it (ops/elementwise-rules' UnaryRule is one). */
export interface ScalarUnaryRule {
  readonly name: string;
  f(x: number): number;
  df(x: number, y: number): number;
  d2f(x: number, y: number): number;
}

/** A binary scalar rule, as the segment calls it (ops/elementwise-rules' BinaryRule is one). */
export interface ScalarBinaryRule {
  readonly name: string;
  f(a: number, b: number): number;
  da(a: number, b: number, z: number): number;
  db(a: number, b: number, z: number): number;
  daa(a: number, b: number, z: number): number;
  dab(a: number, b: number, z: number): number;
  dbb(a: number, b: number, z: number): number;
}

/** The kinds of a segment's operations: the per-operation block each one stands for. */
export const UNARY = 0;
/** Both operands recorded (BinaryElementwiseBlock). */
export const BINARY = 1;
/** A constant first operand (BinaryConstantBlock, constantIsFirst). */
export const CONSTANT_FIRST = 2;
/** A constant second operand (BinaryConstantBlock, not constantIsFirst). */
export const CONSTANT_SECOND = 3;
/** One of UNARY, BINARY, CONSTANT_FIRST, CONSTANT_SECOND. */
export type ScalarKind = 0 | 1 | 2 | 3;

/**
 * @internal The per-operation blocks of the four kinds, built over their variables (each builder links
 * `output` to its block). ops/elementwise registers them when it loads: tape/ names no block of ops/.
 */
export interface ScalarBlockBuilders {
  unary(rule: ScalarUnaryRule, input: BlockVariable, output: BlockVariable): Block;
  binary(rule: ScalarBinaryRule, first: BlockVariable, second: BlockVariable, output: BlockVariable): Block;
  constant(
    rule: ScalarBinaryRule,
    constant: number,
    constantIsFirst: boolean,
    input: BlockVariable,
    output: BlockVariable,
  ): Block;
}

let builders: ScalarBlockBuilders | undefined;

/**
 * @internal Installs the per-operation block builders (ops/elementwise does, when it loads).
 * @example
 * registerScalarBlockBuilders({ unary: (rule, x, y) => new UnaryElementwiseBlock(rule, x, y), ... });
 */
export function registerScalarBlockBuilders(implementation: ScalarBlockBuilders): void {
  builders = implementation;
}

/** @internal the registered builders (an internal error when ops/elementwise is not loaded) */
export function scalarBlockBuilders(): ScalarBlockBuilders {
  if (builders === undefined)
    throw new TsadjointError("ScalarSegment", "the elementwise operations are not loaded (internal error)");
  return builders;
}

/**
 * @internal What a value recorded in a segment carries (AdjFloat): the segment and its operation's index.
 * `_segment` stays set once the variable is built (the segment still owns the value's record).
 */
export interface SegmentLinked extends Recordable {
  /** The number the value holds. */
  readonly value: number;
  _segment: ScalarSegment | undefined;
  _slot: number;
}

/**
 * The second-order adjoint of a unary rule at one number, xhat = first + f''(x) ybar xdot, where `first` is
 * the f'(x) yhat term as the caller forms it; the f'' term is added for a nonzero ybar and xdot only
 * (`ybar` / `xdot` undefined: zero). Shared with ops/elementwise.
 */
export function unarySecondScalar(
  rule: ScalarUnaryRule,
  x: number,
  y: number,
  first: number,
  ybar: number | undefined,
  xdot: number | undefined,
): number {
  if (ybar !== undefined && xdot !== undefined && ybar !== 0 && xdot !== 0)
    return first + rule.d2f(x, y) * ybar * xdot;
  return first;
}

/**
 * The second-order adjoint of a binary rule at numbers, for operand `wrt` (0: a, 1: b):
 * first + zbar (f_wa adot + f_wb bdot), each term added for a nonzero zbar and tangent only. Shared with
 * ops/elementwise (every scalar Hessian path of the binary blocks goes through it).
 */
export function binarySecondScalar(
  rule: ScalarBinaryRule,
  wrt: 0 | 1,
  a: number,
  b: number,
  z: number,
  first: number,
  zbar: number,
  adot: number,
  bdot: number,
): number {
  if (zbar === 0) return first;
  let value = first;
  if (adot !== 0) value += zbar * (wrt === 0 ? rule.daa(a, b, z) : rule.dab(a, b, z)) * adot;
  if (bdot !== 0) value += zbar * (wrt === 0 ? rule.dab(a, b, z) : rule.dbb(a, b, z)) * bdot;
  return value;
}

/** zdot = f_a adot + f_b bdot at numbers (an absent tangent adds nothing). Shared with ops/elementwise. */
export function binaryTlmScalar(
  rule: ScalarBinaryRule,
  a: number,
  b: number,
  z: number,
  adot: number | undefined,
  bdot: number | undefined,
): number {
  let zdot = 0;
  if (adot !== undefined) zdot += rule.da(a, b, z) * adot;
  if (bdot !== undefined) zdot += rule.db(a, b, z) * bdot;
  return zdot;
}

/** @internal The arguments of {@link ScalarSegment._composite}: a HessianContext's, with optional start slots. */
export interface CompositeCall {
  readonly inputs: readonly unknown[];
  readonly needed: readonly boolean[];
  readonly adjInputs: readonly unknown[];
  readonly hessianInputs?: readonly unknown[];
  readonly tlmInputs?: readonly unknown[];
  readonly adjStart?: readonly unknown[];
  readonly hessianStart?: readonly unknown[];
  /**
   * The segment's `_compositeToken()` right after an `evaluateTlm` with the same inputs and `tlmInputs`:
   * when it still holds, the tangents that call left are used instead of a new tangent loop.
   */
  readonly tangentsReady?: number;
}

/** @internal What {@link ScalarSegment._composite} gives: one entry per external, `undefined` for none. */
export interface CompositeResult {
  readonly adj: (number | undefined)[];
  readonly hessian: (number | undefined)[];
}

/** Flag bits of an operation on a sweep path: depends on a control; kept (also needed by an output). */
const ACTIVE = 1;
const KEPT = 2;
/** Flag bits of a slot: tangent, adjoint, second-order adjoint set (a clear bit is an `undefined` slot). */
const TLM = 1;
const ADJ = 2;
const HES = 4;
/** An external that depends on a control (needs derivatives). */
const EXT_ACTIVE = 8;
/**
 * An operation's first partial (f', or f_a) / second partial (f_b) as the last tangent-linear sweep
 * evaluated it, for the second-order sweep that follows (the same call on the same values: the same
 * number). A replay clears them.
 */
const D1 = 16;
const D2 = 32;

/** Derivative slots, one entry per operation or per external: values and "set" bits. */
class Slots {
  readonly tlm: Float64Array;
  readonly adj: Float64Array;
  readonly hes: Float64Array;
  /** The partials D1 / D2 (operations only). */
  readonly d1: Float64Array;
  readonly d2: Float64Array;
  readonly set: Uint8Array;
  constructor(n: number) {
    this.tlm = new Float64Array(n);
    this.adj = new Float64Array(n);
    this.hes = new Float64Array(n);
    this.d1 = new Float64Array(n);
    this.d2 = new Float64Array(n);
    this.set = new Uint8Array(n);
  }
}

/** The externals' values and slots as the loops read them. */
interface Externals {
  readonly value: Float64Array;
  readonly slots: Slots;
}

function numberSlot(value: unknown, what: string): number {
  if (typeof value !== "number") {
    throw new TsadjointError(
      "ScalarSegment",
      `a scalar operation's ${what} is not a number (${typeof value}); internal error, please report it`,
    );
  }
  return value;
}

/** Operations a chunk holds (a power of two): 4096 keeps each array under the allocator's mmap size. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

/**
 * A block of recorded operations (the fields of the segment's flat arrays). A segment's first chunk starts
 * small and grows to CHUNK (a short run between other blocks stays small); later chunks are CHUNK long.
 */
class Chunk {
  readonly kinds: Uint8Array;
  readonly ruleIds: Uint8Array;
  readonly first: Int32Array;
  readonly second: Int32Array;
  readonly constants: Float64Array;
  readonly values: Float64Array;
  constructor(capacity: number, from?: Chunk) {
    this.kinds = new Uint8Array(capacity);
    this.ruleIds = new Uint8Array(capacity);
    this.first = new Int32Array(capacity);
    this.second = new Int32Array(capacity);
    this.constants = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    if (from !== undefined) {
      this.kinds.set(from.kinds);
      this.ruleIds.set(from.ruleIds);
      this.first.set(from.first);
      this.second.set(from.second);
      this.constants.set(from.constants);
      this.values.set(from.values);
    }
  }
}

/** `set[i] &= keep` for the first `n` entries (a small monomorphic loop of its own). */
function clearBits(set: Uint8Array, n: number, keep: number): void {
  for (let i = 0; i < n; i++) set[i] &= keep;
}

/** A kept-operations mask that keeps every operation (the composite modes). */
function allKept(n: number): Uint8Array {
  return new Uint8Array(n).fill(ACTIVE | KEPT);
}

/**
 * A run of scalar elementwise operations on one tape (see the file comment). As a Block its dependencies
 * are the variables it reads that were recorded elsewhere and its outputs are the variables built for its
 * values so far; the sweeps call its `_sweep*` methods, other drivers its (composite) modes.
 *
 * @example
 * const tape = new Tape();
 * const y = withTape(tape, () => np.sin(np.multiply(x, 2))); // one ScalarSegment holding 2 operations
 * tape.blocks.length; // 2: reading the list replaces the segment by its blocks
 */
export class ScalarSegment extends Block implements FusedSecondOrder {
  /** Number of operations. */
  size = 0;
  private kinds: Uint8Array;
  /** Index of an operation's rule in `unaryRules` (UNARY) or `binaryRules` (the others). */
  private ruleIds: Uint8Array;
  private readonly unaryRules: ScalarUnaryRule[] = [];
  private readonly binaryRules: ScalarBinaryRule[] = [];
  /** Input slots: an operation's index (>= 0) or an external's -1-index. */
  private first: Int32Array;
  private second: Int32Array;
  private constants: Float64Array;
  private values: Float64Array;
  /** The derivative slots of the sweeps (allocated by the first sweep). */
  private slots: Slots | undefined = undefined;
  /** The slots of the composite modes (reused from call to call). */
  private compositeSlots: Slots | undefined = undefined;
  private compositeToken = 0;
  private readonly externals: BlockVariable[] = [];
  /** Index of each external (built once there are more than a few; a scan finds them before). */
  private externalIndex: Map<BlockVariable, number> | undefined = undefined;
  private lastExternal: BlockVariable | undefined = undefined;
  private lastExternalSlot = 0;
  /** Variables built for operations' values (the segment's outputs), by operation index. */
  private built: Map<number, BlockVariable> | undefined = undefined;
  private readonly builtList: BlockVariable[] = [];
  private readonly builtSlots: number[] = [];
  /** Operations recorded since the last compaction, in fixed-size chunks (see `compact`). */
  private readonly chunks: Chunk[] = [];
  private chunk: Chunk | undefined = undefined;
  private chunkFill = 0;
  /** Every operation's variable once the segment was replaced by its blocks. */
  private exploded: BlockVariable[] | undefined = undefined;

  constructor() {
    super();
    this.kinds = new Uint8Array(0);
    this.ruleIds = new Uint8Array(0);
    this.first = new Int32Array(0);
    this.second = new Int32Array(0);
    this.constants = new Float64Array(0);
    this.values = new Float64Array(0);
  }

  override get name(): string {
    return "ScalarSegment";
  }

  /** The variables recorded elsewhere that the operations read. */
  override get dependencies(): BlockVariable[] {
    return this.externals;
  }

  /** The variables built for operations' values so far. */
  override get outputs(): BlockVariable[] {
    return this.builtList;
  }

  override replaceDependency(index: number, variable: BlockVariable): void {
    const old = this.externals[index];
    this.externals[index] = variable;
    this.externalIndex = undefined;
    if (this.lastExternal === old) this.lastExternal = undefined;
  }

  /** The input slot of `value` for a new operation: its operation here, or an external. */
  inputSlot(value: SegmentLinked): number {
    if (value._segment === this && this.exploded === undefined) return value._slot;
    const variable = value.blockVariable;
    if (variable === this.lastExternal) return this.lastExternalSlot;
    const externals = this.externals;
    let index: number | undefined;
    if (externals.length <= 8) {
      const found = externals.indexOf(variable);
      if (found >= 0) index = found;
    } else {
      let map = this.externalIndex;
      if (map === undefined) {
        map = new Map();
        for (let k = 0; k < externals.length; k++) map.set(externals[k], k);
        this.externalIndex = map;
      }
      index = map.get(variable);
    }
    if (index === undefined) {
      index = externals.length;
      externals.push(variable);
      this.externalIndex?.set(variable, index);
    }
    this.lastExternal = variable;
    this.lastExternalSlot = -1 - index;
    return -1 - index;
  }

  /** The index of `rule` in the table of its arity, or -1 when it is not there yet. */
  private ruleId(kind: ScalarKind, rule: ScalarUnaryRule | ScalarBinaryRule): number {
    const table: readonly (ScalarUnaryRule | ScalarBinaryRule)[] =
      kind === UNARY ? this.unaryRules : this.binaryRules;
    for (let r = 0; r < table.length; r++) if (table[r] === rule) return r;
    return -1;
  }

  /**
   * Appends one operation; returns its index, or -1 when the segment holds 256 distinct rules of that
   * arity already (the caller then records a block).
   */
  pushUnary(rule: ScalarUnaryRule, input: number, value: number): number {
    let id = this.ruleId(UNARY, rule);
    if (id < 0) {
      if (this.unaryRules.length === 256) return -1;
      id = this.unaryRules.push(rule) - 1;
    }
    return this.push(UNARY, id, input, 0, 0, value);
  }

  /** As {@link pushUnary} for a binary rule: kind BINARY (second an input slot) or CONSTANT_* (`constant`). */
  pushBinary(
    kind: ScalarKind,
    rule: ScalarBinaryRule,
    first: number,
    second: number,
    constant: number,
    value: number,
  ): number {
    let id = this.ruleId(kind, rule);
    if (id < 0) {
      if (this.binaryRules.length === 256) return -1;
      id = this.binaryRules.push(rule) - 1;
    }
    return this.push(kind, id, first, second, constant, value);
  }

  private push(
    kind: ScalarKind,
    ruleId: number,
    first: number,
    second: number,
    constant: number,
    value: number,
  ): number {
    let chunk = this.chunk;
    let j = this.chunkFill;
    if (chunk === undefined || j === chunk.values.length) {
      const chunks = this.chunks;
      if (chunk === undefined) {
        chunk = new Chunk(chunks.length === 0 ? 16 : CHUNK);
        chunks.push(chunk);
      } else if (j < CHUNK) {
        chunk = new Chunk(Math.min(CHUNK, 4 * j), chunk);
        chunks[chunks.length - 1] = chunk;
      } else {
        chunk = new Chunk(CHUNK);
        chunks.push(chunk);
        j = 0;
      }
      this.chunk = chunk;
    }
    chunk.kinds[j] = kind;
    chunk.ruleIds[j] = ruleId;
    chunk.first[j] = first;
    chunk.second[j] = second;
    chunk.constants[j] = constant;
    chunk.values[j] = value;
    this.chunkFill = j + 1;
    return this.size++;
  }

  /** The value of operation `slot` (recorded or recomputed). */
  private recordedValue(slot: number): number {
    const flat = this.values.length;
    if (slot < flat) return this.values[slot];
    const c = slot - flat;
    return this.chunks[c >> CHUNK_BITS].values[c & (CHUNK - 1)];
  }

  /**
   * Moves the operations recorded in chunks into the flat arrays the loops read (one allocation of the
   * exact size: recording into fixed chunks avoids copying growing arrays, most of its cost otherwise).
   */
  private compact(): void {
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    const n = this.size;
    const flat = this.values.length;
    const kinds = new Uint8Array(n);
    const ruleIds = new Uint8Array(n);
    const first = new Int32Array(n);
    const second = new Int32Array(n);
    const constants = new Float64Array(n);
    const values = new Float64Array(n);
    kinds.set(this.kinds);
    ruleIds.set(this.ruleIds);
    first.set(this.first);
    second.set(this.second);
    constants.set(this.constants);
    values.set(this.values);
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c];
      const at = flat + c * CHUNK;
      const count = Math.min(CHUNK, n - at);
      kinds.set(chunk.kinds.subarray(0, count), at);
      ruleIds.set(chunk.ruleIds.subarray(0, count), at);
      first.set(chunk.first.subarray(0, count), at);
      second.set(chunk.second.subarray(0, count), at);
      constants.set(chunk.constants.subarray(0, count), at);
      values.set(chunk.values.subarray(0, count), at);
    }
    this.kinds = kinds;
    this.ruleIds = ruleIds;
    this.first = first;
    this.second = second;
    this.constants = constants;
    this.values = values;
    chunks.length = 0;
    this.chunk = undefined;
    this.chunkFill = 0;
  }

  /** The variable of operation `slot`'s value (built on first request; an output of the segment). */
  variableOf(slot: number): BlockVariable {
    if (this.exploded !== undefined) return this.exploded[slot];
    this.built ??= new Map();
    let variable = this.built.get(slot);
    if (variable === undefined) {
      variable = new BlockVariable(this.recordedValue(slot));
      variable.block = this;
      this.built.set(slot, variable);
      this.builtList.push(variable);
      this.builtSlots.push(slot);
    }
    return variable;
  }

  /**
   * The per-operation blocks this segment stands for, in order, over the same variables (those built so
   * far, fresh ones for the others), with the current values and sweep slots; afterwards the segment
   * only answers `variableOf`.
   */
  explode(): Block[] {
    this.compact();
    const n = this.size;
    const variables = new Array<BlockVariable>(n);
    const blocks = new Array<Block>(n);
    const slots = this.slots;
    const build = scalarBlockBuilders();
    for (let i = 0; i < n; i++) {
      const variable = this.built?.get(i) ?? new BlockVariable(this.values[i]);
      variable.saved = this.values[i];
      if (slots !== undefined && i < slots.set.length) {
        const set = slots.set[i];
        if (set & TLM) variable.tlm = slots.tlm[i];
        if (set & ADJ) variable.adj = slots.adj[i];
        if (set & HES) variable.hessian = slots.hes[i];
      }
      variables[i] = variable;
      const kind = this.kinds[i];
      const a = this.first[i];
      const first = a >= 0 ? variables[a] : this.externals[-1 - a];
      const id = this.ruleIds[i];
      let block: Block;
      // the builders link the variable to its new block
      if (kind === UNARY) block = build.unary(this.unaryRules[id], first, variable);
      else if (kind === BINARY) {
        const b = this.second[i];
        const second = b >= 0 ? variables[b] : this.externals[-1 - b];
        block = build.binary(this.binaryRules[id], first, second, variable);
      } else {
        const constantIsFirst = kind === CONSTANT_FIRST;
        block = build.constant(this.binaryRules[id], this.constants[i], constantIsFirst, first, variable);
      }
      if (this.tag !== undefined) block.tag = this.tag;
      blocks[i] = block;
    }
    this.exploded = variables;
    return blocks;
  }

  // ---- the walk ----

  /**
   * The forward pass of a walk: flags (ACTIVE) for the operations that depend on a control, the
   * externals marked used; built variables of active operations get the forward mark. Returns the flags,
   * or undefined when no operation is active.
   */
  _walkForward(epoch: number): Uint8Array | undefined {
    this.compact();
    const externals = this.externals;
    const active = new Uint8Array(externals.length);
    for (let k = 0; k < externals.length; k++) {
      const variable = externals[k];
      variable.backwardMark = epoch; // "used"; the backward pass overwrites it
      if (variable.forwardMark === epoch) active[k] = ACTIVE;
    }
    const n = this.size;
    const flags = new Uint8Array(n);
    const kinds = this.kinds;
    const firsts = this.first;
    const seconds = this.second;
    let any = false;
    for (let i = 0; i < n; i++) {
      const a = firsts[i];
      let on = a >= 0 ? flags[a] & ACTIVE : active[-1 - a];
      if (on === 0 && kinds[i] === BINARY) {
        const b = seconds[i];
        on = b >= 0 ? flags[b] & ACTIVE : active[-1 - b];
      }
      if (on !== 0) {
        flags[i] = ACTIVE;
        any = true;
      }
    }
    if (!any) return undefined;
    const slots = this.builtSlots;
    for (let j = 0; j < slots.length; j++) {
      const slot = slots[j];
      if (slot < n && flags[slot] & ACTIVE) this.builtList[j].forwardMark = epoch;
    }
    return flags;
  }

  /**
   * The backward pass of a walk over `flags` from the forward pass: KEPT for the active operations that
   * a marked built variable depends on; their inputs get the backward mark. Returns whether any is kept.
   */
  _walkBackward(flags: Uint8Array, epoch: number): boolean {
    const n = flags.length;
    const slots = this.builtSlots;
    for (let j = 0; j < slots.length; j++) {
      const slot = slots[j];
      if (slot < n && this.builtList[j].backwardMark === epoch) flags[slot] |= KEPT;
    }
    const kinds = this.kinds;
    const firsts = this.first;
    const seconds = this.second;
    const externals = this.externals;
    let any = false;
    for (let i = n - 1; i >= 0; i--) {
      const f = flags[i];
      if (f !== (ACTIVE | KEPT)) {
        flags[i] = f & ACTIVE;
        continue;
      }
      any = true;
      const a = firsts[i];
      if (a >= 0) flags[a] |= KEPT;
      else externals[-1 - a].backwardMark = epoch;
      if (kinds[i] === BINARY) {
        const b = seconds[i];
        if (b >= 0) flags[b] |= KEPT;
        else externals[-1 - b].backwardMark = epoch;
      }
    }
    return any;
  }

  /** The built variables of kept operations (the variables whose slots a sweep over the path resets). */
  _keptOutputs(flags: Uint8Array): BlockVariable[] {
    const result: BlockVariable[] = [];
    const slots = this.builtSlots;
    for (let j = 0; j < slots.length; j++) {
      const slot = slots[j];
      if (slot < flags.length && flags[slot] & KEPT) result.push(this.builtList[j]);
    }
    return result;
  }

  // ---- sweeps over a path (flags from the walk) ----

  /** The sweeps' slots, large enough for `n` operations. */
  private sweepSlots(n: number): Slots {
    let slots = this.slots;
    if (slots === undefined || slots.set.length < n) {
      const fresh = new Slots(Math.max(n, this.values.length));
      if (slots !== undefined) {
        fresh.tlm.set(slots.tlm);
        fresh.adj.set(slots.adj);
        fresh.hes.set(slots.hes);
        fresh.d1.set(slots.d1);
        fresh.d2.set(slots.d2);
        fresh.set.set(slots.set);
      }
      slots = fresh;
      this.slots = slots;
    }
    return slots;
  }

  /** The externals' values and, for those that depend on a control (`epoch`), their slots. */
  private loadExternals(epoch: number | undefined, bits: number): Externals {
    const externals = this.externals;
    const value = new Float64Array(externals.length);
    const slots = new Slots(externals.length);
    for (let k = 0; k < externals.length; k++) {
      const variable = externals[k];
      value[k] = numberSlot(variable.saved, "input");
      if (epoch === undefined || variable.forwardMark !== epoch) continue;
      let set = EXT_ACTIVE;
      if (bits & TLM && variable.tlm !== undefined) {
        slots.tlm[k] = numberSlot(variable.tlm, "tangent");
        set |= TLM;
      }
      if (bits & ADJ && variable.adj !== undefined) {
        slots.adj[k] = numberSlot(variable.adj, "adjoint");
        set |= ADJ;
      }
      if (bits & HES && variable.hessian !== undefined) {
        slots.hes[k] = numberSlot(variable.hessian, "second-order adjoint");
        set |= HES;
      }
      slots.set[k] = set;
    }
    return { value, slots };
  }

  /** Writes the adjoint / second-order slots (`bits`) back to the externals that hold some. */
  private storeExternals(ext: Externals, bits: number): void {
    const externals = this.externals;
    const slots = ext.slots;
    for (let k = 0; k < externals.length; k++) {
      const set = slots.set[k];
      if (bits & ADJ && set & ADJ) externals[k].adj = slots.adj[k];
      if (bits & HES && set & HES) externals[k].hessian = slots.hes[k];
    }
  }

  /** Clears `bits` of the first `n` operations' slots and loads them from the kept built variables. */
  private loadBuilt(flags: Uint8Array, slots: Slots, bits: number): void {
    const n = flags.length;
    const set = slots.set;
    clearBits(set, n, ~bits & 0xff);
    if ((bits & (ADJ | HES)) === 0) return;
    const built = this.builtSlots;
    for (let j = 0; j < built.length; j++) {
      const slot = built[j];
      if (slot >= n || (flags[slot] & KEPT) === 0) continue;
      const variable = this.builtList[j];
      if (bits & ADJ && variable.adj !== undefined) {
        slots.adj[slot] = numberSlot(variable.adj, "adjoint");
        set[slot] |= ADJ;
      }
      if (bits & HES && variable.hessian !== undefined) {
        slots.hes[slot] = numberSlot(variable.hessian, "second-order adjoint");
        set[slot] |= HES;
      }
    }
  }

  /** Writes slots (`bits`) of kept operations to their built variables (`undefined` where not set). */
  private storeBuilt(flags: Uint8Array, slots: Slots, bits: number): void {
    const built = this.builtSlots;
    for (let j = 0; j < built.length; j++) {
      const slot = built[j];
      if (slot >= flags.length || (flags[slot] & KEPT) === 0) continue;
      const variable = this.builtList[j];
      const set = slots.set[slot];
      if (bits & TLM) variable.tlm = set & TLM ? slots.tlm[slot] : undefined;
      if (bits & ADJ) variable.adj = set & ADJ ? slots.adj[slot] : undefined;
      if (bits & HES) variable.hessian = set & HES ? slots.hes[slot] : undefined;
    }
  }

  /** Replay: recomputes the kept operations from the inputs' values. */
  _sweepRecompute(flags: Uint8Array): void {
    this.compact();
    const slots = this.slots;
    if (slots !== undefined) clearBits(slots.set, Math.min(slots.set.length, this.size), ~(D1 | D2) & 0xff);
    this.recomputeLoop(flags, this.loadExternals(undefined, 0).value);
    const built = this.builtSlots;
    for (let j = 0; j < built.length; j++) {
      const slot = built[j];
      if (slot < flags.length && flags[slot] & KEPT) this.builtList[j].saved = this.values[slot];
    }
  }

  /** Tangent-linear sweep over the kept operations. */
  _sweepTlm(flags: Uint8Array, epoch: number): void {
    this.compact();
    const slots = this.sweepSlots(flags.length);
    const ext = this.loadExternals(epoch, TLM);
    this.loadBuilt(flags, slots, TLM | D1 | D2);
    this.tlmLoop(flags, ext, slots);
    this.storeBuilt(flags, slots, TLM);
  }

  /** Adjoint sweep over the kept operations. */
  _sweepAdjoint(flags: Uint8Array, epoch: number): void {
    this.compact();
    const slots = this.sweepSlots(flags.length);
    const ext = this.loadExternals(epoch, ADJ);
    this.loadBuilt(flags, slots, ADJ);
    this.adjointLoop(flags, ext, slots);
    this.storeExternals(ext, ADJ);
    this.storeBuilt(flags, slots, ADJ);
  }

  /**
   * Second-order sweep over the kept operations, after a tangent-linear sweep: adjoint and second-order
   * adjoint together, or (`adjointsReady`) the second-order adjoint only, over the adjoints an adjoint
   * sweep left.
   */
  _sweepSecondOrder(flags: Uint8Array, epoch: number, adjointsReady: boolean): void {
    this.compact();
    const slots = this.sweepSlots(flags.length);
    const bits = adjointsReady ? HES : ADJ | HES;
    const ext = this.loadExternals(epoch, TLM | ADJ | HES);
    this.loadBuilt(flags, slots, bits);
    if (adjointsReady) this.hessianLoop(flags, ext, slots);
    else this.secondOrderLoop(flags, ext, slots);
    this.storeExternals(ext, bits);
    this.storeBuilt(flags, slots, bits);
  }

  /**
   * The operation where a derivative slot (`slot`) of the last sweep became non-finite: for tangents the
   * first kept operation with finite input tangents and a non-finite one; for adjoints the last one with
   * a finite (or no) adjoint and a non-finite adjoint of an input. Its rule's name and input values.
   */
  _nonFiniteOperation(
    flags: Uint8Array,
    slot: "adj" | "tlm" | "hessian",
  ): { name: string; inputs: number[] } | undefined {
    this.compact();
    const slots = this.slots;
    if (slots === undefined) return undefined;
    const bit = slot === "tlm" ? TLM : slot === "adj" ? ADJ : HES;
    const array = slot === "tlm" ? slots.tlm : slot === "adj" ? slots.adj : slots.hes;
    const ext = this.loadExternals(undefined, 0);
    const externals = this.externals;
    const bad = (s: number): boolean => {
      if (s >= 0) return (slots.set[s] & bit) !== 0 && !Number.isFinite(array[s]);
      const value = externals[-1 - s][slot];
      return typeof value === "number" && !Number.isFinite(value);
    };
    const describe = (i: number): { name: string; inputs: number[] } => {
      const kind = this.kinds[i];
      const inputs = [this.valueAt(this.first[i], ext)];
      if (kind === BINARY) inputs.push(this.valueAt(this.second[i], ext));
      const rule = kind === UNARY ? this.unaryRules[this.ruleIds[i]] : this.binaryRules[this.ruleIds[i]];
      return { name: rule.name, inputs };
    };
    const inputsOf = (i: number): number[] =>
      this.kinds[i] === BINARY ? [this.first[i], this.second[i]] : [this.first[i]];
    if (bit === TLM) {
      for (let i = 0; i < flags.length; i++) {
        if ((flags[i] & KEPT) === 0 || !bad(i)) continue;
        if (!inputsOf(i).some(bad)) return describe(i);
      }
      return undefined;
    }
    for (let i = flags.length - 1; i >= 0; i--) {
      if ((flags[i] & KEPT) === 0 || bad(i)) continue;
      if (inputsOf(i).some((s) => (s >= 0 ? (flags[s] & ACTIVE) !== 0 : true) && bad(s))) return describe(i);
    }
    return undefined;
  }

  // ---- composite modes (drivers that call a block's modes, e.g. dense Jacobians) ----

  private contextExternals(inputs: readonly unknown[], seeds: readonly unknown[], bit: number): Externals {
    const n = this.externals.length;
    const value = new Float64Array(n);
    const slots = new Slots(n);
    for (let k = 0; k < n; k++) {
      value[k] = numberSlot(inputs[k], "input");
      slots.set[k] = EXT_ACTIVE;
      const seed = seeds[k];
      if (seed === undefined) continue;
      if (bit === TLM) slots.tlm[k] = numberSlot(seed, "tangent");
      slots.set[k] |= bit;
    }
    return { value, slots };
  }

  /**
   * The flags of a composite call: ACTIVE | KEPT for the operations that depend on a needed external (the
   * operations a sweep with the needed externals as controls would visit), 0 for the others.
   */
  private neededFlags(needed: readonly boolean[]): Uint8Array {
    const n = this.size;
    const flags = new Uint8Array(n);
    const kinds = this.kinds;
    const firsts = this.first;
    const seconds = this.second;
    for (let i = 0; i < n; i++) {
      const a = firsts[i];
      let on = a >= 0 ? flags[a] !== 0 : needed[-1 - a] === true;
      if (!on && kinds[i] === BINARY) {
        const b = seconds[i];
        on = b >= 0 ? flags[b] !== 0 : needed[-1 - b] === true;
      }
      if (on) flags[i] = ACTIVE | KEPT;
    }
    return flags;
  }

  /** @internal Changes with every use of the composite slots and every recompute (see `tangentsReady`). */
  _compositeToken(): number {
    return this.compositeToken;
  }

  /** Slots for a composite call (reused from call to call), every bit clear. */
  private compositeSlotsFor(n: number): Slots {
    this.compositeToken++;
    let slots = this.compositeSlots;
    if (slots === undefined || slots.set.length < n) {
      slots = new Slots(n);
      this.compositeSlots = slots;
    } else slots.set.fill(0, 0, n);
    return slots;
  }

  /**
   * @internal The segment's adjoint-side modes over contexts, as one call: `adjoint` (evaluateAdj),
   * `hessian` (evaluateHessian: the second-order adjoint over the adjoints an adjoint pass gives) or
   * `fused` (evaluateAdjAndHessian). It gives what the per-operation blocks give when swept with the needed
   * externals as controls, tangents `tlmInputs` on them and seeds `adjInputs` / `hessianInputs` on the
   * built outputs (a tangent of an external that is not needed is not read). `adjStart` / `hessianStart`
   * (one entry per external, `undefined` for none) are the externals' slots before the segment runs: the
   * contributions are added to them one operation at a time, in the sweeps' order (a driver that
   * accumulates into the externals itself passes none and adds the results).
   */
  // long: one composite call for the three modes (externals, seeds, loops, results), each part a few lines
  _composite(mode: "adjoint" | "hessian" | "fused", call: CompositeCall): CompositeResult {
    this.compact();
    const { inputs, needed } = call;
    const n = this.size;
    const flags = this.neededFlags(needed);
    const count = this.externals.length;
    const value = new Float64Array(count);
    const extSlots = new Slots(count);
    const bits = mode === "adjoint" ? ADJ : TLM | ADJ | HES;
    for (let k = 0; k < count; k++) {
      value[k] = numberSlot(inputs[k], "input");
      if (needed[k] !== true) continue;
      let set = EXT_ACTIVE;
      const tangent = call.tlmInputs?.[k];
      if (bits & TLM && tangent !== undefined) {
        extSlots.tlm[k] = numberSlot(tangent, "tangent");
        set |= TLM;
      }
      const adjoint = call.adjStart?.[k];
      if (adjoint !== undefined) {
        extSlots.adj[k] = numberSlot(adjoint, "adjoint");
        set |= ADJ;
      }
      const hessian = call.hessianStart?.[k];
      if (bits & HES && hessian !== undefined) {
        extSlots.hes[k] = numberSlot(hessian, "second-order adjoint");
        set |= HES;
      }
      extSlots.set[k] = set;
    }
    const ext: Externals = { value, slots: extSlots };
    let slots: Slots;
    const reuse = this.compositeSlots;
    if (bits & TLM && reuse !== undefined && call.tangentsReady === this.compositeToken) {
      // the tangents (and partials) of the evaluateTlm just before: keep them, clear the rest
      slots = reuse;
      this.compositeToken++;
      clearBits(slots.set, n, ~(ADJ | HES) & 0xff);
    } else {
      slots = this.compositeSlotsFor(n);
      if (bits & TLM) this.tlmLoop(flags, ext, slots);
    }
    const built = this.builtSlots;
    for (let j = 0; j < built.length; j++) {
      const slot = built[j];
      if (slot >= n || (flags[slot] & KEPT) === 0) continue;
      const adjoint = call.adjInputs[j];
      if (adjoint !== undefined) {
        slots.adj[slot] = numberSlot(adjoint, "adjoint");
        slots.set[slot] |= ADJ;
      }
      const hessian = bits & HES ? call.hessianInputs?.[j] : undefined;
      if (hessian !== undefined) {
        slots.hes[slot] = numberSlot(hessian, "second-order adjoint");
        slots.set[slot] |= HES;
      }
    }
    if (mode === "fused") this.secondOrderLoop(flags, ext, slots);
    else {
      this.adjointLoop(flags, ext, slots);
      if (mode === "hessian") this.hessianLoop(flags, ext, slots);
    }
    const adj: (number | undefined)[] = [];
    const hessian: (number | undefined)[] = [];
    for (let k = 0; k < count; k++) {
      const set = extSlots.set[k];
      adj.push(set & ADJ ? extSlots.adj[k] : undefined);
      hessian.push(set & HES ? extSlots.hes[k] : undefined);
    }
    return { adj, hessian };
  }

  recompute({ inputs }: RecomputeContext): readonly unknown[] {
    this.compact();
    this.compositeToken++;
    const slots = this.slots;
    if (slots !== undefined) clearBits(slots.set, Math.min(slots.set.length, this.size), ~(D1 | D2) & 0xff);
    const n = this.externals.length;
    const value = new Float64Array(n);
    for (let k = 0; k < n; k++) value[k] = numberSlot(inputs[k], "input");
    this.recomputeLoop(allKept(this.size), value);
    return this.builtSlots.map((slot) => this.values[slot]);
  }

  override evaluateTlm({ inputs, tlmInputs }: TlmContext): readonly unknown[] {
    this.compact();
    const ext = this.contextExternals(inputs, tlmInputs, TLM);
    const slots = this.compositeSlotsFor(this.size);
    this.tlmLoop(allKept(this.size), ext, slots);
    return this.builtSlots.map((slot) => (slots.set[slot] & TLM ? slots.tlm[slot] : undefined));
  }

  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext): readonly unknown[] {
    return this._composite("adjoint", { inputs, needed, adjInputs }).adj;
  }

  /** Second-order adjoint mode (see `_composite`: what the per-operation blocks' evaluateHessian give). */
  override evaluateHessian({
    inputs,
    needed,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly unknown[] {
    return this._composite("hessian", { inputs, needed, adjInputs, hessianInputs, tlmInputs }).hessian;
  }

  /** The fused second-order mode ({@link FusedSecondOrder}): adjoint and second-order adjoint in one pass. */
  get [fusedSecondOrder](): true {
    return true;
  }

  /** Adjoint and second-order adjoint together (what the Hessian sweep's fused path gives, per operation). */
  evaluateAdjAndHessian({
    inputs,
    needed,
    adjInputs,
    hessianInputs,
    tlmInputs,
  }: HessianContext): readonly [readonly unknown[], readonly unknown[]] {
    const { adj, hessian } = this._composite("fused", {
      inputs,
      needed,
      adjInputs,
      hessianInputs,
      tlmInputs,
    });
    return [adj, hessian];
  }

  // ---- the loops: the per-operation blocks' scalar fast paths, operation by operation ----

  private recomputeLoop(flags: Uint8Array, ext: Float64Array): void {
    const n = flags.length;
    const kinds = this.kinds;
    const ids = this.ruleIds;
    const unary = this.unaryRules;
    const binary = this.binaryRules;
    const firsts = this.first;
    const seconds = this.second;
    const constants = this.constants;
    const values = this.values;
    for (let i = 0; i < n; i++) {
      if ((flags[i] & KEPT) === 0) continue;
      const a = firsts[i];
      const x = a >= 0 ? values[a] : ext[-1 - a];
      const kind = kinds[i];
      if (kind === UNARY) values[i] = unary[ids[i]].f(x);
      else if (kind === BINARY) {
        const b = seconds[i];
        values[i] = binary[ids[i]].f(x, b >= 0 ? values[b] : ext[-1 - b]);
      } else if (kind === CONSTANT_FIRST) values[i] = binary[ids[i]].f(constants[i], x);
      else values[i] = binary[ids[i]].f(x, constants[i]);
    }
  }

  private tlmLoop(flags: Uint8Array, ext: Externals, slots: Slots): void {
    const n = flags.length;
    const kinds = this.kinds;
    const ids = this.ruleIds;
    const unary = this.unaryRules;
    const binary = this.binaryRules;
    const firsts = this.first;
    const seconds = this.second;
    const constants = this.constants;
    const values = this.values;
    const tlm = slots.tlm;
    const d1 = slots.d1;
    const d2 = slots.d2;
    const set = slots.set;
    const extValue = ext.value;
    const extTlm = ext.slots.tlm;
    const extSet = ext.slots.set;
    for (let i = 0; i < n; i++) {
      if ((flags[i] & KEPT) === 0) continue;
      const a = firsts[i];
      let x: number;
      let adot: number;
      let aOn: number;
      if (a >= 0) {
        x = values[a];
        aOn = set[a] & TLM;
        adot = tlm[a];
      } else {
        x = extValue[-1 - a];
        aOn = extSet[-1 - a] & TLM;
        adot = extTlm[-1 - a];
      }
      const kind = kinds[i];
      const z = values[i];
      if (kind === BINARY) {
        const b = seconds[i];
        let y: number;
        let bdot: number;
        let bOn: number;
        if (b >= 0) {
          y = values[b];
          bOn = set[b] & TLM;
          bdot = tlm[b];
        } else {
          y = extValue[-1 - b];
          bOn = extSet[-1 - b] & TLM;
          bdot = extTlm[-1 - b];
        }
        if (aOn === 0 && bOn === 0) continue;
        // binaryTlmScalar, keeping the partials
        const rule = binary[ids[i]];
        let zdot = 0;
        let bits = TLM;
        if (aOn !== 0) {
          const d = rule.da(x, y, z);
          d1[i] = d;
          bits |= D1;
          zdot += d * adot;
        }
        if (bOn !== 0) {
          const d = rule.db(x, y, z);
          d2[i] = d;
          bits |= D2;
          zdot += d * bdot;
        }
        tlm[i] = zdot;
        set[i] |= bits;
        continue;
      }
      if (aOn === 0) continue;
      let d: number;
      if (kind === UNARY) d = unary[ids[i]].df(x, z);
      else if (kind === CONSTANT_FIRST) d = binary[ids[i]].db(constants[i], x, z);
      else d = binary[ids[i]].da(x, constants[i], z);
      d1[i] = d;
      tlm[i] = d * adot;
      set[i] |= TLM | D1;
    }
  }

  // long: one loop over the operations with the three kinds inline (a call per operation would cost more than the rule)
  private adjointLoop(flags: Uint8Array, ext: Externals, slots: Slots): void {
    const kinds = this.kinds;
    const ids = this.ruleIds;
    const unary = this.unaryRules;
    const binary = this.binaryRules;
    const firsts = this.first;
    const seconds = this.second;
    const constants = this.constants;
    const values = this.values;
    const adj = slots.adj;
    const set = slots.set;
    const extValue = ext.value;
    const extAdj = ext.slots.adj;
    const extSet = ext.slots.set;
    for (let i = flags.length - 1; i >= 0; i--) {
      if ((flags[i] & KEPT) === 0 || (set[i] & ADJ) === 0) continue;
      const zbar = adj[i];
      const z = values[i];
      const a = firsts[i];
      const x = a >= 0 ? values[a] : extValue[-1 - a];
      const needA = a >= 0 ? flags[a] & ACTIVE : extSet[-1 - a] & EXT_ACTIVE;
      const kind = kinds[i];
      let abar = 0;
      if (kind === BINARY) {
        const b = seconds[i];
        const y = b >= 0 ? values[b] : extValue[-1 - b];
        const needB = b >= 0 ? flags[b] & ACTIVE : extSet[-1 - b] & EXT_ACTIVE;
        const rule = binary[ids[i]];
        // as the block: both partials first, then the first input, then the second (maybe the same)
        abar = needA ? rule.da(x, y, z) * zbar : 0;
        const bbar = needB ? rule.db(x, y, z) * zbar : 0;
        if (needA) {
          if (a >= 0) {
            adj[a] = set[a] & ADJ ? adj[a] + abar : abar;
            set[a] |= ADJ;
          } else {
            extAdj[-1 - a] = extSet[-1 - a] & ADJ ? extAdj[-1 - a] + abar : abar;
            extSet[-1 - a] |= ADJ;
          }
        }
        if (needB) {
          if (b >= 0) {
            adj[b] = set[b] & ADJ ? adj[b] + bbar : bbar;
            set[b] |= ADJ;
          } else {
            extAdj[-1 - b] = extSet[-1 - b] & ADJ ? extAdj[-1 - b] + bbar : bbar;
            extSet[-1 - b] |= ADJ;
          }
        }
        continue;
      }
      if (!needA) continue;
      if (kind === UNARY) abar = unary[ids[i]].df(x, z) * zbar;
      else if (kind === CONSTANT_FIRST) abar = binary[ids[i]].db(constants[i], x, z) * zbar;
      else abar = binary[ids[i]].da(x, constants[i], z) * zbar;
      if (a >= 0) {
        adj[a] = set[a] & ADJ ? adj[a] + abar : abar;
        set[a] |= ADJ;
      } else {
        extAdj[-1 - a] = extSet[-1 - a] & ADJ ? extAdj[-1 - a] + abar : abar;
        extSet[-1 - a] |= ADJ;
      }
    }
  }

  /**
   * The fused second-order loop (the blocks' `_secondOrderScalar`): adjoint and second-order adjoint of
   * each kept operation's inputs, f' evaluated once. The accumulations are written out rather than
   * calling `accumulate`: calling it was measured 10-15% slower on the scalar-chain Hessian action.
   */
  // long: one loop over the operations with the three kinds and both input kinds inline (helper calls cost more than the rules)
  private secondOrderLoop(flags: Uint8Array, ext: Externals, slots: Slots): void {
    const kinds = this.kinds;
    const ids = this.ruleIds;
    const unary = this.unaryRules;
    const binary = this.binaryRules;
    const constants = this.constants;
    const values = this.values;
    const firsts = this.first;
    const seconds = this.second;
    const set = slots.set;
    const adj = slots.adj;
    const hes = slots.hes;
    const tlm = slots.tlm;
    const eValue = ext.value;
    const eSet = ext.slots.set;
    const eTlm = ext.slots.tlm;
    const eAdj = ext.slots.adj;
    const eHes = ext.slots.hes;
    for (let i = flags.length - 1; i >= 0; i--) {
      if ((flags[i] & KEPT) === 0) continue;
      const s = set[i];
      if ((s & (ADJ | HES)) === 0) continue;
      const barOn = (s & ADJ) !== 0;
      const hatOn = (s & HES) !== 0;
      const zbar = adj[i];
      const zhat = hes[i];
      const z = values[i];
      const a = firsts[i];
      // input a: value, whether it needs derivatives, its tangent (0 when none)
      let x: number;
      let needA: boolean;
      let dotA = false;
      let ad = 0;
      if (a >= 0) {
        x = values[a];
        needA = (flags[a] & ACTIVE) !== 0;
        if (needA && set[a] & TLM) {
          dotA = true;
          ad = tlm[a];
        }
      } else {
        const k = -1 - a;
        x = eValue[k];
        needA = (eSet[k] & EXT_ACTIVE) !== 0;
        if (needA && eSet[k] & TLM) {
          dotA = true;
          ad = eTlm[k];
        }
      }
      const kind = kinds[i];
      if (kind === BINARY) {
        const b = seconds[i];
        let y: number;
        let needB: boolean;
        let bd = 0;
        if (b >= 0) {
          y = values[b];
          needB = (flags[b] & ACTIVE) !== 0;
          if (needB && set[b] & TLM) bd = tlm[b];
        } else {
          const k = -1 - b;
          y = eValue[k];
          needB = (eSet[k] & EXT_ACTIVE) !== 0;
          if (needB && eSet[k] & TLM) bd = eTlm[k];
        }
        const rule = binary[ids[i]];
        const da = s & D1 ? slots.d1[i] : rule.da(x, y, z);
        const db = s & D2 ? slots.d2[i] : rule.db(x, y, z);
        const hat = hatOn ? zhat : 0;
        const bar = barOn ? zbar : 0;
        const ahat = binarySecondScalar(rule, 0, x, y, z, da * hat, bar, ad, bd);
        const bhat = binarySecondScalar(rule, 1, x, y, z, db * hat, bar, ad, bd);
        if (barOn) {
          if (needA) {
            const v = da * zbar;
            if (a >= 0) {
              adj[a] = set[a] & ADJ ? adj[a] + v : v;
              set[a] |= ADJ;
            } else {
              const k = -1 - a;
              eAdj[k] = eSet[k] & ADJ ? eAdj[k] + v : v;
              eSet[k] |= ADJ;
            }
          }
          if (needB) {
            const v = db * zbar;
            if (b >= 0) {
              adj[b] = set[b] & ADJ ? adj[b] + v : v;
              set[b] |= ADJ;
            } else {
              const k = -1 - b;
              eAdj[k] = eSet[k] & ADJ ? eAdj[k] + v : v;
              eSet[k] |= ADJ;
            }
          }
        }
        if (needA) {
          if (a >= 0) {
            hes[a] = set[a] & HES ? hes[a] + ahat : ahat;
            set[a] |= HES;
          } else {
            const k = -1 - a;
            eHes[k] = eSet[k] & HES ? eHes[k] + ahat : ahat;
            eSet[k] |= HES;
          }
        }
        if (needB) {
          if (b >= 0) {
            hes[b] = set[b] & HES ? hes[b] + bhat : bhat;
            set[b] |= HES;
          } else {
            const k = -1 - b;
            eHes[k] = eSet[k] & HES ? eHes[k] + bhat : bhat;
            eSet[k] |= HES;
          }
        }
        continue;
      }
      let first: number;
      let xhat: number;
      if (kind === UNARY) {
        const rule = unary[ids[i]];
        first = s & D1 ? slots.d1[i] : rule.df(x, z);
        const start = hatOn ? first * zhat : 0;
        // unarySecondScalar with ybar = zbar (when set) and xdot = ad (when set)
        xhat = barOn && dotA && zbar !== 0 && ad !== 0 ? start + rule.d2f(x, z) * zbar * ad : start;
      } else {
        const rule = binary[ids[i]];
        const c = constants[i];
        const bar = barOn ? zbar : 0;
        if (kind === CONSTANT_FIRST) {
          first = s & D1 ? slots.d1[i] : rule.db(c, x, z);
          xhat = binarySecondScalar(rule, 1, c, x, z, first * (hatOn ? zhat : 0), bar, 0, ad);
        } else {
          first = s & D1 ? slots.d1[i] : rule.da(x, c, z);
          xhat = binarySecondScalar(rule, 0, x, c, z, first * (hatOn ? zhat : 0), bar, ad, 0);
        }
      }
      if (!needA) continue;
      if (a >= 0) {
        if (barOn) {
          const v = first * zbar;
          adj[a] = set[a] & ADJ ? adj[a] + v : v;
          set[a] |= ADJ;
        }
        hes[a] = set[a] & HES ? hes[a] + xhat : xhat;
        set[a] |= HES;
      } else {
        const k = -1 - a;
        if (barOn) {
          const v = first * zbar;
          eAdj[k] = eSet[k] & ADJ ? eAdj[k] + v : v;
          eSet[k] |= ADJ;
        }
        eHes[k] = eSet[k] & HES ? eHes[k] + xhat : xhat;
        eSet[k] |= HES;
      }
    }
  }

  /**
   * The second-order loop over adjoints already computed (the blocks' `evaluateHessian`, which skips a
   * zero second-order seed: 0 where the fused loop gives f' * 0).
   */
  private hessianLoop(flags: Uint8Array, ext: Externals, slots: Slots): void {
    const kinds = this.kinds;
    const set = slots.set;
    const adj = slots.adj;
    const hes = slots.hes;
    const values = this.values;
    const firsts = this.first;
    const seconds = this.second;
    for (let i = flags.length - 1; i >= 0; i--) {
      if ((flags[i] & KEPT) === 0) continue;
      const s = set[i];
      if ((s & (ADJ | HES)) === 0) continue;
      const barOn = (s & ADJ) !== 0;
      const hatOn = (s & HES) !== 0;
      const zbar = adj[i];
      const zhat = hes[i];
      const z = values[i];
      const a = firsts[i];
      const kind = kinds[i];
      const x = this.valueAt(a, ext);
      const needA = this.isActive(a, flags, ext);
      const dotOn = needA && this.tangentSet(a, slots, ext);
      const ad = dotOn ? this.tangentAt(a, slots, ext) : 0;
      const hat = hatOn ? zhat : 0;
      const bar = barOn ? zbar : 0;
      if (kind === BINARY) {
        const rule = this.binaryRules[this.ruleIds[i]];
        const b = seconds[i];
        const y = this.valueAt(b, ext);
        const needB = this.isActive(b, flags, ext);
        const bd = needB && this.tangentSet(b, slots, ext) ? this.tangentAt(b, slots, ext) : 0;
        const ahat = binarySecondScalar(
          rule,
          0,
          x,
          y,
          z,
          hat !== 0 ? rule.da(x, y, z) * hat : 0,
          bar,
          ad,
          bd,
        );
        const bhat = binarySecondScalar(
          rule,
          1,
          x,
          y,
          z,
          hat !== 0 ? rule.db(x, y, z) * hat : 0,
          bar,
          ad,
          bd,
        );
        if (needA) this.accumulate(a, ahat, HES, slots, ext);
        if (needB) this.accumulate(b, bhat, HES, slots, ext);
        continue;
      }
      let xhat: number;
      if (kind === UNARY) {
        const rule = this.unaryRules[this.ruleIds[i]];
        const first = !hatOn || zhat === 0 ? 0 : 0 + rule.df(x, z) * zhat;
        xhat = unarySecondScalar(rule, x, z, first, barOn ? zbar : undefined, dotOn ? ad : undefined);
      } else {
        const rule = this.binaryRules[this.ruleIds[i]];
        const c = this.constants[i];
        if (kind === CONSTANT_FIRST) {
          const first = hat !== 0 ? rule.db(c, x, z) * hat : 0;
          xhat = binarySecondScalar(rule, 1, c, x, z, first, bar, 0, ad);
        } else {
          const first = hat !== 0 ? rule.da(x, c, z) * hat : 0;
          xhat = binarySecondScalar(rule, 0, x, c, z, first, bar, ad, 0);
        }
      }
      if (needA) this.accumulate(a, xhat, HES, slots, ext);
    }
  }

  private valueAt(slot: number, ext: Externals): number {
    return slot >= 0 ? this.values[slot] : ext.value[-1 - slot];
  }

  private isActive(slot: number, flags: Uint8Array, ext: Externals): boolean {
    return slot >= 0 ? (flags[slot] & ACTIVE) !== 0 : (ext.slots.set[-1 - slot] & EXT_ACTIVE) !== 0;
  }

  private tangentSet(slot: number, slots: Slots, ext: Externals): boolean {
    return slot >= 0 ? (slots.set[slot] & TLM) !== 0 : (ext.slots.set[-1 - slot] & TLM) !== 0;
  }

  /** The tangent at `slot` (0 when not set). */
  private tangentAt(slot: number, slots: Slots, ext: Externals): number {
    if (slot >= 0) return slots.set[slot] & TLM ? slots.tlm[slot] : 0;
    const k = -1 - slot;
    return ext.slots.set[k] & TLM ? ext.slots.tlm[k] : 0;
  }

  /** Adds `value` to the adjoint (ADJ) or second-order (HES) slot of `slot`, as the sweeps accumulate. */
  private accumulate(slot: number, value: number, bit: number, slots: Slots, ext: Externals): void {
    let target = slots;
    let index = slot;
    if (slot < 0) {
      target = ext.slots;
      index = -1 - slot;
    }
    const array = bit === ADJ ? target.adj : target.hes;
    array[index] = target.set[index] & bit ? array[index] + value : value;
    target.set[index] |= bit;
  }
}
