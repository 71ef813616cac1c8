import { describe, expect, it } from "vitest";
import { deepMerge, deepMergeAll, getPath, setPath } from "../../src/util/deep-merge.ts";

describe("deepMerge", () => {
  it("merges objects key by key and replaces arrays and scalars", () => {
    const base = { a: { b: 1, c: [1, 2], d: { e: "x" } }, keep: true };
    const out = deepMerge(base, { a: { b: 2, c: [3], d: { f: "y" } } });
    expect(out).toEqual({ a: { b: 2, c: [3], d: { e: "x", f: "y" } }, keep: true });
  });

  it("does not mutate its inputs", () => {
    const base = { a: { b: [1] } };
    const overlay = { a: { c: 2 } };
    const out = deepMerge<any>(base, overlay);
    out.a.b.push(9);
    expect(base).toEqual({ a: { b: [1] } });
    expect(overlay).toEqual({ a: { c: 2 } });
  });

  it("lets null replace and ignores undefined", () => {
    expect(deepMerge({ a: { b: 1 }, c: 1 }, { a: null, c: undefined })).toEqual({ a: null, c: 1 });
  });

  it("applies overlays in order", () => {
    expect(deepMergeAll({ level: "info" }, [{ level: "debug" }, { level: "trace", x: 1 }])).toEqual({
      level: "trace",
      x: 1,
    });
  });

  it("reads and writes dotted paths", () => {
    const obj: any = {};
    setPath(obj, "a.b.c", 3);
    expect(obj).toEqual({ a: { b: { c: 3 } } });
    expect(getPath(obj, "a.b.c")).toBe(3);
    expect(getPath(obj, "a.x.c")).toBeUndefined();
  });
});
