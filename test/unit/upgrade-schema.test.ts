import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deriveRelease, moduleDir, parseGoMod } from "../../src/upgrade/derive-schema-versions.ts";
import {
  latestVersion,
  parseGoRegistrations,
  parseSqlHeader,
  sectionSchemaFromSteps,
  simulateUpgrade,
  stepsFromFiles,
} from "../../src/upgrade/schema.ts";
import {
  compareReleases,
  findRelease,
  loadSchemaFile,
  releaseOfImage,
} from "../../src/upgrade/schema-versions.ts";

describe("upgrade header parsing", () => {
  it("reads a full-schema header with compat", () => {
    expect(
      parseSqlHeader(
        "00-latest.sql",
        "-- v0 -> v16 (compatible with v9+): Latest revision\nCREATE TABLE x();",
      ),
    ).toEqual({
      from: 0,
      to: 16,
      compat: 9,
      message: "Latest revision",
      file: "00-latest.sql",
    });
  });
  it("reads a single-step header without compat (compat = to)", () => {
    expect(parseSqlHeader("15-fix.sql", "-- v15: Fix crypto_secrets table\n")).toMatchObject({
      from: 14,
      to: 15,
      compat: 15,
    });
  });
  it("reads a single-step header with compat", () => {
    expect(parseSqlHeader("02.sql", "-- v2 (compatible with v1+): Add index\r\nCREATE INDEX")).toMatchObject({
      from: 1,
      to: 2,
      compat: 1,
    });
  });
  it("returns undefined without a header", () => {
    expect(parseSqlHeader("x.sql", "CREATE TABLE x();\n")).toBeUndefined();
    expect(parseSqlHeader("x.sql", "-- v2 compatible: nope\n")).toBeUndefined();
  });
  it("reads Register() calls in Go upgrade files", () => {
    const go = `func init() {
\tTable.Register(-1, 3, 0, "Unsupported version", dbutil.TxnModeOff, func(ctx context.Context, database *dbutil.Database) error {
\t\treturn nil
\t})
\tTable.Register(-1, 20, 20, "Remove sender_key from \\"index\\"", dbutil.TxnModeOn, nil)
}`;
    expect(parseGoRegistrations("upgrade.go", go)).toEqual([
      { from: 2, to: 3, compat: 3, message: "Unsupported version", file: "upgrade.go" },
      { from: 19, to: 20, compat: 20, message: 'Remove sender_key from \\"index\\"', file: "upgrade.go" },
    ]);
  });
  it("counts postgres/sqlite split files once and ignores test files", () => {
    const steps = stepsFromFiles({
      "00-latest.sql": "-- v0 -> v3 (compatible with v1+): Latest\n",
      "02-a.sql": "-- v2 (compatible with v1+): A\n",
      "03-b.postgres.sql": "-- v3: B\n",
      "03-b.sqlite.sql": "-- v3: B\n",
      "upgrades_test.go": 'Table.Register(-1, 99, 0, "test", nil)',
    });
    expect(steps.map((s) => [s.from, s.to, s.compat])).toEqual([
      [0, 3, 1],
      [1, 2, 1],
      [2, 3, 3],
    ]);
    expect(latestVersion(steps)).toBe(3);
  });
  it("takes the table length (highest from + 1) as latest, as dbutil does", () => {
    // A lone full-schema step sits at index 0: dbutil's table has length 1.
    expect(latestVersion(stepsFromFiles({ "00.sql": "-- v0 -> v5: Latest\n" }))).toBe(1);
  });
  it("rejects a .sql file without header", () => {
    expect(() => stepsFromFiles({ "01.sql": "SELECT 1;\n" })).toThrow(/header not found/);
  });
});

describe("dbutil upgrade simulation", () => {
  // Shaped like bridgev2 v0.23.2: fresh install v0 -> v20 compat 9, single steps 17..20 compat 9.
  const steps = stepsFromFiles({
    "00-latest.sql": "-- v0 -> v20 (compatible with v9+): Latest revision\n",
    "16.sql": "-- v16 (compatible with v9+): x\n",
    "17.sql": "-- v17 (compatible with v9+): x\n",
    "18.sql": "-- v18 (compatible with v9+): x\n",
    "19.sql": "-- v19 (compatible with v9+): x\n",
    "20.sql": "-- v20 (compatible with v9+): x\n",
  });
  it("fresh install writes the latest version and the full-schema compat", () => {
    expect(sectionSchemaFromSteps(steps)).toMatchObject({ latest: 20, compat: 9 });
  });
  it("upgrades an older database step by step", () => {
    const r = simulateUpgrade({ version: 16, compat: 9 }, steps);
    expect(r.outcome).toBe("upgraded");
    expect(r.state).toEqual({ version: 20, compat: 9 });
    expect(r.applied.map((s) => s.to)).toEqual([17, 18, 19, 20]);
  });
  it("leaves a newer compatible database alone", () => {
    const r = simulateUpgrade({ version: 25, compat: 9 }, steps);
    expect(r).toMatchObject({ outcome: "up_to_date", state: { version: 25, compat: 9 } });
  });
  it("refuses when compat is above the latest known version", () => {
    expect(simulateUpgrade({ version: 22, compat: 21 }, steps).outcome).toBe("refused");
    expect(
      simulateUpgrade({ version: 22, compat: 21 }, steps, { ignoreUnsupportedDatabase: true }).outcome,
    ).toBe("ignored_unsupported");
  });
  it("treats compat 0 as the version itself", () => {
    expect(simulateUpgrade({ version: 21, compat: 0 }, steps).outcome).toBe("refused");
  });
});

