/**
 * @file Table-driven float64 `exp`, `log` and `pow` in plain JavaScript, faster than V8's `Math.*` on arrays
 * and accurate to within 1 ulp of them (and correctly rounded in the vast majority of cases).
 *
 * Method (the classic one of table-driven libms; the code and tables here are our own):
 * - `exp(x)`: x = (k ln2)/512 + r with |r| <= ln2/1024, exp(x) = 2^(k>>9) * 2^((k&511)/512) * exp(r); the 512
 *   values 2^(j/512) are stored as a double plus a relative tail, exp(r) - 1 is a degree-5 polynomial (error
 *   below 2^-72); the rounding errors before the last addition stay below 2^-63.
 * - `log(x)`: x = 2^k z with z in [0.7057, 1.4114), z split into 128 subintervals with centre c; r = z/c - 1
 *   is computed exactly (1/c has 9 significant bits), log(x) = k ln2 + log(c) + log1p(r) with log(c) stored in
 *   double-double and the r^2/2 term carried exactly, so log is returned as hi + lo with ~2^-68 relative error.
 * - `pow(x, y)`: exp(y log x) with y * log x carried in double-double into the exp reduction, so the result is
 *   within ~0.52 ulp for every input pair.
 * Tables are built at module load in double-double arithmetic (a few microseconds).
 *
 * Measured (bench/transcendental.ts, 10^5 entries, Node 20): exp 0.55x, log 0.9x, pow 0.35-0.4x the time of the
 * `Math.*` loop; correctly rounded in >99.97% of sampled cases (V8's Math.exp/Math.pow: ~90%).
 *
 * WebAssembly SIMD: where available (Node 20, current browsers), expInto, logInto/logRun, the general case of
 * powScalarExponentRun (contiguous x) and powRun (contiguous x and y) send runs of at least WASM_MIN_* entries
 * to f64x2 versions of these loops (transcendental-wasm.ts; source wasm/transcendental-wat.ts), in chunks of
 * 2048 entries copied into and out of the module's memory. They give the same doubles entry for entry (same
 * table, same operations in the same order, no fused multiply-add); entries off the fast path are recomputed
 * here. Measured on 10^5 entries, same process (bench/transcendental.ts; the copies, about 0.1 ns an entry
 * each way, included), wasm / JS kernel: exp 0.41x (2.0 ns an entry), log 0.46-0.7x (3.3 ns), pow with one
 * exponent 0.55-0.65x (8.4 ns), pow with an array of exponents 0.42-0.53x (8.7 ns); so every kernel
 * dispatches. On short runs the call and copies cost more: wasm breaks even at about 32 entries (exp), 16-32
 * (log) and 8 (pow), hence the thresholds 48, 32 and 16. `useWasmKernels(false)` forces the JavaScript loops.
 *
 * Special cases follow ECMAScript's Number::exponentiate (`Math.pow(1, NaN)` and `Math.pow(±1, ±Infinity)` are
 * NaN, unlike C) and `Math.exp`/`Math.log`: every special value gives exactly what `Math.*` gives.
 */

import { InvalidArgumentError } from "../../errors.js";
import { instantiateTranscendentalWasm, type TranscendentalWasm } from "./transcendental-wasm.js";

// ---------------------------------------------------------------------------------------------------------
// Double-double helpers used only to build the tables at module load.

const SPLITTER = 134217729; // 2^27 + 1

function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function fastTwoSum(a: number, b: number): [number, number] {
  const s = a + b;
  return [s, b - (s - a)];
}

