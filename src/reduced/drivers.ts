/**
 * @file Drivers: gradient, tangent-linear action and Hessian action of a recorded value with respect to
 * controls. Each visits only the blocks between the controls and the value.
 */
import { NonScalarFunctionalError, TsadjointError } from "../errors.js";
import { checkOptions } from "../options.js";
import {
  adjointSweep,
  checkFiniteInputs,
  checkFiniteResults,
  findPath,
  hessianSweep,
  type SweepPath,
  tlmSweep,
} from "../tape/sweeps.js";
import { getWorkingTape, type Tape, type TapeOption } from "../tape/tape.js";
import type { AdjFloat } from "../values/adj-float.js";
import type { ArrayInput, NDArray } from "../values/ndarray.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { describeShape, spaceOf, wrapRaw } from "../values/space.js";
import { checkControls, checkOverloaded, checkTape, coerceLike, perSlotValues } from "./arguments.js";
import type { Control } from "./control.js";

/** One control or a list of them. */
export type Controls = Control | readonly Control[];

/**
 * The type of a recorded value's derivatives and replayed values: AdjFloat for an AdjFloat (or a subclass),
 * NDArray for an NDArray (or a subclass), a registered user type itself.
 *
 * @example
 * type G = ValueType<AdjFloat>; // AdjFloat
 */
export type ValueType<V> = V extends AdjFloat ? AdjFloat : V extends NDArray ? NDArray : V;

/**
 * The value type of one control: `ControlValue<Control<NDArray>>` is `NDArray`.
 *
 * @example
 * type G = ControlValue<Control<AdjFloat>>; // AdjFloat
 */
export type ControlValue<C> = C extends Control<infer T> ? ValueType<T> : never;

/**
 * One value per control, typed by the controls: a single value for a single control, a tuple for a tuple of
 * controls (`[Control<NDArray>, Control<AdjFloat>]` gives `[NDArray, AdjFloat]`), an array for an array of
 * unknown length.
 *
 * @example
 * const g: PerControl<readonly [Control<NDArray>, Control<AdjFloat>]> = rf.derivative(); // [NDArray, AdjFloat]
 */
export type PerControl<C extends Controls> = C extends readonly Control[]
  ? { -readonly [K in keyof C]: ControlValue<C[K]> }
  : ControlValue<C>;

/**
 * The control values as a list (also for a single control): what `controlValues()` returns.
 *
 * @example
 * const [m]: ControlValueList<Control<AdjFloat>> = rf.controlValues(); // [AdjFloat]
 */
export type ControlValueList<C extends Controls> = C extends readonly Control[]
  ? PerControl<C>
  : [ControlValue<C>];

/**
 * The controls as a list, typed: the tuple itself for a tuple of controls, `[C]` for a single control.
 *
 * @example
 * rf.controls[0].tapeValue(); // AdjFloat for new ReducedFunctional(J, new Control(x)) with x an AdjFloat
 */
export type ControlList<C extends Controls> = C extends readonly Control[] ? C : readonly [C];

/**
 * What is accepted for a value of type `V` (a new control value, a direction, an adjoint seed): a number or
 * an AdjFloat for an AdjFloat; an NDArray, a number (0-d), a (nested) number array or a typed array for an
 * NDArray; the value's own type for a registered type; anything (checked at run time) when the type is only
 * known as `OverloadedValue`.
 *
 * @example
 * const v: ValueInput<NDArray> = [[1, 2, 3]];
 */
export type ValueInput<V> = OverloadedValue extends V
  ? unknown
  : V extends AdjFloat
    ? number | AdjFloat
    : V extends NDArray
      ? ArrayInput
      : V;

/**
 * One input per control (a new value or a direction), typed by the controls: a single input for a single
 * control, a tuple for a tuple of controls.
 *
 * @example
 * rf.evaluate([np.array([1, 2]), 0.5]); // ControlInputs<readonly [Control<NDArray>, Control<AdjFloat>]>
 */
