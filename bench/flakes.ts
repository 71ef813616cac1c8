// Runs a scenario set N times, each time in a freshly started environment shared by the set (as
// `npm test` does), and prints the flake rate: the share of scenario runs that failed, the share
// of rounds with any failure, and per scenario how often and how it failed. Expected failures
// (known upstream problems) are counted apart: they do not fail a scenario.
//
//   node bench/flakes.ts [N=10] [--runs-dir runs] [--environment environments/x.yaml] [scenario.yaml ...]
// Default set: the shipped default scenarios plus the two fault scenarios. --environment runs them
// all in that environment instead of the ones they name (as `bridge-harness run --environment`).
import path from "node:path";
import { loadEnvironment } from "../src/config/environment.ts";
import { loadScenario } from "../src/config/scenario.ts";
import { formatMs } from "../src/report/latency.ts";
import { DEFAULT_SCENARIO_SET, runScenarios } from "../src/scenario/runner.ts";
import { now } from "../src/util/clock.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const runsDir = option("--runs-dir") ?? path.join(ROOT, "runs");
const environmentFile = option("--environment");
const environment = environmentFile ? loadEnvironment(path.resolve(environmentFile)) : undefined;
const rounds = /^\d+$/.test(args[0] ?? "") ? Number(args.shift()) : 10;
const names = [...DEFAULT_SCENARIO_SET, "faults-slack", "faults-services"];
const files = args.length ? args : names.map((n) => path.join(ROOT, "scenarios", `${n}.yaml`));
const specs = (await Promise.all(files.map((f) => loadScenario(f)))).map((spec) =>
  environment ? { ...spec, environment: environment.spec, environmentFile: environment.file } : spec,
);

const failures = new Map<string, string[]>();
const expected = new Map<string, number>();
let failedRounds = 0;
let scenarioRuns = 0;
const t0 = now();
for (let round = 1; round <= rounds; round++) {
  const started = now();
  const { result } = await runScenarios(specs, { runsDir });
  let failed = 0;
  for (const s of result.scenarios) {
    scenarioRuns++;
    const known = s.steps.filter((x) => x.outcome === "expected_failure").length;
    if (known) expected.set(s.name, (expected.get(s.name) ?? 0) + known);
    if (s.outcome !== "failed") continue;
    failed++;
    const why = s.steps.find((x) => x.outcome === "failed");
    const text = why ? `${why.id}: ${why.error?.split("\n")[0].slice(0, 200)}` : (s.error ?? "failed");
    failures.set(s.name, [...(failures.get(s.name) ?? []), `round ${round}: ${text}`]);
  }
  if (failed) failedRounds++;
  console.log(
    `round ${round}/${rounds}: ${result.scenarios.length - failed}/${result.scenarios.length} passed in ${formatMs(now() - started)}`,
  );
}

const failedRuns = [...failures.values()].reduce((a, f) => a + f.length, 0);
console.log(`\n${rounds} round(s) of ${specs.length} scenario(s) in ${formatMs(now() - t0)}`);
console.log(
  `flake rate: ${failedRuns}/${scenarioRuns} scenario runs failed (${((100 * failedRuns) / scenarioRuns).toFixed(1)}%); ${failedRounds}/${rounds} rounds had a failure`,
);
for (const [name, list] of failures) {
  console.log(`  ${name}: failed ${list.length}/${rounds}`);
  for (const line of list) console.log(`    ${line}`);
}
for (const [name, n] of expected)
  console.log(`  ${name}: ${n} expected failure(s) (known upstream problems) over ${rounds} round(s)`);
