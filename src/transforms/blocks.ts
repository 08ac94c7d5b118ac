/**
 * @file The block a transform records on the enclosing tape when it is called on recorded values (nesting):
 * its recompute re-runs the private computation at the new inputs; `grad` / `valueAndGrad` / `vjp` get
 * tangent-linear and adjoint rules that are Hessian actions of the private tape, so `grad(grad(f))` and a
 * ReducedFunctional over a program that calls `grad(f)` are exact. A rule that would need a derivative
 * order the private tape cannot give is a `MissingRuleError`, never a wrong number.
 */
import { MissingRuleError } from "../errors.js";
import {
  type AdjContext,
  Block,
  type HessianContext,
  type RecomputeContext,
  type Seeds,
  type TlmContext,
  type Values,
} from "../tape/block.js";
import type { BlockVariable } from "../tape/block-variable.js";
import { record } from "../tape/record.js";
import type { AdjFloat } from "../values/adj-float.js";
import "../values/ndarray-space.js";
import { NDArray } from "../values/ndarray.js";
import { addRaw } from "../values/space.js";
import type { Leaf } from "./pytree.js";
import { isOverloadedLeaf, type Trace } from "./trace.js";

/** @internal The rules of one recorded transform call. Each receives the block's context during the call only. */
export interface TransformRules {
  /** The outputs' raw values at the dependency values `inputs`. */
  recompute(inputs: Values): Values;
  tlm?(context: TlmContext): Seeds<Values>;
  adj?(context: AdjContext): Seeds<Values>;
  hessian?(context: HessianContext): Seeds<Values>;
  /** Why a missing mode is missing (for the MissingRuleError). */
  readonly missing: string;
}

/**
 * One call of a function transform on recorded values, as ONE block of the enclosing tape. The function's
 * own operations live on the block's private tape (`trace.tape`), never on the enclosing one. Its inputs
 * are of any registered type (values `f` captures from the enclosing scope are dependencies too), so it is
 * a `Block<Values, Values>`: its rules come from the private tape's sweeps, whose slots the value
 * protocol types.
 *
 * @example
 * const g = grad((x: AdjFloat) => np.power(x, 3))(y); // y recorded: one TransformBlock on the tape
 * getWorkingTape().blocks.at(-1)?.name; // "grad"
 */
export class TransformBlock extends Block<Values, Values> {
  /** @internal The transform's private recording of the function. */
  readonly trace: Trace;
  private readonly rules: TransformRules;

  /** @internal */
  constructor(
    readonly transform: string,
    trace: Trace,
    rules: TransformRules,
    dependencies: BlockVariable[],
    outputs: BlockVariable[],
  ) {
    super(dependencies, outputs);
    this.trace = trace;
    this.rules = rules;
  }

  override get name(): string {
    return this.transform;
  }

  recompute({ inputs }: RecomputeContext): Values {
    return this.rules.recompute(inputs);
  }

  override evaluateTlm(context: TlmContext): Seeds<Values> {
    if (this.rules.tlm === undefined) throw this.missingRule("tangent-linear");
    return this.rules.tlm(context);
  }

  override evaluateAdj(context: AdjContext): Seeds<Values> {
    if (this.rules.adj === undefined) throw this.missingRule("adjoint");
    return this.rules.adj(context);
  }

  override evaluateHessian(context: HessianContext): Seeds<Values> {
    if (this.rules.hessian === undefined) throw this.missingRule("second-order (Hessian)");
    return this.rules.hessian(context);
  }

  private missingRule(mode: string): MissingRuleError {
    return new MissingRuleError(this.transform, `no ${mode} rule when nested: ${this.rules.missing}`);
  }
}

/**
 * @internal The dependencies of a recorded transform call: the caller's AdjFloat / NDArray input leaves and the
 * captured values (one per control of the trace; a number input has none), then extra seeds.
 */
export class DependencyPlan {
  readonly dependencies: BlockVariable[] = [];
  /** For each control of the trace, its dependency index, or -1 (a number: constant for the block). */
  readonly controlDependency: number[];

