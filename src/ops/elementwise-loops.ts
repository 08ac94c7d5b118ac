/**
 * @file Flat loops of the binary elementwise rules on arrays. Each operand is a flat Float64Array read with
 * a step of 1 (one entry per output entry) or 0 (one value broadcast to every entry), so same-shape and
 * scalar-broadcast operations need no broadcast copy. The common rules (add, subtract, multiply, divide,
 * power) have their own loops with the rule's formula written inline: a call through `rule.f` from one
 * shared loop is megamorphic (V8 cannot inline it) and costs more than the arithmetic. The inline formulas
 * are the rules' formulas verbatim, so results are the same numbers as the generic loop's; `x ** 2`,
 * `x ** 1`, `x ** 0` and `x ** 0.5` are computed as `x * x`, `x`, `1` and `Math.sqrt(x)` (within 1 ulp of
 * `Math.pow`, with `Math.pow`'s special cases kept).
 */

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
import { expInto, logInto, powRun, powScalarExponentRun } from "./kernels/transcendental.js";

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
    for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] + b[ib];
  } else if (rule === subtractRule) {
    for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] - b[ib];
  } else if (rule === multiplyRule) {
    if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    else for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] * b[ib];
  } else if (rule === divideRule) {
    for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = a[ia] / b[ib];
  } else if (rule === powerRule) {
    if (sb === 0 && n > 0) powerScalarInto(out, a, sa, b[0], n);
    else powRun(out, 0, a, 0, sa, b, 0, sb, n);
  } else {
    for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) out[i] = rule.f(a[ia], b[ib]);
  }
}

