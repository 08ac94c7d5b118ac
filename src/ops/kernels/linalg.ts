/**
 * @file Linear algebra kernels, re-exported from the files that hold them by concern: products
 * (`products.ts`), einsum (`einsum.ts`), factorisations and solvers (`decompositions.ts`).
 */
export * from "./decompositions.js";
export * from "./einsum.js";
export * from "./products.js";
