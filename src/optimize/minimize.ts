/**
 * @file minimize / maximize a ReducedFunctional: the controls are flattened through the value protocol
 * into one Float64Array, and the optimizers run on evaluate / derivative / hessian of the functional.
 */
import { InvalidArgumentError, NonFiniteValueError } from "../errors.js";
import { coerceLike, describeValue } from "../reduced/arguments.js";
import type { Controls, ControlValueList, PerControl } from "../reduced/drivers.js";
import { ReducedFunctional } from "../reduced/reduced-functional.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { spaceOf, toRaw, wrapRaw } from "../values/space.js";
import { checkOptimizeOptions } from "./common.js";
import { maximizeProblem, minimizeProblem } from "./minimize-problem.js";
import type { IterationState, OptimizationProblem, OptimizeOptions, OptimizeResult } from "./problem.js";

/** A bound for one control: a number for every entry, a value of the control's type, or null for none. */
export type ControlBound = number | OverloadedValue | null | undefined;

/** Options of `minimize` and `maximize` (`C`: the controls, which type the callback's `controls`). */
export interface MinimizeOptions<C extends Controls = Controls>
  extends Omit<OptimizeOptions, "bounds" | "callback"> {
  /**
   * Box bounds, one `[lower, upper]` pair per control (for a single control, the pair itself).
   * Each side is a number (every entry), a value shaped like the control, or null (unbounded).
   */
  bounds?: readonly [ControlBound, ControlBound] | readonly (readonly [ControlBound, ControlBound])[];
  /** Called after every iteration with the state; the control values are in `controls`. Return true to stop. */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets statement-bodied callbacks (returning void) be passed.
  callback?: (state: IterationState & { controls: ControlValueList<C> }) => boolean | void;
}

/** What `minimize` returns: the optimizer's result with the controls at the optimum as values. */
export interface MinimizeResult<C extends Controls = Controls> extends Omit<OptimizeResult, "x"> {
  /**
   * The optimal control values, typed like the controls: a single value for a single control
   * (`Control<AdjFloat>` gives an AdjFloat), a tuple for a tuple of controls.
   */
  x: PerControl<C>;
  /** The flattened optimal controls. */
  xFlat: Float64Array;
}

/** Flattens and rebuilds control values through the value protocol. */
class ControlPacking {
  readonly sizes: number[];
  readonly total: number;
  constructor(private readonly templates: readonly unknown[]) {
    this.sizes = templates.map((raw) => spaceOf(raw).size(raw));
    this.total = this.sizes.reduce((a, b) => a + b, 0);
  }
  pack(raws: readonly unknown[]): Float64Array {
    const out = new Float64Array(this.total);
    let offset = 0;
    raws.forEach((raw, i) => {
      out.set(spaceOf(raw).toFloat64Array(raw), offset);
      offset += this.sizes[i];
    });
    return out;
  }
  unpack(flat: Float64Array): unknown[] {
    let offset = 0;
    return this.templates.map((template, i) => {
      const part = flat.slice(offset, offset + this.sizes[i]);
      offset += this.sizes[i];
      return spaceOf(template).fromFloat64Array(template, part);
    });
  }
}

function boundArrays(
  options: Pick<MinimizeOptions, "bounds">,
  packing: ControlPacking,
  templates: readonly unknown[],
  operation: string,
): { lower: Float64Array; upper: Float64Array } | undefined {
  const bounds: unknown = options.bounds;
  if (bounds === undefined) return undefined;
  const controlCount = templates.length;
  const example = controlCount === 1 ? "[lower, upper]" : "[[lower0, upper0], [lower1, upper1], ...]";
  if (!Array.isArray(bounds)) {
    throw new InvalidArgumentError(
      operation,
      `bounds must be ${controlCount === 1 ? "a [lower, upper] pair" : "an array with one [lower, upper] pair per control"} (${example}), got ${describeValue(bounds)}`,
    );
  }
  // one control: the pair itself, or a list holding one pair
  const pairs: readonly unknown[] =
    controlCount === 1 && (bounds.length !== 1 || !Array.isArray(bounds[0]) || bounds[0].length !== 2)
      ? [bounds]
      : bounds;
  if (pairs.length !== controlCount) {
    throw new InvalidArgumentError(
      operation,
      `bounds has ${pairs.length} pair(s) for ${controlCount} control(s); give one [lower, upper] pair per control`,
    );
  }
  const lower = new Float64Array(packing.total);
  const upper = new Float64Array(packing.total);
  let offset = 0;
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new InvalidArgumentError(
        operation,
        `bounds of control ${i} must be a [lower, upper] pair (numbers, values shaped like the control, or null), got ${describeValue(pair)}`,
      );
    }
    const size = packing.sizes[i];
    const fill = (target: Float64Array, bound: unknown, none: number, side: string) => {
      if (bound === null || bound === undefined) target.fill(none, offset, offset + size);
      else if (typeof bound === "number" && !Number.isNaN(bound)) target.fill(bound, offset, offset + size);
      else {
        const raw = coerceLike(templates[i], bound, `the ${side} bound of control ${i}`, operation);
        target.set(spaceOf(raw).toFloat64Array(raw), offset);
      }
    };
    fill(lower, pair[0], Number.NEGATIVE_INFINITY, "lower");
    fill(upper, pair[1], Number.POSITIVE_INFINITY, "upper");
    offset += size;
  });
  return { lower, upper };
}

