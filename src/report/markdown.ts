// Markdown summary of a run (`summary.md`): one table row per scenario and the failed steps, short
// enough for a CI job summary or a pull request comment.
import { scenarioFaultLines } from "./faults.ts";
import { directionLabel, formatMs } from "./latency.ts";
import type { RunResult } from "./model.ts";
import { redactDeep } from "./sanitize.ts";

const ICON = { passed: "✅", failed: "❌", skipped: "⏭️" } as const;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

export function renderMarkdown(input: RunResult): string {
  const result = redactDeep(input);
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const s of result.scenarios) counts[s.outcome]++;
  const out = [
    `### bridge-harness scenarios: ${result.outcome}`,
    "",
    `${result.scenarios.length} scenario(s): ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${formatMs(result.durationMs)}.`,
    "",
    "| | scenario | duration | latency p50 / p95 / max |",
    "|---|---|---|---|",
  ];
  for (const s of result.scenarios) {
    const latency = s.latency
      .map(
        (l) =>
          `${directionLabel(l.direction)} ${formatMs(l.p50)} / ${formatMs(l.p95)} / ${formatMs(l.max)}${l.withinBudget ? "" : " (over budget)"}`,
      )
      .join("<br>");
    out.push(`| ${ICON[s.outcome]} | ${cell(s.name)} | ${formatMs(s.durationMs)} | ${latency || "–"} |`);
  }
  const withFaults = result.scenarios.filter((s) => scenarioFaultLines(s).length);
  if (withFaults.length) out.push("", "**Faults, availability and known problems**", "");
  for (const s of withFaults)
    for (const line of scenarioFaultLines(s)) out.push(`- ${cell(s.name)}: ${cell(line)}`);
  const failed = result.scenarios.filter((s) => s.outcome === "failed");
  if (failed.length) out.push("", "**Failures**", "");
  for (const s of failed) {
    const steps = s.steps.filter((st) => st.outcome === "failed");
    if (!steps.length) out.push(`- ${cell(s.name)}: ${cell(s.error ?? "failed")}`);
    for (const st of steps)
      out.push(`- ${cell(s.name)}, step \`${st.id}\` (${cell(st.title)}): ${cell(st.error ?? "")}`);
  }
  return `${out.join("\n")}\n`;
}
