/**
 * @file Table-driven float64 `exp`, `log` and `pow` in plain JavaScript, faster than V8's `Math.*` on arrays
 * and accurate to within 1 ulp of them (and correctly rounded in the vast majority of cases).
 *
 * Method (the classic one of table-driven libms; the code and tables here are our own):
 * - `exp(x)`: x = (k ln2)/128 + r with |r| <= ln2/256, exp(x) = 2^(k>>7) * 2^((k&127)/128) * exp(r); the 128
 *   values 2^(j/128) are stored as a double plus a relative tail, exp(r) - 1 is a degree-6 polynomial.
 * - `log(x)`: x = 2^k z with z in [0.7057, 1.4114), z split into 128 subintervals with centre c; r = z/c - 1
 *   is computed exactly (1/c has 9 significant bits), log(x) = k ln2 + log(c) + log1p(r) with log(c) stored in
 *   double-double and the r^2/2 term carried exactly, so log is returned as hi + lo with ~2^-68 relative error.
 * - `pow(x, y)`: exp(y log x) with y * log x carried in double-double into the exp reduction, so the result is
 *   within ~0.52 ulp for every input pair.
 * Tables are built at module load in double-double arithmetic (a few microseconds).
 *
 * Special cases follow ECMAScript's Number::exponentiate (`Math.pow(1, NaN)` and `Math.pow(±1, ±Infinity)` are
 * NaN, unlike C) and `Math.exp`/`Math.log`: every special value gives exactly what `Math.*` gives.
 */

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

/** ln 2 as a double-double. */
const LN2: [number, number] = [0.6931471805599453, 2.3190468138462996e-17];

// ---------------------------------------------------------------------------------------------------------
// Tables.

/** Powers of two 2^e for e in [-1074, 1023], indexed e + P2_BIAS. */
const P2_BIAS = 1074;
const P2 = new Float64Array(1074 + 1024);
{
  let v = 1;
  for (let e = 0; e <= 1023; e++, v *= 2) P2[e + P2_BIAS] = v;
  v = 1;
  for (let e = 0; e >= -1074; e--, v /= 2) P2[e + P2_BIAS] = v;
}

const EXP_BITS = 7;
const EXP_N = 1 << EXP_BITS;
/** 2^(j/128) rounded, and (2^(j/128) - EXP_T[j]) / EXP_T[j]. */
const EXP_T = new Float64Array(EXP_N);
const EXP_TAIL = new Float64Array(EXP_N);
{
  const roots: [number, number][] = [];
  let root: [number, number] = [2, 0];
  for (let b = 0; b < EXP_BITS; b++) {
    root = ddSqrt(root);
    roots.push(root); // 2^(1/2), 2^(1/4), ...
  }
  for (let j = 0; j < EXP_N; j++) {
    let v: [number, number] = [1, 0];
    for (let b = 0; b < EXP_BITS; b++) if ((j >> (EXP_BITS - 1 - b)) & 1) v = ddMul(v, roots[b]);
    EXP_T[j] = v[0];
    EXP_TAIL[j] = v[1] / v[0];
  }
}

/** ln2 with 34 significant bits (k * EXP_LN2HI_N is exact for |k| < 2^18) and the rest. */
const EXP_LN2HI = Math.round(LN2[0] * 2 ** 34) / 2 ** 34;
const EXP_LN2HI_N = EXP_LN2HI / EXP_N;
const EXP_LN2LO_N = (LN2[0] - EXP_LN2HI + LN2[1]) / EXP_N;
const EXP_INVLN2_N = EXP_N / LN2[0];
/** 1.5 * 2^52: adding and subtracting it rounds to an integer. */
const ROUND_SHIFT = 6755399441055744;
/** 2^32: adding and subtracting it rounds a number below 2 to a multiple of 2^-20 (21 significant bits). */
const SPLIT_SHIFT = 4294967296;

const LOG_BITS = 7;
const LOG_N = 1 << LOG_BITS;
/** High word of the bottom of the reduced range [0x1.69555p-1, 0x1.69555p0). */
const LOG_OFF = 0x3fe69555;
/** 1/c with 9 significant bits, and log(c) as a multiple of 2^-42 plus a tail. */
const LOG_INVC = new Float64Array(LOG_N);
const LOG_LOGC = new Float64Array(LOG_N);
const LOG_LOGC_TAIL = new Float64Array(LOG_N);
/** ln2 with 42 significant bits (k * LOG_LN2HI + LOG_LOGC[i] is exact) and the rest. */
const LOG_LN2HI = Math.round(LN2[0] * 2 ** 42) / 2 ** 42;
const LOG_LN2LO = LN2[0] - LOG_LN2HI + LN2[1];

// Little-endian hosts keep the high word of a float64 at the odd int32 index.
const HI = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? 1 : 0;
const scratch = new Float64Array(1);
const scratchWords = new Int32Array(scratch.buffer);

