/**
 * @file The rule checker every operation family is tested with: recompute equals a fresh forward run,
 * the tangent-linear value matches central finite differences, the dot-product test holds, and the
 * Taylor remainders shrink at rates 1, 2 and 3.
 */
import { InvalidArgumentError } from "../errors.js";
import { checkNumber, checkOptions } from "../options.js";
import { checkOverloaded, describeValue } from "../reduced/arguments.js";
import { Control } from "../reduced/control.js";
import { stopAnnotating } from "../tape/annotation.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { adjointSweep, findPath, hessianSweep, replay, type SweepPath, tlmSweep } from "../tape/sweeps.js";
import { Tape, withTape } from "../tape/tape.js";
import type { AdjFloat } from "../values/adj-float.js";
import type { NDArray } from "../values/ndarray.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { spaceOf, toRaw, type VectorSpace, wrapRaw } from "../values/space.js";

/** Options of `checkRule`. */
export interface RuleCheckOptions {
  /** Seed of the random directions (default 1). */
  seed?: number;
  /** Central finite-difference step (default 1e-6). */
  fdStep?: number;
  /** Taylor step sizes (default 1e-2 / 2^i, i = 0..3). */
  epsilons?: readonly number[];
  /** Skip the Hessian checks (for rules that have no second-order mode). */
  skipHessian?: boolean;
  /**
   * Relative tolerance of "recompute equals a fresh forward run" (default 1e-12). An operation that
   * recomputes by iterating to a tolerance (a nonlinear solve) agrees only to that tolerance.
   */
  recomputeTolerance?: number;
}

const RULE_CHECK_KEYS = ["seed", "fdStep", "epsilons", "skipHessian", "recomputeTolerance"] as const;

/** Checks the function, the inputs and the options of checkRule / assertRule. */
function checkRuleArguments(
  fn: unknown,
  inputs: unknown,
  options: RuleCheckOptions,
  operation: string,
): void {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      operation,
      `fn must be a function of overloaded values, got ${describeValue(fn)}`,
    );
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidArgumentError(
      operation,
      `inputs must be a non-empty array of points (numbers, AdjFloats, NDArrays), got ${describeValue(inputs)}`,
    );
  }
  checkOptions(operation, options, [...RULE_CHECK_KEYS]);
  for (const key of ["seed", "fdStep", "recomputeTolerance"] as const) {
    if (options[key] !== undefined) checkNumber(operation, key, options[key], { positive: key !== "seed" });
  }
  const epsilons = options.epsilons;
  if (
    epsilons !== undefined &&
    (!Array.isArray(epsilons) ||
      epsilons.length < 2 ||
      epsilons.some((e) => typeof e !== "number" || !(e > 0)))
  ) {
    throw new InvalidArgumentError(operation, "epsilons must be at least two positive step sizes");
  }
}

/** What `checkRule` measured. Rates are `Infinity` when the remainder is already at round-off. */
export interface RuleCheckReport {
  /** Relative difference between a replay at a new point and a fresh forward run there. */
  recomputeError: number;
  /** Relative difference between the tangent-linear value and central finite differences. */
  tlmError: number;
  /** Relative mismatch of <w, J v> and <J^T w, v>. */
  dotProductError: number;
  /** Smallest rate of |J(x+eh) - J(x)| (about 1). */
  rateR0: number;
  /** Smallest rate of the first-order remainder (about 2). */
  rateR1: number;
  /** Smallest rate of the second-order remainder (about 3); NaN when skipped. */
  rateR2: number;
}

function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random value shaped like `raw`, entries of magnitude 0.5 to 1 and random sign (never near zero). */
function randomLike(raw: unknown, next: () => number): unknown {
  const space = spaceOf(raw);
  const data = new Float64Array(space.size(raw));
  for (let i = 0; i < data.length; i++) data[i] = (next() < 0.5 ? -1 : 1) * (0.5 + 0.5 * next());
  return space.fromFloat64Array(raw, data);
}

function axpy(a: number, x: unknown, y: unknown): unknown {
  const space = spaceOf(y);
  return space.add(y, space.scale(x, a));
}

function dot(a: unknown, b: unknown): number {
  return spaceOf(a).dot(a, b);
}

function relative(difference: number, scale: number): number {
  return difference / Math.max(scale, 1e-300);
}

function minRate(residuals: number[], epsilons: readonly number[], floor: number): number {
  if (Math.max(...residuals) <= floor) return Number.POSITIVE_INFINITY;
  let smallest = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 1 < residuals.length; i++) {
    if (residuals[i + 1] <= floor) continue;
    smallest = Math.min(
      smallest,
      Math.log(residuals[i] / residuals[i + 1]) / Math.log(epsilons[i] / epsilons[i + 1]),
    );
  }
  return smallest;
}

/**
 * The overloaded value `checkRule` hands `fn` for an input: an AdjFloat for a number or an AdjFloat, an
 * NDArray for an NDArray or a (nested) array of numbers, the registered overloaded type otherwise.
 */
export type RuleArgument<T> = T extends number | AdjFloat
  ? AdjFloat
  : T extends NDArray | ArrayLike<unknown>
    ? NDArray
    : OverloadedValue;

