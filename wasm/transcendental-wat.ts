/**
 * @file The WebAssembly SIMD (f64x2) source of the exp / log / pow kernels of
 * src/ops/kernels/transcendental.ts, written as a small TypeScript program that prints the WAT text (so the
 * shared cores are written once and each line mirrors the JavaScript expression it must reproduce).
 * `npm run build:wasm` (wasm/build.ts) assembles it with wabt into src/ops/kernels/transcendental-wasm-binary.ts.
 *
 * Exactness: every kernel performs, lane by lane, the same IEEE double operations in the same order as the
 * JavaScript kernel it replaces (wasm f64 arithmetic is deterministic and never fused; no relaxed SIMD), with
 * the same table (copied into memory at instantiation). Where JavaScript indexes a power-of-two table, the
 * kernel builds the same power of two from its bits, or applies it to the exponent field where the product is
 * exact either way. Lanes outside the JavaScript fast path (specials, the overflow/underflow edges, NaN
 * results) are listed by index, and the caller recomputes those entries with the JavaScript scalar code.
 *
 * Memory (bytes): the table at 0 (4660 doubles, copied in by the caller), the constant pool at POOL (a data
 * segment), the list of special indices at IDX (i32), the input/output buffer X, the exponents Y and pow's
 * scratch L and LT, `capacity` doubles each; two 64 KiB pages.
 *
 * Performance notes (V8's code for x64 SSE/AVX): constants are loaded from the pool where used (a v128.const,
 * or a splat held in a local, is rebuilt from immediates in every iteration: 3 instructions against 1); no
 * i64x2.shr_s (SSE has no 64-bit arithmetic shift; V8 emulates it in 6 instructions), no float-to-int
 * conversion (k comes from the bits of the rounding sum), i64x2.bitmask for the special test; pow runs as
 * three loops (log, product, exp), which overlap better than one long dependency chain.
 */

/** Byte offsets and sizes of the module's memory (written into transcendental-wasm-binary.ts). */
export const LAYOUT = {
  idx: 40960,
  x: 65536,
  y: 81920,
  l: 98304,
  lt: 114688,
  capacity: 2048,
  pages: 2,
} as const;

/** Offsets (in doubles) of the tables in transcendental.ts's TAB. */
const EXP_BASE = 2098;
const LOG_BASE = 3122;
const LOG256_BASE = 3636;

