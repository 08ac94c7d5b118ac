/** @file Fill-reducing orderings (approximate minimum degree, reverse Cuthill-McKee) and elimination trees. */

/** Which fill-reducing symmetric ordering to use before factorizing. */
export type FillReducingOrdering = "amd" | "rcm" | "natural";

/** An undirected graph in adjacency-list (CSR) form: neighbors of i are `index[start[i] .. start[i+1])`. */
export interface AdjacencyGraph {
  /** Number of vertices. */
  readonly n: number;
  /** Offsets, length n + 1. */
  readonly start: Int32Array;
  /** Neighbor lists (no self loops, no duplicates, symmetric). */
  readonly index: Int32Array;
}

/**
 * Undirected graph of a square CSR pattern: edge {i, j} for every stored (i, j) or (j, i), i != j.
 * With `lowerOnly`, only entries with column < row are read (the pattern of a symmetric matrix given by
 * its lower triangle).
 *
 * @example
 * const g = symmetricGraph(2, Int32Array.of(0, 1, 2), Int32Array.of(1, 1), false); // edge {0, 1}
 */
export function symmetricGraph(
  n: number,
  rowPtr: Int32Array,
  colIndex: Int32Array,
  lowerOnly: boolean,
): AdjacencyGraph {
  const degree = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
      const j = colIndex[p];
      if (j === i || (lowerOnly && j > i)) continue;
      degree[i + 1]++;
      degree[j + 1]++;
    }
  }
  for (let i = 0; i < n; i++) degree[i + 1] += degree[i];
  const next = degree.slice(0, n);
  const raw = new Int32Array(degree[n]);
  for (let i = 0; i < n; i++) {
    for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
      const j = colIndex[p];
      if (j === i || (lowerOnly && j > i)) continue;
      raw[next[i]++] = j;
      raw[next[j]++] = i;
    }
  }
  if (lowerOnly) return { n, start: degree, index: raw };
  // Both (i, j) and (j, i) may be stored: remove duplicates with a marker.
  const marker = new Int32Array(n).fill(-1);
  const start = new Int32Array(n + 1);
  let write = 0;
  for (let i = 0; i < n; i++) {
    for (let p = degree[i]; p < degree[i + 1]; p++) {
      const j = raw[p];
      if (marker[j] === i) continue;
      marker[j] = i;
      raw[write++] = j;
    }
    start[i + 1] = write;
  }
  return { n, start, index: raw.slice(0, write) };
}

const VARIABLE = 0;
const ELEMENT = 1;
const DEAD = 2;
const DENSE = 3;

/**
 * Approximate minimum degree ordering (Amestoy, Davis & Duff, SIAM J. Matrix Anal. Appl. 17, 1996) on the
 * quotient graph, with element absorption, aggressive absorption, mass elimination, hash-based
 * supervariable detection and postponement of dense vertices (degree > max(16, 10 sqrt(n))).
 * The quotient graph lives in one Int32Array; each node owns a segment [elements..., variables...] that is
 * pruned in place, new elements are appended, and the array is compacted when it runs out of room.
 * Returns `order`, where `order[k]` is the vertex eliminated k-th.
 *
 * @example
 * const g = symmetricGraph(3, Int32Array.of(0, 2, 3, 4), Int32Array.of(1, 2, 0, 0), false);
 * approximateMinimumDegree(g); // star centred at 0: the leaves come first, e.g. Int32Array [2, 1, 0]
 */
export function approximateMinimumDegree(graph: AdjacencyGraph): Int32Array {
  const n = graph.n;
  if (n === 0) return new Int32Array(0);
  const state = new AmdState(graph);
  while (state.eliminatedWeight < state.liveWeight) {
    const pivot = selectPivot(state);
    makeRoom(state);
    const lpStart = state.free;
    const lpEnd = formElement(state, pivot);
    unlinkAndWeigh(state, lpStart, lpEnd);
    const survivorCount = pruneVariables(state, pivot, lpStart, lpEnd);
    mergeSupervariables(state, survivorCount);
    finalizeElement(state, pivot, lpStart, lpEnd);
  }
  const { order, status } = state;
  for (let i = 0; i < n; i++) if (status[i] === DENSE) order[state.orderCursor++] = i;
  if (state.orderCursor !== n) {
    throw new Error(`approximateMinimumDegree: internal error (${state.orderCursor} of ${n})`);
  }
  return order;
}

