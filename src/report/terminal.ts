// Live terminal progress: a header per scenario, one line per step (outcome, duration, latencies),
// the error under a failed step, and a footer with the per-direction latency table and, on failure,
// the run folder and every service's log file. Colours and in-place "running" lines only on a TTY.

import { redact } from "../util/redact.ts";
import { expectedFailureLine, scenarioFaultLines } from "./faults.ts";
import { DIRECTIONS, directionLabel, formatMs, summarizeLatencies } from "./latency.ts";
import {
  bridgeLogLines,
  describeService,
  type LatencySample,
  type LatencySummary,
  type RunResult,
  type ScenarioResult,
  type StepResult,
} from "./model.ts";
import { displayPath, scenarioLogs } from "./paths.ts";

export interface ProgressPrinterOptions {
  /** ANSI colours; default: `out.isTTY`, overridden by NO_COLOR (off) or FORCE_COLOR (on, unless "0"). */
  color?: boolean;
  /** Show a "running" line for the current step and rewrite it in place; default: `out.isTTY`. */
  live?: boolean;
  /** Base for the paths shown (paths inside it are shown relative); default: process.cwd(). */
  cwd?: string;
}

export interface StepStart {
  id: string;
  type?: string;
  title?: string;
}

export interface ProgressPrinter {
  scenarioStarted(name: string, file: string): void;
  setupPhase(name: string, ms: number): void;
  stepStarted(step: StepStart): void;
  stepFinished(step: StepResult): void;
  scenarioFinished(result: ScenarioResult): void;
  /** A free-form progress line (e.g. environment start-up); clears the in-place line first. */
  line(text: string): void;
  /** Optional closing lines for a whole run: totals and where the reports are. */
  runFinished(result: RunResult, reports?: Record<string, string | undefined>): void;
}

const CODES = {
  reset: "\u001b[0m",
  bold: "\u001b[1m",
  dim: "\u001b[2m",
  red: "\u001b[31m",
  green: "\u001b[32m",
  yellow: "\u001b[33m",
  cyan: "\u001b[36m",
};
type Style = keyof typeof CODES;

const SYMBOL = { passed: "✓", failed: "✗", skipped: "○", expected_failure: "⚠" } as const;
const STEP_COLOR = { passed: "green", failed: "red", skipped: "yellow", expected_failure: "yellow" } as const;

function pad(text: string, width: number): string {
  const len = [...text].length;
  return len >= width ? text : text + " ".repeat(width - len);
}

