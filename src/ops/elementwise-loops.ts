/**
 * @file Loops of the elementwise rules on arrays. The binary loops walk a {@link Grid}: one flat row (each
 * operand read with a step of 1, or 0 for one value broadcast to every entry), rows of a two-level walk
 * (the [n, 1] x [n, k] and [k] x [n, k] broadcasts and their mixes, each operand read in place with its own
 * steps), or one block of a general N-d broadcast (its last two axes); an operand's adjoint is written per output entry
 * or summed straight into the operand's shape in the same pass, in entry order (the sums a full-size result
 * summed back would give). The common rules (add, subtract, multiply, divide, power) have their own loops
 * with the rule's formula written inline: a call through `rule.f` from one shared loop is megamorphic (V8
 * cannot inline it) and costs more than the arithmetic. The inline formulas are the rules' formulas
 * verbatim, so results are the same numbers as the generic loop's; `x ** 2`, `x ** 1`, `x ** 0` and
 * `x ** 0.5` are computed as `x * x`, `x`, `1` and `Math.sqrt(x)` (within 1 ulp of `Math.pow`, with
 * `Math.pow`'s special cases kept). Hot loops sit in small functions with no allocation after the loop, so
 * that code optimised while a long loop runs (on-stack replacement) does not deoptimise on every call.
 */

import { followsTangentSweep, tangentSweepTick } from "../tape/sweep-clock.js";
import {
  addRule,
  type BinaryRule,
  cosRule,
  divideRule,
  expRule,
  logRule,
  multiplyRule,
  negativeRule,
  powerRule,
  sinRule,
  sqrtRule,
  squareRule,
  subtractRule,
  tanhRule,
  type UnaryRule,
} from "./elementwise-rules.js";
import {
  expInto,
  logInto,
  logRun,
  powRun,
  powScalarExponentRun,
  scalarLog,
} from "./kernels/transcendental.js";

// ---------------------------------------------------------------------------------------------------------
// ln a of the power loops: the power rule's logarithm is the table logarithm (`scalarLog`), whose entries the
// batch kernel `logRun` reproduces bit for bit; so the loops take ln a for a block of entries with one kernel
// call (WebAssembly SIMD where available, about half the time of `Math.log` an entry), then do the block's
// arithmetic reading it, in the rule's operation order.

/** Entries per block of logarithms (the kernel's own chunk: its copies stay in cache). */
const LOG_BLOCK = 2048;
/** ln a of the current block (shared by the power loops, which never run inside one another). */
const blockLogs = new Float64Array(LOG_BLOCK);
/** The current block's bases gathered along a grid walk that does not read them contiguously. */
const blockBases = new Float64Array(LOG_BLOCK);

/**
 * blockLogs[k] = ln a (the power rule's logarithm) for the m <= LOG_BLOCK entries of a grid walk from a[ia]
 * with t entries of the current row done: one kernel call on a contiguous run, one scalarLog for a base
 * broadcast over the block, else one kernel call on the bases gathered along the walk.
 */
function walkLogs(
  a: Float64Array,
  ia: number,
  t: number,
  inner: number,
  aInner: number,
  aWrap: number,
  m: number,
): Float64Array {
  if (aInner === 1 && t + m <= inner) {
    logRun(a, ia, blockLogs, 0, m);
    return blockLogs;
  }
  if (aInner === 0 && t + m <= inner) {
    // one base for the whole block (a broadcast value): its logarithm once (scalarLog: logRun's entries)
    blockLogs.fill(scalarLog(a[ia]), 0, m);
    return blockLogs;
  }
  for (let k = 0; k < m; k++) {
    blockBases[k] = a[ia];
    if (++t === inner) {
      t = 0;
      ia += aWrap;
    } else ia += aInner;
  }
  logRun(blockBases, 0, blockLogs, 0, m);
  return blockLogs;
}

/**
 * z[i] = f(a[i * sa], b[i * sb]) for i < n.
 *
 * @example
 * const out = new Float64Array(2);
 * binaryValuesInto(multiplyRule, out, Float64Array.of(1, 2), 1, Float64Array.of(3), 0, 2); // out = [3, 6]
 */
export function binaryValuesInto(
  rule: BinaryRule,
  out: Float64Array,
  a: Float64Array,
  sa: number,
  b: Float64Array,
  sb: number,
  n: number,
): void {
  if (rule === addRule) {
    if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
    else if (sa === 1 && sb === 0) addScalarInto(out, a, b[0], n);
    else if (sa === 0 && sb === 1)
      addScalarInto(out, b, a[0], n); // x + y = y + x exactly
    else for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] + b[ib];
  } else if (rule === subtractRule) {
    if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
    else if (sa === 1 && sb === 0) subtractScalarInto(out, a, b[0], n);
    else if (sa === 0 && sb === 1) scalarSubtractInto(out, a[0], b, n);
    else for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] - b[ib];
  } else if (rule === multiplyRule) {
    if (sa === 1 && sb === 1) {
      if (a === b) squareInto(out, a, n);
      else for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    } else if (sa === 1 && sb === 0) multiplyScalarInto(out, a, b[0], n);
    else if (sa === 0 && sb === 1)
      multiplyScalarInto(out, b, a[0], n); // x * y = y * x exactly
    else for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] * b[ib];
  } else if (rule === divideRule) {
    if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
    else if (sa === 1 && sb === 0) divideScalarInto(out, a, b[0], n);
    else if (sa === 0 && sb === 1) scalarDivideInto(out, a[0], b, n);
    else for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] / b[ib];
  } else if (rule === powerRule) {
    if (sb === 0 && n > 0) powerScalarInto(out, a, sa, b[0], n);
    else powRun(out, 0, a, 0, sa, b, 0, sb, n);
  } else {
    for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = rule.f(a[ia], b[ib]);
  }
}

// Contiguous loops against one value (a broadcast number or single entry), each in its own small function so
// that V8 keeps the value in a register and the loop free of a second index.

// These loops take four entries a step, their loads ahead of their stores (V8 reloads a typed array's data
// pointer after a store; see powerBaseAdjointRow): the same operation on each entry.

/** out[i] = a[i] + c. */
function addScalarInto(out: Float64Array, a: Float64Array, c: number, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const x0 = a[i];
    const x1 = a[i + 1];
    const x2 = a[i + 2];
    const x3 = a[i + 3];
    out[i] = x0 + c;
    out[i + 1] = x1 + c;
    out[i + 2] = x2 + c;
    out[i + 3] = x3 + c;
  }
  for (; i < n; i++) out[i] = a[i] + c;
}

/** out[i] = a[i] - c. */
function subtractScalarInto(out: Float64Array, a: Float64Array, c: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] - c;
}

/** out[i] = c - b[i]. */
function scalarSubtractInto(out: Float64Array, c: number, b: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = c - b[i];
}

/** out[i] = a[i] * c. */
function multiplyScalarInto(out: Float64Array, a: Float64Array, c: number, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const x0 = a[i];
    const x1 = a[i + 1];
    const x2 = a[i + 2];
    const x3 = a[i + 3];
    out[i] = x0 * c;
    out[i + 1] = x1 * c;
    out[i + 2] = x2 * c;
    out[i + 3] = x3 * c;
  }
  for (; i < n; i++) out[i] = a[i] * c;
}

/** out[i] = a[i] / c. */
function divideScalarInto(out: Float64Array, a: Float64Array, c: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] / c;
}

/** out[i] = c / b[i]. */
function scalarDivideInto(out: Float64Array, c: number, b: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = c / b[i];
}

/** out[i] = a[i] * a[i] (x * x and x ** 2), one load per entry. */
function squareInto(out: Float64Array, a: Float64Array, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const x0 = a[i];
    const x1 = a[i + 1];
    const x2 = a[i + 2];
    const x3 = a[i + 3];
    out[i] = x0 * x0;
    out[i + 1] = x1 * x1;
    out[i + 2] = x2 * x2;
    out[i + 3] = x3 * x3;
  }
  for (; i < n; i++) {
    const v = a[i];
    out[i] = v * v;
  }
}