/**
 * The state of one approximate-minimum-degree ordering, shared by the phases of each pivot step (as in the
 * reference AMD, SuiteSparse amd_2): the quotient graph in one Int32Array `iw`, where each node owns a segment
 * [elements..., variables...], the degree buckets, and the marks and hash lists of the phases. Each phase reads
 * the arrays it uses into locals and writes back the counters it changes.
 */
class AmdState {
  readonly n: number;
  /** `order[k]` = vertex eliminated k-th; filled up to `orderCursor`. */
  readonly order: Int32Array;
  orderCursor = 0;
  /** VARIABLE, ELEMENT, DEAD (absorbed or merged) or DENSE (postponed to the end). */
  readonly status: Uint8Array;
  /** Number of vertices a supervariable stands for (0 once merged into another). */
  readonly weight: Int32Array;
  /** Approximate external degree of each variable. */
  readonly degree: Int32Array;
  /** Each node's segment of `iw`: start, length, and how many of its entries are elements. */
  readonly segmentStart: Int32Array;
  readonly segmentLength: Int32Array;
  readonly elementCount: Int32Array;
  /** Total weight of each element's live variables. */
  readonly elementWeight: Int32Array;
  /** Members of each supervariable as a linked list (next member, last member). */
  readonly memberNext: Int32Array;
  readonly memberTail: Int32Array;
  /** The quotient graph; new elements are appended at `free`, compacted or grown when out of room. */
  iw: Int32Array;
  capacity: number;
  free = 0;
  /** Degree buckets as doubly linked lists. */
  readonly head: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Weight of the vertices to eliminate (the dense ones excluded) and of those eliminated so far. */
  readonly liveWeight: number;
  eliminatedWeight = 0;
  /** A lower bound of the smallest nonempty degree bucket. */
  minDegree = 0;
  /** Membership of the new element Lp (lpMark = stamp) and |Le \ Lp| of the elements it touches (wValue). */
  readonly lpMark: Int32Array;
  readonly wMark: Int32Array;
  readonly wValue: Int32Array;
  stamp = 0;
  /** Marks of the adjacency of a supervariable candidate. */
  readonly compareMark: Int32Array;
  compareStamp = 0;
  /** External degree bound, hash and hash bucket lists of the pruned variables of Lp. */
  readonly extDegree: Int32Array;
  readonly hashValue: Int32Array;
  readonly hashHead: Int32Array;
  readonly hashNext: Int32Array;
  /** The variables of Lp that survive pruning (not mass-eliminated). */
  readonly survivors: Int32Array;
  /** First entry of each segment while `iw` is compacted. */
  readonly savedFirst: Int32Array;

  constructor(graph: AdjacencyGraph) {
    const n = graph.n;
    this.n = n;
    this.order = new Int32Array(n);
    const denseLimit = Math.max(16, Math.floor(10 * Math.sqrt(n)));
    const status = new Uint8Array(n);
    this.status = status;
    this.weight = new Int32Array(n).fill(1);
    const degree = new Int32Array(n);
    this.degree = degree;
    const segmentStart = new Int32Array(n);
    const segmentLength = new Int32Array(n);
    this.segmentStart = segmentStart;
    this.segmentLength = segmentLength;
    this.elementCount = new Int32Array(n);
    this.elementWeight = new Int32Array(n);
    this.memberNext = new Int32Array(n).fill(-1);
    this.memberTail = new Int32Array(n);
    let denseCount = 0;
    for (let i = 0; i < n; i++) {
      this.memberTail[i] = i;
      if (graph.start[i + 1] - graph.start[i] > denseLimit) {
        status[i] = DENSE;
        denseCount++;
      }
    }
    this.capacity = Math.floor(1.2 * graph.index.length) + 2 * n + 16;
    const iw = new Int32Array(this.capacity);
    this.iw = iw;
    let free = 0;
    for (let i = 0; i < n; i++) {
      segmentStart[i] = free;
      if (status[i] === DENSE) continue;
      for (let p = graph.start[i]; p < graph.start[i + 1]; p++) {
        const j = graph.index[p];
        if (status[j] !== DENSE) iw[free++] = j;
      }
      segmentLength[i] = free - segmentStart[i];
      degree[i] = segmentLength[i];
    }
    this.free = free;
    const head = new Int32Array(n + 1).fill(-1);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (status[i] !== VARIABLE) continue;
      const h = head[degree[i]];
      next[i] = h;
      prev[i] = -1;
      if (h !== -1) prev[h] = i;
      head[degree[i]] = i;
    }
    this.head = head;
    this.next = next;
    this.prev = prev;
    this.liveWeight = n - denseCount;
    this.lpMark = new Int32Array(n);
    this.wMark = new Int32Array(n);
    this.wValue = new Int32Array(n);
    this.compareMark = new Int32Array(n);
    this.extDegree = new Int32Array(n);
    this.hashValue = new Int32Array(n);
    this.hashHead = new Int32Array(n).fill(-1);
    this.hashNext = new Int32Array(n);
    this.survivors = new Int32Array(n);
    this.savedFirst = new Int32Array(n);
  }
}

