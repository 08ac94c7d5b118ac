/**
 * @file Pytrees for the function transforms: numbers, AdjFloats and NDArrays (the leaves), nested in arrays
 * and plain objects; flatten / unflatten helpers, and the type-level maps that give each transform its
 * result type (a number in gives a number out, an NDArray an NDArray, an AdjFloat an AdjFloat).
 */
import { InvalidArgumentError } from "../errors.js";
import { isPlainObject } from "../options.js";
import { AdjFloat } from "../values/adj-float.js";
import { NDArray, type NestedNumberArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";

/** A leaf of a pytree: a number (a constant, or a scalar input), an AdjFloat or an NDArray. */
export type Leaf = number | AdjFloat | NDArray;

/** A pytree: a leaf, an array (tuple) of pytrees, or a plain object of pytrees (JAX's lists, tuples, dicts). */
export type PyTree = Leaf | readonly PyTree[] | { readonly [key: string]: PyTree };

/** The structure of a pytree without its leaves (JAX's treedef). */
export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

/** What a seed (a cotangent or a tangent) may be for a leaf: a leaf, or nested numbers for an NDArray. */
export type SeedLeaf = Leaf | NestedNumberArray | Float64Array;

/**
 * The type of a result shaped like `T`: numbers stay numbers, AdjFloats AdjFloats, NDArrays NDArrays,
 * arrays and objects keep their structure (read-only markers removed).
 */
export type Like<T> = T extends number
  ? number
  : T extends AdjFloat
    ? AdjFloat
    : T extends NDArray
      ? NDArray
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Like<T[K]> }
        : { -readonly [K in keyof T]: Like<T[K]> };

/** `Like<T>` with AdjFloat leaves as numbers: results of a call whose inputs are all numbers. */
export type Demoted<T> = T extends number | AdjFloat
  ? number
  : T extends NDArray
    ? NDArray
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Demoted<T[K]> }
      : { -readonly [K in keyof T]: Demoted<T[K]> };

/** A tree of seeds (the seeds accepted for a value whose structure is not known statically). */
export type SeedTree = SeedLeaf | readonly SeedTree[] | { readonly [key: string]: SeedTree };

/** The seeds accepted for a value shaped like `T` (a tangent for an input, a cotangent for an output). */
export type SeedOf<T> = [PyTree] extends [T]
  ? SeedTree
  : T extends Leaf
    ? SeedLeaf
    : T extends readonly unknown[]
      ? { readonly [K in keyof T]: SeedOf<T[K]> }
      : { readonly [K in keyof T]: SeedOf<T[K]> };

/**
 * `true` when some leaf of `T` is an AdjFloat or an NDArray (`boolean` when it may be either, as for any
 * `PyTree`: the recursion stops there instead of unfolding the tree type without end).
 */
export type HasOverloaded<T> = [PyTree] extends [T]
  ? boolean
  : T extends AdjFloat | NDArray
    ? true
    : T extends number
      ? false
      : T extends readonly (infer E)[]
        ? HasOverloaded<E>
        : T extends object
          ? HasOverloaded<T[keyof T]>
          : false;

/**
 * The type of an output-shaped result (a value, a tangent) of `f` called with arguments `B`: like the
 * output, with AdjFloat leaves as numbers when every argument leaf is a number.
 */
export type OutputLike<R, B> = true extends HasOverloaded<B> ? Like<R> : Demoted<R>;

/** One Jacobian entry for output leaf `O` and input leaf `I`: an NDArray `[...O.shape, ...I.shape]` or a scalar like `I`. */
export type JacobianLeaf<O, I> = O extends NDArray ? NDArray : I extends NDArray ? NDArray : Like<I>;

/** The input structure `I` with each leaf replaced by its Jacobian entry against output leaf `O`. */
export type JacobianIn<O, I> = I extends Leaf
  ? JacobianLeaf<O, I>
  : I extends readonly unknown[]
    ? { -readonly [K in keyof I]: JacobianIn<O, I[K]> }
    : { -readonly [K in keyof I]: JacobianIn<O, I[K]> };

