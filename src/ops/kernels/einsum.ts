/** @file The einsum kernel: subscripts parsed to a plan, contracted pairwise through gemm where it can and by a direct loop otherwise. */

import { invalidArgument } from "../../errors.js";
import { formatShape, NDArray, shapeSize } from "../../values/ndarray.js";
import { broadcastTo } from "./broadcast.js";
import { batchedGemm } from "./products.js";
import { sum } from "./reduce.js";
import { transpose } from "./shape.js";
import { forEachRun } from "./strided.js";

// ---------------------------------------------------------------------------------------------------------------
// einsum
// ---------------------------------------------------------------------------------------------------------------

/** Label ids: letters use their char code; the j-th (right-aligned) ellipsis axis uses ELLIPSIS_BASE + j. */
const ELLIPSIS_BASE = 1000;

interface EinsumPlan {
  inputs: number[][];
  output: number[];
}

function parseTerm(term: string, op: string): { labels: number[]; ellipsisAt: number } {
  const labels: number[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const ch = term[i];
    if (ch === ".") {
      if (term.slice(i, i + 3) !== "..." || ellipsisAt >= 0)
        throw invalidArgument(`${op}: invalid ellipsis in '${term}'`);
      ellipsisAt = labels.length;
      i += 2;
    } else if ((ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z")) {
      labels.push(ch.charCodeAt(0));
    } else {
      throw invalidArgument(`${op}: invalid subscript character '${ch}' in '${term}'`);
    }
  }
  return { labels, ellipsisAt };
}

function labelName(label: number): string {
  return label >= ELLIPSIS_BASE ? `...[${label - ELLIPSIS_BASE}]` : String.fromCharCode(label);
}

function parseEinsum(subscripts: string, operands: readonly NDArray[]): EinsumPlan {
  const op = "einsum";
  const text = subscripts.replace(/\s+/g, "");
  const arrow = text.indexOf("->");
  if (arrow >= 0 && text.indexOf("->", arrow + 1) >= 0)
    throw invalidArgument(`${op}: more than one '->' in '${subscripts}'`);
  const lhs = arrow >= 0 ? text.slice(0, arrow) : text;
  const terms = lhs.split(",");
  if (terms.length !== operands.length) {
    throw invalidArgument(
      `${op}: '${subscripts}' has ${terms.length} operand terms but ${operands.length} operands were given`,
    );
  }
  const parsed = terms.map((t) => parseTerm(t, op));
  let ellipsisDims = 0;
  const ellipsisCounts = parsed.map((p, i) => {
    const ndim = operands[i].ndim;
    const extra = ndim - p.labels.length;
    if ((p.ellipsisAt < 0 && extra !== 0) || extra < 0) {
      throw invalidArgument(
        `${op}: operand ${i} has shape ${formatShape(operands[i].shape)} but subscripts '${terms[i]}' name ${p.labels.length} axes`,
      );
    }
    if (p.ellipsisAt >= 0 && extra > ellipsisDims) ellipsisDims = extra;
    return p.ellipsisAt >= 0 ? extra : 0;
  });
  const inputs = parsed.map((p, i) => {
    if (p.ellipsisAt < 0) return p.labels;
    const count = ellipsisCounts[i];
    const ellipsisLabels = Array.from({ length: count }, (_, j) => ELLIPSIS_BASE + ellipsisDims - count + j);
    return [...p.labels.slice(0, p.ellipsisAt), ...ellipsisLabels, ...p.labels.slice(p.ellipsisAt)];
  });
  const allEllipsis = Array.from({ length: ellipsisDims }, (_, j) => ELLIPSIS_BASE + j);
  let output: number[];
  if (arrow >= 0) {
    const outTerm = parseTerm(text.slice(arrow + 2), op);
    if (outTerm.ellipsisAt < 0 && ellipsisDims > 0) {
      throw invalidArgument(
        `${op}: the inputs have ${ellipsisDims} axes under '...' but the output '${text.slice(arrow + 2)}' has no '...'`,
      );
    }
    output =
      outTerm.ellipsisAt >= 0
        ? [
            ...outTerm.labels.slice(0, outTerm.ellipsisAt),
            ...allEllipsis,
            ...outTerm.labels.slice(outTerm.ellipsisAt),
          ]
        : outTerm.labels;
    const seen = new Set<number>();
    for (const label of output) {
      if (seen.has(label))
        throw invalidArgument(`${op}: output subscript '${labelName(label)}' appears more than once`);
      seen.add(label);
      if (!inputs.some((labels) => labels.includes(label))) {
        throw invalidArgument(`${op}: output subscript '${labelName(label)}' does not appear in the inputs`);
      }
    }
  } else {
    const counts = new Map<number, number>();
    for (const labels of inputs) for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts.entries()]
      .filter(([l, c]) => c === 1 && l < ELLIPSIS_BASE)
      .map(([l]) => l)
      .sort((x, y) => x - y);
    output = [...allEllipsis, ...once];
  }
  return { inputs, output };
}

