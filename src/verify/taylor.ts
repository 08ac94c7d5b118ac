/**
 * @file Taylor tests: the remainders of J(m + eps h) - J(m) - eps dJ.h - eps^2/2 h.H.h shrink at rates 1, 2
 * and 3 when the gradient and the Hessian are right; for a ReducedFunction F the first-order remainder is
 * ||F(m + eps h) - F(m) - eps J h|| and the second-order check uses <v, F> with the Hessian action.
 */
import { ControlCountMismatchError, InvalidArgumentError } from "../errors.js";
import { checkNumber, checkOptions } from "../options.js";
import { describeValue, perSlotValues } from "../reduced/arguments.js";
import type { ReducedFunction } from "../reduced/reduced-function.js";
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
  /**
   * ReducedFunction only: an adjoint direction (one value per output, shaped like it). With it the report
   * has R2, the remainder of <v, F(m + eps h)> - <v, F(m)> - eps <v, J h> - eps^2/2 <h, hessAction(h, v)>.
   */
  v?: unknown;
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

/** A reduced function, or anything with the same evaluate / jacAction / hessAction / controlValues. */
export type TaylorFunctionTarget = Pick<
  ReducedFunction,
  "evaluate" | "jacAction" | "hessAction" | "controlValues" | "controls" | "outputs"
>;

function isFunctionTarget(target: TaylorTarget | TaylorFunctionTarget): target is TaylorFunctionTarget {
  return "jacAction" in target && typeof target.jacAction === "function";
}

function asList(target: Pick<TaylorTarget, "controls">, value: unknown): unknown[] {
  const single = target.controls.length === 1 && !Array.isArray(value);
  const values: readonly unknown[] = single || !Array.isArray(value) ? [value] : value;
  return values.map((v) => toRaw(v, "taylorTest"));
}

/** One raw value per control from a point or direction, checked against the controls' types and shapes. */
function controlValuesOf(
  target: Pick<TaylorTarget, "controls">,
  value: unknown,
  operation: string,
  name: string,
): unknown[] {
  return perSlotValues(
    target.controls.map((c) => c.blockVariable.saved),
    value,
    operation,
    "control",
    name,
  );
}

/** One adjoint direction per output, checked against the outputs (a wrong count is an InvalidArgumentError). */
function adjointDirections(rf: TaylorFunctionTarget, v: unknown, operation: string): unknown[] {
  try {
    return perSlotValues(
      rf.outputs.map((o) => o.blockVariable.saved),
      v,
      operation,
      "output",
      "adjoint direction v",
    );
  } catch (error) {
    if (error instanceof ControlCountMismatchError) {
      throw new InvalidArgumentError(operation, error.message.slice(operation.length + 2));
    }
    throw error;
  }
}