function fromHighWord(hi: number): number {
  scratchWords[HI] = hi;
  scratchWords[1 - HI] = 0;
  return scratch[0];
}

{
  for (let i = 0; i < LOG_N; i++) {
    // z in [a, b) has high word LOG_OFF + (i << 13) + (0 .. 2^13 - 1); the interval holding 1 gets c = 1
    const a = fromHighWord(LOG_OFF + (i << 13));
    const b = fromHighWord(LOG_OFF + ((i + 1) << 13));
    const invc = a <= 1 && 1 < b ? 1 : Math.round(512 / (a + b)) / 256;
    LOG_INVC[i] = invc;
    const logc = ddLog(invc);
    const value: [number, number] = [-logc[0], -logc[1]];
    const rounded = Math.round(value[0] * 2 ** 42) / 2 ** 42;
    LOG_LOGC[i] = rounded;
    LOG_LOGC_TAIL[i] = value[0] - rounded + value[1];
  }
}

// Log polynomial: log1p(r) - r + r^2/2 = r^3 (1/3 - r/4 + r^2/5 - ... - r^7/10), relative error < 2^-75.
const L3 = 1 / 3;
const L4 = -1 / 4;
const L5 = 1 / 5;
const L6 = -1 / 6;
const L7 = 1 / 7;
const L8 = -1 / 8;
const L9 = 1 / 9;
const L10 = -1 / 10;
// Exp polynomial: exp(r) - 1 - r = r^2/2 + ... + r^6/720, relative error < 2^-71 for |r| <= ln2/256.
const E2 = 1 / 2;
const E3 = 1 / 6;
const E4 = 1 / 24;
const E5 = 1 / 120;
const E6 = 1 / 720;

// ---------------------------------------------------------------------------------------------------------
// Cores.

/** The low part of the last logCore result. */
let logTail = 0;

/**
 * log(x) + kExtra * ln2 for a positive normal x with high word `hx`, returned as hi (the value) + `logTail`;
 * relative error of hi + lo below 2^-68.
 */
function logCore(x: number, hx: number, kExtra: number): number {
  const tmp = hx - LOG_OFF;
  const i = (tmp >> 13) & (LOG_N - 1);
  const kz = tmp >> 20;
  const z = x * P2[P2_BIAS - kz];
  const k = kz + kExtra;
  const invc = LOG_INVC[i];
  const zhi = z + SPLIT_SHIFT - SPLIT_SHIFT;
  const zlo = z - zhi;
  const rhi = zhi * invc - 1;
  const rlo = zlo * invc;
  const r = rhi + rlo; // exact
  const t1 = k * LOG_LN2HI + LOG_LOGC[i]; // exact
  const t2 = t1 + r;
  const v = t2 - t1;
  const lo2 = t1 - (t2 - v) + (r - v);
  const lo1 = k * LOG_LN2LO + LOG_LOGC_TAIL[i];
  const ar = -0.5 * r;
  const ar2 = r * ar;
  const arhi = -0.5 * rhi;
  const arhi2 = rhi * arhi; // exact
  const hi = t2 + arhi2;
  const lo3 = rlo * (ar + arhi);
  const lo4 = t2 - hi + arhi2;
  const r2 = r * r;
  const p = r2 * r * (L3 + r * L4 + r2 * (L5 + r * L6 + r2 * (L7 + r * L8 + r2 * (L9 + r * L10))));
  const lo = lo1 + lo2 + lo3 + lo4 + p;
  const y = hi + lo;
  logTail = hi - y + lo;
  return y;
}

/** Result of exp(hi + lo) whose scale falls outside the normal range: overflow or (gradual) underflow. */
function expScaled(t: number, tmp: number, e: number): number {
  if (e > 0) return (t + t * tmp) * P2[P2_BIAS + e - 64] * 18446744073709551616; // * 2^64
  // Subnormal result: compute y = value * 2^1022 and round it on the subnormal grid by adding 1.
  const scale = t * P2[P2_BIAS + e + 1022];
  const y = scale + scale * tmp;
  if (y >= 1) return y * P2[P2_BIAS - 1022];
  let lo = scale - y + scale * tmp;
  const hi = 1 + y;
  lo = 1 - hi + y + lo;
  return (hi + lo - 1) * P2[P2_BIAS - 1022];
}

/** exp(hi + lo) for |hi| <= 746 (lo a small correction; |lo| < 2^-40 |hi| or tiny). */
function expCore(hi: number, lo: number): number {
  const kd = hi * EXP_INVLN2_N + ROUND_SHIFT - ROUND_SHIFT;
  const k = kd | 0;
  const r = hi - kd * EXP_LN2HI_N - kd * EXP_LN2LO_N + lo;
  const j = k & (EXP_N - 1);
  const e = k >> EXP_BITS;
  const t = EXP_T[j];
  const r2 = r * r;
  const tmp = EXP_TAIL[j] + r + r2 * (E2 + r * E3) + r2 * r2 * (E4 + r * E5 + r2 * E6);
  if (e > -1022 && e < 1000) return (t + t * tmp) * P2[P2_BIAS + e];
  return expScaled(t, tmp, e);
}

