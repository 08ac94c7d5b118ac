/**
 * @file The program a compiled functional runs: one slot per value on the tape path from the controls to
 * the functional (a preallocated Float64Array per value and per channel: value, tangent, adjoint,
 * second-order adjoint), and steps in an order consistent with the tape. A step is either a fused group
 * (elementwise blocks and sums over one iteration shape, run by generated loops) or a fallback (any other
 * block, run through its own modes; a ScalarSegment, a run of AdjFloat operations, is one such step run
 * by its typed loops rather than generated code a operation). Views (reshape, ravel, expand_dims,
 * squeeze, broadcast_to) are no step at all: their slot reads the buffers of the value they view, with
 * strides.
 *
 * Adjoint order: the reverse loops add each value's adjoint contributions (and second-order ones) in the
 * uncompiled sweep's order, so the sums are the same float64s. Steps keep their tape order among the
 * readers of an active value; a view stays free only when its adjoint is one contribution added where the
 * sweep adds it; an operand read with broadcasting gets its terms summed in entry order (straight into its
 * buffer when nothing was added before, else apart and added after the loop) where that order gives the
 * sweep's sums. Otherwise the block runs its own modes.
 */
import { InvalidArgumentError } from "../errors.js";
import { BinaryConstantBlock, BinaryElementwiseBlock, UnaryElementwiseBlock } from "../ops/elementwise.js";
import { type BinaryRule, expRule, logRule, powerRule, type UnaryRule } from "../ops/elementwise-rules.js";
import { LinearBlock } from "../ops/linear.js";
import { type ReductionParams, sumLinear } from "../ops/reduce.js";
import {
  broadcastToLinear,
  expandDimsLinear,
  ravelLinear,
  reshapeLinear,
  squeezeLinear,
} from "../ops/shape.js";
import type { Block } from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { ScalarSegment } from "../tape/scalar-segment.js";
import { NDArray } from "../values/ndarray.js";

/** How a slot's raw value is typed at the program's boundary. */
export type SlotKind = "number" | "array" | "other";

/** One value of the program. A view shares the buffers of its base slot and reads them with strides. */
export interface Slot {
  readonly id: number;
  readonly kind: SlotKind;
  readonly shape: readonly number[];
  readonly size: number;
  /** Whether the value depends on a control (it then has a tangent and an adjoint). */
  readonly active: boolean;
  /** The slot whose buffers this one reads (itself unless a view). */
  readonly base: number;
  /** Strides into the base buffer (row-major contiguous unless a broadcast view). */
  readonly strides: readonly number[];
  /** The step producing the base value (undefined for controls and constants). */
  producer: Step | undefined;
  /** Whether the adjoint lives only in registers of its producing group (no adjoint buffer). */
  internal: boolean;
  /** The raw value the tape held at compile time (the buffers start from it). */
  readonly saved: unknown;
}

/** One elementwise block or sum inside a fused group. */
export type Member =
  | {
      readonly kind: "unary";
      /**
       * Operand positions whose adjoint terms (read with broadcasting) the loops sum apart and add after the
       * loop, as the sweep adds a broadcast operand's summed terms (see ProgramBuilder.broadcastSums).
       */
      readonly ownSums?: readonly number[];
      readonly rule: UnaryRule;
      readonly out: number;
      readonly args: readonly [number];
      /** Computed by the array kernel over the whole input before the loop (exp, log). */
      readonly run?: boolean;
    }
  | {
      readonly kind: "binary";
      readonly ownSums?: readonly number[];
      readonly rule: BinaryRule;
      readonly out: number;
      readonly args: readonly [number, number];
      /** A power with one exponent, computed by the array kernel before the loop. */
      readonly run?: boolean;
    }
  | {
      readonly kind: "constant";
      readonly ownSums?: readonly number[];
      readonly rule: BinaryRule;
      readonly out: number;
      readonly args: readonly [number];
      readonly constant: number;
      readonly constantIsFirst: boolean;
      /** A power with a constant exponent outside the shortcuts, computed by the array kernel before the loop. */
      readonly run?: boolean;
    }
  | {
      readonly kind: "sum";
      readonly ownSums?: readonly number[];
      readonly out: number;
      readonly args: readonly [number];
      readonly params: ReductionParams;
    };

