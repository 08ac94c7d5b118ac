/**
 * @file JAX-style function transforms over the tape: grad, valueAndGrad, vjp, jvp, hvp, jacobian and
 * hessian. Each call records `f` on a private tape (see trace.ts) and runs the sweeps the drivers are built
 * on; the working tape is never touched, except that a call on recorded values while annotation is on adds
 * ONE block for the call (see blocks.ts), so transforms nest and compose with the rest of the library.
 */
import { InvalidArgumentError, NonScalarFunctionalError, ShapeMismatchError } from "../errors.js";
import { checkNumber, checkOptions } from "../options.js";
import { annotating } from "../tape/annotation.js";
import type { AdjContext, HessianContext, TlmContext } from "../tape/block.js";
import { AdjFloat } from "../values/adj-float.js";
import "../values/ndarray-space.js";
import { array, formatShape, NDArray, shapesEqual } from "../values/ndarray.js";
import { describeType } from "../values/space.js";
import {
  accumulateInto,
  DependencyPlan,
  freshRaw,
  recordTransform,
  seedValues,
  type TransformRules,
} from "./blocks.js";
import {
  type Argnums,
  describeTreeDef,
  flattenLike,
  type JacobianTree,
  type Leaf,
  type Like,
  type LikeEach,
  type OutputLike,
  type PyTree,
  type SeedEach,
  type SeedOf,
  type Selected,
  type TreeDef,
  treeUnflatten,
} from "./pytree.js";
import { arraySlot, type InputSlot, isOverloadedLeaf, scalarSlot, Trace } from "./trace.js";

/** Options of `grad`, `valueAndGrad`, `jacobian` and `hessian`. */
export interface TransformOptions<N extends Argnums = Argnums> {
  /**
   * Which positional argument(s) to differentiate (JAX's `argnums`): one index (default 0) gives one
   * result shaped like that argument; an array of indices gives an array of results.
   */
  readonly argnums?: N;
}

/**
 * What a transform's implementation calls: `f` with the traced arguments. The exported signatures type `f`
 * by its parameters; `f` receives private copies of the leaves (numbers of the differentiated arguments as
 * AdjFloats, as documented), which its declared parameter types do not describe.
 */
type AnyFunction = (...args: unknown[]) => unknown;

// ---------------------------------------------------------------------------------------------------------
// checks and conversions

function checkFunction(operation: string, f: unknown): asserts f is AnyFunction {
  if (typeof f !== "function") {
    throw new InvalidArgumentError(
      operation,
      `the first argument must be a function, got ${describeType(f)}`,
    );
  }
}

function parseArgnums(operation: string, options: TransformOptions | undefined): Argnums {
  const opts = checkOptions(operation, options, ["argnums"]);
  const argnums: unknown = opts.argnums ?? 0;
  if (typeof argnums === "number") {
    return checkNumber(operation, "argnums", argnums, { integer: true, nonNegative: true });
  }
  if (!Array.isArray(argnums) || argnums.length === 0) {
    throw new InvalidArgumentError(
      operation,
      `argnums must be an argument index or a non-empty array of indices, got ${Array.isArray(argnums) ? "[]" : describeType(argnums)}`,
    );
  }
  argnums.forEach((n, i) => {
    checkNumber(operation, `argnums[${i}]`, n, { integer: true, nonNegative: true });
  });
  return argnums;
}

function argnumList(operation: string, argnums: Argnums, count: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const n of list) {
    if (n >= count) {
      throw new InvalidArgumentError(
        operation,
        `argnums ${n} is out of range: the function was called with ${count} argument(s)` +
          (count > 0 ? ` (indices 0 to ${count - 1})` : ""),
      );
    }
  }
  return list;
}

function checkTuple(operation: string, what: string, value: unknown, length?: number): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(
      operation,
      `${what} must be an array with one entry per argument of the function (JAX's tuple), got ${describeType(value)}`,
    );
  }
  if (length !== undefined && value.length !== length) {
    throw new InvalidArgumentError(
      operation,
      `${what} has ${value.length} entries but there are ${length} primals; give one per primal`,
    );
  }
  return value;
}

function shapeOfRaw(raw: unknown): readonly number[] {
  return raw instanceof NDArray ? raw.shape : [];
}

