/**
 * @file JaxProgram: a user's jax-js function with its argument layout, and the derivative kernels built
 * from it (forward, vjp, jvp, forward-over-reverse Hessian action, Jacobian columns and rows), each jitted
 * once per overloaded function when `jit` is on and disposed with it.
 */
import { type Array as JaxArray, jit, numpy as jnp, jvp, type OwnedFunction, vjp, vmap } from "@jax-js/jax";
import { InvalidArgumentError } from "../../errors.js";
import { disposeTree, type JaxResults } from "./runtime.js";

/** What a function given to `overloadJax` returns: one jax-js array or a list of them. */
export type JaxOutput = JaxArray | readonly JaxArray[];

/** A JSON-serialisable value passed to a static argument (a jit compile-time constant). */
export type StaticValue =
  | string
  | number
  | boolean
  | null
  | readonly StaticValue[]
  | { [key: string]: StaticValue };

/**
 * @internal A static argument as `overloadJax` checked it: a value `JSON.stringify` accepts (so never
 * `undefined`, a function or a symbol). Wider than {@link StaticValue}: an object is not inspected.
 */
export type StaticInput = string | number | boolean | object | null;

/**
 * @internal The kernels, each a function of jax-js pytrees followed by the static values: `p` the
 * dependencies' arrays, `c` the constants' arrays.
 */
export type ForwardKernel = (p: JaxArray[], c: JaxArray[], ...s: StaticInput[]) => JaxResults;
/** @internal `(p, c, ...s) => [y, dy/dp[]]` */
export type ValueAndGradientKernel = (
  p: JaxArray[],
  c: JaxArray[],
  ...s: StaticInput[]
) => [JaxResults, JaxArray[]];
/** @internal `(p, c, ybar, ...s) => pbar[]` */
export type VjpKernel = (
  p: JaxArray[],
  c: JaxArray[],
  cotangent: JaxResults,
  ...s: StaticInput[]
) => JaxArray[];
/** @internal `(p, c, pdot, ...s) => ydot` */
export type JvpKernel = (
  p: JaxArray[],
  c: JaxArray[],
  tangents: JaxArray[],
  ...s: StaticInput[]
) => JaxResults;
/** @internal `(p, c, ybar, pdot, yhat, ...s) => phat[]` */
export type HvpKernel = (
  p: JaxArray[],
  c: JaxArray[],
  adjoint: JaxResults,
  tangents: JaxArray[],
  secondAdjoint: JaxResults,
  ...s: StaticInput[]
) => JaxArray[];
/** @internal `(p, c, ybar, pdot, ...s) => phat[]` */
export type HvpFirstOrderKernel = (
  p: JaxArray[],
  c: JaxArray[],
  adjoint: JaxResults,
  tangents: JaxArray[],
  ...s: StaticInput[]
) => JaxArray[];
/** @internal `(p, c, basis, ...s) => ydot` with a leading basis axis on every output */
export type ColumnsKernel = (
  p: JaxArray[],
  c: JaxArray[],
  basis: JaxArray,
  ...s: StaticInput[]
) => JaxResults;
/** @internal `(p, c, directions[], ...s) => ydot` with a leading batch axis on every output */
export type TangentBatchKernel = (
  p: JaxArray[],
  c: JaxArray[],
  directions: JaxArray[],
  ...s: StaticInput[]
) => JaxResults;
/** @internal `(p, c, basis, ...s) => pbar[]` with a leading basis axis */
export type RowsKernel = (p: JaxArray[], c: JaxArray[], basis: JaxArray, ...s: StaticInput[]) => JaxArray[];

/** @internal the pullback jax-js's `vjp` returns: cotangents of the outputs in, of the dependencies out */
export type Pullback = OwnedFunction<(cotangent: JaxResults) => JaxArray[]>;

/**
 * @internal the user's function, called with the assembled positional arguments (jax-js arrays or tracers,
 * and static values)
 */
export type UserFunction = (...args: (JaxArray | StaticInput)[]) => JaxOutput;

/**
 * @internal Where each positional argument of the user's function comes from in one call: a dependency
 * (differentiable, index into the dependency list), a constant (index into the constant list) or a static
 * value (index into the static list).
 */
export interface ArgumentLayout {
  /** Per position: "d" dependency, "c" constant, "s" static. */
  readonly kinds: readonly ("d" | "c" | "s")[];
  /** Per position: index into the dependency, constant or static list. */
  readonly indices: readonly number[];
  /** `kinds` joined: the cache key of the kernels built for this layout. */
  readonly key: string;
  readonly dependencyCount: number;
  readonly constantCount: number;
  readonly staticCount: number;
}

