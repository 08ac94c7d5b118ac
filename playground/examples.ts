/**
 * @file The editable examples of the playground's Code panel: JavaScript run in the page against the
 * library. `import` lines are accepted (the names are in scope anyway); `print(...)` writes a line.
 */

/** An example: a title and its code. */
export interface CodeExample {
  title: string;
  code: string;
}

export const EXAMPLES: readonly CodeExample[] = [
  {
    title: "Quick start (scalar program, gradient, Hessian action, Taylor tests)",
    code: `import { AdjFloat, Control, np, ReducedFunctional, taylorTest } from "tsadjoint";

const x = new AdjFloat(0.8);
const k = new AdjFloat(2.5);
// J(x, k) = sin(k x) exp(-x^2 / 2), recorded on the working tape as it runs
const J = np.multiply(np.sin(k.mul(x)), np.exp(np.divide(np.square(x), -2)));

const rf = new ReducedFunctional(J, [new Control(x), new Control(k)]);
print("J(x=0.8, k=2.5) =", J.value);
print("dJ/d(x, k) =", rf.derivative().map((g) => g.value));
print("H [1, 0] =", rf.hessian([1, 0]).map((h) => h.value));
print("Taylor rate (gradient) =", taylorTest(rf, [0.8, 2.5], [0.1, -0.3]), "(about 2)");
print("Taylor rate (Hessian) =", taylorTest(rf, [0.8, 2.5], [0.1, -0.3], { hessian: true }), "(about 3)");
`,
  },
  {
    title: "Arrays (tsadjoint/numpy): gradient of sum(tanh(x @ w))",
    code: `import { Control, computeGradient, np } from "tsadjoint";

const rng = np.random.default_rng(42);
const x = rng.normal(0, 1, [3, 4]);
const w = np.array([1, 2, 3, 4]);
const J = np.sum(np.tanh(np.matmul(x, w)));
const [gx, gw] = computeGradient(J, [new Control(x), new Control(w)]);
print("J =", J.item());
print("dJ/dw =", Array.from(gw.data));
print("dJ/dx shape =", gx.shape);
`,
  },
  {
    title: "Nonlinear solve (tsadjoint/solve): Newton, one adjoint solve, Taylor test",
    code: `import { AdjFloat, Control, np, ReducedFunctional, taylorTest } from "tsadjoint";
import { nonlinearSolve } from "tsadjoint/solve";

// F(u; a) = u + a u^3 - b = 0 componentwise, J = sum(u^2)
const a = new AdjFloat(0.5);
const b = np.linspace(0.1, 2, 5);
const u = nonlinearSolve((u, a) => np.subtract(np.add(u, np.multiply(a, np.power(u, 3))), b), np.zeros([5]), [a]);
const J = np.sum(np.square(u));
const rf = new ReducedFunctional(J, new Control(a));
print("u =", Array.from(u.data));
print("dJ/da =", rf.derivative().value);
print("Taylor rate =", taylorTest(rf, 0.5, 0.1), "(about 2)");
`,
  },
];