/** Elementwise blocks and sums over one iteration shape, run as one loop per mode. */
export interface GroupStep {
  readonly kind: "group";
  readonly shape: readonly number[];
  readonly members: Member[];
  /** Order among the steps (fractional: a step is inserted right after the producers of its operands). */
  order: number;
}

/** Any other block, run through its own recompute / evaluateTlm / evaluateAdj / evaluateHessian. */
export interface FallbackStep {
  readonly kind: "fallback";
  readonly block: Block;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  order: number;
}

/** A step of the program. */
export type Step = GroupStep | FallbackStep;

/** The program: slots, steps in execution order, the controls and the functional. */
export interface Program {
  readonly slots: Slot[];
  readonly steps: Step[];
  readonly controls: readonly number[];
  readonly functional: number;
  /** How many blocks became group members, views and fallback steps. */
  readonly counts: { fused: number; views: number; segments: number; fallback: number };
}

/** Unary rules computed by their array kernels (faster than the scalar function, the same numbers). */
const RUN_UNARY = new Set<UnaryRule>([expRule, logRule]);
/** Constant exponents the power loops compute exactly without pow (x ** 2 is x * x, ...). */
export const POWER_SHORTCUTS: readonly number[] = [0, 1, 2, 0.5, -1];

/** Largest number of members in one group (a generated function stays a reasonable size). */
const MAX_MEMBERS = 400;
/** How many of the latest groups of the same shape a block tries to join. */
const JOIN_WINDOW = 8;

/** Row-major contiguous strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d];
  }
  return strides;
}

function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const n of shape) size *= n;
  return size;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Whether the slot's strides are the contiguous strides of its shape over a base of the same size. */
export function isContiguous(slot: Slot, slots: readonly Slot[]): boolean {
  if (slots[slot.base].size !== slot.size) return false;
  const c = contiguousStrides(slot.shape);
  return slot.shape.every((n, d) => n === 1 || slot.strides[d] === c[d]);
}

/** Whether a LinearBlock's params are a sum's (axes, keepdims, keepShape). */
function isReductionParams(params: unknown): params is ReductionParams {
  if (typeof params !== "object" || params === null) return false;
  return (
    "axes" in params &&
    Array.isArray(params.axes) &&
    "keepShape" in params &&
    Array.isArray(params.keepShape) &&
    "keepdims" in params &&
    typeof params.keepdims === "boolean"
  );
}

function kindOf(raw: unknown): SlotKind {
  if (typeof raw === "number") return "number";
  if (raw instanceof NDArray) return "array";
  return "other";
}

function shapeOfRaw(raw: unknown): readonly number[] {
  return raw instanceof NDArray ? raw.shape : [];
}

/** The reshape-like definitions: the output is the input's entries in a new shape. */
const RESHAPES = new Set<unknown>([
  reshapeLinear.definition,
  ravelLinear.definition,
  expandDimsLinear.definition,
  squeezeLinear.definition,
]);

/** Builds programs from the blocks of a tape path. */
class ProgramBuilder {
  readonly slots: Slot[] = [];
  readonly steps: Step[] = [];
  private readonly slotOf = new Map<BlockVariable, number>();
  private readonly groupsByShape = new Map<string, GroupStep[]>();
  readonly counts = { fused: 0, views: 0, segments: 0, fallback: 0 };
  /**
   * The latest step reading each active base slot. Every step (a group, a fallback, a scalar segment) keeps
   * its tape order among the steps reading the same active value: the reverse loops then add the
   * contributions to that value's adjoint (and second-order adjoint) one after the other in the uncompiled
   * sweep's order, `((c1 + c2) + c3) + ...` from the last reader back, so the sums are the same bit for bit.
   */
  private readonly lastReader = new Map<number, Step>();

