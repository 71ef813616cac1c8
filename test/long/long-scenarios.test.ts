// The long scenario files (LONG_SCENARIO_FILES: a day's volume, the soak), for real, outside
// `npm test`: `npm run test:long` (or `./harness test-long`). Same rules as the e2e scenarios:
// environments shared where the scenarios allow, every scenario must pass.
import path from "node:path";
import { inject } from "vitest";
import { loadScenario } from "../../src/config/scenario.ts";
import { describeScenarioGroups, ROOT } from "../e2e/shared-environments.ts";
import { LONG_SCENARIO_FILES } from "../e2e/spec.ts";

const specs = await Promise.all(
  LONG_SCENARIO_FILES.map((name) => loadScenario(path.join(ROOT, "scenarios", `${name}.yaml`))),
);
describeScenarioGroups(specs, { skipReason: inject("e2eSkipReason") });
