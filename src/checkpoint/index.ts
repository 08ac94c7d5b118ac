/**
 * @file `tsadjoint/checkpoint`: checkpoint schedules for `tape.enableCheckpointing(schedule)` and their
 * actions (the vocabulary of the checkpoint_schedules package).
 *
 * @module tsadjoint/checkpoint
 */
export {
  type CheckpointAction,
  Copy,
  EndForward,
  EndReverse,
  Forward,
  Move,
  Reverse,
  type StorageType,
} from "./actions.js";
export { DiskStore } from "./disk.js";
export { CheckpointError } from "./errors.js";
export type { CheckpointStatistics, RecordingPolicy } from "./manager.js";
export {
  binomialForwardSteps,
  CheckpointSchedule,
  MultistageCheckpointSchedule,
  NoneCheckpointSchedule,
  PeriodicCheckpointSchedule,
  Revolve,
  SingleDiskStorageSchedule,
  SingleMemoryStorageSchedule,
} from "./schedules.js";