function ddMul(a: [number, number], b: [number, number]): [number, number] {
  const [p, e] = twoProd(a[0], b[0]);
  return fastTwoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

function ddAdd(a: [number, number], b: [number, number]): [number, number] {
  const s = a[0] + b[0];
  const v = s - a[0];
  const e = a[0] - (s - v) + (b[0] - v);
  return fastTwoSum(s, e + a[1] + b[1]);
}

function ddDivNumber(a: [number, number], b: number): [number, number] {
  const q = a[0] / b;
  const [p, e] = twoProd(q, b);
  return fastTwoSum(q, (a[0] - p - e + a[1]) / b);
}

function ddSqrt(a: [number, number]): [number, number] {
  const s = Math.sqrt(a[0]);
  const [p, e] = twoProd(s, s);
  return fastTwoSum(s, (a[0] - p - e + a[1]) / (2 * s));
}

/** log(v) for a double v in [0.5, 2] by 2 atanh((v-1)/(v+1)), ~2^-104 relative. */
function ddLog(v: number): [number, number] {
  if (v === 1) return [0, 0];
  const s = ddDivNumber([v - 1, 0], v + 1);
  const s2 = ddMul(s, s);
  let power = s;
  let sum = s;
  for (let n = 1; n < 40; n++) {
    power = ddMul(power, s2);
    sum = ddAdd(sum, ddDivNumber(power, 2 * n + 1));
  }
  return [2 * sum[0], 2 * sum[1]];
}

// ---------------------------------------------------------------------------------------------------------
// Tables, packed into one Float64Array so that a kernel holds them in one local (module bindings are reloaded
// on every use in optimized code, local ones are not). The numeric literals in the cores below are the
// constants listed above the cores.

/** 2^e for e in [-1074, 1023] at e + 1074. */
const P2_BASE = 1074;
/** 2^(j/512) rounded at EXP_BASE + 2j and its relative tail (2^(j/512) - T) / T at EXP_BASE + 2j + 1. */
const EXP_BASE = 2098;
/** For subinterval i of [0x1.69555p-1, 0x1.69555p0): 1/c (9 significant bits) at LOG_BASE + 4i, -log(1/c) as a
 * multiple of 2^-42 at +1 and the rest of it at +2. */
const LOG_BASE = 3122;
/** Scratch slot: the low part of the last logCore result. */
const TAIL_SLOT = 3634;
/** The same as LOG_BASE for 256 subintervals and 1/c with 10 significant bits (logFast). */
const LOG256_BASE = 3636;
const TAB = new Float64Array(LOG256_BASE + 4 * 256);
if (
  P2_BASE + 1024 !== EXP_BASE ||
  EXP_BASE + 1024 !== LOG_BASE ||
  LOG_BASE + 512 !== TAIL_SLOT ||
  TAIL_SLOT + 2 !== LOG256_BASE
) {
  throw new Error("transcendental: table layout out of step with the literals in the cores");
}

{
  let v = 1;
  for (let e = 0; e <= 1023; e++, v *= 2) TAB[P2_BASE + e] = v;
  v = 1;
  for (let e = 0; e >= -1074; e--, v /= 2) TAB[P2_BASE + e] = v;

  const roots: [number, number][] = [];
  let root: [number, number] = [2, 0];
  for (let b = 0; b < 9; b++) {
    root = ddSqrt(root);
    roots.push(root); // 2^(1/2), 2^(1/4), ..., 2^(1/512)
  }
  for (let j = 0; j < 512; j++) {
    let t: [number, number] = [1, 0];
    for (let b = 0; b < 9; b++) if ((j >> (8 - b)) & 1) t = ddMul(t, roots[b]);
    TAB[EXP_BASE + 2 * j] = t[0];
    TAB[EXP_BASE + 2 * j + 1] = t[1] / t[0];
  }
}

// Little-endian hosts keep the high word of a float64 at the odd int32 index.
const HI = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? 1 : 0;
const scratch = new Float64Array(1);
const scratchWords = new Int32Array(scratch.buffer);

/** High word of a scalar. */
function highWord(x: number): number {
  scratch[0] = x;
  return scratchWords[HI];
}

/** The float64 whose high word is `hi` and low word 0. */
function fromHighWord(hi: number): number {
  scratchWords[HI] = hi;
  scratchWords[1 - HI] = 0;
  return scratch[0];
}

/** High word of the bottom of the reduced log range, 0x1.69555p-1. */
const LOG_OFF = 0x3fe69555;

function fillLogTable(base: number, bits: number): void {
  const shift = 20 - bits;
  for (let i = 0; i < 1 << bits; i++) {
    // z in [a, b) has high word LOG_OFF + (i << shift) + (0 .. 2^shift - 1); the interval holding 1 gets c = 1
    const a = fromHighWord(LOG_OFF + (i << shift));
    const b = fromHighWord(LOG_OFF + ((i + 1) << shift));
    const scale = 2 ** (bits + 1);
    const invc = a <= 1 && 1 < b ? 1 : Math.round((2 * scale) / (a + b)) / scale;
    const logc = ddLog(invc);
    const rounded = Math.round(-logc[0] * 2 ** 42) / 2 ** 42;
    TAB[base + 4 * i] = invc;
    TAB[base + 4 * i + 1] = rounded;
    TAB[base + 4 * i + 2] = -logc[0] - rounded - logc[1];
  }
}
fillLogTable(LOG_BASE, 7);
fillLogTable(LOG256_BASE, 8);

// ---------------------------------------------------------------------------------------------------------
// Cores. Offsets into TAB are written as literals (module-level constants are reloaded on every use in
// optimized code): P2_BASE = 1074, EXP_BASE = 2098, LOG_BASE = 3122, TAIL_SLOT = 3634, LOG256_BASE = 3636.
// Constants: 738.6598609351493 = 512/ln2; 6755399441055744 = 1.5 * 2^52 (adding and subtracting it rounds to an
//   integer); 0.0013538030871131923 = ln2/512 with 33 significant bits (times any |k| < 2^20 is exact),
//   -8.204912251330243e-14 the rest of ln2/512; 0.6931471805598903 = ln2 with 42 significant bits, 5.497923018708371e-14 the rest;
//   4294967296 = 2^32 (adding and subtracting it keeps 21 significant bits of a number below 2);
//   134217729 = 2^27 + 1 (Veltkamp split); 1 / n for the Taylor coefficients of exp and log1p.

/**
 * log(x) + kExtra * ln2 for a positive normal x with high word `hx`, returned as hi (the value) plus
 * tab[3634]; relative error of hi + lo below 2^-68.
 */
function logCore(x: number, hx: number, kExtra: number, tab: Float64Array): number {
  const tmp = hx - 0x3fe69555;
  const i = 3122 + ((tmp >> 11) & 0x1fc); // 4 * ((tmp >> 13) & 127)
  const kz = tmp >> 20;
  const z = x * tab[1074 - kz];
  const k = kz + kExtra;
  const invc = tab[i];
  const zhi = z + 4294967296 - 4294967296;
  const zlo = z - zhi;
  const rhi = zhi * invc - 1;
  const rlo = zlo * invc;
  const r = rhi + rlo; // exact: z * invc - 1 has at most 53 significant bits
  const t1 = k * 0.6931471805598903 + tab[i + 1]; // exact
  const t2 = t1 + r;
  const v = t2 - t1;
  const lo2 = t1 - (t2 - v) + (r - v);
  const lo1 = k * 5.497923018708371e-14 + tab[i + 2];
  const ar = -0.5 * r;
  const arhi = -0.5 * rhi;
  const arhi2 = rhi * arhi; // exact: rhi has at most 22 significant bits
  const hi = t2 + arhi2;
  const lo3 = rlo * (ar + arhi);
  const lo4 = t2 - hi + arhi2;
  const r2 = r * r;
  const p =
    r2 *
    r *
    (0.3333333333333333 -
      r * 0.25 +
      r2 *
        (0.2 -
          r * 0.16666666666666666 +
          r2 * (0.14285714285714285 - r * 0.125 + r2 * (0.1111111111111111 - r * 0.1))));
  const lo = lo1 + lo2 + lo3 + lo4 + p;
  const y = hi + lo;
  tab[3634] = hi - y + lo;
  return y;
}

/**
 * log(x) for a positive normal x with high word `hx`, about 0.51 ulp: logCore without the double-double
 * r^2/2 term and with a shorter polynomial (the tail is not needed when the result is the log itself).
 */
function logFast(x: number, hx: number, tab: Float64Array): number {
  const tmp = hx - 0x3fe69555;
  const i = 3636 + ((tmp >> 10) & 0x3fc); // 4 * ((tmp >> 12) & 255)
  const k = tmp >> 20;
  const z = x * tab[1074 - k];
  const invc = tab[i];
  const zhi = z + 4294967296 - 4294967296;
  const r = zhi * invc - 1 + (z - zhi) * invc; // exact
  const t1 = k * 0.6931471805598903 + tab[i + 1]; // exact
  const hi = t1 + r;
  const v = hi - t1;
  const lo = t1 - (hi - v) + (r - v);
  const r2 = r * r;
  const p =
    r2 *
    (-0.5 +
      r * 0.3333333333333333 +
      r2 *
        (-0.25 +
          r * 0.2 +
          r2 * (-0.16666666666666666 + r * 0.14285714285714285 + r2 * (-0.125 + r * 0.1111111111111111))));
  return hi + (lo + k * 5.497923018708371e-14 + tab[i + 2] + p);
}

/** exp(hi + lo) whose power of two 2^e falls outside the normal range: overflow or (gradual) underflow. */
function expScaled(t: number, tmp: number, e: number, tab: Float64Array): number {
  if (e > 0) return (t + t * tmp) * tab[1074 + e - 64] * 1.8446744073709552e19; // * 2^64
  // Subnormal result: y = value * 2^1022, rounded on the subnormal grid (multiples of 2^-52) by adding 1.
  const scale = t * tab[1074 + e + 1022];
  const y = scale + scale * tmp;
  if (y >= 1) return y * 2.2250738585072014e-308;
  let lo = scale - y + scale * tmp;
  const hi = 1 + y;
  lo = 1 - hi + y + lo;
  return (hi + lo - 1) * 2.2250738585072014e-308;
}

/** exp(hi + lo) for |hi| <= 746, lo a correction below 2^-40 |hi| (the double-double tail of the argument). */
function expCore(hi: number, lo: number, tab: Float64Array): number {
  const kd = hi * 738.6598609351493 + 6755399441055744 - 6755399441055744;
  const k = kd | 0;
  const r = hi - kd * 0.0013538030871131923 - kd * -8.204912251330243e-14 + lo;
  const j = 2098 + ((k & 511) << 1);
  const e = k >> 9;
  const t = tab[j];
  const r2 = r * r;
  const tmp =
    tab[j + 1] +
    r +
    r2 * (0.5 + r * 0.16666666666666666) +
    r2 * r2 * (0.041666666666666664 + r * 0.008333333333333333);
  if (e > -1022 && e < 1000) return (t + t * tmp) * tab[1074 + e];
  return expScaled(t, tmp, e, tab);
}

/** exp(y * (l + lt)) with the product carried in double-double. */
function expProduct(y: number, l: number, lt: number, tab: Float64Array): number {
  const ehi = y * l;
  // out of range (or l = 0 with |y| too large to split): the tail cannot matter
  if (!(ehi >= -746 && ehi <= 746)) return ehi > 0 ? Infinity : 0;
  if (l === 0) return 1;
  let c = 134217729 * y;
  const yh = c - (c - y);
  const yl = y - yh;
  c = 134217729 * l;
  const lh = c - (c - l);
  const ll = l - lh;
  return expCore(ehi, yh * lh - ehi + yh * ll + yl * lh + yl * ll + y * lt, tab);
}

/** The 32-bit view of a Float64Array (shares its memory). */
function words(x: Float64Array): Int32Array {
  return new Int32Array(x.buffer, x.byteOffset, x.length * 2);
}

// ---------------------------------------------------------------------------------------------------------
// Scalar functions (the same results as the array kernels).

/**
 * exp(x), within 1 ulp of `Math.exp` (and almost always correctly rounded); the same special values.
 * @example
 * scalarExp(1); // 2.718281828459045
 */
export function scalarExp(x: number): number {
  if (x >= -746 && x <= 746) return expCore(x, 0, TAB);
  if (x > 0) return Infinity;
  return x < 0 ? 0 : Number.NaN;
}

/** log of a non-normal or non-positive x (0, subnormal, negative, Infinity, NaN). */
function logSpecial(x: number): number {
  if (x > 0 && x < 2.2250738585072014e-308) {
    const y = x * 4503599627370496; // 2^52
    return logCore(y, highWord(y), -52, TAB);
  }
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  return NaN; // negative or NaN
}

/**
 * Natural logarithm, within 1 ulp of `Math.log` (and almost always correctly rounded); the same special values.
 * @example
 * scalarLog(Math.E); // 1
 */
export function scalarLog(x: number): number {
  const hx = highWord(x);
  if (hx >= 0x00100000 && hx < 0x7ff00000) return logFast(x, hx, TAB);
  return logSpecial(x);
}

/** Whether a finite y is an integer. */
function isInteger(y: number): boolean {
  return Math.floor(y) === y;
}

/** Whether a finite y is an odd integer. */
function isOddInteger(y: number): boolean {
  return isInteger(y) && Math.abs(y) < 9007199254740992 && Math.abs(y % 2) === 1;
}

/** |x|^y via exp(y log|x|) for finite nonzero x and finite y (no sign handling). */
function powAbsolute(ax: number, y: number): number {
  const hx = highWord(ax);
  if (hx >= 0x00100000) return expProduct(y, logCore(ax, hx, 0, TAB), TAB[3634], TAB);
  const s = ax * 4503599627370496; // 2^52
  return expProduct(y, logCore(s, highWord(s), -52, TAB), TAB[3634], TAB);
}

/** Math.pow(x, y) for any pair: ECMAScript's special cases, then |x|^y with a sign. */
function powSpecial(x: number, y: number): number {
  if (Number.isNaN(y)) return Number.NaN;
  if (y === 0) return 1;
  if (Number.isNaN(x)) return Number.NaN;
  const ay = Math.abs(y);
  const ax = Math.abs(x);
  if (ay === Infinity) {
    if (ax === 1) return NaN;
    return ax > 1 === y > 0 ? Infinity : 0;
  }
  if (x === 0) {
    const odd = isOddInteger(y) && 1 / x < 0;
    if (y > 0) return odd ? -0 : 0;
    return odd ? -Infinity : Infinity;
  }
  if (ax === Infinity) {
    const odd = x < 0 && isOddInteger(y);
    if (y > 0) return odd ? -Infinity : Infinity;
    return odd ? -0 : 0;
  }
  if (x < 0) {
    if (!isInteger(y)) return NaN;
    const v = powAbsolute(ax, y);
    return isOddInteger(y) ? -v : v;
  }
  return powAbsolute(ax, y);
}

/**
 * x^y (`Math.pow`, `x ** y`), within 1 ulp of `Math.pow` for every input pair (about 0.52 ulp from the exact
 * value); ECMAScript's special cases exactly.
 * @example
 * scalarPow(2, 0.5); // 1.4142135623730951
 */
export function scalarPow(x: number, y: number): number {
  const hx = highWord(x);
  if (hx >= 0x00100000 && hx < 0x7ff00000 && y - y === 0) {
    const l = logCore(x, hx, 0, TAB);
    return expProduct(y, l, TAB[3634], TAB);
  }
  return powSpecial(x, y);
}

// ---------------------------------------------------------------------------------------------------------
// WebAssembly SIMD path (transcendental-wasm.ts): the same doubles as the loops below, entry for entry.

/** The SIMD kernels with TAB in their memory, or undefined where WebAssembly SIMD is unavailable. */
const WASM_KERNELS = instantiateTranscendentalWasm(TAB);
/** The kernels in use (undefined: the JavaScript loops; see useWasmKernels). */
let wasmKernels: TranscendentalWasm | undefined = WASM_KERNELS;

/**
 * Turns the WebAssembly SIMD kernels on (where available) or off, for tests and benchmarks: both paths give
 * the same doubles. Returns whether they are on now.
 * @example
 * useWasmKernels(false); // false: the JavaScript loops run
 * useWasmKernels(true); // true where WebAssembly SIMD is available
 */
export function useWasmKernels(enabled: boolean): boolean {
  wasmKernels = enabled ? WASM_KERNELS : undefined;
  return wasmKernels !== undefined;
}

/**
 * Which kernels run the array loops: "wasm-simd" or "js".
 * @example
 * transcendentalBackend(); // "wasm-simd" in Node 20 and current browsers
 */
export function transcendentalBackend(): "wasm-simd" | "js" {
  return wasmKernels === undefined ? "js" : "wasm-simd";
}

/** Shortest runs sent to the module (below, the copies and the call cost more than they save). */
const WASM_MIN_EXP = 48;
const WASM_MIN_LOG = 32;
const WASM_MIN_POW = 16;

/** expInto through the module: chunks copied into X, special entries patched with scalarExp. */
function expWasm(w: TranscendentalWasm, x: Float64Array, out: Float64Array, n: number): void {
  const buffer = w.x;
  const specials = w.specials;
  const chunk = w.capacity; // 2048 entries: 16 KB buffers stay in L1/L2 while copied in and out
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const m = Math.min(chunk, n - t0);
    buffer.set(x.subarray(t0, t0 + m));
    const count = w.exp(m);
    for (let q = 0; q < count; q++) {
      const t = specials[q];
      if (t < m) buffer[t] = scalarExp(x[t0 + t]);
    }
    out.set(buffer.subarray(0, m), t0);
  }
}