/** The adjoint seed of a scalar output: 1 for a number, ones for an NDArray of size 1. */
function scalarSeed(operation: string, raw: unknown): unknown {
  if (typeof raw === "number") return 1;
  if (raw instanceof NDArray && raw.size === 1) return new NDArray(Float64Array.of(1), raw.shape);
  throw new NonScalarFunctionalError(
    operation,
    `the function returned shape ${formatShape(shapeOfRaw(raw))}; ${operation} needs a scalar output ` +
      "(a number, an AdjFloat or an NDArray of size 1): reduce it (np.sum, np.mean), or use vjp / jacobian",
  );
}

function checkScalarOutput(operation: string, trace: Trace): unknown {
  if (trace.outDef.kind !== "leaf") {
    throw new NonScalarFunctionalError(
      operation,
      `the function returned a tree of structure ${describeTreeDef(trace.outDef)}; ${operation} needs one scalar ` +
        "output (use vjp or jacobian for several outputs)",
    );
  }
  return scalarSeed(operation, trace.outputValue(0));
}

/**
 * A seed (a tangent or a cotangent) as the raw value of the slot `like`. Plain data converts (a number for
 * a 0-d NDArray, nested arrays for an NDArray); a recorded value must match the slot's type and shape.
 */
function rawSeed(operation: string, what: string, like: unknown, value: unknown): unknown {
  const expected =
    typeof like === "number"
      ? "a number or an AdjFloat"
      : `an NDArray of shape ${formatShape(shapeOfRaw(like))}`;
  if (typeof like === "number") {
    if (typeof value === "number") return value;
    if (value instanceof AdjFloat) return value.value;
  } else if (like instanceof NDArray) {
    const shape = like.shape;
    if (value instanceof NDArray) {
      if (shapesEqual(value.shape, shape)) return value;
      throw new ShapeMismatchError(operation, [value.shape, shape], `${what} must be ${expected}`);
    }
    if (typeof value === "number" && shape.length === 0) return new NDArray(Float64Array.of(value), shape);
    if (Array.isArray(value) || value instanceof Float64Array) {
      const converted = array(value);
      if (shapesEqual(converted.shape, shape)) return converted;
      throw new ShapeMismatchError(operation, [converted.shape, shape], `${what} must be ${expected}`);
    }
  }
  throw new InvalidArgumentError(operation, `${what} must be ${expected}, got ${describeType(value)}`);
}

/** A result for an input leaf: shaped and typed like what the caller passed. */
function inputLeaf(raw: unknown, user: Leaf): Leaf {
  if (typeof user === "number") return raw === undefined ? 0 : scalarSlot(raw);
  if (user instanceof AdjFloat) return new AdjFloat(raw === undefined ? 0 : scalarSlot(raw));
  const array = arraySlot(raw);
  if (array === undefined) return new NDArray(new Float64Array(user.size), user.shape);
  return new NDArray(array.data, user.shape);
}

/** A result for an output leaf: typed like what `f` returned (AdjFloat as number when all inputs are numbers). */
function outputLeaf(raw: unknown, leaf: Leaf, numberMode: boolean): Leaf {
  if (typeof leaf === "number") return raw === undefined ? 0 : scalarSlot(raw);
  if (leaf instanceof AdjFloat) {
    const value = raw === undefined ? 0 : scalarSlot(raw);
    return numberMode ? value : new AdjFloat(value);
  }
  const array = arraySlot(raw);
  // a fresh NDArray (same data), so that a result never carries another value's tape link
  return array === undefined
    ? new NDArray(new Float64Array(leaf.size), leaf.shape)
    : new NDArray(array.data, array.shape);
}

function slotMask(trace: Trace, args: readonly number[]): boolean[] {
  const mask = trace.controls.map(() => false);
  for (const a of args) for (const slot of trace.slotsOf(a)) mask[slot.control] = true;
  return mask;
}

function inputMask(trace: Trace): boolean[] {
  return trace.controls.map((_, c) => c < trace.inputControls);
}

function selectedDef(trace: Trace, list: readonly number[], single: boolean): TreeDef {
  return single ? trace.argDefs[list[0]] : { kind: "array", children: list.map((a) => trace.argDefs[a]) };
}

function selectedSlots(trace: Trace, list: readonly number[]): InputSlot[] {
  return list.flatMap((a) => trace.slotsOf(a));
}

/** Per-argument trees from leaves laid out argument after argument. */
function argumentTrees(trace: Trace, list: readonly number[], leaves: readonly unknown[]): unknown[] {
  let position = 0;
  return list.map((a) => {
    const count = trace.argSlots[a].length;
    const tree = treeUnflatten(trace.argDefs[a], leaves.slice(position, position + count));
    position += count;
    return tree;
  });
}

// ---------------------------------------------------------------------------------------------------------
// the rules of a recorded grad / valueAndGrad / vjp call

