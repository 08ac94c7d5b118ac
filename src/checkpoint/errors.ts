/** @file The typed error of checkpointing: a schedule or a checkpointed tape used in a way it cannot serve. */
import { TsadjointError } from "../errors.js";

/**
 * A checkpointed tape cannot do what was asked: an adjoint with `NoneCheckpointSchedule`, more steps than
 * the schedule was made for, disk snapshots in a browser, a step reading a value the schedule dropped.
 *
 * @example
 * try { computeGradient(J, control); } catch (e) { if (e instanceof CheckpointError) console.log(e.message); }
 */
export class CheckpointError extends TsadjointError {}