/** JAX's Jacobian layout: the output structure `R` whose leaves are input structures `I` of entries. */
export type JacobianTree<R, I> = R extends Leaf
  ? JacobianIn<R, I>
  : R extends readonly unknown[]
    ? { -readonly [K in keyof R]: JacobianTree<R[K], I> }
    : { -readonly [K in keyof R]: JacobianTree<R[K], I> };

/** Which arguments to differentiate: one index, or a tuple of indices (JAX's `argnums`). */
export type Argnums = number | readonly number[];

/** The arguments selected by `N` from the argument tuple `B`: one argument, or a tuple of them. */
export type Selected<B extends readonly unknown[], N extends Argnums> = N extends number
  ? B[N]
  : { -readonly [K in keyof N]: B[Extract<N[K], keyof B>] };

/** The tuple `A` with each entry `Like`. */
export type LikeEach<A extends readonly unknown[]> = [readonly PyTree[]] extends [A]
  ? PyTree[]
  : { -readonly [K in keyof A]: Like<A[K]> };

/** One seed per entry of the tuple `A`. */
export type SeedEach<A extends readonly unknown[]> = { readonly [K in keyof A]: SeedOf<A[K]> };

/** Whether `value` is an object (not null); any object's properties read as `unknown`. */
function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null;
}

/** @internal Whether `value` is a leaf of a pytree. */
export function isLeaf(value: unknown): value is Leaf {
  return typeof value === "number" || value instanceof AdjFloat || value instanceof NDArray;
}

function flattenInto(
  tree: unknown,
  leaves: Leaf[],
  operation: string,
  what: string,
  path: string,
  seen: Set<object>,
): TreeDef {
  if (isLeaf(tree)) {
    leaves.push(tree);
    return { kind: "leaf" };
  }
  if (tree !== null && typeof tree === "object" && seen.has(tree)) {
    throw new InvalidArgumentError(operation, `${what}${path} contains itself; a pytree must be a tree`);
  }
  if (Array.isArray(tree)) {
    seen.add(tree);
    const children = tree.map((child, i) =>
      flattenInto(child, leaves, operation, what, `${path}[${i}]`, seen),
    );
    seen.delete(tree);
    return { kind: "array", children };
  }
  if (isPlainObject(tree)) {
    seen.add(tree);
    const keys = Object.keys(tree);
    const children = keys.map((key) =>
      flattenInto(tree[key], leaves, operation, what, `${path}.${key}`, seen),
    );
    seen.delete(tree);
    return { kind: "object", keys, children };
  }
  throw new InvalidArgumentError(
    operation,
    `${what}${path} is ${describeType(tree)}; give numbers, AdjFloats, NDArrays, or arrays / plain objects of them`,
  );
}

/**
 * Splits a pytree into its leaves (depth first; object keys in insertion order) and its structure
 * (JAX's `tree_flatten`). Anything but a number, an AdjFloat, an NDArray, an array or a plain object is an
 * `InvalidArgumentError` naming where it sits.
 *
 * @example
 * const { leaves, treedef } = treeFlatten([1, { w: np.array([1, 2]), b: 0.5 }]);
 * leaves; // [1, array([1, 2]), 0.5]
 */
export function treeFlatten(
  tree: PyTree,
  operation = "treeFlatten",
  what = "the tree",
): { leaves: Leaf[]; treedef: TreeDef } {
  return flattenValue(tree, operation, what);
}

/**
 * @internal `treeFlatten` of a value not known to be a pytree (a transform's argument, what `f` returned):
 * anything that is not one is an `InvalidArgumentError` naming where it sits.
 */
export function flattenValue(
  tree: unknown,
  operation: string,
  what: string,
): { leaves: Leaf[]; treedef: TreeDef } {
  const leaves: Leaf[] = [];
  const treedef = flattenInto(tree, leaves, operation, what, "", new Set());
  return { leaves, treedef };
}

/** @internal The number of leaves a tree of structure `treedef` holds. */
export function treeLeafCount(treedef: TreeDef): number {
  if (treedef.kind === "leaf") return 1;
  let count = 0;
  for (const child of treedef.children) count += treeLeafCount(child);
  return count;
}

