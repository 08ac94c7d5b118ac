/**
 * @file ReducedFunctional: a scalar functional seen as a function of its controls, J(m). Evaluates by
 * replaying the tape; gives the gradient, tangent-linear action and Hessian action at the tape's values.
 */
import { InvalidArgumentError, NonScalarFunctionalError } from "../errors.js";
import { checkOptions } from "../options.js";
import {
  adjointSweep,
  checkFiniteInputs,
  checkFiniteResults,
  findPath,
  hessianSweep,
  replay,
  type SweepPath,
  tlmSweep,
} from "../tape/sweeps.js";
import { currentMarkEpoch, getWorkingTape, type Tape } from "../tape/tape.js";
import type { OverloadedValue } from "../values/overloaded.js";
import { describeShape, spaceOf, wrapRaw } from "../values/space.js";
import { checkNumberOption, checkOverloaded, checkTape, perSlotValues } from "./arguments.js";
import {
  type ControlInputs,
  type ControlList,
  type Controls,
  type ControlValueList,
  collectSlot,
  controlList,
  controlValueList,
  directionList,
  type PerControl,
  perControl,
} from "./drivers.js";

/** The number in a scalar raw value (a number or any size-1 value), or undefined. */
function scalarOf(raw: unknown): number | undefined {
  if (typeof raw === "number") return raw;
  if (raw === undefined || raw === null) return undefined;
  try {
    const space = spaceOf(raw);
    return space.size(raw) === 1 ? space.toFloat64Array(raw)[0] : undefined;
  } catch {
    return undefined;
  }
}

const CALLBACK_NAMES = [
  "evalCbPre",
  "evalCbPost",
  "deriveCbPre",
  "deriveCbPost",
  "hessianCbPre",
  "hessianCbPost",
] as const;

/** Checks the callbacks object: known names, each a function. */
function checkCallbacks(
  callbacks: ReducedFunctionalCallbacks | undefined,
  operation: string,
): ReducedFunctionalCallbacks {
  const checked = checkOptions(operation, callbacks, [...CALLBACK_NAMES]);
  for (const name of CALLBACK_NAMES) {
    const hook = checked[name];
    if (hook !== undefined && typeof hook !== "function") {
      throw new InvalidArgumentError(operation, `callbacks.${name} must be a function, got ${typeof hook}`);
    }
  }
  return checked;
}

/** Hooks called around evaluations and derivatives (for logging, plotting, stopping). */
export interface ReducedFunctionalCallbacks {
  /** Before an evaluation, with the new control values. */
  evalCbPre?(values: OverloadedValue[]): void;
  /** After an evaluation, with the functional's value and the control values. */
  evalCbPost?(value: number, values: OverloadedValue[]): void;
  /** Before a derivative, with the control values. */
  deriveCbPre?(values: OverloadedValue[]): void;
  /** After a derivative, with the functional's value, the derivatives and the control values. */
  deriveCbPost?(value: number, derivatives: OverloadedValue[], values: OverloadedValue[]): void;
  /** Before a Hessian action, with the control values and the direction. */
  hessianCbPre?(values: OverloadedValue[], direction: OverloadedValue[]): void;
  /** After a Hessian action, with its result. */
  hessianCbPost?(result: OverloadedValue[], values: OverloadedValue[]): void;
}

/** Options of `new ReducedFunctional`. */
export interface ReducedFunctionalOptions {
  /** The tape the functional was recorded on (default: the working tape at construction). */
  tape?: Tape;
  /** Indices of the controls to differentiate; the others get zero derivatives. Default: all. */
  derivativeComponents?: readonly number[];
  /** Multiplies the functional and its derivatives (e.g. -1 to maximise with a minimiser). */
  scale?: number;
  /** Hooks around evaluations and derivatives. */
  callbacks?: ReducedFunctionalCallbacks;
}

/**
 * A recorded scalar functional J as a function of its controls m. `evaluate(m)` replays the tape at new
 * control values without recording anything; `derivative`, `tlm` and `hessian` work at the values the
 * tape holds (after `evaluate(m)`, at m). No call leaves state that changes the next one: `hessian`
 * works without a prior `derivative`.
 *
 * @example
 * const x = new AdjFloat(1);
 * const J = np.sin(np.square(x));
 * const rf = new ReducedFunctional(J, new Control(x));
 * rf.evaluate(2); // sin(4)
 * rf.derivative().value; // 4 cos(4): derivative() is an AdjFloat for an AdjFloat control
 * rf.hessian(1).value; // 2 cos(4) - 16 sin(4)
 *
 * // a tuple of controls gives a tuple of derivatives
 * const p = np.array([1, 2]);
 * const K = np.sum(np.multiply(np.sin(p), x));
 * const rg = new ReducedFunctional(K, [new Control(p), new Control(x)]);
 * const [dp, dx] = rg.derivative(); // [NDArray, AdjFloat]
 */
