import { describe, expect, it } from "vitest";
import type { StartedEnvironment } from "../../src/environment/api.ts";
import {
  type BridgeSwapResult,
  fatalLinesOf,
  rollbackBridge,
  UpgradeAssertionError,
  upgradeBridge,
} from "../../src/upgrade/operations.ts";
import type { DbSchemaState } from "../../src/upgrade/schema.ts";
import { now } from "../../src/util/clock.ts";

const FATAL = [
  "2026-11-22T04:00:00Z INF Starting bridge",
  '2026-11-22T04:00:01Z FTL Failed to initialize database error="unsupported database schema version: currently on v25 (compatible down to v21), latest known: v20" db_section=main',
  "2026-11-22T04:00:01Z INF Downgrading the bridge is not supported",
];

/** A fake environment whose bridge "runs" an image by writing the rows that release would write. */
function fakeEnv(
  initial: DbSchemaState,
  behaviour: (image: string, db: DbSchemaState) => DbSchemaState | "refuse",
) {
  let db: DbSchemaState = structuredClone(initial);
  const logs: string[] = [];
  const conns: { id: string; appId: string; openedAt: number; closedAt?: number }[] = [
    { id: "c0", appId: "A", openedAt: now() },
  ];
  const tables: Record<string, keyof DbSchemaState> = {
    version: "main",
    mx_version: "state",
    slack_version: "slack",
    crypto_version: "crypto",
  };
  const env = {
    bridge: {
      image: "bridge-harness/mautrix-slack:v0.1.0",
      async logLines() {
        return [...logs];
      },
      async stop() {
        for (const c of conns) c.closedAt ??= now();
      },
      async swapImage(image: string) {
        const t = now();
        for (const c of conns) c.closedAt ??= now();
        const next = behaviour(image, db);
        env.bridge.image = image;
        if (next === "refuse") {
          logs.push(...FATAL);
          throw Object.assign(new Error("bridge exited with code 15 before it was ready"), { exitCode: 15 });
        }
        db = next;
        conns.push({ id: `c${conns.length}`, appId: "A", openedAt: now() });
        return { durationMs: now() - t };
      },
      async health() {
        return { live: true, ready: true, state: "CONNECTED" };
      },
    },
    fakeSlack: { control: { connections: () => conns } },
    postgres: {
      async query(_db: string, sql: string, params?: unknown[]) {
        if (sql.includes("information_schema")) {
          return Object.entries(tables)
            .filter(([t, s]) => ((params ?? [])[0] as string[]).includes(t) && db[s])
            .map(([t]) => ({ table_name: t }));
        }
        const m = /FROM (\w+) LIMIT 1/.exec(sql);
        if (m) {
          const s = db[tables[m[1]!]!];
          return s ? [{ version: s.version, compat: s.compat }] : [];
        }
        throw new Error("relation does not exist");
      },
      async restore() {
        db = structuredClone(initial);
      },
    },
  };
  return env as unknown as StartedEnvironment;
}

const v010 = {
  main: { version: 16, compat: 9 },
  state: { version: 6, compat: 3 },
  slack: { version: 2, compat: 1 },
};
const v020 = {
  main: { version: 20, compat: 9 },
  state: { version: 7, compat: 3 },
  slack: { version: 2, compat: 1 },
};
/** What each release leaves behind (upgrades only; an older binary leaves a newer DB alone). */
const realistic = (image: string, db: DbSchemaState): DbSchemaState =>
  image.endsWith(":v0.2.0") ? v020 : (db.main?.version ?? 0) >= 16 ? db : v010;

describe("fatalLinesOf", () => {
  it("keeps FATAL lines and the bridge's explanation, nothing else", () => {
    expect(fatalLinesOf(FATAL)).toEqual(FATAL.slice(1));
    expect(
      fatalLinesOf(['{"level":"fatal","message":"Failed to initialize database"}', "x DBG y"]),
    ).toHaveLength(1);
    expect(fatalLinesOf(["\u001b[31mFTL\u001b[0m boom"])).toEqual(["FTL boom"]);
  });
});