/** logRun through the module; special entries patched with logSpecial. */
function logWasm(
  w: TranscendentalWasm,
  x: Float64Array,
  i: number,
  out: Float64Array,
  o: number,
  n: number,
): void {
  const buffer = w.x;
  const specials = w.specials;
  const chunk = w.capacity; // 2048 entries: 16 KB buffers stay in L1/L2 while copied in and out
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const m = Math.min(chunk, n - t0);
    buffer.set(x.subarray(i + t0, i + t0 + m));
    const count = w.log(m);
    for (let q = 0; q < count; q++) {
      const t = specials[q];
      if (t < m) buffer[t] = logSpecial(x[i + t0 + t]);
    }
    out.set(buffer.subarray(0, m), o + t0);
  }
}

/**
 * One entry of powGeneralRun (its three passes for x[t] = v): what its special entries are patched with.
 * ph + pl is p split by Veltkamp, `negative` the sign of a negative v's power.
 */
function powGeneralEntry(v: number, p: number, ph: number, pl: number, negative: number): number {
  const hx = highWord(v) & 0x7fffffff;
  if (!(hx >= 0x00100000 && hx < 0x7ff00000)) return powSpecial(v, p);
  const l = logCore(Math.abs(v), hx, 0, TAB);
  const lt = TAB[3634];
  const ehi = p * l;
  const d = 134217729 * l;
  const lh = d - (d - l);
  const ll = l - lh;
  const lo = ph * lh - ehi + ph * ll + pl * lh + pl * ll + p * lt;
  const z = ehi >= -746 && ehi <= 746 ? expCore(ehi, lo, TAB) : ehi > 0 ? Number.POSITIVE_INFINITY : 0;
  return v < 0 ? z * negative : z;
}

