// The `check` step (in a scenario, and before an environment starts) and safe artifacts: a run
// folder built the way a run builds it, from the example operator repository's files, holds none of
// their secrets after redaction; the CLI's `redact` does the same and says when something is left.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { findSecrets, redactFolder } from "../../src/artifacts/redact-folder.ts";
import { operatorSecrets } from "../../src/artifacts/secrets.ts";
import { buildBridgeConfig } from "../../src/bridges/mautrix-slack/config.ts";
import { checkScenarioFile } from "../../src/config/scenario.ts";
import type { StartedEnvironment } from "../../src/environment/api.ts";
import { synapseConfig } from "../../src/homeservers/synapse/config.ts";
import { renderMarkdown } from "../../src/report/markdown.ts";
import { writeReports } from "../../src/report/write.ts";
import { runScenarios, Scenario } from "../../src/scenario/runner.ts";
import { randomToken } from "../../src/util/random.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const REPO = path.join(ROOT, "examples/operator-repo");
const PRODUCTION = path.join(REPO, "environments/production.yaml");
const MAS = path.join(REPO, "environments/mas.yaml");
const yaml = (f: string) => parse(readFileSync(path.join(REPO, f), "utf8"));

function fakeEnv(runDir = "/tmp/run"): StartedEnvironment {
  return {
    spec: { name: "test" },
    runDir,
    homeserver: { logFile: path.join(runDir, "synapse.log"), serverName: "localhost" },
    bridge: { logFile: path.join(runDir, "mautrix-slack.log"), logLines: async () => [] },
    timings: {},
    stop: async () => undefined,
  } as unknown as StartedEnvironment;
}

function scenarioFile(dir: string, environment: string, steps: string): string {
  const file = path.join(dir, "scenario.yaml");
  writeFileSync(
    file,
    `name: checked\nenvironment: ${environment}\nslack: { users: [bob], channels: [{ name: general, members: [bob, "@bot"] }] }\nmatrix: { users: [alice] }\nsteps:\n${steps}`,
  );
  return file;
}

describe("the check step", () => {
  it("passes on a clean environment and records the findings in its details", async () => {
    const sc = new Scenario(fakeEnv(), { throwOnFailure: false, environmentFile: PRODUCTION });
    const r = await sc.run({ type: "check", args: {} });
    expect(r.outcome).toBe("passed");
    expect(r.title).toBe("static checks of the environment's config files");
    expect(r.details).toMatchObject({ counts: { error: 0, warning: 0, info: 0 }, findings: [] });
  });

  it("fails on errors with file:line; `expect` turns expected findings into a pass and missing ones into a failure", async () => {
    const bad = path.join(REPO, "mistakes/tokens-regenerated/environment.yaml");
    const sc = new Scenario(fakeEnv(), {
      throwOnFailure: false,
      continueOnFailure: true,
      environmentFile: bad,
    });
    const failed = await sc.run({ type: "check", args: {} });
    expect(failed.outcome).toBe("failed");
    expect(failed.error).toMatch(
      /^2 finding\(s\): examples\/operator-repo\/mistakes\/tokens-regenerated\/registration\.yaml:5 registration\.as-token-mismatch: /,
    );
    const expected = await sc.run({
      type: "check",
      args: { expect: ["registration.as-token-mismatch", "registration.hs-token-mismatch"] },
    });
    expect(expected.outcome).toBe("passed");
    const missing = await sc.run({
      type: "check",
      args: { environment: PRODUCTION, expect: ["database.shared"] },
    });
    expect(missing.error).toBe("expected finding(s) not reported: database.shared");
    const unknown = await sc.run({ type: "check", args: { expect: ["no.such-check"] } });
    expect(unknown.error).toMatch(/^unknown check id\(s\) in expect: no\.such-check/);
  });

  it("first in a scenario, a failing check ends the scenario before its environment starts", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-check-step-"));
    const env = path.join(REPO, "mistakes/continuwuity-appservices-array/environment.yaml");
    // The scenario validator knows only Synapse environments today: validate against the clean
    // Synapse one, then point the spec at the mistake (what `run --environment` does).
    const file = scenarioFile(dir, PRODUCTION, "  - check\n  - login: { user: alice }\n");
    const { spec, problems } = await checkScenarioFile(file);
    expect(problems).toEqual([]);
    spec!.environmentFile = env;
    let started = 0;
    const { result } = await runScenarios([spec!], {
      runsDir: dir,
      startEnvironment: async () => {
        started++;
        return fakeEnv(dir);
      },
    });
    expect(started).toBe(0);
    const sc = result.scenarios[0];
    expect(sc.outcome).toBe("failed");
    expect(sc.steps.map((s) => [s.type, s.outcome])).toEqual([
      ["check", "failed"],
      ["login", "skipped"],
    ]);
    expect(sc.error).toMatch(
      /^step 1-check failed before the environment started: 1 finding\(s\): .*continuwuity\.toml:13 conduwuit\.appservices-array/,
    );
    // Reports render a scenario that never had a run folder.
    const written = await writeReports(result, { dir: path.join(dir, "reports") });
    expect(readFileSync(written.markdown!, "utf8")).toContain("step `1-check`");
    expect(readFileSync(written.html!, "utf8")).toContain("conduwuit.appservices-array");
  });

  it("a passing check lets the environment start, and runs again as the scenario's first step", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-check-step-"));
    const { spec } = await checkScenarioFile(scenarioFile(dir, PRODUCTION, "  - check\n"));
    let started = 0;
    const { result } = await runScenarios([spec!], {
      runsDir: dir,
      startEnvironment: async () => {
        started++;
        return fakeEnv(dir);
      },
    });
    expect(started).toBe(1);
    expect(result.scenarios[0].steps.map((s) => [s.type, s.outcome])).toEqual([["check", "passed"]]);
  });
});

