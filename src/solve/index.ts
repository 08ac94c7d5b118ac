/**
 * @file `tsadjoint/solve`: differentiable linear and nonlinear solves. Sparse matrices as tape values
 * (assembly from recorded triplet values, transpose, matvec), `solve(A, b)` for dense and sparse A, and
 * `nonlinearSolve` (Newton) whose derivatives use the implicit-function theorem. Also re-exports the pure
 * sparse linear-algebra layer (CSR, Cholesky, LU, Krylov).
 *
 * @module tsadjoint/solve
 */
import "../values/ndarray-space.js";
// AdjFloat's arithmetic methods record through the elementwise operations, registered when they load
import "../ops/elementwise.js";

export {
  bandedPattern,
  type ColumnColoring,
  colorColumns,
  colorSeeds,
  recoverJacobian,
  tridiagonalPattern,
} from "./coloring.js";
export {
  KrylovConvergenceError,
  NewtonDivergenceError,
  type NewtonFailureReason,
  SingularSystemError,
} from "./errors.js";
export {
  LinearSolveBlock,
  type SolveInputs,
  type SolveMatrix,
  type SolveOptions,
  solve,
} from "./linear-solve.js";
export type { LinearSolveMethod, LinearSolverOptions, PreparedSystem } from "./linear-system.js";
export {
  type JacobianSparsity,
  type NewtonIterationInfo,
  NonlinearSolveBlock,
  type NonlinearSolveOptions,
  type NonlinearSolveStatistics,
  nonlinearSolve,
} from "./nonlinear-solve.js";
export type { SolveParameter } from "./residual-tape.js";
export * from "./sparse/index.js";
export {
  type MatvecIn,
  type OneArray,
  type OneMatrix,
  SparseMatrix,
  sparseMatrixSpace,
} from "./sparse-matrix.js";
export {
  matvec,
  SparseAssembleBlock,
  SparseAssembler,
  SparseMatvecBlock,
  type SparseOperand,
  SparseTransposeBlock,
  SparseValuesBlock,
  sparseFromValues,
  sparseMatrix,
  sparseValues,
  transpose,
} from "./sparse-ops.js";