/** powGeneralRun for a contiguous x through the module (Y holds p); special entries by powGeneralEntry. */
function powScalarWasm(
  w: TranscendentalWasm,
  out: Float64Array,
  o: number,
  x: Float64Array,
  i: number,
  p: number,
  ph: number,
  pl: number,
  negative: number,
  n: number,
): void {
  const buffer = w.x;
  const specials = w.specials;
  const chunk = w.capacity; // 2048 entries: 16 KB buffers stay in L1/L2 while copied in and out
  w.y.fill(p, 0, Math.min(chunk, n));
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const m = Math.min(chunk, n - t0);
    buffer.set(x.subarray(i + t0, i + t0 + m));
    const count = w.pow(m, negative);
    for (let q = 0; q < count; q++) {
      const t = specials[q];
      if (t < m) buffer[t] = powGeneralEntry(x[i + t0 + t], p, ph, pl, negative);
    }
    out.set(buffer.subarray(0, m), o + t0);
  }
}

/** powRun for contiguous x and y through the module; special entries by scalarPow (powRun's loop body). */
function powWasm(
  w: TranscendentalWasm,
  out: Float64Array,
  o: number,
  x: Float64Array,
  i: number,
  y: Float64Array,
  j: number,
  n: number,
): void {
  const buffer = w.x;
  const exponents = w.y;
  const specials = w.specials;
  const chunk = w.capacity; // 2048 entries: 16 KB buffers stay in L1/L2 while copied in and out
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const m = Math.min(chunk, n - t0);
    buffer.set(x.subarray(i + t0, i + t0 + m));
    exponents.set(y.subarray(j + t0, j + t0 + m));
    const count = w.pow(m, Number.NaN);
    for (let q = 0; q < count; q++) {
      const t = specials[q];
      if (t < m) buffer[t] = scalarPow(x[i + t0 + t], y[j + t0 + t]);
    }
    out.set(buffer.subarray(0, m), o + t0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Array kernels.

function checkLengths(x: Float64Array, out: Float64Array, name: string): number {
  if (out.length < x.length) {
    throw new InvalidArgumentError(
      name,
      `out has ${out.length} entries, fewer than the input's ${x.length}; pass an out at least as long`,
    );
  }
  return x.length;
}

/**
 * out[i] = exp(x[i]) for i < n (default x.length; out may be x). Within 1 ulp of `Math.exp` (almost always
 * correctly rounded), the same special values.
 * @example
 * const out = new Float64Array(2);
 * expInto(new Float64Array([0, 1]), out); // out = [1, 2.718281828459045]
 */
export function expInto(
  x: Float64Array,
  out: Float64Array,
  n: number = checkLengths(x, out, "expInto"),
): void {
  const wasm = wasmKernels;
  if (wasm !== undefined && n >= WASM_MIN_EXP) {
    expWasm(wasm, x, out, n);
    return;
  }
  const tab = TAB;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v > -708 && v < 708) {
      const kd = v * 738.6598609351493 + 6755399441055744 - 6755399441055744;
      const k = kd | 0;
      const r = v - kd * 0.0013538030871131923 - kd * -8.204912251330243e-14;
      const j = 2098 + ((k & 511) << 1);
      const t = tab[j];
      const r2 = r * r;
      const tmp =
        tab[j + 1] +
        r +
        r2 * (0.5 + r * 0.16666666666666666) +
        r2 * r2 * (0.041666666666666664 + r * 0.008333333333333333);
      out[i] = (t + t * tmp) * tab[1074 + (k >> 9)];
    } else out[i] = scalarExp(v);
  }
}