export class ReducedFunctional<const C extends Controls = Controls> {
  /** The recorded functional. */
  readonly functional: OverloadedValue;
  /** The controls, always as a list (typed: `readonly [Control<AdjFloat>]` for one AdjFloat control). */
  readonly controls: ControlList<C>;
  /** The tape the functional lives on. */
  readonly tape: Tape;
  /** Multiplier applied to the functional and its derivatives. */
  readonly scale: number;
  private readonly controlsArgument: C;
  private readonly components: readonly number[] | undefined;
  private readonly callbacks: ReducedFunctionalCallbacks;
  private cachedPath: { partial: boolean; version: number; epoch: number; path: SweepPath } | undefined;

  constructor(functional: OverloadedValue, controls: C, options: ReducedFunctionalOptions = {}) {
    const operation = "new ReducedFunctional";
    checkOptions(operation, options, ["tape", "derivativeComponents", "scale", "callbacks"]);
    this.functional = checkOverloaded(functional, operation, "the functional");
    this.controlsArgument = controls;
    this.controls = controlList(controls, operation);
    this.tape = checkTape(options.tape, operation) ?? getWorkingTape();
    this.scale = checkNumberOption(operation, "scale", options.scale) ?? 1;
    this.callbacks = checkCallbacks(options.callbacks, operation);
    const components = options.derivativeComponents;
    if (components !== undefined && !Array.isArray(components)) {
      throw new InvalidArgumentError(
        operation,
        `derivativeComponents must be an array of control indices, got ${typeof components}`,
      );
    }
    this.components = components;
    const saved = functional.blockVariable.saved;
    if (scalarOf(saved) === undefined) {
      throw new NonScalarFunctionalError(
        operation,
        `the functional has shape ${describeShape(saved)}, not a scalar; reduce it to a scalar (np.sum) or use ReducedFunction for vector outputs`,
      );
    }
    for (const index of this.components ?? []) {
      if (!Number.isInteger(index) || index < 0 || index >= this.controls.length) {
        throw new InvalidArgumentError(
          operation,
          `derivativeComponents entry ${index} is not a control index (0..${this.controls.length - 1})`,
        );
      }
    }
    // Fail early when a control or the functional is not on the tape.
    this.path("new ReducedFunctional", false);
  }

  /**
   * The blocks between the controls (all, or the differentiated components) and the functional. The walk
   * is reused while the tape is unchanged and no other walk has moved the markers since; this is a cache
   * of the tape's structure, never of values or derivatives.
   */
  private path(operation: string, onlyComponents: boolean): SweepPath {
    const components = onlyComponents ? this.components : undefined;
    const partial = components !== undefined;
    const cached = this.cachedPath;
    if (
      cached !== undefined &&
      cached.partial === partial &&
      cached.version === this.tape.version &&
      cached.epoch === currentMarkEpoch()
    ) {
      return cached.path;
    }
    const variables = this.controls.map((c) => c.blockVariable);
    const chosen = components !== undefined ? components.map((i) => variables[i]) : variables;
    const path = findPath(this.tape, chosen, [this.functional.blockVariable], operation);
    this.cachedPath = { partial, version: this.tape.version, epoch: currentMarkEpoch(), path };
    return path;
  }

  /**
   * @internal What `compileFunctional` needs to mirror this functional: the controls argument as given,
   * the differentiated components and the callbacks.
   */
  _compileInfo(): {
    controls: C;
    components: readonly number[] | undefined;
    callbacks: ReducedFunctionalCallbacks;
  } {
    return { controls: this.controlsArgument, components: this.components, callbacks: this.callbacks };
  }

  /**
   * The values the tape holds for the controls now, always as a list (typed like the controls).
   *
   * @example
   * const [m] = rf.controlValues(); // AdjFloat for an AdjFloat control
   */
  controlValues(): ControlValueList<C> {
    return controlValueList(this.controls);
  }

  /**
   * J at new control values (one per control; a single value for a single control), by replaying the
   * blocks between the controls and J. Nothing is recorded. The tape keeps the new values.
   *
   * @example
   * rf.evaluate(0.5);
   * rf.evaluate([x0, y0]); // two controls
   */
  evaluate(values: ControlInputs<C>): number {
    const operation = "ReducedFunctional.evaluate";
    const raws = this.controlRaws(values, operation);
    this.callbacks.evalCbPre?.(raws.map((raw) => wrapRaw(raw)));
    const path = this.path(operation, false);
    replay(path, raws);
    const value = this.value();
    this.callbacks.evalCbPost?.(
      value,
      raws.map((raw) => wrapRaw(raw)),
    );
    return value;
  }

