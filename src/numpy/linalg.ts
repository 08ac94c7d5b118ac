/** @file linalg operations of `tsadjoint/numpy` (being written). */
export {};
