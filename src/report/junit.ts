// JUnit XML for CI: one <testsuite> per scenario, one <testcase> per step. Failures carry the error
// message and details; <system-out> lists the run folder and each service's log, with
// [[ATTACHMENT|path]] lines (the convention Jenkins' JUnit attachments plugin and GitLab read).
// Everything is redacted and XML-escaped.
import { expectedFailureLine, scenarioFaultLines } from "./faults.ts";
import { DIRECTIONS, directionLabel, formatMs } from "./latency.ts";
import type { RunResult, ScenarioResult, StepResult } from "./model.ts";
import { displayPath, scenarioLogs } from "./paths.ts";
import { detailText, redactDeep } from "./sanitize.ts";
import { xmlAttr, xmlEscape } from "./xml.ts";

const seconds = (ms: number) => (Number.isFinite(ms) ? Math.max(0, ms) / 1000 : 0).toFixed(3);

/** xs:dateTime without zone (the JUnit schema's form); the value is UTC. */
const timestamp = (ms: number) =>
  Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d+Z$/, "") : "";

function count(steps: StepResult[], outcome: StepResult["outcome"]): number {
  return steps.filter((s) => s.outcome === outcome).length;
}

/** Scenario-level failure with no failed step (e.g. the environment did not start): its own testcase. */
function needsScenarioCase(scenario: ScenarioResult): boolean {
  return scenario.outcome === "failed" && !scenario.steps.some((s) => s.outcome === "failed");
}

function logsText(scenario: ScenarioResult, cwd: string): string {
  const lines = [`Run folder (configs and logs): ${displayPath(scenario.runDir, cwd)}`];
  const logs = redactDeep(scenarioLogs(scenario));
  const services = Object.keys(logs);
  if (services.length > 0) {
    lines.push("Service logs:");
    for (const service of services) lines.push(`  ${service}: ${displayPath(logs[service], cwd)}`);
    for (const service of services) lines.push(`[[ATTACHMENT|${displayPath(logs[service], cwd)}]]`);
  }
  return lines.join("\n");
}

