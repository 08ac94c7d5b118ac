/**
 * @file pointMap (CRIKit's point_map): a function written with `tsadjoint/numpy` on batches of points
 * becomes ONE block whose four modes come from a nested tape of its own, with per-point Jacobian stacks.
 */
import { InvalidArgumentError, ShapeMismatchError, TsadjointError } from "../errors.js";
import { checkOptions } from "../options.js";
import { checkTape } from "../reduced/arguments.js";
import { annotating } from "../tape/annotation.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
} from "../tape/block.js";
import { BlockVariable } from "../tape/block-variable.js";
import {
  type FusedSecondOrder,
  fusedSecondOrder,
  type JacobianBlock,
  type JacobianContext,
  jacobianPropagation,
} from "../tape/capabilities.js";
import { IDENTITY, type IdentityJacobian, type JacobianValue, PointwiseJacobian } from "../tape/jacobian.js";
import { record } from "../tape/record.js";
import { adjointSweep, findPath, hessianSweep, replay, type SweepPath, tlmSweep } from "../tape/sweeps.js";
import { Tape, withTape } from "../tape/tape.js";
import { AdjFloat } from "../values/adj-float.js";
import "../values/ndarray-space.js";
import { array, formatShape, NDArray, shapeSize } from "../values/ndarray.js";
import { addRaw, describeType } from "../values/space.js";
import type { RawValue, RawValues } from "./overload-function.js";

/** A shape specification: entries are lengths, -1 means "this axis exists, any length"; `[]` is a scalar. */
export type ShapeSpec = readonly number[];

/** The output specification: one shape, or a list of shapes for several outputs. */
export type OutputShapeSpec = ShapeSpec | readonly ShapeSpec[];

/** A value a point map takes and gives: an NDArray, an AdjFloat, or a number (a constant). */
export type PointMapValue = NDArray | AdjFloat | number;

/** What a point-map function returns: one value, or an array of values for several outputs. */
export type PointMapResult = PointMapValue | readonly PointMapValue[];

/** Options of `pointMap`. */
export interface PointMapOptions {
  /**
   * `true`: `f` takes its inputs as separate arguments, `f(u, g, p)`. `false` (the default, as in CRIKit):
   * `f` takes them as one array, `f([u, g, p])`. The returned function is called the same way as `f`.
   */
  bare?: boolean;
  /** Name for messages and graph export (default: the function's name). */
  name?: string;
  /** The tape every call records its block on (default: the working tape at call time). */
  tape?: Tape;
}

/** The decorator `pointMap(..., { bare: true })` returns. */
export type BarePointMap = <A extends PointMapValue[], R extends PointMapResult>(
  f: (...inputs: A) => R,
) => (...inputs: A) => R;

/** The decorator `pointMap(...)` (bare false) returns. */
export type TuplePointMap = <A extends PointMapValue[], R extends PointMapResult>(
  f: (inputs: A) => R,
) => (inputs: A) => R;

function shapeOfValue(value: PointMapValue): readonly number[] {
  return value instanceof NDArray ? value.shape : [];
}

function matches(spec: ShapeSpec, shape: readonly number[]): boolean {
  if (spec.length !== shape.length) return false;
  for (let i = 0; i < spec.length; i++) if (spec[i] !== -1 && spec[i] !== shape[i]) return false;
  return true;
}

/** Per-point: the spec's leading axis is -1 (the points axis, shared by every per-point argument). */
function isPointwise(spec: ShapeSpec): boolean {
  return spec.length > 0 && spec[0] === -1;
}

function checkSpec(operation: string, spec: unknown, what: string): ShapeSpec {
  if (!Array.isArray(spec) || spec.some((n) => typeof n !== "number" || !Number.isInteger(n) || n < -1)) {
    throw new InvalidArgumentError(
      operation,
      `${what} must be a shape: an array of lengths, with -1 for "any length" (got ${JSON.stringify(spec)})`,
    );
  }
  return spec;
}

/** Several outputs: the output specification is a list of shapes. */
function isShapeList(spec: OutputShapeSpec): spec is readonly ShapeSpec[] {
  return spec.length > 0 && Array.isArray(spec[0]);
}

function toValue(operation: string, value: unknown, index: number): PointMapValue {
  if (typeof value === "number" || value instanceof NDArray || value instanceof AdjFloat) return value;
  if (Array.isArray(value) || value instanceof Float64Array) return array(value);
  throw new InvalidArgumentError(
    operation,
    `argument ${index} is ${describeType(value)}; give an NDArray, an AdjFloat or a number`,
  );
}

/** A fresh value holding the same (immutable) data: its own tape link, no copy of the entries. */
function freshValue(value: NDArray | AdjFloat): NDArray | AdjFloat {
  return value instanceof NDArray ? new NDArray(value.data, value.shape) : new AdjFloat(value.value);
}

/** A nested output's value for the outer tape: a fresh NDArray (same data), or the number. */
function freshRaw(raw: unknown): RawValue {
  if (raw instanceof NDArray) return new NDArray(raw.data, raw.shape);
  if (typeof raw === "number") return raw;
  throw new TsadjointError(
    "pointMap",
    `a nested output holds ${describeType(raw)}; expected a number or an NDArray`,
  );
}