/** exp(hi + lo) for any hi (lo the double-double tail of hi). */
function expDD(hi: number, lo: number): number {
  if (hi >= -746 && hi <= 746) return expCore(hi, lo);
  return hi > 0 ? Infinity : 0;
}

/** High word of a scalar. */
function highWord(x: number): number {
  scratch[0] = x;
  return scratchWords[HI];
}

/** The 32-bit view of a Float64Array (shares its memory). */
function words(x: Float64Array): Int32Array {
  return new Int32Array(x.buffer, x.byteOffset, x.length * 2);
}

// ---------------------------------------------------------------------------------------------------------
// Scalar functions (same results as the array kernels).

/**
 * exp(x), within 1 ulp of `Math.exp` (and almost always correctly rounded); same special values.
 * @example
 * scalarExp(1); // 2.718281828459045
 */
export function scalarExp(x: number): number {
  if (x >= -746 && x <= 746) return expCore(x, 0);
  return x > 0 ? Infinity : x < 0 ? 0 : x; // NaN stays NaN
}

/** log of a non-normal or non-positive x (0, subnormal, negative, Infinity, NaN). */
function logSpecial(x: number): number {
  if (x > 0 && x < 2.2250738585072014e-308) {
    const y = x * 4503599627370496; // 2^52
    return logCore(y, highWord(y), -52);
  }
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  return NaN; // negative or NaN
}

/**
 * Natural logarithm, within 1 ulp of `Math.log` (and almost always correctly rounded); same special values.
 * @example
 * scalarLog(Math.E); // 1
 */
export function scalarLog(x: number): number {
  const hx = highWord(x);
  if (hx >= 0x00100000 && hx < 0x7ff00000) return logCore(x, hx, 0);
  return logSpecial(x);
}

/** Whether a finite y is an integer, and whether it is odd. */
function isInteger(y: number): boolean {
  return Math.floor(y) === y;
}

function isOddInteger(y: number): boolean {
  return isInteger(y) && Math.abs(y) < 9007199254740992 && Math.abs(y % 2) === 1;
}

/** |x|^y via exp(y log|x|) for finite nonzero x and finite y (no sign handling). */
function powAbsolute(ax: number, y: number): number {
  const hx = highWord(ax);
  if (hx >= 0x00100000) return expProduct(y, logCore(ax, hx, 0), logTail);
  const s = ax * 4503599627370496; // 2^52
  return expProduct(y, logCore(s, highWord(s), -52), logTail);
}

/** exp(y * (l + lt)) with the product carried in double-double. */
function expProduct(y: number, l: number, lt: number): number {
  const ehi = y * l;
  let c = SPLITTER * y;
  const yh = c - (c - y);
  const yl = y - yh;
  c = SPLITTER * l;
  const lh = c - (c - l);
  const ll = l - lh;
  const elo = yh * lh - ehi + yh * ll + yl * lh + yl * ll + y * lt;
  return expDD(ehi, elo);
}

/** Math.pow(x, y) for any pair outside the fast path: ECMAScript's special cases, then |x|^y with a sign. */
function powSpecial(x: number, y: number): number {
  if (y !== y) return NaN;
  if (y === 0) return 1;
  if (x !== x) return NaN;
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
 * x^y (`Math.pow`), within 1 ulp of `Math.pow` for every input pair (about 0.52 ulp from the exact value);
 * ECMAScript's special cases exactly.
 * @example
 * scalarPow(2, 0.5); // 1.4142135623730951
 */
export function scalarPow(x: number, y: number): number {
  const hx = highWord(x);
  if (hx >= 0x00100000 && hx < 0x7ff00000 && y - y === 0) {
    const l = logCore(x, hx, 0);
    return expProduct(y, l, logTail);
  }
  return powSpecial(x, y);
}

// ---------------------------------------------------------------------------------------------------------
// Array kernels.

function checkLengths(x: Float64Array, out: Float64Array, name: string): number {
  if (out.length < x.length) {
    throw new RangeError(`${name}: out has ${out.length} entries, fewer than the input's ${x.length}`);
  }
  return x.length;
}

/**
 * out[i] = exp(x[i]) for every entry (out may be x). Within 1 ulp of `Math.exp`, same special values.
 * @example
 * const out = new Float64Array(2);
 * expInto(new Float64Array([0, 1]), out); // out = [1, 2.718281828459045]
 */
export function expInto(x: Float64Array, out: Float64Array): void {
  const n = checkLengths(x, out, "expInto");
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v > -708 && v < 708) {
      const kd = v * EXP_INVLN2_N + ROUND_SHIFT - ROUND_SHIFT;
      const k = kd | 0;
      const r = v - kd * EXP_LN2HI_N - kd * EXP_LN2LO_N;
      const j = k & (EXP_N - 1);
      const t = EXP_T[j];
      const r2 = r * r;
      const tmp = EXP_TAIL[j] + r + r2 * (E2 + r * E3) + r2 * r2 * (E4 + r * E5 + r2 * E6);
      out[i] = (t + t * tmp) * P2[P2_BIAS + (k >> EXP_BITS)];
    } else out[i] = scalarExp(v);
  }
}