  constructor(readonly trace: Trace) {
    this.controlDependency = trace.controls.map(() => -1);
    for (const slot of trace.slots) {
      if (slot.control >= 0 && isOverloadedLeaf(slot.user)) {
        this.controlDependency[slot.control] = this.add(slot.user.blockVariable);
      }
    }
    trace.captures.forEach((outer, k) => {
      this.controlDependency[trace.inputControls + k] = this.add(outer);
    });
  }

  /** Adds a dependency; returns its index. */
  add(variable: BlockVariable): number {
    this.dependencies.push(variable);
    return this.dependencies.length - 1;
  }

  /** Adds the seed leaves that are recorded values; returns for each leaf its dependency index or -1. */
  addSeeds(leaves: readonly unknown[]): number[] {
    return leaves.map((leaf) => (isOverloadedLeaf(leaf) ? this.add(leaf.blockVariable) : -1));
  }

  /** The controls' values for the dependency values `inputs` (constants keep their traced value). */
  controlValues(inputs: readonly unknown[] | undefined): unknown[] {
    const trace = this.trace;
    if (inputs === undefined) return trace.traced;
    return this.controlDependency.map((d, c) => (d >= 0 ? inputs[d] : trace.traced[c]));
  }

  /** Per control, the entry of a per-dependency list (`undefined` for a constant control). */
  perControl(values: readonly unknown[]): unknown[] {
    return this.controlDependency.map((d) => (d >= 0 ? values[d] : undefined));
  }

  /** Whether any dependency is there at all. */
  get empty(): boolean {
    return this.dependencies.length === 0;
  }
}

/** @internal Per-output-leaf values of a seed list: `dependency >= 0` reads `values`, otherwise the constant. */
export function seedValues(
  dependency: readonly number[],
  constants: readonly unknown[],
  values: readonly unknown[] | undefined,
): unknown[] {
  return dependency.map((d, k) => (d >= 0 && values !== undefined ? values[d] : constants[k]));
}

/**
 * @internal Records the call as one TransformBlock on the working tape when annotation was on at the call (`nest`),
 * an input is a recorded-able value and a result leaf is an AdjFloat / NDArray: the result leaves that are
 * overloaded values become its outputs. `compute(inputs)` gives every result leaf at the dependency values.
 */
export function recordTransform(
  nest: boolean,
  transform: string,
  plan: DependencyPlan,
  results: readonly Leaf[],
  compute: (inputs: readonly unknown[]) => readonly Leaf[],
  rules: (positions: readonly number[]) => Omit<TransformRules, "recompute">,
): void {
  if (!nest || plan.empty) return;
  const positions: number[] = [];
  const outputs: (AdjFloat | NDArray)[] = [];
  results.forEach((leaf, i) => {
    if (!isOverloadedLeaf(leaf)) return;
    positions.push(i);
    outputs.push(leaf);
  });
  if (positions.length === 0) return;
  const transformRules: TransformRules = {
    ...rules(positions),
    recompute: (inputs) => {
      const leaves = compute(inputs);
      return positions.map((i) => rawOf(leaves[i]));
    },
  };
  record(
    plan.dependencies,
    outputs,
    (dependencies, outputVariables) =>
      new TransformBlock(transform, plan.trace, transformRules, dependencies, outputVariables),
  );
}

function rawOf(leaf: Leaf): unknown {
  return typeof leaf === "number" ? leaf : leaf.raw();
}

/** @internal Sums `value` into slot `index` of `list` (undefined is zero). */
export function accumulateInto(list: unknown[], index: number, value: unknown): void {
  if (index < 0 || value === undefined) return;
  list[index] = addRaw(list[index], value);
}

/** @internal A fresh NDArray (same data) so that a raw value never carries another value's tape link. */
export function freshRaw(raw: unknown): unknown {
  return raw instanceof NDArray ? new NDArray(raw.data, raw.shape) : raw;
}