/**
 * out[i] = log(x[i]) for i < n (default x.length; out may be x). Within 1 ulp of `Math.log` (correctly rounded
 * in our tests), the same special values. About 0.9x the time of a `Math.log` loop (bench/transcendental.ts).
 * @example
 * const out = new Float64Array(2);
 * logInto(new Float64Array([1, Math.E]), out); // out = [0, 1]
 */
export function logInto(
  x: Float64Array,
  out: Float64Array,
  n: number = checkLengths(x, out, "logInto"),
): void {
  const wasm = wasmKernels;
  if (wasm !== undefined && n >= WASM_MIN_LOG) {
    logWasm(wasm, x, 0, out, 0, n);
    return;
  }
  const w = words(x);
  const hiWord = HI;
  const tab = TAB;
  for (let i = 0; i < n; i++) {
    const hx = w[2 * i + hiWord];
    const v = x[i];
    if (hx >= 0x00100000 && hx < 0x7ff00000) {
      // logFast inline (V8 runs the hand-inlined loop faster than the call it would inline itself)
      const tmp = hx - 0x3fe69555;
      const c = 3636 + ((tmp >> 10) & 0x3fc);
      const k = tmp >> 20;
      const z = v * tab[1074 - k];
      const invc = tab[c];
      const zhi = z + 4294967296 - 4294967296;
      const r = zhi * invc - 1 + (z - zhi) * invc;
      const t1 = k * 0.6931471805598903 + tab[c + 1];
      const hi = t1 + r;
      const lo = t1 - hi + r;
      const r2 = r * r;
      const p =
        r2 *
        (-0.5 +
          r * 0.3333333333333333 +
          r2 * (-0.25 + r * 0.2 + r2 * (-0.16666666666666666 + r * 0.14285714285714285)));
      out[i] = hi + (lo + k * 5.497923018708371e-14 + tab[c + 2] + p);
    } else out[i] = logSpecial(v);
  }
}