  constructor(
    private readonly controlVariables: readonly BlockVariable[],
    private readonly fuse: boolean,
    private readonly reads: ReadIndex = emptyReadIndex(),
  ) {
    for (const variable of controlVariables) this.slotFor(variable, true);
  }

  /** The slot of a variable, created (as a control or a constant) on first sight. */
  slotFor(variable: BlockVariable, active = false): number {
    const known = this.slotOf.get(variable);
    if (known !== undefined) return known;
    return this.newSlot(variable, kindOf(variable.saved), shapeOfRaw(variable.saved), active);
  }

  private newSlot(
    variable: BlockVariable,
    kind: SlotKind,
    shape: readonly number[],
    active: boolean,
    view?: { base: number; strides: readonly number[] },
  ): number {
    const id = this.slots.length;
    this.slots.push({
      id,
      kind,
      shape,
      size: sizeOf(shape),
      active,
      base: view?.base ?? id,
      strides: view?.strides ?? contiguousStrides(shape),
      producer: undefined,
      internal: false,
      saved: variable.saved,
    });
    this.slotOf.set(variable, id);
    return id;
  }

  private isControl(variable: BlockVariable): boolean {
    return this.controlVariables.includes(variable);
  }

  /** Adds one block of the path (in tape order; `index` its position among the path's blocks). */
  add(block: Block, index = -1): void {
    const deps = block.dependencies;
    const outs = block.outputs;
    const inputs = deps.map((d) => this.slotFor(d));
    const active = inputs.some((k) => this.slots[k].active);
    if (outs.some((o) => this.isControl(o) || this.slotOf.has(o))) {
      // a block writing a control (or a value seen before): keep the control's value, run it as a fallback
      this.addFallback(block, inputs, active);
      return;
    }
    if (this.fuse && this.tryView(block, inputs, active, index)) return;
    const member = this.fuse ? this.memberOf(block, inputs, active) : undefined;
    const ownSums =
      member === undefined ? undefined : this.broadcastSums(block, member.member, member.shape, index);
    if (member === undefined || ownSums === undefined) {
      this.addFallback(block, inputs, active);
      return;
    }
    const m = member.member;
    this.addMember(ownSums.length === 0 ? m : { ...m, ownSums }, member.shape);
  }

  private addFallback(block: Block, inputs: number[], active: boolean): void {
    const outputs = block.outputs.map((o) => {
      const known = this.slotOf.get(o);
      return known ?? this.newSlot(o, kindOf(o.saved), shapeOfRaw(o.saved), active);
    });
    const step: FallbackStep = { kind: "fallback", block, inputs, outputs, order: 0 };
    const segment = block instanceof ScalarSegment;
    this.place(step, Math.max(this.after(inputs), this.latestReader(inputs)));
    this.noteReader(step, inputs);
    for (const k of outputs) {
      if (this.slots[k].producer === undefined && !this.controlSlots().includes(k))
        this.slots[k].producer = step;
    }
    if (segment) this.counts.segments++;
    else this.counts.fallback++;
  }

  /** The order of the latest step reading one of the active `inputs` (-infinity: none). */
  private latestReader(inputs: readonly number[]): number {
    let latest = Number.NEGATIVE_INFINITY;
    for (const k of inputs) {
      if (!this.slots[k].active) continue;
      const reader = this.lastReader.get(this.slots[k].base);
      if (reader !== undefined && reader.order > latest) latest = reader.order;
    }
    return latest;
  }

  /** Records `step` as a reader of the active `inputs` when it is the latest one. */
  private noteReader(step: Step, inputs: readonly number[]): void {
    for (const k of inputs) {
      if (!this.slots[k].active) continue;
      const base = this.slots[k].base;
      const known = this.lastReader.get(base);
      if (known === undefined || known.order < step.order) this.lastReader.set(base, step);
    }
  }