/** What one result leaf of a pullback-like call is: f's output leaf k, or the cotangent of control c. */
type ResultKind =
  | { readonly kind: "value"; readonly leaf: number }
  | { readonly kind: "cotangent"; readonly control: number };

const THIRD_ORDER =
  "its tangent-linear and adjoint rules are Hessian actions of the function; a second-order rule would " +
  "need third derivatives, which the private tape does not give (grad(grad(grad(f))) and Hessians of programs " +
  "that call grad are not supported)";

/**
 * Rules of a block whose outputs are values of f (y = f(x)) and cotangents xbar = J^T ybar (ybar constant or
 * recorded): TLM ydot = J xdot, xbardot = H_ybar xdot + J^T ybardot; adjoint xbar += J^T w_y + H_ybar w_c,
 * ybar gets J w_c; second order only without cotangent outputs.
 */
function pullbackRules(
  plan: DependencyPlan,
  kinds: readonly ResultKind[],
  positions: readonly number[],
  seedDependency: readonly number[],
  seedConstants: readonly unknown[],
): Omit<TransformRules, "recompute"> {
  const trace = plan.trace;
  const outputs = positions.map((i) => kinds[i]);
  const hasCotangents = outputs.some((o) => o.kind === "cotangent");
  const leafCount = trace.outLeaves.length;
  const seeds = (inputs: readonly unknown[]) => seedValues(seedDependency, seedConstants, inputs);
  const splitSeeds = (values: readonly unknown[]) => {
    const perLeaf = new Array<unknown>(leafCount).fill(undefined);
    const perControl = new Array<unknown>(trace.controls.length).fill(undefined);
    outputs.forEach((o, j) => {
      if (o.kind === "value") accumulateInto(perLeaf, o.leaf, values[j]);
      else accumulateInto(perControl, o.control, values[j]);
    });
    return { perLeaf, perControl };
  };
  const anyDefined = (values: readonly unknown[]) => values.some((v) => v !== undefined);
  return {
    missing: THIRD_ORDER,
    tlm: ({ inputs, tlmInputs }: TlmContext) => {
      trace.sync(plan.controlValues(inputs));
      const xdot = plan.perControl(tlmInputs);
      if (!hasCotangents) {
        const tangents = trace.tangent(xdot);
        return outputs.map((o) => (o.kind === "value" ? tangents[o.leaf] : undefined));
      }
      const ybarDot = seedDependency.map((d) => (d >= 0 ? tlmInputs[d] : undefined));
      const r = trace.secondOrder(xdot, seeds(inputs), anyDefined(ybarDot) ? ybarDot : undefined);
      return outputs.map((o) => (o.kind === "value" ? r.tlm[o.leaf] : r.hessian[o.control]));
    },
    adj: ({ inputs, adjInputs }: AdjContext) => {
      trace.sync(plan.controlValues(inputs));
      const { perLeaf, perControl } = splitSeeds(adjInputs);
      const results = new Array<unknown>(inputs.length).fill(undefined);
      if (!anyDefined(perControl)) {
        if (!anyDefined(perLeaf)) return results;
        const adjoints = trace.adjoint(perLeaf);
        plan.controlDependency.forEach((d, c) => {
          accumulateInto(results, d, adjoints[c]);
        });
        return results;
      }
      const r = trace.secondOrder(perControl, seeds(inputs), anyDefined(perLeaf) ? perLeaf : undefined);
      plan.controlDependency.forEach((d, c) => {
        accumulateInto(results, d, r.hessian[c]);
      });
      seedDependency.forEach((d, k) => {
        accumulateInto(results, d, r.tlm[k]);
      });
      return results;
    },
    ...(hasCotangents
      ? {}
      : {
          hessian: ({ inputs, adjInputs, hessianInputs, tlmInputs }: HessianContext) => {
            trace.sync(plan.controlValues(inputs));
            const ybar = splitSeeds(adjInputs).perLeaf;
            const yhat = splitSeeds(hessianInputs).perLeaf;
            const r = trace.secondOrder(plan.perControl(tlmInputs), ybar, yhat);
            const results = new Array<unknown>(inputs.length).fill(undefined);
            plan.controlDependency.forEach((d, c) => {
              accumulateInto(results, d, r.hessian[c]);
            });
            return results;
          },
        }),
  };
}

/** A plan when the call is recorded: annotation was on and an input (or a seed) is an overloaded value. */
function planFor(nest: boolean, trace: Trace, seeds: readonly unknown[] = []): DependencyPlan | undefined {
  if (!nest) return undefined;
  if (trace.numberMode && trace.captures.length === 0 && !seeds.some(isOverloadedLeaf)) return undefined;
  return new DependencyPlan(trace);
}