/** Size of every label over the given operands (size-1 axes broadcast); throws on conflicts. */
function labelSizes(operands: readonly NDArray[], inputs: readonly number[][]): Map<number, number> {
  const sizes = new Map<number, number>();
  for (let i = 0; i < operands.length; i++) {
    const labels = inputs[i];
    const shape = operands[i].shape;
    const local = new Map<number, number>();
    for (let d = 0; d < labels.length; d++) {
      const label = labels[d];
      const n = shape[d];
      const own = local.get(label);
      if (own !== undefined && own !== n) {
        throw invalidArgument(
          `einsum: repeated subscript '${labelName(label)}' in operand ${i} has unequal sizes in shape ${formatShape(shape)}`,
        );
      }
      local.set(label, n);
      const current = sizes.get(label);
      if (current === undefined || current === 1) sizes.set(label, n);
      else if (n !== 1 && n !== current) {
        throw invalidArgument(
          `einsum: size mismatch for subscript '${labelName(label)}': ${current} vs ${n} (operand ${i})`,
        );
      }
    }
  }
  return sizes;
}

/**
 * Direct strided loop for any einsum: iterates over output labels then summed labels, multiplying operand
 * elements and accumulating into the output. Handles repeated labels (diagonals) and size-1 broadcasting.
 */
function einsumLoop(
  operands: readonly NDArray[],
  inputs: readonly number[][],
  output: readonly number[],
): NDArray {
  const sizes = labelSizes(operands, inputs);
  const summed: number[] = [];
  for (const labels of inputs)
    for (const l of labels) if (!output.includes(l) && !summed.includes(l)) summed.push(l);
  const loopLabels = [...output, ...summed];
  const loopShape = loopLabels.map((l) => sizes.get(l) ?? 1);
  const outShape = output.map((l) => sizes.get(l) ?? 1);
  const out = new Float64Array(shapeSize(outShape));
  const outStrides = new Array<number>(loopLabels.length).fill(0);
  let stride = 1;
  for (let d = output.length - 1; d >= 0; d--) {
    outStrides[d] = stride;
    stride *= outShape[d];
  }
  const operandStrides = operands.map((operand, i) => {
    const labels = inputs[i];
    const strides = operand.strides;
    return loopLabels.map((l) => {
      let total = 0;
      for (let d = 0; d < labels.length; d++)
        if (labels[d] === l && operand.shape[d] !== 1) total += strides[d];
      return total;
    });
  });
  const datas = operands.map((o) => o.data);
  const count = operands.length;
  if (count === 1) {
    const x = datas[0];
    forEachRun(loopShape, [outStrides, operandStrides[0]], null, (offsets, length, steps) => {
      let o = offsets[0];
      let i = offsets[1];
      const so = steps[0];
      const si = steps[1];
      for (let t = 0; t < length; t++, o += so, i += si) out[o] += x[i];
    });
  } else if (count === 2) {
    const x = datas[0];
    const y = datas[1];
    forEachRun(
      loopShape,
      [outStrides, operandStrides[0], operandStrides[1]],
      null,
      (offsets, length, steps) => {
        let o = offsets[0];
        let i = offsets[1];
        let j = offsets[2];
        const so = steps[0];
        const si = steps[1];
        const sj = steps[2];
        for (let t = 0; t < length; t++, o += so, i += si, j += sj) out[o] += x[i] * y[j];
      },
    );
  } else {
    const cursor = new Int32Array(count);
    forEachRun(loopShape, [outStrides, ...operandStrides], null, (offsets, length, steps) => {
      let o = offsets[0];
      const so = steps[0];
      for (let q = 0; q < count; q++) cursor[q] = offsets[q + 1];
      for (let t = 0; t < length; t++, o += so) {
        let product = 1;
        for (let q = 0; q < count; q++) {
          product *= datas[q][cursor[q]];
          cursor[q] += steps[q + 1];
        }
        out[o] += product;
      }
    });
  }
  return new NDArray(out, outShape);
}

