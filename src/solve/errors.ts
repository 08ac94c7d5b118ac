/** @file Typed errors of the solve blocks: Newton divergence, singular systems, Krylov non-convergence. */
import { TsadjointError } from "../errors.js";

/** Why Newton's method stopped without converging. */
export type NewtonFailureReason = "max-iterations" | "non-finite" | "line-search";

/**
 * Newton's method did not converge in `nonlinearSolve`: the iteration limit was reached, the residual (or the
 * Newton step) became non-finite, or the backtracking line search found no decrease of ||F||. Carries the
 * residual-norm history (entry 0 is ||F(u0)||) so the caller can see how far it got.
 *
 * @example
 * try { nonlinearSolve(F, u0, [p]); } catch (e) { if (e instanceof NewtonDivergenceError) console.log(e.residualNorms); }
 */
export class NewtonDivergenceError extends TsadjointError {
  /** ||F(u_k)||_2 after each accepted iterate, starting with the initial guess. */
  readonly residualNorms: readonly number[];
  /** What stopped the iteration. */
  readonly reason: NewtonFailureReason;
  constructor(
    operation: string,
    reason: NewtonFailureReason,
    residualNorms: readonly number[],
    hint: string,
  ) {
    const history = residualNorms.map((r) => r.toExponential(3)).join(", ");
    super(operation, `Newton's method did not converge (${reason}); ||F|| history [${history}]; ${hint}`);
    this.residualNorms = residualNorms.slice();
    this.reason = reason;
  }
}

/**
 * A linear system that cannot be solved: the matrix (a `solve` operand or the Jacobian of `nonlinearSolve`)
 * is singular, or not positive definite when Cholesky was requested. `cause` is the sparse layer's error
 * (SingularMatrixError / NotPositiveDefiniteError) when there is one.
 *
 * @example
 * try { solve(array([[1, 2], [2, 4]]), array([1, 1])); } catch (e) { e instanceof SingularSystemError; } // true
 */
export class SingularSystemError extends TsadjointError {
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super(operation, message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * An iterative (Krylov) solve in `solve` or `nonlinearSolve` did not reach its tolerance. Derivatives
 * through a loosely solved system would be silently wrong, so this is an error, never a warning.
 *
 * @example
 * solve(A, b, { method: "cg", maxIterations: 2 }); // throws KrylovConvergenceError
 */
export class KrylovConvergenceError extends TsadjointError {
  /** ||b - A x||_2 of the returned iterate. */
  readonly residualNorm: number;
  /** Iterations performed. */
  readonly iterations: number;
  constructor(operation: string, method: string, residualNorm: number, iterations: number, target: number) {
    super(
      operation,
      `${method} did not converge: ||b - A x|| = ${residualNorm.toExponential(3)} > ${target.toExponential(3)} after ${iterations} iterations; ` +
        "raise maxIterations, use a better preconditioner, or use a direct method (method: 'auto')",
    );
    this.residualNorm = residualNorm;
    this.iterations = iterations;
  }
}