/** What grad, jacobian and hessian set up for one call: f traced at the arguments, the selected ones. */
interface TracedCall {
  readonly list: readonly number[];
  /** Whether the call records one block on the working tape (annotation on). */
  readonly nest: boolean;
  readonly trace: Trace;
  /** The output seed (scalar output only; undefined otherwise). */
  readonly seed: unknown;
  readonly mask: boolean[];
  readonly slots: InputSlot[];
  readonly plan: DependencyPlan | undefined;
}

/** Traces f at `args` with the `argnums` arguments as controls (a scalar output checked when asked). */
function traceCall(
  operation: string,
  f: AnyFunction,
  argnums: Argnums,
  args: readonly unknown[],
  scalarOutput: boolean,
): TracedCall {
  const list = argnumList(operation, argnums, args.length);
  const nest = annotating();
  const active = new Set(list);
  const trace = new Trace(operation, f, args, (a) => active.has(a));
  const seed = scalarOutput ? checkScalarOutput(operation, trace) : undefined;
  const mask = slotMask(trace, list);
  const slots = selectedSlots(trace, list);
  const plan = planFor(nest, trace);
  return { list, nest, trace, seed, mask, slots, plan };
}

// ---------------------------------------------------------------------------------------------------------
// grad and valueAndGrad

function gradientCall(
  operation: string,
  f: AnyFunction,
  argnums: Argnums,
  args: readonly unknown[],
  withValue: boolean,
): unknown {
  const { list, nest, trace, seed, mask, slots, plan } = traceCall(operation, f, argnums, args, true);
  const compute = (inputs?: readonly unknown[]): Leaf[] => {
    trace.sync(plan === undefined ? trace.traced : plan.controlValues(inputs));
    const adjoints = trace.adjoint([seed], mask, inputs === undefined);
    const leaves: Leaf[] = [];
    if (withValue)
      leaves.push(outputLeaf(freshRaw(trace.outputValue(0)), trace.outLeaves[0], trace.numberMode));
    for (const slot of slots) leaves.push(inputLeaf(adjoints[slot.control], slot.user));
    return leaves;
  };
  const leaves = compute();
  if (plan !== undefined) {
    const kinds: ResultKind[] = [
      ...(withValue ? [{ kind: "value", leaf: 0 } as const] : []),
      ...slots.map((slot) => ({ kind: "cotangent", control: slot.control }) as const),
    ];
    recordTransform(nest, operation, plan, leaves, compute, (positions) =>
      pullbackRules(plan, kinds, positions, [-1], [seed]),
    );
  }
  const trees = argumentTrees(trace, list, withValue ? leaves.slice(1) : leaves);
  const gradient = typeof argnums === "number" ? trees[0] : trees;
  return withValue ? [leaves[0], gradient] : gradient;
}

/**
 * JAX's `grad`: the function that returns the gradient of the scalar function `f` with respect to argument
 * `argnums` (default 0), shaped and typed like that argument (a number gives a number, an AdjFloat an
 * AdjFloat, an NDArray an NDArray, an array / object of them the same structure). With an array of argnums
 * it returns an array of gradients. `f` is written with `np` (numbers you pass reach it as AdjFloats) and
 * must return a scalar (a number, an AdjFloat or an NDArray of size 1).
 *
 * Each call records `f` on a private tape. Called on AdjFloats / NDArrays while annotation is on, it also
 * records ONE block on the working tape whose rules are Hessian actions, so `grad(grad(f))` is exact and a
 * ReducedFunctional over a program that calls `grad(f)` differentiates through it.
 *
 * @example
 * const df = grad((x: Scalar) => np.power(x, 3));
 * df(2); // 12
 * grad(grad((x: Scalar) => np.power(x, 3)))(2); // 12 (= 6 x)
 * const [gx, gy] = grad((x: NDArray, y: NDArray) => np.sum(np.multiply(x, y)), { argnums: [0, 1] })(x, y);
 */
export function grad<A extends readonly PyTree[], const N extends Argnums = 0>(
  f: (...args: A) => Leaf,
  options?: TransformOptions<N>,
): <B extends A>(...args: B) => Like<Selected<B, N>>;
export function grad(f: AnyFunction, options?: TransformOptions): (...args: unknown[]) => unknown {
  checkFunction("grad", f);
  const argnums = parseArgnums("grad", options);
  return (...args: unknown[]) => gradientCall("grad", f, argnums, args, false);
}