/**
 * The reduced functional as the optimizers see it: f, its gradient and Hessian actions on one packed vector
 * of raw control values. Moving to a point replays the tape there (skipped when the tape is already
 * there). A non-finite objective or derivative (a log or sqrt of a negative number, a pole) is reported to
 * the optimizers as NaN, never thrown: their line searches step back from such points, and when they cannot
 * make progress they stop with success false at the best point found, as scipy does.
 */
class TapeProblem implements OptimizationProblem {
  /** The point the tape holds (undefined when unknown). */
  private current: Float64Array | undefined;
  /** The last non-finite error seen (rethrown when the starting point itself is not finite). */
  lastNonFinite: unknown;

  constructor(
    private readonly rf: ReducedFunctional,
    private readonly packing: ControlPacking,
    private readonly single: boolean,
  ) {}

  /** Replays the tape at x (nothing when it is already there). */
  moveTo(x: Float64Array): void {
    const current = this.current;
    if (current !== undefined && current.length === x.length && current.every((v, i) => v === x[i])) return;
    this.current = undefined;
    const raws = this.packing.unpack(x);
    this.rf.evaluate(this.single ? raws[0] : raws);
    this.current = x.slice();
  }

  /** Forgets where the tape is (after a failed run). */
  forget(): void {
    this.current = undefined;
  }

  value(x: Float64Array): number {
    try {
      this.moveTo(x);
    } catch (error) {
      if (!isNonFinite(error)) throw error;
      this.lastNonFinite = error;
      return Number.NaN;
    }
    return this.rf.value();
  }

  gradient(x: Float64Array): Float64Array {
    if (!Number.isFinite(this.value(x))) return nonFiniteVector(this.packing.total);
    try {
      const gradient = this.rf.derivative();
      return this.packing.pack((Array.isArray(gradient) ? gradient : [gradient]).map((g) => toRaw(g)));
    } catch (error) {
      if (!isNonFinite(error)) throw error;
      this.lastNonFinite = error;
      return nonFiniteVector(this.packing.total);
    }
  }

  valueAndGradient(x: Float64Array): { value: number; gradient: Float64Array } {
    const gradient = this.gradient(x);
    return { value: this.value(x), gradient };
  }

  hessianAction(x: Float64Array, direction: Float64Array): Float64Array {
    if (!Number.isFinite(this.value(x))) return nonFiniteVector(this.packing.total);
    const raws = this.packing.unpack(direction);
    try {
      const action = this.rf.hessian(this.single ? raws[0] : raws);
      return this.packing.pack((Array.isArray(action) ? action : [action]).map((h) => toRaw(h)));
    } catch (error) {
      if (!isNonFinite(error)) throw error;
      this.lastNonFinite = error;
      return nonFiniteVector(this.packing.total);
    }
  }
}

/** Whether an error says that a value or derivative is not finite (the optimizers then back off). */
function isNonFinite(error: unknown): boolean {
  return error instanceof NonFiniteValueError;
}

function nonFiniteVector(size: number): Float64Array {
  return new Float64Array(size).fill(Number.NaN);
}

