// Upgrade and rollback acceptance, for real: the four upgrade scenario files run through the runner,
// each in its own environment, and their reports are checked for what the steps measured
// (prediction vs outcome, schema versions, swap times, log levels). Plus a refusal: a database
// whose schema claims to be newer than the bridge makes it exit 15, which is predicted, reported
// with the bridge's own FATAL lines, and undone by restoring a snapshot.
//
// Beyond the default images these need mautrix-slack v0.1.0 and Synapse 1.162.0. Missing images
// fail the run when CI=true and skip it (loudly) elsewhere.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadEnvironment } from "../../src/config/environment.ts";
import { loadScenario } from "../../src/config/scenario.ts";
import type { StartedEnvironment } from "../../src/environment/api.ts";
import { missingImages, resolveImage } from "../../src/environment/preflight.ts";
import type { ScenarioResult, StepResult } from "../../src/report/model.ts";
import { runScenarios, Scenario } from "../../src/scenario/runner.ts";
import { steps } from "../../src/scenario/steps.ts";
import { rollbackBridge, snapshotDatabase } from "../../src/upgrade/operations.ts";
import { readDbSchemaState } from "../../src/upgrade/predict.ts";
import { DEFAULT_E2E_SPEC, UPGRADE_SCENARIO_FILES } from "./spec.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const RUNS = path.join(ROOT, "runs");
const EXTRA_IMAGES = [
  "mautrix/slack:v0.1.0",
  "matrixdotorg/synapse:v1.162.0",
  "forgejo.ellis.link/continuwuation/continuwuity:v0.5.0-rc4",
  "ghcr.io/element-hq/matrix-authentication-service:1.22.0",
  "nginx:1.22",
];

const globalSkip = inject("e2eSkipReason");
const missing = globalSkip ? [] : await missingImages(EXTRA_IMAGES.map((i) => resolveImage(i)));
if (missing.length && process.env.CI === "true") {
  throw new Error(
    `upgrade e2e prerequisites missing (CI=true makes this fatal): images ${missing.join(", ")}`,
  );
}
const skipReason = globalSkip || (missing.length ? `images missing locally: ${missing.join(", ")}` : "");
if (skipReason && !globalSkip) process.stderr.write(`\n!! upgrade e2e tests SKIPPED: ${skipReason}\n\n`);

async function runFile(name: string, environmentFile?: string): Promise<ScenarioResult> {
  // scenarios.test.ts leaves the files in this list to this test.
  if (!UPGRADE_SCENARIO_FILES.includes(name))
    throw new Error(`${name} is missing from UPGRADE_SCENARIO_FILES`);
  const loaded = await loadScenario(path.join(ROOT, "scenarios", `${name}.yaml`));
  const env = environmentFile ? loadEnvironment(path.join(ROOT, environmentFile)) : undefined;
  const spec = env ? { ...loaded, environment: env.spec, environmentFile: env.file } : loaded;
  const { result } = await runScenarios([spec], { isolate: true, runsDir: RUNS });
  const r = result.scenarios[0]!;
  const lines = r.steps.map(
    (s) =>
      `  ${s.outcome.padEnd(7)} ${s.id} (${(s.durationMs / 1000).toFixed(1)} s)${s.error ? `: ${s.error}` : ""}`,
  );
  process.stdout.write(
    `${r.name}: ${r.outcome} in ${(r.durationMs / 1000).toFixed(1)} s\n${lines.join("\n")}\n`,
  );
  expect(r.outcome, `${r.error ?? ""}\n${lines.join("\n")}\nrun folder: ${r.runDir}`).toBe("passed");
  return r;
}

