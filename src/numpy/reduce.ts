/** @file reduce operations of `tsadjoint/numpy` (being written). */
export {};