export type ControlInputs<C extends Controls> = C extends readonly Control[]
  ? { readonly [K in keyof C]: ValueInput<ControlValue<C[K]>> }
  : ValueInput<ControlValue<C>>;

/** Options of `computeGradient` and `computeHessian`. */
export interface AdjointOptions extends TapeOption {
  /** The adjoint seed of the output (default 1 for a scalar; required for other outputs). */
  adjValue?: unknown;
}

/** @internal checks a driver's options object (unknown keys, the tape) and returns the tape to use */
export function driverTape<T extends TapeOption>(
  options: T | undefined,
  allowed: readonly (keyof T & string)[],
  operation: string,
): Tape {
  const checked = checkOptions(operation, options, allowed);
  return checkTape(checked.tape, operation) ?? getWorkingTape();
}

/**
 * @internal The controls argument as a list typed like it (the tuple itself, `[control]` for one control),
 * each entry checked to be a Control.
 */
export function controlList<C extends Controls>(controls: C, operation: string): ControlList<C> {
  const list = checkControls(controls, operation);
  if (listsArgument(controls, list)) return list;
  throw new TsadjointError(operation, "internal: the control list is not the controls argument");
}

/** Whether `list` is the controls argument itself (a list of controls) or `[argument]` (one control). */
function listsArgument<C extends Controls>(controls: C, list: readonly Control[]): list is ControlList<C> {
  return Array.isArray(controls) ? list === controls : list.length === 1 && list[0] === controls;
}

/** @internal the values the tape holds for the controls now, as a list typed like the controls */
export function controlValueList<C extends Controls>(controls: ControlList<C>): ControlValueList<C> {
  // cast: one tape value per control, in order, each rebuilt in its control's type: the list
  // ControlValueList<C> describes entry by entry, which Array.map cannot type for a tuple
  return controls.map((c) => c.tapeValue()) as ControlValueList<C>;
}

/** @internal shapes a per-control result like the controls argument */
export function perControl<C extends Controls>(
  controls: C,
  values: readonly OverloadedValue[],
): PerControl<C> {
  // cast: one value per control, of its control's type; the list for a list of controls, the one value for
  // one control: the branch PerControl<C> takes, which Array.isArray on a generic C does not select
  return (Array.isArray(controls) ? values : values[0]) as PerControl<C>;
}

/** @internal the raw adjoint seed for an output: the given one, or 1 for a scalar */
export function adjointSeed(outputRaw: unknown, adjValue: unknown, operation: string): unknown {
  if (adjValue !== undefined)
    return coerceLike(outputRaw, adjValue, "adjValue (the output's seed)", operation);
  if (typeof outputRaw === "number") return 1;
  const space = spaceOf(outputRaw, operation);
  if (space.size(outputRaw) === 1) return space.fromFloat64Array(outputRaw, Float64Array.of(1));
  throw new NonScalarFunctionalError(
    operation,
    `the functional has shape ${describeShape(outputRaw)}, not a scalar; reduce it to a scalar (np.sum) or give adjValue`,
  );
}

function checkFunctional(value: unknown, operation: string): OverloadedValue {
  return checkOverloaded(value, operation, "the functional");
}

/** @internal the raw directions, one per control, checked against the controls */
export function directionList(
  controls: readonly Control[],
  directions: unknown,
  operation: string,
  name = "direction",
): unknown[] {
  return perSlotValues(
    controls.map((c) => c.blockVariable.saved),
    directions,
    operation,
    "control",
    name,
  );
}

/** @internal the per-control results of a sweep, zero where nothing reached a control */
export function collectSlot(path: SweepPath, slot: "adj" | "hessian"): unknown[] {
  return path.controls.map((control) => control[slot] ?? spaceOf(control.saved).zerosLike(control.saved));
}