function step(r: ScenarioResult, id: string): StepResult & { details: Record<string, any> } {
  const s = r.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${r.name}`);
  return s as StepResult & { details: Record<string, any> };
}

describe.skipIf(skipReason !== "")(
  `upgrades and rollbacks${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    it("v0.1.0 -> v0.2.0 -> v0.1.0 with the snapshot restored", async () => {
      const r = await runFile("upgrade-rollback-with-restore");
      const up = step(r, "upgrade").details;
      expect(up.predictionHeld).toBe(true);
      expect(up.schemaAfter).toBe("main v20/9, state v7/3, slack v2/1");
      expect(up.timings.connectedMs).toBeLessThan(10_000);
      expect(up.whileDown).toHaveLength(1);
      const back = step(r, "rollback").details;
      expect(back.restoredSnapshot).toBe("before_upgrade");
      expect(back.schemaAfter).toBe("main v16/9, state v6/3, slack v2/1");
      expect(back.predictionHeld).toBe(true);
    });

    it("v0.1.0 -> v0.2.0 -> v0.1.0 with the snapshot restored, on continuwuity", async () => {
      const r = await runFile(
        "upgrade-rollback-with-restore",
        "scenarios/upgrade-environments/continuwuity-slack-v0.1.0.yaml",
      );
      expect(step(r, "upgrade").details.predictionHeld).toBe(true);
      expect(step(r, "upgrade").details.schemaAfter).toBe("main v20/9, state v7/3, slack v2/1");
      expect(step(r, "rollback").details.schemaAfter).toBe("main v16/9, state v6/3, slack v2/1");
    });

    it("v0.1.0 -> v0.2.0 -> v0.1.0 without restore: accepted as predicted, data written by v0.2.0 still usable", async () => {
      const r = await runFile("upgrade-rollback-without-restore");
      const back = step(r, "rollback").details;
      expect(back.prediction.accepted).toBe(true);
      expect(back.outcome).toBe("running");
      expect(back.predictionHeld).toBe(true);
      expect(back.schemaAfter).toBe("main v20/9, state v7/3, slack v2/1");
    });

    it("Synapse 1.162.0 -> 1.163.2 under a running bridge", async () => {
      const r = await runFile("synapse-upgrade");
      const hs = r.steps.find((s) => s.type === "homeserver.upgrade")!.details as Record<string, any>;
      expect(hs.toImage).toMatch(/1\.163\.2/);
      expect(hs.timings.bridgeReadyMs).toBeGreaterThan(0);
    });

    it("matrix-authentication-service config change and rollback: the hashes written meanwhile stay", async () => {
      const r = await runFile("mas-config-rollback");
      expect(step(r, "registered-during-change").outcome).toBe("passed");
      expect(step(r, "after-revert-registered").details.error).toMatch(/HTTP 500/);
      expect(step(r, "after-revert-rehashed").details.error).toMatch(/HTTP 500/);
    });

    it("config change and revert: log level and permissions", async () => {
      const r = await runFile("config-change");
      expect(step(r, "7-expect.logs_since").details.levels.debug).toBe(0);
      expect(step(r, "15-expect.logs_since").details.levels.debug).toBeGreaterThan(0);
    });

    describe("a database newer than the bridge", () => {
      let env: StartedEnvironment;
      beforeAll(async () => {
        const { startEnvironment } = await import("../../src/environment/environment.ts");
        env = await startEnvironment(
          { ...DEFAULT_E2E_SPEC, name: "e2e-refusal" },
          { runDir: path.join(RUNS, `${new Date().toISOString().replace(/[:.]/g, "-")}-upgrade-refusal`) },
        );
      });
      afterAll(async () => {
        await env?.stop();
      });

      it("is refused with exit 15 as predicted, and a snapshot restore brings the bridge back", async () => {
        const sc = new Scenario(env, { matrixUsers: ["alice"] });
        await sc.run(steps.login({ user: "alice" }));
        await sc.run(steps.expectPortal({ channel: "#dev-platform", user: "alice" }));
        const alice = await env.user("alice");
        await snapshotDatabase(env, "good", { user: alice });

        // Pretend a future release migrated the main section: v30, compatible down to v25 (> v20).
        await env.postgres.query("mautrix_slack", "UPDATE version SET version = 30, compat = 25");
        const image = env.bridge.image;
        const refused = await rollbackBridge(env, image, {
          expect: "refused",
          user: alice,
          timeoutMs: 60_000,
        });
        process.stdout.write(`refusal: exit ${refused.exitCode}\n  ${refused.fatalLines?.join("\n  ")}\n`);
        expect(refused.outcome).toBe("refused");
        expect(refused.exitCode).toBe(15);
        expect(refused.prediction?.refusedSections).toEqual(["main"]);
        expect(refused.predictionHeld).toBe(true);
        expect(refused.fatalLines?.join("\n")).toMatch(/Failed to initialize database/);
        expect(refused.fatalLines?.join("\n")).toMatch(/Downgrading the bridge is not supported/);

        const back = await rollbackBridge(env, image, { restoreSnapshot: "good", user: alice });
        expect(back.outcome).toBe("running");
        expect((await readDbSchemaState(env.postgres)).main).toEqual({ version: 20, compat: 9 });
        await sc.run(
          steps.slackPost({ user: "bob", channel: "#dev-platform", text: "Back after the refusal" }),
        );
        await sc.run(
          steps.matrixSend({ user: "alice", channel: "#dev-platform", text: "Matrix after the refusal" }),
        );
      });
    });

    // A homeserver's state, whatever it is stored in (Synapse: its database; continuwuity: RocksDB on
    // a volume), taken while the server is stopped and put back: what was written after the
    // snapshot is gone, what was before it works.
    for (const kind of ["synapse", "continuwuity"] as const)
      it(`${kind}: a state snapshot restored takes the server back to it`, async () => {
        const spec =
          kind === "synapse"
            ? { ...DEFAULT_E2E_SPEC, name: "e2e-snapshot" }
            : loadEnvironment(path.join(ROOT, "environments/continuwuity.yaml")).spec;
        const { startEnvironment } = await import("../../src/environment/environment.ts");
        const env = await startEnvironment(spec, {
          runDir: path.join(RUNS, `${new Date().toISOString().replace(/[:.]/g, "-")}-${kind}-snapshot`),
        });
        try {
          const alice = await env.user("alice", { autoJoin: false });
          const before = await alice.createRoom({ name: "before the snapshot" });
          await env.homeserver.snapshot("before");
          const after = await alice.createRoom({ name: "after the snapshot" });
          await env.homeserver.restore("before");
          const { joined_rooms } = (await alice.api("GET", "/_matrix/client/v3/joined_rooms")) as {
            joined_rooms: string[];
          };
          expect(joined_rooms).toContain(before);
          expect(joined_rooms).not.toContain(after);
          expect(await env.homeserver.stateVersion()).toMatch(
            kind === "synapse" ? /^schema \d+/ : /^RocksDB \d+/,
          );
        } finally {
          await env.stop();
        }
      });
  },
);