/** Takes a variable of minimum degree out of its bucket, orders its members and makes it an element. */
function selectPivot(state: AmdState): number {
  const { head, next, prev, degree, memberNext, order } = state;
  let minDegree = state.minDegree;
  while (head[minDegree] === -1) minDegree++;
  state.minDegree = minDegree;
  const pivot = head[minDegree];
  if (prev[pivot] !== -1) next[prev[pivot]] = next[pivot];
  else head[degree[pivot]] = next[pivot];
  if (next[pivot] !== -1) prev[next[pivot]] = prev[pivot];
  let cursor = state.orderCursor;
  for (let m = pivot; m !== -1; m = memberNext[m]) order[cursor++] = m;
  state.orderCursor = cursor;
  state.eliminatedWeight += state.weight[pivot];
  state.status[pivot] = ELEMENT;
  state.stamp++;
  return pivot;
}

/** Room for the new element (at most n entries) at the end of iw: compacts, and grows if still tight. */
function makeRoom(state: AmdState): void {
  const { n, status, segmentStart, segmentLength, savedFirst } = state;
  let { iw, capacity, free } = state;
  if (free + n <= capacity) return;
  for (let i = 0; i < n; i++) {
    if ((status[i] === VARIABLE || status[i] === ELEMENT) && segmentLength[i] > 0) {
      savedFirst[i] = iw[segmentStart[i]];
      iw[segmentStart[i]] = -(i + 1);
    }
  }
  let write = 0;
  for (let r = 0; r < free; r++) {
    const marker = iw[r];
    if (marker >= 0) continue;
    const owner = -marker - 1;
    const length = segmentLength[owner];
    iw[write] = savedFirst[owner];
    segmentStart[owner] = write;
    for (let q = 1; q < length; q++) iw[write + q] = iw[r + q];
    write += length;
    r += length - 1;
  }
  free = write;
  if (capacity - free < n + (capacity >> 2)) {
    capacity = Math.max(2 * capacity, free + 2 * n);
    const grown = new Int32Array(capacity);
    grown.set(iw.subarray(0, free));
    iw = grown;
  }
  state.iw = iw;
  state.capacity = capacity;
  state.free = free;
}

/**
 * Forms the new element Lp = (members of elements adjacent to pivot) ∪ (variables adjacent to pivot) at the
 * end of iw, absorbing the elements adjacent to pivot. Returns the end of Lp.
 */
function formElement(state: AmdState, pivot: number): number {
  const { iw, status, segmentStart, segmentLength, elementCount, lpMark, stamp } = state;
  const lpStart = state.free;
  let lpEnd = lpStart;
  const pivotStart = segmentStart[pivot];
  const pivotElementEnd = pivotStart + elementCount[pivot];
  const pivotEnd = pivotStart + segmentLength[pivot];
  for (let q = pivotStart; q < pivotElementEnd; q++) {
    const e = iw[q];
    if (status[e] !== ELEMENT) continue;
    const memberEnd = segmentStart[e] + segmentLength[e];
    for (let r = segmentStart[e]; r < memberEnd; r++) {
      const j = iw[r];
      if (status[j] === VARIABLE && lpMark[j] !== stamp) {
        lpMark[j] = stamp;
        iw[lpEnd++] = j;
      }
    }
    status[e] = DEAD; // element absorption
    segmentLength[e] = 0;
  }
  for (let q = pivotElementEnd; q < pivotEnd; q++) {
    const j = iw[q];
    if (status[j] === VARIABLE && lpMark[j] !== stamp) {
      lpMark[j] = stamp;
      iw[lpEnd++] = j;
    }
  }
  state.free = lpEnd;
  segmentStart[pivot] = lpStart;
  segmentLength[pivot] = lpEnd - lpStart;
  elementCount[pivot] = 0;
  return lpEnd;
}