  /**
   * Whether a view's adjoint may go straight into its base's adjoint, as the consumer's loop adds it: the
   * sweep first sums the view's own contributions and adds that sum to the base's adjoint when the view's
   * block runs, so this gives the same sum only when the view has at most one contribution (one read by one
   * block, `c`) and no block between the view and `c` reads the base or another view of it (no other term
   * comes between). Otherwise the view runs as a step of its own (its own adjoint, added in the sweep's
   * order).
   */
  private viewAdjointIsFree(block: Block, index: number): boolean {
    const reads = this.reads.of.get(block.outputs[0]) ?? [];
    if (reads.length === 0) return true;
    if (reads.length > 1 || index < 0) return false;
    const consumer = reads[0];
    return (
      this.reads.between(block.dependencies[0], index, consumer) === 0 &&
      this.reads.count(block.dependencies[0], consumer) === 1
    );
  }

  /**
   * How a member's loop adds its adjoint terms of operands read with broadcasting (several entries of the
   * loop to one entry of the operand, other than a single value): the sweep sums a broadcast operand's terms
   * first (in entry order) and then adds that sum to what the operand's adjoint holds. Straight into the
   * operand's buffer gives those numbers when nothing was added before (no later block reads the operand or a
   * view of it); otherwise the loop sums them apart (the positions returned, see Member.ownSums) and adds
   * the sums after the loop. Undefined when the block must run as a step of its own: broadcasting the loop's
   * order does not sum as the sweep does (mixedBroadcast), or a block reading the operand twice.
   */
  private broadcastSums(
    block: Block,
    member: Member,
    shape: readonly number[],
    index: number,
  ): number[] | undefined {
    const own: number[] = [];
    for (const [i, k] of member.args.entries()) {
      const slot = this.slots[k];
      if (!slot.active) continue;
      const strides = broadcastStrides(slot, shape);
      if (strides === undefined) return undefined;
      const scalar = strides.every((st, d) => shape[d] === 1 || st === 0);
      const broadcast = shape.some((n, d) => n > 1 && strides[d] === 0);
      if (scalar || !broadcast) continue;
      if (mixedBroadcast(shape, strides) || index < 0) return undefined;
      const variable = block.dependencies[i];
      if (this.reads.count(variable, index) !== 1) return undefined;
      if (this.reads.after(variable, index) !== 0) own.push(i);
    }
    return own;
  }

  private controlSlots(): number[] {
    return this.controlVariables.map((v) => this.slotOf.get(v) ?? -1);
  }

  /** A reshape-like or broadcast_to LinearBlock as a view of its input (no step). */
  private tryView(block: Block, inputs: number[], active: boolean, index: number): boolean {
    if (!(block instanceof LinearBlock) || block.constructor !== LinearBlock) return false;
    const definition: unknown = block.definition;
    const output = block.outputs[0];
    if (inputs.length !== 1 || block.outputs.length !== 1) return false;
    if (active && !this.viewAdjointIsFree(block, index)) return false;
    const source = this.slots[inputs[0]];
    if (source.kind === "other" || kindOf(output.saved) === "other") return false;
    const shape = shapeOfRaw(output.saved);
    if (RESHAPES.has(definition)) {
      if (!isContiguous(source, this.slots) || sizeOf(shape) !== source.size) return false;
      this.newSlot(output, kindOf(output.saved), shape, active, {
        base: source.base,
        strides: contiguousStrides(shape),
      });
      this.counts.views++;
      return true;
    }
    if (definition === broadcastToLinear.definition && kindOf(output.saved) === "array") {
      const strides = broadcastStrides(source, shape);
      if (strides === undefined || (active && mixedBroadcast(shape, strides))) return false;
      this.newSlot(output, "array", shape, active, { base: source.base, strides });
      this.counts.views++;
      return true;
    }
    return false;
  }

