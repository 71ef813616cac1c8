// Scenario files run for real, with environments shared the way `bridge-harness run` shares them:
// scenarios that name the same environment and Slack workspace run in one environment, started
// lazily by the first scenario of its group and stopped after its last. Each scenario still logs in
// and finds its portal itself, so it also runs alone; log assertions and error counts see only the
// lines logged since the scenario started. Scenarios about the start itself (expect_start) run alone.
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ScenarioSpec } from "../../src/config/scenario.ts";
import type { StartedEnvironment } from "../../src/environment/api.ts";
import { formatMs } from "../../src/report/latency.ts";
import { bridgeLogLines, type ScenarioResult } from "../../src/report/model.ts";
import {
  defaultStartEnvironment,
  groupScenarios,
  runScenarioIn,
  runScenarios,
  type ScenarioGroup,
} from "../../src/scenario/runner.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const RUNS = path.join(ROOT, "runs");

/** Everything a failed scenario's assertion message needs: steps, errors, latency, run folder. */
export function explain(r: ScenarioResult): string {
  const lines = [`${r.name}: ${r.outcome}${r.error ? ` — ${r.error}` : ""}`];
  for (const s of r.steps) {
    lines.push(`  ${s.outcome.padEnd(7)} ${s.id}: ${s.title}${s.error ? `\n          ${s.error}` : ""}`);
    for (const l of bridgeLogLines(s)) lines.push(`          ${l}`);
  }
  for (const l of r.latency)
    lines.push(
      `  ${l.direction} n=${l.count} p50=${formatMs(l.p50)} p95=${formatMs(l.p95)} max=${formatMs(l.max)}`,
    );
  lines.push(`  run folder: ${r.runDir}`);
  return lines.join("\n");
}

/** One `describe` per shared environment, one `it` per scenario. */
export function describeScenarioGroups(specs: readonly ScenarioSpec[], opts: { skipReason: string }): void {
  const started = new Map<ScenarioGroup, Promise<StartedEnvironment>>();
  const environmentFor = (group: ScenarioGroup): Promise<StartedEnvironment> => {
    let p = started.get(group);
    if (!p) {
      const first = group.scenarios[0];
      const stamp = new Date()
        .toISOString()
        .replace(/\.\d+Z$/, "")
        .replace(/:/g, "-");
      p = defaultStartEnvironment().then((start) =>
        start(first.environment, {
          runDir: path.join(RUNS, `${stamp}-e2e-${first.environment.name}-${first.name}`),
          slackSeed: first.slackSeedFile ?? first.slackSeed,
        }),
      );
      started.set(group, p);
    }
    return p;
  };
  const stop = async (group: ScenarioGroup) => {
    const p = started.get(group);
    started.delete(group);
    if (p) await (await p.catch(() => undefined))?.stop();
  };
  afterAll(async () => {
    await Promise.all([...started.keys()].map(stop));
  });

  for (const group of groupScenarios(specs)) {
    const first = group.scenarios[0];
    describe(`environment ${first.environment.name} (${path.relative(ROOT, first.environmentFile)})`, () => {
      afterAll(() => stop(group));
      for (const spec of group.scenarios) {
        it.skipIf(opts.skipReason !== "")(`${spec.name} (${path.relative(ROOT, spec.file)})`, async () => {
          const result = spec.expectStart
            ? (await runScenarios([spec], { runsDir: RUNS })).result.scenarios[0]
            : await runScenarioIn(await environmentFor(group), spec);
          expect(result.outcome, explain(result)).toBe("passed");
        });
      }
    });
  }
}
