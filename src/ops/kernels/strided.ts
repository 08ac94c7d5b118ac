/** @file Strided-loop machinery shared by the kernels: axis coalescing and an odometer over 1-D runs. */

/**
 * Called once per innermost run of a strided iteration. `offsets[j]` is the element offset of operand `j`
 * at the start of the run and `steps[j]` its stride along the run. Both arrays are owned by the iterator
 * and must not be modified or retained.
 */
export type RunCallback = (offsets: Int32Array, length: number, steps: Int32Array) => void;

/**
 * Iterates row-major over `shape` for several operands at once, each described by its own element strides
 * (0 on broadcast axes, negative allowed) and start offset. Adjacent axes that are contiguous for every
 * operand are merged so the innermost runs are as long as possible; size-1 axes are dropped. No per-element
 * allocation: the odometer only updates offsets. Nothing is called for empty shapes; a 0-d shape gives one
 * run of length 1.
 * @example
 * // sum of a [2, 3] array's rows into a [2] array: operand 0 = input, operand 1 = output
 * forEachRun([2, 3], [[3, 1], [1, 0]], null, (offsets, length, steps) => {
 *   // input elements offsets[0] + t * steps[0], output offsets[1] + t * steps[1], t < length
 * });
 */
export function forEachRun(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  baseOffsets: readonly number[] | null,
  run: RunCallback,
): void {
  const operandCount = strides.length;
  const dims: number[] = [];
  const merged: number[][] = [];
  for (let j = 0; j < operandCount; j++) merged.push([]);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 0) return;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0) {
      let contiguous = true;
      for (let j = 0; j < operandCount; j++) {
        if (merged[j][last] !== strides[j][d] * n) {
          contiguous = false;
          break;
        }
      }
      if (contiguous) {
        dims[last] *= n;
        for (let j = 0; j < operandCount; j++) merged[j][last] = strides[j][d];
        continue;
      }
    }
    dims.push(n);
    for (let j = 0; j < operandCount; j++) merged[j].push(strides[j][d]);
  }
  const offsets = new Int32Array(operandCount);
  if (baseOffsets !== null) for (let j = 0; j < operandCount; j++) offsets[j] = baseOffsets[j];
  const steps = new Int32Array(operandCount);
  const rank = dims.length;
  if (rank === 0) {
    run(offsets, 1, steps);
    return;
  }
  const inner = dims[rank - 1];
  for (let j = 0; j < operandCount; j++) steps[j] = merged[j][rank - 1];
  if (rank === 1) {
    run(offsets, inner, steps);
    return;
  }
  const outer = rank - 1;
  // Flattened [axis * operandCount + j] stride table for the outer axes.
  const table = new Int32Array(outer * operandCount);
  for (let d = 0; d < outer; d++)
    for (let j = 0; j < operandCount; j++) table[d * operandCount + j] = merged[j][d];
  const counter = new Int32Array(outer);
  for (;;) {
    run(offsets, inner, steps);
    let d = outer - 1;
    for (; d >= 0; d--) {
      const base = d * operandCount;
      if (++counter[d] < dims[d]) {
        for (let j = 0; j < operandCount; j++) offsets[j] += table[base + j];
        break;
      }
      counter[d] = 0;
      const back = dims[d] - 1;
      for (let j = 0; j < operandCount; j++) offsets[j] -= table[base + j] * back;
    }
    if (d < 0) return;
  }
}

/**
 * Element strides of an array of shape `shape` when broadcast (NumPy rules, right-aligned) to `target`:
 * the contiguous stride on matching axes, 0 on broadcast and leading axes. Assumes compatibility.
 * @example
 * broadcastStrides([3, 1], [2, 3, 4]); // [0, 1, 0]
 */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const result = new Array<number>(target.length).fill(0);
  const shift = target.length - shape.length;
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const n = shape[i];
    result[i + shift] = n === 1 && target[i + shift] !== 1 ? 0 : stride;
    stride *= n;
  }
  return result;
}

/**
 * Splits `shape` around one axis into `[outer, length, inner]` element counts, so that element
 * `(o, k, i)` of the axis view sits at offset `(o * length + k) * inner + i` in a contiguous array.
 * @example
 * splitAtAxis([2, 3, 4], 1); // [2, 3, 4]
 */
export function splitAtAxis(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

/**
 * How an array of shape `small` sits in the broadcast shape `full` (right-aligned, size-1 axes of `full`
 * ignored), when that is one of the two patterns that need no odometer:
 * `{ trailing: g }` when `small` keeps a prefix of the axes and is 1 on the rest (each entry of `small`
 * covers a contiguous group of g entries of `full`); `{ leading: m }` when `small` is 1 on the leading axes
 * and keeps the rest (`full` is `small`'s m entries repeated block after block); `null` otherwise (or when
 * nothing is broadcast).
 * @example
 * broadcastPattern([4, 1], [4, 3]); // { trailing: 3 }
 * broadcastPattern([3], [4, 3]); // { leading: 3 }
 */
export function broadcastPattern(
  small: readonly number[],
  full: readonly number[],
): { trailing: number } | { leading: number } | null {
  const shift = full.length - small.length;
  // phases: 0 = none seen, 1 = kept axes seen, 2 = reduced after kept, 3 = reduced first, 4 = kept after reduced
  let phase = 0;
  let kept = 1;
  let reduced = 1;
  for (let i = 0; i < full.length; i++) {
    const n = full[i];
    if (n === 1) continue;
    const isKept = i >= shift && small[i - shift] === n;
    if (isKept) {
      kept *= n;
      if (phase === 0) phase = 1;
      else if (phase === 2) return null;
      else if (phase === 3) phase = 4;
    } else {
      reduced *= n;
      if (phase === 0) phase = 3;
      else if (phase === 1) phase = 2;
      else if (phase === 4) return null;
    }
  }
  if (phase === 2) return { trailing: reduced };
  if (phase === 4) return { leading: kept };
  return null;
}