  /** The group member a block becomes, with its iteration shape, or undefined for a fallback. */
  private memberOf(
    block: Block,
    inputs: number[],
    active: boolean,
  ): { member: Member; shape: readonly number[] } | undefined {
    if (block.outputs.length !== 1) return undefined;
    const output = block.outputs[0];
    const outKind = kindOf(output.saved);
    if (outKind === "other" || inputs.some((k) => this.slots[k].kind === "other")) return undefined;
    const outShape = shapeOfRaw(output.saved);
    const ctor = block.constructor;
    const newOut = () => this.newSlot(output, outKind, outShape, active);
    if (block instanceof UnaryElementwiseBlock && ctor === UnaryElementwiseBlock) {
      if (!sameShape(this.slots[inputs[0]].shape, outShape)) return undefined;
      const run = RUN_UNARY.has(block.rule) && this.flatOver(inputs[0], outShape);
      return {
        member: { kind: "unary", rule: block.rule, args: [inputs[0]], out: newOut(), run },
        shape: outShape,
      };
    }
    if (block instanceof BinaryElementwiseBlock && ctor === BinaryElementwiseBlock) {
      if (!inputs.every((k) => broadcastStrides(this.slots[k], outShape) !== undefined)) return undefined;
      const args: [number, number] = [inputs[0], inputs[1]];
      const run =
        block.rule === powerRule && this.slots[inputs[1]].size === 1 && this.flatOver(inputs[0], outShape);
      return { member: { kind: "binary", rule: block.rule, args, out: newOut(), run }, shape: outShape };
    }
    if (block instanceof BinaryConstantBlock && ctor === BinaryConstantBlock) {
      if (broadcastStrides(this.slots[inputs[0]], outShape) === undefined) return undefined;
      const member: Member = {
        kind: "constant",
        rule: block.rule,
        args: [inputs[0]],
        constant: block.constant,
        constantIsFirst: block.constantIsFirst,
        out: newOut(),
        run:
          block.rule === powerRule &&
          !block.constantIsFirst &&
          !POWER_SHORTCUTS.includes(block.constant) &&
          this.flatOver(inputs[0], outShape),
      };
      return { member, shape: outShape };
    }
    if (block instanceof LinearBlock && ctor === LinearBlock && block.definition === sumLinear.definition) {
      const source = this.slots[inputs[0]];
      const params: unknown = block.params;
      if (!isReductionParams(params)) return undefined;
      if (source.kind === "number" && outKind === "number") {
        return { member: { kind: "sum", args: [inputs[0]], params, out: newOut() }, shape: [] };
      }
      if (sizeOf(outShape) !== sizeOf(params.keepShape)) return undefined;
      return { member: { kind: "sum", args: [inputs[0]], params, out: newOut() }, shape: source.shape };
    }
    return undefined;
  }

  /** Whether slot `k` is read entry by entry over `shape` (contiguous, same shape) in a loop of several entries. */
  private flatOver(k: number, shape: readonly number[]): boolean {
    const slot = this.slots[k];
    return sizeOf(shape) > 1 && sameShape(slot.shape, shape) && isContiguous(slot, this.slots);
  }

  /** Puts a member into a group of its shape that can take it, or into a new group. */
  private addMember(member: Member, shape: readonly number[]): void {
    const key = shape.join(",");
    const groups = this.groupsByShape.get(key) ?? [];
    this.groupsByShape.set(key, groups);
    let target: GroupStep | undefined;
    // not before a step reading the same active values (see lastReader)
    const bound = this.latestReader(member.args);
    for (let g = groups.length - 1; g >= 0 && g >= groups.length - JOIN_WINDOW; g--) {
      if (groups[g].order >= bound && this.canJoin(groups[g], member)) {
        target = groups[g];
        break;
      }
    }
    if (target === undefined) {
      target = { kind: "group", shape, members: [], order: 0 };
      this.place(target, Math.max(this.after(member.args), bound));
      groups.push(target);
    }
    this.noteReader(target, member.args);
    target.members.push(member);
    this.slots[member.out].producer = target;
    this.counts.fused++;
  }

