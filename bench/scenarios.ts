// Runs the default scenario set (environments shared as `npm test` shares them) and prints the total
// time, the latencies per direction, and the harness's measurement overhead: how long after the
// observed side recorded the outcome the step itself saw it. For Slack -> Matrix the end stamp is
// the Matrix driver's SeenEvent.seenAt and the waiter is tested right after it; for Matrix -> Slack
// the end stamp is the fake's RecordedCall.receivedAt (request headers), the fake then handles the
// request and records the call ("end stamp -> recorded", the fake's own time, not in any latency),
// and the step's waiter resolves. Latencies use the end stamps, so neither delay inflates them.
//
//   node bench/scenarios.ts [--runs-dir runs] [scenario.yaml ...]
import path from "node:path";
import { loadScenario } from "../src/config/scenario.ts";
import type { Direction } from "../src/report/model.ts";
import { DEFAULT_SCENARIO_SET, runScenarios } from "../src/scenario/runner.ts";
import { now } from "../src/util/clock.ts";
import { percentile } from "./stats.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

const args = process.argv.slice(2);
const runsIdx = args.indexOf("--runs-dir");
const runsDir = runsIdx >= 0 ? args.splice(runsIdx, 2)[1] : path.join(ROOT, "runs");
const files = args.length ? args : DEFAULT_SCENARIO_SET.map((n) => path.join(ROOT, "scenarios", `${n}.yaml`));

const specs = await Promise.all(files.map((f) => loadScenario(f)));
const t0 = now();
const { result } = await runScenarios(specs, {
  runsDir,
  progress: {
    scenarioFinished: (r) =>
      process.stdout.write(
        `${r.outcome === "passed" ? "✓" : "✗"} ${r.name.padEnd(20)} ${(r.durationMs / 1000).toFixed(2)} s${r.error ? `  ${r.error}` : ""}\n`,
      ),
  },
});
const totalMs = now() - t0;

const f = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
const steps = result.scenarios.flatMap((s) => s.steps);
const overhead: Record<Direction, number[]> = { slack_to_matrix: [], matrix_to_slack: [] };
const byKind = new Map<string, number[]>();
const handling: Record<Direction, number[]> = { slack_to_matrix: [], matrix_to_slack: [] };
const latency: Record<Direction, number[]> = { slack_to_matrix: [], matrix_to_slack: [] };
for (const s of steps) {
  const o = (s.details?.observeOverheadMs as number[] | undefined) ?? [];
  const h = (s.details?.observedSideHandlingMs as number[] | undefined) ?? [];
  s.latencies.forEach((l, i) => {
    latency[l.direction].push(l.latencyMs);
    if (o[i] === undefined) return;
    overhead[l.direction].push(o[i]);
    if (h[i] !== undefined) handling[l.direction].push(h[i]);
    const k = `${l.direction} ${l.kind}`;
    byKind.set(k, [...(byKind.get(k) ?? []), o[i]]);
  });
}

const setup = result.scenarios[0]?.setup.total;
console.log("");
console.log(
  `scenarios: ${result.scenarios.length} (${result.scenarios.filter((s) => s.outcome === "passed").length} passed)`,
);
console.log(
  `total time: ${(totalMs / 1000).toFixed(1)} s${setup ? ` (environment start ${(setup / 1000).toFixed(1)} s)` : ""}`,
);
for (const d of ["slack_to_matrix", "matrix_to_slack"] as Direction[]) {
  const lat = latency[d];
  const ov = overhead[d];
  if (!lat.length) continue;
  console.log(
    `${d.padEnd(16)} latency n=${lat.length} p50=${f(percentile(lat, 50))} p95=${f(percentile(lat, 95))} max=${f(Math.max(...lat))}` +
      ` | harness overhead p50=${f(percentile(ov, 50))} p95=${f(percentile(ov, 95))} max=${f(Math.max(...ov))}` +
      ` | end stamp -> recorded p95=${f(percentile(handling[d], 95))}`,
  );
}
for (const [k, v] of [...byKind].sort())
  console.log(`  overhead ${k.padEnd(30)} n=${v.length} max=${f(Math.max(...v))}`);
const all = [...overhead.slack_to_matrix, ...overhead.matrix_to_slack];
const p95 = percentile(all, 95);
console.log(
  `measurement overhead p95 (all samples): ${f(p95)} — target < 10 ms: ${p95 < 10 ? "met" : "NOT met"}`,
);
process.exit(result.outcome === "failed" ? 1 : 0);
