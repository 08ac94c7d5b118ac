/** @file Public surface of the sparse linear algebra layer (CSR matrices, direct and iterative solvers). */

export {
  analyzeCholesky,
  CholeskyFactor,
  type CholeskyOptions,
  CholeskySymbolic,
  cholesky,
  NotPositiveDefiniteError,
} from "./cholesky.js";
export {
  assembleValues,
  assembleValuesInto,
  CsrMatrix,
  gatherTripletValues,
  type ScatterMap,
  scatterMap,
  type TransposedPattern,
  transposePattern,
} from "./csr.js";
export {
  type FactorizationMethod,
  type FactorizeOptions,
  factorize,
  type SparseFactorization,
} from "./factorize.js";
export {
  type ConjugateGradientOptions,
  conjugateGradient,
  type GmresOptions,
  gmres,
  type IterativeResult,
  incompleteCholesky,
  incompleteLu,
  jacobiPreconditioner,
  type KrylovOptions,
  type Preconditioner,
} from "./iterative.js";
export { analyzeLu, LuFactor, type LuOptions, LuSymbolic, lu, SingularMatrixError } from "./lu.js";
export {
  type AdjacencyGraph,
  approximateMinimumDegree,
  eliminationTree,
  type FillReducingOrdering,
  fillReducingOrder,
  inversePermutation,
  postorderForest,
  reverseCuthillMcKee,
  symmetricGraph,
} from "./ordering.js";