function sameEntries(a: readonly unknown[] | undefined, b: readonly unknown[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What one call of f looked like: the static description the block keeps. */
interface PointMapLayout {
  readonly name: string;
  /** The nested tape f was recorded on. */
  readonly innerTape: Tape;
  /** Path on the nested tape from the used inputs to the outputs. */
  readonly path: SweepPath;
  /** For each control of `path`, the outer dependency index it stands for. */
  readonly controlDependency: readonly number[];
  /** For each outer output, its index in `path.outputs`, or -1 for a constant output. */
  readonly outputIndex: readonly number[];
  /** For each outer output, the nested value it mirrors. */
  readonly innerOutputs: readonly BlockVariable[];
  /** Whether each outer dependency is a per-point argument. */
  readonly dependencyPointwise: readonly boolean[];
  /** Whether each outer output is a per-point output. */
  readonly outputPointwise: readonly boolean[];
}

/** Per dependency that depends on the control: its per-point Jacobian (the control itself, or a stack). */
interface PointSeed {
  readonly jacobian: IdentityJacobian | PointwiseJacobian;
  readonly input: NDArray;
}

/** The seeds of a per-point Jacobian propagation: the points, the control's point shape, and per dependency. */
interface PointSeeds {
  readonly points: number;
  readonly controlPointShape: readonly number[];
  /** Per dependency, its seed, or `undefined` when it does not depend on the control. */
  readonly perDependency: readonly (PointSeed | undefined)[];
}

/**
 * One call of a point map. Its modes run on the nested tape the call recorded: recompute is a replay of
 * the nested path, TLM and adjoint are the nested sweeps, the Hessian is a nested second-order sweep that
 * takes the outer second-order seeds (reusing the nested tangent and adjoint values when the outer sweep
 * has just computed them with the same seeds). `evaluateJacobian` gives per-point Jacobian stacks.
 * Dependencies and outputs are raw values: a number for an AdjFloat, the NDArray itself for an NDArray.
 *
 * @example
 * const q = withTape(tape, () => flux(u, g, p));
 * const block = tape.blocks[0];
 * if (block instanceof PointMapBlock) block.innerTape.blocks.length; // the operations of f, recorded on the nested tape only
 */
export class PointMapBlock
  extends Block<RawValues, RawValues>
  implements JacobianBlock<RawValues, RawValues>, FusedSecondOrder<RawValues, RawValues>
{
  /** Declares the JacobianBlock capability (per-point stacks). */
  get [jacobianPropagation](): true {
    return true;
  }
  /** Declares the FusedSecondOrder capability. */
  get [fusedSecondOrder](): true {
    return true;
  }
  /** Bumped by every nested replay; tangent/adjoint states remember the generation they belong to. */
  private generation = 0;
  private tlmState: { generation: number; seeds: Seeds<RawValues> } | undefined = undefined;
  private adjointState: { generation: number; seeds: Seeds<RawValues> } | undefined = undefined;
  /** Per-point Jacobian stacks along one input at one generation (built on the second tangent there). */
  private stackCache: StackCache | undefined = undefined;
  private stackBuffers: Float64Array[] = [];
  /** The one-hot tangents along the components of a per-point input of one shape (immutable, kept). */
  private unitSeeds: { shape: string; seeds: NDArray[] } | undefined = undefined;

  /** @internal built by the functions `pointMap` returns */
  constructor(
    /** @internal what the recorded call looked like */
    readonly layout: PointMapLayout,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
  }

  override get name(): string {
    return this.layout.name;
  }

  /** The nested tape (for inspection and graph export). */
  get innerTape(): Tape {
    return this.layout.innerTape;
  }

  /**
   * The tangent with 1 at component j of every point of a per-point input x ([n, ...], `components` entries
   * a point) and 0 elsewhere: made once per input shape and component, then shared by every stack sweep
   * (seeds are never written to), so a Newton step's stacks allocate no seeds.
   */
  private unitSeed(x: NDArray, components: number, j: number): NDArray {
    const shape = x.shape.join(",");
    if (this.unitSeeds?.shape !== shape) this.unitSeeds = { shape, seeds: [] };
    const seeds = this.unitSeeds.seeds;
    let seed = seeds[j];
    if (seed === undefined) {
      const data = new Float64Array(x.size);
      for (let r = j; r < data.length; r += components) data[r] = 1;
      seed = new NDArray(data, x.shape);
      seeds[j] = seed;
    }
    return seed;
  }

  /** Brings the nested tape to the outer inputs (a replay, only when they changed). */
  private sync(inputs: RawValues): void {
    const { path, controlDependency } = this.layout;
    const controls = path.controls;
    let stale = false;
    for (let c = 0; c < controls.length; c++) {
      if (controls[c].saved !== inputs[controlDependency[c]]) {
        stale = true;
        break;
      }
    }
    if (!stale) return;
    replay(
      path,
      controlDependency.map((d) => inputs[d]),
    );
    this.generation++;
    this.tlmState = undefined;
    this.adjointState = undefined;
  }

  private controlSeeds(perDependency: Seeds<RawValues>): (RawValue | undefined)[] {
    return this.layout.controlDependency.map((d) => perDependency[d]);
  }

  private outputSeeds(perOutput: Seeds<RawValues>): unknown[] {
    const { path, outputIndex } = this.layout;
    const seeds = new Array<unknown>(path.outputs.length).fill(undefined);
    outputIndex.forEach((index, o) => {
      if (index >= 0) seeds[index] = addRaw(seeds[index], perOutput[o]);
    });
    return seeds;
  }

  private dependencyResults(slot: "adj" | "hessian", needed: readonly boolean[]): Seeds<RawValues> {
    const { path, controlDependency } = this.layout;
    const results = new Array<RawValue | undefined>(this.dependencies.length).fill(undefined);
    path.controls.forEach((control, c) => {
      const d = controlDependency[c];
      if (needed[d]) results[d] = nestedSeed(control[slot]);
    });
    return results;
  }

  /** Runs the nested TLM sweep unless its values are those of `tlmInputs` already. */
  private tangentsAt(tlmInputs: Seeds<RawValues>): void {
    const tlmReady =
      this.tlmState?.generation === this.generation && sameEntries(this.tlmState.seeds, tlmInputs);
    if (tlmReady) return;
    tlmSweep(this.layout.path, this.controlSeeds(tlmInputs));
    this.tlmState = { generation: this.generation, seeds: tlmInputs.slice() };
  }

  recompute({ inputs }: RecomputeContext<RawValues>): RawValues {
    this.sync(inputs);
    return this.layout.innerOutputs.map((inner) => freshRaw(inner.saved));
  }

  // ydot = (nested TLM sweep)(xdot); repeated tangents at one point along one per-point input use that
  // input's per-point Jacobian stacks (one nested sweep per component, then reused), e.g. the colored
  // products of a sparse Newton Jacobian.
  override evaluateTlm({ inputs, outputs, tlmInputs }: TlmContext<RawValues, RawValues>): Seeds<RawValues> {
    this.sync(inputs);
    const fromStacks = this.tlmFromStacks(inputs, outputs, tlmInputs);
    if (fromStacks !== undefined) return fromStacks;
    tlmSweep(this.layout.path, this.controlSeeds(tlmInputs));
    this.tlmState = { generation: this.generation, seeds: tlmInputs.slice() };
    const { outputIndex, innerOutputs } = this.layout;
    return innerOutputs.map((inner, o) => (outputIndex[o] >= 0 ? nestedSeed(inner.tlm) : undefined));
  }

  /**
   * The TLM through cached per-point Jacobian stacks, or undefined to run the nested sweep: only when the
   * seed is an NDArray on exactly one per-point input and every output is per point; from the second tangent
   * at the same point along that input (a single tangent stays one nested sweep), or from the first when the
   * previous point had more tangents along it than it has components (Newton: every step's colored Jacobian).
   */
  private tlmFromStacks(
    inputs: RawValues,
    outputs: RawValues,
    tlmInputs: Seeds<RawValues>,
  ): Seeds<RawValues> | undefined {
    const { dependencyPointwise, outputPointwise } = this.layout;
    let dependency = -1;
    for (let d = 0; d < tlmInputs.length; d++) {
      if (tlmInputs[d] === undefined) continue;
      if (dependency >= 0 || !dependencyPointwise[d]) return undefined;
      dependency = d;
    }
    if (dependency < 0 || outputPointwise.some((pointwise) => !pointwise)) return undefined;
    const input = inputs[dependency];
    const seed = tlmInputs[dependency];
    if (!(input instanceof NDArray) || !(seed instanceof NDArray) || seed.size !== input.size)
      return undefined;
    if (input.ndim < 1 || input.shape[0] === 0) return undefined;
    const points = input.shape[0];
    const components = input.size / points;
    let cache = this.stackCache;
    if (cache === undefined || cache.generation !== this.generation || cache.dependency !== dependency) {
      // a point whose stacks paid off (more tangents than components, e.g. a Newton step's colored
      // Jacobian) announces the next: build the stacks on its first tangent already
      const eager = cache !== undefined && cache.dependency === dependency && cache.tangents > components;
      cache = { generation: this.generation, dependency, stacks: undefined, tangents: 0 };
      this.stackCache = cache;
      if (!eager) {
        cache.tangents = 1;
        return undefined;
      }
    }
    cache.tangents++;
    const stacks = cache.stacks ?? this.tangentStacks(dependency, input, outputs);
    if (stacks === undefined) return undefined;
    cache.stacks = stacks;
    // the nested tape's tangents are those of the stack sweeps, not of this seed
    this.tlmState = undefined;
    return stacks.map((stack) =>
      stack === undefined ? undefined : stackProduct(stack, seed.data, points, components),
    );
  }

  /**
   * Per output, its per-point Jacobian along the per-point input `dependency`: y[r] / x[point(r), j] at
   * r * components + j (undefined when the input does not reach the output, or an output is not an NDArray).
   */
  private tangentStacks(dependency: number, input: NDArray, outputs: RawValues): PointStack[] | undefined {
    const { outputIndex, innerOutputs, outputPointwise } = this.layout;
    const arrays = pointwiseOutputs(outputs, outputPointwise);
    if (arrays === undefined) return undefined;
    const points = input.shape[0];
    const components = input.size / points;
    // the arrays of the previous point's stacks, when they fit (nothing else holds them)
    const stacks = arrays.map((y, o) => {
      const kept = this.stackBuffers[o];
      if (kept === undefined || kept.length !== y.size * components)
        return new Float64Array(y.size * components);
      kept.fill(0);
      return kept;
    });
    this.stackBuffers = stacks;
    const reached = arrays.map(() => false);
    const perDependency = new Array<RawValue | undefined>(this.dependencies.length).fill(undefined);
    for (let j = 0; j < components; j++) {
      perDependency[dependency] = this.unitSeed(input, components, j);
      tlmSweep(this.layout.path, this.controlSeeds(perDependency));
      innerOutputs.forEach((inner, o) => {
        if (outputIndex[o] < 0) return;
        const tlm = inner.tlm;
        if (!(tlm instanceof NDArray)) return;
        reached[o] = true;
        const flat = tlm.data;
        const stack = stacks[o];
        for (let r = 0; r < flat.length; r++) stack[r * components + j] = flat[r];
      });
    }
    releaseTangents(this.layout.path);
    return arrays.map((y, o) => (reached[o] ? { stack: stacks[o], shape: y.shape } : undefined));
  }

  // xbar = (nested adjoint sweep)(ybar)
  override evaluateAdj({ inputs, adjInputs, needed }: AdjContext<RawValues, RawValues>): Seeds<RawValues> {
    this.sync(inputs);
    adjointSweep(this.layout.path, this.outputSeeds(adjInputs));
    this.adjointState = { generation: this.generation, seeds: adjInputs.slice() };
    return this.dependencyResults("adj", needed);
  }

  // xhat = (nested second-order sweep)(xdot, ybar, yhat)
  override evaluateHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
  }: HessianContext<RawValues, RawValues>): Seeds<RawValues> {
    this.sync(inputs);
    this.tangentsAt(tlmInputs);
    const adjointsReady =
      this.adjointState?.generation === this.generation && sameEntries(this.adjointState.seeds, adjInputs);
    hessianSweep(this.layout.path, this.outputSeeds(adjInputs), {
      hessianSeeds: this.outputSeeds(hessianInputs),
      adjointsReady,
    });
    this.adjointState = { generation: this.generation, seeds: adjInputs.slice() };
    return this.dependencyResults("hessian", needed);
  }

  /**
   * The Hessian sweep's fast path: one nested second-order sweep gives the first- and second-order
   * adjoints together (instead of a nested adjoint sweep and then a second-order sweep).
   */
  evaluateAdjAndHessian({
    inputs,
    adjInputs,
    hessianInputs,
    tlmInputs,
    needed,
    adjNeeded,
  }: HessianContext<RawValues, RawValues>): readonly [Seeds<RawValues>, Seeds<RawValues>] {
    this.sync(inputs);
    const path = this.layout.path;
    const tlmReady =
      this.tlmState?.generation === this.generation && sameEntries(this.tlmState.seeds, tlmInputs);
    if (!tlmReady) {
      // tangents for this sweep only (the outer tangent sweep did not run this block, e.g. a Hessian
      // action's that skips the tangents it never reads): only those the nested second-order sweep reads,
      // in pooled buffers that it frees once read (its slots of intermediate values are then cleared)
      tlmSweep(path, this.controlSeeds(tlmInputs), { forSecondOrder: true });
      this.tlmState = undefined;
    }
    // no dependency asked for its first-order adjoint (a Hessian action's controls): the nested sweep
    // leaves its controls' adjoints out, so its adjoint slots are not those of an adjoint sweep
    const adjAsked = adjNeeded ?? needed;
    const controlAdjoints = this.layout.controlDependency.some((d) => adjAsked[d]);
    hessianSweep(path, this.outputSeeds(adjInputs), {
      hessianSeeds: this.outputSeeds(hessianInputs),
      controlAdjoints,
    });
    this.adjointState = controlAdjoints
      ? { generation: this.generation, seeds: adjInputs.slice() }
      : undefined;
    return [this.dependencyResults("adj", needed), this.dependencyResults("hessian", needed)];
  }

  /**
   * Per-point Jacobian stacks: when every argument that depends on the control is a per-point argument
   * holding the control itself (IDENTITY) or a per-point stack, and every output is per-point, the nested
   * TLM is seeded with one-hot directions over the per-point control components, all points at once, so
   * the stack costs (per-point control size) nested TLM sweeps. Otherwise `undefined`: the driver builds
   * the dense Jacobian column by column.
   */
  evaluateJacobian({
    inputs,
    outputs,
    jacobianInputs,
  }: JacobianContext<RawValues, RawValues>): readonly JacobianValue[] | undefined {
    const { dependencyPointwise, outputPointwise, path, controlDependency, outputIndex, innerOutputs } =
      this.layout;
    const seeds = pointSeeds(jacobianInputs, inputs, dependencyPointwise);
    if (seeds === undefined) return undefined;
    const arrays = pointwiseOutputs(outputs, outputPointwise);
    if (arrays === undefined) return undefined;
    const { points, controlPointShape, perDependency } = seeds;
    this.sync(inputs);
    this.tlmState = undefined;
    const components = shapeSize(controlPointShape);
    const stacks = arrays.map((y) => new Float64Array(y.size * components));
    const reached = arrays.map(() => false);
    for (let j = 0; j < components; j++) {
      const directions = controlDependency.map((d) => {
        const seed = perDependency[d];
        return seed?.jacobian === IDENTITY
          ? this.unitSeed(seed.input, components, j)
          : oneHotSeed(seed, points, components, j);
      });
      tlmSweep(path, directions);
      innerOutputs.forEach((inner, o) => {
        if (outputIndex[o] < 0) return;
        // the tangent of a per-point output is an NDArray of its shape (undefined: zero)
        const tlm = inner.tlm;
        if (!(tlm instanceof NDArray)) return;
        reached[o] = true;
        const flat = tlm.data;
        const stack = stacks[o];
        for (let r = 0; r < flat.length; r++) stack[r * components + j] = flat[r];
      });
    }
    releaseTangents(path);
    return arrays.map((y, o) => {
      if (!reached[o]) return undefined;
      const valuePointShape = y.shape.slice(1);
      return new PointwiseJacobian(
        new NDArray(stacks[o], [points, ...valuePointShape, ...controlPointShape]),
        valuePointShape,
        controlPointShape,
      );
    });
  }
}

