/** @file Array creation in `tsadjoint/numpy`: array, zeros, ones, full, ..., and the seeded random generator. */
import { InvalidArgumentError } from "../errors.js";
import {
  arange as arangeKernel,
  eye as eyeKernel,
  full as fullKernel,
  linspace as linspaceKernel,
  ones as onesKernel,
  onesLike as onesLikeKernel,
  zeros as zerosKernel,
  zerosLike as zerosLikeKernel,
} from "../ops/kernels/creation.js";
import { defaultRng, RandomGenerator } from "../ops/kernels/random.js";
import { checkNumber } from "../options.js";
import { array, asNDArray, NDArray } from "../values/ndarray.js";
import { describeType } from "../values/space.js";

export { array, asNDArray, RandomGenerator };

/** A shape argument of the creation functions: one size or a list of sizes. */
function shapeOf(operation: string, shape: unknown): number[] {
  const list = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      operation,
      `shape must be a non-negative integer or a list of them, got ${describeType(shape)}`,
    );
  }
  return list.map((n, i) => checkNumber(operation, `shape[${i}]`, n, { integer: true, nonNegative: true }));
}

/** A fill value: any number (NaN and infinities included, as NumPy), never a string or an object. */
function fillValue(operation: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new InvalidArgumentError(operation, `fill_value must be a number, got ${describeType(value)}`);
  }
  return value;
}

function arrayArgument(operation: string, a: unknown): NDArray {
  if (!(a instanceof NDArray)) {
    throw new InvalidArgumentError(operation, `expected an NDArray, got ${describeType(a)}`);
  }
  return a;
}

/**
 * An array of zeros. @example np.zeros([2, 3])
 */
export function zeros(shape: number | readonly number[]): NDArray {
  return zerosKernel(shapeOf("np.zeros", shape));
}
/** An array of ones. @example np.ones([2, 3]) */
export function ones(shape: number | readonly number[]): NDArray {
  return onesKernel(shapeOf("np.ones", shape));
}
/** An array filled with `value`. @example np.full([2], 7) */
export function full(shape: number | readonly number[], value: number): NDArray {
  return fullKernel(shapeOf("np.full", shape), fillValue("np.full", value));
}
/** Zeros with the shape of `a`. @example np.zerosLike(x) */
export function zerosLike(a: NDArray): NDArray {
  return zerosLikeKernel(arrayArgument("np.zerosLike", a));
}
/** Ones with the shape of `a`. @example np.onesLike(x) */
export function onesLike(a: NDArray): NDArray {
  return onesLikeKernel(arrayArgument("np.onesLike", a));
}
/**
 * Evenly spaced values in [start, stop) with `step` (`arange(stop)` starts at 0).
 * @example np.arange(0, 1, 0.25)
 */
export function arange(start: number, stop?: number, step = 1): NDArray {
  checkNumber("np.arange", "start", start);
  if (stop !== undefined) checkNumber("np.arange", "stop", stop);
  checkNumber("np.arange", "step", step);
  return arangeKernel(start, stop, step);
}
/**
 * `num` evenly spaced values from start to stop (stop included unless `endpoint` is false).
 * @example np.linspace(0, 1, 5)
 */
export function linspace(start: number, stop: number, num = 50, endpoint = true): NDArray {
  checkNumber("np.linspace", "start", start);
  checkNumber("np.linspace", "stop", stop);
  checkNumber("np.linspace", "num", num, { integer: true, nonNegative: true });
  if (typeof endpoint !== "boolean") {
    throw new InvalidArgumentError(
      "np.linspace",
      `endpoint must be true or false, got ${describeType(endpoint)}`,
    );
  }
  return linspaceKernel(start, stop, num, endpoint);
}
/**
 * The n x m identity (ones on the diagonal `k`).
 * @example np.eye(3)
 */
export function eye(n: number, m?: number, k = 0): NDArray {
  checkNumber("np.eye", "n", n, { integer: true, nonNegative: true });
  if (m !== undefined) checkNumber("np.eye", "m", m, { integer: true, nonNegative: true });
  checkNumber("np.eye", "k", k, { integer: true });
  return eyeKernel(n, m, k);
}

/**
 * NumPy's `np.random` namespace: `np.random.default_rng(seed)` (also `defaultRng`) gives a reproducible
 * generator with `random`, `uniform`, `normal`, `integers`, `permutation`.
 *
 * @example
 * const rng = np.random.default_rng(42);
 * const noise = rng.normal(0, 0.01, [100]);
 */
export const random = {
  default_rng: defaultRng,
  defaultRng,
} as const;
