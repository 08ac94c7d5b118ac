/**
 * @file Installs a placeholder global `Float16Array` on Node < 22 so that jax-js can create arrays from
 * typed arrays (it tests `data instanceof Float16Array`); leaves an existing `Float16Array` alone.
 */

/**
 * The placeholder installed as `globalThis.Float16Array` when the runtime has none (Node 20). It exists
 * only so that `instanceof Float16Array` checks work; constructing it throws, so the float16 dtype of
 * jax-js is unusable there (tsadjoint never uses it).
 *
 * @example
 * import "tsadjoint/jax"; // installs it on Node 20; on Node >= 22 the native Float16Array stays
 */
export class Float16ArrayPlaceholder {
  constructor() {
    throw new TypeError(
      "Float16Array is not available on this Node version (it is a global from Node 22); " +
        "tsadjoint/jax installed a placeholder so jax-js runs, but the float16 dtype cannot be used here",
    );
  }
}

/** Whether this module installed the placeholder (false when the runtime has a native Float16Array). */
export const float16ShimInstalled: boolean = Reflect.get(globalThis, "Float16Array") === undefined;
if (float16ShimInstalled) Reflect.set(globalThis, "Float16Array", Float16ArrayPlaceholder);