  /** The scaled functional value the tape holds now. */
  value(): number {
    return (scalarOf(this.functional.blockVariable.saved) ?? Number.NaN) * this.scale;
  }

  /**
   * The new control values as raw values. Plain data is accepted: a number for an AdjFloat or 0-d NDArray
   * control, a nested number array or Float64Array for an NDArray control. An array argument is read as one
   * value per control when its entries fit the controls; with one control, otherwise as that control's
   * value (so `[[1, 2, 3]]` and `[1, 2, 3]` both set one control of shape [3]).
   */
  private controlRaws(values: unknown, operation: string): unknown[] {
    return perSlotValues(
      this.controls.map((c) => c.blockVariable.saved),
      values,
      operation,
      "control",
      "value",
    );
  }

  /**
   * dJ/dm at the tape's control values, by one reverse sweep. A single control gives a single value.
   * `adjInput` multiplies the result (default 1).
   *
   * @example
   * const g = rf.derivative(); // AdjFloat for an AdjFloat control; [NDArray, AdjFloat] for such a tuple
   * g.value;
   */
  derivative(options: { adjInput?: number } = {}): PerControl<C> {
    const operation = "ReducedFunctional.derivative";
    checkOptions(operation, options, ["adjInput"]);
    checkNumberOption(operation, "adjInput", options.adjInput);
    const values = this.controlValues();
    this.callbacks.deriveCbPre?.(values);
    const path = this.path(operation, true);
    checkFiniteInputs(path, operation);
    adjointSweep(path, [this.seed((options.adjInput ?? 1) * this.scale)]);
    const results = this.expand(path, collectSlot(path, "adj"));
    checkFiniteResults(path, results, "adj", operation);
    const wrapped = results.map((raw) => wrapRaw(raw, operation));
    this.callbacks.deriveCbPost?.(this.value(), wrapped, values);
    return perControl(this.controlsArgument, wrapped);
  }

  /**
   * dJ/dm . mDot, the directional derivative along `mDot` (one direction per control), by one forward
   * sweep.
   *
   * @example
   * rf.tlm(1); // dJ/dx for a single AdjFloat control
   */
  tlm(mDot: ControlInputs<C>): number {
    const operation = "ReducedFunctional.tlm";
    const seeds = directionList(this.controls, mDot, operation);
    const path = this.path(operation, true);
    checkFiniteInputs(path, operation);
    tlmSweep(path, this.chosen(seeds));
    const tlm = this.functional.blockVariable.tlm;
    const result = (tlm === undefined ? 0 : (scalarOf(tlm) ?? 0)) * this.scale;
    checkFiniteResults(path, [result], "tlm", operation);
    return result;
  }

  /**
   * The Hessian action H mDot (one direction per control), by a forward tangent-linear sweep and one
   * reverse second-order sweep. Needs no prior `derivative()`.
   *
   * @example
   * rf.hessian(1).value; // d2J/dx2 for a single AdjFloat control
   */
  hessian(mDot: ControlInputs<C>): PerControl<C> {
    const operation = "ReducedFunctional.hessian";
    const seeds = directionList(this.controls, mDot, operation);
    const values = this.controlValues();
    this.callbacks.hessianCbPre?.(
      values,
      seeds.map((raw) => wrapRaw(raw)),
    );
    const path = this.path(operation, true);
    checkFiniteInputs(path, operation);
    tlmSweep(path, this.chosen(seeds), { forSecondOrder: true });
    hessianSweep(path, [this.seed(this.scale)], { controlAdjoints: false });
    const results = this.expand(path, collectSlot(path, "hessian"));
    checkFiniteResults(path, results, "hessian", operation);
    const wrapped = results.map((raw) => wrapRaw(raw, operation));
    this.callbacks.hessianCbPost?.(wrapped, values);
    return perControl(this.controlsArgument, wrapped);
  }

  /** The adjoint seed `factor` in the functional's raw type (a number, or a size-1 array). */
  private seed(factor: number): unknown {
    const saved = this.functional.blockVariable.saved;
    if (typeof saved === "number") return factor;
    return spaceOf(saved).fromFloat64Array(saved, Float64Array.of(factor));
  }

  /** The seeds of the differentiated components, in path order. */
  private chosen(seeds: unknown[]): unknown[] {
    return this.components === undefined ? seeds : this.components.map((i) => seeds[i]);
  }

  /** Per-control results from per-component results: zeros for controls not differentiated. */
  private expand(_path: SweepPath, results: unknown[]): unknown[] {
    if (this.components === undefined) return results;
    const full = this.controls.map((c) => spaceOf(c.blockVariable.saved).zerosLike(c.blockVariable.saved));
    this.components.forEach((controlIndex, k) => {
      full[controlIndex] = results[k];
    });
    return full;
  }
}
