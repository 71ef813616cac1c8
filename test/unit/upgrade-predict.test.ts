import { describe, expect, it } from "vitest";
import {
  formatSchemaState,
  predictRollback,
  readDbSchemaState,
  type SqlQuery,
} from "../../src/upgrade/predict.ts";
import type { ReleaseSchema } from "../../src/upgrade/schema.ts";
import { findRelease } from "../../src/upgrade/schema-versions.ts";

// What v0.1.0 writes on a fresh database, and what v0.2.0 leaves after upgrading it.
const afterV010 = {
  main: { version: 16, compat: 9 },
  state: { version: 6, compat: 3 },
  slack: { version: 2, compat: 1 },
};
const afterV020 = {
  main: { version: 20, compat: 9 },
  state: { version: 7, compat: 3 },
  slack: { version: 2, compat: 1 },
};

describe("predictRollback", () => {
  it("predicts the upgrade v0.1.0 -> v0.2.0 and the rows it leaves", () => {
    const p = predictRollback(afterV010, "v0.2.0");
    expect(p.accepted).toBe(true);
    expect(p.expectedAfter).toEqual(afterV020);
    expect(p.sections.find((s) => s.section === "main")?.verdict).toBe("upgrade");
    expect(p.sections.find((s) => s.section === "slack")?.verdict).toBe("up_to_date");
  });

  it("accepts rolling v0.2.0's database back to v0.1.0 (compat v9 <= v16)", () => {
    const p = predictRollback(afterV020, "bridge-harness/mautrix-slack:v0.1.0");
    expect(p.target).toBe("v0.1.0");
    expect(p.accepted).toBe(true);
    expect(p.expectedExitCode).toBeUndefined();
    expect(p.sections.find((s) => s.section === "main")).toMatchObject({
      verdict: "newer_compatible",
      after: { version: 20 },
    });
    expect(p.sections.find((s) => s.section === "state")?.verdict).toBe("newer_compatible");
    expect(p.reasons.join("\n")).toMatch(
      /main: database v20 \(compatible down to v9\) is newer than v0.1.0's v16 but compatible/,
    );
  });

  it("refuses when a section's compat is above the target's latest (crypto v20/20 -> v0.2.0)", () => {
    const p = predictRollback({ ...afterV020, crypto: { version: 20, compat: 20 } }, "v0.2.0");
    expect(p.accepted).toBe(false);
    expect(p.expectedExitCode).toBe(15);
    expect(p.refusedSections).toEqual(["crypto"]);
    expect(p.reasons[0]).toMatch(/^crypto: database v20 is newer than v0.2.0 supports \(latest known v17/);
    expect(p.reasons[0]).toMatch(/Downgrading the bridge is not supported/);
    expect(p.expectedAfter.crypto).toBeUndefined();
  });

  it("refuses per section and names each db_section", () => {
    const p = predictRollback(
      {
        main: { version: 30, compat: 30 },
        state: { version: 7, compat: 7 },
        slack: { version: 2, compat: 1 },
      },
      "v0.1.0",
    );
    expect(p.refusedSections).toEqual(["main", "matrix_state"]);
  });

  it("--ignore-unsupported-database turns a refusal into a warning", () => {
    const p = predictRollback({ crypto: { version: 20, compat: 20 } }, "v0.2.0", {
      ignoreUnsupportedDatabase: true,
    });
    expect(p.accepted).toBe(true);
    expect(p.sections.find((s) => s.section === "crypto")?.verdict).toBe("ignored");
  });

  it("crypto v17/15 written by v0.2.0 rolls back to v0.1.0 (latest v15)", () => {
    expect(predictRollback({ crypto: { version: 17, compat: 15 } }, "v0.1.0").accepted).toBe(true);
  });

  it("encryption on: rolling back from v0.2606.0 to v0.2.0 is refused (reference section 15)", () => {
    const after = predictRollback(afterV020, "v0.2606.0").expectedAfter;
    expect(
      predictRollback({ ...after, crypto: { version: 20, compat: 20 } }, "v0.2.0").refusedSections,
    ).toEqual(["crypto"]);
    // Encryption off: any pair works.
    expect(predictRollback(after, "v0.1.0").accepted).toBe(true);
  });

  it("a missing table is fresh, a section without data is unknown (not a refusal)", () => {
    const partial: ReleaseSchema = {
      release: "vX",
      source: "reference",
      sections: { main: { latest: 29, compat: 9 } },
    };
    const p = predictRollback(
      { main: { version: 20, compat: 9 }, state: { version: 7, compat: 3 } },
      partial,
    );
    expect(p.accepted).toBe(true);
    expect(p.sections.map((s) => [s.section, s.verdict])).toEqual([
      ["main", "upgrade"],
      ["state", "unknown"],
      ["slack", "fresh"],
      ["crypto", "fresh"],
    ]);
    expect(p.expectedAfter.main).toEqual({ version: 29, compat: 9 });
  });

  it("an empty database is accepted by every release", () => {
    expect(predictRollback({}, findRelease("v0.1.0")).accepted).toBe(true);
  });
});

describe("readDbSchemaState", () => {
  const fake = (
    tables: Record<string, { version: number | null; compat: number | string | null }[]>,
  ): SqlQuery & {
    log: string[];
  } => {
    const log: string[] = [];
    return {
      log,
      async query<T>(db: string, sql: string, params?: unknown[]): Promise<T[]> {
        log.push(`${db}: ${sql}`);
        if (sql.includes("information_schema")) {
          const wanted = params?.[0] as string[];
          return Object.keys(tables)
            .filter((t) => wanted.includes(t))
            .map((t) => ({ table_name: t })) as T[];
        }
        const m = /FROM (\w+)/.exec(sql)!;
        return (tables[m[1]!] ?? []) as T[];
      },
    };
  };

  it("reads each existing version table; NULL/0 compat means the version", async () => {
    const q = fake({
      version: [{ version: 20, compat: 9 }],
      mx_version: [{ version: 7, compat: "3" }],
      slack_version: [{ version: 2, compat: null }],
      crypto_version: [{ version: 15, compat: 0 }],
      unrelated: [],
    });
    expect(await readDbSchemaState(q)).toEqual({
      main: { version: 20, compat: 9 },
      state: { version: 7, compat: 3 },
      slack: { version: 2, compat: 2 },
      crypto: { version: 15, compat: 15 },
    });
    expect(q.log.every((l) => l.startsWith("mautrix_slack: "))).toBe(true);
  });

  it("leaves out missing tables and empty rows, and accepts an environment", async () => {
    const q = fake({ version: [{ version: 16, compat: 9 }], mx_version: [] });
    const s = await readDbSchemaState({ postgres: q } as any);
    expect(s).toEqual({ main: { version: 16, compat: 9 } });
    expect(formatSchemaState(s)).toBe("main v16/9");
    expect(formatSchemaState({})).toBe("(no version tables)");
  });
});

describe("describeUpgradeStep", () => {
  it("titles every upgrade step type and nothing else", async () => {
    const { describeUpgradeStep, UPGRADE_STEP_TYPES } = await import("../../src/upgrade/step-types.ts");
    for (const [type, spec] of Object.entries(UPGRADE_STEP_TYPES)) {
      expect(describeUpgradeStep(type, (spec.example ?? {}) as Record<string, any>), type).toBeTruthy();
    }
    expect(describeUpgradeStep("slack.post", {})).toBeUndefined();
    expect(describeUpgradeStep("bridge.rollback", { image: "mautrix/slack:v0.1.0", expect: "refused" })).toBe(
      "roll the bridge back to mautrix/slack:v0.1.0 without restoring the database (must refuse to start)",
    );
  });
});
