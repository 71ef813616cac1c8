// JSON report: the RunResult itself, redacted, pretty-printed, keys in a fixed order (the order of
// docs/report-format.md; fields added later come after the known ones, alphabetically; keys inside
// free-form `details`, `setup` and `logs` are sorted), so two runs diff cleanly.
import type { RunResult } from "./model.ts";
import { redactDeep } from "./sanitize.ts";

const RUN_KEYS = ["version", "tool", "outcome", "startedAt", "durationMs", "scenarios"];
const TOOL_KEYS = ["name", "version"];
const SCENARIO_KEYS = [
  "name",
  "file",
  "environment",
  "outcome",
  "startedAt",
  "durationMs",
  "error",
  "setup",
  "services",
  "steps",
  "latency",
  "runDir",
  "logs",
  "notes",
  "latencyDuringFaults",
  "faults",
  "availability",
];
const STEP_KEYS = [
  "id",
  "type",
  "title",
  "outcome",
  "startedAt",
  "durationMs",
  "error",
  "expectedFailure",
  "latencies",
  "details",
];
const SAMPLE_KEYS = [
  "stepId",
  "direction",
  "kind",
  "startAt",
  "endAt",
  "latencyMs",
  "budgetMs",
  "duringFault",
];
const FAULT_KEYS = [
  "stepId",
  "type",
  "target",
  "title",
  "startAt",
  "endAt",
  "recoveredAt",
  "knownProblem",
  "mayCause",
];
const AVAILABILITY_KEYS = [
  "stepId",
  "everyMs",
  "budgetMs",
  "startAt",
  "endAt",
  "availability",
  "min",
  "directions",
  "recovery",
  "probes",
];
const PROBE_DIRECTION_KEYS = [
  "direction",
  "sent",
  "withinBudget",
  "late",
  "lost",
  "duplicated",
  "knownProblem",
];
const RECOVERY_KEYS = ["stepId", "type", "target", "direction", "recoveryMs"];
const PROBE_KEYS = ["direction", "n", "sentAt", "deliveredAt", "arrivals"];
const SUMMARY_KEYS = ["direction", "count", "p50", "p95", "max", "budgetMs", "withinBudget"];

type Shape = { keys: readonly string[]; children?: Record<string, Shape | "sorted" | Shape[]> };

const SAMPLE: Shape = { keys: SAMPLE_KEYS };
const STEP: Shape = {
  keys: STEP_KEYS,
  children: {
    expectedFailure: { keys: ["reason", "upstream", "occurred"] },
    latencies: [SAMPLE],
    details: "sorted",
  },
};
const AVAILABILITY: Shape = {
  keys: AVAILABILITY_KEYS,
  children: {
    budgetMs: "sorted",
    directions: [{ keys: PROBE_DIRECTION_KEYS }],
    recovery: [{ keys: RECOVERY_KEYS }],
    probes: [{ keys: PROBE_KEYS }],
  },
};
const SCENARIO: Shape = {
  keys: SCENARIO_KEYS,
  children: {
    setup: "sorted",
    steps: [STEP],
    latency: [{ keys: SUMMARY_KEYS }],
    logs: "sorted",
    latencyDuringFaults: [{ keys: SUMMARY_KEYS }],
    faults: [{ keys: FAULT_KEYS }],
    availability: AVAILABILITY,
  },
};
const RUN: Shape = { keys: RUN_KEYS, children: { tool: { keys: TOOL_KEYS }, scenarios: [SCENARIO] } };

function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedDeep((value as Record<string, unknown>)[key]);
  return out;
}

function ordered(value: unknown, shape: Shape | "sorted" | Shape[]): unknown {
  if (shape === "sorted") return sortedDeep(value);
  if (Array.isArray(shape)) return Array.isArray(value) ? value.map((v) => ordered(v, shape[0])) : value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const extra = Object.keys(obj)
    .filter((k) => !shape.keys.includes(k))
    .sort();
  for (const key of [...shape.keys, ...extra]) {
    if (!(key in obj) || obj[key] === undefined) continue;
    const child = shape.children?.[key];
    out[key] = child ? ordered(obj[key], child) : shape.keys.includes(key) ? obj[key] : sortedDeep(obj[key]);
  }
  return out;
}

/** The JSON report text (ends with a newline). Non-finite numbers become null. */
export function renderJson(result: RunResult): string {
  return `${JSON.stringify(ordered(redactDeep(result), RUN), jsonReplacer, 2)}\n`;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}
