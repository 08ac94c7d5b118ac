/** Records a loop with disk snapshots, prints the folder and exits without clearing the tape. */
import { existsSync } from "node:fs";
import { Control, np, ReducedFunctional, Tape, withTape } from "tsadjoint";
import { SingleDiskStorageSchedule } from "tsadjoint/checkpoint";

const tape = new Tape();
withTape(tape, () => {
  tape.enableCheckpointing(new SingleDiskStorageSchedule());
  const x = np.array([0.5, 1.5]);
  let u = x;
  for (const _ of tape.timestepper(5)) u = np.sin(u);
  new ReducedFunctional(np.sum(u), new Control(x), { tape }).derivative();
});
const folder = String(tape.checkpointManager?.diskPath);
process.stdout.write(`${folder}|${existsSync(folder)}`);
