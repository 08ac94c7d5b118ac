/**
 * @file Benchmark of checkpointing: the memory the tape holds during the adjoint of a long time loop,
 * u <- u + dt (p sin(u) - u^3) on arrays (6 array values a step), J = sum(u^2). Figures: the peak bytes
 * of the float64 data the tape references (block values, adjoints, tangents, snapshots), sampled during
 * every sweep, as a ratio against "10 snapshots plus one step" (10 states plus every value of one step),
 * with the steps advanced (times include the memory sampling); no checkpointing as the baseline the schedules save against. Default size
 * 1000 steps of 10^4-element arrays; `npm run bench checkpoint -- --full` runs the 10^4 steps (the
 * uncheckpointed row is then an estimate: steps x one step, about 4.8 GB).
 */
import { AdjFloat, Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import {
  type CheckpointSchedule,
  MultistageCheckpointSchedule,
  PeriodicCheckpointSchedule,
  Revolve,
  SingleDiskStorageSchedule,
} from "tsadjoint/checkpoint";
import { collectGarbage, printTable, type Row } from "./harness.js";

type NDArray = InstanceType<typeof np.NDArray>;

/** Bytes of the distinct float64 buffers among `values` (numbers count 8). */
function bytesOf(values: Iterable<unknown>, seen = new Set<ArrayBufferLike>()): number {
  let total = 0;
  for (const value of values) {
    if (value === undefined) continue;
    if (typeof value === "number") {
      total += 8;
      continue;
    }
    const buffer = (value as NDArray).data?.buffer;
    if (buffer === undefined || seen.has(buffer)) continue;
    seen.add(buffer);
    total += buffer.byteLength;
  }
  return total;
}

/** Every float64 value the tape references now: block values and slots, snapshots in memory. */
function tapeBytes(tape: Tape): number {
  const seen = new Set<ArrayBufferLike>();
  const values: unknown[] = [];
  const visited = new Set<unknown>();
  for (const block of tape.blocks) {
    for (const variable of [...block.dependencies, ...block.outputs]) {
      if (visited.has(variable)) continue;
      visited.add(variable);
      values.push(variable.saved, variable.adj, variable.tlm, variable.hessian);
    }
  }
  values.push(...(tape.checkpointManager?.heldSnapshotValues() ?? []));
  return bytesOf(values, seen);
}

function record(tape: Tape, steps: number, size: number, schedule?: CheckpointSchedule) {
  return withTape(tape, () => {
    const u0 = np.multiply(0.5, np.sin(np.linspace(0, 10, size)));
    const p = new AdjFloat(0.8);
    if (schedule !== undefined) tape.enableCheckpointing(schedule);
    let u: NDArray = u0;
    for (const _ of tape.timestepper(steps)) {
      const rate = np.subtract(np.multiply(p, np.sin(u)), np.power(u, 3));
      u = np.add(u, np.multiply(0.001, rate));
    }
    const J = np.sum(np.square(u));
    return new ReducedFunctional(J, [new Control(u0), new Control(p)], { tape });
  });
}

interface Measured {
  peak: number;
  afterRecording: number;
  stepBytes: number;
  forwardSteps: number;
  ms: number;
  gradient: number;
}

function measure(steps: number, size: number, schedule: CheckpointSchedule | undefined): Measured {
  collectGarbage();
  const tape = new Tape();
  const rf = record(tape, steps, size, schedule);
  const afterRecording = tapeBytes(tape);
  // one step's values: the last step is in memory after the recording
  const last = tape.timestepBlocks(steps - 1);
  const stepBytes = bytesOf(last.flatMap((b) => b.outputs.map((o) => o.saved)));
  let peak = afterRecording;
  const manager = tape.checkpointManager;
  let count = 0;
  // sample every 23rd step event (a prime: no aliasing with the schedules' periodic structure)
  const every = 23;
  if (manager !== undefined) {
    manager.observer = () => {
      if (++count % every === 0) peak = Math.max(peak, tapeBytes(tape));
    };
  }
  const start = process.hrtime.bigint();
  const g = rf.derivative() as unknown as [NDArray, AdjFloat];
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  peak = Math.max(peak, tapeBytes(tape));
  const forwardSteps = tape.checkpointStatistics().forwardSteps || steps;
  tape.clear();
  return { peak, afterRecording, stepBytes, forwardSteps, ms, gradient: g[1].value };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** Runs the checkpoint benchmark and prints the table. */
export function runCheckpointBench(full = process.argv.includes("--full")): void {
  const steps = full ? 10_000 : 1000;
  const size = 10_000;
  const snapshots = 10;
  const rows: Row[] = [];
  const stateBytes = size * 8;
  const reference = full ? undefined : measure(steps, size, undefined);
  const schedules: [string, CheckpointSchedule][] = [
    [`Revolve(${steps}, ${snapshots})`, new Revolve(steps, snapshots)],
    [`Multistage(${steps}, 5 memory, 5 disk)`, new MultistageCheckpointSchedule(steps, 5, 5)],
    [`Periodic(${snapshots}) (online)`, new PeriodicCheckpointSchedule(snapshots)],
    // every step's values on disk: 4.8 GB of files at the full size, so the default size only
    ...(full ? [] : ([["SingleDisk", new SingleDiskStorageSchedule()]] as [string, CheckpointSchedule][])),
  ];
  let baseline = 0;
  for (const [name, schedule] of schedules) {
    const result = measure(steps, size, schedule);
    baseline = snapshots * stateBytes + result.stepBytes;
    const ratio = result.peak / baseline;
    const check =
      reference === undefined
        ? "no uncheckpointed reference at this size"
        : Math.abs(result.gradient - reference.gradient) <= 1e-13 * Math.abs(reference.gradient)
          ? "gradient equal"
          : "gradient DIFFERS";
    rows.push({
      name: `${name}: peak tape memory in the adjoint`,
      value: `${mb(result.peak)} (${result.forwardSteps} steps advanced, ${(result.ms / 1000).toFixed(1)} s with sampling, ${check})`,
      ratio,
      target: name.startsWith("Revolve") ? "<= 2x of 10 snapshots + one step" : undefined,
      pass: name.startsWith("Revolve") ? ratio <= 2 : undefined,
    });
    console.log(
      `  measured ${rows[rows.length - 1].name}: ${rows[rows.length - 1].value}, ratio ${ratio.toFixed(2)}`,
    );
  }
  if (reference !== undefined) {
    rows.push({
      name: "no checkpointing: tape memory after the recording",
      value: `${mb(reference.afterRecording)} (${steps} steps, ${(reference.ms / 1000).toFixed(1)} s adjoint)`,
      ratio: reference.afterRecording / baseline,
    });
  } else {
    rows.push({
      name: "no checkpointing (estimate: steps x one step)",
      value: mb(steps * (baseline - snapshots * stateBytes)),
      ratio: (steps * (baseline - snapshots * stateBytes)) / baseline,
    });
  }
  printTable(
    `checkpoint: ${steps} steps of ${size}-element arrays; ratios against 10 snapshots + one step = ${mb(baseline)}`,
    rows,
  );
}
