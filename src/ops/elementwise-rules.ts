/**
 * @file Elementwise derivative rules: for each function its value, first and second derivatives, side by
 * side. One table serves scalars (AdjFloat) and arrays (applied entry by entry).
 */

import { scalarExp, scalarLog, scalarPow } from "./kernels/transcendental.js";

/**
 * A unary elementwise rule y = f(x). Derivatives may use the output y to save work.
 *
 * @example
 * const exp: UnaryRule = { name: "exp", f: Math.exp, df: (_x, y) => y, d2f: (_x, y) => y, domain: [-5, 5] };
 */
export interface UnaryRule {
  readonly name: string;
  /** y = f(x) */
  f(x: number): number;
  /** dy/dx */
  df(x: number, y: number): number;
  /** d2y/dx2 */
  d2f(x: number, y: number): number;
  /** An interval where the function is smooth, for the rule checker. */
  readonly domain: readonly [number, number];
}

/**
 * A binary elementwise rule z = f(a, b) with all first and second partial derivatives.
 *
 * @example
 * const multiply: BinaryRule = { name: "multiply", f: (a, b) => a * b, da: (_a, b) => b, db: (a) => a, daa: () => 0, dab: () => 1, dbb: () => 0, domain: [[-3, 3], [-3, 3]] };
 */
export interface BinaryRule {
  readonly name: string;
  /** z = f(a, b) */
  f(a: number, b: number): number;
  /** dz/da */
  da(a: number, b: number, z: number): number;
  /** dz/db */
  db(a: number, b: number, z: number): number;
  /** d2z/da2 */
  daa(a: number, b: number, z: number): number;
  /** d2z/dadb */
  dab(a: number, b: number, z: number): number;
  /** d2z/db2 */
  dbb(a: number, b: number, z: number): number;
  /** Intervals for a and b where the function is smooth, for the rule checker. */
  readonly domain: readonly [readonly [number, number], readonly [number, number]];
  /** For the checker: points closer than this to a kink (e.g. a = b for maximum) are avoided. */
  readonly kink?: (a: number, b: number) => number;
}

const LN2 = Math.LN2;
const LN10 = Math.LN10;

// ---- unary rules: value; first derivative; second derivative ----

