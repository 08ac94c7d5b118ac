/**
 * @file Row fusion across a reduction: consecutive groups over a shape S = [...K, ...T] and over its leading
 * part K (e.g. s = sum(g * g, axis 1) over [n, 2], then mu = (s + 1e-12) ** e over [n], then mu[:, None] * g
 * over [n, 2]) run as one loop over the rows of K. Each row runs the groups' bodies in program order (the
 * reverse loops in reverse order): an S group's inner axes T are unrolled (or looped) inside the row, a K
 * group's body runs once on the row's entry. The chains are chosen so that each entry sees the same
 * operations in the same order as with one loop per group: a group reads what an earlier group of the chain
 * wrote only at the same row (a sum over the trailing axes T is complete at the end of its row), each active
 * operand's adjoint entry belongs to one row (or is a scalar accumulated in entry order and flushed after the
 * loop, in the groups' reverse order), and no array kernel reads a value the chain writes.
 */
import { broadcastStrides, contiguousStrides, type GroupStep, type Program, type Step } from "./program.js";

/** The row split of a chain: K's size (rows), T's size (entries of a row) and K's rank. */
export interface RowShape {
  readonly rows: number;
  readonly inner: number;
  readonly split: number;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * The single stride that walks axes [from, to) of `shape` with `strides` as one axis, or undefined when they
 * do not collapse (0 when all those axes have one entry).
 *
 * @example
 * collapsedStride([4, 2], [2, 1], 0, 1); // 2
 */
export function collapsedStride(
  shape: readonly number[],
  strides: readonly number[],
  from: number,
  to: number,
): number | undefined {
  let stride: number | undefined;
  let span = 1;
  for (let d = to - 1; d >= from; d--) {
    if (shape[d] === 1) continue;
    if (stride === undefined) stride = strides[d];
    else if (strides[d] !== stride * span) return undefined;
    span *= shape[d];
  }
  return stride ?? 0;
}

/** The chain's shapes: K and S. */
interface ChainShape {
  readonly k: readonly number[];
  readonly s: readonly number[];
}

/** The (K, S) pair of two group shapes when one is the other's leading part with more than one row. */
function pairOf(a: readonly number[], b: readonly number[]): ChainShape | undefined {
  const [k, s] = a.length < b.length ? [a, b] : [b, a];
  if (k.length === 0 || k.length === s.length || !sameShape(k, s.slice(0, k.length))) return undefined;
  if (sizeOf(k) < 2 || sizeOf(s.slice(k.length)) < 2) return undefined;
  return { k, s };
}

/** Whether `group` can run as a row body of a chain of shape `cs` after the groups of `chain`. */
function fits(program: Program, chain: readonly GroupStep[], group: GroupStep, cs: ChainShape): boolean {
  const { slots } = program;
  const isK = sameShape(group.shape, cs.k);
  if (!isK && !sameShape(group.shape, cs.s)) return false;
  const split = cs.k.length;
  const kSize = sizeOf(cs.k);
  const sSize = sizeOf(cs.s);
  const contiguous = contiguousStrides(group.shape);
  const inChain = (step: Step | undefined) => step !== undefined && chain.some((g) => g === step);
  const outputs = new Set(group.members.map((m) => m.out));
  for (const m of group.members) {
    // broadcast terms summed apart are added after the group's loop, not per row
    if (m.ownSums !== undefined) return false;
    for (const k of m.args) {
      if (outputs.has(k)) continue; // a register of this group
      const slot = slots[k];
      const strides = broadcastStrides(slot, group.shape);
      if (strides === undefined) return false;
      const scalar = strides.every((st, d) => group.shape[d] === 1 || st === 0);
      const flat = strides.every((st, d) => group.shape[d] === 1 || st === contiguous[d]);
      const outer = collapsedStride(group.shape, strides, 0, split);
      const inner = collapsedStride(group.shape, strides, split, group.shape.length);
      if (outer === undefined || inner === undefined) return false;
      if (isK && !scalar && !flat) return false;
      // an active operand's adjoint entry belongs to one row, or is a scalar accumulated over the loop
      if (slot.active && !scalar && outer === 0) return false;
      const producer = slots[slot.base].producer;
      if (!inChain(producer)) continue;
      // written by an earlier group of the chain: read only at the row that wrote it, whole before the kernels
      // (a power's array kernel runs over each tile of rows after the earlier groups; the others over the whole)
      if (m.kind !== "sum" && m.run === true && m.kind !== "binary" && m.kind !== "constant") return false;
      const base = slots[slot.base];
      if (base.size === kSize) {
        const byRow = isK ? flat : outer === 1 && inner === 0;
        if (!byRow) return false;
      } else if (base.size === sSize) {
        if (isK || !flat) return false;
      } else return false;
    }
  }
  return true;
}

/** Whether `group`'s outputs of size K come from sums over the trailing axes only (or elementwise members). */
function rowOutputs(group: GroupStep, cs: ChainShape): boolean {
  const split = cs.k.length;
  for (const m of group.members) {
    if (m.kind !== "sum") continue;
    const toScalar = m.params.axes.length === group.shape.length || sizeOf(m.params.keepShape) === 1;
    if (toScalar) continue; // accumulated in entry order, read by no group of the chain (see fits)
    if (group.shape.length !== cs.s.length) return false; // a K group's partial sums reduce across rows
    const trailing = m.params.axes.every((d) => d >= split);
    const whole = cs.s.slice(split).every((n, i) => n === 1 || m.params.axes.includes(split + i));
    if (!(trailing && whole)) return false;
  }
  return true;
}

/**
 * The program's steps in order, cut into chains: runs of consecutive groups that execute as one row loop
 * (several groups) or alone (one step).
 *
 * @example
 * rowChains(program).map((chain) => chain.length); // [1, 1, 4] for the flux: (p - 2) / 2, ..., one row loop
 */
export function rowChains(program: Program, fuse = true): { steps: Step[]; row?: RowShape }[] {
  const result: { steps: Step[]; row?: RowShape }[] = [];
  let chain: GroupStep[] = [];
  let cs: ChainShape | undefined;
  const close = () => {
    if (chain.length === 0) return;
    if (chain.length === 1 || cs === undefined) for (const g of chain) result.push({ steps: [g] });
    else
      result.push({
        steps: chain,
        row: { rows: sizeOf(cs.k), inner: sizeOf(cs.s.slice(cs.k.length)), split: cs.k.length },
      });
    chain = [];
    cs = undefined;
  };
  for (const step of program.steps) {
    if (step.kind !== "group" || !fuse) {
      close();
      result.push({ steps: [step] });
      continue;
    }
    if (chain.length > 0) {
      const shape = cs ?? pairOf(chain[0].shape, step.shape);
      if (
        shape !== undefined &&
        chain.every((g) => fits(program, [], g, shape) && rowOutputs(g, shape)) &&
        fits(program, chain, step, shape) &&
        rowOutputs(step, shape)
      ) {
        cs = shape;
        chain.push(step);
        continue;
      }
      close();
    }
    chain = [step];
  }
  close();
  return result;
}