function run<C extends Controls>(
  rf: ReducedFunctional<C>,
  options: MinimizeOptions<C>,
  maximizing: boolean,
): MinimizeResult<C> {
  const operation = maximizing ? "maximize" : "minimize";
  if (!(rf instanceof ReducedFunctional)) {
    throw new InvalidArgumentError(
      operation,
      `the first argument must be a ReducedFunctional (new ReducedFunctional(J, controls)), got ${describeValue(rf)}`,
    );
  }
  checkOptimizeOptions(operation, options);
  // the optimizer works on raw values packed in one vector; the controls' types only shape the result
  const erased: ReducedFunctional = rf;
  const controlCount = rf.controls.length;
  const start = rf.controlValues().map((value) => toRaw(value));
  const packing = new ControlPacking(start);
  const bounds = boundArrays(options, packing, start, operation);
  const single = controlCount === 1;
  const problem = new TapeProblem(erased, packing, single);
  const moveTo = (x: Float64Array): void => problem.moveTo(x);
  const { bounds: _bounds, callback, ...rest } = options;
  const optimizeOptions: OptimizeOptions = {
    ...rest,
    bounds,
    callback:
      callback === undefined
        ? undefined
        : (state) =>
            callback({
              ...state,
              // cast: one wrapped value per control, in order: the list ControlValueList<C> describes
              controls: packing.unpack(state.x).map((raw) => wrapRaw(raw)) as ControlValueList<C>,
            }),
  };
  const x0 = packing.pack(start);
  let result: OptimizeResult;
  try {
    result = maximizing
      ? maximizeProblem(problem, x0, optimizeOptions)
      : minimizeProblem(problem, x0, optimizeOptions);
  } catch (error) {
    // a failed run (an error from the user's callback, a solver inside the tape) leaves the tape at the start
    problem.forget();
    moveTo(x0);
    // not finite at the start: nothing to optimize from; the tape's own error names the block
    if (
      error instanceof InvalidArgumentError &&
      /starting point/.test(error.message) &&
      problem.lastNonFinite !== undefined
    ) {
      throw problem.lastNonFinite;
    }
    throw error;
  }
  moveTo(result.x); // the tape holds the returned (best) point and the functional's value there
  const values = packing.unpack(result.x).map((raw) => wrapRaw(raw));
  const { x: flat, ...others } = result;
  // cast: one wrapped value per control (the value itself for a single Control): what PerControl<C> describes
  return { ...others, x: (single ? values[0] : values) as PerControl<C>, xFlat: flat };
}

/**
 * Minimises a ReducedFunctional over its controls, starting from the values the tape holds. Methods:
 * `L-BFGS-B` (default, box bounds), `BFGS`, `Newton-CG` (truncated Newton on `rf.hessian` actions; no
 * Hessian matrix is formed). Works for any number and type of controls through the value protocol.
 * When it returns, the tape holds the controls' optimal values (and the functional's value there).
 *
 * Options are checked: an unknown key is an InvalidArgumentError naming the key and the accepted ones.
 * scipy's method options are taken flat under camelCase names (`maxiter` -> `maxIter`, `maxfun` ->
 * `maxFunEvals`, `maxcor` -> `memory`, `gtol`, `ftol`); scipy's nested `options: { ... }` is rejected with
 * that mapping rather than accepted as a second spelling, so that no option has two names with a
 * precedence rule between them and a misspelt nested key cannot be ignored.
 *
 * Non-finite values: when the objective, its gradient or a Hessian action is not finite at a trial point
 * (a log or sqrt of a negative number, a pole), the optimizer is told NaN and its line search steps back;
 * when it cannot make progress it stops with `success: false`, a `message`, and `x` the best point found,
 * as scipy does. Either way the tape is left at the returned `x` (replayed there, so the functional's
 * value and derivatives on the tape are those at `x`); a run that throws (a callback's error) leaves the
 * tape at the starting point.
 *
 * @example
 * const rf = new ReducedFunctional(J, [new Control(a), new Control(b)]); // a, b: AdjFloat
 * const result = minimize(rf, { bounds: [[0, null], [-1, 1]] });
 * const [a1, b1] = result.x; // [AdjFloat, AdjFloat]
 */
export function minimize<const C extends Controls>(
  rf: ReducedFunctional<C>,
  options: MinimizeOptions<C> = {},
): MinimizeResult<C> {
  return run(rf, options, false);
}

/**
 * Maximises a ReducedFunctional (as `minimize`, on the negated functional; the result reports the
 * functional itself). The tape is left at the maximiser.
 *
 * @example
 * const result = maximize(rf, { method: "BFGS" });
 * result.x.value; // AdjFloat for a single AdjFloat control
 */
export function maximize<const C extends Controls>(
  rf: ReducedFunctional<C>,
  options: MinimizeOptions<C> = {},
): MinimizeResult<C> {
  return run(rf, options, true);
}