export const negativeRule: UnaryRule = {
  name: "negative",
  f: (x) => -x,
  df: () => -1, // d(-x) = -1
  d2f: () => 0,
  domain: [-10, 10],
};
export const absoluteRule: UnaryRule = {
  name: "absolute",
  f: Math.abs,
  df: (x) => Math.sign(x), // d|x| = sign(x) (0 at 0, as NumPy's sign)
  d2f: () => 0,
  domain: [0.1, 10],
};
export const expRule: UnaryRule = {
  name: "exp",
  f: scalarExp,
  df: (_x, y) => y, // d e^x = e^x
  d2f: (_x, y) => y,
  domain: [-5, 5],
};
export const expm1Rule: UnaryRule = {
  name: "expm1",
  f: Math.expm1,
  df: (x) => Math.exp(x), // d (e^x - 1) = e^x
  d2f: (x) => Math.exp(x),
  domain: [-5, 5],
};
export const logRule: UnaryRule = {
  name: "log",
  f: scalarLog,
  df: (x) => 1 / x, // d ln x = 1/x; d2 = -1/x^2
  d2f: (x) => -1 / (x * x),
  domain: [0.1, 10],
};
export const log1pRule: UnaryRule = {
  name: "log1p",
  f: Math.log1p,
  df: (x) => 1 / (1 + x), // d ln(1+x) = 1/(1+x); d2 = -1/(1+x)^2
  d2f: (x) => -1 / ((1 + x) * (1 + x)),
  domain: [-0.9, 10],
};
export const log2Rule: UnaryRule = {
  name: "log2",
  f: Math.log2,
  df: (x) => 1 / (x * LN2), // d log2 x = 1/(x ln 2)
  d2f: (x) => -1 / (x * x * LN2),
  domain: [0.1, 10],
};
export const log10Rule: UnaryRule = {
  name: "log10",
  f: Math.log10,
  df: (x) => 1 / (x * LN10), // d log10 x = 1/(x ln 10)
  d2f: (x) => -1 / (x * x * LN10),
  domain: [0.1, 10],
};
export const sqrtRule: UnaryRule = {
  name: "sqrt",
  f: Math.sqrt,
  df: (_x, y) => 0.5 / y, // d sqrt x = 1/(2 sqrt x); d2 = -1/(4 x sqrt x)
  d2f: (x, y) => -0.25 / (x * y),
  domain: [0.1, 10],
};
export const cbrtRule: UnaryRule = {
  name: "cbrt",
  f: Math.cbrt,
  df: (_x, y) => 1 / (3 * y * y), // d x^(1/3) = 1/(3 y^2); d2 = -2/(9 y^5)
  d2f: (_x, y) => -2 / (9 * y * y * y * y * y),
  domain: [0.1, 10],
};
export const squareRule: UnaryRule = {
  name: "square",
  f: (x) => x * x,
  df: (x) => 2 * x, // d x^2 = 2x; d2 = 2
  d2f: () => 2,
  domain: [-10, 10],
};
export const reciprocalRule: UnaryRule = {
  name: "reciprocal",
  f: (x) => 1 / x,
  df: (x) => -1 / (x * x), // d (1/x) = -1/x^2; d2 = 2/x^3
  d2f: (x) => 2 / (x * x * x),
  domain: [0.2, 10],
};
export const sinRule: UnaryRule = {
  name: "sin",
  f: Math.sin,
  df: Math.cos, // d sin = cos; d2 = -sin
  d2f: (_x, y) => -y,
  domain: [-6, 6],
};
export const cosRule: UnaryRule = {
  name: "cos",
  f: Math.cos,
  df: (x) => -Math.sin(x), // d cos = -sin; d2 = -cos
  d2f: (_x, y) => -y,
  domain: [-6, 6],
};
export const tanRule: UnaryRule = {
  name: "tan",
  f: Math.tan,
  df: (_x, y) => 1 + y * y, // d tan = 1 + tan^2; d2 = 2 tan (1 + tan^2)
  d2f: (_x, y) => 2 * y * (1 + y * y),
  domain: [-1.3, 1.3],
};
export const arcsinRule: UnaryRule = {
  name: "arcsin",
  f: Math.asin,
  df: (x) => 1 / Math.sqrt(1 - x * x), // d asin = (1-x^2)^(-1/2); d2 = x (1-x^2)^(-3/2)
  d2f: (x) => x / ((1 - x * x) * Math.sqrt(1 - x * x)),
  domain: [-0.9, 0.9],
};
export const arccosRule: UnaryRule = {
  name: "arccos",
  f: Math.acos,
  df: (x) => -1 / Math.sqrt(1 - x * x), // d acos = -(1-x^2)^(-1/2); d2 = -x (1-x^2)^(-3/2)
  d2f: (x) => -x / ((1 - x * x) * Math.sqrt(1 - x * x)),
  domain: [-0.9, 0.9],
};
export const arctanRule: UnaryRule = {
  name: "arctan",
  f: Math.atan,
  df: (x) => 1 / (1 + x * x), // d atan = 1/(1+x^2); d2 = -2x/(1+x^2)^2
  d2f: (x) => (-2 * x) / ((1 + x * x) * (1 + x * x)),
  domain: [-10, 10],
};
export const sinhRule: UnaryRule = {
  name: "sinh",
  f: Math.sinh,
  df: Math.cosh, // d sinh = cosh; d2 = sinh
  d2f: (_x, y) => y,
  domain: [-4, 4],
};
export const coshRule: UnaryRule = {
  name: "cosh",
  f: Math.cosh,
  df: Math.sinh, // d cosh = sinh; d2 = cosh
  d2f: (_x, y) => y,
  domain: [-4, 4],
};
export const tanhRule: UnaryRule = {
  name: "tanh",
  f: Math.tanh,
  df: (_x, y) => 1 - y * y, // d tanh = 1 - tanh^2; d2 = -2 tanh (1 - tanh^2)
  d2f: (_x, y) => -2 * y * (1 - y * y),
  domain: [-4, 4],
};
export const arcsinhRule: UnaryRule = {
  name: "arcsinh",
  f: Math.asinh,
  df: (x) => 1 / Math.sqrt(x * x + 1), // d asinh = (x^2+1)^(-1/2); d2 = -x (x^2+1)^(-3/2)
  d2f: (x) => -x / ((x * x + 1) * Math.sqrt(x * x + 1)),
  domain: [-10, 10],
};
export const arccoshRule: UnaryRule = {
  name: "arccosh",
  f: Math.acosh,
  df: (x) => 1 / Math.sqrt(x * x - 1), // d acosh = (x^2-1)^(-1/2); d2 = -x (x^2-1)^(-3/2)
  d2f: (x) => -x / ((x * x - 1) * Math.sqrt(x * x - 1)),
  domain: [1.2, 10],
};
export const arctanhRule: UnaryRule = {
  name: "arctanh",
  f: Math.atanh,
  df: (x) => 1 / (1 - x * x), // d atanh = 1/(1-x^2); d2 = 2x/(1-x^2)^2
  d2f: (x) => (2 * x) / ((1 - x * x) * (1 - x * x)),
  domain: [-0.9, 0.9],
};

