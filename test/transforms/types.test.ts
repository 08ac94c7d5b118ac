/**
 * Type-level tests of the transforms (checked by `tsc --noEmit`, i.e. `npm run check`; the runtime
 * assertions only confirm the values behind the types).
 */
import {
  AdjFloat,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  type NDArray,
  np,
  type Scalar,
  stopAnnotating,
  valueAndGrad,
  vjp,
} from "tsadjoint";
import { describe, expect, expectTypeOf, it } from "vitest";

const cube = (x: Scalar) => np.power(x, 3);
const f = (x: NDArray) => np.sum(np.square(x));
const two = (x: NDArray, k: Scalar) => np.sum(np.multiply(x, k));
type Params = { w: NDArray; b: Scalar };
const model = (p: Params) => np.sum(np.multiply(p.w, p.b));
const x = np.array([1, 2]);

describe("transform result types follow the arguments", () => {
  it("grad: number in, number out; NDArray in, NDArray out; argnums tuples give tuples", () => {
    expectTypeOf(grad(cube)(2)).toEqualTypeOf<number>();
    expectTypeOf(grad(cube)(new AdjFloat(2))).toEqualTypeOf<AdjFloat>();
    expectTypeOf(grad(f)(x)).toEqualTypeOf<NDArray>();
    expectTypeOf(grad(two, { argnums: 1 })(x, 2)).toEqualTypeOf<number>();
    expectTypeOf(grad(two, { argnums: [0, 1] })(x, 2)).toEqualTypeOf<[NDArray, number]>();
    expectTypeOf(grad(model)({ w: x, b: 2 })).toEqualTypeOf<{ w: NDArray; b: number }>();
    expectTypeOf(grad(grad(cube))(2)).toEqualTypeOf<number>();
    expect(grad(two, { argnums: [0, 1] })(x, 2)[1]).toBe(3);
  });

  it("valueAndGrad, vjp, jvp, hvp", () => {
    expectTypeOf(valueAndGrad(cube)(2)).toEqualTypeOf<[number, number]>();
    expectTypeOf(valueAndGrad(f)(x)).toEqualTypeOf<[NDArray, NDArray]>();
    const [y, pullback] = vjp(two, x, 2);
    expectTypeOf(y).toEqualTypeOf<NDArray>();
    expectTypeOf(pullback(1)).toEqualTypeOf<[NDArray, number]>();
    expectTypeOf(jvp(cube, [2], [1])).toEqualTypeOf<[number, number]>();
    expectTypeOf(jvp(f, [x], [[1, 0]])).toEqualTypeOf<[NDArray, NDArray]>();
    expectTypeOf(hvp(two, [x, 2], [x, 1])).toEqualTypeOf<[NDArray, number]>();
    expect(stopAnnotating(() => pullback(1))[1]).toBe(3);
  });

  it("jacobian and hessian: the output structure of input structures", () => {
    expectTypeOf(jacobian(cube)(2)).toEqualTypeOf<number>();
    expectTypeOf(jacobian((t: NDArray) => np.sin(t))(x)).toEqualTypeOf<NDArray>();
    const [first, second] = jacobian((p: Params) => [p.w, p.b] as const)({ w: x, b: 2 });
    expectTypeOf(first).toEqualTypeOf<{ w: NDArray; b: NDArray }>();
    expectTypeOf(second.w).toEqualTypeOf<NDArray>();
    expectTypeOf(second.b).toEqualTypeOf<number>();
    expectTypeOf(hessian(f)(x)).toEqualTypeOf<NDArray>();
    expectTypeOf(hessian(two, { argnums: [0, 1] })(x, 2)).toEqualTypeOf<
      [[NDArray, NDArray], [NDArray, number]]
    >();
    expect(hessian(two, { argnums: [0, 1] })(x, 2)[1][1]).toBe(0);
  });

  it("misuses do not compile", () => {
    // @ts-expect-error: grad needs a scalar output, not an array
    expect(() => grad((t: NDArray) => [t])).not.toThrow();
    // @ts-expect-error: an unknown option
    expect(() => grad(f, { argnum: 1 })).toThrow();
    // @ts-expect-error: a string is not a pytree argument
    expect(() => grad(f)("x")).toThrow();
    // @ts-expect-error: one tangent per primal
    expect(() => jvp(two, [x, 2], [x])).toThrow();
    // @ts-expect-error: hvp needs a scalar function, not an array of outputs
    expect(() => hvp((t: NDArray) => [np.sin(t)], [x], [x])).toThrow();
    // an NDArray output is a Leaf: its size is checked when the function runs
    expect(() => hvp((t: NDArray) => np.sin(t), [x], [x])).toThrow(/needs a scalar output/);
  });
});