/**
 * out[o + t] = log(x[i + t]) for t < n: logInto on runs inside larger arrays (the caller keeps the indices in
 * range; out may be x with o = i). The same doubles as logInto, entry for entry.
 * @example
 * const out = new Float64Array(3);
 * logRun(new Float64Array([5, 1, Math.E]), 1, out, 0, 2); // out = [0, 1, 0]
 */
export function logRun(x: Float64Array, i: number, out: Float64Array, o: number, n: number): void {
  const wasm = wasmKernels;
  if (wasm !== undefined && n >= WASM_MIN_LOG) logWasm(wasm, x, i, out, o, n);
  else if (i === 0 && o === 0) logInto(x, out, n);
  else logInto(x.subarray(i, i + n), out.subarray(o, o + n), n);
}

/**
 * out[o + t] = x[i + t * si] ** p for t < n, one exponent p (the strided form of powScalarExponentInto; the
 * caller keeps the indices in range). p = 0, 1, 2, 0.5 and -1 take exact shortcuts with `Math.pow`'s special
 * values; otherwise log is taken once per entry and p is split once. Within 1 ulp of `Math.pow`.
 * @example
 * const out = new Float64Array(2);
 * powScalarExponentRun(out, 0, new Float64Array([4, 0, 9]), 0, 2, -0.5, 2); // out = [0.5, 0.3333333333333333]
 */