/** Every unary rule, by NumPy name. */
export const unaryRules = {
  negative: negativeRule,
  absolute: absoluteRule,
  exp: expRule,
  expm1: expm1Rule,
  log: logRule,
  log1p: log1pRule,
  log2: log2Rule,
  log10: log10Rule,
  sqrt: sqrtRule,
  cbrt: cbrtRule,
  square: squareRule,
  reciprocal: reciprocalRule,
  sin: sinRule,
  cos: cosRule,
  tan: tanRule,
  arcsin: arcsinRule,
  arccos: arccosRule,
  arctan: arctanRule,
  sinh: sinhRule,
  cosh: coshRule,
  tanh: tanhRule,
  arcsinh: arcsinhRule,
  arccosh: arccoshRule,
  arctanh: arctanhRule,
} as const;

// ---- binary rules: value; da, db; daa, dab, dbb ----

const zero = () => 0;

export const addRule: BinaryRule = {
  name: "add",
  f: (a, b) => a + b,
  da: () => 1, // d(a+b) = da + db
  db: () => 1,
  daa: zero,
  dab: zero,
  dbb: zero,
  domain: [
    [-10, 10],
    [-10, 10],
  ],
};
export const subtractRule: BinaryRule = {
  name: "subtract",
  f: (a, b) => a - b,
  da: () => 1, // d(a-b) = da - db
  db: () => -1,
  daa: zero,
  dab: zero,
  dbb: zero,
  domain: [
    [-10, 10],
    [-10, 10],
  ],
};
export const multiplyRule: BinaryRule = {
  name: "multiply",
  f: (a, b) => a * b,
  da: (_a, b) => b, // d(ab) = b da + a db; d2/dadb = 1
  db: (a) => a,
  daa: zero,
  dab: () => 1,
  dbb: zero,
  domain: [
    [-10, 10],
    [-10, 10],
  ],
};
export const divideRule: BinaryRule = {
  name: "divide",
  f: (a, b) => a / b,
  da: (_a, b) => 1 / b, // d(a/b) = da/b - a db/b^2; dab = -1/b^2; dbb = 2a/b^3
  db: (a, b) => -a / (b * b),
  daa: zero,
  dab: (_a, b) => -1 / (b * b),
  dbb: (a, b) => (2 * a) / (b * b * b),
  domain: [
    [-10, 10],
    [0.2, 10],
  ],
};
/**
 * z = a^b. Its ln a (in db, dab and dbb) is the table logarithm `scalarLog` (within 1 ulp of `Math.log`,
 * correctly rounded in >99.97% of cases, the same special values), whose entries the batch kernels
 * `logInto` / `logRun` reproduce bit for bit: the array loops (elementwise-loops) take ln a for a block of
 * entries with one kernel call, scalar segments call these functions, and compiled code recognises the
 * table logarithm by `powerRule.db(a, 1, 1) === scalarLog(a)` (1 * ln a); so every path gives the same bits.
 */