/** out[i] = a[i * sa] ** e with the cheap exponents special-cased. */
function powerScalarInto(out: Float64Array, a: Float64Array, sa: number, e: number, n: number): void {
  if (e === 2) {
    for (let i = 0, ia = 0; i < n; i++, ia += sa) out[i] = a[ia] * a[ia];
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
 * The partial derivative of the rule with respect to operand `wrt` (0: a, 1: b) times a seed, entry by entry:
 * out[i] = f_wrt(a, b, z) * s[i * ss], or `out[i] +=` when `accumulate`. The TLM and the adjoint share it.
 *
 * @example
 * partialTimesInto(multiplyRule, 0, out, a, 1, b, 1, z, seed, 1, n, false); // out = b * seed
 */
export function partialTimesInto(
  rule: BinaryRule,
  wrt: 0 | 1,
  out: Float64Array,
  a: Float64Array,
  sa: number,
  b: Float64Array,
  sb: number,
  z: Float64Array,
  s: Float64Array,
  ss: number,
  n: number,
  accumulate: boolean,
): void {
  if (!accumulate && (rule === addRule || (rule === subtractRule && wrt === 0))) {
    // f_a = 1 (and f_b = 1 for add): 1 * s
    for (let i = 0, is = 0; i < n; i++, is += ss) out[i] = 1 * s[is];
    return;
  }
  if (rule === multiplyRule) {
    // f_a = b, f_b = a
    const v = wrt === 0 ? b : a;
    const sv = wrt === 0 ? sb : sa;
    if (accumulate) for (let i = 0, iv = 0, is = 0; i < n; i++, iv += sv, is += ss) out[i] += v[iv] * s[is];
    else for (let i = 0, iv = 0, is = 0; i < n; i++, iv += sv, is += ss) out[i] = v[iv] * s[is];
    return;
  }
  if (rule === powerRule) {
    if (wrt === 0) {
      for (let i = 0, ia = 0, ib = 0, is = 0; i < n; i++, ia += sa, ib += sb, is += ss) {
        const x = a[ia];
        const e = b[ib];
        const value = (e === 0 ? 0 : x === 0 ? e * x ** (e - 1) : (e * z[i]) / x) * s[is];
        if (accumulate) out[i] += value;
        else out[i] = value;
      }
    } else {
      for (let i = 0, ia = 0, is = 0; i < n; i++, ia += sa, is += ss) {
        const zi = z[i];
        const value = (zi === 0 ? 0 : zi * Math.log(a[ia])) * s[is];
        if (accumulate) out[i] += value;
        else out[i] = value;
      }
    }
    return;
  }
  const partial = wrt === 0 ? rule.da : rule.db;
  if (accumulate) {
    for (let i = 0, ia = 0, ib = 0, is = 0; i < n; i++, ia += sa, ib += sb, is += ss)
      out[i] += partial(a[ia], b[ib], z[i]) * s[is];
  } else {
    for (let i = 0, ia = 0, ib = 0, is = 0; i < n; i++, ia += sa, ib += sb, is += ss)
      out[i] = partial(a[ia], b[ib], z[i]) * s[is];
  }
}

/**
 * Sum over i of f_wrt(a, b, z) * s[i] (s contiguous): the adjoint of an operand broadcast to every entry,
 * summed in entry order as the materialised product would be.
 *
 * @example
 * partialDotSum(powerRule, 1, a, 1, b, 0, z, zbar, n); // d/db sum(zbar * a^b) for a scalar exponent b
 */
export function partialDotSum(
  rule: BinaryRule,
  wrt: 0 | 1,
  a: Float64Array,
  sa: number,
  b: Float64Array,
  sb: number,
  z: Float64Array,
  s: Float64Array,
  n: number,
): number {
  let total = 0;
  if (rule === powerRule && wrt === 1) {
    for (let i = 0, ia = 0; i < n; i++, ia += sa) {
      const zi = z[i];
      total += (zi === 0 ? 0 : zi * Math.log(a[ia])) * s[i];
    }
    return total;
  }
  if (rule === multiplyRule) {
    const v = wrt === 0 ? b : a;
    const sv = wrt === 0 ? sb : sa;
    for (let i = 0, iv = 0; i < n; i++, iv += sv) total += v[iv] * s[i];
    return total;
  }
  const partial = wrt === 0 ? rule.da : rule.db;
  for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb) total += partial(a[ia], b[ib], z[i]) * s[i];
  return total;
}

/**
 * Seeds and outputs of the flat second-order loop: `hat` = zhat, `bar` = zbar (contiguous, length n), the
 * tangents `ad`, `bd` with their steps, and the outputs to fill (length n each, `undefined` when not wanted).
 */
export interface SecondOrderLoop {
  hat: Float64Array | undefined;
  bar: Float64Array | undefined;
  ad: Float64Array | undefined;
  sad: number;
  bd: Float64Array | undefined;
  sbd: number;
  outA: Float64Array | undefined;
  outB: Float64Array | undefined;
  adjA: Float64Array | undefined;
  adjB: Float64Array | undefined;
}

/**
 * The adjoint and second-order adjoint of a binary rule in one pass, entry by entry:
 * adjA = f_a zbar, adjB = f_b zbar, outA = f_a zhat + zbar (f_aa adot + f_ab bdot),
 * outB = f_b zhat + zbar (f_ab adot + f_bb bdot). Multiply and power have inline loops (power takes ln a
 * once per entry instead of up to three times).
 *
 * @example
 * secondOrderInto(multiplyRule, a, 1, b, 1, z, loop, n);
 */
export function secondOrderInto(
  rule: BinaryRule,
  a: Float64Array,
  sa: number,
  b: Float64Array,
  sb: number,
  z: Float64Array,
  loop: SecondOrderLoop,
  n: number,
): void {
  if (rule === multiplyRule) {
    const { hat, bar, ad, bd, outA, outB, adjA, adjB } = loop;
    if (
      hat !== undefined &&
      bar !== undefined &&
      ad !== undefined &&
      bd !== undefined &&
      outA !== undefined &&
      outB !== undefined &&
      sa === 1 &&
      sb === 1 &&
      loop.sad === 1 &&
      loop.sbd === 1
    ) {
      multiplySecondOrderDense(a, b, hat, bar, ad, bd, outA, outB, adjA, adjB, n);
    } else multiplySecondOrder(a, sa, b, sb, loop, n);
  } else if (rule === addRule || rule === subtractRule) linearSecondOrder(rule === addRule ? 1 : -1, loop, n);
  else if (rule === powerRule) powerSecondOrder(a, sa, b, sb, z, loop, n);
  else genericSecondOrder(rule, a, sa, b, sb, z, loop, n);
}

function genericSecondOrder(
  rule: BinaryRule,
  as: Float64Array,
  sa: number,
  bs: Float64Array,
  sb: number,
  zs: Float64Array,
  loop: SecondOrderLoop,
  n: number,
): void {
  const { hat, bar, ad, sad, bd, sbd, outA, outB, adjA, adjB } = loop;
  for (let i = 0, ia = 0, ib = 0, iad = 0, ibd = 0; i < n; i++, ia += sa, ib += sb, iad += sad, ibd += sbd) {
    const ai = as[ia];
    const bi = bs[ib];
    const zi = zs[i];
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    const adi = ad === undefined ? 0 : ad[iad];
    const bdi = bd === undefined ? 0 : bd[ibd];
    const cross = w !== 0 && (adi !== 0 || bdi !== 0) ? w * rule.dab(ai, bi, zi) : 0;
    if (outA !== undefined) {
      const da = rule.da(ai, bi, zi);
      if (adjA !== undefined) adjA[i] = da * w;
      let value = h !== 0 ? da * h : 0;
      if (w !== 0 && adi !== 0) value += w * rule.daa(ai, bi, zi) * adi;
      if (bdi !== 0) value += cross * bdi;
      outA[i] = value;
    }
    if (outB !== undefined) {
      const db = rule.db(ai, bi, zi);
      if (adjB !== undefined) adjB[i] = db * w;
      let value = h !== 0 ? db * h : 0;
      if (w !== 0 && bdi !== 0) value += w * rule.dbb(ai, bi, zi) * bdi;
      if (adi !== 0) value += cross * adi;
      outB[i] = value;
    }
  }
}

/**
 * add (sign 1) and subtract (sign -1): f_a = 1, f_b = sign, no second derivatives, so ahat = zhat,
 * bhat = sign zhat, abar = zbar, bbar = sign zbar (as the generic loop computes them).
 */
function linearSecondOrder(sign: number, loop: SecondOrderLoop, n: number): void {
  const { hat, bar, outA, outB, adjA, adjB } = loop;
  for (let i = 0; i < n; i++) {
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    if (outA !== undefined) {
      if (adjA !== undefined) adjA[i] = 1 * w;
      outA[i] = h !== 0 ? 1 * h : 0;
    }
    if (outB !== undefined) {
      if (adjB !== undefined) adjB[i] = sign * w;
      outB[i] = h !== 0 ? sign * h : 0;
    }
  }
}

/** multiply with every seed present and every operand contiguous: one branch-free loop. */
function multiplySecondOrderDense(
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

/** multiply: f_a = b, f_b = a, f_ab = 1, f_aa = f_bb = 0. */
function multiplySecondOrder(
  as: Float64Array,
  sa: number,
  bs: Float64Array,
  sb: number,
  loop: SecondOrderLoop,
  n: number,
): void {
  const { hat, bar, ad, sad, bd, sbd, outA, outB, adjA, adjB } = loop;
  for (let i = 0, ia = 0, ib = 0, iad = 0, ibd = 0; i < n; i++, ia += sa, ib += sb, iad += sad, ibd += sbd) {
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    const adi = ad === undefined ? 0 : ad[iad];
    const bdi = bd === undefined ? 0 : bd[ibd];
    if (outA !== undefined) {
      const da = bs[ib];
      if (adjA !== undefined) adjA[i] = da * w;
      let value = h !== 0 ? da * h : 0;
      if (w !== 0 && bdi !== 0) value += w * bdi;
      outA[i] = value;
    }
    if (outB !== undefined) {
      const db = as[ia];
      if (adjB !== undefined) adjB[i] = db * w;
      let value = h !== 0 ? db * h : 0;
      if (w !== 0 && adi !== 0) value += w * adi;
      outB[i] = value;
    }
  }
}

/** power z = a^b, the rule's formulas with ln a evaluated once per entry. */
function powerSecondOrder(
  as: Float64Array,
  sa: number,
  bs: Float64Array,
  sb: number,
  zs: Float64Array,
  loop: SecondOrderLoop,
  n: number,
): void {
  const { hat, bar, ad, sad, bd, sbd, outA, outB, adjA, adjB } = loop;
  for (let i = 0, ia = 0, ib = 0, iad = 0, ibd = 0; i < n; i++, ia += sa, ib += sb, iad += sad, ibd += sbd) {
    const x = as[ia];
    const e = bs[ib];
    const zi = zs[i];
    const h = hat === undefined ? 0 : hat[i];
    const w = bar === undefined ? 0 : bar[i];
    const adi = ad === undefined ? 0 : ad[iad];
    const bdi = bd === undefined ? 0 : bd[ibd];
    const needCross = w !== 0 && (adi !== 0 || bdi !== 0);
    const log = outB !== undefined || needCross ? Math.log(x) : 0;
    const cross = needCross ? w * (x === 0 ? x ** (e - 1) * (1 + e * log) : (zi / x) * (1 + e * log)) : 0;
    if (outA !== undefined) {
      const da = e === 0 ? 0 : x === 0 ? e * x ** (e - 1) : (e * zi) / x;
      if (adjA !== undefined) adjA[i] = da * w;
      let value = h !== 0 ? da * h : 0;
      if (w !== 0 && adi !== 0) {
        const daa =
          e === 0 || e === 1 ? 0 : x === 0 ? e * (e - 1) * x ** (e - 2) : (e * (e - 1) * zi) / (x * x);
        value += w * daa * adi;
      }
      if (bdi !== 0) value += cross * bdi;
      outA[i] = value;
    }
    if (outB !== undefined) {
      const db = zi === 0 ? 0 : zi * log;
      if (adjB !== undefined) adjB[i] = db * w;
      let value = h !== 0 ? db * h : 0;
      if (w !== 0 && bdi !== 0) value += w * (zi === 0 ? 0 : zi * log ** 2) * bdi;
      if (adi !== 0) value += cross * adi;
      outB[i] = value;
    }
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
