// HTML report: one self-contained file (inline CSS and SVG, no scripts, no external assets; a
// Content-Security-Policy forbids any network request). Failures first, then per scenario a timeline
// of setup and steps, latency charts per direction against the budget, a step table and links to
// every service log (relative to the report, so they open when the file is viewed locally).
import { basename } from "node:path";
import { formatPercent } from "../faults/availability.ts";
import { expectedFailureLine, faultLine } from "./faults.ts";
import { DIRECTIONS, directionLabel, formatMs, summarizeLatencies } from "./latency.ts";
import {
  type Direction,
  describeService,
  type FaultWindow,
  type LatencySample,
  type LatencySummary,
  type RunResult,
  type ScenarioResult,
  type StepResult,
} from "./model.ts";
import { displayPath, relativeHref, scenarioLogs } from "./paths.ts";
import { detailText, redactDeep } from "./sanitize.ts";

export interface HtmlOptions {
  /** Folder the report is written to: log links are relative to it. */
  dir: string;
  /** Base for the paths shown as text; default: process.cwd(). */
  cwd?: string;
  /** Time of generation shown in the footer; default: now. */
  generatedAt?: number;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
const h = escapeHtml;

const OUTCOME_LABEL = { passed: "PASSED", failed: "FAILED", skipped: "SKIPPED" } as const;

function isoUtc(ms: number): string {
  return Number.isFinite(ms)
    ? `${new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "")} UTC`
    : "–";
}

const MARK: Record<StepResult["outcome"], string> = {
  passed: "✓",
  failed: "✗",
  skipped: "○",
  expected_failure: "⚠",
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function badge(outcome: string): string {
  return `<span class="badge ${h(outcome)}">${h(OUTCOME_LABEL[outcome as keyof typeof OUTCOME_LABEL] ?? outcome)}</span>`;
}

function anchor(prefix: string, ...parts: (string | number)[]): string {
  return `${prefix}-${parts.map((p) => String(p).replace(/[^A-Za-z0-9_-]+/g, "_")).join("-")}`;
}

function counts(steps: StepResult[]): Record<StepResult["outcome"], number> {
  const c = { passed: 0, failed: 0, skipped: 0, expected_failure: 0 };
  for (const s of steps) c[s.outcome]++;
  return c;
}

function summariesOf(scenario: ScenarioResult): LatencySummary[] {
  return scenario.latency.length > 0
    ? scenario.latency
    : summarizeLatencies(scenario.steps.flatMap((s) => s.latencies).filter((x) => !x.duringFault));
}

/** Tick spacing (ms) giving at most ~8 ticks over `span`. */
function tickStep(span: number, target = 8): number {
  const steps = [
    1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000,
  ];
  for (const step of steps) if (span / step <= target) return step;
  return Math.ceil(span / target / 60_000) * 60_000;
}

function tickLabel(ms: number, step: number): string {
  if (step >= 60_000) return `${Math.round(ms / 60_000)} m`;
  if (step >= 1000) return `${Math.round(ms / 1000)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(step >= 100 ? 1 : 2)} s`;
  return `${Math.round(ms)} ms`;
}

/** SVG coordinate: one decimal; non-finite values (missing timestamps) become 0 rather than "NaN". */
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : 0).toString();

// ---------------------------------------------------------------- timeline

const TL = { LABEL: 190, WIDTH: 1000, RIGHT: 70, ROW: 24, TOP: 8 };

/** Setup phases (without "total") and the total: the "total" entry when present, else the sum. */
/** Per service: the image asked for, the image that ran and the version it reported. */
function servicesList(scenario: ScenarioResult): string {
  const rows = Object.entries(scenario.services ?? {}).map(
    ([name, s]) => `<li><b>${h(name)}</b> <code>${h(describeService(s))}</code></li>`,
  );
  return rows.length ? `<ul class="services small">${rows.join("")}</ul>` : "";
}

function setupOf(scenario: ScenarioResult): { phases: [string, number][]; total: number } {
  const phases = Object.entries(scenario.setup).filter(([name]) => name !== "total");
  const total = scenario.setup.total ?? phases.reduce((a, [, ms]) => a + ms, 0);
  return { phases, total };
}

/**
 * The environment's start-up phases, one row each with a bar as long as the phase took, on the scale
 * of the whole start-up (phases may overlap: the environment starts some in parallel).
 */
function setupSvg(scenario: ScenarioResult, sIndex: number): string {
  const { phases, total } = setupOf(scenario);
  if (phases.length === 0) return "";
  const scale = Math.max(1, total, ...phases.map(([, ms]) => ms));
  const plot = TL.WIDTH - TL.LABEL - TL.RIGHT;
  const ROW = 18;
  const height = 8 + phases.length * ROW + 6;
  const out: string[] = [
    `<svg class="setup" data-scenario="${sIndex}" viewBox="0 0 ${TL.WIDTH} ${height}" width="100%" role="img" aria-label="Environment start-up phases">`,
  ];
  phases.forEach(([name, ms], i) => {
    const y = 6 + i * ROW;
    const w = Math.max(1, (ms / scale) * plot);
    out.push(
      `<text class="rowlabel setup" x="${TL.LABEL - 10}" y="${y + 12}" text-anchor="end">${h(name)}</text>`,
      `<rect class="tl-setup" x="${TL.LABEL}" y="${y + 3}" width="${fmt(w)}" height="11" rx="2"><title>${h(`${name}: ${formatMs(ms)}`)}</title></rect>`,
      `<text class="dur" x="${fmt(TL.LABEL + w + 6)}" y="${y + 12}">${h(formatMs(ms))}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("");
}

/** One row per step: a bar from its start for its duration, on the steps' own time range. */
function timelineSvg(scenario: ScenarioResult, sIndex: number): string {
  if (scenario.steps.length === 0) return "";
  const { LABEL, WIDTH, RIGHT, ROW, TOP } = TL;
  const plot = WIDTH - LABEL - RIGHT;
  const start = scenario.startedAt;
  // Offsets from the scenario start (what the step table's Start column shows).
  const placed = scenario.steps.filter(
    (s) => Number.isFinite(s.startedAt - start) && Number.isFinite(s.durationMs),
  );
  const from = placed.length ? Math.min(...placed.map((s) => s.startedAt - start)) : 0;
  const to = placed.length
    ? Math.max(...placed.map((s) => s.startedAt - start + Math.max(0, s.durationMs)))
    : 1;
  const span = Math.max(1, to - from);
  const x = (ms: number) => LABEL + ((ms - from) / span) * plot;
  const probes = scenario.availability?.probes ?? [];
  const rows = scenario.steps.length + (probes.length ? 1 : 0);
  const axisY = TOP + rows * ROW + 4;
  const height = axisY + 24;
  const step = tickStep(span);
  const out: string[] = [];
  out.push(
    `<svg class="timeline" data-scenario="${sIndex}" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Timeline of ${h(scenario.name)}">`,
  );
  const clampX = (ms: number) => Math.min(LABEL + plot, Math.max(LABEL, x(ms)));
  // Fault windows behind everything: the fault itself, then the wait until the deployment was healthy.
  for (const f of scenario.faults ?? []) {
    const x0 = clampX(f.startAt - start);
    const x1 = clampX((f.endAt ?? to + start) - start);
    const x2 = f.recoveredAt === undefined ? x1 : clampX(f.recoveredAt - start);
    const tip = faultLine(f);
    out.push(
      `<rect class="tl-fault" x="${fmt(x0)}" y="${TOP - 4}" width="${fmt(Math.max(2, x1 - x0))}" height="${axisY - TOP + 4}"><title>${h(tip)}</title></rect>`,
      x2 > x1
        ? `<rect class="tl-recovery" x="${fmt(x1)}" y="${TOP - 4}" width="${fmt(x2 - x1)}" height="${axisY - TOP + 4}"><title>${h(tip)}</title></rect>`
        : "",
    );
  }
  for (let t = Math.ceil(from / step) * step; t <= to + 1e-6; t += step) {
    out.push(
      `<line class="grid" x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${TOP - 4}" y2="${axisY}"/>`,
      `<text class="tick" x="${fmt(x(t))}" y="${axisY + 16}" text-anchor="middle">+${h(tickLabel(t, step))}</text>`,
    );
  }
  out.push(`<line class="axis" x1="${LABEL}" x2="${LABEL + plot}" y1="${axisY}" y2="${axisY}"/>`);
  scenario.steps.forEach((s, i) => {
    const y = TOP + i * ROW;
    if (!placed.includes(s)) {
      out.push(
        `<text class="rowlabel ${s.outcome}" x="${LABEL - 10}" y="${y + 16}" text-anchor="end">${h(s.id.length > 24 ? `${s.id.slice(0, 11)}…${s.id.slice(-12)}` : s.id)}</text>`,
        `<text class="dur" x="${LABEL + 6}" y="${y + 16}">no start time recorded</text>`,
      );
      return;
    }
    const x0 = x(s.startedAt - start);
    const w = Math.max(2, x(s.startedAt - start + Math.max(0, s.durationMs)) - x0);
    const label = s.id.length > 24 ? `${s.id.slice(0, 11)}…${s.id.slice(-12)}` : s.id;
    const tip = `${s.id} (${s.type}) — ${s.title}\n${s.outcome}, ${formatMs(s.durationMs)} from +${formatMs(s.startedAt - start)}${s.error ? `\n${s.error.split("\n")[0]}` : ""}`;
    out.push(
      `<a href="#${anchor("step", sIndex, i)}"><text class="rowlabel ${s.outcome}" x="${LABEL - 10}" y="${y + 16}" text-anchor="end">${h(label)}<title>${h(s.id)}</title></text>`,
      `<rect class="tl-step ${s.outcome}" data-step="${h(s.id)}" x="${fmt(x0)}" y="${y + 5}" width="${fmt(w)}" height="14" rx="2"><title>${h(tip)}</title></rect>`,
    );
    for (const sample of s.latencies) {
      const mx = Math.min(LABEL + plot, Math.max(LABEL, x(sample.endAt - start)));
      out.push(
        `<line class="tl-mark ${sample.direction}${sample.latencyMs > sample.budgetMs && !sample.duringFault ? " over" : ""}" x1="${fmt(mx)}" x2="${fmt(mx)}" y1="${y + 3}" y2="${y + 21}"/>`,
      );
    }
    const durText = s.outcome === "skipped" && !s.durationMs ? "skipped" : formatMs(s.durationMs);
    const right = x0 + w + 6 + durText.length * 6.2 > WIDTH;
    out.push(
      `<text class="dur ${s.outcome}${right ? " inside" : ""}" x="${fmt(right ? x0 - 6 : x0 + w + 6)}" y="${y + 16}"${right ? ' text-anchor="end"' : ""}>${h(durText)}</text></a>`,
    );
  });
  if (probes.length && scenario.availability) {
    // One mark per probe at the time it was sent: within budget, late, or lost.
    const y = TOP + scenario.steps.length * ROW;
    const budget = scenario.availability.budgetMs;
    out.push(`<text class="rowlabel" x="${LABEL - 10}" y="${y + 16}" text-anchor="end">probes</text>`);
    for (const p of probes) {
      const state =
        p.deliveredAt === undefined
          ? "lost"
          : p.deliveredAt - p.sentAt <= budget[p.direction]
            ? "ok"
            : "late";
      const px = clampX(p.sentAt - start);
      const y0 = p.direction === "slack_to_matrix" ? y + 4 : y + 13;
      const tip = `${directionLabel(p.direction)} probe ${p.n}: ${p.deliveredAt === undefined ? "lost" : formatMs(p.deliveredAt - p.sentAt)}${p.arrivals > 1 ? `, arrived ${p.arrivals} times` : ""}`;
      out.push(
        `<rect class="tl-probe ${state}" x="${fmt(px - 1)}" y="${y0}" width="3" height="8"><title>${h(tip)}</title></rect>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("");
}

// ---------------------------------------------------------------- latency charts

function latencyChart(
  scenario: ScenarioResult,
  sIndex: number,
  direction: Direction,
  summary: LatencySummary,
): string {
  const samples = scenario.steps
    .flatMap((s) => s.latencies)
    .filter((l) => l.direction === direction && !l.duringFault)
    .sort((a, b) => a.startAt - b.startAt);
  const W = 520;
  const H = 250;
  const L = 56;
  const R = 96;
  const T = 16;
  const B = 34;
  const plotW = W - L - R;
  const plotH = H - T - B;
  const top = Math.max(summary.budgetMs, summary.max) * 1.1 || 1;
  const y = (ms: number) => T + plotH - (Math.max(0, ms) / top) * plotH;
  const n = samples.length;
  const slot = plotW / Math.max(1, n);
  const x = (i: number) => L + slot * (i + 0.5);
  const out: string[] = [];
  out.push(
    `<svg class="latency-chart" data-scenario="${sIndex}" data-direction="${direction}" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${h(`${directionLabel(direction)} latencies`)}">`,
  );
  const step = tickStep(top, 5);
  for (let v = 0; v <= top; v += step) {
    out.push(
      `<line class="grid" x1="${L}" x2="${L + plotW}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"/>`,
      `<text class="tick" x="${L - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${h(tickLabel(v, step))}</text>`,
    );
  }
  out.push(
    `<line class="axis" x1="${L}" x2="${L + plotW}" y1="${T + plotH}" y2="${T + plotH}"/>`,
    `<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + plotH}"/>`,
    `<text class="tick" x="${L + plotW / 2}" y="${H - 6}" text-anchor="middle">${h(`${plural(n, "sample")} in order sent`)}</text>`,
  );
  // Step boundaries: a faint band per step so bursts read as groups.
  let prev = "";
  samples.forEach((sample, i) => {
    if (sample.stepId !== prev && i > 0) {
      out.push(
        `<line class="stepsep" x1="${fmt(L + slot * i)}" x2="${fmt(L + slot * i)}" y1="${T}" y2="${T + plotH}"/>`,
      );
    }
    prev = sample.stepId;
  });
  const barW = Math.max(1, Math.min(10, slot * 0.35));
  samples.forEach((sample, i) => {
    const over = sample.latencyMs > sample.budgetMs;
    out.push(
      `<rect class="stem ${direction}${over ? " over" : ""}" x="${fmt(x(i) - barW / 2)}" y="${fmt(y(sample.latencyMs))}" width="${fmt(barW)}" height="${fmt(T + plotH - y(sample.latencyMs))}"/>`,
      `<circle class="pt ${direction}${over ? " over" : ""}" cx="${fmt(x(i))}" cy="${fmt(y(sample.latencyMs))}" r="${over ? 5 : 3.5}"><title>${h(`${sample.stepId} · ${sample.kind} · ${formatMs(sample.latencyMs)} (budget ${formatMs(sample.budgetMs)})`)}</title></circle>`,
    );
  });
  // Reference lines, labelled on the right; labels nudged apart when values are close.
  const lines: { cls: string; value: number; label: string }[] = [
    { cls: "budget", value: summary.budgetMs, label: `budget ${formatMs(summary.budgetMs)}` },
    { cls: "max", value: summary.max, label: `max ${formatMs(summary.max)}` },
    { cls: "p95", value: summary.p95, label: `p95 ${formatMs(summary.p95)}` },
    { cls: "p50", value: summary.p50, label: `p50 ${formatMs(summary.p50)}` },
  ];
  let lastY = -Infinity;
  for (const line of lines.sort((a, b) => b.value - a.value)) {
    const ly = y(line.value);
    const labelY = Math.max(ly + 4, lastY + 13);
    lastY = labelY;
    out.push(
      `<line class="ref ${line.cls}" x1="${L}" x2="${L + plotW}" y1="${fmt(ly)}" y2="${fmt(ly)}"/>`,
      `<text class="reflabel ${line.cls}" x="${L + plotW + 6}" y="${fmt(labelY)}">${h(line.label)}</text>`,
    );
  }
  out.push("</svg>");
  return out.join("");
}

function latencySection(scenario: ScenarioResult, sIndex: number): string {
  const summaries = summariesOf(scenario);
  if (summaries.length === 0) return `<p class="muted">No latency was measured in this scenario.</p>`;
  const cards = DIRECTIONS.map((direction) => {
    const s = summaries.find((x) => x.direction === direction);
    if (!s) return "";
    return `<figure class="chart ${s.withinBudget ? "ok" : "bad"}"><figcaption><span class="dir ${direction}">${h(directionLabel(direction))}</span><span class="stats">p50 <b>${h(formatMs(s.p50))}</b> · p95 <b>${h(formatMs(s.p95))}</b> · max <b>${h(formatMs(s.max))}</b></span>${s.withinBudget ? `<span class="pill ok">within budget</span>` : `<span class="pill bad">over budget</span>`}</figcaption>${latencyChart(scenario, sIndex, direction, s)}</figure>`;
  }).join("");
  const rows = DIRECTIONS.map((direction) => {
    const s = summaries.find((x) => x.direction === direction);
    if (!s) return "";
    return `<tr class="${s.withinBudget ? "" : "failed"}"><td><span class="dir ${direction}">${h(directionLabel(direction))}</span></td><td class="num">${s.count}</td><td class="num">${h(formatMs(s.p50))}</td><td class="num">${h(formatMs(s.p95))}</td><td class="num">${h(formatMs(s.max))}</td><td class="num">${h(formatMs(s.budgetMs))}</td><td>${s.withinBudget ? `<span class="pill ok">within budget</span>` : `<span class="pill bad">over budget</span>`}</td></tr>`;
  }).join("");
  return `<div class="charts">${cards}</div><table class="summary"><thead><tr><th>Direction</th><th class="num">Samples</th><th class="num">p50</th><th class="num">p95</th><th class="num">max</th><th class="num">Budget</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

// ---------------------------------------------------------------- tables and links

function latencyCell(samples: LatencySample[]): string {
  if (samples.length === 0) return "";
  return DIRECTIONS.map((direction) => {
    const mine = samples.filter((s) => s.direction === direction);
    if (mine.length === 0) return "";
    const over = mine.some((s) => s.latencyMs > s.budgetMs && !s.duringFault);
    const duringFault = mine.filter((s) => s.duringFault).length;
    const kinds = `${[...new Set(mine.map((s) => s.kind))].join("/")}${duringFault ? ` (${duringFault} during the fault)` : ""}`;
    const value =
      mine.length === 1
        ? formatMs(mine[0].latencyMs)
        : `${mine.length}× p50 ${formatMs(summarizeLatencies(mine)[0].p50)}, max ${formatMs(Math.max(...mine.map((s) => s.latencyMs)))}`;
    return `<div class="lat${over ? " over" : ""}"><span class="dir ${direction}">${h(directionLabel(direction))}</span> ${h(kinds)} <b>${h(value)}</b></div>`;
  }).join("");
}

function detailsCell(details: Record<string, unknown> | undefined): string {
  const keys = Object.keys(details ?? {}).sort();
  if (keys.length === 0) return "";
  return `<dl class="details">${keys.map((k) => `<dt>${h(k)}</dt><dd>${h(detailText(details?.[k]))}</dd>`).join("")}</dl>`;
}

function stepTable(scenario: ScenarioResult, sIndex: number): string {
  if (scenario.steps.length === 0) return `<p class="muted">No steps ran.</p>`;
  const rows = scenario.steps.map((s, i) => {
    const offset = formatMs(s.startedAt - scenario.startedAt);
    const duration = s.outcome === "skipped" && !s.durationMs ? "–" : formatMs(s.durationMs);
    const main = `<tr id="${anchor("step", sIndex, i)}" class="${s.outcome}"><td class="num muted">${i + 1}</td><td><span class="mark ${s.outcome}">${MARK[s.outcome]}</span></td><td><code>${h(s.id)}</code><div class="type">${h(s.type)}</div></td><td>${h(s.title)}${detailsCell(s.details)}</td><td class="num">+${h(offset)}</td><td class="num">${h(duration)}</td><td>${latencyCell(s.latencies)}</td></tr>`;
    const known = expectedFailureLine(s, scenario);
    const err =
      s.error || known
        ? `<tr class="errrow ${s.outcome}"><td></td><td></td><td colspan="5">${known ? `<p class="known">${h(known)}</p>` : ""}${s.error ? `<pre class="error${known ? " known" : ""}">${h(s.error)}</pre>` : ""}</td></tr>`
        : "";
    return main + err;
  });
  return `<table class="steps"><thead><tr><th class="num">#</th><th></th><th>Step</th><th>What</th><th class="num">Start</th><th class="num">Duration</th><th>Latency</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function logLinks(
  scenario: ScenarioResult,
  opts: Required<Pick<HtmlOptions, "dir" | "cwd">>,
  compact = false,
): string {
  const logs = redactDeep(scenarioLogs(scenario));
  const services = Object.keys(logs);
  const runDir = `<a class="path" href="${h(relativeHref(opts.dir, scenario.runDir, opts.cwd))}/">${h(displayPath(scenario.runDir, opts.cwd))}</a>`;
  const links = services.map(
    (svc) =>
      `<a class="log" href="${h(relativeHref(opts.dir, logs[svc], opts.cwd))}" title="${h(`${svc}: ${displayPath(logs[svc], opts.cwd)}`)}">${h(basename(logs[svc]))}</a>`,
  );
  if (compact)
    return `<div class="loglinks"><span class="muted">Logs:</span> ${links.join(" ") || "<span class=muted>none</span>"} <span class="muted">· run folder</span> ${runDir}</div>`;
  const items = services.map(
    (svc, i) => `<li>${links[i]} <span class="muted path">${h(displayPath(logs[svc], opts.cwd))}</span></li>`,
  );
  return `<p>Run folder (configs and logs): ${runDir}</p><ul class="logs">${items.join("")}</ul>`;
}

// ---------------------------------------------------------------- page

function failuresSection(run: RunResult, opts: Required<Pick<HtmlOptions, "dir" | "cwd">>): string {
  const items: string[] = [];
  run.scenarios.forEach((scenario, sIndex) => {
    const failedSteps = scenario.steps.map((s, i) => [s, i] as const).filter(([s]) => s.outcome === "failed");
    for (const [s, i] of failedSteps) {
      items.push(
        `<article class="failure"><div class="where"><a href="#${anchor("scenario", sIndex)}">${h(scenario.name)}</a> <span class="sep">›</span> <a href="#${anchor("step", sIndex, i)}"><code>${h(s.id)}</code></a> <span class="muted">${h(s.type)} · ${h(s.title)} · started at +${h(formatMs(s.startedAt - scenario.startedAt))}, failed after ${h(formatMs(s.durationMs))}</span></div><pre class="error">${h(s.error ?? "step failed")}</pre>${logLinks(scenario, opts, true)}</article>`,
      );
    }
    if (
      scenario.outcome === "failed" &&
      scenario.error &&
      !failedSteps.some(([s]) => s.error === scenario.error)
    ) {
      items.push(
        `<article class="failure"><div class="where"><a href="#${anchor("scenario", sIndex)}">${h(scenario.name)}</a> <span class="muted">scenario</span></div><pre class="error">${h(scenario.error)}</pre>${logLinks(scenario, opts, true)}</article>`,
      );
    }
    for (const summary of summariesOf(scenario)) {
      if (!summary.withinBudget && failedSteps.length === 0) {
        items.push(
          `<article class="failure"><div class="where"><a href="#${anchor("scenario", sIndex)}">${h(scenario.name)}</a> <span class="muted">latency</span></div><pre class="error">${h(`${directionLabel(summary.direction)} over budget: max ${formatMs(summary.max)} > ${formatMs(summary.budgetMs)}`)}</pre>${logLinks(scenario, opts, true)}</article>`,
        );
      }
    }
  });
  if (items.length === 0) return "";
  return `<section class="failures" id="failures"><h2>${plural(items.length, "failure")}</h2>${items.join("")}</section>`;
}

/** Fault windows, availability, recovery per fault and expected failures, when the scenario has any. */
function faultsSection(scenario: ScenarioResult): string {
  const a = scenario.availability;
  const faults = scenario.faults ?? [];
  const known = scenario.steps.filter((s) => s.expectedFailure);
  if (!a && !faults.length && !known.length && !scenario.latencyDuringFaults?.length) return "";
  const parts: string[] = [];
  if (a) {
    const ok = a.min === undefined || a.availability >= a.min;
    const rows = a.directions
      .map(
        (d) =>
          `<tr class="${d.lost + d.duplicated > d.knownProblem ? "failed" : ""}"><td><span class="dir ${d.direction}">${h(directionLabel(d.direction))}</span></td><td class="num">${d.sent}</td><td class="num">${d.withinBudget}</td><td class="num">${d.late}</td><td class="num">${d.lost}</td><td class="num">${d.duplicated}</td><td class="num">${d.knownProblem}</td><td class="num">${h(formatMs(a.budgetMs[d.direction]))}</td></tr>`,
      )
      .join("");
    parts.push(
      `<p class="availability ${ok ? "ok" : "bad"}">Availability <b>${h(formatPercent(a.availability))}</b>${a.min === undefined ? "" : ` (at least ${h(formatPercent(a.min))} required)`} · a probe each way every ${h(formatMs(a.everyMs))} for ${h(formatMs(a.endAt - a.startAt))}</p>`,
      `<table class="summary"><thead><tr><th>Probes</th><th class="num">Sent</th><th class="num">Within budget</th><th class="num">Late</th><th class="num">Lost</th><th class="num">Duplicated</th><th class="num">Of these, in known problems</th><th class="num">Budget</th></tr></thead><tbody>${rows}</tbody></table>`,
    );
  }
  if (faults.length) {
    const recovery = (f: FaultWindow, d: Direction) => {
      const r = a?.recovery.find((x) => x.stepId === f.stepId && x.direction === d);
      return r ? (r.recoveryMs === null ? "none in the window" : formatMs(r.recoveryMs)) : "–";
    };
    const rows = faults
      .map(
        (f) =>
          `<tr><td><code>${h(f.stepId)}</code><div class="type">${h(f.type)} · ${h(f.target)}</div></td><td>${h(f.title)}</td><td class="num">${h(f.endAt === undefined ? "did not end" : formatMs(f.endAt - f.startAt))}</td><td class="num">${h(f.recoveredAt === undefined || f.endAt === undefined ? "–" : formatMs(f.recoveredAt - f.endAt))}</td>${DIRECTIONS.map((d) => `<td class="num">${h(recovery(f, d))}</td>`).join("")}</tr>`,
      )
      .join("");
    parts.push(
      `<table class="summary faults"><thead><tr><th>Fault</th><th>What</th><th class="num">Lasted</th><th class="num">Healthy after</th>${DIRECTIONS.map((d) => `<th class="num">First probe within budget, ${h(directionLabel(d))}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table>`,
    );
  }
  const during = scenario.latencyDuringFaults ?? [];
  if (during.length)
    parts.push(
      `<table class="summary"><thead><tr><th>Messages that overlapped a fault</th><th class="num">n</th><th class="num">p50</th><th class="num">p95</th><th class="num">max</th></tr></thead><tbody>${during.map((l) => `<tr><td><span class="dir ${l.direction}">${h(directionLabel(l.direction))}</span></td><td class="num">${l.count}</td><td class="num">${h(formatMs(l.p50))}</td><td class="num">${h(formatMs(l.p95))}</td><td class="num">${h(formatMs(l.max))}</td></tr>`).join("")}</tbody></table><p class="muted small">Not held to the budget: the availability probes measure the outage; every message must still arrive once and in order.</p>`,
    );
  for (const s of known)
    parts.push(`<p class="known"><code>${h(s.id)}</code> ${h(expectedFailureLine(s, scenario) ?? "")}</p>`);
  return `<h3>Faults and availability</h3>${parts.join("")}`;
}

function scenarioSection(
  scenario: ScenarioResult,
  sIndex: number,
  opts: Required<Pick<HtmlOptions, "dir" | "cwd">>,
): string {
  const c = counts(scenario.steps);
  const { phases, total: setupTotal } = setupOf(scenario);
  const item = (key: string, text: string) => `<span class="li"><span class="${key}"></span>${text}</span>`;
  const legend = [
    ...(scenario.steps.length > 0
      ? [
          item("key passed", "passed"),
          item("key failed", "failed"),
          item("key skipped", "skipped"),
          item("tick-key slack_to_matrix", "Slack → Matrix arrival"),
          item("tick-key matrix_to_slack", "Matrix → Slack arrival"),
          item("tick-key over", "arrival over budget"),
          ...(scenario.faults?.length
            ? [item("key fault", "fault on"), item("key recovery", "until healthy again")]
            : []),
          ...(scenario.availability
            ? [
                item("key probe-ok", "probe within budget"),
                item("key probe-late", "late"),
                item("key probe-lost", "lost"),
              ]
            : []),
        ]
      : []),
    phases.length > 0
      ? item(
          "key setup",
          `environment start-up phases (${h(formatMs(setupTotal))} in all; some run in parallel)`,
        )
      : "",
  ].join("");
  const error =
    scenario.error && !scenario.steps.some((s) => s.error === scenario.error)
      ? `<pre class="error">${h(scenario.error)}</pre>`
      : "";
  return `<section class="scenario ${scenario.outcome}" id="${anchor("scenario", sIndex)}">
<div class="shead"><h2>${badge(scenario.outcome)} ${h(scenario.name)}</h2>
<div class="meta"><code>${h(scenario.file)}</code> · environment <b>${h(scenario.environment)}</b> · started ${h(isoUtc(scenario.startedAt))} · ${h(formatMs(scenario.durationMs))} · ${scenario.steps.length === 0 ? "no steps ran" : `${c.passed} passed`}${c.failed ? `, <span class="failedtxt">${c.failed} failed</span>` : ""}${c.expected_failure ? `, <span class="knowntxt">${c.expected_failure} expected failure(s)</span>` : ""}${c.skipped ? `, ${c.skipped} skipped` : ""}</div></div>
${servicesList(scenario)}${error}
${(scenario.notes ?? []).map((n) => `<p class="note">${h(n)}</p>`).join("")}
<h3>Timeline</h3>
<div class="panel">${setupSvg(scenario, sIndex)}${timelineSvg(scenario, sIndex) || `<p class="muted small">No steps ran.</p>`}<div class="legend">${legend}</div></div>
${faultsSection(scenario)}
<h3>Latency</h3>
${latencySection(scenario, sIndex)}
<h3>Steps</h3>
${stepTable(scenario, sIndex)}
<h3>Logs</h3>
${logLinks(scenario, opts)}
</section>`;
}

const CSS = `
:root{--fg:#1f2328;--muted:#656d76;--border:#d0d7de;--bg:#f6f8fa;--card:#fff;--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--skip:#8c959f;--skip-bg:#eaeef2;--s2m:#0969da;--m2s:#8250df;--budget:#cf222e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
code,pre,.path{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
header.top{background:#24292f;color:#fff;padding:20px 32px 22px;border-bottom:4px solid var(--pass)}
header.top.failed{border-bottom-color:var(--fail)}
header.top .brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#9ea7b3}
header.top h1{margin:6px 0 4px;font-size:24px;font-weight:600;display:flex;align-items:center;gap:12px}
header.top .meta{color:#c9d1d9;font-size:13px}
.totals{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.total{background:#32383f;border-radius:8px;padding:10px 14px;min-width:150px}
.total .k{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:#9ea7b3}
.total .v{font-size:20px;font-weight:600;margin-top:2px}
.total .s{font-size:12px;color:#c9d1d9}
.total.bad .v{color:#ff8182}.total.ok .v{color:#7ee787}
main{max-width:1200px;margin:0 auto;padding:24px 32px 40px}
.badge{display:inline-block;font-size:12px;font-weight:700;letter-spacing:.05em;padding:3px 10px;border-radius:999px;vertical-align:middle}
.badge.passed{background:var(--pass);color:#fff}.badge.failed{background:var(--fail);color:#fff}.badge.skipped{background:var(--skip);color:#fff}
.failures{background:var(--card);border:1px solid var(--fail);border-left:6px solid var(--fail);border-radius:8px;padding:14px 20px;margin-bottom:24px}
.failures h2{margin:0 0 8px;color:var(--fail);font-size:18px}
.failure{padding:10px 0;border-top:1px solid var(--border)}.failure:first-of-type{border-top:0}
.failure .where{font-weight:600;margin-bottom:6px}.failure .sep{color:var(--muted)}
pre.error{background:var(--fail-bg);color:#82071e;border:1px solid #ffcecb;border-radius:6px;padding:10px 12px;margin:6px 0;white-space:pre-wrap;word-break:break-word}
.loglinks{font-size:13px}
a.log{display:inline-block;background:var(--bg);border:1px solid var(--border);border-radius:6px;padding:1px 8px;margin:2px 2px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
nav.toc{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:10px 20px;margin-bottom:24px}
nav.toc ul{list-style:none;margin:0;padding:0}nav.toc li{padding:4px 0;display:flex;gap:10px;align-items:center}
nav.toc .muted{margin-left:auto}
.scenario{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:18px 24px 22px;margin-bottom:28px}
.scenario.failed{border-top:4px solid var(--fail)}.scenario.passed{border-top:4px solid var(--pass)}
.shead h2{margin:0;font-size:20px;display:flex;gap:10px;align-items:center}
.shead .meta{color:var(--muted);margin-top:4px}
.note{margin:8px 0;padding:6px 10px;border-left:3px solid var(--skip);background:var(--bg);font-size:13px}
h3{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:22px 0 8px;border-bottom:1px solid var(--border);padding-bottom:4px}
.muted{color:var(--muted)}.small{font-size:12.5px;margin:0 0 6px}.failedtxt{color:var(--fail);font-weight:600}
.panel{border:1px solid var(--border);border-radius:6px;padding:8px 10px 6px}
svg text{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
svg .grid{stroke:#eaeef2;stroke-width:1}svg .axis{stroke:#8c959f;stroke-width:1}
svg .tick{font-size:11px;fill:var(--muted)}
svg .rowlabel{font-size:12px;fill:var(--fg);font-family:ui-monospace,Menlo,Consolas,monospace}
svg .rowlabel.failed{fill:var(--fail);font-weight:700}svg .rowlabel.skipped{fill:var(--skip)}
svg .dur{font-size:11px;fill:var(--muted)}svg .dur.failed{fill:var(--fail);font-weight:600}
svg .inbar{font-size:10.5px;fill:#fff;pointer-events:none}
svg .tl-step.passed{fill:var(--pass)}svg .tl-step.failed{fill:var(--fail)}svg .tl-step.skipped{fill:var(--skip);opacity:.55}
svg .tl-setup{fill:#8c959f}svg .rowlabel.setup{fill:var(--muted)}
svg.setup{border-bottom:1px dashed var(--border);margin-bottom:6px}
svg a:hover .tl-step{opacity:.8}
svg .tl-mark{stroke-width:2}svg .tl-mark.slack_to_matrix{stroke:var(--s2m)}svg .tl-mark.matrix_to_slack{stroke:var(--m2s)}svg .tl-mark.over{stroke:#1f2328;stroke-width:3}
.legend{font-size:12px;color:var(--muted);padding:4px 0 2px 4px;display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center}
.legend .li{display:inline-flex;align-items:center;gap:5px}
.legend .key{display:inline-block;width:14px;height:10px;border-radius:2px}
svg .tl-fault{fill:#cf222e;opacity:.12}svg .tl-recovery{fill:#bf8700;opacity:.12}
svg .tl-step.expected_failure{fill:#bf8700}svg .rowlabel.expected_failure{fill:#9a6700;font-weight:700}
svg .tl-probe.ok{fill:var(--pass)}svg .tl-probe.late{fill:#bf8700}svg .tl-probe.lost{fill:var(--fail)}
.legend .key.fault{background:#cf222e;opacity:.25}.legend .key.recovery{background:#bf8700;opacity:.25}
.legend .key.probe-ok{background:var(--pass);width:4px}.legend .key.probe-late{background:#bf8700;width:4px}.legend .key.probe-lost{background:var(--fail);width:4px}
.mark.expected_failure{color:#9a6700}.knowntxt{color:#9a6700;font-weight:600}
pre.error.known{background:#fff8c5;color:#7d4e00;border-color:#d4a72c}
p.known{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:6px 0;color:#7d4e00}
p.availability{font-size:15px;margin:4px 0}p.availability.bad b{color:var(--fail)}p.availability.ok b{color:var(--pass)}
.legend .key.passed{background:var(--pass)}.legend .key.failed{background:var(--fail)}.legend .key.skipped{background:var(--skip);opacity:.55}.legend .key.setup{background:#8c959f}
.legend .tick-key{display:inline-block;width:3px;height:12px}.tick-key.slack_to_matrix{background:var(--s2m)}.tick-key.matrix_to_slack{background:var(--m2s)}.tick-key.over{background:#1f2328;width:4px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
figure.chart{margin:0;border:1px solid var(--border);border-radius:6px;padding:8px 10px}
figure.chart.bad{border-color:var(--fail);box-shadow:inset 3px 0 0 var(--fail)}
figure.chart figcaption{display:flex;gap:10px;align-items:center;flex-wrap:wrap;font-size:13px;margin-bottom:4px}
figure.chart .stats{color:var(--muted)}figure.chart .stats b{color:var(--fg)}
svg .stem.slack_to_matrix{fill:var(--s2m);opacity:.22}svg .stem.matrix_to_slack{fill:var(--m2s);opacity:.22}svg .stem.over{fill:var(--fail);opacity:.35}
svg .pt.slack_to_matrix{fill:var(--s2m)}svg .pt.matrix_to_slack{fill:var(--m2s)}svg .pt.over{fill:var(--fail);stroke:#fff;stroke-width:1.5}
svg .stepsep{stroke:#d8dee4;stroke-dasharray:2 3}
svg .ref{stroke-width:1.3}svg .ref.budget{stroke:var(--budget);stroke-dasharray:6 4;stroke-width:1.8}svg .ref.max{stroke:#57606a;stroke-dasharray:1 3}svg .ref.p95{stroke:#bf8700;stroke-dasharray:4 3}svg .ref.p50{stroke:#1a7f37;stroke-dasharray:4 3}
svg .reflabel{font-size:11px;font-weight:600}svg .reflabel.budget{fill:var(--budget)}svg .reflabel.max{fill:#57606a}svg .reflabel.p95{fill:#9a6700}svg .reflabel.p50{fill:#1a7f37}
.dir{font-weight:600;white-space:nowrap}.dir.slack_to_matrix{color:var(--s2m)}.dir.matrix_to_slack{color:var(--m2s)}
.pill{font-size:11.5px;font-weight:600;padding:1px 8px;border-radius:999px}.pill.ok{background:var(--pass-bg);color:var(--pass)}.pill.bad{background:var(--fail-bg);color:var(--fail)}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;border-bottom:1px solid var(--border);padding:6px 8px}
td{border-bottom:1px solid #eaeef2;padding:6px 8px;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.summary{margin-top:12px;width:auto;min-width:60%}
table.steps tr.failed td{background:#fff8f7}table.steps tr.skipped td{color:var(--muted)}
table.steps tr.errrow td{border-top:0;padding-top:0}
table.steps tr:target td{background:#fff8c5}
.mark{font-weight:700}.mark.passed{color:var(--pass)}.mark.failed{color:var(--fail)}.mark.skipped{color:var(--skip)}
.type{font-size:11.5px;color:var(--muted)}
.lat{white-space:nowrap;font-size:12.5px}.lat.over b{color:var(--fail)}
dl.details{margin:4px 0 0;display:grid;grid-template-columns:max-content 1fr;gap:0 10px;font-size:12px;color:var(--muted)}
dl.details dt{font-weight:600}dl.details dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
ul.logs{margin:4px 0 0;padding-left:18px}ul.logs li{margin:2px 0}
footer{max-width:1200px;margin:0 auto;padding:0 32px 32px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}header.top{background:#fff;color:#000}.total{background:#f6f8fa}}
`;

/** The HTML report text. */
export function renderHtml(result: RunResult, opts: HtmlOptions): string {
  const run = redactDeep(result);
  const o = { dir: opts.dir, cwd: opts.cwd ?? process.cwd() };
  const generatedAt = opts.generatedAt ?? Date.now();
  const sc = { passed: 0, failed: 0, skipped: 0 };
  for (const s of run.scenarios) sc[s.outcome]++;
  const steps = counts(run.scenarios.flatMap((s) => s.steps));
  const allSamples = run.scenarios.flatMap((s) => s.steps.flatMap((st) => st.latencies));
  // Samples during faults are not held to the budget: the headline figures leave them out.
  const overall = summarizeLatencies(allSamples.filter((x) => !x.duringFault));
  const headline =
    run.outcome === "failed"
      ? `${sc.failed} of ${plural(run.scenarios.length, "scenario")} failed`
      : run.outcome === "passed"
        ? `All ${plural(run.scenarios.length, "scenario")} passed`
        : `${plural(run.scenarios.length, "scenario")} skipped`;
  const totals = [
    `<div class="total ${sc.failed ? "bad" : "ok"}"><div class="k">Scenarios</div><div class="v">${sc.passed}/${run.scenarios.length} passed</div><div class="s">${sc.failed} failed · ${sc.skipped} skipped</div></div>`,
    `<div class="total ${steps.failed ? "bad" : "ok"}"><div class="k">Steps</div><div class="v">${steps.passed}/${steps.passed + steps.failed + steps.skipped + steps.expected_failure} passed</div><div class="s">${steps.failed} failed${steps.expected_failure ? ` · ${steps.expected_failure} expected failure(s)` : ""} · ${steps.skipped} skipped</div></div>`,
    ...DIRECTIONS.map((direction) => {
      const s = overall.find((x) => x.direction === direction);
      if (!s) return "";
      return `<div class="total ${s.withinBudget ? "ok" : "bad"}"><div class="k">${h(directionLabel(direction))} p95</div><div class="v">${h(formatMs(s.p95))}</div><div class="s">p50 ${h(formatMs(s.p50))} · max ${h(formatMs(s.max))} · budget ${h(formatMs(s.budgetMs))} · n=${s.count}</div></div>`;
    }),
    `<div class="total"><div class="k">Duration</div><div class="v">${h(formatMs(run.durationMs))}</div><div class="s">${plural(allSamples.length, "latency sample")}</div></div>`,
  ].join("");
  const toc =
    run.scenarios.length > 1
      ? `<nav class="toc"><ul>${run.scenarios
          .map((s, i) => {
            const c = counts(s.steps);
            return `<li>${badge(s.outcome)} <a href="#${anchor("scenario", i)}">${h(s.name)}</a> <span class="muted">${s.steps.length === 0 ? "no steps ran" : `${c.passed} passed`}${c.failed ? `, ${c.failed} failed` : ""}${c.expected_failure ? `, ${c.expected_failure} expected failure(s)` : ""}${c.skipped ? `, ${c.skipped} skipped` : ""} · ${h(formatMs(s.durationMs))}</span></li>`;
          })
          .join("")}</ul></nav>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${h(`${run.tool.name} ${run.tool.version}`)}">
<title>${h(`${OUTCOME_LABEL[run.outcome]} · ${headline} · ${run.tool.name}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top ${run.outcome}">
<div class="brand">${h(run.tool.name)} ${h(run.tool.version)} · run report</div>
<h1>${badge(run.outcome)} ${h(headline)}</h1>
<div class="meta">Started ${h(isoUtc(run.startedAt))} · took ${h(formatMs(run.durationMs))}</div>
<div class="totals">${totals}</div>
</header>
<main>
${failuresSection(run, o)}
${toc}
${run.scenarios.map((s, i) => scenarioSection(s, i, o)).join("\n")}
</main>
<footer>Generated ${h(isoUtc(generatedAt))} by ${h(run.tool.name)} ${h(run.tool.version)}. Latencies are measured on one host clock; percentiles are nearest-rank. Log links are relative to this file.</footer>
</body>
</html>
`;
}