/**
 * Drops the nested tape's tangents after the stack sweeps have been copied out (the next sweep would reset
 * them anyway; `tlmState` is cleared, so nothing reads them): the arrays then die young instead of being
 * held, and promoted, until the next Newton step.
 */
function releaseTangents(path: SweepPath): void {
  for (const control of path.controls) control.tlm = undefined;
  for (const output of path.outputs) output.tlm = undefined;
  for (const block of path.blocks) for (const output of block.outputs) output.tlm = undefined;
}

/** One output's per-point Jacobian along one per-point input, with the output's shape. */
type PointStack = { readonly stack: Float64Array; readonly shape: readonly number[] } | undefined;

/**
 * The stacks of one generation along one input: `undefined` until the second tangent there builds them (the
 * first, when the previous generation had more tangents along the input than it has components).
 */
interface StackCache {
  readonly generation: number;
  readonly dependency: number;
  stacks: PointStack[] | undefined;
  /** Tangents along the input at this generation so far. */
  tangents: number;
}

/** y[r] = sum_j stack[r, j] x[point(r), j]: the tangent of one output from its per-point Jacobian stack. */
function stackProduct(
  { stack, shape }: NonNullable<PointStack>,
  x: Float64Array,
  points: number,
  components: number,
): NDArray {
  const perPoint = stack.length / (points * components);
  const data = new Float64Array(points * perPoint);
  if (components === 2 && perPoint === 2) {
    // 2-vectors to 2-vectors (fluxes of gradients in 2D): the same sums, unrolled
    for (let k = 0; k < points; k++) {
      const x0 = x[2 * k];
      const x1 = x[2 * k + 1];
      const row = 4 * k;
      let first = 0;
      first += stack[row] * x0;
      first += stack[row + 1] * x1;
      let second = 0;
      second += stack[row + 2] * x0;
      second += stack[row + 3] * x1;
      data[2 * k] = first;
      data[2 * k + 1] = second;
    }
    return new NDArray(data, shape);
  }
  for (let k = 0, r = 0; k < points; k++) {
    const base = k * components;
    for (let i = 0; i < perPoint; i++, r++) {
      const row = r * components;
      let sum = 0;
      for (let j = 0; j < components; j++) sum += stack[row + j] * x[base + j];
      data[r] = sum;
    }
  }
  return new NDArray(data, shape);
}