/**
 * JAX's `value_and_grad`: like `grad`, but the returned function gives `[f(...args), gradient]`.
 *
 * @example
 * const [value, g] = valueAndGrad((x: NDArray) => np.sum(np.square(x)))(np.array([1, 2])); // 5, [2, 4]
 */
export function valueAndGrad<A extends readonly PyTree[], R extends Leaf>(
  f: (...args: A) => R,
  options?: TransformOptions<0>,
): <B extends A>(...args: B) => [OutputLike<R, B>, Like<B[0]>];
export function valueAndGrad<A extends readonly PyTree[], R extends Leaf, const N extends Argnums>(
  f: (...args: A) => R,
  options: TransformOptions<N>,
): <B extends A>(...args: B) => [OutputLike<R, B>, Like<Selected<B, N>>];
export function valueAndGrad(f: AnyFunction, options?: TransformOptions): (...args: unknown[]) => unknown {
  checkFunction("valueAndGrad", f);
  const argnums = parseArgnums("valueAndGrad", options);
  return (...args: unknown[]) => gradientCall("valueAndGrad", f, argnums, args, true);
}

// ---------------------------------------------------------------------------------------------------------
// vjp and jvp

/** Records the value of f (vjp's and jvp's primal output) with first- and second-order rules. */
function recordValue(nest: boolean, operation: string, trace: Trace, values: readonly Leaf[]): void {
  const plan = planFor(nest, trace);
  if (plan === undefined) return;
  const compute = (inputs: readonly unknown[]): Leaf[] => {
    trace.sync(plan.controlValues(inputs));
    return trace.outLeaves.map((leaf, k) =>
      outputLeaf(freshRaw(trace.outputValue(k)), leaf, trace.numberMode),
    );
  };
  const kinds: ResultKind[] = trace.outLeaves.map((_, k) => ({ kind: "value", leaf: k }));
  recordTransform(nest, operation, plan, values, compute, (positions) =>
    pullbackRules(plan, kinds, positions, [], []),
  );
}

/**
 * JAX's `vjp`: evaluates `f(...primals)` and returns `[value, pullback]`; `pullback(cotangent)` (a
 * cotangent shaped like the value) returns J^T cotangent as an array with one entry per primal, each
 * shaped and typed like its primal (JAX returns a tuple too, also for one primal).
 *
 * @example
 * const [y, pullback] = vjp((x: NDArray) => np.sin(x), np.array([0, 1]));
 * const [xbar] = pullback(np.array([1, 1])); // cos(x)
 */
export function vjp<A extends readonly PyTree[], R extends PyTree>(
  f: (...args: A) => R,
  ...primals: A
): [OutputLike<R, A>, (cotangent: SeedOf<R>) => LikeEach<A>];
export function vjp(f: AnyFunction, ...primals: unknown[]): unknown {
  const operation = "vjp";
  checkFunction(operation, f);
  const nest = annotating();
  const trace = new Trace(operation, f, primals, () => true);
  const values = trace.outLeaves.map((leaf, k) =>
    outputLeaf(freshRaw(trace.outputValue(k)), leaf, trace.numberMode),
  );
  recordValue(nest, operation, trace, values);
  const mask = inputMask(trace);
  const pullback = (cotangent: unknown): unknown => {
    const nestPullback = annotating();
    const seedLeaves = flattenLike(trace.outDef, cotangent, operation, "the cotangent");
    trace.sync();
    const seeds = seedLeaves.map((leaf, k) =>
      rawSeed(operation, `the cotangent of output leaf ${k}`, trace.outputValue(k), leaf),
    );
    const plan = planFor(nestPullback, trace, seedLeaves);
    const seedDependency = plan === undefined ? seedLeaves.map(() => -1) : plan.addSeeds(seedLeaves);
    const compute = (inputs?: readonly unknown[]): Leaf[] => {
      trace.sync(plan === undefined ? trace.traced : plan.controlValues(inputs));
      const adjoints = trace.adjoint(seedValues(seedDependency, seeds, inputs), mask, inputs === undefined);
      return trace.slots.map((slot) => inputLeaf(adjoints[slot.control], slot.user));
    };
    const leaves = compute();
    if (plan !== undefined) {
      const kinds: ResultKind[] = trace.slots.map((slot) => ({ kind: "cotangent", control: slot.control }));
      recordTransform(nestPullback, operation, plan, leaves, compute, (positions) =>
        pullbackRules(plan, kinds, positions, seedDependency, seeds),
      );
    }
    return argumentTrees(
      trace,
      primals.map((_, a) => a),
      leaves,
    );
  };
  return [treeUnflatten(trace.outDef, values), pullback];
}

