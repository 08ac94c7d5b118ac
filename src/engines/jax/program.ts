/**
 * @file JaxProgram: a user's jax-js function with its argument layout, and the derivative kernels built
 * from it (forward, vjp, jvp, forward-over-reverse Hessian action, Jacobian columns and rows), each jitted
 * once per overloaded function when `jit` is on and disposed with it.
 */
import { type Array as JaxArray, jit, numpy as jnp, jvp, type OwnedFunction, vjp, vmap } from "@jax-js/jax";
import { InvalidArgumentError } from "../../errors.js";
import { disposeTree } from "./runtime.js";

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

/** @internal a kernel: a function of jax-js pytrees and trailing static values */
export type Kernel = (...args: unknown[]) => unknown;

/** @internal the user's function, called with the assembled positional arguments */
export type UserFunction = (...args: unknown[]) => unknown;

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

// jax-js's transforms are generic over pytrees; the kernels below call them on loosely typed values.
type Pullback = OwnedFunction<(cotangent: unknown) => JaxArray[]>;
const vjpLoose = vjp as unknown as (f: Kernel, primals: unknown[]) => [unknown, Pullback];
const jvpLoose = jvp as unknown as (f: Kernel, primals: unknown[], tangents: unknown[]) => [unknown, unknown];
const vmapLoose = vmap as unknown as (f: Kernel, inAxes: (number | null)[]) => Kernel;
const jitLoose = jit as unknown as (f: Kernel, options: { staticArgnums: number[] }) => OwnedFunction<Kernel>;

/** @internal the output of the user's function as a list, checked to be jax-js arrays */
export function outputList(output: unknown, name: string): JaxArray[] {
  const list = Array.isArray(output) ? (output as unknown[]) : [output];
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as JaxArray;
    if (item === null || typeof item !== "object" || !Array.isArray(item.shape) || Array.isArray(item)) {
      throw new InvalidArgumentError(
        `overloadJax(${name})`,
        `the function must return a jax-js array or a flat list of them; output ${i} is ${Array.isArray(item) ? "a nested list" : typeof item}`,
      );
    }
  }
  return list as JaxArray[];
}

/**
 * @internal A user function, its name and the compiled-kernel cache. Kernels are built per argument
 * layout; with `jit` on they are jitted once and cached here (jax-js retraces a jitted kernel once per new
 * input shape or static value), and `dispose()` frees every compiled kernel (they are rebuilt on demand).
 */
export class JaxProgram {
  /** Compiled kernels by key; shared with the finalization registry (it must not reference the program). */
  private readonly compiled: Map<string, OwnedFunction<Kernel>>;
  private readonly plain = new Map<string, Kernel>();

  constructor(
    readonly fn: UserFunction,
    readonly name: string,
    readonly useJit: boolean,
  ) {
    this.compiled = new Map();
    programRegistry.register(this, this.compiled, this);
  }

  /** Frees every compiled kernel (a later call compiles again). */
  dispose(): void {
    disposeCompiled(this.compiled);
  }

  /** Number of compiled kernels held now (for tests). */
  get compiledCount(): number {
    return this.compiled.size;
  }

  private kernel(key: string, leading: number, layout: ArgumentLayout, build: () => Kernel): Kernel {
    if (!this.useJit) {
      let kernel = this.plain.get(key);
      if (kernel === undefined) {
        kernel = build();
        this.plain.set(key, kernel);
      }
      return kernel;
    }
    let compiled = this.compiled.get(key);
    if (compiled === undefined) {
      const staticArgnums: number[] = [];
      for (let i = 0; i < layout.staticCount; i++) staticArgnums.push(leading + i);
      compiled = jitLoose(build(), { staticArgnums });
      this.compiled.set(key, compiled);
    }
    return compiled;
  }

