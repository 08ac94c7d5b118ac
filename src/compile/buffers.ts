/**
 * @file The preallocated storage of a compiled program: one Float64Array per base slot and channel (value,
 * tangent, adjoint, second-order adjoint), allocated once at compile time and reused by every call, and the
 * conversions between a slot's storage and the raw values blocks read and return (a number, an NDArray, or
 * another registered type kept as is).
 */
import { NDArray } from "../values/ndarray.js";
import { addRaw } from "../values/space.js";
import { contiguousStrides, isContiguous, type Program, type Slot } from "./program.js";

/** The four channels a slot may have. */
export type Channel = "value" | "tangent" | "adjoint" | "hessian";

const CHANNELS: readonly Channel[] = ["value", "tangent", "adjoint", "hessian"];

/** Buffers of every base slot for each channel (undefined where a slot has no such buffer). */
export class Store {
  readonly buffers: Record<Channel, (Float64Array | undefined)[]> = {
    value: [],
    tangent: [],
    adjoint: [],
    hessian: [],
  };
  /** Raw values of slots of other registered types (sparse matrices, user types), per channel. */
  readonly others: Record<Channel, unknown[]> = { value: [], tangent: [], adjoint: [], hessian: [] };
  /** The slots with adjoint and second-order buffers, zeroed before a reverse pass. */
  private readonly reverseSlots: number[] = [];

  constructor(
    readonly program: Program,
    initial: (slot: Slot) => unknown,
  ) {
    for (const slot of program.slots) {
      if (slot.base !== slot.id) continue;
      if (slot.kind === "other") {
        this.others.value[slot.id] = initial(slot);
        continue;
      }
      const value = new Float64Array(slot.size);
      const raw = initial(slot);
      if (typeof raw === "number") value[0] = raw;
      else if (raw instanceof NDArray) value.set(raw.data);
      this.buffers.value[slot.id] = value;
      if (!slot.active) continue;
      this.buffers.tangent[slot.id] = new Float64Array(slot.size);
      if (slot.internal) continue;
      this.buffers.adjoint[slot.id] = new Float64Array(slot.size);
      this.buffers.hessian[slot.id] = new Float64Array(slot.size);
      this.reverseSlots.push(slot.id);
    }
  }

  /**
   * Puts every buffer back as the constructor made it: values from `initial`, zeros elsewhere (after the
   * generated loops ran once at compile time, see CompiledFunctional).
   */
  reset(initial: (slot: Slot) => unknown): void {
    for (const slot of this.program.slots) {
      if (slot.base !== slot.id || slot.kind === "other") continue;
      const raw = initial(slot);
      const value = this.buffers.value[slot.id];
      if (value !== undefined) {
        value.fill(0);
        if (typeof raw === "number") value[0] = raw;
        else if (raw instanceof NDArray) value.set(raw.data);
      }
      this.buffers.tangent[slot.id]?.fill(0);
      this.buffers.adjoint[slot.id]?.fill(0);
      this.buffers.hessian[slot.id]?.fill(0);
    }
  }

  /** The buffer of `channel` holding slot `k` (its base's). */
  buffer(channel: Channel, k: number): Float64Array | undefined {
    return this.buffers[channel][this.program.slots[k].base];
  }

  /** Base slots whose reverse buffers the generated loops assign before any other write (not cleared). */
  private readonly assigned = new Set<number>();

  /** Marks base slots whose adjoint and second-order buffers the reverse loops assign entry by entry. */
  assignedByLoops(bases: Iterable<number>): void {
    for (const k of bases) this.assigned.add(k);
  }

  /** Clears the adjoint (and, with `hessian`, the second-order) buffers and the other-type slots. */
  clearReverse(hessian: boolean): void {
    for (const k of this.reverseSlots) {
      if (this.assigned.has(k)) continue;
      this.buffers.adjoint[k]?.fill(0);
      if (hessian) this.buffers.hessian[k]?.fill(0);
    }
    this.others.adjoint.length = 0;
    this.others.hessian.length = 0;
  }

  /**
   * Slot `k` of `channel` as the raw value a block reads: a number, a fresh NDArray over the storage (a
   * strided view is copied out), another type's raw value; undefined for no buffer (a zero seed).
   */
  raw(channel: Channel, k: number): unknown {
    const slot = this.program.slots[k];
    if (slot.kind === "other") return this.others[channel][slot.base];
    const buffer = this.buffer(channel, k);
    if (buffer === undefined) return undefined;
    if (slot.kind === "number") return buffer[0];
    if (isContiguous(slot, this.program.slots)) {
      return new NDArray(buffer, slot.shape);
    }
    const out = new Float64Array(slot.size);
    stridedLoop(slot, (i, j) => {
      out[i] = buffer[j];
    });
    return new NDArray(out, slot.shape);
  }

  /**
   * Hands the buffer of base slot `k`'s channel to the caller (a result it keeps) and gives the program a
   * fresh one, so the program never writes the returned array again.
   */
  take(channel: Channel, k: number): Float64Array {
    const buffer = this.buffers[channel][k] ?? new Float64Array(this.program.slots[k].size);
    this.buffers[channel][k] = new Float64Array(buffer.length);
    return buffer;
  }

  /**
   * Makes `data` the buffer of base slot `k`'s channel (a control's value or tangent the caller gave: the
   * program only reads it, and arrays are immutable, so it is used in place).
   */
  adopt(channel: Channel, k: number, data: Float64Array): void {
    this.buffers[channel][k] = data;
  }

  /** Stores a block's result for slot `k` (a copy: the block's arrays are never written). */
  write(channel: Channel, k: number, raw: unknown): void {
    const slot = this.program.slots[k];
    if (slot.kind === "other") {
      this.others[channel][slot.base] = raw;
      return;
    }
    const buffer = this.buffer(channel, k);
    if (buffer === undefined) return;
    if (raw === undefined) buffer.fill(0);
    else if (typeof raw === "number") buffer[0] = raw;
    else if (raw instanceof NDArray) buffer.set(raw.data);
  }

  /** Adds a block's adjoint result into slot `k` (at its strided positions for a view). */
  accumulate(channel: Channel, k: number, raw: unknown): void {
    if (raw === undefined) return;
    const slot = this.program.slots[k];
    if (slot.kind === "other") {
      this.others[channel][slot.base] = addRaw(this.others[channel][slot.base], raw);
      return;
    }
    const buffer = this.buffer(channel, k);
    if (buffer === undefined) return;
    if (typeof raw === "number") {
      buffer[0] += raw;
      return;
    }
    if (!(raw instanceof NDArray)) return;
    const data = raw.data;
    if (isContiguous(slot, this.program.slots)) {
      for (let i = 0; i < data.length; i++) buffer[i] += data[i];
      return;
    }
    stridedLoop(slot, (i, j) => {
      buffer[j] += data[i];
    });
  }
}

/** Calls `visit(i, j)` for each entry i (row-major) of a slot and its position j in the base buffer. */
function stridedLoop(slot: Slot, visit: (i: number, j: number) => void): void {
  const shape = slot.shape;
  const index = new Array<number>(shape.length).fill(0);
  const unit = contiguousStrides(shape);
  for (let i = 0; i < slot.size; i++) {
    let j = 0;
    let rest = i;
    for (let d = 0; d < shape.length; d++) {
      index[d] = Math.floor(rest / unit[d]);
      rest -= index[d] * unit[d];
      j += index[d] * slot.strides[d];
    }
    visit(i, j);
  }
}

/** All channels, for loops over them. */
export function channels(): readonly Channel[] {
  return CHANNELS;
}