/** @internal builds the layout from the per-position kinds */
export function makeLayout(kinds: readonly ("d" | "c" | "s")[]): ArgumentLayout {
  const counters = { d: 0, c: 0, s: 0 };
  const indices = kinds.map((kind) => counters[kind]++);
  return {
    kinds,
    indices,
    key: kinds.join(""),
    dependencyCount: counters.d,
    constantCount: counters.c,
    staticCount: counters.s,
  };
}

/** Whether a function's output is a list of arrays (rather than one array). */
function isOutputList(output: JaxOutput): output is readonly JaxArray[] {
  return Array.isArray(output);
}

/** @internal the output of the user's function as a list, checked to be jax-js arrays */
export function outputList(output: unknown, name: string): JaxArray[] {
  const list: readonly unknown[] = Array.isArray(output) ? output : [output];
  const arrays: JaxArray[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isJaxArrayLike(item)) {
      throw new InvalidArgumentError(
        `overloadJax(${name})`,
        `the function must return a jax-js array or a flat list of them; output ${i} is ${Array.isArray(item) ? "a nested list" : typeof item}`,
      );
    }
    arrays.push(item);
  }
  return arrays;
}

/**
 * Whether `value` looks like a jax-js array: an object with a `shape` list that is not itself a list (the
 * check `outputList` has always made; a tracer passes it too).
 */
function isJaxArrayLike(value: unknown): value is JaxArray {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    "shape" in value &&
    Array.isArray(value.shape)
  );
}

/** The kernel caches of one program, by kind and key (a jitted kernel is its own compiled function). */
interface KernelCaches {
  readonly forward: Map<string, ForwardKernel>;
  readonly valueAndGradient: Map<string, ValueAndGradientKernel>;
  readonly vjp: Map<string, VjpKernel>;
  readonly jvp: Map<string, JvpKernel>;
  readonly hvp: Map<string, HvpKernel>;
  readonly hvpFirstOrder: Map<string, HvpFirstOrderKernel>;
  readonly columns: Map<string, ColumnsKernel>;
  readonly tangents: Map<string, TangentBatchKernel>;
  readonly rows: Map<string, RowsKernel>;
}

function emptyCaches(): KernelCaches {
  return {
    forward: new Map(),
    valueAndGradient: new Map(),
    vjp: new Map(),
    jvp: new Map(),
    hvp: new Map(),
    hvpFirstOrder: new Map(),
    columns: new Map(),
    tangents: new Map(),
    rows: new Map(),
  };
}

/** Calls the user function with dependencies `p`, constants `c` and static values `s` (a tracer-safe call). */
function callUser(
  fn: UserFunction,
  layout: ArgumentLayout,
  p: readonly JaxArray[],
  c: readonly JaxArray[],
  s: readonly StaticInput[],
): JaxResults {
  const args = new Array<JaxArray | StaticInput>(layout.kinds.length);
  for (let i = 0; i < args.length; i++) {
    const kind = layout.kinds[i];
    const index = layout.indices[i];
    args[i] = kind === "d" ? p[index] : kind === "c" ? c[index] : s[index];
  }
  const output = fn(...args);
  // a list is passed on as a (mutable) pytree: the same arrays in a new list
  return isOutputList(output) ? output.slice() : output;
}

/** `vjp` of the user function in its dependencies at `p`: the outputs and the pullback. */
function linearize(
  fn: UserFunction,
  layout: ArgumentLayout,
  p: JaxArray[],
  c: readonly JaxArray[],
  s: readonly StaticInput[],
): [JaxResults, Pullback] {
  return vjp((...q: JaxArray[]) => callUser(fn, layout, q, c, s), p);
}

/**
 * @internal A user function, its name and the compiled-kernel cache. Kernels are built per argument
 * layout; with `jit` on they are jitted once and cached here (jax-js retraces a jitted kernel once per new
 * input shape or static value), and `dispose()` frees every compiled kernel (they are rebuilt on demand).
 */
export class JaxProgram {
  /** Compiled kernels by key; shared with the finalization registry (it must not reference the program). */
  private readonly compiled = new Map<string, OwnedFunction<Kernel>>();
  /** The same kernels by kind, typed (plain closures when `jit` is off). */
  private caches = emptyCaches();

  constructor(
    readonly fn: UserFunction,
    readonly name: string,
    readonly useJit: boolean,
  ) {
    programRegistry.register(this, this.compiled, this);
  }

  /** Frees every compiled kernel (a later call compiles again). */
  dispose(): void {
    disposeCompiled(this.compiled);
    if (this.useJit) this.caches = emptyCaches();
  }

