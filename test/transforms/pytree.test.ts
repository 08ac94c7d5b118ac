import fc from "fast-check";
import { AdjFloat, InvalidArgumentError, NDArray, np, treeFlatten, treeUnflatten } from "tsadjoint";
import { describe, expect, it } from "vitest";

describe("treeFlatten and treeUnflatten", () => {
  it("flatten depth first (object keys in insertion order) and unflatten back to an equal tree", () => {
    const w = np.array([1, 2]);
    const a = new AdjFloat(3);
    const tree = [1, { w, b: [a, 4] }, []];
    const { leaves, treedef } = treeFlatten(tree);
    expect(leaves).toEqual([1, w, a, 4]);
    expect(leaves[1]).toBe(w);
    const back = treeUnflatten(treedef, leaves);
    expect(back).toEqual(tree);
    expect(back).not.toBe(tree);
  });

  it("round-trips random trees of numbers, AdjFloats and NDArrays (property)", () => {
    const leaf = fc.oneof(
      fc.double({ noNaN: true }),
      fc.double({ noNaN: true }).map((v) => new AdjFloat(v)),
      fc.array(fc.double({ noNaN: true }), { maxLength: 4 }).map((v) => np.array(v)),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        leaf,
        fc.array(tie("tree"), { maxLength: 3 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), tie("tree"), { maxKeys: 3 }),
      ),
    }));
    fc.assert(
      fc.property(tree, (t) => {
        const { leaves, treedef } = treeFlatten(t as never);
        const back = treeUnflatten(treedef, leaves);
        expect(back).toEqual(t);
        const again = treeFlatten(back as never);
        expect(again.leaves.length).toBe(leaves.length);
        again.leaves.forEach((value, i) => {
          expect(value).toBe(leaves[i]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("rejects what is not a pytree, naming where it sits", () => {
    // @ts-expect-error: a string is not a leaf
    expect(() => treeFlatten({ a: [1, "x"] })).toThrow(/the tree\.a\[1\] is string/);
    // @ts-expect-error: a Map is not a plain object
    expect(() => treeFlatten([new Map()])).toThrow(InvalidArgumentError);
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    expect(() => treeFlatten(cyclic as never)).toThrow(/contains itself/);
    const { treedef } = treeFlatten([1, 2]);
    expect(() => treeUnflatten(treedef, [1])).toThrow(/2 leaves but 1/);
  });

  it("keeps NDArrays as leaves (an NDArray is not flattened into its entries)", () => {
    const { leaves } = treeFlatten(np.zeros([2, 3]));
    expect(leaves.length).toBe(1);
    expect(leaves[0]).toBeInstanceOf(NDArray);
  });
});