  /** Calls the user function with dependencies `p`, constants `c` and static values `s` (a tracer-safe call). */
  private static call(
    fn: UserFunction,
    layout: ArgumentLayout,
    p: unknown[],
    c: unknown[],
    s: unknown[],
  ): unknown {
    const args = new Array<unknown>(layout.kinds.length);
    for (let i = 0; i < args.length; i++) {
      const kind = layout.kinds[i];
      const index = layout.indices[i];
      args[i] = kind === "d" ? p[index] : kind === "c" ? c[index] : s[index];
    }
    return fn(...args);
  }

  /** y = f(p; c, s): `(p, c, ...s) => outputs`. */
  forward(layout: ArgumentLayout): Kernel {
    const { fn } = this;
    return this.kernel(
      `forward|${layout.key}`,
      2,
      layout,
      () =>
        (p, c, ...s) =>
          JaxProgram.call(fn, layout, p as unknown[], c as unknown[], s),
    );
  }

  /** The linearization kept by the forward pass: `vjp` of the (jitted) forward kernel, outputs and pullback. */
  forwardWithPullback(
    layout: ArgumentLayout,
    p: JaxArray[],
    c: JaxArray[],
    s: readonly unknown[],
  ): [unknown, Pullback] {
    const forward = this.forward(layout);
    return vjpLoose((...q) => forward(q, c, ...s), p);
  }

  /**
   * For a function with one scalar output: the value and its gradient in one kernel (the whole
   * linearization of a scalar function): `(p, c, ...s) => [y, dy/dp[]]`.
   */
  valueAndGradient(layout: ArgumentLayout, list: boolean): Kernel {
    const { fn } = this;
    return this.kernel(`valueAndGradient/${list}|${layout.key}`, 2, layout, () => (p, c, ...s) => {
      const [output, pull] = vjpLoose(
        (...q) => JaxProgram.call(fn, layout, q, c as unknown[], s),
        p as unknown[],
      );
      const single = (list ? (output as JaxArray[])[0] : output) as JaxArray;
      const ones = jnp.onesLike(single.ref);
      const gradient = pull(list ? [ones] : ones);
      pull.dispose();
      return [output, gradient];
    });
  }

  /** pbar = J^T ybar, recomputing the linearization: `(p, c, ybar, ...s) => pbar[]`. */
  vjp(layout: ArgumentLayout): Kernel {
    const { fn } = this;
    return this.kernel(`vjp|${layout.key}`, 3, layout, () => (p, c, cotangent, ...s) => {
      const [output, pull] = vjpLoose(
        (...q) => JaxProgram.call(fn, layout, q, c as unknown[], s),
        p as unknown[],
      );
      disposeTree(output);
      const result = pull(cotangent);
      pull.dispose();
      return result;
    });
  }

  /** ydot = J pdot: `(p, c, pdot, ...s) => ydot`. */
  jvp(layout: ArgumentLayout): Kernel {
    const { fn } = this;
    return this.kernel(`jvp|${layout.key}`, 3, layout, () => (p, c, tangents, ...s) => {
      const [output, tangentOut] = jvpLoose(
        (...q) => JaxProgram.call(fn, layout, q, c as unknown[], s),
        p as unknown[],
        tangents as unknown[],
      );
      disposeTree(output);
      return tangentOut;
    });
  }

  /**
   * Forward-over-reverse second-order adjoint: with A(p, ybar) = J(p)^T ybar, its derivative along
   * (pdot, yhat) is phat = (d/dp (J^T ybar)) pdot + J^T yhat. `(p, c, ybar, pdot, yhat, ...s) => phat[]`.
   */
  hvp(layout: ArgumentLayout): Kernel {
    const { fn } = this;
    return this.kernel(
      `hvp|${layout.key}`,
      5,
      layout,
      () =>
        (p, c, adjoint, tangents, secondAdjoint, ...s) => {
          const adjointAction = (q: unknown, ybar: unknown) => {
            const [output, pull] = vjpLoose(
              (...r) => JaxProgram.call(fn, layout, r, c as unknown[], s),
              q as unknown[],
            );
            disposeTree(output);
            const result = pull(ybar);
            pull.dispose();
            return result;
          };
          const [primal, tangent] = jvpLoose(
            adjointAction as Kernel,
            [p, adjoint],
            [tangents, secondAdjoint],
          );
          disposeTree(primal);
          return tangent;
        },
    );
  }