/**
 * A slot of the nested tape that belongs to an AdjFloat or an NDArray (a nested control or output): a
 * number or an NDArray by the value protocol, or `undefined` for zero. Anything else is a broken invariant.
 */
function nestedSeed(value: unknown): RawValue | undefined {
  if (value === undefined || typeof value === "number" || value instanceof NDArray) return value;
  throw new TsadjointError(
    "pointMap",
    `the nested tape holds ${describeType(value)} for an AdjFloat or NDArray value; expected a number or an NDArray`,
  );
}

/**
 * The per-point seeds: every dependency that depends on the control must be a per-point argument holding
 * the control itself (IDENTITY) or a per-point stack over the same points and control point shape.
 */
function pointSeeds(
  jacobianInputs: readonly JacobianValue[],
  inputs: RawValues,
  dependencyPointwise: readonly boolean[],
): PointSeeds | undefined {
  let points = -1;
  let controlPointShape: readonly number[] | undefined;
  const perDependency: (PointSeed | undefined)[] = [];
  for (let d = 0; d < jacobianInputs.length; d++) {
    const jacobian = jacobianInputs[d];
    if (jacobian === undefined) {
      perDependency.push(undefined);
      continue;
    }
    const input = inputs[d];
    // a per-point argument has a leading points axis, so it is an NDArray
    if (!dependencyPointwise[d] || !(input instanceof NDArray)) return undefined;
    const shape = input.shape;
    let own: readonly number[];
    if (jacobian === IDENTITY) own = shape.slice(1);
    else if (jacobian instanceof PointwiseJacobian && jacobian.points === shape[0])
      own = jacobian.controlPointShape;
    else return undefined;
    if (controlPointShape !== undefined && formatShape(own) !== formatShape(controlPointShape))
      return undefined;
    controlPointShape = own;
    points = shape[0];
    perDependency.push({ jacobian, input });
  }
  if (controlPointShape === undefined) return undefined;
  return { points, controlPointShape, perDependency };
}

