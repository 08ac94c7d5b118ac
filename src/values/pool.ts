/**
 * @file The sweeps' buffer pool: Float64Arrays that a sweep proved dead are handed out again to the next
 * derivative computations, so the sweep writes into memory that is still in cache instead of fresh
 * ArrayBuffers (V8 frees those only at a garbage collection, so each new one lands on cold memory).
 * Two kinds of sweep keep a ledger: the adjoint sweep (its adjoints), and a Hessian action (the tangent
 * sweep with `forSecondOrder` and the Hessian sweep that follows it share one ledger: its tangents,
 * adjoints and second-order adjoints).
 *
 * Ownership is what makes reuse sound. A buffer enters the pool only through {@link SweepBuffers}, the
 * ledger of one such sweep, and only when the ledger has seen every reference to it:
 * - the ledger *issues* a buffer (through {@link takeArray}) only while it is active, which the sweep
 *   arranges only around the modes of a block that declares {@link transientAdjoint} (built-in code that
 *   stores neither its seeds nor its results) and around its own sums;
 * - an issued buffer becomes *claimed* when a result viewing it enters a slot (a tangent, an adjoint or a
 *   second-order adjoint); the ledger then counts the slots of every kind that hold a view of it (by
 *   ArrayBuffer identity, so views and shared results count);
 * - a claimed buffer is *kept* (never reused) once it reaches a control's or an output's slot, which the
 *   caller returns or reads, and *escaped* (never reused, never added to in place) once it is handed as a
 *   seed to a block that does not declare {@link transientAdjoint} (it may have stored it);
 * - a claimed buffer whose count falls to zero is free; so is an issued buffer that never entered a slot
 *   (a temporary, or a result no dependency needed).
 * Outside an active ledger {@link takeArray} is {@link emptyArray} (a fresh array of its own, uninitialised),
 * and so is a pooled miss.
 */
import { emptyArray, NDArray } from "./ndarray.js";

/**
 * @internal Marker of a block whose derivative modes (`evaluateTlm`, `evaluateAdj`, `evaluateHessian` and
 * FusedSecondOrder's `evaluateAdjAndHessian`) store neither their context's arrays nor their results, nor
 * any array they took from {@link takeArray}, and return only fresh arrays or views of their seeds (the
 * context's tangents, adjoints or second-order adjoints): a method returning whether this block qualifies
 * (a built-in class checks that it is not a subclass). What a mode keeps for a later sweep must be a
 * `new Float64Array` (power's tangent loop keeps ln a so), never a pooled one.
 */
export const transientAdjoint: unique symbol = Symbol("tsadjoint.capability.transientAdjoint");

/** @internal see {@link transientAdjoint} */
export interface TransientAdjoint {
  [transientAdjoint](): boolean;
}

/** @internal whether `block` declares and qualifies for {@link transientAdjoint} */
export function isTransientAdjoint(block: object): boolean {
  return (
    transientAdjoint in block &&
    typeof block[transientAdjoint] === "function" &&
    block[transientAdjoint]() === true
  );
}

/** Arrays shorter than this are not pooled (V8 allocates small arrays cheaply on its own heap). */
let minimumLength = 4096;
/** At most this many free arrays of one length, and this many bytes in all. */
const MAX_PER_LENGTH = 8;
const MAX_BYTES = 64 * 1024 * 1024;

const free = new Map<number, Float64Array[]>();
let freeBytes = 0;

/** The ledger of the sweep running the current block's mode (undefined: nothing is pooled). */
let active: SweepBuffers | undefined;

/**
 * @internal Sets the smallest pooled length (tests lower it to exercise the pool on small arrays); returns
 * the previous one.
 * @example
 * const previous = setPoolMinimum(1); try { ... } finally { setPoolMinimum(previous); }
 */
export function setPoolMinimum(length: number): number {
  const previous = minimumLength;
  minimumLength = length;
  return previous;
}

/**
 * @internal An array of `length` entries whose contents are unspecified: the caller writes every entry
 * before reading any. Within an active sweep ledger, a free pooled array (issued to the ledger); else a
 * new uninitialised one ({@link emptyArray}).
 * @example
 * const out = takeArray(n); for (let i = 0; i < n; i++) out[i] = x[i] * w[i];
 */
export function takeArray(length: number): Float64Array {
  const ledger = active;
  if (ledger === undefined || length < minimumLength) return emptyArray(length);
  const list = free.get(length);
  const reused = list?.pop();
  const array = reused ?? emptyArray(length);
  if (reused !== undefined) freeBytes -= array.byteLength;
  ledger.issue(array);
  return array;
}

/**
 * @internal {@link takeArray} with every entry zero (for loops that add into it).
 * @example
 * const sums = takeZeros(rows); for (...) sums[r] += value;
 */
export function takeZeros(length: number): Float64Array {
  const ledger = active;
  if (ledger === undefined || length < minimumLength) return new Float64Array(length);
  return takeArray(length).fill(0);
}

/** Returns a dead array to the free lists (dropped when they are full). */
function release(array: Float64Array): void {
  const length = array.length;
  if (freeBytes + array.byteLength > MAX_BYTES) return;
  let list = free.get(length);
  if (list === undefined) {
    list = [];
    free.set(length, list);
  }
  if (list.length >= MAX_PER_LENGTH) return;
  list.push(array);
  freeBytes += array.byteLength;
}