export function powScalarExponentRun(
  out: Float64Array,
  o: number,
  x: Float64Array,
  i: number,
  si: number,
  p: number,
  n: number,
): void {
  if (p === 0) {
    out.fill(1, o, o + n); // NaN ** 0 is 1 too
  } else if (p === 1) {
    for (let t = 0, ia = i; t < n; t++, ia += si) out[o + t] = x[ia];
  } else if (p === 2) {
    for (let t = 0, ia = i; t < n; t++, ia += si) out[o + t] = x[ia] * x[ia];
  } else if (p === 0.5) {
    // pow(-0, 0.5) is +0 and pow(-Infinity, 0.5) is +Infinity, unlike sqrt
    for (let t = 0, ia = i; t < n; t++, ia += si) {
      const v = x[ia];
      out[o + t] = v === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.sqrt(v) + 0;
    }
  } else if (p === -1) {
    for (let t = 0, ia = i; t < n; t++, ia += si) out[o + t] = 1 / x[ia];
  } else if (p - p !== 0 || Math.abs(p) > 1e300) {
    // NaN or infinite p, or one too large to split (only 0, +-Infinity, 1 and NaN can come out)
    for (let t = 0, ia = i; t < n; t++, ia += si) out[o + t] = scalarPow(x[ia], p);
  } else powGeneralRun(out, o, x, i, si, p, n);
}

/**
 * powScalarExponentRun for a finite p with |p| <= 1e300 outside the shortcuts. Blocks of POW_BLOCK entries
 * in three passes (log|x| in double-double into scratch, its product with p, then the exp): the same
 * operations per entry as one fused loop, so the same doubles, in about 0.8x its time (short loop bodies
 * schedule better in V8).
 */
