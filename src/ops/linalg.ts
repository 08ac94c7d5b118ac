/**
 * @file Linear algebra operation blocks, re-exported from the files that hold them by concern: products and
 * trace (`linalg-products.ts`), the einsum family of contractions (`einsum.ts`), decompositions and solves
 * (`decompositions.ts`) and the shared helpers (`linalg-helpers.ts`).
 */
export * from "./decompositions.js";
export * from "./einsum.js";
export { withOperation } from "./linalg-helpers.js";
export * from "./linalg-products.js";