export const powerRule: BinaryRule = {
  name: "power",
  f: scalarPow,
  // With z = a^b (and a != 0 so that a^(b-1) = z / a, saving the powers):
  // d(a^b) = b a^(b-1) da + a^b ln(a) db; for b = 2, f_a = 2 a exactly (autograd's g * 2 * a ** 1, and no
  // z / a: exact where z overflows or underflows)
  da: (a, b, z) => (b === 2 ? 2 * a : b === 0 ? 0 : a === 0 ? b * a ** (b - 1) : (b * z) / a),
  db: (a, _b, z) => (z === 0 ? 0 : z * scalarLog(a)),
  // daa = b (b-1) a^(b-2); dab = a^(b-1) (1 + b ln a); dbb = a^b ln(a)^2
  // for b = 2, f_aa = 2 (what (2 z) / (a a) gives wherever z = a a neither overflows nor underflows to 0)
  daa: (a, b, z) =>
    b === 2 ? 2 : b === 0 || b === 1 ? 0 : a === 0 ? b * (b - 1) * a ** (b - 2) : (b * (b - 1) * z) / (a * a),
  dab: (a, b, z) => (a === 0 ? a ** (b - 1) * (1 + b * scalarLog(a)) : (z / a) * (1 + b * scalarLog(a))),
  dbb: (a, _b, z) => (z === 0 ? 0 : z * scalarLog(a) ** 2),
  domain: [
    [0.5, 4],
    [-2, 2],
  ],
};
export const arctan2Rule: BinaryRule = {
  name: "arctan2",
  f: Math.atan2,
  // z = atan2(a, b): da = b/r2, db = -a/r2 with r2 = a^2 + b^2
  da: (a, b) => b / (a * a + b * b),
  db: (a, b) => -a / (a * a + b * b),
  // daa = -2ab/r2^2, dab = (a^2 - b^2)/r2^2, dbb = 2ab/r2^2
  daa: (a, b) => (-2 * a * b) / ((a * a + b * b) * (a * a + b * b)),
  dab: (a, b) => (a * a - b * b) / ((a * a + b * b) * (a * a + b * b)),
  dbb: (a, b) => (2 * a * b) / ((a * a + b * b) * (a * a + b * b)),
  domain: [
    [0.5, 5],
    [-5, 5],
  ],
};
export const hypotRule: BinaryRule = {
  name: "hypot",
  f: Math.hypot,
  // z = sqrt(a^2 + b^2): da = a/z, db = b/z; daa = b^2/z^3, dab = -ab/z^3, dbb = a^2/z^3
  da: (a, _b, z) => a / z,
  db: (_a, b, z) => b / z,
  daa: (_a, b, z) => (b * b) / (z * z * z),
  dab: (a, b, z) => (-a * b) / (z * z * z),
  dbb: (a, _b, z) => (a * a) / (z * z * z),
  domain: [
    [0.5, 5],
    [0.5, 5],
  ],
};
export const minimumRule: BinaryRule = {
  name: "minimum",
  f: (a, b) => Math.min(a, b),
  // d min(a, b) = da where a < b, db where b < a, half of each at a tie (as autograd)
  da: (a, b) => (a < b ? 1 : a > b ? 0 : 0.5),
  db: (a, b) => (b < a ? 1 : b > a ? 0 : 0.5),
  daa: zero,
  dab: zero,
  dbb: zero,
  domain: [
    [-10, 10],
    [-10, 10],
  ],
  kink: (a, b) => Math.abs(a - b),
};
export const maximumRule: BinaryRule = {
  name: "maximum",
  f: (a, b) => Math.max(a, b),
  // d max(a, b) = da where a > b, db where b > a, half of each at a tie (as autograd)
  da: (a, b) => (a > b ? 1 : a < b ? 0 : 0.5),
  db: (a, b) => (b > a ? 1 : b < a ? 0 : 0.5),
  daa: zero,
  dab: zero,
  dbb: zero,
  domain: [
    [-10, 10],
    [-10, 10],
  ],
  kink: (a, b) => Math.abs(a - b),
};

/** Every binary rule, by NumPy name. */
export const binaryRules = {
  add: addRule,
  subtract: subtractRule,
  multiply: multiplyRule,
  divide: divideRule,
  power: powerRule,
  arctan2: arctan2Rule,
  hypot: hypotRule,
  minimum: minimumRule,
  maximum: maximumRule,
} as const;