/** The outputs as arrays when every output is per-point (an NDArray with a points axis), else `undefined`. */
function pointwiseOutputs(outputs: RawValues, outputPointwise: readonly boolean[]): NDArray[] | undefined {
  if (outputPointwise.some((pointwise) => !pointwise)) return undefined;
  const arrays: NDArray[] = [];
  for (const y of outputs) {
    if (!(y instanceof NDArray)) return undefined;
    arrays.push(y);
  }
  return arrays;
}

/** Nested TLM seed for component j of the per-point control, all points at once. */
function oneHotSeed(
  seed: PointSeed | undefined,
  points: number,
  components: number,
  j: number,
): NDArray | undefined {
  if (seed === undefined) return undefined;
  const { jacobian, input } = seed;
  const data = new Float64Array(input.size);
  if (jacobian === IDENTITY) {
    for (let k = 0; k < points; k++) data[k * components + j] = 1;
  } else {
    const stack = jacobian.stack.data;
    for (let r = 0; r < data.length; r++) data[r] = stack[r * components + j];
  }
  return new NDArray(data, input.shape);
}

/**
 * CRIKit's `point_map`: wraps `f`, written with `tsadjoint/numpy` on batches of points, so that each call
 * records ONE block on the working tape. `f` runs on a private nested tape (`withTape`); nothing it does
 * reaches the outer tape. The block's recompute replays the nested path, its TLM / adjoint / Hessian are the
 * nested sweeps.
 *
 * Shapes: `inputShapes[i]` is the shape of argument i, with -1 for "this axis exists, any length" (so
 * `[-1, 2]` accepts `[4, 2]` but not `[2]`) and `[]` for a scalar (a number, an AdjFloat or a 0-d
 * NDArray). A spec whose LEADING entry is -1 is per-point: its leading axis is the points axis, shared
 * (same length n) by every per-point argument and output. `outputShape` is one shape, or a list of shapes
 * for several outputs (then f returns an array). Arguments and outputs are checked; a mismatch throws
 * ShapeMismatchError naming the argument (or output) index, the expected and the received shape.
 *
 * Arguments: NDArrays and AdjFloats are dependencies (nested arrays are converted with `np.array`); plain
 * numbers are constants. Values `f` captures from the enclosing scope are constants inside the point map
 * (no derivative flows through them into it, and its sweeps leave the outer tape's values alone): pass
 * everything you differentiate as an argument. With annotation off, `f` simply runs.
 *
 * Jacobians: `computeJacobianMatrix` / `ReducedFunction.jacMatrix` get a per-point stack
 * `[n, ...outputShape.slice(1), ...controlShape.slice(1)]` when the control is a per-point argument (see
 * `PointMapBlock.evaluateJacobian`), at the cost of (per-point control size) nested TLM sweeps.
 *
 * @example
 * const flux = pointMap([[-1], [-1, 2], []], [-1, 2], { bare: true })((u: NDArray, g: NDArray, p: AdjFloat) => {
 *   const mu = np.power(np.add(np.sum(np.multiply(g, g), 1), 1e-12), np.divide(np.subtract(p, 2), 2));
 *   return np.multiply(np.reshape(mu, [...mu.shape, 1]), g);
 * });
 * const q = flux(u, g, new AdjFloat(3)); // one block on the working tape
 */