/** @internal the bytes held by the free lists (for tests) */
export function pooledBytes(): number {
  return freeBytes;
}

/** What the ledger knows about a claimed buffer. */
interface Claim {
  /** The array issued for the buffer (whole: what goes back to the pool). */
  readonly array: Float64Array;
  /** Adjoint slots holding a view of it. */
  count: number;
  /** In a control's or an output's slot: never reused (may be added to in place while count is 1). */
  kept: boolean;
  /** Seen by code that may have stored it: never reused, never changed in place. */
  escaped: boolean;
}

/**
 * The buffer of a raw value when it is an NDArray long enough to be pooled. A shorter array is never a view
 * of a pooled buffer the ledger must count: views of pooled arrays are whole (the transient blocks return
 * fresh arrays or whole views of their seeds; other code gets its seeds escaped first).
 */
function bufferOf(value: unknown): ArrayBufferLike | undefined {
  return value instanceof NDArray && value.data.length >= minimumLength ? value.data.buffer : undefined;
}

/**
 * @internal The ledger of one adjoint sweep or Hessian action (see the file comment). The sweep calls, per
 * block: `escape` on the seeds of a block that is not transient, `enter`/`leave` around a transient
 * block's mode and around its own sums, `claim` + `hold` when a value enters a slot, `drop` when a slot
 * lets go of a value, and `settle` after the block, which frees what became dead.
 */
export class SweepBuffers {
  private readonly issued = new Map<ArrayBufferLike, Float64Array>();
  private readonly claims = new Map<ArrayBufferLike, Claim>();
  private readonly candidates: ArrayBufferLike[] = [];
  /** Whether any buffer was freed (the slots of intermediate values no longer hold their adjoints). */
  recycled = false;

  /** @internal records an array handed out while this ledger is active */
  issue(array: Float64Array): void {
    this.issued.set(array.buffer, array);
  }

  /** Makes this ledger the active one; returns the previous one for {@link leave}. */
  enter(): SweepBuffers | undefined {
    const previous = active;
    active = this;
    return previous;
  }

  /** Makes `previous` (what `enter` or `suspend` returned) active again. */
  leave(previous: SweepBuffers | undefined): void {
    active = previous;
  }

  /** Deactivates every ledger (around a block that is not transient); returns the previous one for `leave`. */
  static suspend(): SweepBuffers | undefined {
    const previous = active;
    active = undefined;
    return previous;
  }

  /**
   * Whether the ledger has nothing to do for a block with these seeds (the first `count`), after its
   * adjoint ran: it issued nothing and no seed is a poolable array (so no result can view a pooled one).
   */
  idle(seeds: readonly unknown[], count: number): boolean {
    if (this.issued.size > 0) return false;
    for (let i = 0; i < count; i++) if (bufferOf(seeds[i]) !== undefined) return false;
    return true;
  }

  /** A value handed to code that may store it: its buffer is never reused nor changed in place. */
  escape(value: unknown): void {
    const buffer = bufferOf(value);
    if (buffer === undefined) return;
    const claim = this.claims.get(buffer);
    if (claim !== undefined) claim.escaped = true;
  }

  /** A value entering a slot: claims its buffer when this ledger issued it (during the current block). */
  claim(value: unknown): void {
    const buffer = bufferOf(value);
    if (buffer === undefined) return;
    const array = this.issued.get(buffer);
    if (array === undefined) return;
    this.issued.delete(buffer);
    this.claims.set(buffer, { array, count: 0, kept: false, escaped: false });
  }

  /** One more slot holds `value` (`keep`: a control's or an output's slot). */
  hold(value: unknown, keep: boolean): void {
    const buffer = bufferOf(value);
    if (buffer === undefined) return;
    const claim = this.claims.get(buffer);
    if (claim === undefined) return;
    claim.count++;
    if (keep) claim.kept = true;
  }

  /** One slot no longer holds `value`; returns whether the ledger tracked it. */
  drop(value: unknown): boolean {
    const buffer = bufferOf(value);
    if (buffer === undefined) return false;
    const claim = this.claims.get(buffer);
    if (claim === undefined) return false;
    claim.count--;
    if (claim.count === 0) this.candidates.push(buffer);
    return true;
  }

  /** Whether `value` may be added to in place: claimed, held by exactly one slot, never escaped. */
  owns(value: unknown): boolean {
    const buffer = bufferOf(value);
    if (buffer === undefined) return false;
    const claim = this.claims.get(buffer);
    return claim !== undefined && claim.count === 1 && !claim.escaped;
  }

  /** A value that may have entered no slot (an operand of an in-place sum): freed by `settle` if unheld. */
  consider(value: unknown): void {
    const buffer = bufferOf(value);
    if (buffer !== undefined && this.claims.get(buffer)?.count === 0) this.candidates.push(buffer);
  }

  /** After a block: frees the claimed buffers no slot holds and the issued ones that entered no slot. */
  settle(): void {
    const candidates = this.candidates;
    for (let i = 0; i < candidates.length; i++) {
      const buffer = candidates[i];
      const claim = this.claims.get(buffer);
      if (claim === undefined || claim.count !== 0) continue;
      this.claims.delete(buffer);
      if (claim.kept || claim.escaped) continue;
      release(claim.array);
      this.recycled = true;
    }
    candidates.length = 0;
    if (this.issued.size > 0) {
      for (const array of this.issued.values()) release(array);
      this.issued.clear();
    }
  }
}