/** Unlinks Lp from the degree buckets and computes w(e) = |Le \ Lp| for every element touching Lp. */
function unlinkAndWeigh(state: AmdState, lpStart: number, lpEnd: number): void {
  const { iw, status, weight, degree, segmentStart, elementCount, elementWeight, head, next, prev } = state;
  const { wMark, wValue, stamp } = state;
  for (let q = lpStart; q < lpEnd; q++) {
    const i = iw[q];
    if (prev[i] !== -1) next[prev[i]] = next[i];
    else head[degree[i]] = next[i];
    if (next[i] !== -1) prev[next[i]] = prev[i];
    const wi = weight[i];
    const elementEnd = segmentStart[i] + elementCount[i];
    for (let r = segmentStart[i]; r < elementEnd; r++) {
      const e = iw[r];
      if (status[e] !== ELEMENT) continue;
      if (wMark[e] !== stamp) {
        wMark[e] = stamp;
        wValue[e] = elementWeight[e] - wi;
      } else {
        wValue[e] -= wi;
      }
    }
  }
}

/**
 * Prunes each i in Lp in place to [live elements..., pivot, variables outside Lp...] (aggressive absorption of
 * the elements inside Lp), bounds its external degree and hashes its adjacency, or eliminates it with pivot when
 * it is adjacent to the new element only (mass elimination). Returns the number of survivors.
 */
function pruneVariables(state: AmdState, pivot: number, lpStart: number, lpEnd: number): number {
  const { n, iw, status, weight, segmentStart, segmentLength, elementCount, memberNext, order } = state;
  const { lpMark, wValue, stamp, extDegree, hashValue, hashHead, hashNext, survivors } = state;
  let survivorCount = 0;
  let cursor = state.orderCursor;
  let eliminatedWeight = state.eliminatedWeight;
  for (let q = lpStart; q < lpEnd; q++) {
    const i = iw[q];
    const start = segmentStart[i];
    const elementEnd = start + elementCount[i];
    const end = start + segmentLength[i];
    let write = start;
    let external = 0;
    let hash = pivot;
    for (let r = start; r < elementEnd; r++) {
      const e = iw[r];
      if (status[e] !== ELEMENT) continue;
      const w = wValue[e];
      if (w === 0) {
        status[e] = DEAD; // aggressive absorption: Le ⊆ Lp
        segmentLength[e] = 0;
        continue;
      }
      external += w;
      hash += e;
      iw[write++] = e;
    }
    const variableStart = write;
    for (let r = elementEnd; r < end; r++) {
      const j = iw[r];
      if (status[j] !== VARIABLE || lpMark[j] === stamp) continue;
      external += weight[j];
      hash += j;
      iw[write++] = j;
    }
    if (write >= end) throw new Error("approximateMinimumDegree: internal error (segment overflow)");
    const variableCount = write - variableStart;
    iw[write] = iw[variableStart];
    iw[variableStart] = pivot;
    write++;
    segmentLength[i] = write - start;
    elementCount[i] = variableStart - start + 1;
    if (elementCount[i] === 1 && variableCount === 0) {
      // Mass elimination: i is adjacent only to the new element, so it is eliminated together with pivot.
      status[i] = DEAD;
      segmentLength[i] = 0;
      eliminatedWeight += weight[i];
      for (let m = i; m !== -1; m = memberNext[m]) order[cursor++] = m;
      continue;
    }
    extDegree[i] = external;
    const h = hash % n;
    hashValue[i] = h;
    hashNext[i] = hashHead[h];
    hashHead[h] = i;
    survivors[survivorCount++] = i;
  }
  state.orderCursor = cursor;
  state.eliminatedWeight = eliminatedWeight;
  return survivorCount;
}