export function pointMap(
  inputShapes: readonly ShapeSpec[],
  outputShape: OutputShapeSpec,
  options: PointMapOptions & { bare: true },
): BarePointMap;
export function pointMap(
  inputShapes: readonly ShapeSpec[],
  outputShape: OutputShapeSpec,
  options?: PointMapOptions & { bare?: false },
): TuplePointMap;
export function pointMap(
  inputShapes: readonly ShapeSpec[],
  outputShape: OutputShapeSpec,
  options: PointMapOptions = {},
): BarePointMap | TuplePointMap {
  checkOptions("pointMap", options, ["bare", "name", "tape"]);
  if (options.bare !== undefined && typeof options.bare !== "boolean") {
    throw new InvalidArgumentError(
      "pointMap",
      `options.bare must be true or false, got ${typeof options.bare}`,
    );
  }
  if (options.name !== undefined && typeof options.name !== "string") {
    throw new InvalidArgumentError("pointMap", `options.name must be a string, got ${typeof options.name}`);
  }
  const tape = checkTape(options.tape, "pointMap");
  if (!Array.isArray(inputShapes)) {
    throw new InvalidArgumentError("pointMap", "inputShapes must be a list with one shape per argument");
  }
  const inputSpecs = inputShapes.map((spec, i) => checkSpec("pointMap", spec, `inputShapes[${i}]`));
  if (!Array.isArray(outputShape)) {
    throw new InvalidArgumentError("pointMap", "outputShape must be a shape or a list of shapes");
  }
  const manyOutputs = isShapeList(outputShape);
  const outputSpecs = isShapeList(outputShape)
    ? outputShape.map((spec, i) => checkSpec("pointMap", spec, `outputShape[${i}]`))
    : [checkSpec("pointMap", outputShape, "outputShape")];
  const pointMapCall = (f: unknown, run: PointMapCall["run"]): PointMapCall => {
    if (typeof f !== "function") {
      throw new InvalidArgumentError("pointMap", `the decorated value must be a function, got ${typeof f}`);
    }
    const name = options.name ?? (f.name || "pointMap");
    return { operation: `pointMap(${name})`, name, run, inputSpecs, outputSpecs, manyOutputs, tape };
  };
  // the decorators are typed by f (overloads); inside, f takes the checked values
  function bareMap<A extends PointMapValue[], R extends PointMapResult>(
    f: (...inputs: A) => R,
  ): (...inputs: A) => R;
  function bareMap(f: (...inputs: PointMapValue[]) => unknown): (...args: unknown[]) => unknown {
    const call = pointMapCall(f, (inputs) => f(...inputs));
    return (...args) => invoke(call, args);
  }
  function tupleMap<A extends PointMapValue[], R extends PointMapResult>(
    f: (inputs: A) => R,
  ): (inputs: A) => R;
  function tupleMap(f: (inputs: PointMapValue[]) => unknown): (args: unknown) => unknown {
    const call = pointMapCall(f, (inputs) => f([...inputs]));
    return (args) => invoke(call, checkTuple(call.operation, args));
  }
  return (options.bare ?? false) ? bareMap : tupleMap;
}