  /** Number of compiled kernels held now (for tests). */
  get compiledCount(): number {
    return this.compiled.size;
  }

  /**
   * The kernel of `cache` under `key`: built once, and with `jit` on compiled by `compile` (which jits it
   * with the static values after its `leading` pytree arguments) and kept for `dispose()`.
   */
  private kernel<K extends Kernel>(
    cache: Map<string, K>,
    key: string,
    build: () => K,
    compile: (kernel: K, options: { staticArgnums: number[] }) => OwnedFunction<K>,
    leading: number,
    layout: ArgumentLayout,
  ): K {
    let kernel = cache.get(key);
    if (kernel !== undefined) return kernel;
    if (this.useJit) {
      const staticArgnums: number[] = [];
      for (let i = 0; i < layout.staticCount; i++) staticArgnums.push(leading + i);
      const compiled = compile(build(), { staticArgnums });
      this.compiled.set(key, compiled);
      kernel = compiled;
    } else {
      kernel = build();
    }
    cache.set(key, kernel);
    return kernel;
  }

  /** y = f(p; c, s): `(p, c, ...s) => outputs`. */
  forward(layout: ArgumentLayout): ForwardKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.forward,
      `forward|${layout.key}`,
      () =>
        (p, c, ...s) =>
          callUser(fn, layout, p, c, s),
      (kernel, options) => jit(kernel, options),
      2,
      layout,
    );
  }

  /** The linearization kept by the forward pass: `vjp` of the (jitted) forward kernel, outputs and pullback. */
  forwardWithPullback(
    layout: ArgumentLayout,
    p: JaxArray[],
    c: JaxArray[],
    s: readonly StaticInput[],
  ): [JaxResults, Pullback] {
    const forward = this.forward(layout);
    return vjp((...q: JaxArray[]) => forward(q, c, ...s), p);
  }

  /**
   * For a function with one scalar output: the value and its gradient in one kernel (the whole
   * linearization of a scalar function): `(p, c, ...s) => [y, dy/dp[]]`.
   */
  valueAndGradient(layout: ArgumentLayout, list: boolean): ValueAndGradientKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.valueAndGradient,
      `valueAndGradient/${list}|${layout.key}`,
      () =>
        (p, c, ...s) => {
          const [output, pull] = linearize(fn, layout, p, c, s);
          const single = Array.isArray(output) ? output[0] : output;
          const ones = jnp.onesLike(single.ref);
          const gradient = pull(list ? [ones] : ones);
          pull.dispose();
          return [output, gradient];
        },
      (kernel, options) => jit(kernel, options),
      2,
      layout,
    );
  }

  /** pbar = J^T ybar, recomputing the linearization: `(p, c, ybar, ...s) => pbar[]`. */
  vjp(layout: ArgumentLayout): VjpKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.vjp,
      `vjp|${layout.key}`,
      () =>
        (p, c, cotangent, ...s) => {
          const [output, pull] = linearize(fn, layout, p, c, s);
          disposeTree(output);
          const result = pull(cotangent);
          pull.dispose();
          return result;
        },
      (kernel, options) => jit(kernel, options),
      3,
      layout,
    );
  }

  /** ydot = J pdot: `(p, c, pdot, ...s) => ydot`. */
  jvp(layout: ArgumentLayout): JvpKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.jvp,
      `jvp|${layout.key}`,
      () =>
        (p, c, tangents, ...s) => {
          const [output, tangentOut] = jvp((...q: JaxArray[]) => callUser(fn, layout, q, c, s), p, tangents);
          disposeTree(output);
          return tangentOut;
        },
      (kernel, options) => jit(kernel, options),
      3,
      layout,
    );
  }

  /**
   * Forward-over-reverse second-order adjoint: with A(p, ybar) = J(p)^T ybar, its derivative along
   * (pdot, yhat) is phat = (d/dp (J^T ybar)) pdot + J^T yhat. `(p, c, ybar, pdot, yhat, ...s) => phat[]`.
   */
  hvp(layout: ArgumentLayout): HvpKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.hvp,
      `hvp|${layout.key}`,
      () =>
        (p, c, adjoint, tangents, secondAdjoint, ...s) => {
          const adjointAction = (q: JaxArray[], ybar: JaxResults): JaxArray[] => {
            const [output, pull] = linearize(fn, layout, q, c, s);
            disposeTree(output);
            const result = pull(ybar);
            pull.dispose();
            return result;
          };
          const [primal, tangent] = jvp(adjointAction, [p, adjoint], [tangents, secondAdjoint]);
          disposeTree(primal);
          return tangent;
        },
      (kernel, options) => jit(kernel, options),
      5,
      layout,
    );
  }

  /**
   * The second-order adjoint when the second-order seed yhat is zero: phat = (d/dp (J^T ybar)) pdot, the
   * jvp of p -> J(p)^T ybar (ybar held fixed). `(p, c, ybar, pdot, ...s) => phat[]`.
   */
  hvpFirstOrder(layout: ArgumentLayout): HvpFirstOrderKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.hvpFirstOrder,
      `hvp1|${layout.key}`,
      () =>
        (p, c, adjoint, tangents, ...s) => {
          const adjointAction = (...q: JaxArray[]): JaxArray[] => {
            const [output, pull] = linearize(fn, layout, q, c, s);
            disposeTree(output);
            const result = pull(adjoint);
            pull.dispose();
            return result;
          };
          const [primal, tangent] = jvp(adjointAction, p, tangents);
          disposeTree(primal);
          return tangent;
        },
      (kernel, options) => jit(kernel, options),
      4,
      layout,
    );
  }

  /**
   * Jacobian columns for dependency `d`: one jvp per basis direction, batched by vmap:
   * `(p, c, basis, ...s) => ydot` with a leading basis axis on every output.
   */
  jacobianColumns(layout: ArgumentLayout, d: number): ColumnsKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.columns,
      `columns${d}|${layout.key}`,
      () =>
        (p, c, basis, ...s) => {
          const push = (direction: JaxArray): JaxResults => {
            const [output, tangentOut] = jvp(
              (x: JaxArray) => {
                const q = p.slice();
                q[d] = x;
                return callUser(fn, layout, q, c, s);
              },
              [p[d]],
              [direction],
            );
            disposeTree(output);
            return tangentOut;
          };
          return vmap(push, [0])(basis);
        },
      (kernel, options) => jit(kernel, options),
      3,
      layout,
    );
  }

  /**
   * Tangents of every output along a batch of directions for all dependencies at once (vmapped jvp):
   * `(p, c, directions[], ...s) => ydot` where `directions[d]` is `[B, ...shape_d]` and every output gets a
   * leading batch axis B.
   */
  tangentBatch(layout: ArgumentLayout): TangentBatchKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.tangents,
      `tangents|${layout.key}`,
      () =>
        (p, c, directions, ...s) => {
          const push = (...tangents: JaxArray[]): JaxResults => {
            const [output, tangentOut] = jvp(
              (...q: JaxArray[]) => callUser(fn, layout, q, c, s),
              p,
              tangents,
            );
            disposeTree(output);
            return tangentOut;
          };
          return vmap(
            push,
            directions.map(() => 0),
          )(...directions);
        },
      (kernel, options) => jit(kernel, options),
      3,
      layout,
    );
  }

  /**
   * Jacobian rows for output `k` of `count` (`list`: the function returns a list): one vjp, its pullback
   * batched by vmap over the basis: `(p, c, basis, ...s) => pbar[]` with a leading basis axis.
   */
  jacobianRows(layout: ArgumentLayout, k: number, count: number, list: boolean): RowsKernel {
    const { fn } = this;
    return this.kernel(
      this.caches.rows,
      `rows${k}/${count}/${list}|${layout.key}`,
      () =>
        (p, c, basis, ...s) => {
          const [output, pull] = linearize(fn, layout, p, c, s);
          const outputs = Array.isArray(output) ? output : [output];
          const pullRow = (row: JaxArray): JaxArray[] => {
            const cotangents = outputs.map((o, j) => (j === k ? row : jnp.zerosLike(o.ref)));
            return pull(list ? cotangents : cotangents[0]);
          };
          const rows = vmap(pullRow, [0])(basis);
          pull.dispose();
          disposeTree(output);
          return rows;
        },
      (kernel, options) => jit(kernel, options),
      3,
      layout,
    );
  }
}

/** Any kernel (for the compiled-kernel store, which only disposes them). */
type Kernel =
  | ForwardKernel
  | ValueAndGradientKernel
  | VjpKernel
  | JvpKernel
  | HvpKernel
  | HvpFirstOrderKernel
  | ColumnsKernel
  | TangentBatchKernel
  | RowsKernel;

function disposeCompiled(compiled: Map<string, OwnedFunction<Kernel>>): void {
  for (const kernel of compiled.values()) {
    try {
      kernel.dispose();
    } catch {
      // a kernel whose constants are already gone: nothing left to free
    }
  }
  compiled.clear();
}

/** Frees the compiled kernels of programs that were garbage-collected without `dispose()`. */
const programRegistry = new FinalizationRegistry<Map<string, OwnedFunction<Kernel>>>(disposeCompiled);