/** out[i] = a[i * sa] ** e with the cheap exponents special-cased. */
function powerScalarInto(out: Float64Array, a: Float64Array, sa: number, e: number, n: number): void {
  if (e === 2) {
    if (sa === 1) squareInto(out, a, n);
    else for (let i = 0, ia = 0; i < n; i++, ia += sa) out[i] = a[ia] * a[ia];
  } else if (e === 1) {
    // x ** 1 is x, NaN included
    for (let i = 0, ia = 0; i < n; i++, ia += sa) out[i] = a[ia];
  } else if (e === 0) {
    // x ** 0 is 1 for every x, NaN included
    out.fill(1, 0, n);
  } else if (e === 0.5) {
    // Math.pow(x, 0.5) differs from Math.sqrt only at -0 (pow gives +0) and -Infinity (pow gives +Infinity)
    for (let i = 0, ia = 0; i < n; i++, ia += sa) {
      const x = a[ia];
      out[i] = x === 0 ? 0 : x === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.sqrt(x);
    }
  } else {
    powScalarExponentRun(out, 0, a, 0, sa, e, n);
  }
}

/**
 * How a binary loop walks its output and its two operands: the output (and z and the output-shaped seeds)
 * is contiguous from `o0`, `n` entries in rows of `inner`; operand a is read from `a0` with a step of
 * `aInner` within a row and jumps `aWrap` (its step between rows minus the (inner - 1) steps taken in the
 * row) at the end of each row, and b likewise. One row of n entries with steps 1 or 0 is the flat case
 * (same shapes, or one value broadcast); rows cover the broadcasts that coalesce to two axes without a
 * copy: `trailing` ([n, 1] against [n, k]: step 0 in a row, 1 between rows), `leading` ([k] against
 * [n, k]: step 1 in a row, back to the start between rows) and their mixes ([n, 1] against [1, k]). A seed
 * or an adjoint of an operand is laid out as the operand and walks with it.
 */
export interface Grid {
  readonly n: number;
  readonly inner: number;
  readonly o0: number;
  readonly a0: number;
  readonly aInner: number;
  readonly aWrap: number;
  readonly b0: number;
  readonly bInner: number;
  readonly bWrap: number;
}

/**
 * The grid of a two-level walk: `outer` rows of `inner` entries, operand steps (within a row, between rows)
 * and start offsets.
 *
 * @example
 * gridOf(4, 2, 1, 0, 2, 1, 0); // a [4, 1] against b [4, 2]
 */
export function gridOf(
  outer: number,
  inner: number,
  aOuter: number,
  aInner: number,
  bOuter: number,
  bInner: number,
  o0 = 0,
  a0 = 0,
  b0 = 0,
): Grid {
  return {
    n: outer * inner,
    inner,
    o0,
    a0,
    aInner,
    aWrap: aOuter - (inner - 1) * aInner,
    b0,
    bInner,
    bWrap: bOuter - (inner - 1) * bInner,
  };
}

/**
 * z = f(a, b) over a grid (rows of a two-level broadcast, or one block of an N-d broadcast): the rules' formulas inline for
 * add, subtract, multiply and divide, `rule.f` for the others. (Power over rows is computed by the caller on
 * materialised operands, so that its special exponents are chosen as the flat loop chooses them.)
 *
 * @example
 * binaryValuesGrid(multiplyRule, out, column, Float64Array.of(1, 2, 3, 4), gridOf(2, 2, 1, 0, 2, 1));
 */
export function binaryValuesGrid(
  rule: BinaryRule,
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  g: Grid,
): void {
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (rule === multiplyRule) {
    if (aInner === 0 && bInner === 1 && bWrap === 1) {
      // a column ([n, 1]) against contiguous rows ([n, k]): one a entry per row
      multiplyColumnRows(out, a, g.a0, aWrap, b, g.b0, g.o0, end, inner);
      return;
    }
    if (bInner === 0 && aInner === 1 && aWrap === 1) {
      multiplyColumnRows(out, b, g.b0, bWrap, a, g.a0, g.o0, end, inner);
      return;
    }
    for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
      out[i] = a[ia] * b[ib];
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  } else if (rule === addRule) {
    for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
      out[i] = a[ia] + b[ib];
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  } else if (rule === subtractRule) {
    for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
      out[i] = a[ia] - b[ib];
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  } else if (rule === divideRule) {
    for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
      out[i] = a[ia] / b[ib];
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  } else {
    const f = rule.f;
    for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
      out[i] = f(a[ia], b[ib]);
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  }
}

/**
 * out[i] = c[jc] * r[ir] over rows of `inner` entries from o0 to end: c read once per row (from c0, stepping
 * `cStep` between rows), r contiguous from r0. The [n, 1] x [n, k] product without the per-entry row test
 * (x * y = y * x exactly, so either operand may be the column).
 */
function multiplyColumnRows(
  out: Float64Array,
  c: Float64Array,
  c0: number,
  cStep: number,
  r: Float64Array,
  r0: number,
  o0: number,
  end: number,
  inner: number,
): void {
  const shift = r0 - o0;
  if (inner === 2) {
    // loads ahead of stores (see powerBaseAdjointRow)
    for (let i = o0, jc = c0; i < end; i += 2, jc += cStep) {
      const m = c[jc];
      const r0 = r[i + shift];
      const r1 = r[i + 1 + shift];
      out[i] = m * r0;
      out[i + 1] = m * r1;
    }
    return;
  }
  for (let i = o0, jc = c0; i < end; jc += cStep) {
    const m = c[jc];
    const stop = i + inner;
    for (; i < stop; i++) out[i] = m * r[i + shift];
  }
}

/**
 * The partial derivative of the rule with respect to operand `wrt` (0: a, 1: b) times a seed laid out as that
 * operand, entry by entry over the grid: out[i] = f_wrt(a, b, z) * s (the TLM of one operand; both at once
 * are {@link tlmBothInto}).
 *
 * @example
 * partialTimesInto(multiplyRule, 0, out, a, b, z, adot, gridOf(1, n, 0, 1, 0, 1)); // out = b * adot
 */