/** Checks the target, the options and the step sizes; returns the step sizes. */
function checkTaylorArguments(rf: unknown, options: TaylorOptions, operation: string): number[] {
  const method = (name: string): boolean =>
    typeof rf === "object" && rf !== null && name in rf && typeof Reflect.get(rf, name) === "function";
  if (
    !method("evaluate") ||
    !method("controlValues") ||
    !(typeof rf === "object" && rf !== null && Array.isArray(Reflect.get(rf, "controls"))) ||
    (!method("derivative") && !method("jacAction"))
  ) {
    throw new InvalidArgumentError(
      operation,
      `the first argument must be a ReducedFunctional or a ReducedFunction, got ${describeValue(rf)}`,
    );
  }
  checkOptions(operation, options, ["dJdm", "Hm", "hessian", "epsilons", "v"]);
  if (options.dJdm !== undefined) checkNumber(operation, "dJdm", options.dJdm);
  if (options.Hm !== undefined) checkNumber(operation, "Hm", options.Hm);
  if (options.hessian !== undefined && typeof options.hessian !== "boolean") {
    throw new InvalidArgumentError(
      operation,
      `hessian must be true or false, got ${describeValue(options.hessian)}`,
    );
  }
  const given = options.epsilons ?? [0.01, 0.005, 0.0025, 0.00125];
  if (
    !Array.isArray(given) ||
    given.length < 2 ||
    given.some((e) => typeof e !== "number" || !(e > 0) || !Number.isFinite(e))
  ) {
    throw new InvalidArgumentError(operation, "epsilons must be at least two positive finite step sizes");
  }
  return [...given];
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
 * For a ReducedFunction F (several outputs and controls): R0 = ||F(m + eps h) - F(m)||,
 * R1 = ||F(m + eps h) - F(m) - eps J h|| (Euclidean norm over all outputs' entries, J h from `jacAction`);
 * with an adjoint direction `v` (one per output), R2 = |<v, F(m + eps h)> - <v, F(m)> - eps <v, J h> -
 * eps^2/2 <h, hessAction(h, v)>|. `{ hessian: true }` without `v` is an error for a ReducedFunction.
 *
 * @example
 * const report = taylorToDict(rf, 1.5, 0.1, { hessian: true });
 * report.R1.rates; // about [2, 2, 2]
 */
export function taylorToDict(
  rf: TaylorTarget | TaylorFunctionTarget,
  m: unknown,
  h: unknown,
  options: TaylorOptions = {},
): TaylorReport {
  return taylorReport(rf, m, h, options, "taylorToDict");
}

function taylorReport(
  rf: TaylorTarget | TaylorFunctionTarget,
  m: unknown,
  h: unknown,
  options: TaylorOptions,
  operation: string,
): TaylorReport {
  const epsilons = checkTaylorArguments(rf, options, operation);
  if (isFunctionTarget(rf)) return functionTaylor(rf, m, h, options, epsilons, operation);
  if (options.v !== undefined) {
    throw new InvalidArgumentError(
      operation,
      "the adjoint direction v is for a ReducedFunction; a ReducedFunctional uses { hessian: true }",
    );
  }
  const before = rf.controlValues().map((v) => toRaw(v));
  const mList = controlValuesOf(rf, m, operation, "point m");
  const hList = controlValuesOf(rf, h, operation, "direction h");
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
 * gradient term, about 3 with the Hessian term (`{ hessian: true }` or `Hm`; for a ReducedFunction, an
 * adjoint direction `{ v }`). Leaves the controls and the tape as it found them.
 *
 * @example
 * taylorTest(rf, 1.5, 0.1); // >= 1.9 when the gradient is right
 * taylorTest(rf, 1.5, 0.1, { hessian: true }); // >= 2.9 when the Hessian is right
 * taylorTest(reducedFunction, [g, p], [dg, dp], { v: w }); // >= 2.9 when the Hessian action is right
 */
export function taylorTest(
  rf: TaylorTarget | TaylorFunctionTarget,
  m: unknown,
  h: unknown,
  options: TaylorOptions = {},
): number {
  const report = taylorReport(rf, m, h, options, "taylorTest");
  const series = report.R2 ?? report.R1;
  return Math.min(...series.rates);
}

function outputsOf(value: unknown): unknown[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => toRaw(v, "taylorTest"));
}

function listNorm(values: readonly unknown[]): number {
  let total = 0;
  for (const value of values) total += spaceOf(value).norm(value) ** 2;
  return Math.sqrt(total);
}

function listCombination(terms: readonly { factor: number; values: readonly unknown[] }[]): unknown[] {
  return terms[0].values.map((_, i) => {
    let sum: unknown;
    for (const { factor, values } of terms) {
      const space = spaceOf(values[i]);
      const scaled = space.scale(values[i], factor);
      sum = sum === undefined ? scaled : space.add(sum, scaled);
    }
    return sum;
  });
}

function functionTaylor(
  rf: TaylorFunctionTarget,
  m: unknown,
  h: unknown,
  options: TaylorOptions,
  epsilons: number[],
  operation: string,
): TaylorReport {
  if (options.dJdm !== undefined || options.Hm !== undefined) {
    throw new InvalidArgumentError(
      operation,
      "dJdm and Hm are for a ReducedFunctional; a ReducedFunction computes J h with jacAction (and gives v for the Hessian term)",
    );
  }
  if (options.hessian && options.v === undefined) {
    throw new InvalidArgumentError(
      operation,
      "the second-order check of a ReducedFunction needs an adjoint direction: pass { v } with one value per output",
    );
  }
  const single = rf.controls.length === 1;
  const before = rf.controlValues().map((value) => toRaw(value));
  const mList = controlValuesOf(rf, m, operation, "point m");
  const hList = controlValuesOf(rf, h, operation, "direction h");
  const vList = options.v === undefined ? undefined : adjointDirections(rf, options.v, operation);
  const asArgument = (list: unknown[]) => (single ? list[0] : list);
  try {
    const evaluated = rf.evaluate(asArgument(mList));
    const manyOutputs = Array.isArray(evaluated);
    const Fm = outputsOf(evaluated);
    const Jh = outputsOf(rf.jacAction(asArgument(hList)));
    let vFm = 0;
    let vJh = 0;
    let hHh = 0;
    if (vList !== undefined) {
      vFm = dotLists(vList, Fm);
      vJh = dotLists(vList, Jh);
      const action = rf.hessAction(asArgument(hList), manyOutputs ? vList : vList[0]);
      hHh = dotLists(asList(rf, action), hList);
    }
    const R0: number[] = [];
    const R1: number[] = [];
    const R2: number[] = [];
    for (const eps of epsilons) {
      const perturbed = mList.map((value, i) => {
        const space = spaceOf(value);
        return space.add(value, space.scale(hList[i], eps));
      });
      const Fp = outputsOf(rf.evaluate(asArgument(perturbed)));
      const difference = listCombination([
        { factor: 1, values: Fp },
        { factor: -1, values: Fm },
      ]);
      R0.push(listNorm(difference));
      R1.push(
        listNorm(
          listCombination([
            { factor: 1, values: difference },
            { factor: -eps, values: Jh },
          ]),
        ),
      );
      if (vList !== undefined) {
        R2.push(Math.abs(dotLists(vList, Fp) - vFm - eps * vJh - 0.5 * eps * eps * hHh));
      }
    }
    return {
      epsilons,
      R0: { residuals: R0, rates: rates(R0, epsilons) },
      R1: { residuals: R1, rates: rates(R1, epsilons) },
      ...(vList !== undefined ? { R2: { residuals: R2, rates: rates(R2, epsilons) } } : {}),
    };
  } finally {
    rf.evaluate(asArgument(before));
  }
}