/** Contracts two operands with distinct labels each, keeping `keep` labels, via one batched gemm. */
function contractPair(
  a: NDArray,
  aLabels: readonly number[],
  b: NDArray,
  bLabels: readonly number[],
  keep: ReadonlySet<number>,
): { result: NDArray; labels: number[] } {
  let left = a;
  let leftLabels = aLabels.slice();
  let right = b;
  let rightLabels = bLabels.slice();
  const dropLeft = leftLabels
    .map((l, d) => (!keep.has(l) && !rightLabels.includes(l) ? d : -1))
    .filter((d) => d >= 0);
  if (dropLeft.length > 0) {
    left = sum(left, dropLeft);
    leftLabels = leftLabels.filter((_, d) => !dropLeft.includes(d));
  }
  const dropRight = rightLabels
    .map((l, d) => (!keep.has(l) && !leftLabels.includes(l) ? d : -1))
    .filter((d) => d >= 0);
  if (dropRight.length > 0) {
    right = sum(right, dropRight);
    rightLabels = rightLabels.filter((_, d) => !dropRight.includes(d));
  }
  const batch = leftLabels.filter((l) => rightLabels.includes(l) && keep.has(l));
  const contracted = leftLabels.filter((l) => rightLabels.includes(l) && !keep.has(l));
  const freeLeft = leftLabels.filter((l) => !rightLabels.includes(l));
  const freeRight = rightLabels.filter((l) => !leftLabels.includes(l));
  const sizeOf = (labels: readonly number[], array: NDArray, owner: readonly number[]): number[] =>
    labels.map((l) => array.shape[owner.indexOf(l)]);
  const batchShape = sizeOf(batch, left, leftLabels);
  const freeLeftShape = sizeOf(freeLeft, left, leftLabels);
  const freeRightShape = sizeOf(freeRight, right, rightLabels);
  const batchSize = shapeSize(batchShape);
  const m = shapeSize(freeLeftShape);
  const n = shapeSize(freeRightShape);
  const k = shapeSize(sizeOf(contracted, left, leftLabels));
  const leftOrdered = transpose(
    left,
    [...batch, ...freeLeft, ...contracted].map((l) => leftLabels.indexOf(l)),
  );
  const rightOrdered = transpose(
    right,
    [...batch, ...contracted, ...freeRight].map((l) => rightLabels.indexOf(l)),
  );
  const out = batchedGemm(
    leftOrdered.data,
    [batchSize],
    rightOrdered.data,
    [batchSize],
    [batchSize],
    m,
    k,
    n,
  );
  return {
    result: new NDArray(out, [...batchShape, ...freeLeftShape, ...freeRightShape]),
    labels: [...batch, ...freeLeft, ...freeRight],
  };
}

/**
 * Einstein summation (NumPy `einsum`): explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`) forms, repeated
 * subscripts within an operand (diagonals/traces), `...` ellipsis broadcasting, size-1 broadcasting and any
 * number of operands. Operands are first reduced on their own (diagonals, private summed labels), then
 * contracted pairwise left to right with batched matrix products.
 * @example
 * einsum("ij,jk->ik", array([[1, 2]]), array([[3], [4]])).toArray(); // [[11]]
 * einsum("ii->", array([[1, 2], [3, 4]])).item(); // 5
 * einsum("...ij,...jk->...ik", zeros([5, 2, 3]), zeros([3, 4])).shape; // [5, 2, 4]
 */
export function einsum(subscripts: string, ...operands: NDArray[]): NDArray {
  if (operands.length === 0) throw invalidArgument("einsum: needs at least one operand");
  const { inputs, output } = parseEinsum(subscripts, operands);
  const sizes = labelSizes(operands, inputs);
  const arrays = operands.slice();
  const labelLists = inputs.map((labels) => labels.slice());
  for (let i = 0; i < arrays.length; i++) {
    const labels = labelLists[i];
    const needed = (l: number): boolean =>
      output.includes(l) || labelLists.some((other, j) => j !== i && other.includes(l));
    const unique = labels.filter((l, d) => labels.indexOf(l) === d && needed(l));
    if (unique.length !== labels.length) {
      arrays[i] = einsumLoop([arrays[i]], [labels], unique);
      labelLists[i] = unique;
    }
    const target = labelLists[i].map((l) => sizes.get(l) ?? 1);
    if (arrays.length > 1 && target.some((n, d) => n !== arrays[i].shape[d]))
      arrays[i] = broadcastTo(arrays[i], target);
  }
  let current = arrays[0];
  let currentLabels = labelLists[0];
  for (let i = 1; i < arrays.length; i++) {
    const keep = new Set<number>(output);
    for (let j = i + 1; j < arrays.length; j++) for (const l of labelLists[j]) keep.add(l);
    const step = contractPair(current, currentLabels, arrays[i], labelLists[i], keep);
    current = step.result;
    currentLabels = step.labels;
  }
  if (currentLabels.length !== output.length) return einsumLoop([current], [currentLabels], output);
  return transpose(
    current,
    output.map((l) => currentLabels.indexOf(l)),
  );
}

/**
 * Reference einsum evaluated by the plain strided loop only (no pairwise contraction); same semantics as
 * {@link einsum}. Useful for testing and for tiny operands.
 * @example
 * einsumDirect("ij,j->i", array([[1, 2]]), array([3, 4])).toArray(); // [11]
 */
export function einsumDirect(subscripts: string, ...operands: NDArray[]): NDArray {
  if (operands.length === 0) throw invalidArgument("einsum: needs at least one operand");
  const { inputs, output } = parseEinsum(subscripts, operands);
  return einsumLoop(operands, inputs, output);
}