export function partialTimesInto(
  rule: BinaryRule,
  wrt: 0 | 1,
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  s: Float64Array,
  g: Grid,
): void {
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const sInner = wrt === 0 ? aInner : bInner;
  const sWrap = wrt === 0 ? aWrap : bWrap;
  const end = g.o0 + g.n;
  if (rule === addRule || (rule === subtractRule && wrt === 0)) {
    // f_a = 1 (and f_b = 1 for add): 1 * s
    for (let i = g.o0, t = 0, is = wrt === 0 ? g.a0 : g.b0; i < end; i++) {
      out[i] = 1 * s[is];
      if (++t === inner) {
        t = 0;
        is += sWrap;
      } else is += sInner;
    }
    return;
  }
  if (rule === multiplyRule) {
    // f_a = b, f_b = a: v * s with v the other operand
    const v = wrt === 0 ? b : a;
    const vInner = wrt === 0 ? bInner : aInner;
    const vWrap = wrt === 0 ? bWrap : aWrap;
    for (let i = g.o0, t = 0, iv = wrt === 0 ? g.b0 : g.a0, is = wrt === 0 ? g.a0 : g.b0; i < end; i++) {
      const value = v[iv] * s[is];
      out[i] = value;
      if (++t === inner) {
        t = 0;
        iv += vWrap;
        is += sWrap;
      } else {
        iv += vInner;
        is += sInner;
      }
    }
    return;
  }
  const power = rule === powerRule;
  if (power && wrt === 0 && g.o0 === 0 && inner === g.n && aInner === 1 && g.a0 === 0 && bInner === 0) {
    powerTlmFirstScalarExponent(out, a, b[g.b0], z, s, g.n);
    return;
  }
  if (power && wrt === 1) {
    powerTlmSecond(out, a, z, s, g);
    return;
  }
  const partial = wrt === 0 ? rule.da : rule.db;
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const x = a[ia];
    const e = b[ib];
    const zi = z[i];
    const si = s[wrt === 0 ? ia : ib];
    let value: number;
    if (power) value = (e === 2 ? 2 * x : e === 0 ? 0 : x === 0 ? e * x ** (e - 1) : (e * zi) / x) * si;
    else value = partial(x, e, zi) * si;
    out[i] = value;
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/** partialTimesInto of power with respect to its exponent: out[i] = a^b ln(a) bdot, ln a block by block. */
function powerTlmSecond(out: Float64Array, a: Float64Array, z: Float64Array, s: Float64Array, g: Grid): void {
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; ) {
    const m = Math.min(LOG_BLOCK, end - i);
    const logs = walkLogs(a, ia, t, inner, aInner, aWrap, m);
    for (let k = 0; k < m; k++, i++) {
      const zi = z[i];
      out[i] = (zi === 0 ? 0 : zi * logs[k]) * s[ib];
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  }
}

/**
 * The TLM with both tangents in one pass over the grid: out[i] = f_a adot + f_b bdot (the same sum, in the
 * same order, as f_a adot written first and f_b bdot added), each tangent laid out as its operand.
 *
 * @example
 * tlmBothInto(multiplyRule, out, a, b, z, adot, bdot, grid); // out = b adot + a bdot
 */
export function tlmBothInto(
  rule: BinaryRule,
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  ad: Float64Array,
  bd: Float64Array,
  g: Grid,
): void {
  if (rule === multiplyRule) multiplyTlmBoth(out, a, b, ad, bd, g);
  else if (rule === powerRule) powerTlmBoth(out, a, b, z, ad, bd, g);
  else genericTlmBoth(rule, out, a, b, z, ad, bd, g);
}

function multiplyTlmBoth(
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  ad: Float64Array,
  bd: Float64Array,
  g: Grid,
): void {
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (aInner === 0 && bInner === 1 && bWrap === 1) {
    // a column ([n, 1]) against contiguous rows b ([n, k]): a and its tangent read once per row
    const shift = g.b0 - g.o0;
    if (inner === 2) {
      // rows of two, loads ahead of stores (see powerBaseAdjointRow)
      for (let i = g.o0, ja = g.a0; i < end; i += 2, ja += aWrap) {
        const c = a[ja];
        const cd = ad[ja];
        const b0 = b[i + shift];
        const b1 = b[i + 1 + shift];
        const d0 = bd[i + shift];
        const d1 = bd[i + 1 + shift];
        out[i] = b0 * cd + c * d0;
        out[i + 1] = b1 * cd + c * d1;
      }
      return;
    }
    for (let i = g.o0, ja = g.a0; i < end; ja += aWrap) {
      const c = a[ja];
      const cd = ad[ja];
      const stop = i + inner;
      for (; i < stop; i++) out[i] = b[i + shift] * cd + c * bd[i + shift];
    }
    return;
  }
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    out[i] = b[ib] * ad[ia] + a[ia] * bd[ib];
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

function powerTlmBoth(
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  ad: Float64Array,
  bd: Float64Array,
  g: Grid,
): void {
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (g.o0 === 0 && inner === g.n && aInner === 1 && g.a0 === 0 && bInner === 0) {
    powerTlmBothScalarExponent(out, a, b[g.b0], z, ad, bd[g.b0], g.n);
    return;
  }
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; ) {
    const m = Math.min(LOG_BLOCK, end - i);
    const logs = walkLogs(a, ia, t, inner, aInner, aWrap, m);
    for (let k = 0; k < m; k++, i++) {
      const x = a[ia];
      const e = b[ib];
      const zi = z[i];
      out[i] =
        (e === 2 ? 2 * x : e === 0 ? 0 : x === 0 ? e * x ** (e - 1) : (e * zi) / x) * ad[ia] +
        (zi === 0 ? 0 : zi * logs[k]) * bd[ib];
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  }
}

/**
 * ln a of the powers whose tangent took it in a tangent-linear sweep that a second-order sweep follows
 * (see sweep-clock), keyed by the base's entries (arrays are immutable): the second-order loop takes it
 * (the same values) instead of taking the logarithms again; released with the base array.
 */
const powerLogs = new WeakMap<Float64Array, { logs: Float64Array; tick: number }>();

/**
 * The ln a a power's tangent kept for base `a` (n entries), dropped from the cache; undefined if none, or if
 * it was not kept by the tangent sweep just before the running second-order sweep.
 */
function takePowerLogs(a: Float64Array, n: number): Float64Array | undefined {
  const entry = powerLogs.get(a);
  if (entry === undefined) return undefined;
  powerLogs.delete(a);
  return followsTangentSweep(entry.tick) && entry.logs.length === n ? entry.logs : undefined;
}

/**
 * powerTlmBoth with a contiguous base and one exponent e (tangent `bdi`) for every entry: the same formula
 * with e's tests taken once; in a tangent sweep before a second-order sweep, ln a (taken for every entry)
 * is kept for the second-order loop.
 */
function powerTlmBothScalarExponent(
  out: Float64Array,
  a: Float64Array,
  e: number,
  z: Float64Array,
  ad: Float64Array,
  bdi: number,
  n: number,
): void {
  const em1 = e - 1;
  const eZero = e === 0;
  const tick = tangentSweepTick();
  if (tick >= 0) {
    const logs = new Float64Array(n);
    logInto(a, logs, n);
    for (let i = 0; i < n; i++) {
      const x = a[i];
      const zi = z[i];
      out[i] =
        (e === 2 ? 2 * x : eZero ? 0 : x === 0 ? e * x ** em1 : (e * zi) / x) * ad[i] +
        (zi === 0 ? 0 : zi * logs[i]) * bdi;
    }
    powerLogs.set(a, { logs, tick });
    return;
  }
  for (let i0 = 0; i0 < n; i0 += LOG_BLOCK) {
    const stop = Math.min(n, i0 + LOG_BLOCK);
    logRun(a, i0, blockLogs, 0, stop - i0);
    for (let i = i0; i < stop; i++) {
      const x = a[i];
      const zi = z[i];
      out[i] =
        (e === 2 ? 2 * x : eZero ? 0 : x === 0 ? e * x ** em1 : (e * zi) / x) * ad[i] +
        (zi === 0 ? 0 : zi * blockLogs[i - i0]) * bdi;
    }
  }
}

/** partialTimesInto of power with respect to a contiguous base, one exponent e for every entry. */
function powerTlmFirstScalarExponent(
  out: Float64Array,
  a: Float64Array,
  e: number,
  z: Float64Array,
  s: Float64Array,
  n: number,
): void {
  const em1 = e - 1;
  const eZero = e === 0;
  for (let i = 0; i < n; i++) {
    const x = a[i];
    out[i] = (e === 2 ? 2 * x : eZero ? 0 : x === 0 ? e * x ** em1 : (e * z[i]) / x) * s[i];
  }
}

function genericTlmBoth(
  rule: BinaryRule,
  out: Float64Array,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  ad: Float64Array,
  bd: Float64Array,
  g: Grid,
): void {
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  // add and subtract: f_a = 1 as the one-tangent loop writes it (1 * adot), f_b from the rule
  const one = rule === addRule || rule === subtractRule;
  const da = rule.da;
  const db = rule.db;
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const x = a[ia];
    const e = b[ib];
    const zi = z[i];
    out[i] = (one ? 1 : da(x, e, zi)) * ad[ia] + db(x, e, zi) * bd[ib];
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/**
 * Where the adjoint loops write an operand's results: `out` undefined when not wanted; `reduce` when the
 * operand is broadcast (out has the operand's entries, each receiving `+=` the contributions of the
 * entries it was broadcast to, in entry order: the same sums as the full product summed back), else out
 * has one entry per output entry (written with `=`).
 */
export interface AdjointTarget {
  readonly out: Float64Array | undefined;
  readonly reduce: boolean;
}

/**
 * Both adjoints of a binary rule in one pass over the grid: abar = f_a zbar, bbar = f_b zbar, each written
 * per output entry or summed straight into its operand's (broadcast) shape.
 *
 * @example
 * adjointInto(multiplyRule, a, b, z, zbar, grid, { out: abar, reduce: true }, { out: bbar, reduce: false });
 */
export function adjointInto(
  rule: BinaryRule,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  zbar: Float64Array,
  g: Grid,
  targetA: AdjointTarget,
  targetB: AdjointTarget,
): void {
  if (rule === multiplyRule) multiplyAdjoint(a, b, zbar, g, targetA, targetB);
  else if (rule === powerRule) powerAdjoint(a, b, z, zbar, g, targetA, targetB);
  else ruleAdjoint(rule, a, b, z, zbar, g, targetA, targetB);
}

/** multiply: abar = b zbar, bbar = a zbar. */
function multiplyAdjoint(
  a: Float64Array,
  b: Float64Array,
  zbar: Float64Array,
  g: Grid,
  targetA: AdjointTarget,
  targetB: AdjointTarget,
): void {
  const outA = targetA.out;
  const outB = targetB.out;
  const reduceA = targetA.reduce;
  const reduceB = targetB.reduce;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (!reduceA && !reduceB && inner === g.n) {
    // one row, nothing summed: one plain loop per result
    if (outA !== undefined) scaledRow(outA, b, g.b0, bInner, zbar, g.o0, end);
    if (outB !== undefined) scaledRow(outB, a, g.a0, aInner, zbar, g.o0, end);
    return;
  }
  // a column ([n, 1], summed into its shape) against contiguous rows ([n, k], one result per entry)
  if (aInner === 0 && bInner === 1 && bWrap === 1 && (outA === undefined || reduceA) && !reduceB) {
    columnRowsAdjoint(a, g.a0, aWrap, b, g.b0, zbar, g.o0, end, inner, outA, outB);
    return;
  }
  if (bInner === 0 && aInner === 1 && aWrap === 1 && (outB === undefined || reduceB) && !reduceA) {
    columnRowsAdjoint(b, g.b0, bWrap, a, g.a0, zbar, g.o0, end, inner, outB, outA);
    return;
  }
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const w = zbar[i];
    if (outA !== undefined) {
      const value = b[ib] * w;
      if (reduceA) outA[ia] += value;
      else outA[i] = value;
    }
    if (outB !== undefined) {
      const value = a[ia] * w;
      if (reduceB) outB[ib] += value;
      else outB[i] = value;
    }
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/**
 * The multiply adjoint of a column c (one entry per row of `inner` entries, read from c0 stepping `cStep`
 * between rows) times contiguous rows r (from r0), over output entries o0..end: outC[jc] += r[ir] zbar[i]
 * (the row's terms summed in entry order onto the column's entry, as the grid loop sums them) and
 * outR[i] = c[jc] zbar[i]; either target may be absent.
 */
function columnRowsAdjoint(
  c: Float64Array,
  c0: number,
  cStep: number,
  r: Float64Array,
  r0: number,
  zbar: Float64Array,
  o0: number,
  end: number,
  inner: number,
  outC: Float64Array | undefined,
  outR: Float64Array | undefined,
): void {
  if (inner === 2 && outC !== undefined && outR !== undefined) {
    columnPairsAdjoint(c, c0, cStep, r, r0, zbar, o0, end, outC, outR);
    return;
  }
  for (let i = o0, jc = c0, ir = r0; i < end; jc += cStep) {
    const rowEnd = i + inner;
    if (outC === undefined) {
      if (outR === undefined) return;
      const v = c[jc];
      for (; i < rowEnd; i++) outR[i] = v * zbar[i];
      continue;
    }
    let sum = outC[jc];
    if (outR === undefined) {
      for (; i < rowEnd; i++, ir++) sum += r[ir] * zbar[i];
    } else {
      const v = c[jc];
      for (; i < rowEnd; i++, ir++) {
        const w = zbar[i];
        sum += r[ir] * w;
        outR[i] = v * w;
      }
    }
    outC[jc] = sum;
  }
}

/** {@link columnRowsAdjoint} with rows of 2 entries and both targets: the same sums and products, unrolled. */
function columnPairsAdjoint(
  c: Float64Array,
  c0: number,
  cStep: number,
  r: Float64Array,
  r0: number,
  zbar: Float64Array,
  o0: number,
  end: number,
  outC: Float64Array,
  outR: Float64Array,
): void {
  for (let i = o0, jc = c0, ir = r0; i < end; i += 2, jc += cStep, ir += 2) {
    const w0 = zbar[i];
    const w1 = zbar[i + 1];
    const v = c[jc];
    outC[jc] = outC[jc] + r[ir] * w0 + r[ir + 1] * w1;
    outR[i] = v * w0;
    outR[i + 1] = v * w1;
  }
}

/** out[i] = v[j] * s[i] for o0 <= i < end, j from j0 by step. */
function scaledRow(
  out: Float64Array,
  v: Float64Array,
  j0: number,
  step: number,
  s: Float64Array,
  o0: number,
  end: number,
): void {
  if (step === 1) {
    // two entries a step, loads ahead of stores (see powerBaseAdjointRow)
    let i = o0;
    let j = j0;
    for (; i + 1 < end; i += 2, j += 2) {
      const v0 = v[j];
      const v1 = v[j + 1];
      const s0 = s[i];
      const s1 = s[i + 1];
      out[i] = v0 * s0;
      out[i + 1] = v1 * s1;
    }
    if (i < end) out[i] = v[j] * s[i];
    return;
  }
  for (let i = o0, j = j0; i < end; i++, j += step) out[i] = v[j] * s[i];
}

/** power z = a^b: abar = f_a zbar, bbar = a^b ln(a) zbar (the rule's formulas inline). */
function powerAdjoint(
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  zbar: Float64Array,
  g: Grid,
  targetA: AdjointTarget,
  targetB: AdjointTarget,
): void {
  const outA = targetA.out;
  const outB = targetB.out;
  const reduceA = targetA.reduce;
  const reduceB = targetB.reduce;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (inner === g.n && aInner === 1 && bInner === 0 && !reduceA && (outB === undefined || reduceB)) {
    // one row, one exponent (the usual x ** p): its tests taken once, the same formulas entry by entry
    powerScalarExponentAdjoint(a, g.a0, b[g.b0], z, zbar, g.o0, end, outA, outB, g.b0);
    return;
  }
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; ) {
    const m = Math.min(LOG_BLOCK, end - i);
    const logs = outB === undefined ? blockLogs : walkLogs(a, ia, t, inner, aInner, aWrap, m);
    for (let k = 0; k < m; k++, i++) {
      const w = zbar[i];
      const x = a[ia];
      const zi = z[i];
      if (outA !== undefined) {
        const e = b[ib];
        const value = (e === 2 ? 2 * x : e === 0 ? 0 : x === 0 ? e * x ** (e - 1) : (e * zi) / x) * w;
        if (reduceA) outA[ia] += value;
        else outA[i] = value;
      }
      if (outB !== undefined) {
        const value = (zi === 0 ? 0 : zi * logs[k]) * w;
        if (reduceB) outB[ib] += value;
        else outB[i] = value;
      }
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  }
}

/**
 * powerAdjoint over one row with one exponent e: outA[i] = f_a zbar[i] (a read from a0), and the exponent's
 * terms a^e ln(a) zbar summed in entry order onto outB[jb]; the rule's formulas, e's tests taken once.
 */
function powerScalarExponentAdjoint(
  a: Float64Array,
  a0: number,
  e: number,
  z: Float64Array,
  zbar: Float64Array,
  o0: number,
  end: number,
  outA: Float64Array | undefined,
  outB: Float64Array | undefined,
  jb: number,
): void {
  if (outA !== undefined && outB !== undefined && e !== 0) {
    // both in one pass (the division and the logarithm overlap)
    let sum = outB[jb];
    for (let i0 = o0; i0 < end; i0 += LOG_BLOCK) {
      const stop = Math.min(end, i0 + LOG_BLOCK);
      logRun(a, a0 + (i0 - o0), blockLogs, 0, stop - i0);
      sum = powerBothBlock(a, a0 + (i0 - o0), e, z, zbar, i0, stop, outA, sum);
    }
    outB[jb] = sum;
    return;
  }
  if (outA !== undefined) {
    if (e === 0) for (let i = o0; i < end; i++) outA[i] = 0 * zbar[i];
    else if (e === 2) squareAdjointRow(a, a0, zbar, o0, end, outA);
    else powerBaseAdjointRow(a, a0, e, z, zbar, o0, end, outA);
  }
  if (outB !== undefined) {
    let sum = outB[jb];
    for (let i0 = o0; i0 < end; i0 += LOG_BLOCK) {
      const stop = Math.min(end, i0 + LOG_BLOCK);
      logRun(a, a0 + (i0 - o0), blockLogs, 0, stop - i0);
      for (let i = i0; i < stop; i++) {
        const zi = z[i];
        sum += (zi === 0 ? 0 : zi * blockLogs[i - i0]) * zbar[i];
      }
    }
    outB[jb] = sum;
  }
}

// The loops below take two entries a step, their loads ahead of their stores: V8 reloads a typed array's
// data pointer after a store, so this runs about 1.5x faster than one entry a step (the same operations on
// each entry, the sums in entry order).

/** outA[i] = f_a zbar[i] of a power with exponent 2 (the rule's f_a = 2 a) for o0 <= i < end, a read from a0. */
function squareAdjointRow(
  a: Float64Array,
  a0: number,
  zbar: Float64Array,
  o0: number,
  end: number,
  outA: Float64Array,
): void {
  let i = o0;
  let ia = a0;
  for (; i + 1 < end; i += 2, ia += 2) {
    const x0 = a[ia];
    const x1 = a[ia + 1];
    const w0 = zbar[i];
    const w1 = zbar[i + 1];
    outA[i] = 2 * x0 * w0;
    outA[i + 1] = 2 * x1 * w1;
  }
  if (i < end) outA[i] = 2 * a[ia] * zbar[i];
}

/**
 * outA[i] = f_a zbar[i] of a power with exponent e !== 0, 2 (the rule's formula: a^(e-1) as z / a) for
 * o0 <= i < end, a read from a0.
 */
function powerBaseAdjointRow(
  a: Float64Array,
  a0: number,
  e: number,
  z: Float64Array,
  zbar: Float64Array,
  o0: number,
  end: number,
  outA: Float64Array,
): void {
  const em1 = e - 1;
  let i = o0;
  let ia = a0;
  for (; i + 1 < end; i += 2, ia += 2) {
    const x0 = a[ia];
    const x1 = a[ia + 1];
    const z0 = z[i];
    const z1 = z[i + 1];
    const w0 = zbar[i];
    const w1 = zbar[i + 1];
    outA[i] = (x0 === 0 ? e * x0 ** em1 : (e * z0) / x0) * w0;
    outA[i + 1] = (x1 === 0 ? e * x1 ** em1 : (e * z1) / x1) * w1;
  }
  if (i < end) {
    const x = a[ia];
    outA[i] = (x === 0 ? e * x ** em1 : (e * z[i]) / x) * zbar[i];
  }
}

/**
 * One block of the power adjoint with both targets (exponent e !== 0, ln a of the block in blockLogs from
 * entry i0): outA[i] = f_a zbar[i], and the exponent's terms a^e ln(a) zbar[i] added in entry order to
 * `sum`, which is returned.
 */
function powerBothBlock(
  a: Float64Array,
  a0: number,
  e: number,
  z: Float64Array,
  zbar: Float64Array,
  i0: number,
  stop: number,
  outA: Float64Array,
  sum: number,
): number {
  if (e === 2) {
    // f_a = 2 a (the rule's formula for exponent 2)
    squareAdjointRow(a, a0, zbar, i0, stop, outA);
    return powerExponentTerms(z, zbar, i0, stop, sum);
  }
  const em1 = e - 1;
  const logs = blockLogs;
  let total = sum;
  let i = i0;
  let ia = a0;
  for (; i + 1 < stop; i += 2, ia += 2) {
    const x0 = a[ia];
    const x1 = a[ia + 1];
    const z0 = z[i];
    const z1 = z[i + 1];
    const w0 = zbar[i];
    const w1 = zbar[i + 1];
    const l0 = logs[i - i0];
    const l1 = logs[i + 1 - i0];
    outA[i] = (x0 === 0 ? e * x0 ** em1 : (e * z0) / x0) * w0;
    outA[i + 1] = (x1 === 0 ? e * x1 ** em1 : (e * z1) / x1) * w1;
    total += (z0 === 0 ? 0 : z0 * l0) * w0;
    total += (z1 === 0 ? 0 : z1 * l1) * w1;
  }
  if (i < stop) {
    const x = a[ia];
    const zi = z[i];
    const w = zbar[i];
    outA[i] = (x === 0 ? e * x ** em1 : (e * zi) / x) * w;
    total += (zi === 0 ? 0 : zi * logs[i - i0]) * w;
  }
  return total;
}

/** `sum` + the exponent's terms a^e ln(a) zbar[i] of a block (ln a in blockLogs from entry i0), in entry order. */
function powerExponentTerms(
  z: Float64Array,
  zbar: Float64Array,
  i0: number,
  stop: number,
  sum: number,
): number {
  const logs = blockLogs;
  let total = sum;
  for (let i = i0; i < stop; i++) {
    const zi = z[i];
    total += (zi === 0 ? 0 : zi * logs[i - i0]) * zbar[i];
  }
  return total;
}

/** The other rules: add and subtract (1 * zbar, sign * zbar), else the rule's partials through calls. */
function ruleAdjoint(
  rule: BinaryRule,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  zbar: Float64Array,
  g: Grid,
  targetA: AdjointTarget,
  targetB: AdjointTarget,
): void {
  const outA = targetA.out;
  const outB = targetB.out;
  const reduceA = targetA.reduce;
  const reduceB = targetB.reduce;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  const linear = rule === addRule || rule === subtractRule;
  const signB = rule === subtractRule ? -1 : 1;
  const da = rule.da;
  const db = rule.db;
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const w = zbar[i];
    if (outA !== undefined) {
      const value = linear ? 1 * w : da(a[ia], b[ib], z[i]) * w;
      if (reduceA) outA[ia] += value;
      else outA[i] = value;
    }
    if (outB !== undefined) {
      const value = linear ? signB * w : db(a[ia], b[ib], z[i]) * w;
      if (reduceB) outB[ib] += value;
      else outB[i] = value;
    }
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/**
 * Seeds and outputs of the second-order loop: `hat` = zhat, `bar` = zbar (output-shaped), the tangents `ad`,
 * `bd` laid out as their operands, and where to write (`undefined` when not wanted): outA / adjA as operand
 * a (summed into its shape when `reduceA`), outB / adjB as operand b. `dense` selects the branch-free
 * multiply formulas (every seed given, no operand a single broadcast value), as the flat loop chose them.
 */
export interface SecondOrderLoop {
  hat: Float64Array | undefined;
  bar: Float64Array | undefined;
  ad: Float64Array | undefined;
  bd: Float64Array | undefined;
  outA: Float64Array | undefined;
  outB: Float64Array | undefined;
  adjA: Float64Array | undefined;
  adjB: Float64Array | undefined;
  reduceA: boolean;
  reduceB: boolean;
  dense: boolean;
}

/**
 * The adjoint and second-order adjoint of a binary rule in one pass over the grid, entry by entry:
 * adjA = f_a zbar, adjB = f_b zbar, outA = f_a zhat + zbar (f_aa adot + f_ab bdot),
 * outB = f_b zhat + zbar (f_ab adot + f_bb bdot), each written per output entry or summed straight into its
 * operand's shape. Multiply and power have inline formulas (power takes ln a once per entry, block by block
 * with the batch kernel).
 *
 * @example
 * secondOrderInto(multiplyRule, a, b, z, loop, grid);
 */
export function secondOrderInto(
  rule: BinaryRule,
  a: Float64Array,
  b: Float64Array,
  z: Float64Array,
  loop: SecondOrderLoop,
  g: Grid,
): void {
  if (rule === multiplyRule) {
    if (loop.dense) multiplySecondOrderDense(a, b, loop, g);
    else multiplySecondOrder(a, b, loop, g);
  } else if (rule === addRule || rule === subtractRule) linearSecondOrder(rule === addRule ? 1 : -1, loop, g);
  else if (rule === powerRule) powerSecondOrder(a, b, z, loop, g);
  else genericSecondOrder(rule, a, b, z, loop, g);
}

function genericSecondOrder(
  rule: BinaryRule,
  as: Float64Array,
  bs: Float64Array,
  zs: Float64Array,
  loop: SecondOrderLoop,
  g: Grid,
): void {
  const { hat, bar, ad, bd, outA, outB, adjA, adjB, reduceA, reduceB } = loop;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const ai = as[ia];
    const bi = bs[ib];
    const zi = zs[i];
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    const adi = ad === undefined ? 0 : ad[ia];
    const bdi = bd === undefined ? 0 : bd[ib];
    // f_ab only where a term uses it (ahat with a b tangent, bhat with an a tangent)
    const needCross = w !== 0 && ((outA !== undefined && bdi !== 0) || (outB !== undefined && adi !== 0));
    const cross = needCross ? w * rule.dab(ai, bi, zi) : 0;
    if (outA !== undefined) {
      const da = rule.da(ai, bi, zi);
      if (adjA !== undefined)
        if (reduceA) adjA[ia] += da * w;
        else adjA[i] = da * w;
      let value = h !== 0 ? da * h : 0;
      if (w !== 0 && adi !== 0) value += w * rule.daa(ai, bi, zi) * adi;
      if (bdi !== 0) value += cross * bdi;
      if (reduceA) outA[ia] += value;
      else outA[i] = value;
    }
    if (outB !== undefined) {
      const db = rule.db(ai, bi, zi);
      if (adjB !== undefined)
        if (reduceB) adjB[ib] += db * w;
        else adjB[i] = db * w;
      let value = h !== 0 ? db * h : 0;
      if (w !== 0 && bdi !== 0) value += w * rule.dbb(ai, bi, zi) * bdi;
      if (adi !== 0) value += cross * adi;
      if (reduceB) outB[ib] += value;
      else outB[i] = value;
    }
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/**
 * add (sign 1) and subtract (sign -1): f_a = 1, f_b = sign, no second derivatives, so ahat = zhat,
 * bhat = sign zhat, abar = zbar, bbar = sign zbar (as the generic loop computes them).
 */
function linearSecondOrder(sign: number, loop: SecondOrderLoop, g: Grid): void {
  const { hat, bar, outA, outB, adjA, adjB, reduceA, reduceB } = loop;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if ((outA === undefined || !reduceA) && (outB === undefined || !reduceB)) {
    // every result one entry per output entry: each is a scaled copy of zbar or zhat, one plain loop each
    if (outA !== undefined) {
      if (adjA !== undefined) scaledInto(adjA, bar, 1, g.o0, end, false);
      scaledInto(outA, hat, 1, g.o0, end, true);
    }
    if (outB !== undefined) {
      if (adjB !== undefined) scaledInto(adjB, bar, sign, g.o0, end, false);
      scaledInto(outB, hat, sign, g.o0, end, true);
    }
    return;
  }
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    if (outA !== undefined) {
      if (adjA !== undefined)
        if (reduceA) adjA[ia] += 1 * w;
        else adjA[i] = 1 * w;
      if (reduceA) outA[ia] += h !== 0 ? 1 * h : 0;
      else outA[i] = h !== 0 ? 1 * h : 0;
    }
    if (outB !== undefined) {
      if (adjB !== undefined)
        if (reduceB) adjB[ib] += sign * w;
        else adjB[i] = sign * w;
      if (reduceB) outB[ib] += h !== 0 ? sign * h : 0;
      else outB[i] = h !== 0 ? sign * h : 0;
    }
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/**
 * out[i] = sign * src[i] for o0 <= i < end (0 for an absent src; with `skipZero`, 0 where src is 0, as the
 * second-order loops skip a zero zhat).
 */
function scaledInto(
  out: Float64Array,
  src: Float64Array | undefined,
  sign: number,
  o0: number,
  end: number,
  skipZero: boolean,
): void {
  if (src === undefined) {
    out.fill(0, o0, end);
    return;
  }
  if (skipZero)
    for (let i = o0; i < end; i++) {
      const h = src[i];
      out[i] = h !== 0 ? sign * h : 0;
    }
  else for (let i = o0; i < end; i++) out[i] = sign * src[i];
}

/**
 * multiply with every seed given: branch-free formulas adjA = b zbar, adjB = a zbar, outA = b zhat + zbar bdot,
 * outB = a zhat + zbar adot; a contiguous same-shape walk has its own loop.
 */
function multiplySecondOrderDense(as: Float64Array, bs: Float64Array, loop: SecondOrderLoop, g: Grid): void {
  const { outA, outB, adjA, adjB, reduceA, reduceB } = loop;
  // cast-free narrowing: `dense` is only set with every seed given
  const hat = loop.hat ?? new Float64Array(0);
  const bar = loop.bar ?? new Float64Array(0);
  const ad = loop.ad ?? new Float64Array(0);
  const bd = loop.bd ?? new Float64Array(0);
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (
    outA !== undefined &&
    outB !== undefined &&
    !reduceA &&
    !reduceB &&
    g.o0 === 0 &&
    inner === g.n &&
    aInner === 1 &&
    bInner === 1 &&
    g.a0 === 0 &&
    g.b0 === 0
  ) {
    multiplySecondOrderContiguous(as, bs, hat, bar, ad, bd, outA, outB, adjA, adjB, g.n);
    return;
  }
  if (
    outA !== undefined &&
    outB === undefined &&
    !reduceA &&
    g.o0 === 0 &&
    inner === g.n &&
    bInner === 1 &&
    g.b0 === 0
  ) {
    // operand a's results only (x * x computes them once for both operands), b and bdot contiguous
    multiplySecondOrderFirst(bs, hat, bar, bd, outA, adjA, g.n);
    return;
  }
  if (outA !== undefined && outB !== undefined) {
    if (aInner === 0 && reduceA && !reduceB && bInner === 1 && bWrap === 1) {
      // a column ([n, 1], summed per row) against contiguous rows b ([n, k])
      multiplySecondOrderColumnRows(as, ad, outA, adjA, g.a0, aWrap, bs, bd, outB, adjB, g.b0, hat, bar, g);
      return;
    }
    if (bInner === 0 && reduceB && !reduceA && aInner === 1 && aWrap === 1) {
      multiplySecondOrderColumnRows(bs, bd, outB, adjB, g.b0, bWrap, as, ad, outA, adjA, g.a0, hat, bar, g);
      return;
    }
  }
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const ai = as[ia];
    const bi = bs[ib];
    const h = hat[i];
    const w = bar[i];
    if (outA !== undefined) {
      if (adjA !== undefined)
        if (reduceA) adjA[ia] += bi * w;
        else adjA[i] = bi * w;
      if (reduceA) outA[ia] += bi * h + w * bd[ib];
      else outA[i] = bi * h + w * bd[ib];
    }
    if (outB !== undefined) {
      if (adjB !== undefined)
        if (reduceB) adjB[ib] += ai * w;
        else adjB[i] = ai * w;
      if (reduceB) outB[ib] += ai * h + w * ad[ia];
      else outB[i] = ai * h + w * ad[ia];
    }
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/**
 * multiply, every seed given, a column c (one entry per row of `inner` output entries, from c0 stepping
 * `cStep` between rows; its results summed per row) against contiguous rows r (from r0): the dense loop's
 * formulas (x * y = y * x and the two terms of a sum commute exactly, so either operand may be the
 * column), outC[j] += r zhat + zbar rdot and adjC[j] += r zbar added in a register over the row in entry
 * order (the same sums as the dense loop's `+=`), outR = c zhat + zbar cdot, adjR = c zbar per entry.
 */
function multiplySecondOrderColumnRows(
  cs: Float64Array,
  cd: Float64Array,
  outC: Float64Array,
  adjC: Float64Array | undefined,
  c0: number,
  cStep: number,
  rs: Float64Array,
  rd: Float64Array,
  outR: Float64Array,
  adjR: Float64Array | undefined,
  r0: number,
  hat: Float64Array,
  bar: Float64Array,
  g: Grid,
): void {
  const inner = g.inner;
  const end = g.o0 + g.n;
  const shift = r0 - g.o0;
  if (inner === 2 && adjC !== undefined && adjR !== undefined) {
    // rows of two, unrolled with loads ahead of stores (see powerBaseAdjointRow): the same sums in entry order
    for (let i = g.o0, j = c0; i < end; i += 2, j += cStep) {
      const c = cs[j];
      const cdj = cd[j];
      const r0v = rs[i + shift];
      const r1v = rs[i + 1 + shift];
      const rd0 = rd[i + shift];
      const rd1 = rd[i + 1 + shift];
      const h0 = hat[i];
      const h1 = hat[i + 1];
      const w0 = bar[i];
      const w1 = bar[i + 1];
      const sumOut = outC[j];
      const sumAdj = adjC[j];
      adjC[j] = sumAdj + r0v * w0 + r1v * w1;
      outC[j] = sumOut + (r0v * h0 + w0 * rd0) + (r1v * h1 + w1 * rd1);
      adjR[i] = c * w0;
      adjR[i + 1] = c * w1;
      outR[i] = c * h0 + w0 * cdj;
      outR[i + 1] = c * h1 + w1 * cdj;
    }
    return;
  }
  for (let i = g.o0, j = c0; i < end; j += cStep) {
    const c = cs[j];
    const cdj = cd[j];
    let sumOut = outC[j];
    let sumAdj = adjC === undefined ? 0 : adjC[j];
    const stop = i + inner;
    if (adjC !== undefined && adjR !== undefined) {
      for (; i < stop; i++) {
        const r = rs[i + shift];
        const h = hat[i];
        const w = bar[i];
        sumAdj += r * w;
        sumOut += r * h + w * rd[i + shift];
        adjR[i] = c * w;
        outR[i] = c * h + w * cdj;
      }
      adjC[j] = sumAdj;
    } else {
      for (; i < stop; i++) {
        const r = rs[i + shift];
        const h = hat[i];
        const w = bar[i];
        if (adjC !== undefined) sumAdj += r * w;
        sumOut += r * h + w * rd[i + shift];
        if (adjR !== undefined) adjR[i] = c * w;
        outR[i] = c * h + w * cdj;
      }
      if (adjC !== undefined) adjC[j] = sumAdj;
    }
    outC[j] = sumOut;
  }
}

/** multiply, every seed given, every operand contiguous and of the output's shape: one branch-free loop. */
function multiplySecondOrderContiguous(
  as: Float64Array,
  bs: Float64Array,
  hat: Float64Array,
  bar: Float64Array,
  ad: Float64Array,
  bd: Float64Array,
  outA: Float64Array,
  outB: Float64Array,
  adjA: Float64Array | undefined,
  adjB: Float64Array | undefined,
  n: number,
): void {
  if (adjA !== undefined && adjB !== undefined) {
    for (let i = 0; i < n; i++) {
      const ai = as[i];
      const bi = bs[i];
      const h = hat[i];
      const w = bar[i];
      adjA[i] = bi * w;
      adjB[i] = ai * w;
      outA[i] = bi * h + w * bd[i];
      outB[i] = ai * h + w * ad[i];
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const h = hat[i];
    const w = bar[i];
    outA[i] = bs[i] * h + w * bd[i];
    outB[i] = as[i] * h + w * ad[i];
  }
  if (adjA !== undefined) for (let i = 0; i < n; i++) adjA[i] = bs[i] * bar[i];
  if (adjB !== undefined) for (let i = 0; i < n; i++) adjB[i] = as[i] * bar[i];
}

/** multiply, every seed given, operand a's results only, contiguous: adjA = b zbar, outA = b zhat + zbar bdot. */
function multiplySecondOrderFirst(
  bs: Float64Array,
  hat: Float64Array,
  bar: Float64Array,
  bd: Float64Array,
  outA: Float64Array,
  adjA: Float64Array | undefined,
  n: number,
): void {
  if (adjA !== undefined) {
    // two entries a step, loads ahead of stores (see powerBaseAdjointRow)
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const b0 = bs[i];
      const b1 = bs[i + 1];
      const w0 = bar[i];
      const w1 = bar[i + 1];
      const h0 = hat[i];
      const h1 = hat[i + 1];
      const d0 = bd[i];
      const d1 = bd[i + 1];
      adjA[i] = b0 * w0;
      adjA[i + 1] = b1 * w1;
      outA[i] = b0 * h0 + w0 * d0;
      outA[i + 1] = b1 * h1 + w1 * d1;
    }
    if (i < n) {
      const bi = bs[i];
      const w = bar[i];
      adjA[i] = bi * w;
      outA[i] = bi * hat[i] + w * bd[i];
    }
    return;
  }
  for (let i = 0; i < n; i++) outA[i] = bs[i] * hat[i] + bar[i] * bd[i];
}

/** multiply: f_a = b, f_b = a, f_ab = 1, f_aa = f_bb = 0. */
function multiplySecondOrder(as: Float64Array, bs: Float64Array, loop: SecondOrderLoop, g: Grid): void {
  const { hat, bar, ad, bd, outA, outB, adjA, adjB, reduceA, reduceB } = loop;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; i++) {
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    const adi = ad === undefined ? 0 : ad[ia];
    const bdi = bd === undefined ? 0 : bd[ib];
    if (outA !== undefined) {
      const da = bs[ib];
      if (adjA !== undefined)
        if (reduceA) adjA[ia] += da * w;
        else adjA[i] = da * w;
      let value = h !== 0 ? da * h : 0;
      if (w !== 0 && bdi !== 0) value += w * bdi;
      if (reduceA) outA[ia] += value;
      else outA[i] = value;
    }
    if (outB !== undefined) {
      const db = as[ia];
      if (adjB !== undefined)
        if (reduceB) adjB[ib] += db * w;
        else adjB[i] = db * w;
      let value = h !== 0 ? db * h : 0;
      if (w !== 0 && adi !== 0) value += w * adi;
      if (reduceB) outB[ib] += value;
      else outB[i] = value;
    }
    if (++t === inner) {
      t = 0;
      ia += aWrap;
      ib += bWrap;
    } else {
      ia += aInner;
      ib += bInner;
    }
  }
}

/** power z = a^b, the rule's formulas with ln a taken once per entry (block by block, see walkLogs). */
function powerSecondOrder(
  as: Float64Array,
  bs: Float64Array,
  zs: Float64Array,
  loop: SecondOrderLoop,
  g: Grid,
): void {
  const { hat, bar, ad, bd, outA, outB, adjA, adjB, reduceA, reduceB } = loop;
  const { inner, aInner, aWrap, bInner, bWrap } = g;
  const end = g.o0 + g.n;
  if (g.o0 === 0 && inner === g.n && aInner === 1 && g.a0 === 0 && bInner === 0 && !reduceA) {
    if (outB === undefined || reduceB) {
      powerSecondOrderScalarExponent(as, bs[g.b0], zs, loop, bd === undefined ? 0 : bd[g.b0], g.b0, g.n);
      return;
    }
  }
  // ln a where a term may use it: b's results, or the cross term of ahat with b's tangent (not for a constant
  // exponent's ahat); taken block by block, read where a term uses it
  const needLogs = outB !== undefined || (outA !== undefined && bd !== undefined);
  for (let i = g.o0, t = 0, ia = g.a0, ib = g.b0; i < end; ) {
    const m = Math.min(LOG_BLOCK, end - i);
    const logs = needLogs ? walkLogs(as, ia, t, inner, aInner, aWrap, m) : blockLogs;
    for (let k = 0; k < m; k++, i++) {
      const x = as[ia];
      const e = bs[ib];
      const zi = zs[i];
      const h = hat === undefined ? 0 : hat[i];
      const w = bar === undefined ? 0 : bar[i];
      const adi = ad === undefined ? 0 : ad[ia];
      const bdi = bd === undefined ? 0 : bd[ib];
      // f_ab only where a term uses it
      const needCross = w !== 0 && ((outA !== undefined && bdi !== 0) || (outB !== undefined && adi !== 0));
      const log = outB !== undefined || needCross ? logs[k] : 0;
      const cross = needCross ? w * (x === 0 ? x ** (e - 1) * (1 + e * log) : (zi / x) * (1 + e * log)) : 0;
      if (outA !== undefined) {
        const da = e === 2 ? 2 * x : e === 0 ? 0 : x === 0 ? e * x ** (e - 1) : (e * zi) / x;
        if (adjA !== undefined)
          if (reduceA) adjA[ia] += da * w;
          else adjA[i] = da * w;
        let value = h !== 0 ? da * h : 0;
        if (w !== 0 && adi !== 0) {
          const daa =
            e === 2
              ? 2
              : e === 0 || e === 1
                ? 0
                : x === 0
                  ? e * (e - 1) * x ** (e - 2)
                  : (e * (e - 1) * zi) / (x * x);
          value += w * daa * adi;
        }
        if (bdi !== 0) value += cross * bdi;
        if (reduceA) outA[ia] += value;
        else outA[i] = value;
      }
      if (outB !== undefined) {
        const db = zi === 0 ? 0 : zi * log;
        if (adjB !== undefined)
          if (reduceB) adjB[ib] += db * w;
          else adjB[i] = db * w;
        let value = h !== 0 ? db * h : 0;
        if (w !== 0 && bdi !== 0) value += w * (zi === 0 ? 0 : zi * log ** 2) * bdi;
        if (adi !== 0) value += cross * adi;
        if (reduceB) outB[ib] += value;
        else outB[i] = value;
      }
      if (++t === inner) {
        t = 0;
        ia += aWrap;
        ib += bWrap;
      } else {
        ia += aInner;
        ib += bInner;
      }
    }
  }
}

/**
 * power with a contiguous base a (results one per entry) and one exponent e for every entry (a constant,
 * or an AdjFloat's value): powerSecondOrder's formulas with e's tests and products taken once
 * (`e * (e - 1) * ...` multiplies e * (e - 1) first, so hoisting it gives the same numbers), the exponent's
 * tangent `bdi` one value, and b's results (`outB`, `adjB`, one entry at `ib`) summed in registers in entry
 * order (the same sums as the general loop's `+=`).
 */
function powerSecondOrderScalarExponent(
  as: Float64Array,
  e: number,
  zs: Float64Array,
  loop: SecondOrderLoop,
  bdi: number,
  ib: number,
  n: number,
): void {
  const { hat, bar, ad, outA, outB, adjA, adjB } = loop;
  if (e === 2 && outB === undefined && bdi === 0 && outA !== undefined) {
    squareSecondOrderRow(as, hat, bar, ad, outA, adjA, n);
    return;
  }
  const em1 = e - 1;
  const em2 = e - 2;
  const ee1 = e * (e - 1);
  const eZero = e === 0;
  const noDaa = e === 0 || e === 1;
  const hasA = outA !== undefined;
  const hasB = outB !== undefined;
  let sumAdjB = adjB === undefined ? 0 : adjB[ib];
  let sumOutB = outB === undefined ? 0 : outB[ib];
  // ln a kept by the tangent loop (the same values), else taken here block by block where a term may use it
  const kept = hasB ? takePowerLogs(as, n) : undefined;
  const needLogs = kept === undefined && (hasB || (hasA && bdi !== 0));
  const logs = kept ?? blockLogs;
  for (let i0 = 0; i0 < n; i0 += LOG_BLOCK) {
    const stop = Math.min(n, i0 + LOG_BLOCK);
    if (needLogs) logRun(as, i0, blockLogs, 0, stop - i0);
    const shift = kept === undefined ? i0 : 0;
    for (let i = i0; i < stop; i++) {
      const x = as[i];
      const zi = zs[i];
      const h = hat === undefined ? 0 : hat[i];
      const w = bar === undefined ? 0 : bar[i];
      const adi = ad === undefined ? 0 : ad[i];
      const needCross = w !== 0 && ((hasA && bdi !== 0) || (hasB && adi !== 0));
      const log = hasB || needCross ? logs[i - shift] : 0;
      const cross = needCross ? w * (x === 0 ? x ** em1 * (1 + e * log) : (zi / x) * (1 + e * log)) : 0;
      if (outA !== undefined) {
        const da = e === 2 ? 2 * x : eZero ? 0 : x === 0 ? e * x ** em1 : (e * zi) / x;
        if (adjA !== undefined) adjA[i] = da * w;
        let value = h !== 0 ? da * h : 0;
        if (w !== 0 && adi !== 0) {
          const daa = e === 2 ? 2 : noDaa ? 0 : x === 0 ? ee1 * x ** em2 : (ee1 * zi) / (x * x);
          value += w * daa * adi;
        }
        if (bdi !== 0) value += cross * bdi;
        outA[i] = value;
      }
      if (hasB) {
        const db = zi === 0 ? 0 : zi * log;
        if (adjB !== undefined) sumAdjB += db * w;
        let value = h !== 0 ? db * h : 0;
        if (w !== 0 && bdi !== 0) value += w * (zi === 0 ? 0 : zi * (log * log)) * bdi;
        if (adi !== 0) value += cross * adi;
        sumOutB += value;
      }
    }
  }
  if (adjB !== undefined) adjB[ib] = sumAdjB;
  if (outB !== undefined) outB[ib] = sumOutB;
}

/**
 * {@link powerSecondOrderScalarExponent} for the exponent 2 with no exponent terms (f_a = 2 a, f_aa = 2, no
 * cross term): adjA = 2 a zbar, outA = 2 a zhat (0 where zhat is 0) + zbar 2 adot (where both are nonzero),
 * the general loop's operations entry by entry, two entries a step with loads ahead of stores.
 */
function squareSecondOrderRow(
  as: Float64Array,
  hat: Float64Array | undefined,
  bar: Float64Array | undefined,
  ad: Float64Array | undefined,
  outA: Float64Array,
  adjA: Float64Array | undefined,
  n: number,
): void {
  if (hat === undefined || bar === undefined || ad === undefined) {
    for (let i = 0; i < n; i++) {
      const da = 2 * as[i];
      const h = hat === undefined ? 0 : hat[i];
      const w = bar === undefined ? 0 : bar[i];
      const adi = ad === undefined ? 0 : ad[i];
      if (adjA !== undefined) adjA[i] = da * w;
      let value = h !== 0 ? da * h : 0;
      if (w !== 0 && adi !== 0) value += w * 2 * adi;
      outA[i] = value;
    }
    return;
  }
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const x0 = as[i];
    const x1 = as[i + 1];
    const h0 = hat[i];
    const h1 = hat[i + 1];
    const w0 = bar[i];
    const w1 = bar[i + 1];
    const d0 = ad[i];
    const d1 = ad[i + 1];
    const da0 = 2 * x0;
    const da1 = 2 * x1;
    let v0 = h0 !== 0 ? da0 * h0 : 0;
    let v1 = h1 !== 0 ? da1 * h1 : 0;
    if (w0 !== 0 && d0 !== 0) v0 += w0 * 2 * d0;
    if (w1 !== 0 && d1 !== 0) v1 += w1 * 2 * d1;
    if (adjA !== undefined) {
      adjA[i] = da0 * w0;
      adjA[i + 1] = da1 * w1;
    }
    outA[i] = v0;
    outA[i + 1] = v1;
  }
  if (i < n) {
    const da = 2 * as[i];
    const h = hat[i];
    const w = bar[i];
    const adi = ad[i];
    if (adjA !== undefined) adjA[i] = da * w;
    let value = h !== 0 ? da * h : 0;
    if (w !== 0 && adi !== 0) value += w * 2 * adi;
    outA[i] = value;
  }
}

/**
 * y[i] = f(x[i]) with the common unary rules inline (the same Math functions and formulas as the rules).
 *
 * @example
 * unaryValuesInto(tanhRule, out, x, n);
 */
export function unaryValuesInto(rule: UnaryRule, out: Float64Array, x: Float64Array, n: number): void {
  if (rule === expRule) expInto(x, out, n);
  else if (rule === logRule) logInto(x, out, n);
  else if (rule === sqrtRule) for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
  else if (rule === sinRule) for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]);
  else if (rule === cosRule) for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]);
  else if (rule === tanhRule) for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
  else if (rule === negativeRule) for (let i = 0; i < n; i++) out[i] = -x[i];
  else if (rule === squareRule) for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
  else for (let i = 0; i < n; i++) out[i] = rule.f(x[i]);
}

/**
 * out[i] = f'(x[i]) * s[i] (the TLM and the adjoint of a unary rule), the common rules inline.
 *
 * @example
 * unaryFirstInto(tanhRule, out, x, y, seed, n); // (1 - y^2) * seed
 */
export function unaryFirstInto(
  rule: UnaryRule,
  out: Float64Array,
  x: Float64Array,
  y: Float64Array,
  s: Float64Array,
  n: number,
): void {
  if (rule === expRule) for (let i = 0; i < n; i++) out[i] = y[i] * s[i];
  else if (rule === logRule) for (let i = 0; i < n; i++) out[i] = (1 / x[i]) * s[i];
  else if (rule === sqrtRule) for (let i = 0; i < n; i++) out[i] = (0.5 / y[i]) * s[i];
  else if (rule === sinRule) for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]) * s[i];
  else if (rule === cosRule) for (let i = 0; i < n; i++) out[i] = -Math.sin(x[i]) * s[i];
  else if (rule === tanhRule) for (let i = 0; i < n; i++) out[i] = (1 - y[i] * y[i]) * s[i];
  else if (rule === negativeRule) for (let i = 0; i < n; i++) out[i] = -1 * s[i];
  else if (rule === squareRule) for (let i = 0; i < n; i++) out[i] = 2 * x[i] * s[i];
  else for (let i = 0; i < n; i++) out[i] = rule.df(x[i], y[i]) * s[i];
}
