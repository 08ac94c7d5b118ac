/**
 * @file JAX-style transforms: grad, valueAndGrad, vjp, jvp, hvp, jacobian and hessian on numbers, NDArrays
 * and pytrees; grad(grad(f)); a least-squares fit by gradient descent with `valueAndGrad` over a parameter
 * object; and `grad(f)` inside a recorded program differentiated by a ReducedFunctional.
 */
import {
  Control,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  type NDArray,
  np,
  ReducedFunctional,
  type Scalar,
  stopAnnotating,
  Tape,
  valueAndGrad,
  vjp,
  withTape,
} from "tsadjoint";

/** A linear model's parameters: a pytree (a plain object of an NDArray and a number). */
type Params = { w: NDArray; b: Scalar };

/** Mean squared error of the model y = X w + b on the data (X, y). */
const loss = (params: Params, X: NDArray, y: NDArray) =>
  np.mean(np.square(np.subtract(np.add(np.matmul(X, params.w), params.b), y)));

/**
 * Runs each transform once and returns the numbers the test checks.
 *
 * @example
 * const result = transformsExample();
 * result.secondDerivative; // 6 x at x = 2: 12
 */
export function transformsExample() {
  // scalars: a number in gives a number out
  const cube = (x: Scalar) => np.power(x, 3);
  const derivative = grad(cube)(2); // 3 x^2 = 12
  const secondDerivative = grad(grad(cube))(2); // 6 x = 12

  // arrays
  const f = (x: NDArray) => np.sum(np.square(np.sin(x)));
  const x = np.array([0.3, -0.8, 1.1]);
  const [value, gradient] = valueAndGrad(f)(x); // sin(2x)
  const [hv] = hvp(f, [x], [np.array([1, 0, 0])]); // first column of diag(2 cos 2x)
  const H = hessian(f)(x); // [3, 3]
  const J = jacobian((t: NDArray) => np.sin(t))(x); // diag(cos x)
  const [y, pullback] = vjp((t: NDArray) => np.multiply(t, t), x);
  const [xbar] = pullback(np.array([1, 1, 1])); // 2 x
  const [, ydot] = jvp((t: NDArray) => np.exp(t), [x], [np.array([1, 1, 1])]); // exp(x)

  // a least-squares fit: gradient descent with valueAndGrad over a parameter object. The loop runs with
  // annotation off, so nothing is recorded on the working tape.
  const X = np.array([
    [1, 0.5],
    [0.2, 1.5],
    [1.3, -0.4],
    [0.7, 0.9],
  ]);
  const target = np.add(np.matmul(X, np.array([2, -1])), 0.5);
  let params: Params = { w: np.zeros([2]), b: 0 };
  const step = valueAndGrad(loss);
  let fitted = 0;
  stopAnnotating(() => {
    for (let iteration = 0; iteration < 2000; iteration++) {
      const [lossValue, g] = step(params, X, target);
      fitted = (lossValue as NDArray).item();
      params = {
        w: np.subtract(params.w, np.multiply(g.w, 0.3)),
        b: np.subtract(params.b, np.multiply(g.b, 0.3)),
      };
    }
  });

  // grad inside a recorded program: one block whose rules are Hessian actions
  const tape = new Tape();
  const u = np.array([0.4, -0.2, 0.9]);
  const objective = withTape(tape, () => np.sum(np.multiply(grad(f)(np.multiply(u, 2)), u)));
  const rf = new ReducedFunctional(objective, new Control(u), { tape });
  const programGradient = rf.derivative() as NDArray; // grad f(2u) + 2 H(2u) u

  return {
    derivative,
    secondDerivative,
    value: (value as NDArray).item(),
    gradient: Array.from(gradient.data),
    hv: Array.from(hv.data),
    hessian: H.toArray() as number[][],
    jacobian: J.toArray() as number[][],
    y: Array.from(y.data),
    xbar: Array.from(xbar.data),
    ydot: Array.from(ydot.data),
    fitted,
    params: { w: Array.from(params.w.data), b: typeof params.b === "number" ? params.b : params.b.value },
    programGradient: Array.from(programGradient.data),
    blocks: tape.blocks.map((block) => block.name),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = transformsExample();
  console.log(`grad(x^3)(2) = ${result.derivative}, grad(grad(x^3))(2) = ${result.secondDerivative}`);
  console.log(`grad(sum(sin(x)^2)) = [${result.gradient.map((g) => g.toFixed(6)).join(", ")}]`);
  console.log(
    `least squares: loss ${result.fitted.toExponential(2)}, w = [${result.params.w.map((w) => w.toFixed(4))}], b = ${result.params.b.toFixed(4)}`,
  );
  console.log(`tape of the program that calls grad: ${result.blocks.join(", ")}`);
}