/** A double as an exact WAT hex-float literal. */
export function hexFloat(x: number): string {
  if (Number.isNaN(x) || !Number.isFinite(x)) throw new Error(`hexFloat: ${x} is not finite`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? "-" : "";
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const mantissa = (bits & 0xfffffffffffffn).toString(16).padStart(13, "0");
  if (exponent === 0) return `${sign}0x0.${mantissa}p-1022`;
  return `${sign}0x1.${mantissa}p${exponent - 1023}`;
}

/** A WAT expression in folded form (pasted wherever it is used: bind one used twice to a local first). */
type Expr = string;

const bin =
  (op: string) =>
  (a: Expr, b: Expr): Expr =>
    `(${op} ${a} ${b})`;
const add = bin("f64x2.add");
const sub = bin("f64x2.sub");
const mul = bin("f64x2.mul");
const and = bin("v128.and");
/** Logical shift right (SSE has no 64-bit arithmetic shift: V8 emulates i64x2.shr_s in 6 instructions). */
const shrU = (a: Expr, s: number): Expr => `(i64x2.shr_u ${a} (i32.const ${s}))`;
const shl = (a: Expr, s: number): Expr => `(i64x2.shl ${a} (i32.const ${s}))`;
/** Lanes 0 of a and b (low halves) / lanes 1 (high halves) as one f64x2. */
const lows = (a: Expr, b: Expr): Expr => `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${a} ${b})`;
const highs = (a: Expr, b: Expr): Expr =>
  `(i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 ${a} ${b})`;

/** Byte offset of the constant pool (after the table, before IDX): 16 bytes (two equal lanes) per constant. */
const POOL = 38912;

/**
 * The constants of the module, stored by a data segment and loaded with v128.load where used (one
 * instruction; V8 rebuilds a v128.const or a splatted local from an immediate in 3 instructions in every
 * iteration, and a v128.load64_splat in 2).
 */
class Pool {
  private readonly bits = new Map<bigint, number>();

  /** The splat-load of the 64-bit pattern `bits`. */
  load(bits: bigint): Expr {
    let at = this.bits.get(bits);
    if (at === undefined) {
      at = POOL + 16 * this.bits.size;
      if (at + 16 > LAYOUT.idx) throw new Error("transcendental-wat: constant pool full");
      this.bits.set(bits, at);
    }
    return `(v128.load offset=${at} (i32.const 0))`;
  }

  /** The data segment that stores the pool. */
  segment(): string {
    const bytes = new DataView(new ArrayBuffer(16 * this.bits.size));
    for (const [bits, at] of this.bits) {
      bytes.setBigUint64(at - POOL, BigInt.asUintN(64, bits), true);
      bytes.setBigUint64(at - POOL + 8, BigInt.asUintN(64, bits), true);
    }
    let text = "";
    for (let i = 0; i < bytes.byteLength; i++) text += `\\${bytes.getUint8(i).toString(16).padStart(2, "0")}`;
    return `(data (i32.const ${POOL}) "${text}")`;
  }
}

/** The bits of a double. */
function doubleBits(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

/** One exported kernel: its locals and body. */
class Kernel {
  private readonly v128s = new Set<string>();
  private readonly splats = new Map<string, Expr>();
  private readonly body: string[] = [];
  private readonly loops: string[][] = [];

  constructor(
    readonly name: string,
    readonly params: readonly [string, "f64" | "i32"][],
    private readonly pool: Pool,
  ) {}

  /** A v128 local. */
  get(name: string): Expr {
    return `(local.get $${name})`;
  }

  /** Sets v128 local `name` to e (declaring it). */
  let(name: string, e: Expr): Expr {
    this.v128s.add(name);
    this.body.push(`(local.set $${name} ${e})`);
    return this.get(name);
  }

  /** A constant double in both lanes. */
  f(x: number): Expr {
    return this.pool.load(doubleBits(x));
  }

  /** A constant int64 in both lanes. */
  i64(x: bigint): Expr {
    return this.pool.load(x);
  }

  /** A splat of an f64 parameter, held in a local set before the loop. */
  param(name: string): Expr {
    const local = `s_${name}`;
    this.splats.set(local, `(f64x2.splat (local.get $${name}))`);
    return this.get(local);
  }

  /** Appends a raw statement. */
  push(statement: string): void {
    this.body.push(statement);
  }

  /** Closes the loop written so far: the statements since the last loop become its body. */
  endLoop(): void {
    this.loops.push(this.body.splice(0));
  }

  /**
   * The function: its loops in order, each over pairs i = 0, 2, 4, ... < n whose lanes' byte address is `$a` =
   * 8i; returns the number of special indices written at IDX.
   */
  text(): string {
    if (this.body.length > 0) this.endLoop();
    const params = this.params.map(([name, type]) => `(param $${name} ${type})`).join(" ");
    const locals = [...this.v128s, ...this.splats.keys()].map((name) => `(local $${name} v128)`);
    const splats = [...this.splats].map(([name, e]) => `(local.set $${name} ${e})`);
    const loops = this.loops.map((body, index) =>
      [
        "(local.set $i (i32.const 0))",
        `(block $done${index} (loop $next${index}`,
        `(br_if $done${index} (i32.ge_s (local.get $i) (local.get $n)))`,
        "(local.set $a (i32.shl (local.get $i) (i32.const 3)))",
        ...body,
        "(local.set $i (i32.add (local.get $i) (i32.const 2)))",
        `(br $next${index})))`,
      ].join("\n"),
    );
    return [
      `(func (export "${this.name}") ${params} (result i32)`,
      "(local $i i32) (local $a i32) (local $count i32) (local $mask i32)",
      ...locals,
      ...splats,
      ...loops,
      "(local.get $count))",
    ].join("\n");
  }
}

const LOAD_X = `(v128.load offset=${LAYOUT.x} (local.get $a))`;
const LOAD_Y = `(v128.load offset=${LAYOUT.y} (local.get $a))`;

/** Stores f64x2 `e` over the pair in X. */
function store(k: Kernel, e: Expr): void {
  k.push(`(v128.store offset=${LAYOUT.x} (local.get $a) ${e})`);
}

/** Appends the index of each lane whose mask `ok` is 0 (as i64 lanes) to the list at IDX. */
function recordSpecials(k: Kernel, ok: Expr): void {
  const lane = (l: number) =>
    `(if (i32.eqz (i32.and (local.get $mask) (i32.const ${1 << l}))) (then ` +
    `(i32.store offset=${LAYOUT.idx} (i32.shl (local.get $count) (i32.const 2)) ` +
    `(i32.add (local.get $i) (i32.const ${l}))) ` +
    "(local.set $count (i32.add (local.get $count) (i32.const 1)))))";
  k.push(`(local.set $mask (i64x2.bitmask ${ok}))`);
  k.push(`(if (i32.ne (local.get $mask) (i32.const 3)) (then ${lane(0)} ${lane(1)}))`);
}

/** f64x2 k (exact) from int64 lanes |k| < 2^51: bits of 1.5 * 2^52 + k, minus 1.5 * 2^52. */
function toDouble(k: Kernel, i: Expr): Expr {
  return sub(`(i64x2.add ${i} ${k.i64(0x4338000000000000n)})`, k.f(6755399441055744));
}

/** Loads a pair of doubles at byte `offset` + the i32 lane `lane` of the byte offsets `at`. */
function loadPair(at: Expr, lane: number, offset: number): Expr {
  return `(v128.load offset=${offset} (i32x4.extract_lane ${lane} ${at}))`;
}

/** Whether int64 lanes `bits` lie in [lo, hi) (a mask of i64 lanes). */
function inRange(k: Kernel, bits: Expr, lo: bigint, hi: bigint): Expr {
  return and(`(i64x2.ge_s ${bits} ${k.i64(lo)})`, `(i64x2.lt_s ${bits} ${k.i64(hi)})`);
}

/** The bits of normal doubles: [2^-1022, Infinity). */
const NORMAL_LO = 0x0010000000000000n;
const NORMAL_HI = 0x7ff0000000000000n;

/**
 * JavaScript's tmp = hx - 0x3fe69555 (hx the high word of a positive normal x) plus 2^31: nonnegative, so
 * logical shifts act on it as arithmetic shifts on tmp, and its low 31 bits are tmp's (tmp > -2^31).
 */
function biasedTmp(k: Kernel, bits: Expr): Expr {
  return k.let("tmp", `(i64x2.add ${shrU(bits, 32)} ${k.i64(0x80000000n - 0x3fe69555n)})`);
}

/**
 * The double-double log of transcendental.ts's logCore (kExtra = 0) for positive normal lanes `bits`; sets
 * locals l (the value) and lt (its tail, logCore's tab[3634]).
 */
function logCore(k: Kernel, bits: Expr): void {
  const tmp = biasedTmp(k, bits);
  // byte offset of 3122 + ((tmp >> 11) & 0x1fc) relative to LOG_BASE, in the low word of each lane
  const at = k.let("at", and(shrU(tmp, 8), k.i64(0xfe0n)));
  const kz = k.let("kz", `(i64x2.sub ${shrU(tmp, 20)} ${k.i64(2048n)})`); // tmp >> 20
  const z = k.let("z", `(i64x2.sub ${bits} ${shl(kz, 52)})`); // x * tab[1074 - kz], exact
  const kd = k.let("kd", toDouble(k, kz));
  const c0 = k.let("c0", loadPair(at, 0, LOG_BASE * 8));
  const c1 = k.let("c1", loadPair(at, 2, LOG_BASE * 8));
  const invc = k.let("invc", lows(c0, c1));
  const chi = highs(c0, c1);
  const clo = k.let(
    "clo",
    `(v128.load64_lane offset=${LOG_BASE * 8 + 16} 1 (i32x4.extract_lane 2 ${at}) ` +
      `(v128.load64_zero offset=${LOG_BASE * 8 + 16} (i32x4.extract_lane 0 ${at})))`,
  );
  const zhi = k.let("zhi", sub(add(z, k.f(4294967296)), k.f(4294967296)));
  const zlo = k.let("zlo", sub(z, zhi));
  const rhi = k.let("rhi", sub(mul(zhi, invc), k.f(1)));
  const rlo = k.let("rlo", mul(zlo, invc));
  const r = k.let("r", add(rhi, rlo));
  const t1 = k.let("t1", add(mul(kd, k.f(0.6931471805598903)), chi));
  const t2 = k.let("t2", add(t1, r));
  const v = k.let("v", sub(t2, t1));
  const lo2 = k.let("lo2", add(sub(t1, sub(t2, v)), sub(r, v)));
  const lo1 = k.let("lo1", add(mul(kd, k.f(5.497923018708371e-14)), clo));
  const ar = mul(k.f(-0.5), r);
  const arhi = k.let("arhi", mul(k.f(-0.5), rhi));
  const arhi2 = k.let("arhi2", mul(rhi, arhi));
  const hi = k.let("hi", add(t2, arhi2));
  const lo3 = k.let("lo3", mul(rlo, add(ar, arhi)));
  const lo4 = k.let("lo4", add(sub(t2, hi), arhi2));
  const r2 = k.let("r2", mul(r, r));
  const p = mul(
    mul(r2, r),
    add(
      sub(k.f(0.3333333333333333), mul(r, k.f(0.25))),
      mul(
        r2,
        add(
          sub(k.f(0.2), mul(r, k.f(0.16666666666666666))),
          mul(
            r2,
            add(
              sub(k.f(0.14285714285714285), mul(r, k.f(0.125))),
              mul(r2, sub(k.f(0.1111111111111111), mul(r, k.f(0.1)))),
            ),
          ),
        ),
      ),
    ),
  );
  const lo = k.let("lo", add(add(add(add(lo1, lo2), lo3), lo4), p));
  const l = k.let("l", add(hi, lo));
  k.let("lt", add(sub(hi, l), lo));
}

/**
 * transcendental.ts's expCore(hi, lo) on its fast path (2^e normal); sets local `res` and the mask `eok` of
 * the lanes on that path (e in (-1022, 1000), i64 lanes). `lo` undefined is expInto's variant without it.
 * JavaScript's k = kd | 0 is read from the bits of u = hi * 512/ln2 + 1.5 * 2^52 (kd = u - 1.5 * 2^52): in
 * [2^52, 2^53) they are those of 1.5 * 2^52 (a multiple of 512) plus k, so the low 9 bits are k & 511 and
 * bits(u) >>> 9 is k >> 9 = e plus a constant B.
 */
function expCore(k: Kernel, hi: Expr, lo: Expr | undefined): void {
  const u = k.let("eu", add(mul(hi, k.f(738.6598609351493)), k.f(6755399441055744)));
  const kd = k.let("ekd", sub(u, k.f(6755399441055744)));
  const reduced = sub(sub(hi, mul(kd, k.f(0.0013538030871131923))), mul(kd, k.f(-8.204912251330243e-14)));
  const r = k.let("er", lo === undefined ? reduced : add(reduced, lo));
  const at = k.let("eat", `(i64x2.shl ${and(u, k.i64(511n))} (i32.const 4))`);
  const a0 = k.let("ea0", loadPair(at, 0, EXP_BASE * 8));
  const a1 = k.let("ea1", loadPair(at, 2, EXP_BASE * 8));
  const t = k.let("et", lows(a0, a1));
  const tail = highs(a0, a1);
  const e = k.let("ee", shrU(u, 9)); // e + B
  const r2 = k.let("er2", mul(r, r));
  const tmp = k.let(
    "etmp",
    add(
      add(add(tail, r), mul(r2, add(k.f(0.5), mul(r, k.f(0.16666666666666666))))),
      mul(mul(r2, r2), add(k.f(0.041666666666666664), mul(r, k.f(0.008333333333333333)))),
    ),
  );
  const scale = shl(`(i64x2.add ${e} ${k.i64(1023n)})`, 52); // tab[1074 + e] (B << 52 vanishes mod 2^64)
  k.let("res", mul(add(t, mul(t, tmp)), scale));
  const b = 0x4338000000000000n >> 9n;
  k.let("eok", and(`(i64x2.gt_s ${e} ${k.i64(b - 1022n)})`, `(i64x2.lt_s ${e} ${k.i64(b + 1000n)})`));
}

/** expInto: lanes with -708 < x < 708 (else scalarExp). */
function expKernel(pool: Pool): Kernel {
  const k = new Kernel("exp", [["n", "i32"]], pool);
  const x = k.let("x", LOAD_X);
  const ok = k.let("ok", and(`(f64x2.gt ${x} ${k.f(-708)})`, `(f64x2.lt ${x} ${k.f(708)})`));
  expCore(k, x, undefined);
  store(k, k.get("res"));
  recordSpecials(k, ok);
  return k;
}

/** logInto's inlined logFast: lanes with a positive normal x (else logSpecial). */
function logKernel(pool: Pool): Kernel {
  const k = new Kernel("log", [["n", "i32"]], pool);
  const bits = k.let("x", LOAD_X);
  const ok = k.let("ok", inRange(k, bits, NORMAL_LO, NORMAL_HI));
  const tmp = biasedTmp(k, bits);
  // byte offset of ((tmp >> 10) & 0x3fc) doubles relative to LOG256_BASE
  const at = k.let("at", and(shrU(tmp, 7), k.i64(0x1fe0n)));
  const ki = k.let("ki", `(i64x2.sub ${shrU(tmp, 20)} ${k.i64(2048n)})`); // tmp >> 20
  const z = k.let("z", `(i64x2.sub ${bits} ${shl(ki, 52)})`); // v * tab[1074 - k], exact
  const kd = k.let("kd", toDouble(k, ki));
  const c0 = k.let("c0", loadPair(at, 0, LOG256_BASE * 8));
  const c1 = k.let("c1", loadPair(at, 2, LOG256_BASE * 8));
  const invc = k.let("invc", lows(c0, c1));
  const chi = highs(c0, c1);
  const clo = k.let(
    "clo",
    `(v128.load64_lane offset=${LOG256_BASE * 8 + 16} 1 (i32x4.extract_lane 2 ${at}) ` +
      `(v128.load64_zero offset=${LOG256_BASE * 8 + 16} (i32x4.extract_lane 0 ${at})))`,
  );
  const zhi = k.let("zhi", sub(add(z, k.f(4294967296)), k.f(4294967296)));
  const r = k.let("r", add(sub(mul(zhi, invc), k.f(1)), mul(sub(z, zhi), invc)));
  const t1 = k.let("t1", add(mul(kd, k.f(0.6931471805598903)), chi));
  const hi = k.let("hi", add(t1, r));
  const lo = k.let("lo", add(sub(t1, hi), r));
  const r2 = k.let("r2", mul(r, r));
  const p = mul(
    r2,
    add(
      add(k.f(-0.5), mul(r, k.f(0.3333333333333333))),
      mul(
        r2,
        add(
          add(k.f(-0.25), mul(r, k.f(0.2))),
          mul(r2, add(k.f(-0.16666666666666666), mul(r, k.f(0.14285714285714285)))),
        ),
      ),
    ),
  );
  store(k, add(hi, add(add(add(lo, mul(kd, k.f(5.497923018708371e-14))), clo), p)));
  recordSpecials(k, ok);
  return k;
}

/** The lanes whose double-double exponent ehi lies in [-746, 746] (NaN excluded). */
function expRange(k: Kernel, ehi: Expr): Expr {
  return and(`(f64x2.ge ${ehi} ${k.f(-746)})`, `(f64x2.le ${ehi} ${k.f(746)})`);
}

/**
 * pow with exponents in Y: powRun's element loop (scalarPow per entry) and, with Y filled with one exponent
 * p and `neg` = -1, 1 or NaN (the sign of a negative x's power: odd, even or non-integer p),
 * powGeneralRun's (powGeneralEntry per entry); powRun passes neg = NaN, so a negative x is special. Fast
 * lanes: a normal x, a finite y, ehi in [-746, 746], log |x| != 0, 2^e normal and a non-NaN result. The same
 * doubles in both cases: both split y by Veltkamp and carry y log|x| in double-double into expCore.
 */
function powKernel(pool: Pool): Kernel {
  const k = new Kernel(
    "pow",
    [
      ["n", "i32"],
      ["neg", "f64"],
    ],
    pool,
  );
  // loop 1: log |x| in double-double into L and LT (two short loops overlap better than one long chain)
  logCore(k, k.let("ax", and(LOAD_X, k.i64(0x7fffffffffffffffn))));
  k.push(`(v128.store offset=${LAYOUT.l} (local.get $a) ${k.get("l")})`);
  k.push(`(v128.store offset=${LAYOUT.lt} (local.get $a) ${k.get("lt")})`);
  k.endLoop();
  // loop 2: y log |x| in double-double into L and LT; ehi = NaN marks a non-finite y or log |x| = 0
  const p = k.let("py", LOAD_Y);
  const l = k.let("l", `(v128.load offset=${LAYOUT.l} (local.get $a))`);
  const lt = `(v128.load offset=${LAYOUT.lt} (local.get $a))`;
  const ok = and(`(f64x2.eq ${sub(p, p)} ${k.f(0)})`, `(f64x2.ne ${l} ${k.f(0)})`);
  const ehi = k.let("ehi", mul(p, l));
  const c = k.let("pc", mul(k.f(134217729), p));
  const ph = k.let("ph", sub(c, sub(c, p)));
  const pl = k.let("pl", sub(p, ph));
  const d = k.let("d", mul(k.f(134217729), l));
  const lh = k.let("lh", sub(d, sub(d, l)));
  const ll = k.let("ll", sub(l, lh));
  const elo = add(add(add(add(sub(mul(ph, lh), ehi), mul(ph, ll)), mul(pl, lh)), mul(pl, ll)), mul(p, lt));
  k.push(`(v128.store offset=${LAYOUT.l} (local.get $a) (v128.bitselect ${ehi} ${k.f(Number.NaN)} ${ok}))`);
  k.push(`(v128.store offset=${LAYOUT.lt} (local.get $a) ${elo})`);
  k.endLoop();
  // loop 3: the exp, the sign
  const x = k.let("x", LOAD_X);
  const e = k.let("ehi", `(v128.load offset=${LAYOUT.l} (local.get $a))`);
  const okx = k.let("okx", inRange(k, k.let("ax", and(x, k.i64(0x7fffffffffffffffn))), NORMAL_LO, NORMAL_HI));
  expCore(k, e, `(v128.load offset=${LAYOUT.lt} (local.get $a))`);
  const z = k.get("res");
  const y = k.let("y", `(v128.bitselect ${mul(z, k.param("neg"))} ${z} (f64x2.lt ${x} ${k.f(0)}))`);
  store(k, y);
  recordSpecials(k, and(and(and(okx, expRange(k, e)), k.get("eok")), `(f64x2.eq ${y} ${y})`));
  return k;
}

/**
 * The module's WAT text: memory (exported as "memory") and the kernels exp(n), log(n) and pow(n, neg),
 * each returning the count of special indices it listed.
 *
 * @example
 * const wat = transcendentalWat(); // "(module ..."
 */
export function transcendentalWat(): string {
  const pool = new Pool();
  const kernels = [expKernel(pool), logKernel(pool), powKernel(pool)].map((k) => k.text());
  return [
    "(module",
    `(memory (export "memory") ${LAYOUT.pages} ${LAYOUT.pages})`,
    ...kernels,
    pool.segment(),
    ")",
  ].join("\n");
}
