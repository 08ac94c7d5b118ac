/**
 * @file Taylor tests: the remainders of J(m + eps h) - J(m) - eps dJ.h - eps^2/2 h.H.h shrink at rates 1, 2
 * and 3 when the gradient and the Hessian are right.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ReducedFunctional } from "../reduced/reduced-functional.js";
import { spaceOf, toRaw } from "../values/space.js";

/** Options of `taylorTest` and `taylorToDict`. */
export interface TaylorOptions {
  /** dJ.h; computed with `rf.derivative()` at m when omitted. */
  dJdm?: number;
  /** h.H.h; include the second-order term with this number. */
  Hm?: number;
  /** Compute h.H.h with `rf.hessian(h)` (when `Hm` is not given). */
  hessian?: boolean;
  /** Step sizes, decreasing (default 0.01 / 2^i, i = 0..3). */
  epsilons?: readonly number[];
}

/** Residuals and convergence rates of one remainder. */
export interface TaylorSeries {
  readonly residuals: number[];
  readonly rates: number[];
}

/** What `taylorToDict` returns: the remainders of order 0, 1 and (with a Hessian term) 2. */
export interface TaylorReport {
  readonly epsilons: number[];
  readonly R0: TaylorSeries;
  readonly R1: TaylorSeries;
  readonly R2?: TaylorSeries;
}

/** A reduced functional, or anything with the same evaluate / derivative / hessian / controlValues. */
export type TaylorTarget = Pick<
  ReducedFunctional,
  "evaluate" | "derivative" | "hessian" | "controlValues" | "controls"
>;

function asList(target: TaylorTarget, value: unknown): unknown[] {
  const single = target.controls.length === 1 && !Array.isArray(value);
  return (single ? [value] : (value as unknown[])).map((v) => toRaw(v, "taylorTest"));
}

function dotLists(a: readonly unknown[], b: readonly unknown[]): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += spaceOf(a[i]).dot(a[i], b[i]);
  return total;
}

function rates(residuals: number[], epsilons: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < residuals.length; i++) {
    out.push(Math.log(residuals[i] / residuals[i + 1]) / Math.log(epsilons[i] / epsilons[i + 1]));
  }
  return out;
}

/**
 * The remainders and rates of a Taylor test of `rf` at `m` along `h` (one value per control). Leaves the
 * controls and the tape at the values they held before the call.
 *
 * @example
 * const report = taylorToDict(rf, 1.5, 0.1, { hessian: true });
 * report.R1.rates; // about [2, 2, 2]
 */
export function taylorToDict(
  rf: TaylorTarget,
  m: unknown,
  h: unknown,
  options: TaylorOptions = {},
): TaylorReport {
  const epsilons = [...(options.epsilons ?? [0.01, 0.005, 0.0025, 0.00125])];
  if (epsilons.length < 2 || epsilons.some((e) => !(e > 0))) {
    throw new InvalidArgumentError("taylorTest", "epsilons must be at least two positive step sizes");
  }
  const before = rf.controlValues().map((v) => toRaw(v));
  const mList = asList(rf, m);
  const hList = asList(rf, h);
  if (mList.length !== rf.controls.length || hList.length !== rf.controls.length) {
    throw new InvalidArgumentError(
      "taylorTest",
      `${rf.controls.length} control(s): give one point and one direction per control`,
    );
  }
  try {
    const Jm = rf.evaluate(rf.controls.length === 1 ? mList[0] : mList);
    let dJdm = options.dJdm;
    if (dJdm === undefined) {
      const gradient = rf.derivative();
      dJdm = dotLists(asList(rf, gradient), hList);
    }
    let Hm = options.Hm;
    if (Hm === undefined && options.hessian) {
      const action = rf.hessian(rf.controls.length === 1 ? hList[0] : hList);
      Hm = dotLists(asList(rf, action), hList);
    }
    const R0: number[] = [];
    const R1: number[] = [];
    const R2: number[] = [];
    for (const eps of epsilons) {
      const perturbed = mList.map((value, i) => {
        const space = spaceOf(value);
        return space.add(value, space.scale(hList[i], eps));
      });
      const Jp = rf.evaluate(rf.controls.length === 1 ? perturbed[0] : perturbed);
      R0.push(Math.abs(Jp - Jm));
      R1.push(Math.abs(Jp - Jm - eps * dJdm));
      if (Hm !== undefined) R2.push(Math.abs(Jp - Jm - eps * dJdm - 0.5 * eps * eps * Hm));
    }
    return {
      epsilons,
      R0: { residuals: R0, rates: rates(R0, epsilons) },
      R1: { residuals: R1, rates: rates(R1, epsilons) },
      ...(Hm !== undefined ? { R2: { residuals: R2, rates: rates(R2, epsilons) } } : {}),
    };
  } finally {
    rf.evaluate(rf.controls.length === 1 ? before[0] : before);
  }
}

/**
 * Taylor test: the smallest convergence rate of the highest remainder computed: about 2 with the
 * gradient term, about 3 with the Hessian term (`{ hessian: true }` or `Hm`). Leaves the controls and the
 * tape as it found them.
 *
 * @example
 * taylorTest(rf, 1.5, 0.1); // >= 1.9 when the gradient is right
 * taylorTest(rf, 1.5, 0.1, { hessian: true }); // >= 2.9 when the Hessian is right
 */
export function taylorTest(rf: TaylorTarget, m: unknown, h: unknown, options: TaylorOptions = {}): number {
  const report = taylorToDict(rf, m, h, options);
  const series = report.R2 ?? report.R1;
  return Math.min(...series.rates);
}
