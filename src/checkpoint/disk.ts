/**
 * @file Disk storage of snapshots: values flattened to float64 with `node:fs` in a temporary folder
 * (removed by `clear()`, by `tape.clear()` and at process exit). `node:fs` is loaded lazily through
 * `process.getBuiltinModule`, so this module loads in a browser, where using it is a clear error.
 */
import { describeShape, spaceOf } from "../values/space.js";
import { CheckpointError } from "./errors.js";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");
type NodeOs = typeof import("node:os");

function nodeModules(operation: string): { fs: NodeFs; path: NodePath; os: NodeOs; process: NodeJS.Process } {
  // undefined in a browser, and getBuiltinModule before Node 20.16 (which the declared types do not say)
  const process: NodeJS.Process | undefined = globalThis.process;
  const get: NodeJS.Process["getBuiltinModule"] | undefined = process?.getBuiltinModule;
  if (process === undefined || get === undefined) {
    throw new CheckpointError(
      operation,
      "disk snapshots need Node.js 20.16 or later (node:fs); in a browser use a memory schedule (Revolve, SingleMemoryStorageSchedule, PeriodicCheckpointSchedule)",
    );
  }
  return {
    fs: process.getBuiltinModule("node:fs"),
    path: process.getBuiltinModule("node:path"),
    os: process.getBuiltinModule("node:os"),
    process,
  };
}

/** The constructor name of an object (the key of its template, with its shape). */
function typeName(value: unknown): string | undefined {
  return typeof value === "object" && value !== null ? value.constructor?.name : typeof value;
}

/** How one stored value is rebuilt: a number, nothing (a zero tangent), or a value of a registered type. */
type Entry =
  | { kind: "number" }
  | { kind: "undefined" }
  | { kind: "array"; length: number; template: unknown };

const liveStores = new Set<DiskStore>();
let exitHookInstalled = false;

/**
 * A folder of snapshot files: `write(key, values)` flattens each value to float64 (numbers, arrays and
 * every registered type through its vector space), `read(key)` rebuilds them. The folder is created on the
 * first write and removed by `clear()` and at process exit.
 *
 * @example
 * const store = new DiskStore();
 * store.write("s3", [u, 0.5]);
 * store.read("s3"); // [u', 0.5] equal to the values written
 * store.clear();
 */
export class DiskStore {
  private folder: string | undefined = undefined;
  private readonly entries = new Map<string, Entry[]>();
  /** One template per type and shape (what `fromFloat64Array` rebuilds values like). */
  private readonly templates = new Map<string, unknown>();
  /** Bytes written since creation (for reports). */
  bytesWritten = 0;

  /** The folder, or undefined before the first write. */
  get path(): string | undefined {
    return this.folder;
  }

  /** Number of files stored now. */
  get size(): number {
    return this.entries.size;
  }

  private file(key: string): string {
    const { fs, path, os, process } = nodeModules("DiskStore.write");
    if (this.folder === undefined) {
      this.folder = fs.mkdtempSync(path.join(os.tmpdir(), "tsadjoint-checkpoint-"));
      liveStores.add(this);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on("exit", () => {
          for (const store of liveStores) store.clear();
        });
      }
    }
    return path.join(this.folder, `${key}.f64`);
  }

  /**
   * Writes `values` under `key` (replacing an earlier file of that key).
   *
   * @example
   * store.write("d7", values);
   */
  write(key: string, values: readonly unknown[]): void {
    const file = this.file(key);
    const entries: Entry[] = [];
    const chunks: Float64Array[] = [];
    let total = 0;
    for (const value of values) {
      if (value === undefined) {
        entries.push({ kind: "undefined" });
      } else if (typeof value === "number") {
        entries.push({ kind: "number" });
        chunks.push(Float64Array.of(value));
        total += 1;
      } else {
        const space = spaceOf(value, "DiskStore.write");
        const data = space.toFloat64Array(value);
        const templateKey = `${typeName(value)}:${describeShape(value)}`;
        let template = this.templates.get(templateKey);
        if (template === undefined) {
          template = value;
          this.templates.set(templateKey, value);
        }
        entries.push({ kind: "array", length: data.length, template });
        chunks.push(data);
        total += data.length;
      }
    }
    const buffer = new Float64Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.length;
    }
    const { fs } = nodeModules("DiskStore.write");
    fs.writeFileSync(file, new Uint8Array(buffer.buffer));
    this.bytesWritten += buffer.byteLength;
    this.entries.set(key, entries);
  }

  /**
   * The values written under `key`, rebuilt.
   *
   * @example
   * const [u, t] = store.read("d7");
   */
  read(key: string): unknown[] {
    const entries = this.entries.get(key);
    if (entries === undefined || this.folder === undefined) {
      throw new CheckpointError("DiskStore.read", `no snapshot '${key}' on disk (deleted or never written)`);
    }
    const { fs, path } = nodeModules("DiskStore.read");
    const bytes = fs.readFileSync(path.join(this.folder, `${key}.f64`));
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    const data = new Float64Array(copy.buffer);
    let offset = 0;
    return entries.map((entry) => {
      if (entry.kind === "undefined") return undefined;
      if (entry.kind === "number") return data[offset++];
      const slice = data.slice(offset, offset + entry.length);
      offset += entry.length;
      return spaceOf(entry.template, "DiskStore.read").fromFloat64Array(entry.template, slice);
    });
  }

  /**
   * Deletes the file of `key` (nothing when there is none).
   *
   * @example
   * store.delete("d7");
   */
  delete(key: string): void {
    if (!this.entries.delete(key) || this.folder === undefined) return;
    const { fs, path } = nodeModules("DiskStore.delete");
    fs.rmSync(path.join(this.folder, `${key}.f64`), { recursive: false, force: true });
  }

  /**
   * Removes the folder and every file in it.
   *
   * @example
   * store.clear();
   */
  clear(): void {
    this.entries.clear();
    this.templates.clear();
    if (this.folder === undefined) return;
    const { fs } = nodeModules("DiskStore.clear");
    fs.rmSync(this.folder, { recursive: true, force: true });
    this.folder = undefined;
    liveStores.delete(this);
  }
}
