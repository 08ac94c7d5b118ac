/** @file Array creation in `tsadjoint/numpy`: array, zeros, ones, full, ..., and the seeded random generator. */
import { arange, eye, full, linspace, ones, onesLike, zeros, zerosLike } from "../ops/kernels/creation.js";
import { defaultRng, RandomGenerator } from "../ops/kernels/random.js";
import { array, asNDArray } from "../values/ndarray.js";

export { arange, array, asNDArray, eye, full, linspace, ones, onesLike, RandomGenerator, zeros, zerosLike };

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
