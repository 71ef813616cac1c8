// Runs scenarios with faults and availability probes (default: the compressed-week soak) and prints
// what they measured: availability, what happened to the probes each way, the recovery after each
// fault, how long each fault lasted and how long until healthy again, the latency of messages that
// overlapped a fault, and the expected failures (known upstream problems) that showed.
//
//   node bench/availability.ts [--runs-dir runs] [scenario.yaml ...]     (soak: about 22 minutes)
import path from "node:path";
import { loadScenario } from "../src/config/scenario.ts";
import { scenarioFaultLines } from "../src/report/faults.ts";
import { formatMs } from "../src/report/latency.ts";
import { runScenarios } from "../src/scenario/runner.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

const args = process.argv.slice(2);
const runsIdx = args.indexOf("--runs-dir");
const runsDir = runsIdx >= 0 ? args.splice(runsIdx, 2)[1] : path.join(ROOT, "runs");
const files = args.length ? args : [path.join(ROOT, "scenarios", "soak.yaml")];

const specs = await Promise.all(files.map((f) => loadScenario(f)));
const { result } = await runScenarios(specs, { runsDir, isolate: true });
for (const s of result.scenarios) {
  console.log(`\n${s.name}: ${s.outcome} in ${formatMs(s.durationMs)}${s.error ? ` — ${s.error}` : ""}`);
  for (const line of scenarioFaultLines(s)) console.log(`  ${line}`);
  for (const step of s.steps.filter((x) => x.outcome === "failed"))
    console.log(`  FAILED ${step.id}: ${step.error?.split("\n")[0]}`);
  console.log(`  run folder: ${path.relative(process.cwd(), s.runDir)}`);
}
process.exitCode = result.outcome === "failed" ? 1 : 0;
