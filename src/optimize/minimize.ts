/**
 * @file minimize / maximize a ReducedFunctional: the controls are flattened through the value protocol
 * into one Float64Array, and the optimizers run on evaluate / derivative / hessian of the functional.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Controls, ControlValueList, PerControl } from "../reduced/drivers.js";
import type { ReducedFunctional } from "../reduced/reduced-functional.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { spaceOf, toRaw, wrapRaw } from "../values/space.js";
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
  options: MinimizeOptions,
  packing: ControlPacking,
  controlCount: number,
): { lower: Float64Array; upper: Float64Array } | undefined {
  const bounds = options.bounds;
  if (bounds === undefined) return undefined;
  const pairs = (
    controlCount === 1 && bounds.length === 2 && !Array.isArray(bounds[0]) ? [bounds] : bounds
  ) as readonly (readonly [ControlBound, ControlBound])[];
  if (pairs.length !== controlCount) {
    throw new InvalidArgumentError(
      "minimize",
      `bounds has ${pairs.length} pair(s) for ${controlCount} control(s); give one [lower, upper] pair per control`,
    );
  }
  const lower = new Float64Array(packing.total);
  const upper = new Float64Array(packing.total);
  let offset = 0;
  pairs.forEach(([lo, hi], i) => {
    const size = packing.sizes[i];
    const fill = (target: Float64Array, bound: ControlBound, none: number) => {
      if (bound === null || bound === undefined) target.fill(none, offset, offset + size);
      else if (typeof bound === "number") target.fill(bound, offset, offset + size);
      else {
        const raw = toRaw(bound, "minimize");
        const data = spaceOf(raw).toFloat64Array(raw);
        if (data.length !== size) {
          throw new InvalidArgumentError(
            "minimize",
            `bound of control ${i} has ${data.length} entries, the control ${size}`,
          );
        }
        target.set(data, offset);
      }
    };
    fill(lower, lo, Number.NEGATIVE_INFINITY);
    fill(upper, hi, Number.POSITIVE_INFINITY);
    offset += size;
  });
  return { lower, upper };
}

function run(rf: ReducedFunctional, options: MinimizeOptions, maximizing: boolean): MinimizeResult {
  const controlCount = rf.controls.length;
  const start = rf.controlValues().map((value) => toRaw(value));
  const packing = new ControlPacking(start);
  const single = controlCount === 1;
  let current: Float64Array | undefined;
  const moveTo = (x: Float64Array): void => {
    if (current !== undefined && current.length === x.length && current.every((v, i) => v === x[i])) return;
    const raws = packing.unpack(x);
    rf.evaluate(single ? raws[0] : raws);
    current = x.slice();
  };
  const gradientAt = (x: Float64Array): Float64Array => {
    moveTo(x);
    const gradient = rf.derivative();
    return packing.pack((Array.isArray(gradient) ? gradient : [gradient]).map((g) => toRaw(g)));
  };
  const problem: OptimizationProblem = {
    value: (x) => {
      moveTo(x);
      return rf.value();
    },
    gradient: gradientAt,
    valueAndGradient: (x) => {
      const gradient = gradientAt(x);
      return { value: rf.value(), gradient };
    },
    hessianAction: (x, direction) => {
      moveTo(x);
      const raws = packing.unpack(direction);
      const action = rf.hessian(single ? raws[0] : raws);
      return packing.pack((Array.isArray(action) ? action : [action]).map((h) => toRaw(h)));
    },
  };
  const { bounds: _bounds, callback, ...rest } = options;
  const optimizeOptions: OptimizeOptions = {
    ...rest,
    bounds: boundArrays(options, packing, controlCount),
    callback:
      callback === undefined
        ? undefined
        : (state) =>
            callback({
              ...state,
              controls: packing.unpack(state.x).map((raw) => wrapRaw(raw)) as ControlValueList<Controls>,
            }),
  };
  const x0 = packing.pack(start);
  const result = maximizing
    ? maximizeProblem(problem, x0, optimizeOptions)
    : minimizeProblem(problem, x0, optimizeOptions);
  moveTo(result.x); // leave the tape at the optimum
  const values = packing.unpack(result.x).map((raw) => wrapRaw(raw));
  const { x: flat, ...others } = result;
  return { ...others, x: (single ? values[0] : values) as PerControl<Controls>, xFlat: flat };
}

/**
 * Minimises a ReducedFunctional over its controls, starting from the values the tape holds. Methods:
 * `L-BFGS-B` (default, box bounds), `BFGS`, `Newton-CG` (truncated Newton on `rf.hessian` actions; no
 * Hessian matrix is formed). Works for any number and type of controls through the value protocol.
 * When it returns, the tape holds the controls' optimal values (and the functional's value there).
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
  return run(rf, options as MinimizeOptions, false) as MinimizeResult<C>;
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
  return run(rf, options as MinimizeOptions, true) as MinimizeResult<C>;
}
