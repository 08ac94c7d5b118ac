/**
 * @file Checks and conversions of the arguments of the drivers and the reduced functionals: controls,
 * functionals, the `{ tape }` option, and values given for a control or an output (new control values,
 * directions, adjoint seeds). Plain data is accepted where it is unambiguous: a number for a scalar (an
 * AdjFloat or a 0-d NDArray), a nested number array or a `Float64Array` for an NDArray.
 */
import { ControlCountMismatchError, InvalidArgumentError, ShapeMismatchError } from "../errors.js";
import { checkNumber } from "../options.js";
import { Tape } from "../tape/tape.js";
import { array, formatShape, NDArray, shapesEqual } from "../values/ndarray.js";
import { OverloadedValue } from "../values/overloaded.js";
import { describeType, spaceOf, specOfRaw } from "../values/space.js";
import { Control } from "./control.js";

/** @internal checks the `tape` entry of an options object: undefined or a Tape */
export function checkTape(tape: unknown, operation: string): Tape | undefined {
  if (tape === undefined || tape instanceof Tape) return tape;
  throw new InvalidArgumentError(operation, `options.tape must be a Tape, got ${describeValue(tape)}`);
}

/** @internal an optional finite number option: undefined, or checked with checkNumber */
export function checkNumberOption(operation: string, name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkNumber(operation, name, value);
}

/** @internal the controls argument as a list, each entry checked to be a Control */
export function checkControls(controls: unknown, operation: string): readonly Control[] {
  const list: readonly unknown[] = Array.isArray(controls) ? controls : [controls];
  if (list.every(isControl)) return list;
  const index = list.findIndex((control) => !isControl(control));
  const where = Array.isArray(controls) ? `controls[${index}]` : "controls";
  throw new InvalidArgumentError(
    operation,
    `${where} must be a Control (new Control(x) for a recorded AdjFloat / NDArray x), got ${describeValue(list[index])}`,
  );
}

function isControl(value: unknown): value is Control {
  return value instanceof Control;
}

/** @internal checks that `value` is an overloaded value (the functional or an output) */
export function checkOverloaded(value: unknown, operation: string, name: string): OverloadedValue {
  if (!(value instanceof OverloadedValue)) {
    throw new InvalidArgumentError(
      operation,
      `${name} must be a recorded overloaded value (AdjFloat, NDArray, ...), got ${describeValue(value)}`,
    );
  }
  return value;
}

/** A description of a raw value for messages: "a number", "an NDArray of shape [3]". */
export function describeRaw(raw: unknown): string {
  if (typeof raw === "number") return "a number (AdjFloat)";
  if (raw instanceof NDArray) return `an NDArray of shape ${formatShape(raw.shape)}`;
  try {
    return `a ${describeType(raw)} of shape ${formatShape(spaceOf(raw).shape(raw))}`;
  } catch {
    return describeValue(raw);
  }
}

/** A short description of any value for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 20))}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof OverloadedValue) return describeRaw(value.raw());
  if (typeof value === "object") return `a ${describeType(value)}`;
  return typeof value;
}

/** What a value like `like` may be given as, for messages. */
function expectedOf(like: unknown): string {
  if (typeof like === "number") return "a number or an AdjFloat";
  if (like instanceof NDArray) {
    const shape = formatShape(like.shape);
    return like.shape.length === 0
      ? "a 0-d NDArray or a number"
      : `an NDArray of shape ${shape} (or a nested number array / Float64Array of that shape)`;
  }
  return describeRaw(like);
}

/**
 * @internal `value` as a raw value of the same type and shape as `like` (the value it stands for: a
 * control's or an output's), or a typed error saying what was expected and what was received. A number
 * stands for a number or a 0-d NDArray; a nested number array for an NDArray of its shape; a Float64Array
 * for an NDArray of the same size (filled in row-major order).
 */