/** The tangent seeds of a jvp / hvp call: per input control, the raw tangent; and the seed leaves per slot. */
function tangentSeeds(
  operation: string,
  trace: Trace,
  tangents: readonly unknown[],
): { seeds: unknown[]; leaves: unknown[] } {
  const leaves = tangents.flatMap((tangent, a) =>
    flattenLike(trace.argDefs[a], tangent, operation, `tangents[${a}]`),
  );
  const seeds = new Array<unknown>(trace.controls.length).fill(undefined);
  trace.slots.forEach((slot, s) => {
    seeds[slot.control] = rawSeed(
      operation,
      `the tangent of input leaf ${s}`,
      trace.traced[slot.control],
      leaves[s],
    );
  });
  return { seeds, leaves };
}

/**
 * JAX's `jvp`: `[f(...primals), J tangents]`, the value and the directional derivative along `tangents`
 * (one per primal, shaped like it), by one forward (tangent-linear) sweep.
 *
 * @example
 * const [y, ydot] = jvp((x: NDArray) => np.sin(x), [np.array([0, 1])], [np.array([1, 0])]); // ydot = [1, 0]
 */
export function jvp<A extends readonly PyTree[], R extends PyTree>(
  f: (...args: A) => R,
  primals: readonly [...A],
  tangents: NoInfer<SeedEach<A>>,
): [OutputLike<R, A>, OutputLike<R, A>];
export function jvp(f: AnyFunction, primals: unknown, tangents: unknown): unknown {
  const operation = "jvp";
  checkFunction(operation, f);
  const primalList = checkTuple(operation, "primals", primals);
  const tangentList = checkTuple(operation, "tangents", tangents, primalList.length);
  const nest = annotating();
  const trace = new Trace(operation, f, primalList, () => true);
  const { seeds, leaves: seedLeaves } = tangentSeeds(operation, trace, tangentList);
  const values = trace.outLeaves.map((leaf, k) =>
    outputLeaf(freshRaw(trace.outputValue(k)), leaf, trace.numberMode),
  );
  recordValue(nest, operation, trace, values);
  const mask = inputMask(trace);
  const plan = planFor(nest, trace, seedLeaves);
  const seedDependency = plan === undefined ? [] : plan.addSeeds(seedLeaves);
  const controlSeedDependency = trace.controls.map(() => -1);
  trace.slots.forEach((slot, s) => {
    if (seedDependency[s] !== undefined) controlSeedDependency[slot.control] = seedDependency[s];
  });
  const tangentsAt = (inputs: readonly unknown[] | undefined) =>
    seedValues(controlSeedDependency, seeds, inputs);
  const compute = (inputs?: readonly unknown[]): Leaf[] => {
    trace.sync(plan === undefined ? trace.traced : plan.controlValues(inputs));
    const out = trace.tangent(tangentsAt(inputs), mask, inputs === undefined);
    return trace.outLeaves.map((leaf, k) => outputLeaf(out[k], leaf, trace.numberMode));
  };
  const tangentOut = compute();
  if (plan !== undefined) {
    recordTransform(nest, operation, plan, tangentOut, compute, (positions) => ({
      missing:
        "a jvp result's adjoint is a Hessian action, but its tangent-linear rule needs second derivatives of f " +
        "along two forward directions, which the private tape does not give (use vjp or grad inside programs you differentiate forward)",
      adj: ({ inputs, adjInputs }: AdjContext) => {
        trace.sync(plan.controlValues(inputs));
        const w = new Array<unknown>(trace.outLeaves.length).fill(undefined);
        positions.forEach((k, j) => {
          accumulateInto(w, k, adjInputs[j]);
        });
        const r = trace.secondOrder(tangentsAt(inputs), w, undefined);
        const results = new Array<unknown>(inputs.length).fill(undefined);
        plan.controlDependency.forEach((d, c) => {
          accumulateInto(results, d, r.hessian[c]);
        });
        controlSeedDependency.forEach((d, c) => {
          accumulateInto(results, d, r.adj[c]);
        });
        return results;
      },
    }));
  }
  return [treeUnflatten(trace.outDef, values), treeUnflatten(trace.outDef, tangentOut)];
}

// ---------------------------------------------------------------------------------------------------------
// second order and dense matrices

const NO_HIGHER_ORDER =
  "its derivatives would need derivatives of f of one order more than the private tape gives";

