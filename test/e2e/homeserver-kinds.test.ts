// The default scenarios on the other homeserver kinds (HOMESERVER_MATRIX in spec.ts): each scenario
// file runs unchanged, retargeted to the kind's environment, as `bridge-harness run --environment`
// does. Their images (packaged from release builds, see images/README.md) must be present: with
// CI=true a missing one fails the run, elsewhere these tests are skipped loudly.
import path from "node:path";
import { inject } from "vitest";
import { loadEnvironment } from "../../src/config/environment.ts";
import { loadScenario, type ScenarioSpec } from "../../src/config/scenario.ts";
import { missingImages, resolveImages } from "../../src/environment/preflight.ts";
import { describeScenarioGroups, ROOT } from "./shared-environments.ts";
import { HOMESERVER_MATRIX } from "./spec.ts";

const environments = HOMESERVER_MATRIX.map((m) => ({
  ...m,
  env: loadEnvironment(path.join(ROOT, "environments", `${m.environment}.yaml`)),
}));

const globalSkip = inject("e2eSkipReason");
const missing = globalSkip
  ? []
  : await missingImages(environments.flatMap((e) => Object.values(resolveImages(e.env.spec)) as string[]));
if (missing.length && process.env.CI === "true")
  throw new Error(
    `homeserver-kind e2e prerequisites missing (CI=true makes this fatal): images ${missing.join(", ")} (build them: BRIDGE_HARNESS_ARTIFACTS=<folder> ./harness images build)`,
  );
const skipReason = globalSkip || (missing.length ? `images missing locally: ${missing.join(", ")}` : "");
if (skipReason && !globalSkip)
  process.stderr.write(`\n!! homeserver-kind e2e tests SKIPPED: ${skipReason}\n\n`);

const specs: ScenarioSpec[] = [];
for (const { scenarios, env } of environments)
  for (const name of scenarios) {
    const spec = await loadScenario(path.join(ROOT, "scenarios", `${name}.yaml`));
    specs.push({ ...spec, environment: env.spec, environmentFile: env.file });
  }

describeScenarioGroups(specs, { skipReason });