describe("upgradeBridge / rollbackBridge against a fake environment", () => {
  it("upgrade: reports prediction, schema before/after and timings", async () => {
    const env = fakeEnv(v010, realistic);
    const r = await upgradeBridge(env, "bridge-harness/mautrix-slack:v0.2.0");
    expect(r.outcome).toBe("running");
    expect(r.predictionHeld).toBe(true);
    expect(r.schemaBefore).toEqual(v010);
    expect(r.schemaAfter).toEqual(v020);
    expect(r.schemaMismatches).toEqual([]);
    expect(r.timings.readyMs).toBeGreaterThanOrEqual(0);
    expect(r.timings.connectedMs).toBeGreaterThanOrEqual(0);
  });

  it("rollback without restore: predicted accepted, runs on the newer schema", async () => {
    const env = fakeEnv(v020, realistic);
    const r = await rollbackBridge(env, "bridge-harness/mautrix-slack:v0.1.0");
    expect(r.prediction?.accepted).toBe(true);
    expect(r.outcome).toBe("running");
    expect(r.schemaAfter).toEqual(v020);
  });

  it("rollback with restore: the prediction is made on the restored database", async () => {
    const env = fakeEnv(v010, realistic);
    await upgradeBridge(env, "bridge-harness/mautrix-slack:v0.2.0");
    const r = await rollbackBridge(env, "bridge-harness/mautrix-slack:v0.1.0", { restoreSnapshot: "before" });
    expect(r.restoredSnapshot).toBe("before");
    expect(r.schemaBefore).toEqual(v010);
    expect(r.prediction?.sections.find((s) => s.section === "main")?.verdict).toBe("up_to_date");
    expect(r.timings.restoreMs).toBeGreaterThanOrEqual(0);
  });

  it("a refusal carries exit code and FATAL lines; expect: refused passes when predicted", async () => {
    const newer = { ...v020, main: { version: 25, compat: 21 } };
    const env = fakeEnv(newer, () => "refuse");
    const r = await rollbackBridge(env, "bridge-harness/mautrix-slack:v0.2.0", { expect: "refused" });
    expect(r.outcome).toBe("refused");
    expect(r.exitCode).toBe(15);
    expect(r.fatalLines?.[0]).toMatch(/FTL Failed to initialize database/);
    expect(r.fatalLines?.[1]).toMatch(/Downgrading the bridge is not supported/);
    expect(r.prediction?.refusedSections).toEqual(["main"]);
    expect(r.predictionHeld).toBe(true);
  });

  it("an unexpected refusal fails with the details attached", async () => {
    const env = fakeEnv(v020, () => "refuse");
    const err = await rollbackBridge(env, "bridge-harness/mautrix-slack:v0.1.0").catch((e) => e);
    expect(err).toBeInstanceOf(UpgradeAssertionError);
    expect(err.message).toMatch(/refused to start \(exit 15\)/);
    expect(err.message).toMatch(/prediction failed: predicted accepted, bridge refused/);
    expect((err.result as BridgeSwapResult).fatalLines).toHaveLength(2);
  });

  it("a start that was expected to be refused fails", async () => {
    const env = fakeEnv(v010, realistic);
    await expect(
      upgradeBridge(env, "bridge-harness/mautrix-slack:v0.2.0", { expect: "refused" }),
    ).rejects.toThrow(/started although it was expected to refuse/);
  });

  it("a schema that differs from the prediction fails unless check_prediction is off", async () => {
    const env = fakeEnv(v010, () => ({ ...v020, main: { version: 19, compat: 9 } }));
    await expect(upgradeBridge(env, "bridge-harness/mautrix-slack:v0.2.0")).rejects.toThrow(
      /main: expected v20\/9, found v19\/9/,
    );
    const env2 = fakeEnv(v010, () => ({ ...v020, main: { version: 19, compat: 9 } }));
    const r = await upgradeBridge(env2, "bridge-harness/mautrix-slack:v0.2.0", { checkPrediction: false });
    expect(r.schemaMismatches).toHaveLength(1);
  });
});