/** The overloaded values `checkRule` hands `fn`, one per input. */
export type RuleArguments<X extends readonly unknown[]> = { [K in keyof X]: RuleArgument<X[K]> };

/** `fn` with its argument types erased, as the checks call it (with the wrapped inputs). */
function erased<X extends readonly unknown[]>(
  fn: (...inputs: RuleArguments<X>) => OverloadedValue,
): (...inputs: OverloadedValue[]) => OverloadedValue {
  // cast: the checks call fn only with wrapRaw of the inputs, which is what RuleArguments<X> describes
  return fn as (...inputs: OverloadedValue[]) => OverloadedValue;
}

/**
 * Checks an operation's four modes at `inputs` (numbers, NDArrays or other raw values) on a private tape.
 * `fn` receives fresh overloaded inputs (typed by the inputs: an AdjFloat for a number, an NDArray for an
 * array) and returns one overloaded output.
 *
 * @example
 * const report = checkRule((x) => np.sin(x), [0.7]);
 * report.rateR2; // about 3
 */
export function checkRule<const X extends readonly unknown[]>(
  typedFn: (...inputs: RuleArguments<X>) => OverloadedValue,
  inputs: X,
  options: RuleCheckOptions = {},
): RuleCheckReport {
  const fn = erased(typedFn);
  checkRuleArguments(fn, inputs, options, "checkRule");
  const next = rng(options.seed ?? 1);
  const x = inputs.map((value) => toRaw(value, "checkRule"));
  const tape = new Tape();
  const overloaded = x.map((raw) => wrapRaw(raw));
  const output = checkOverloaded(
    withTape(tape, () => fn(...overloaded)),
    "checkRule",
    "the result of fn",
  );
  const controls = overloaded.map((value) => new Control(value).blockVariable);
  const path = findPath(tape, controls, [output.blockVariable], "checkRule");
  const y = output.blockVariable.saved;
  const setup: RuleSetup = {
    path,
    controls,
    output: output.blockVariable,
    x,
    y,
    v: x.map((raw) => randomLike(raw, next)),
    w: randomLike(y, next),
    space: spaceOf(y),
    forward: (values) => stopAnnotating(() => toRaw(fn(...values.map((raw) => wrapRaw(raw))))),
  };
  const recomputeError = checkRecompute(setup);
  const { tlm, tlmError } = checkTangent(setup, options.fdStep ?? 1e-6);
  const dotProductError = checkDotProduct(setup, tlm);
  const rates = taylorRates(
    setup,
    options.epsilons ?? [1e-2, 5e-3, 2.5e-3, 1.25e-3],
    options.skipHessian === true,
  );
  return {
    recomputeError,
    tlmError,
    dotProductError,
    rateR0: rates.R0,
    rateR1: rates.R1,
    rateR2: options.skipHessian ? Number.NaN : rates.R2,
  };
}

/** What the four checks of `checkRule` share: the recorded path, the point, the random directions. */
interface RuleSetup {
  readonly path: SweepPath;
  readonly controls: readonly BlockVariable[];
  readonly output: BlockVariable;
  /** The point (one raw value per input). */
  readonly x: readonly unknown[];
  /** F(x). */
  readonly y: unknown;
  /** Random input direction. */
  readonly v: readonly unknown[];
  /** Random output weights. */
  readonly w: unknown;
  /** The vector space of F's value. */
  readonly space: VectorSpace<unknown>;
  /** F at other inputs, unrecorded. */
  readonly forward: (values: readonly unknown[]) => unknown;
}

/** Recompute at a new point against a fresh forward run there (relative error); leaves the tape at x. */
function checkRecompute({ path, output, x, v, space, forward }: RuleSetup): number {
  const moved = x.map((raw, i) => axpy(1e-2, v[i], raw));
  replay(path, moved);
  const replayed = output.saved;
  const fresh = forward(moved);
  const error = relative(space.norm(axpy(-1, fresh, replayed)), Math.max(space.norm(fresh), 1e-12));
  replay(path, x);
  return error;
}

/** The tangent-linear value J v against central finite differences. */
function checkTangent(
  { path, output, x, y, v, space, forward }: RuleSetup,
  step: number,
): { tlm: unknown; tlmError: number } {
  tlmSweep(path, v);
  const tlm = output.tlm ?? space.zerosLike(y);
  const plus = forward(x.map((raw, i) => axpy(step, v[i], raw)));
  const minus = forward(x.map((raw, i) => axpy(-step, v[i], raw)));
  const fd = space.scale(axpy(-1, minus, plus), 1 / (2 * step));
  // finite differences carry an absolute error of about eps_mach |F| / step, so near-zero derivatives are
  // compared against that floor rather than relatively
  const tlmError = relative(
    space.norm(axpy(-1, fd, tlm)),
    Math.max(space.norm(fd), space.norm(tlm), 1e-3 * (1 + space.norm(y))),
  );
  return { tlm, tlmError };
}

