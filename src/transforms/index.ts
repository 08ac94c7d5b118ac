/**
 * @file JAX-style function transforms over the tape (`grad`, `valueAndGrad`, `vjp`, `jvp`, `hvp`,
 * `jacobian`, `hessian`) and the small pytree they take and give.
 */
export { TransformBlock } from "./blocks.js";
export {
  type Argnums,
  type Demoted,
  type HasOverloaded,
  type JacobianIn,
  type JacobianLeaf,
  type JacobianTree,
  type Leaf,
  type Like,
  type LikeEach,
  type OutputLike,
  type PyTree,
  type SeedEach,
  type SeedLeaf,
  type SeedOf,
  type SeedTree,
  type Selected,
  type TreeDef,
  treeFlatten,
  treeUnflatten,
} from "./pytree.js";
export {
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  type TransformOptions,
  valueAndGrad,
  vjp,
} from "./transforms.js";
