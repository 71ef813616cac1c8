// Every scenario file in scenarios/ runs for real, in the environment it names, next to the fake
// Slack. One `it` per scenario, environments shared (shared-environments.ts); the ones that upgrade,
// roll back or change config run in upgrade.test.ts instead (with assertions on their details), not
// twice; the long ones (volume, soak) run in test/long/ (`npm run test:long`). Other homeserver kinds
// run the default set in homeserver-kinds.test.ts.
import { readdirSync } from "node:fs";
import path from "node:path";
import { expect, inject, it } from "vitest";
import { formatProblems } from "../../src/config/errors.ts";
import { checkScenarioFile, type ScenarioSpec } from "../../src/config/scenario.ts";
import { DEFAULT_SCENARIO_SET, ENVIRONMENT_CHANGING_STEPS } from "../../src/scenario/runner.ts";
import { describeScenarioGroups, ROOT } from "./shared-environments.ts";
import { LONG_SCENARIO_FILES, UPGRADE_SCENARIO_FILES } from "./spec.ts";

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

it("every scenario that changes the environment is one upgrade.test.ts runs, and only those", () => {
  const changing = checked.flatMap((c) => (c.spec && changesEnvironment(c.spec) ? [c.f] : []));
  expect(changing.sort()).toEqual([...UPGRADE_SCENARIO_FILES].sort());
});

// A scenario file that does not validate is a failing test of its own, with the validator's message.
for (const c of checked.filter((x) => !x.spec))
  it(`${c.f} (scenarios/${c.f}.yaml) validates`, () => expect.fail(formatProblems(c.problems)));

describeScenarioGroups(specs, { skipReason });
