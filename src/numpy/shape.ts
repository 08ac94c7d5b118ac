/** @file shape operations of `tsadjoint/numpy` (being written). */
export {};