describe("schema-versions.json", () => {
  const file = loadSchemaFile();
  it("knows the two buildable releases, derived from sources", () => {
    const a = findRelease("v0.1.0");
    const b = findRelease("v0.2.0");
    expect(a.source).toBe("module-cache");
    expect(b.source).toBe("module-cache");
    const brief = (r: typeof a) =>
      Object.fromEntries(Object.entries(r.sections).map(([k, v]) => [k, [v!.latest, v!.compat]]));
    expect(brief(a)).toEqual({ main: [16, 9], state: [6, 3], slack: [2, 1], crypto: [15, 15] });
    expect(brief(b)).toEqual({ main: [20, 9], state: [7, 3], slack: [2, 1], crypto: [17, 15] });
  });
  it("agrees with the reference table for later releases", () => {
    const r = findRelease("v0.2608.0");
    expect(r.sections.main).toMatchObject({ latest: 29, compat: 9 });
    expect(r.sections.crypto).toMatchObject({ latest: 21, compat: 20 });
  });
  it("keeps releases in order and the version table names", () => {
    const tags = file.releases.map((r) => r.release);
    expect([...tags].sort(compareReleases)).toEqual(tags);
    expect(file.tables).toEqual({
      main: "version",
      state: "mx_version",
      slack: "slack_version",
      crypto: "crypto_version",
    });
  });
  it("resolves image references to releases", () => {
    expect(releaseOfImage("bridge-harness/mautrix-slack:v0.1.0")).toBe("v0.1.0");
    expect(releaseOfImage("mautrix/slack:v0.2.0")).toBe("v0.2.0");
    expect(releaseOfImage("localhost:5000/mautrix/slack:0.2.0")).toBe("v0.2.0");
    expect(releaseOfImage("localhost:5000/mautrix/slack")).toBeUndefined();
    expect(releaseOfImage("mautrix/slack:latest")).toBeUndefined();
    expect(findRelease("bridge-harness/mautrix-slack:v0.2.0").release).toBe("v0.2.0");
    expect(() => findRelease("v9.9.9")).toThrow(/no schema data for v9.9.9/);
  });
  it("orders release tags numerically", () => {
    expect(["v0.2606.0", "v0.2.0", "v0.10.0", "v0.1.0"].sort(compareReleases)).toEqual([
      "v0.1.0",
      "v0.2.0",
      "v0.10.0",
      "v0.2606.0",
    ]);
  });
});

describe("derivation from a module cache", () => {
  const root = mkdtempSync(join(tmpdir(), "modcache-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const put = (path: string, text: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  };
  it("parses go.mod requires and same-module replaces", () => {
    expect(
      parseGoMod(
        `module x\n\nrequire (\n\tmaunium.net/go/mautrix v0.20.0 // indirect\n\tgo.mau.fi/util v0.7.0\n)\nreplace go.mau.fi/util => go.mau.fi/util v0.7.1\nreplace github.com/slack-go/slack => github.com/beeper/slackgo v0.0.0-1\n`,
      ),
    ).toEqual({ "maunium.net/go/mautrix": "v0.20.0", "go.mau.fi/util": "v0.7.1" });
  });
  it("derives every section and the version table names", () => {
    const slack = moduleDir(root, "go.mau.fi/mautrix-slack", "v9.0.0");
    const mgo = moduleDir(root, "maunium.net/go/mautrix", "v1.2.3");
    put(join(slack, "go.mod"), "module go.mau.fi/mautrix-slack\nrequire maunium.net/go/mautrix v1.2.3\n");
    put(join(slack, "pkg/connector/slackdb/database.go"), 'db = db.Child("slack_version", table, log)');
    put(join(slack, "pkg/connector/slackdb/00-latest.sql"), "-- v0 -> v2 (compatible with v1+): Latest\n");
    put(join(slack, "pkg/connector/slackdb/02-x.sql"), "-- v2 (compatible with v1+): x\n");
    put(join(mgo, "bridgev2/database/upgrades/00-latest.sql"), "-- v0 -> v5 (compatible with v3+): Latest\n");
    // dbutil's "latest" is the length of the table, so the last single step must exist too.
    put(join(mgo, "bridgev2/database/upgrades/05-x.sql"), "-- v5 (compatible with v3+): x\n");
    put(join(mgo, "sqlstatestore/v04.sql"), "-- v4 (compatible with v3+): x\n");
    put(join(mgo, "sqlstatestore/statestore.go"), 'const VersionTableName = "mx_version"\n');
    put(join(mgo, "sqlstatestore/v00.sql"), "-- v0 -> v4 (compatible with v3+): Latest\n");
    put(join(mgo, "crypto/sql_store_upgrade/upgrade.go"), 'const VersionTableName = "crypto_version"\n');
    put(join(mgo, "crypto/sql_store_upgrade/00.sql"), "-- v0 -> v7: Latest\n");
    put(join(mgo, "crypto/sql_store_upgrade/08.go"), 'Table.Register(-1, 8, 7, "x", dbutil.TxnModeOn, nil)');
    const d = deriveRelease(root, "v9.0.0");
    expect(d.tables).toEqual({
      main: "version",
      state: "mx_version",
      crypto: "crypto_version",
      slack: "slack_version",
    });
    const s = d.release.sections;
    expect([s.main?.latest, s.main?.compat, s.state?.latest, s.slack?.latest, s.slack?.compat]).toEqual([
      5, 3, 4, 2, 1,
    ]);
    expect([s.crypto?.latest, s.crypto?.compat]).toEqual([8, 7]);
    expect(d.release.mautrixGo).toBe("v1.2.3");
  });
  it("names the download command when a module is missing", () => {
    expect(() => deriveRelease(root, "v8.0.0")).toThrow(
      /go mod download -json go.mau.fi\/mautrix-slack@v8.0.0/,
    );
  });
});