/**
 * The Hessian-vector product of the scalar function `f` at `primals` along `tangents` (one per primal):
 * H v with respect to ALL primals, as an array with one entry per primal, shaped and typed like it. One
 * forward and one second-order reverse sweep (forward-over-reverse), no Hessian matrix. JAX has no `hvp`;
 * its cookbook's `hvp(f, primals, tangents) = jvp(grad(f), primals, tangents)[1]` is entry 0 of this result.
 *
 * @example
 * const [hv] = hvp((x: NDArray) => np.sum(np.power(x, 3)), [np.array([1, 2])], [np.array([1, 1])]); // 6 x v = [6, 12]
 */
export function hvp<A extends readonly PyTree[], R extends Leaf>(
  f: (...args: A) => R,
  primals: readonly [...A],
  tangents: NoInfer<SeedEach<A>>,
): LikeEach<A>;
export function hvp(f: AnyFunction, primals: unknown, tangents: unknown): unknown {
  const operation = "hvp";
  checkFunction(operation, f);
  const primalList = checkTuple(operation, "primals", primals);
  const tangentList = checkTuple(operation, "tangents", tangents, primalList.length);
  const nest = annotating();
  const trace = new Trace(operation, f, primalList, () => true);
  const seed = checkScalarOutput(operation, trace);
  const { seeds, leaves: seedLeaves } = tangentSeeds(operation, trace, tangentList);
  const mask = inputMask(trace);
  const plan = planFor(nest, trace, seedLeaves);
  const seedDependency = plan === undefined ? [] : plan.addSeeds(seedLeaves);
  const controlSeedDependency = trace.controls.map(() => -1);
  trace.slots.forEach((slot, s) => {
    if (seedDependency[s] !== undefined) controlSeedDependency[slot.control] = seedDependency[s];
  });
  const compute = (inputs?: readonly unknown[]): Leaf[] => {
    trace.sync(plan === undefined ? trace.traced : plan.controlValues(inputs));
    const v = seedValues(controlSeedDependency, seeds, inputs);
    const r = trace.secondOrder(v, [seed], undefined, mask, inputs === undefined);
    return trace.slots.map((slot) => inputLeaf(r.hessian[slot.control], slot.user));
  };
  const leaves = compute();
  if (plan !== undefined)
    recordTransform(nest, operation, plan, leaves, compute, () => ({ missing: NO_HIGHER_ORDER }));
  return argumentTrees(
    trace,
    primalList.map((_, a) => a),
    leaves,
  );
}

/** One dense entry: an NDArray `[...outShape, ...inShape]`, or a scalar typed like the input leaf. */
function denseEntry(block: NDArray | undefined, outRaw: unknown, outIsArray: boolean, user: Leaf): Leaf {
  const outShape = shapeOfRaw(outRaw);
  if (outIsArray || user instanceof NDArray) {
    const shape = [...outShape, ...(user instanceof NDArray ? user.shape : [])];
    if (block === undefined) return new NDArray(new Float64Array(shape.reduce((n, m) => n * m, 1)), shape);
    return new NDArray(block.data, shape);
  }
  const value = block === undefined ? 0 : block.data[0];
  return typeof user === "number" ? value : new AdjFloat(value);
}

/**
 * JAX's `jacobian` (reverse-mode `jacrev` layout): the function returning the dense Jacobian of `f` with
 * respect to argument `argnums`. Each output leaf of shape `out` and input leaf of shape `in` give an
 * entry of shape `[...out, ...in]` (a scalar by scalar entry is typed like the input leaf); the result is
 * the output's structure with, at each leaf, the input's structure (an array of them for an array of
 * argnums). Built by the Jacobian driver's forward propagation: for small inputs.
 *
 * @example
 * jacobian((x: NDArray) => np.multiply(x, x))(np.array([1, 2])); // [[2, 0], [0, 4]]
 */