/**
 * Gradient of `functional` with respect to `controls` at the values the tape holds: one reverse sweep
 * over the blocks between them. A single control gives a single value; an array gives an array.
 *
 * @example
 * const x = new AdjFloat(2);
 * const J = np.multiply(x, np.sin(x));
 * computeGradient(J, new Control(x)).value; // sin(2) + 2 cos(2) (an AdjFloat)
 */
export function computeGradient<const C extends Controls>(
  functional: OverloadedValue,
  controls: C,
  options: AdjointOptions = {},
): PerControl<C> {
  const operation = "computeGradient";
  const tape = driverTape(options, ["tape", "adjValue"], operation);
  const output = checkFunctional(functional, operation).blockVariable;
  const list = checkControls(controls, operation);
  const seed = adjointSeed(output.saved, options.adjValue, operation);
  const path = findPath(
    tape,
    list.map((c) => c.blockVariable),
    [output],
    operation,
  );
  checkFiniteInputs(path, operation);
  adjointSweep(path, [seed]);
  const results = collectSlot(path, "adj");
  checkFiniteResults(path, results, "adj", operation);
  return perControl(
    controls,
    results.map((raw) => wrapRaw(raw, operation)),
  );
}

/**
 * Tangent-linear action: the directional derivative of `output` along `direction` (one per control),
 * one forward sweep.
 *
 * @example
 * const x = new AdjFloat(2);
 * computeTLM(np.square(x), new Control(x), 1).value; // 4
 */
export function computeTLM<V extends OverloadedValue, const C extends Controls>(
  output: V,
  controls: C,
  direction: ControlInputs<C>,
  options: TapeOption = {},
): ValueType<V> {
  const operation = "computeTLM";
  const tape = driverTape(options, ["tape"], operation);
  const variable = checkFunctional(output, operation).blockVariable;
  const list = checkControls(controls, operation);
  const seeds = directionList(list, direction, operation);
  const path = findPath(
    tape,
    list.map((c) => c.blockVariable),
    [variable],
    operation,
  );
  checkFiniteInputs(path, operation);
  tlmSweep(path, seeds);
  const result = variable.tlm ?? spaceOf(variable.saved).zerosLike(variable.saved);
  checkFiniteResults(path, [result], "tlm", operation);
  // cast: wrapRaw rebuilds the output's registered type from its raw tangent (AdjFloat for a number,
  // NDArray for an array, a user type itself): ValueType<V>
  return wrapRaw(result, operation) as ValueType<V>;
}

/**
 * Hessian action: H m for the Hessian of `functional` (or of `<adjValue, output>`) with respect to
 * `controls`, by one forward tangent-linear sweep and one reverse second-order sweep. Needs no prior
 * `computeGradient`.
 *
 * @example
 * const x = new AdjFloat(2);
 * computeHessian(np.power(x, 3), new Control(x), 1).value; // 6 x = 12
 */
export function computeHessian<const C extends Controls>(
  functional: OverloadedValue,
  controls: C,
  direction: ControlInputs<C>,
  options: AdjointOptions = {},
): PerControl<C> {
  const operation = "computeHessian";
  const tape = driverTape(options, ["tape", "adjValue"], operation);
  const output = checkFunctional(functional, operation).blockVariable;
  const list = checkControls(controls, operation);
  const seeds = directionList(list, direction, operation);
  const seed = adjointSeed(output.saved, options.adjValue, operation);
  const path = findPath(
    tape,
    list.map((c) => c.blockVariable),
    [output],
    operation,
  );
  checkFiniteInputs(path, operation);
  tlmSweep(path, seeds, { forSecondOrder: true });
  hessianSweep(path, [seed], { controlAdjoints: false });
  const results = collectSlot(path, "hessian");
  checkFiniteResults(path, results, "hessian", operation);
  return perControl(
    controls,
    results.map((raw) => wrapRaw(raw, operation)),
  );
}