/**
 * out[i] = log(x[i]) for every entry (out may be x). Within 1 ulp of `Math.log`, same special values.
 * @example
 * const out = new Float64Array(2);
 * logInto(new Float64Array([1, Math.E]), out); // out = [0, 1]
 */
export function logInto(x: Float64Array, out: Float64Array): void {
  const n = checkLengths(x, out, "logInto");
  const w = words(x);
  for (let i = 0; i < n; i++) {
    const hx = w[2 * i + HI];
    const v = x[i];
    out[i] = hx >= 0x00100000 && hx < 0x7ff00000 ? logCore(v, hx, 0) : logSpecial(v);
  }
}

/**
 * out[i] = x[i] ** p for one exponent p (out may be x): the log/exp kernels with p split once; p = 0, 1, 2, 0.5
 * and -1 are exact shortcuts with `Math.pow`'s special values. Within 1 ulp of `Math.pow`.
 * @example
 * const out = new Float64Array(2);
 * powScalarExponentInto(new Float64Array([4, 9]), -0.5, out); // out = [0.5, 0.3333333333333333]
 */
export function powScalarExponentInto(x: Float64Array, p: number, out: Float64Array): void {
  const n = checkLengths(x, out, "powScalarExponentInto");
  if (p === 0) {
    out.fill(1, 0, n); // NaN ** 0 is 1 too
    return;
  }
  if (p === 1) {
    if (out !== x) out.set(x);
    return;
  }
  if (p === 2) {
    for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
    return;
  }
  if (p === 0.5) {
    // pow(-0, 0.5) is +0 and pow(-Infinity, 0.5) is +Infinity, unlike sqrt
    for (let i = 0; i < n; i++) {
      const v = x[i];
      out[i] = v === -Infinity ? Infinity : Math.sqrt(v) + 0;
    }
    return;
  }
  if (p === -1) {
    for (let i = 0; i < n; i++) out[i] = 1 / x[i];
    return;
  }
  if (p - p !== 0) {
    for (let i = 0; i < n; i++) out[i] = powSpecial(x[i], p);
    return;
  }
  const w = words(x);
  let c = SPLITTER * p;
  const ph = c - (c - p);
  const pl = p - ph;
  // a negative normal x takes the fast path too: |x|^p, negated for odd p, NaN for non-integer p
  const negative = isOddInteger(p) ? -1 : isInteger(p) ? 1 : NaN;
  for (let i = 0; i < n; i++) {
    const hx = w[2 * i + HI] & 0x7fffffff;
    const v = x[i];
    if (hx >= 0x00100000 && hx < 0x7ff00000) {
      const l = logCore(Math.abs(v), hx, 0);
      const ehi = p * l;
      c = SPLITTER * l;
      const lh = c - (c - l);
      const ll = l - lh;
      const elo = ph * lh - ehi + ph * ll + pl * lh + pl * ll + p * logTail;
      const z = ehi > -708 && ehi < 708 ? expCore(ehi, elo) : expDD(ehi, elo);
      out[i] = v < 0 ? z * negative : z;
    } else out[i] = powSpecial(v, p);
  }
}

/**
 * out[i] = x[i] ** y[i] (out may be x or y); x and y of the same length. Within 1 ulp of `Math.pow`,
 * ECMAScript's special cases exactly.
 * @example
 * const out = new Float64Array(2);
 * powInto(new Float64Array([2, 10]), new Float64Array([10, -1]), out); // out = [1024, 0.1]
 */
export function powInto(x: Float64Array, y: Float64Array, out: Float64Array): void {
  const n = checkLengths(x, out, "powInto");
  if (y.length !== n) throw new RangeError(`powInto: x has ${n} entries but y has ${y.length}`);
  const w = words(x);
  for (let i = 0; i < n; i++) {
    const hx = w[2 * i + HI];
    const v = x[i];
    const p = y[i];
    if (hx >= 0x00100000 && hx < 0x7ff00000 && p - p === 0) {
      const l = logCore(v, hx, 0);
      out[i] = expProduct(p, l, logTail);
    } else out[i] = powSpecial(v, p);
  }
}