function build<T>(treedef: TreeDef, leaves: readonly T[], position: { next: number }): unknown {
  if (treedef.kind === "leaf") return leaves[position.next++];
  const children = treedef.children.map((child) => build(child, leaves, position));
  if (treedef.kind === "array") return children;
  const result: Record<string, unknown> = {};
  treedef.keys.forEach((key, i) => {
    result[key] = children[i];
  });
  return result;
}

/**
 * Rebuilds a tree of structure `treedef` from leaves in flattening order (JAX's `tree_unflatten`). The
 * "leaves" may be any values (whole subtrees too: the Jacobian puts input trees at the output's leaves).
 *
 * @example
 * const { leaves, treedef } = treeFlatten({ a: 1, b: [2, 3] });
 * treeUnflatten(treedef, leaves.map((x) => 2 * (x as number))); // { a: 2, b: [4, 6] }
 */
export function treeUnflatten<T>(treedef: TreeDef, leaves: readonly T[]): unknown {
  const expected = treeLeafCount(treedef);
  if (leaves.length !== expected) {
    throw new InvalidArgumentError(
      "treeUnflatten",
      `the structure has ${expected} leaves but ${leaves.length} were given`,
    );
  }
  return build(treedef, leaves, { next: 0 });
}

/** @internal Whether two structures are the same (kinds, lengths and keys). */
export function sameTreeDef(a: TreeDef, b: TreeDef): boolean {
  if (a.kind === "leaf" || b.kind === "leaf") return a.kind === b.kind;
  if (a.kind !== b.kind) return false;
  const bChildren = b.children;
  if (a.children.length !== bChildren.length) return false;
  if (a.kind === "object" && b.kind === "object") {
    const bKeys = b.keys;
    if (a.keys.some((key, i) => key !== bKeys[i])) return false;
  }
  return a.children.every((child, i) => sameTreeDef(child, bChildren[i]));
}

/** @internal A short description of a structure for messages, e.g. `[*, {w: *, b: *}]`. */
export function describeTreeDef(treedef: TreeDef): string {
  if (treedef.kind === "leaf") return "*";
  if (treedef.kind === "array") return `[${treedef.children.map(describeTreeDef).join(", ")}]`;
  return `{${treedef.keys.map((key, i) => `${key}: ${describeTreeDef(treedef.children[i])}`).join(", ")}}`;
}

/**
 * @internal Flattens `tree` along the structure `treedef` (a seed given for a value of that structure): at a
 * leaf position anything is taken as it is (nested numbers for an NDArray, say); arrays and objects must
 * match the structure. A mismatch is an `InvalidArgumentError` naming where.
 */
export function flattenLike(
  treedef: TreeDef,
  tree: unknown,
  operation: string,
  what: string,
  path = "",
): unknown[] {
  if (treedef.kind === "leaf") return [tree];
  if (treedef.kind === "array") {
    if (!Array.isArray(tree) || tree.length !== treedef.children.length) {
      throw new InvalidArgumentError(
        operation,
        `${what}${path} must be an array of ${treedef.children.length} entries (structure ${describeTreeDef(treedef)}), got ${Array.isArray(tree) ? `${tree.length} entries` : describeType(tree)}`,
      );
    }
    return treedef.children.flatMap((child, i) =>
      flattenLike(child, tree[i], operation, what, `${path}[${i}]`),
    );
  }
  if (!isObject(tree) || Array.isArray(tree) || isLeaf(tree)) {
    throw new InvalidArgumentError(
      operation,
      `${what}${path} must be an object with keys ${treedef.keys.join(", ")} (structure ${describeTreeDef(treedef)}), got ${describeType(tree)}`,
    );
  }
  const record = tree;
  const keys = Object.keys(record);
  const missing = treedef.keys.filter((key) => !keys.includes(key));
  const extra = keys.filter((key) => !treedef.keys.includes(key));
  if (missing.length > 0 || extra.length > 0) {
    throw new InvalidArgumentError(
      operation,
      `${what}${path} must have the keys ${treedef.keys.join(", ")}` +
        `${missing.length > 0 ? `; missing ${missing.join(", ")}` : ""}${extra.length > 0 ? `; unexpected ${extra.join(", ")}` : ""}`,
    );
  }
  return treedef.children.flatMap((child, i) =>
    flattenLike(child, record[treedef.keys[i]], operation, what, `${path}.${treedef.keys[i]}`),
  );
}