  /** Whether `member` can run inside `group`: each operand is a register of it or produced before it. */
  private canJoin(group: GroupStep, member: Member): boolean {
    if (group.members.length >= MAX_MEMBERS) return false;
    for (const k of member.args) {
      const slot = this.slots[k];
      const producer = this.slots[slot.base].producer;
      if (producer === undefined) continue;
      if (producer === group) {
        if (slot.base !== k) return false; // a view of a value this loop is writing
        if (member.kind !== "sum" && member.run === true) return false; // a kernel run needs its input whole
        const own = group.members.find((m) => m.out === k);
        if (own === undefined || own.kind === "sum") return false; // a sum is complete only after the loop
        continue;
      }
      if (producer.order >= group.order) return false;
    }
    return true;
  }

  /** The order right after the latest producer of these slots. */
  private after(inputs: readonly number[]): number {
    let latest = Number.NEGATIVE_INFINITY;
    for (const k of inputs) {
      const producer = this.slots[this.slots[k].base].producer;
      if (producer !== undefined && producer.order > latest) latest = producer.order;
    }
    return latest;
  }

  /** Inserts a step right after the step of order `latest` (at the start for none). */
  private place(step: Step, latest: number): void {
    const steps = this.steps;
    // from the end: a step usually goes last
    let index = steps.length;
    while (index > 0 && steps[index - 1].order > latest) index--;
    const previous = index === 0 ? -1 : steps[index - 1].order;
    const next = index === steps.length ? previous + 2 : steps[index].order;
    let order = (previous + next) / 2;
    if (!(order > previous && order < next)) {
      steps.forEach((s, i) => {
        s.order = i * 2;
      });
      order = index * 2 - 1;
    }
    step.order = order;
    steps.splice(index, 0, step);
  }
}

/**
 * Where the blocks of a path read each value, counted over its view class (a value together with the
 * reshapes and broadcasts of it and the values they view): the positions of the reads, ascending, one per
 * dependency (a block reading a value twice reads it twice).
 */
interface ReadIndex {
  /** The positions of the blocks reading a variable itself. */
  readonly of: Map<BlockVariable, number[]>;
  /** Reads of the variable's view class strictly between positions `from` and `to`. */
  between(variable: BlockVariable, from: number, to: number): number;
  /** Reads of the variable's view class after position `from`. */
  after(variable: BlockVariable, from: number): number;
  /** Reads of the variable's view class by the block at position `at`. */
  count(variable: BlockVariable, at: number): number;
}

function emptyReadIndex(): ReadIndex {
  return { of: new Map(), between: () => 0, after: () => 0, count: () => 0 };
}

/** Whether a block may become a view (a reshape-like or broadcast_to LinearBlock of one input). */
function mayView(block: Block): boolean {
  if (!(block instanceof LinearBlock) || block.constructor !== LinearBlock) return false;
  if (block.dependencies.length !== 1 || block.outputs.length !== 1) return false;
  const definition: unknown = block.definition;
  return RESHAPES.has(definition) || definition === broadcastToLinear.definition;
}

/** The read positions of the path's values and of their view classes. */
function readIndex(blocks: readonly Block[]): ReadIndex {
  const of = new Map<BlockVariable, number[]>();
  const root = new Map<BlockVariable, BlockVariable>();
  const find = (v: BlockVariable): BlockVariable => {
    let r = v;
    for (let next = root.get(r); next !== undefined && next !== r; next = root.get(r)) r = next;
    return r;
  };
  blocks.forEach((block, index) => {
    for (const d of block.dependencies) {
      const list = of.get(d) ?? [];
      list.push(index);
      of.set(d, list);
    }
    if (mayView(block)) {
      const a = find(block.dependencies[0]);
      const b = find(block.outputs[0]);
      if (a !== b) root.set(b, a);
    }
  });
  const classReads = new Map<BlockVariable, number[]>();
  for (const [variable, list] of of) {
    const r = find(variable);
    classReads.set(r, [...(classReads.get(r) ?? []), ...list]);
  }
  for (const list of classReads.values()) list.sort((a, b) => a - b);
  const readsOf = (v: BlockVariable) => classReads.get(find(v)) ?? [];
  return {
    of,
    between: (v, from, to) => readsOf(v).filter((i) => i > from && i < to).length,
    after: (v, from) => readsOf(v).filter((i) => i > from).length,
    count: (v, at) => readsOf(v).filter((i) => i === at).length,
  };
}