/** Supervariable detection: variables of Lp with identical adjacency (same hash bucket) are merged. */
function mergeSupervariables(state: AmdState, survivorCount: number): void {
  const { iw, status, weight, segmentStart, segmentLength, elementCount, memberNext, memberTail } = state;
  const { compareMark, hashValue, hashHead, hashNext, survivors } = state;
  let compareStamp = state.compareStamp;
  for (let s = 0; s < survivorCount; s++) {
    const h = hashValue[survivors[s]];
    let i = hashHead[h];
    if (i === -1) continue;
    hashHead[h] = -1;
    for (; i !== -1; i = hashNext[i]) {
      if (status[i] !== VARIABLE) continue;
      const startI = segmentStart[i];
      const lengthI = segmentLength[i];
      const elementsI = elementCount[i];
      let marked = false;
      for (let j = hashNext[i]; j !== -1; j = hashNext[j]) {
        if (status[j] !== VARIABLE || segmentLength[j] !== lengthI || elementCount[j] !== elementsI) continue;
        if (!marked) {
          compareStamp++;
          for (let r = startI; r < startI + lengthI; r++) compareMark[iw[r]] = compareStamp;
          marked = true;
        }
        const startJ = segmentStart[j];
        let same = true;
        for (let r = startJ; r < startJ + lengthI; r++) {
          if (compareMark[iw[r]] !== compareStamp) {
            same = false;
            break;
          }
        }
        if (!same) continue;
        weight[i] += weight[j];
        weight[j] = 0;
        status[j] = DEAD;
        segmentLength[j] = 0;
        memberNext[memberTail[i]] = j;
        memberTail[i] = memberTail[j];
      }
    }
  }
  state.compareStamp = compareStamp;
}

/**
 * Finalizes the new element (its live members only) and the approximate degrees of its members, which go back
 * into the degree buckets.
 */
function finalizeElement(state: AmdState, pivot: number, lpStart: number, lpEnd: number): void {
  const { iw, status, weight, degree, segmentLength, elementWeight, extDegree, head, next, prev } = state;
  let lpWeight = 0;
  let memberEnd = lpStart;
  for (let q = lpStart; q < lpEnd; q++) {
    const i = iw[q];
    if (status[i] !== VARIABLE) continue;
    iw[memberEnd++] = i;
    lpWeight += weight[i];
  }
  segmentLength[pivot] = memberEnd - lpStart;
  elementWeight[pivot] = lpWeight;
  state.free = memberEnd;
  if (memberEnd === lpStart) status[pivot] = DEAD;
  const remaining = state.liveWeight - state.eliminatedWeight;
  let minDegree = state.minDegree;
  for (let q = lpStart; q < memberEnd; q++) {
    const i = iw[q];
    const wi = weight[i];
    let d = Math.min(degree[i], extDegree[i]) + lpWeight - wi;
    if (remaining - wi < d) d = remaining - wi;
    if (d < 0) d = 0;
    degree[i] = d;
    const h = head[d];
    next[i] = h;
    prev[i] = -1;
    if (h !== -1) prev[h] = i;
    head[d] = i;
    if (d < minDegree) minDegree = d;
  }
  state.minDegree = minDegree;
}

/**
 * Reverse Cuthill-McKee bandwidth-reducing ordering, each connected component started from a
 * pseudo-peripheral vertex (George-Liu). Returns `order[k]` = vertex placed k-th.
 *
 * @example
 * const path = symmetricGraph(3, Int32Array.of(0, 1, 2, 2), Int32Array.of(2, 2), false); // 0-2-1
 * reverseCuthillMcKee(path); // e.g. Int32Array [1, 2, 0]
 */
export function reverseCuthillMcKee(graph: AdjacencyGraph): Int32Array {
  const { n, start, index } = graph;
  const order = new Int32Array(n);
  const visited = new Uint8Array(n);
  const level = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const degreeOf = (i: number): number => start[i + 1] - start[i];
  // Breadth-first level structure from root. Returns the eccentricity of root and a vertex of minimum
  // degree in the last level; `queue` holds the component afterwards. Levels are reset before returning.
  const bfs = (root: number): { depth: number; far: number } => {
    let qHead = 0;
    let qTail = 0;
    queue[qTail++] = root;
    level[root] = 0;
    while (qHead < qTail) {
      const v = queue[qHead++];
      const lv = level[v];
      for (let p = start[v]; p < start[v + 1]; p++) {
        const w = index[p];
        if (level[w] === -1) {
          level[w] = lv + 1;
          queue[qTail++] = w;
        }
      }
    }
    const depth = level[queue[qTail - 1]];
    let far = queue[qTail - 1];
    for (let k = qTail - 1; k >= 0 && level[queue[k]] === depth; k--) {
      if (degreeOf(queue[k]) < degreeOf(far)) far = queue[k];
    }
    for (let k = 0; k < qTail; k++) level[queue[k]] = -1;
    return { depth, far };
  };
  let cursor = 0;
  const neighborBuffer: number[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (visited[seed]) continue;
    // Pseudo-peripheral vertex of seed's component (George-Liu).
    let root = seed;
    let structure = bfs(root);
    for (let iteration = 0; iteration < 16; iteration++) {
      const candidate = bfs(structure.far);
      if (candidate.depth <= structure.depth) break;
      root = structure.far;
      structure = candidate;
    }
    // Cuthill-McKee from root: unvisited neighbors in increasing degree.
    const componentStart = cursor;
    order[cursor++] = root;
    visited[root] = 1;
    for (let k = componentStart; k < cursor; k++) {
      const v = order[k];
      neighborBuffer.length = 0;
      for (let p = start[v]; p < start[v + 1]; p++) {
        const w = index[p];
        if (!visited[w]) {
          visited[w] = 1;
          neighborBuffer.push(w);
        }
      }
      neighborBuffer.sort((a, b) => degreeOf(a) - degreeOf(b) || a - b);
      for (const w of neighborBuffer) order[cursor++] = w;
    }
  }
  order.reverse();
  return order;
}