function checkTuple(operation: string, args: unknown): readonly unknown[] {
  if (!Array.isArray(args)) {
    throw new InvalidArgumentError(
      operation,
      "this point map takes its inputs as one array (bare: false); call it as f([u, g, p]), or create it with { bare: true }",
    );
  }
  return args;
}

function checkInputs(
  operation: string,
  specs: readonly ShapeSpec[],
  values: readonly PointMapValue[],
): number {
  if (values.length !== specs.length) {
    throw new InvalidArgumentError(operation, `expected ${specs.length} argument(s), got ${values.length}`);
  }
  let points = -1;
  let pointsArgument = -1;
  values.forEach((value, i) => {
    const shape = shapeOfValue(value);
    if (!matches(specs[i], shape)) {
      throw new ShapeMismatchError(
        operation,
        [specs[i], shape],
        `argument ${i}: expected shape ${formatShape(specs[i])} (-1: any length), received shape ${formatShape(shape)}`,
      );
    }
    if (!isPointwise(specs[i])) return;
    if (points >= 0 && shape[0] !== points) {
      throw new ShapeMismatchError(
        operation,
        [shapeOfValue(values[pointsArgument]), shape],
        `argument ${i} has ${shape[0]} points but argument ${pointsArgument} has ${points}; per-point arguments (leading -1) share the number of points`,
      );
    }
    points = shape[0];
    pointsArgument = i;
  });
  return points;
}

function checkOutputs(
  operation: string,
  specs: readonly ShapeSpec[],
  manyOutputs: boolean,
  result: unknown,
  points: number,
): PointMapValue[] {
  const list = manyOutputs ? result : [result];
  if (!Array.isArray(list) || list.length !== specs.length) {
    throw new InvalidArgumentError(
      operation,
      manyOutputs
        ? `the function must return an array of ${specs.length} outputs (outputShape is a list of shapes)`
        : "the function returned an array but outputShape is one shape; give a list of shapes for several outputs",
    );
  }
  return list.map((value, j) => {
    if (typeof value !== "number" && !(value instanceof NDArray) && !(value instanceof AdjFloat)) {
      throw new InvalidArgumentError(
        operation,
        `output ${j} is ${describeType(value)}; return NDArrays, AdjFloats or numbers`,
      );
    }
    const shape = shapeOfValue(value);
    if (!matches(specs[j], shape)) {
      throw new ShapeMismatchError(
        operation,
        [specs[j], shape],
        `output ${j}: expected shape ${formatShape(specs[j])} (-1: any length), received shape ${formatShape(shape)}`,
      );
    }
    if (isPointwise(specs[j]) && points >= 0 && shape[0] !== points) {
      throw new ShapeMismatchError(
        operation,
        [specs[j], shape],
        `output ${j} has ${shape[0]} points but the per-point arguments have ${points}`,
      );
    }
    return value;
  });
}

/** What one decorated point map fixes at decoration time: its function, shapes and tape. */
interface PointMapCall {
  readonly operation: string;
  readonly name: string;
  /** Calls f with the checked values, in f's calling style (bare or one array). */
  readonly run: (inputs: readonly PointMapValue[]) => unknown;
  readonly inputSpecs: readonly ShapeSpec[];
  readonly outputSpecs: readonly ShapeSpec[];
  readonly manyOutputs: boolean;
  readonly tape: Tape | undefined;
}

/**
 * Values f captured from the enclosing scope are constants of the nested tape: give the nested blocks their
 * own record of them, so that nested sweeps never touch (reset) the outer tape's slots.
 */
function detachCapturedConstants(innerTape: Tape, innerInputs: readonly PointMapValue[]): void {
  const innerSet = new Set(innerTape.blocks);
  const innerInputVariables = new Set<BlockVariable>();
  for (const value of innerInputs)
    if (typeof value !== "number") innerInputVariables.add(value.blockVariable);
  const detached = new Map<BlockVariable, BlockVariable>();
  for (const block of innerTape.blocks) {
    const blockDependencies = block.dependencies;
    for (let i = 0; i < blockDependencies.length; i++) {
      const dependency = blockDependencies[i];
      if (innerInputVariables.has(dependency)) continue;
      if (dependency.block !== undefined && innerSet.has(dependency.block)) continue;
      let constant = detached.get(dependency);
      if (constant === undefined) {
        constant = new BlockVariable(dependency.saved);
        detached.set(dependency, constant);
      }
      block.replaceDependency(i, constant);
    }
  }
}

/** The outer dependencies of a recorded call and the nested controls they stand for. */
interface CallInputs {
  /** Every overloaded argument's variable, in argument order. */
  readonly dependencies: BlockVariable[];
  readonly dependencyPointwise: boolean[];
  /** The nested inputs f used (the controls of the nested path). */
  readonly controls: BlockVariable[];
  /** For each control, its dependency index. */
  readonly controlDependency: number[];
}