/** The dot-product test <w, J v> = <J^T w, v> (relative error). */
function checkDotProduct({ path, controls, x, y, v, w, space }: RuleSetup, tlm: unknown): number {
  adjointSweep(path, [w]);
  const adjoints = controls.map((c) => c.adj ?? spaceOf(c.saved).zerosLike(c.saved));
  const left = dot(w, tlm);
  let right = 0;
  for (let i = 0; i < x.length; i++) right += dot(adjoints[i], v[i]);
  // both sides carry round-off of about eps_mach |w| |F|: compare against that floor when they are near zero
  const dotFloor = 1e-4 * (1 + space.norm(w) * space.norm(y));
  return relative(Math.abs(left - right), Math.max(Math.abs(left), Math.abs(right), dotFloor));
}

/**
 * Taylor remainder rates of J(x) = <w, F(x)> along v and -v. Where a remainder's leading term is small, the
 * next term (odd in the direction) can cancel it along one of the two and make that rate dip; along the
 * other the two add. A wrong rule fails along both, so the better of the two is reported.
 */
function taylorRates(
  { path, controls, x, y, v, w, space, forward }: RuleSetup,
  epsilons: readonly number[],
  skipHessian: boolean,
): { R0: number; R1: number; R2: number } {
  const J0 = dot(w, y);
  const floor = 1e-13 * (Math.abs(J0) + space.norm(w) * space.norm(y) + 1);
  const rates = { R0: Number.NEGATIVE_INFINITY, R1: Number.NEGATIVE_INFINITY, R2: Number.NEGATIVE_INFINITY };
  for (const h of [v, v.map((raw) => spaceOf(raw).scale(raw, -1))]) {
    adjointSweep(path, [w]);
    let gradientTerm = 0;
    for (let i = 0; i < x.length; i++) {
      const c = controls[i];
      gradientTerm += dot(c.adj ?? spaceOf(c.saved).zerosLike(c.saved), h[i]);
    }
    let hessianTerm = 0;
    if (!skipHessian) {
      tlmSweep(path, h);
      hessianSweep(path, [w]);
      for (let i = 0; i < x.length; i++) {
        const c = controls[i];
        hessianTerm += dot(c.hessian ?? spaceOf(c.saved).zerosLike(c.saved), h[i]);
      }
    }
    const R0: number[] = [];
    const R1: number[] = [];
    const R2: number[] = [];
    for (const eps of epsilons) {
      const Je = dot(w, forward(x.map((raw, i) => axpy(eps, h[i], raw))));
      R0.push(Math.abs(Je - J0));
      R1.push(Math.abs(Je - J0 - eps * gradientTerm));
      R2.push(Math.abs(Je - J0 - eps * gradientTerm - 0.5 * eps * eps * hessianTerm));
    }
    rates.R0 = Math.max(rates.R0, minRate(R0, epsilons, floor));
    rates.R1 = Math.max(rates.R1, minRate(R1, epsilons, floor));
    rates.R2 = Math.max(rates.R2, minRate(R2, epsilons, floor));
  }
  return rates;
}

/** Thresholds `assertRule` applies. */
export const ruleThresholds = {
  recompute: 1e-12,
  tlm: 1e-6,
  dotProduct: 1e-10,
  rateR0: 0.8,
  rateR1: 1.9,
  rateR2: 2.9,
} as const;

/**
 * Runs `checkRule` and throws an Error listing every failed check (with the report) when one fails.
 *
 * @example
 * assertRule((x, y) => np.multiply(x, y), [1.5, -2]);
 */
export function assertRule<const X extends readonly unknown[]>(
  typedFn: (...inputs: RuleArguments<X>) => OverloadedValue,
  inputs: X,
  options: RuleCheckOptions = {},
): RuleCheckReport {
  const fn = erased(typedFn);
  checkRuleArguments(fn, inputs, options, "assertRule");
  const report = checkRule<readonly unknown[]>(fn, inputs, options);
  const failures: string[] = [];
  if (!(report.recomputeError <= (options.recomputeTolerance ?? ruleThresholds.recompute)))
    failures.push(`recompute error ${report.recomputeError}`);
  if (!(report.tlmError <= ruleThresholds.tlm)) failures.push(`TLM vs finite differences ${report.tlmError}`);
  if (!(report.dotProductError <= ruleThresholds.dotProduct))
    failures.push(`dot-product test ${report.dotProductError}`);
  if (!(report.rateR0 >= ruleThresholds.rateR0)) failures.push(`R0 rate ${report.rateR0}`);
  if (!(report.rateR1 >= ruleThresholds.rateR1)) failures.push(`R1 rate ${report.rateR1}`);
  if (!options.skipHessian && !(report.rateR2 >= ruleThresholds.rateR2))
    failures.push(`R2 rate ${report.rateR2}`);
  if (failures.length > 0) {
    throw new Error(
      `rule check failed at inputs ${JSON.stringify(inputs.map(describe))}: ${failures.join("; ")}`,
    );
  }
  return report;
}

function describe(value: unknown): unknown {
  const raw = toRaw(value);
  return typeof raw === "number" ? raw : Array.from(spaceOf(raw).toFloat64Array(raw));
}