export function jacobian<A extends readonly PyTree[], R extends PyTree>(
  f: (...args: A) => R,
  options?: TransformOptions<0>,
): <B extends A>(...args: B) => JacobianTree<R, B[0]>;
export function jacobian<A extends readonly PyTree[], R extends PyTree, const N extends Argnums>(
  f: (...args: A) => R,
  options: TransformOptions<N>,
): <B extends A>(...args: B) => JacobianTree<R, Selected<B, N>>;
export function jacobian(f: AnyFunction, options?: TransformOptions): (...args: unknown[]) => unknown {
  const operation = "jacobian";
  checkFunction(operation, f);
  const argnums = parseArgnums(operation, options);
  return (...args: unknown[]) => {
    const { list, nest, trace, mask, slots, plan } = traceCall(operation, f, argnums, args, false);
    const compute = (inputs?: readonly unknown[]): Leaf[] => {
      trace.sync(plan === undefined ? trace.traced : plan.controlValues(inputs));
      const blocks = trace.jacobian(mask, inputs === undefined);
      return trace.outLeaves.flatMap((leaf, k) =>
        slots.map((slot) =>
          denseEntry(blocks[k][slot.control], trace.outputValue(k), leaf instanceof NDArray, slot.user),
        ),
      );
    };
    const leaves = compute();
    if (plan !== undefined)
      recordTransform(nest, operation, plan, leaves, compute, () => ({ missing: NO_HIGHER_ORDER }));
    const inDef = selectedDef(trace, list, typeof argnums === "number");
    const perOutput = trace.outLeaves.map((_, k) =>
      treeUnflatten(inDef, leaves.slice(k * slots.length, (k + 1) * slots.length)),
    );
    return treeUnflatten(trace.outDef, perOutput);
  };
}

/**
 * JAX's `hessian`: the function returning the dense Hessian of the scalar function `f` with respect to
 * argument `argnums`: for input leaves of shapes `a` and `b`, an entry of shape `[...a, ...b]`, laid out as
 * the input's structure of input structures (a scalar by scalar entry is typed like the input leaf). Column
 * by column from Hessian actions (one forward and one second-order sweep per input entry): for small inputs.
 *
 * @example
 * hessian((x: NDArray) => np.sum(np.power(x, 3)))(np.array([1, 2])); // [[6, 0], [0, 12]]
 */
export function hessian<A extends readonly PyTree[]>(
  f: (...args: A) => Leaf,
  options?: TransformOptions<0>,
): <B extends A>(...args: B) => JacobianTree<B[0], B[0]>;
export function hessian<A extends readonly PyTree[], const N extends Argnums>(
  f: (...args: A) => Leaf,
  options: TransformOptions<N>,
): <B extends A>(...args: B) => JacobianTree<Selected<B, N>, Selected<B, N>>;
export function hessian(f: AnyFunction, options?: TransformOptions): (...args: unknown[]) => unknown {
  const operation = "hessian";
  checkFunction(operation, f);
  const argnums = parseArgnums(operation, options);
  return (...args: unknown[]) => {
    const { list, nest, trace, seed, mask, slots, plan } = traceCall(operation, f, argnums, args, true);
    const compute = (inputs?: readonly unknown[]): Leaf[] => {
      trace.sync(plan === undefined ? trace.traced : plan.controlValues(inputs));
      const sizes = slots.map((slot) => (slot.user instanceof NDArray ? slot.user.size : 1));
      const entries = slots.map((_, i) => slots.map((_, j) => new Float64Array(sizes[i] * sizes[j])));
      slots.forEach((slotJ, j) => {
        const like = trace.controls[slotJ.control].saved;
        for (let q = 0; q < sizes[j]; q++) {
          const direction = new Array<unknown>(trace.controls.length).fill(undefined);
          if (like instanceof NDArray) {
            const data = new Float64Array(like.size);
            data[q] = 1;
            direction[slotJ.control] = new NDArray(data, like.shape);
          } else direction[slotJ.control] = 1;
          const r = trace.secondOrder(direction, [seed], undefined, mask, inputs === undefined);
          slots.forEach((slotI, i) => {
            const column = r.hessian[slotI.control];
            if (column === undefined) return;
            const data = column instanceof NDArray ? column.data : Float64Array.of(scalarSlot(column));
            const entry = entries[i][j];
            for (let a = 0; a < sizes[i]; a++) entry[a * sizes[j] + q] = data[a];
          });
        }
      });
      return slots.flatMap((slotI, i) =>
        slots.map((slotJ, j) =>
          denseEntry(
            new NDArray(entries[i][j], [entries[i][j].length]),
            trace.controls[slotI.control].saved,
            slotI.user instanceof NDArray,
            slotJ.user,
          ),
        ),
      );
    };
    const leaves = compute();
    if (plan !== undefined)
      recordTransform(nest, operation, plan, leaves, compute, () => ({ missing: NO_HIGHER_ORDER }));
    const def = selectedDef(trace, list, typeof argnums === "number");
    const rows = slots.map((_, i) =>
      treeUnflatten(def, leaves.slice(i * slots.length, (i + 1) * slots.length)),
    );
    return treeUnflatten(def, rows);
  };
}