/** A run folder as a run of the example's production environment leaves it (configs, logs, reports). */
function buildRunFolder(): { dir: string; generated: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), "bh-run-folder-"));
  const generated = [randomToken(64), randomToken(64), randomToken(32), randomToken(32)];
  const [asToken, hsToken, provisioning, dbPassword] = generated;
  const example = {
    homeserver: { address: "http://example.localhost:8008", domain: "example.com" },
    appservice: { as_token: "This value is generated when generating the registration", bot: {} },
    database: { type: "postgres", uri: "postgres://user:password@host/database?sslmode=disable" },
    provisioning: { shared_secret: "generate" },
    bridge: { permissions: { "*": "relay" } },
    logging: { min_level: "debug", writers: [] },
  };
  const bridge = buildBridgeConfig(example, [yaml("config/mautrix-slack.yaml")], {
    domain: "example.org",
    homeserverUrl: "http://homeserver:8008",
    databaseUri: `postgres://bridge:${dbPassword}@postgres:5432/mautrix_slack?sslmode=disable`,
    appserviceAddress: "http://bridge:29335",
    provisioningSecret: provisioning,
  });
  (bridge.appservice as any).as_token = asToken;
  (bridge.appservice as any).hs_token = hsToken;
  writeFileSync(path.join(dir, "bridge-config.yaml"), stringify(bridge), { mode: 0o600 });
  writeFileSync(
    path.join(dir, "bridge-registration.yaml"),
    stringify({
      id: "slack",
      url: "http://bridge:29335",
      as_token: asToken,
      hs_token: hsToken,
      sender_localpart: "abc",
    }),
  );
  const hs = synapseConfig(
    {
      serverName: "example.org",
      publicBaseUrl: "http://localhost:8008/",
      database: { host: "postgres", user: "synapse", password: dbPassword, dbname: "synapse" },
      registrationSharedSecret: randomToken(32),
      macaroonSecretKey: randomToken(32),
      formSecret: randomToken(32),
      appserviceFiles: ["mautrix-slack.yaml"],
    },
    [yaml("config/homeserver.yaml"), yaml("config/homeserver-mas.yaml")],
  );
  writeFileSync(path.join(dir, "homeserver.yaml"), stringify(hs));
  writeFileSync(path.join(dir, "mas.yaml"), readFileSync(path.join(REPO, "config/mas.yaml")));
  // Lines like the ones services print when something goes wrong with a secret in them.
  writeFileSync(
    path.join(dir, "mautrix-slack.log"),
    [
      `2026-11-30T10:00:00Z ERR Failed to connect error="dial postgres://mautrix_slack:RXnNlMq7hBAOLdMsfasGWqqA@postgres/mautrix_slack"`,
      "2026-11-30T10:00:01Z DBG Request token=r36OCidVPyuylSA1fC9Tw3f2fQUdFiQUDnyNl53l60hbL8N57reiuDiFvhCrPPX6",
      "2026-11-30T10:00:02Z INF login app xoxb-1-2-3abcdefabcdef xapp-1-A1-2-3abcdefabcdef",
    ].join("\n"),
  );
  writeFileSync(
    path.join(dir, "mas.log"),
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----\n",
  );
  return { dir, generated };
}

