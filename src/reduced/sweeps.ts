/** @file Moved to tape/sweeps.ts; this re-export keeps old import paths working until they are updated. */
export * from "../tape/sweeps.js";