  /**
   * The second-order adjoint when the second-order seed yhat is zero: phat = (d/dp (J^T ybar)) pdot, the
   * jvp of p -> J(p)^T ybar (ybar held fixed). `(p, c, ybar, pdot, ...s) => phat[]`.
   */
  hvpFirstOrder(layout: ArgumentLayout): Kernel {
    const { fn } = this;
    return this.kernel(`hvp1|${layout.key}`, 4, layout, () => (p, c, adjoint, tangents, ...s) => {
      const adjointAction = (...q: unknown[]) => {
        const [output, pull] = vjpLoose((...r) => JaxProgram.call(fn, layout, r, c as unknown[], s), q);
        disposeTree(output);
        const result = pull(adjoint);
        pull.dispose();
        return result;
      };
      const [primal, tangent] = jvpLoose(adjointAction, p as unknown[], tangents as unknown[]);
      disposeTree(primal);
      return tangent;
    });
  }

  /**
   * Jacobian columns for dependency `d`: one jvp per basis direction, batched by vmap:
   * `(p, c, basis, ...s) => ydot` with a leading basis axis on every output.
   */
  jacobianColumns(layout: ArgumentLayout, d: number): Kernel {
    const { fn } = this;
    return this.kernel(`columns${d}|${layout.key}`, 3, layout, () => (p, c, basis, ...s) => {
      const primals = p as unknown[];
      const push = (direction: unknown) => {
        const [output, tangentOut] = jvpLoose(
          (x) => {
            const q = primals.slice();
            q[d] = x;
            return JaxProgram.call(fn, layout, q, c as unknown[], s);
          },
          [primals[d]],
          [direction],
        );
        disposeTree(output);
        return tangentOut;
      };
      return vmapLoose(push, [0])(basis);
    });
  }

  /**
   * Tangents of every output along a batch of directions for all dependencies at once (vmapped jvp):
   * `(p, c, directions[], ...s) => ydot` where `directions[d]` is `[B, ...shape_d]` and every output gets a
   * leading batch axis B.
   */
  tangentBatch(layout: ArgumentLayout): Kernel {
    const { fn } = this;
    return this.kernel(`tangents|${layout.key}`, 3, layout, () => (p, c, directions, ...s) => {
      const primals = p as unknown[];
      const push = (...tangents: unknown[]) => {
        const [output, tangentOut] = jvpLoose(
          (...q) => JaxProgram.call(fn, layout, q, c as unknown[], s),
          primals,
          tangents,
        );
        disposeTree(output);
        return tangentOut;
      };
      return vmapLoose(
        push,
        (directions as unknown[]).map(() => 0),
      )(...(directions as unknown[]));
    });
  }

  /**
   * Jacobian rows for output `k` of `count` (`list`: the function returns a list): one vjp, its pullback
   * batched by vmap over the basis: `(p, c, basis, ...s) => pbar[]` with a leading basis axis.
   */
  jacobianRows(layout: ArgumentLayout, k: number, count: number, list: boolean): Kernel {
    const { fn } = this;
    return this.kernel(`rows${k}/${count}/${list}|${layout.key}`, 3, layout, () => (p, c, basis, ...s) => {
      const [output, pull] = vjpLoose(
        (...q) => JaxProgram.call(fn, layout, q, c as unknown[], s),
        p as unknown[],
      );
      const outputs = list ? (output as JaxArray[]) : [output as JaxArray];
      const pullRow = (row: unknown) => {
        const cotangents = outputs.map((o, j) => (j === k ? row : jnp.zerosLike(o.ref)));
        return pull(list ? cotangents : cotangents[0]);
      };
      const rows = vmapLoose(pullRow, [0])(basis);
      pull.dispose();
      disposeTree(output);
      return rows;
    });
  }
}

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