describe("safe artifacts", () => {
  const secrets = [...new Set([...operatorSecrets(PRODUCTION), ...operatorSecrets(MAS)])];

  it("finds the operator's secrets in every kind of file the environments name", () => {
    for (const s of [
      "r36OCidVPyuylSA1fC9Tw3f2fQUdFiQUDnyNl53l60hbL8N57reiuDiFvhCrPPX6", // as_token (bridge config, registration)
      "RXnNlMq7hBAOLdMsfasGWqqA", // bridge database password (in a URI)
      "DolglMAYkhsmL33lmJhvFa6z", // Synapse database password
      "a5PYnbFTQPcSL7Hq1tCTHvfiTayw1qRm004Dw2WH", // macaroon_secret_key
      "9lOW9lHDCe06vjqXciaxgrroNsEnRXKV8Z0bOigo4Kg7s3fZVvVf2t057NFULP6a", // pickle_key
      "6UM5UZ8ccCt3il7kQ9mwss96NxJQEVwUe3kQf7atP746", // MAS shared secret
      "1eec25a8fc4e4364ffa696d04c07472eb6ef8285b9ba97496784984cff8a03ef", // MAS encryption key
    ])
      expect(secrets).toContain(s);
    // Not secrets: names, hosts, switches, the random sender_localpart is not a credential either.
    for (const s of ["example.org", "postgres", "slackbot", "rsa-2026", "/secrets/mas-rsa.pem"])
      expect(secrets).not.toContain(s);
  });

  it("a finished run folder holds none of them after redaction (secret scan over every file)", () => {
    const { dir, generated } = buildRunFolder();
    const all = [...secrets, ...generated];
    expect(findSecrets(dir, all).length).toBeGreaterThan(10);
    const report = redactFolder(dir, secrets);
    expect(report.changed.length).toBe(report.files);
    expect(findSecrets(dir, all)).toEqual([]);
    const text = ["bridge-config.yaml", "homeserver.yaml", "mautrix-slack.log", "mas.log"]
      .map((f) => readFileSync(path.join(dir, f), "utf8"))
      .join("\n");
    expect(text).not.toMatch(/xox[bp]-1-2|xapp-1-A1|BEGIN PRIVATE KEY/);
    // Still a usable config for reproduction: the structure and the non-secret values stay.
    const bridge = parse(readFileSync(path.join(dir, "bridge-config.yaml"), "utf8"));
    expect(bridge.appservice.as_token).toBe("[REDACTED]");
    expect(bridge.homeserver.domain).toBe("example.org");
    expect(bridge.database.uri).toBe(
      "postgres://bridge:[REDACTED]@postgres:5432/mautrix_slack?sslmode=disable",
    );
  });

  it("the redact command: exit 0 when clean, names what it changed, never the secrets", async () => {
    const { dir } = buildRunFolder();
    const copy = mkdtempSync(path.join(tmpdir(), "bh-run-copy-"));
    cpSync(dir, copy, { recursive: true });
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["bin/bridge-harness.js", "redact", ...args], { cwd: ROOT });
    const r = await run(copy, "--environment", PRODUCTION, "--environment", MAS);
    expect(r.stdout).toMatch(/: 6 of 6 file\(s\) redacted\n$/);
    expect(findSecrets(copy, secrets)).toEqual([]);
    await expect(run(path.join(copy, "nowhere"))).rejects.toMatchObject({ code: 2 });
  });
});

describe("a run's own folder", () => {
  it("is redacted when its environment fails to start, too", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-failed-start-"));
    const { spec } = await checkScenarioFile(scenarioFile(dir, PRODUCTION, "  - login: { user: alice }\n"));
    const secret = "a5PYnbFTQPcSL7Hq1tCTHvfiTayw1qRm004Dw2WH"; // macaroon_secret_key in config/homeserver.yaml
    let runDir = "";
    const { result } = await runScenarios([spec!], {
      runsDir: dir,
      startEnvironment: async (_spec, opts) => {
        runDir = opts.runDir;
        mkdirSync(runDir, { recursive: true });
        writeFileSync(
          path.join(runDir, "homeserver.yaml"),
          `macaroon_secret_key: ${secret}\nserver_name: example.org\n`,
        );
        throw new Error("Synapse exited during start with code 1");
      },
    });
    expect(result.scenarios[0].error).toBe(
      "environment did not start: Synapse exited during start with code 1",
    );
    expect(readFileSync(path.join(runDir, "homeserver.yaml"), "utf8")).toBe(
      'macaroon_secret_key: "[REDACTED]"\nserver_name: example.org\n',
    );
  });
});

describe("the Markdown summary report", () => {
  it("one row per scenario, failures with their step and error", () => {
    const md = renderMarkdown({
      version: 1,
      tool: { name: "bridge-harness", version: "0.1.0" },
      startedAt: 0,
      durationMs: 65_000,
      outcome: "failed",
      scenarios: [
        {
          name: "messaging",
          file: "scenarios/messaging.yaml",
          environment: "production",
          outcome: "failed",
          startedAt: 0,
          durationMs: 12_000,
          setup: {},
          steps: [
            {
              id: "2-slack.post",
              type: "slack.post",
              title: "bob posts | hi",
              outcome: "failed",
              startedAt: 0,
              durationMs: 30_000,
              error: "no event within 30 s",
              latencies: [],
            },
          ],
          latency: [
            {
              direction: "slack_to_matrix",
              count: 3,
              p50: 70,
              p95: 90,
              max: 6000,
              budgetMs: 5000,
              withinBudget: false,
            },
          ],
          runDir: "runs/x",
          logs: {},
        },
      ],
    });
    expect(md).toContain("### bridge-harness scenarios: failed");
    expect(md).toContain("1 scenario(s): 0 passed, 1 failed, 0 skipped in 1 m 05 s.");
    expect(md).toMatch(
      /\| ❌ \| messaging \| 12\.0 s \| Slack → Matrix 70 ms \/ 90 ms \/ 6\.00 s \(over budget\) \|/,
    );
    expect(md).toContain("- messaging, step `2-slack.post` (bob posts \\| hi): no event within 30 s");
  });
});