/**
 * The outer dependencies (every overloaded argument) and the nested controls (those f used, given the outer
 * values themselves so that the first mode needs no replay).
 */
function connectInputs(
  innerTape: Tape,
  values: readonly PointMapValue[],
  innerInputs: readonly PointMapValue[],
  innerOutputVariables: readonly (BlockVariable | undefined)[],
  inputSpecs: readonly ShapeSpec[],
): CallInputs {
  const used = new Set<BlockVariable>();
  for (const block of innerTape.blocks) for (const dependency of block.dependencies) used.add(dependency);
  for (const variable of innerOutputVariables) if (variable !== undefined) used.add(variable);
  const inputs: CallInputs = {
    dependencies: [],
    dependencyPointwise: [],
    controls: [],
    controlDependency: [],
  };
  values.forEach((value, i) => {
    const innerValue = innerInputs[i];
    if (typeof value === "number" || typeof innerValue === "number") return;
    const inner = innerValue.blockVariable;
    if (used.has(inner)) {
      inputs.controls.push(inner);
      inputs.controlDependency.push(inputs.dependencies.length);
      // the nested control holds the outer value itself (same data), so the first mode needs no replay
      inner.saved = value.raw();
    }
    inputs.dependencies.push(value.blockVariable);
    inputs.dependencyPointwise.push(isPointwise(inputSpecs[i]));
  });
  return inputs;
}

/** The outer results of a recorded call (fresh values for f's overloaded results) and what they mirror. */
interface CallOutputs {
  /** What the call returns, in order: fresh values, and f's plain-number results as they are. */
  readonly results: PointMapValue[];
  /** The fresh values, the block's outputs. */
  readonly outer: (NDArray | AdjFloat)[];
  /** For each outer output, the nested value it mirrors. */
  readonly innerOutputs: BlockVariable[];
  /** The nested outputs that depend on the nested tape: the outputs of the nested path. */
  readonly live: BlockVariable[];
  /** For each outer output, its index in `live`, or -1 for a constant output. */
  readonly outputIndex: number[];
  readonly outputPointwise: boolean[];
}

function connectOutputs(
  innerTape: Tape,
  innerResults: readonly PointMapValue[],
  innerOutputVariables: readonly (BlockVariable | undefined)[],
  controls: readonly BlockVariable[],
  outputSpecs: readonly ShapeSpec[],
): CallOutputs {
  const innerSet = new Set(innerTape.blocks);
  const outputs: CallOutputs = {
    results: [],
    outer: [],
    innerOutputs: [],
    live: [],
    outputIndex: [],
    outputPointwise: [],
  };
  innerResults.forEach((value, j) => {
    const variable = innerOutputVariables[j];
    if (typeof value === "number" || variable === undefined) {
      outputs.results.push(value);
      return;
    }
    const live =
      controls.includes(variable) || (variable.block !== undefined && innerSet.has(variable.block));
    outputs.outputIndex.push(live ? outputs.live.length : -1);
    if (live) outputs.live.push(variable);
    outputs.innerOutputs.push(variable);
    outputs.outputPointwise.push(isPointwise(outputSpecs[j]));
    const outer = freshValue(value);
    outputs.outer.push(outer);
    outputs.results.push(outer);
  });
  return outputs;
}

/** Runs a point map: plainly without annotation, else on a private tape recorded as one PointMapBlock. */
function invoke(call: PointMapCall, args: readonly unknown[]): unknown {
  const { operation, name, run, inputSpecs, outputSpecs, manyOutputs, tape } = call;
  const values = args.map((value, i) => toValue(operation, value, i));
  const points = checkInputs(operation, inputSpecs, values);
  if (!annotating()) {
    const result = run(values);
    checkOutputs(operation, outputSpecs, manyOutputs, result, points);
    return result;
  }
  // record f on a private tape, with fresh inputs (same data, their own tape links)
  const innerTape = new Tape();
  const innerInputs = values.map((value) => (typeof value === "number" ? value : freshValue(value)));
  const result = withTape(innerTape, () => run(innerInputs));
  const innerResults = checkOutputs(operation, outputSpecs, manyOutputs, result, points);
  const innerOutputVariables = innerResults.map((value) =>
    typeof value === "number" ? undefined : value.blockVariable,
  );
  const inputs = connectInputs(innerTape, values, innerInputs, innerOutputVariables, inputSpecs);
  detachCapturedConstants(innerTape, innerInputs);
  const outputs = connectOutputs(innerTape, innerResults, innerOutputVariables, inputs.controls, outputSpecs);
  const layout: PointMapLayout = {
    name,
    innerTape,
    path: findPath(innerTape, inputs.controls, outputs.live, operation),
    controlDependency: inputs.controlDependency,
    outputIndex: outputs.outputIndex,
    innerOutputs: outputs.innerOutputs,
    dependencyPointwise: inputs.dependencyPointwise,
    outputPointwise: outputs.outputPointwise,
  };
  record(
    inputs.dependencies,
    outputs.outer,
    (dependencies, outerOutputs) => new PointMapBlock(layout, dependencies, outerOutputs),
    tape,
  );
  return manyOutputs ? outputs.results : outputs.results[0];
}
