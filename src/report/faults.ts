// Plain-text lines about faults, availability and expected failures, shared by the terminal,
// JUnit and Markdown reports (the HTML report draws the same facts on its timeline).
import { formatPercent, knownProblemOf } from "../faults/availability.ts";
import { directionLabel, formatMs } from "./latency.ts";
import type { AvailabilityResult, FaultWindow, ScenarioResult, StepResult } from "./model.ts";

/** "kill-bridge: kill the bridge (SIGKILL)…; on for 1.20 s, healthy again 3.40 s after". */
export function faultLine(f: FaultWindow): string {
  const lasted = f.endAt === undefined ? "did not end" : `on for ${formatMs(f.endAt - f.startAt)}`;
  const recovered =
    f.recoveredAt === undefined || f.endAt === undefined
      ? ""
      : `, healthy again ${formatMs(f.recoveredAt - f.endAt)} after`;
  return `${f.stepId}: ${f.title}; ${lasted}${recovered}`;
}

/** The availability summary: the share, then per direction what happened to the probes. */
export function availabilityLines(a: AvailabilityResult, ascii = false): string[] {
  const head = `availability ${formatPercent(a.availability)}${a.min === undefined ? "" : ` (min ${formatPercent(a.min)})`}, probes every ${formatMs(a.everyMs)} for ${formatMs(a.endAt - a.startAt)}`;
  const lines = [head];
  for (const d of a.directions)
    lines.push(
      `${directionLabel(d.direction, ascii)}: ${d.sent} sent, ${d.withinBudget} within ${formatMs(a.budgetMs[d.direction])}, ${d.late} late, ${d.lost} lost, ${d.duplicated} duplicated${d.knownProblem ? ` (${d.knownProblem} lost/duplicated during known problems)` : ""}`,
    );
  return lines;
}

/** Per fault: how long until a probe got through within budget again, each way. */
export function recoveryLines(a: AvailabilityResult, ascii = false): string[] {
  const byFault = new Map<string, string[]>();
  for (const r of a.recovery) {
    const fault = `${r.stepId} (${r.type} ${r.target})`;
    const text = `${directionLabel(r.direction, ascii)} ${r.recoveryMs === null ? "not within the probe window" : formatMs(r.recoveryMs)}`;
    byFault.set(fault, [...(byFault.get(fault) ?? []), text]);
  }
  return [...byFault].map(([fault, parts]) => `recovery after ${fault}: ${parts.join(", ")}`);
}

/**
 * "expected failure: <reason> (upstream: ...)", or that the known problem did not show this time —
 * or, given the scenario, that it showed only on availability probes in the fault's window.
 */
export function expectedFailureLine(step: StepResult, scenario?: ScenarioResult): string | undefined {
  const x = step.expectedFailure;
  if (!x) return undefined;
  if (x.occurred) return `expected failure: ${x.reason} (upstream: ${x.upstream})`;
  const hit = scenario ? probesHitBy(scenario, step.id) : 0;
  return hit
    ? `its own checks passed, but the known problem hit ${hit} availability probe(s) in its window: ${x.reason} (upstream: ${x.upstream})`
    : `passed although marked as an expected failure (the known problem did not show this time): ${x.reason}`;
}

/** How many lost or duplicated probes are put down to the known problem of this fault step. */
function probesHitBy(s: ScenarioResult, stepId: string): number {
  const faults = s.faults ?? [];
  return (s.availability?.probes ?? []).filter((p) => knownProblemOf(p, faults)?.fault.stepId === stepId)
    .length;
}

/** Everything above for one scenario, in the order the terminal and JUnit show it. */
export function scenarioFaultLines(s: ScenarioResult, ascii = false): string[] {
  const lines: string[] = [];
  for (const f of s.faults ?? []) lines.push(`fault ${faultLine(f)}`);
  for (const l of s.latencyDuringFaults ?? [])
    lines.push(
      `latency during faults ${directionLabel(l.direction, ascii)}: n=${l.count} p50 ${formatMs(l.p50)} p95 ${formatMs(l.p95)} max ${formatMs(l.max)} (not held to the budget)`,
    );
  if (s.availability)
    lines.push(...availabilityLines(s.availability, ascii), ...recoveryLines(s.availability, ascii));
  for (const step of s.steps) {
    const line = expectedFailureLine(step, s);
    if (line) lines.push(`${step.id}: ${line}`);
  }
  return lines;
}