export function coerceLike(like: unknown, value: unknown, what: string, operation: string): unknown {
  const fail = (): never => {
    const received = value instanceof OverloadedValue ? describeRaw(value.raw()) : describeValue(value);
    const message = `${what}: expected ${expectedOf(like)}, got ${received}`;
    const likeShape = shapeOf(like);
    const valueShape = value instanceof OverloadedValue ? shapeOf(value.raw()) : shapeOf(value);
    if (likeShape !== undefined && valueShape !== undefined && !shapesEqual(likeShape, valueShape)) {
      throw new ShapeMismatchError(operation, [likeShape, valueShape], message);
    }
    throw new InvalidArgumentError(operation, message);
  };
  let raw: unknown = value instanceof OverloadedValue ? value.raw() : value;
  if (typeof like === "number") {
    if (typeof raw === "number" && !Number.isNaN(raw)) return raw;
    return fail();
  }
  if (like instanceof NDArray) {
    if (typeof raw === "number" && like.shape.length === 0 && !Number.isNaN(raw)) {
      return new NDArray(Float64Array.of(raw), []);
    }
    if (raw instanceof Float64Array) {
      if (raw.length !== like.size) return fail();
      raw = new NDArray(Float64Array.from(raw), like.shape);
    } else if (Array.isArray(raw)) {
      raw = array(raw);
    }
    if (!(raw instanceof NDArray) || !shapesEqual(raw.shape, like.shape)) return fail();
    return raw;
  }
  // a registered type: same space and shape
  if (raw === null || raw === undefined || typeof raw !== "object") return fail();
  try {
    specOfRaw(raw, operation);
  } catch {
    return fail();
  }
  const space = spaceOf(like, operation);
  const valueSpace = spaceOf(raw, operation);
  if (space !== valueSpace || !shapesEqual(space.shape(like), valueSpace.shape(raw))) return fail();
  return raw;
}

function shapeOf(value: unknown): readonly number[] | undefined {
  if (typeof value === "number") return [];
  if (value instanceof NDArray) return value.shape;
  if (value instanceof Float64Array) return [value.length];
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let current: unknown = value;
    while (Array.isArray(current)) {
      shape.push(current.length);
      current = current[0];
    }
    return shape;
  }
  try {
    return spaceOf(value).shape(value);
  } catch {
    return undefined;
  }
}

/** Whether `value` can stand for `like` (see coerceLike), without throwing. */
function fits(like: unknown, value: unknown): boolean {
  if (value === undefined) return false;
  try {
    coerceLike(like, value, "", "");
    return true;
  } catch {
    return false;
  }
}

/**
 * @internal One raw value per slot (control or output) from what the user gave. The ambiguity between "a
 * list of per-slot values" and "a nested array that is the value of a single slot" is resolved by the
 * slots' shapes: an array with one entry per slot whose entries all fit their slots is the list; otherwise,
 * with one slot, the whole argument is that slot's value (so `[[1, 2, 3]]` and `[1, 2, 3]` both set one
 * NDArray control of shape [3]). With `allowUndefined`, an `undefined` entry of the list is kept (a zero
 * adjoint seed). Errors say, per slot, what was expected and what was received.
 */
export function perSlotValues(
  likes: readonly unknown[],
  values: unknown,
  operation: string,
  slot: "control" | "output",
  name: string,
  allowUndefined = false,
): unknown[] {
  const count = likes.length;
  const entryFits = (like: unknown, value: unknown) =>
    (allowUndefined && value === undefined) || fits(like, value);
  if (Array.isArray(values) && values.length === count && values.every((v, i) => entryFits(likes[i], v))) {
    return values.map((v, i) =>
      v === undefined ? undefined : coerceLike(likes[i], v, `${name} ${i}`, operation),
    );
  }
  if (count === 1) {
    if (allowUndefined && values === undefined) return [undefined];
    if (fits(likes[0], values)) return [coerceLike(likes[0], values, name, operation)];
    if (Array.isArray(values) && values.length === 1) {
      return [coerceLike(likes[0], values[0], `${name} 0`, operation)];
    }
    return [coerceLike(likes[0], values, `${name} for the ${slot}`, operation)];
  }
  if (!Array.isArray(values) || values.length !== count) {
    throw new ControlCountMismatchError(
      operation,
      `${count} ${slot}(s) but ${Array.isArray(values) ? `${values.length} ${name}(s)` : `one ${name} (${describeValue(values)})`}; ` +
        `give an array with one ${name} per ${slot}, in order`,
    );
  }
  // the list has the right length: the first entry that does not fit says why
  return values.map((v, i) =>
    allowUndefined && v === undefined ? undefined : coerceLike(likes[i], v, `${name} ${i}`, operation),
  );
}