function powGeneralRun(
  out: Float64Array,
  o: number,
  x: Float64Array,
  i: number,
  si: number,
  p: number,
  n: number,
): void {
  const w = words(x);
  const hiWord = HI;
  const tab = TAB;
  const c = 134217729 * p;
  const ph = c - (c - p);
  const pl = p - ph;
  // a negative normal x takes the fast path too: |x|^p, negated for odd p, NaN for non-integer p
  const negative = isOddInteger(p) ? -1 : isInteger(p) ? 1 : Number.NaN;
  const wasm = wasmKernels;
  if (wasm !== undefined && si === 1 && n >= WASM_MIN_POW) {
    powScalarWasm(wasm, out, o, x, i, p, ph, pl, negative, n);
    return;
  }
  const his = POW_HI;
  const los = POW_LO;
  for (let t0 = 0; t0 < n; t0 += POW_BLOCK) {
    const m = Math.min(POW_BLOCK, n - t0);
    // pass 1: log|x| in double-double (NaN marks an entry outside the fast path, where it is finite)
    for (let t = 0, ia = i + t0 * si; t < m; t++, ia += si) {
      const hx = w[2 * ia + hiWord] & 0x7fffffff;
      if (hx >= 0x00100000 && hx < 0x7ff00000) {
        his[t] = logCore(Math.abs(x[ia]), hx, 0, tab);
        los[t] = tab[3634];
      } else his[t] = Number.NaN;
    }
    // pass 2: p log|x| in double-double (a NaN mark stays NaN)
    for (let t = 0; t < m; t++) {
      const l = his[t];
      const ehi = p * l;
      const d = 134217729 * l;
      const lh = d - (d - l);
      const ll = l - lh;
      his[t] = ehi;
      los[t] = ph * lh - ehi + ph * ll + pl * lh + pl * ll + p * los[t];
    }
    // pass 3: exp of it, the sign, and the special entries
    for (let t = 0, ia = i + t0 * si, io = o + t0; t < m; t++, ia += si, io++) {
      const ehi = his[t];
      const v = x[ia];
      if (!Number.isNaN(ehi)) {
        const z =
          ehi >= -746 && ehi <= 746 ? expCore(ehi, los[t], tab) : ehi > 0 ? Number.POSITIVE_INFINITY : 0;
        out[io] = v < 0 ? z * negative : z;
      } else out[io] = powSpecial(v, p);
    }
  }
}

/** Entries per block of powGeneralRun's passes (short loops run faster than one long one; 2048 is slower
 * again) and the block's scratch for log|x| and then p log|x| (high and low parts). */
const POW_BLOCK = 256;
const POW_HI = new Float64Array(POW_BLOCK);
const POW_LO = new Float64Array(POW_BLOCK);

/**
 * out[i] = x[i] ** p for i < x.length and one exponent p (out may be x). Within 1 ulp of `Math.pow`, its
 * special values exactly.
 * @example
 * const out = new Float64Array(2);
 * powScalarExponentInto(new Float64Array([4, 9]), -0.5, out); // out = [0.5, 0.3333333333333333]
 */
export function powScalarExponentInto(x: Float64Array, p: number, out: Float64Array): void {
  powScalarExponentRun(out, 0, x, 0, 1, p, checkLengths(x, out, "powScalarExponentInto"));
}

/**
 * out[o + t] = x[i + t * si] ** y[j + t * sj] for t < n: the `BinaryRunKernel` signature of
 * src/ops/kernels/broadcast.ts (the caller keeps the indices in range); sj = 0 goes to powScalarExponentRun.
 * Within 1 ulp of `Math.pow`, ECMAScript's special cases exactly.
 * @example
 * const out = new Float64Array(2);
 * powRun(out, 0, new Float64Array([2, 10]), 0, 1, new Float64Array([10, -1]), 0, 1, 2); // out = [1024, 0.1]
 */
export function powRun(
  out: Float64Array,
  o: number,
  x: Float64Array,
  i: number,
  si: number,
  y: Float64Array,
  j: number,
  sj: number,
  n: number,
): void {
  if (sj === 0 && n > 0) {
    powScalarExponentRun(out, o, x, i, si, y[j], n);
    return;
  }
  const wasm = wasmKernels;
  if (wasm !== undefined && si === 1 && sj === 1 && n >= WASM_MIN_POW) {
    powWasm(wasm, out, o, x, i, y, j, n);
    return;
  }
  const w = words(x);
  const hiWord = HI;
  const tab = TAB;
  for (let t = 0, ia = i, ib = j; t < n; t++, ia += si, ib += sj) {
    const hx = w[2 * ia + hiWord];
    const v = x[ia];
    const p = y[ib];
    if (hx >= 0x00100000 && hx < 0x7ff00000 && p - p === 0) {
      const l = logCore(v, hx, 0, tab);
      out[o + t] = expProduct(p, l, tab[3634], tab);
    } else out[o + t] = powSpecial(v, p);
  }
}

/**
 * out[i] = x[i] ** y[i] for i < x.length (out may be x or y; y as long as x). Within 1 ulp of `Math.pow`,
 * ECMAScript's special cases exactly.
 * @example
 * const out = new Float64Array(2);
 * powInto(new Float64Array([2, 10]), new Float64Array([10, -1]), out); // out = [1024, 0.1]
 */
export function powInto(x: Float64Array, y: Float64Array, out: Float64Array): void {
  const n = checkLengths(x, out, "powInto");
  if (y.length !== n) {
    throw new InvalidArgumentError(
      "powInto",
      `x has ${n} entries but y has ${y.length}; pass arrays of one length`,
    );
  }
  powRun(out, 0, x, 0, 1, y, 0, 1, n);
}