function stepDetails(step: StepResult): string {
  const lines: string[] = [];
  const known = expectedFailureLine(step);
  if (known) lines.push(known);
  if (step.error) lines.push(step.error);
  lines.push(
    `step: ${step.id} (${step.type})`,
    `title: ${step.title}`,
    `duration: ${formatMs(step.durationMs)}`,
  );
  for (const sample of step.latencies) {
    const over = sample.duringFault
      ? ` (during fault ${sample.duringFault}, not held to the budget)`
      : sample.latencyMs > sample.budgetMs
        ? " OVER BUDGET"
        : "";
    lines.push(
      `latency ${directionLabel(sample.direction, true)} ${sample.kind}: ${formatMs(sample.latencyMs)} (budget ${formatMs(sample.budgetMs)})${over}`,
    );
  }
  for (const key of Object.keys(step.details ?? {}).sort()) {
    lines.push(`${key}: ${detailText(step.details?.[key])}`);
  }
  return lines.join("\n");
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

function renderStep(step: StepResult, scenario: ScenarioResult, cwd: string, indent: string): string {
  const attrs = `name="${xmlAttr(`${step.id}: ${step.title}`)}" classname="${xmlAttr(scenario.name)}" time="${seconds(step.durationMs)}" file="${xmlAttr(scenario.file)}"`;
  const body: string[] = [];
  if (step.outcome === "failed") {
    const message = step.error ?? "step failed";
    body.push(
      `${indent}  <failure message="${xmlAttr(firstLine(message))}" type="${xmlAttr(step.type)}">${xmlEscape(stepDetails(step))}</failure>`,
    );
    body.push(`${indent}  <system-out>${xmlEscape(logsText(scenario, cwd))}</system-out>`);
  } else if (step.outcome === "skipped") {
    body.push(`${indent}  <skipped${step.error ? ` message="${xmlAttr(firstLine(step.error))}"` : ""}/>`);
  } else if (step.outcome === "expected_failure") {
    // JUnit has no expected failures: a skip with the reason keeps CI green and the problem visible.
    body.push(`${indent}  <skipped message="${xmlAttr(firstLine(expectedFailureLine(step) ?? ""))}"/>`);
    body.push(`${indent}  <system-out>${xmlEscape(stepDetails(step))}</system-out>`);
  } else if (step.latencies.length > 0 || step.expectedFailure) {
    body.push(`${indent}  <system-out>${xmlEscape(stepDetails(step))}</system-out>`);
  }
  if (body.length === 0) return `${indent}<testcase ${attrs}/>`;
  return `${indent}<testcase ${attrs}>\n${body.join("\n")}\n${indent}</testcase>`;
}

function renderScenario(scenario: ScenarioResult, cwd: string): string {
  const extra = needsScenarioCase(scenario) ? 1 : 0;
  const tests = scenario.steps.length + extra;
  const failures = count(scenario.steps, "failed") + extra;
  const skipped = count(scenario.steps, "skipped") + count(scenario.steps, "expected_failure");
  const out: string[] = [];
  out.push(
    `  <testsuite name="${xmlAttr(scenario.name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(scenario.durationMs)}" timestamp="${timestamp(scenario.startedAt)}" file="${xmlAttr(scenario.file)}">`,
  );
  out.push("    <properties>");
  const props: [string, string][] = [
    ["file", scenario.file],
    ["environment", scenario.environment],
    ["outcome", scenario.outcome],
    ["runDir", displayPath(scenario.runDir, cwd)],
  ];
  for (const phase of Object.keys(scenario.setup).sort()) {
    props.push([`setup.${phase}.ms`, String(Math.round(scenario.setup[phase]))]);
  }
  for (const [name, service] of Object.entries(scenario.services ?? {})) {
    props.push([`service.${name}.asked`, service.asked], [`service.${name}.ran`, service.ran]);
    if (service.version) props.push([`service.${name}.version`, service.version]);
  }
  for (const direction of DIRECTIONS) {
    const summary = scenario.latency.find((l) => l.direction === direction);
    if (!summary) continue;
    for (const key of ["count", "p50", "p95", "max", "budgetMs", "withinBudget"] as const) {
      props.push([`latency.${direction}.${key}`, String(summary[key])]);
    }
  }
  const a = scenario.availability;
  if (a) {
    props.push(["availability", String(a.availability)]);
    for (const d of a.directions)
      for (const key of ["sent", "withinBudget", "late", "lost", "duplicated"] as const)
        props.push([`availability.${d.direction}.${key}`, String(d[key])]);
    for (const r of a.recovery)
      props.push([
        `recovery.${r.stepId}.${r.direction}.ms`,
        r.recoveryMs === null ? "" : String(Math.round(r.recoveryMs)),
      ]);
  }
  for (const f of scenario.faults ?? []) {
    if (f.endAt !== undefined) props.push([`fault.${f.stepId}.ms`, String(Math.round(f.endAt - f.startAt))]);
    if (f.recoveredAt !== undefined && f.endAt !== undefined)
      props.push([`fault.${f.stepId}.healthyAfterMs`, String(Math.round(f.recoveredAt - f.endAt))]);
  }
  const logs = redactDeep(scenarioLogs(scenario));
  for (const service of Object.keys(logs)) {
    props.push([`log.${service}`, displayPath(logs[service], cwd)]);
  }
  for (const [name, value] of props) {
    out.push(`      <property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`);
  }
  out.push("    </properties>");
  if (extra) {
    const message = scenario.error ?? "scenario failed";
    out.push(
      `    <testcase name="${xmlAttr("(scenario)")}" classname="${xmlAttr(scenario.name)}" time="${seconds(scenario.durationMs)}" file="${xmlAttr(scenario.file)}">`,
      `      <failure message="${xmlAttr(firstLine(message))}" type="scenario">${xmlEscape(message)}</failure>`,
      `      <system-out>${xmlEscape(logsText(scenario, cwd))}</system-out>`,
      "    </testcase>",
    );
  }
  for (const step of scenario.steps) out.push(renderStep(step, scenario, cwd, "    "));
  const suiteOut = [
    ...(scenario.notes ?? []).map((n) => `Note: ${n}`),
    ...scenarioFaultLines(scenario, true),
    logsText(scenario, cwd),
  ];
  if (scenario.error) suiteOut.unshift(`Error: ${scenario.error}`);
  out.push(`    <system-out>${xmlEscape(suiteOut.join("\n"))}</system-out>`);
  out.push("  </testsuite>");
  return out.join("\n");
}

/** The JUnit XML text. Paths inside the working directory are written relative to it. */
export function renderJunit(result: RunResult, opts: { cwd?: string } = {}): string {
  const run = redactDeep(result);
  const cwd = opts.cwd ?? process.cwd();
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const s of run.scenarios) {
    const extra = needsScenarioCase(s) ? 1 : 0;
    tests += s.steps.length + extra;
    failures += count(s.steps, "failed") + extra;
    skipped += count(s.steps, "skipped") + count(s.steps, "expected_failure");
  }
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xmlAttr(`${run.tool.name} ${run.tool.version}`)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(run.durationMs)}" timestamp="${timestamp(run.startedAt)}">`,
    ...run.scenarios.map((s) => renderScenario(s, cwd)),
    "</testsuites>",
  ];
  return `${lines.join("\n")}\n`;
}
