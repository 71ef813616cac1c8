// Every scenario file in scenarios/ runs for real: Synapse, PostgreSQL and mautrix-slack in
// containers next to the fake Slack. One `it` per scenario; the ones that upgrade, roll back or
// change config run in upgrade.test.ts instead (with assertions on their details), not twice, and
// the long ones (the soak) have their own command.
//
// Speed: scenarios that name the same environment and the same Slack workspace share one running
// environment (the runner's grouping, as `bridge-harness run` does): it is started once, lazily by
// the first scenario of its group, and stopped after the group's last one. Each scenario still logs
// in and finds its portal itself, so it also runs alone; log assertions and the error count see only
// the lines logged since the scenario started.
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { formatProblems } from "../../src/config/errors.ts";
import { checkScenarioFile, type ScenarioSpec } from "../../src/config/scenario.ts";
import type { StartedEnvironment } from "../../src/environment/api.ts";
import { formatMs } from "../../src/report/latency.ts";
import type { ScenarioResult } from "../../src/report/model.ts";
import {
  DEFAULT_SCENARIO_SET,
  defaultStartEnvironment,
  groupScenarios,
  runScenarioIn,
  type ScenarioGroup,
} from "../../src/scenario/runner.ts";
import { ENVIRONMENT_CHANGING_STEPS, LONG_SCENARIO_FILES, UPGRADE_SCENARIO_FILES } from "./spec.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const skipReason = inject("e2eSkipReason");

/** The default set first, in the order an operator reads it; then everything else alphabetically. */
const files = readdirSync(path.join(ROOT, "scenarios"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.replace(/\.yaml$/, ""))
  .sort((a, b) => {
    const ia = DEFAULT_SCENARIO_SET.indexOf(a);
    const ib = DEFAULT_SCENARIO_SET.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
const checked = await Promise.all(
  files.map(async (f) => ({ f, ...(await checkScenarioFile(path.join(ROOT, "scenarios", `${f}.yaml`))) })),
);
const changesEnvironment = (spec: ScenarioSpec) =>
  spec.steps.some((s) => ENVIRONMENT_CHANGING_STEPS.has(s.type));
const specs: ScenarioSpec[] = checked.flatMap((c) =>
  c.spec && !UPGRADE_SCENARIO_FILES.includes(c.f) && !LONG_SCENARIO_FILES.includes(c.f) ? [c.spec] : [],
);
const groups = groupScenarios(specs);

it("every scenario that changes the environment is one upgrade.test.ts runs, and only those", () => {
  const changing = checked.flatMap((c) => (c.spec && changesEnvironment(c.spec) ? [c.f] : []));
  expect(changing.sort()).toEqual([...UPGRADE_SCENARIO_FILES].sort());
});

// A scenario file that does not validate is a failing test of its own, with the validator's message.
for (const c of checked.filter((x) => !x.spec))
  it(`${c.f} (scenarios/${c.f}.yaml) validates`, () => expect.fail(formatProblems(c.problems)));

const started = new Map<ScenarioGroup, Promise<StartedEnvironment>>();
function environmentFor(group: ScenarioGroup): Promise<StartedEnvironment> {
  let p = started.get(group);
  if (!p) {
    const first = group.scenarios[0];
    const stamp = new Date()
      .toISOString()
      .replace(/\.\d+Z$/, "")
      .replace(/:/g, "-");
    p = defaultStartEnvironment().then((start) =>
      start(first.environment, {
        runDir: path.join(ROOT, "runs", `${stamp}-e2e-${first.environment.name}-${first.name}`),
        slackSeed: first.slackSeedFile ?? first.slackSeed,
      }),
    );
    started.set(group, p);
  }
  return p;
}

async function stop(group: ScenarioGroup): Promise<void> {
  const p = started.get(group);
  started.delete(group);
  if (p) await (await p.catch(() => undefined))?.stop();
}

function explain(r: ScenarioResult): string {
  const lines = [`${r.name}: ${r.outcome}${r.error ? ` — ${r.error}` : ""}`];
  for (const s of r.steps)
    lines.push(`  ${s.outcome.padEnd(7)} ${s.id}: ${s.title}${s.error ? `\n          ${s.error}` : ""}`);
  for (const l of r.latency)
    lines.push(
      `  ${l.direction} n=${l.count} p50=${formatMs(l.p50)} p95=${formatMs(l.p95)} max=${formatMs(l.max)}`,
    );
  lines.push(`  run folder: ${r.runDir}`);
  return lines.join("\n");
}

afterAll(async () => {
  await Promise.all([...started.keys()].map(stop));
});

for (const group of groups) {
  const first = group.scenarios[0];
  describe(`environment ${first.environment.name} (${path.relative(ROOT, first.environmentFile)})`, () => {
    afterAll(() => stop(group));
    for (const spec of group.scenarios) {
      it.skipIf(skipReason !== "")(`${spec.name} (${path.relative(ROOT, spec.file)})`, async () => {
        const env = await environmentFor(group);
        const result = await runScenarioIn(env, spec);
        expect(result.outcome, explain(result)).toBe("passed");
      });
    }
  });
}
