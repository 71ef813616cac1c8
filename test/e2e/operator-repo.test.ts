// examples/operator-repo's production environment for real: its configs (merged over the generated
// ones) give a deployment that logs in, creates the portal and bridges both ways, with the `check`
// step first. Then the secret scan: the finished run folder and the reports hold none of the
// operator's secrets nor the secrets generated for the run, which were in its configs while it ran.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, inject, it } from "vitest";
import { parse } from "yaml";
import { findSecrets } from "../../src/artifacts/redact-folder.ts";
import { operatorSecrets, secretsIn } from "../../src/artifacts/secrets.ts";
import { checkScenarioFile } from "../../src/config/scenario.ts";
import { writeReports } from "../../src/report/write.ts";
import { runScenarios } from "../../src/scenario/runner.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ENVIRONMENT = path.join(ROOT, "examples/operator-repo/environments/production.yaml");
const skipReason = inject("e2eSkipReason");

it.skipIf(skipReason !== "")(
  "the example operator repository's production configs bridge for real, and leave no secret behind",
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-operator-repo-"));
    const file = path.join(dir, "operator-repo.yaml");
    writeFileSync(
      file,
      [
        "name: operator-repo",
        `environment: ${ENVIRONMENT}`,
        `slack: ${path.join(ROOT, "scenarios/workspaces/chochacho.yaml")}`,
        "matrix: { users: [alice] }",
        "steps:",
        "  - check",
        "  - login: { user: alice }",
        '  - expect.portal: { channel: "#dev-platform", user: alice }',
        '  - slack.post: { user: bob, channel: "#dev-platform", text: Hello from Slack to example.org }',
        '  - matrix.send: { user: alice, channel: "#dev-platform", text: Hello from example.org to Slack }',
        "",
      ].join("\n"),
    );
    const { spec, problems } = await checkScenarioFile(file);
    expect(problems).toEqual([]);
    const operator = operatorSecrets(ENVIRONMENT);
    let runDir = "";
    let generated: string[] = [];
    let beforeRedaction = 0;
    const { result } = await runScenarios([spec!], {
      runsDir: path.join(ROOT, "runs"),
      onEnvironment(env) {
        runDir = env.runDir;
        const config = (f: string) => parse(readFileSync(path.join(runDir, f), "utf8"));
        generated = [
          ...secretsIn(config("bridge-config.yaml")),
          ...secretsIn(config("homeserver.yaml")),
        ].filter((s) => s.length >= 8);
        beforeRedaction = findSecrets(runDir, [...operator, ...generated]).length;
      },
    });
    const scenario = result.scenarios[0];
    expect(
      scenario.outcome,
      scenario.steps.map((s) => `${s.outcome} ${s.id} ${s.error ?? ""}`).join("\n"),
    ).toBe("passed");
    expect(scenario.steps[0]).toMatchObject({ type: "check", outcome: "passed" });
    // The scan can fail: while the environment ran, its configs held these secrets.
    expect(generated.length).toBeGreaterThanOrEqual(4);
    expect(beforeRedaction).toBeGreaterThan(4);
    expect(findSecrets(runDir, [...operator, ...generated])).toEqual([]);
    const reports = path.join(dir, "reports");
    await writeReports(result, { dir: reports });
    expect(findSecrets(reports, [...operator, ...generated])).toEqual([]);
  },
);