function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join("")}…`;
}

function defaultColor(isTTY: boolean): boolean {
  if (process.env.NO_COLOR) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return isTTY;
}

export function createProgressPrinter(
  out: NodeJS.WritableStream,
  opts: ProgressPrinterOptions = {},
): ProgressPrinter {
  const isTTY = Boolean((out as { isTTY?: boolean }).isTTY);
  const color = opts.color ?? defaultColor(isTTY);
  const live = opts.live ?? isTTY;
  const cwd = opts.cwd ?? process.cwd();
  const paint = (style: Style, text: string) => (color ? `${CODES[style]}${text}${CODES.reset}` : text);
  const write = (text: string) => out.write(redact(text));
  let liveLine = false;
  let setupPhases: string[] = [];
  let setupTotal: number | undefined;

  const clearLive = () => {
    if (liveLine) {
      out.write("\r\u001b[2K");
      liveLine = false;
    }
  };
  const flushSetup = () => {
    if (setupPhases.length === 0 && setupTotal === undefined) return;
    clearLive();
    const head = setupTotal === undefined ? "setup" : `setup ${formatMs(setupTotal)}`;
    write(`  ${paint("dim", head)}  ${setupPhases.join(paint("dim", " · "))}\n`);
    setupPhases = [];
    setupTotal = undefined;
  };

  /** One entry per direction: "Slack → Matrix message 413 ms" or "Slack → Matrix 12× message p50 479 ms max 1.38 s". */
  const latencyText = (samples: LatencySample[]) => {
    const parts: string[] = [];
    for (const direction of DIRECTIONS) {
      const mine = samples.filter((s) => s.direction === direction);
      if (mine.length === 0) continue;
      const kinds = [...new Set(mine.map((s) => s.kind))].join("/");
      const over = mine.filter((s) => s.latencyMs > s.budgetMs && !s.duringFault);
      const duringFault = mine.filter((s) => s.duringFault).length;
      let text: string;
      if (mine.length === 1) text = `${directionLabel(direction)} ${kinds} ${formatMs(mine[0].latencyMs)}`;
      else {
        const [summary] = summarizeLatencies(mine);
        text = `${directionLabel(direction)} ${mine.length}× ${kinds} p50 ${formatMs(summary.p50)} max ${formatMs(summary.max)}`;
      }
      if (duringFault) text += ` (${duringFault} during the fault)`;
      if (over.length > 0) text += ` > budget ${formatMs(Math.min(...over.map((s) => s.budgetMs)))}`;
      parts.push(paint(over.length > 0 ? "red" : "cyan", text));
    }
    return parts.join(paint("dim", " · "));
  };

  const table = (summaries: LatencySummary[]) => {
    const rows = [["latency", "n", "p50", "p95", "max", "budget", ""]];
    for (const direction of DIRECTIONS) {
      const s = summaries.find((x) => x.direction === direction);
      if (!s) continue;
      rows.push([
        directionLabel(direction),
        String(s.count),
        formatMs(s.p50),
        formatMs(s.p95),
        formatMs(s.max),
        formatMs(s.budgetMs),
        s.withinBudget ? "within budget" : "OVER BUDGET",
      ]);
    }
    if (rows.length === 1) return;
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
    rows.forEach((row, r) => {
      const cells = row.map((cell, i) =>
        i === 0 || i === row.length - 1 ? pad(cell, widths[i]) : cell.padStart(widths[i]),
      );
      let line = cells.join("  ").trimEnd();
      if (r === 0) line = paint("dim", line);
      else if (row[6] === "OVER BUDGET") line = line.replace("OVER BUDGET", paint("red", "OVER BUDGET"));
      else line = line.replace("within budget", paint("green", "within budget"));
      write(`  ${line}\n`);
    });
  };

  return {
    scenarioStarted(name, file) {
      // Setup phases reported before the header (the environment starts first) follow it.
      clearLive();
      write(`\n${paint("bold", `▶ ${name}`)}  ${paint("dim", `(${file})`)}\n`);
    },
    setupPhase(name, ms) {
      // The environment reports its overall start-up time as the phase "total".
      if (name === "total") setupTotal = ms;
      else setupPhases.push(`${name} ${formatMs(ms)}`);
      if (live) {
        clearLive();
        write(paint("dim", `  setup  ${setupPhases.join(" · ")} …`));
        liveLine = true;
      }
    },
    stepStarted(step) {
      flushSetup();
      if (!live) return;
      clearLive();
      write(paint("dim", `  … ${step.id}  ${truncate(step.title ?? step.type ?? "", 60)}`));
      liveLine = true;
    },
    stepFinished(step) {
      flushSetup();
      clearLive();
      const mark = paint(STEP_COLOR[step.outcome], SYMBOL[step.outcome]);
      const head = `${pad(truncate(step.id, 18), 18)} ${pad(truncate(step.title, 52), 52)}`;
      const parts = [`  ${mark} ${step.outcome === "failed" ? paint("red", head) : head}`];
      const duration = step.outcome === "skipped" && !step.durationMs ? "skipped" : formatMs(step.durationMs);
      parts.push(paint("dim", duration.padStart(9)));
      if (step.latencies.length > 0) parts.push(` ${latencyText(step.latencies)}`);
      write(`${parts.join(" ")}\n`);
      const known = expectedFailureLine(step);
      if (known) write(`      ${paint("yellow", known)}\n`);
      if ((step.outcome === "failed" || step.outcome === "expected_failure") && step.error) {
        const style = step.outcome === "failed" ? "red" : "yellow";
        for (const line of step.error.split("\n")) write(`      ${paint(style, line)}\n`);
        for (const line of bridgeLogLines(step)) write(`      ${paint("dim", line)}\n`);
      }
    },
    scenarioFinished(result) {
      flushSetup();
      clearLive();
      const passed = result.steps.filter((s) => s.outcome === "passed").length;
      const failed = result.steps.filter((s) => s.outcome === "failed").length;
      const skipped = result.steps.filter((s) => s.outcome === "skipped").length;
      const expected = result.steps.filter((s) => s.outcome === "expected_failure").length;
      const counts = [
        `${passed} passed`,
        failed ? paint("red", `${failed} failed`) : "",
        expected ? paint("yellow", `${expected} expected failure(s)`) : "",
        skipped ? `${skipped} skipped` : "",
      ]
        .filter(Boolean)
        .join(", ");
      const mark = paint(
        STEP_COLOR[result.outcome],
        `${SYMBOL[result.outcome]} ${result.name} ${result.outcome}`,
      );
      write(`${mark} in ${formatMs(result.durationMs)} — ${counts}\n`);
      for (const [name, service] of Object.entries(result.services ?? {}))
        write(`  ${paint("dim", pad(name, 10))} ${describeService(service)}\n`);
      if (
        result.outcome === "failed" &&
        result.error &&
        !result.steps.some((s) => s.error === result.error)
      ) {
        for (const line of result.error.split("\n")) write(`  ${paint("red", line)}\n`);
      }
      const summaries =
        result.latency.length > 0
          ? result.latency
          : summarizeLatencies(result.steps.flatMap((s) => s.latencies));
      table(summaries);
      for (const note of result.notes ?? []) write(`  ${paint("dim", `note: ${note}`)}\n`);
      for (const line of scenarioFaultLines(result)) write(`  ${line}\n`);
      if (result.outcome === "failed" && result.runDir) {
        write(`  ${paint("bold", "Run folder:")} ${displayPath(result.runDir, cwd)}\n`);
        const logs = scenarioLogs(result);
        const services = Object.keys(logs);
        if (services.length > 0) {
          write(`  ${paint("bold", "Logs:")}\n`);
          const width = Math.max(...services.map((s) => s.length));
          for (const service of services)
            write(`    ${pad(service, width)}  ${displayPath(logs[service], cwd)}\n`);
        }
      }
    },
    line(text) {
      clearLive();
      write(`  ${paint("dim", "·")} ${text}\n`);
    },
    runFinished(result, reports) {
      clearLive();
      const by = (o: string) => result.scenarios.filter((s) => s.outcome === o).length;
      const line = `${result.scenarios.length} scenario(s): ${by("passed")} passed, ${by("failed")} failed, ${by("skipped")} skipped in ${formatMs(result.durationMs)}`;
      write(`\n${paint(result.outcome === "failed" ? "red" : "green", paint("bold", line))}\n`);
      for (const [format, path] of Object.entries(reports ?? {})) {
        if (path) write(`  ${pad(`${format} report:`, 13)} ${displayPath(path, cwd)}\n`);
      }
    },
  };
}
