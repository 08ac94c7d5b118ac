/** @file Barrel for the tape-free numeric kernels on NDArray (one module per family). */

export * from "./broadcast.js";
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./linalg.js";
export * from "./random.js";
export * from "./reduce.js";
export * from "./shape.js";
export * from "./strided.js";