/**
 * Elimination tree of the symmetric matrix with graph `graph` permuted as P A P^T (`order[k]` = original index
 * of row/column k). Returns `parent[k]` in the permuted numbering, -1 for roots (Liu's algorithm with path
 * compression).
 *
 * @example
 * const path = symmetricGraph(3, Int32Array.of(0, 1, 2, 2), Int32Array.of(1, 2), false); // 0-1-2
 * eliminationTree(path, Int32Array.of(0, 1, 2)); // Int32Array [1, 2, -1]
 */
export function eliminationTree(graph: AdjacencyGraph, order: Int32Array): Int32Array {
  const { n, start, index } = graph;
  const inverse = inversePermutation(order);
  const parent = new Int32Array(n).fill(-1);
  const ancestor = new Int32Array(n).fill(-1);
  for (let k = 0; k < n; k++) {
    const original = order[k];
    for (let p = start[original]; p < start[original + 1]; p++) {
      let i = inverse[index[p]];
      while (i !== -1 && i < k) {
        const nextAncestor = ancestor[i];
        ancestor[i] = k;
        if (nextAncestor === -1) {
          parent[i] = k;
          break;
        }
        i = nextAncestor;
      }
    }
  }
  return parent;
}

/**
 * Depth-first postorder of a forest given by `parent` (children visited in increasing index).
 * Returns `post[k]` = the node visited k-th.
 *
 * @example
 * postorderForest(Int32Array.of(2, 2, -1)); // Int32Array [0, 1, 2]
 */
export function postorderForest(parent: Int32Array): Int32Array {
  const n = parent.length;
  const firstChild = new Int32Array(n).fill(-1);
  const nextSibling = new Int32Array(n).fill(-1);
  for (let j = n - 1; j >= 0; j--) {
    const p = parent[j];
    if (p === -1) continue;
    nextSibling[j] = firstChild[p];
    firstChild[p] = j;
  }
  const post = new Int32Array(n);
  const stack = new Int32Array(n);
  let k = 0;
  for (let root = 0; root < n; root++) {
    if (parent[root] !== -1) continue;
    let top = 0;
    stack[0] = root;
    while (top >= 0) {
      const node = stack[top];
      const child = firstChild[node];
      if (child === -1) {
        post[k++] = node;
        top--;
      } else {
        firstChild[node] = nextSibling[child];
        stack[++top] = child;
      }
    }
  }
  return post;
}

/**
 * Inverse of a permutation: result[order[k]] = k.
 *
 * @example
 * inversePermutation(Int32Array.of(2, 0, 1)); // Int32Array [1, 2, 0]
 */
export function inversePermutation(order: Int32Array): Int32Array {
  const inverse = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) inverse[order[k]] = k;
  return inverse;
}

/**
 * Fill-reducing symmetric ordering of a graph, postordered along its elimination tree (which keeps the
 * Cholesky fill unchanged and makes subtrees contiguous). `order[k]` = original index placed k-th.
 *
 * @example
 * const g = symmetricGraph(2, Int32Array.of(0, 1, 2), Int32Array.of(1, 0), false);
 * fillReducingOrder(g, "amd").length; // 2
 */
export function fillReducingOrder(graph: AdjacencyGraph, ordering: FillReducingOrdering): Int32Array {
  const n = graph.n;
  if (ordering === "natural") {
    const identity = new Int32Array(n);
    for (let i = 0; i < n; i++) identity[i] = i;
    return identity;
  }
  const order = ordering === "amd" ? approximateMinimumDegree(graph) : reverseCuthillMcKee(graph);
  const post = postorderForest(eliminationTree(graph, order));
  const result = new Int32Array(n);
  for (let k = 0; k < n; k++) result[k] = order[post[k]];
  return result;
}
