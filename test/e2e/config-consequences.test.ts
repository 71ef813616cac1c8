// Each seeded mistake of the example operator repository that has a runtime consequence carries a
// consequence.yaml next to it: the mistake's environment run for real, with what must happen
// (usually a start that fails, and how). `bridge-harness check` catches the mistake statically
// (test/unit/check-operator-repo.test.ts); this proves the "why it matters" of that check.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { inject } from "vitest";
import { loadScenario } from "../../src/config/scenario.ts";
import { describeScenarioGroups, ROOT } from "./shared-environments.ts";

const MISTAKES = path.join(ROOT, "examples/operator-repo/mistakes");
const files = readdirSync(MISTAKES)
  .map((m) => path.join(MISTAKES, m, "consequence.yaml"))
  .filter((f) => existsSync(f));
const specs = await Promise.all(files.map((f) => loadScenario(f)));

describeScenarioGroups(specs, { skipReason: inject("e2eSkipReason") });