/**
 * Whether a read with `strides` over `shape` broadcasts along axes both before and after an axis it walks
 * ([3, 1] against [2, 3, 4]): the uncompiled sweep sums such terms block by block (per row, then across
 * blocks, or with sumToShape), not in entry order as a loop adding straight into the buffer does, so such a
 * read's adjoint comes from the block's own modes. Broadcasting along leading axes only ([k] against
 * [n, k], entry order) or trailing axes only ([n, 1] against [n, k], row sums) gives the loop's sums.
 */
function mixedBroadcast(shape: readonly number[], strides: readonly number[]): boolean {
  let last = -1;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 1 && strides[d] !== 0) last = d;
  let before = false;
  let after = false;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] <= 1 || strides[d] !== 0) continue;
    if (d < last) before = true;
    else after = true;
  }
  return before && after;
}

/**
 * The strides of `slot`'s base buffer seen through NumPy broadcasting to `shape` (0 along broadcast axes),
 * or undefined when the shapes do not broadcast.
 */
export function broadcastStrides(slot: Slot, shape: readonly number[]): number[] | undefined {
  const rank = shape.length;
  const offset = rank - slot.shape.length;
  if (offset < 0) return undefined;
  const strides = new Array<number>(rank).fill(0);
  for (let d = 0; d < slot.shape.length; d++) {
    const n = slot.shape[d];
    const target = shape[d + offset];
    if (n === target) strides[d + offset] = n === 1 ? 0 : slot.strides[d];
    else if (n !== 1) return undefined;
  }
  return strides;
}

/**
 * Builds the program of the blocks between the controls and the functional. With `fuse` false every block
 * is a fallback step (the interpreter used when code cannot be generated).
 */
export function buildProgram(
  blocks: readonly Block[],
  controls: readonly BlockVariable[],
  functional: BlockVariable,
  fuse: boolean,
  operation: string,
): Program {
  const builder = new ProgramBuilder(controls, fuse, readIndex(blocks));
  blocks.forEach((block, index) => {
    builder.add(block, index);
  });
  const slots = builder.slots;
  const controlSlots = controls.map((c) => builder.slotFor(c));
  for (const k of controlSlots) {
    if (slots[k].kind === "other") {
      throw new InvalidArgumentError(
        operation,
        "a control is neither an AdjFloat nor an NDArray; compile functionals of AdjFloat / NDArray controls",
      );
    }
  }
  const functionalSlot = builder.slotFor(functional);
  markInternal(slots, builder.steps, functionalSlot);
  return {
    slots,
    steps: builder.steps,
    controls: controlSlots,
    functional: functionalSlot,
    counts: builder.counts,
  };
}

/**
 * Marks the group outputs whose adjoint never leaves their group: read only as registers by members of
 * the same group, not a sum, not the functional, not viewed.
 */
function markInternal(slots: Slot[], steps: readonly Step[], functional: number): void {
  const readers = new Map<number, Set<Step>>();
  const note = (k: number, step: Step) => {
    const set = readers.get(k) ?? new Set<Step>();
    set.add(step);
    readers.set(k, set);
  };
  for (const step of steps) {
    if (step.kind === "fallback") for (const k of step.inputs) note(slots[k].base, step);
    else for (const m of step.members) for (const k of m.args) note(k === slots[k].base ? k : -1, step);
  }
  const viewed = new Set<number>();
  for (const slot of slots) if (slot.base !== slot.id) viewed.add(slot.base);
  for (const step of steps) {
    if (step.kind !== "group") continue;
    for (const m of step.members) {
      if (m.kind === "sum" || m.out === functional || viewed.has(m.out)) continue;
      const set = readers.get(m.out);
      slots[m.out].internal = set === undefined || (set.size === 1 && set.has(step));
    }
  }
}
