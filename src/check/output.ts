// How `check` reports: terminal (grouped by file), JSON, GitHub workflow annotations, Markdown (job
// summary / PR comment) and JUnit XML. Every text goes through redact().
import path from "node:path";
import { displayPath } from "../config/errors.ts";
import { xmlAttr, xmlEscape } from "../report/xml.ts";
import { redact } from "../util/redact.ts";
import { countBySeverity, type Finding, type Severity } from "./findings.ts";
import { allChecks, type CheckResult } from "./run.ts";

export const FORMATS = ["terminal", "json", "github", "markdown"] as const;
export type Format = (typeof FORMATS)[number];

function summaryLine(r: CheckResult): string {
  const c = countBySeverity(r.findings);
  const files = new Set(r.files).size;
  const counts =
    c.error + c.warning + c.info === 0
      ? "no findings"
      : `${c.error} error(s), ${c.warning} warning(s), ${c.info} info`;
  return `${counts} in ${files} file(s) of environment ${r.environment.name} (${Math.round(r.durationMs)} ms)`;
}

function byFile(findings: readonly Finding[]): Map<string, Finding[]> {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) groups.set(f.file, [...(groups.get(f.file) ?? []), f]);
  return groups;
}

const indent = (text: string, prefix: string) => text.split("\n").join(`\n${prefix}`);

export function renderTerminal(r: CheckResult, opts: { color?: boolean } = {}): string {
  const paint = (code: string, text: string) => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const sev: Record<Severity, string> = {
    error: paint("31", "error  "),
    warning: paint("33", "warning"),
    info: paint("36", "info   "),
  };
  const out: string[] = [];
  for (const [file, list] of byFile(r.findings)) {
    out.push(paint("1", displayPath(file)));
    for (const f of list) {
      const pos = `${f.line}${f.column ? `:${f.column}` : ""}`;
      out.push(`  ${pos.padStart(5)}  ${sev[f.severity]}  ${f.id}  ${f.message}`);
      out.push(`${" ".repeat(18)}why: ${indent(f.why, " ".repeat(23))}`);
      out.push(`${" ".repeat(18)}fix: ${indent(f.fix, " ".repeat(23))}`);
    }
    out.push("");
  }
  out.push(`check: ${summaryLine(r)}`);
  return redact(out.join("\n"));
}

export function renderJson(r: CheckResult): string {
  const doc = {
    version: 1,
    environment: { name: r.environment.name, file: displayPath(r.environment.file) },
    durationMs: Math.round(r.durationMs * 10) / 10,
    files: [...new Set(r.files)].map((f) => displayPath(f)),
    counts: countBySeverity(r.findings),
    findings: r.findings.map((f) => ({ ...f, file: displayPath(f.file) })),
  };
  return redact(JSON.stringify(doc, null, 2));
}

/** GitHub wants paths relative to the repository root; the workspace is that root in Actions. */
function repoPath(file: string): string {
  const root = process.env.GITHUB_WORKSPACE;
  return root ? path.relative(root, file) : displayPath(file);
}

// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
const escapeData = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
const COMMAND: Record<Severity, string> = { error: "error", warning: "warning", info: "notice" };

export function renderGithub(r: CheckResult): string {
  const lines = r.findings.map((f) => {
    const props = [
      `file=${escapeProperty(repoPath(f.file))}`,
      `line=${f.line}`,
      ...(f.column ? [`col=${f.column}`] : []),
      `title=${escapeProperty(f.id)}`,
    ].join(",");
    return `::${COMMAND[f.severity]} ${props}::${escapeData(`${f.message}\nWhy: ${f.why}\nFix: ${f.fix}`)}`;
  });
  lines.push(`check: ${summaryLine(r)}`);
  return redact(lines.join("\n"));
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n+/g, " ");

export function renderMarkdown(r: CheckResult): string {
  const out = ["### bridge-harness check", "", summaryLine(r), ""];
  if (r.findings.length) {
    out.push("| | where | check | finding | fix |", "|---|---|---|---|---|");
    const icon: Record<Severity, string> = { error: "❌", warning: "⚠️", info: "ℹ️" };
    for (const f of r.findings)
      out.push(
        `| ${icon[f.severity]} | \`${repoPath(f.file)}:${f.line}\` | \`${f.id}\` | ${md(f.message)} | ${md(f.fix)} |`,
      );
    out.push("", "Each check is described in docs/config-checks.md of bridge-harness.");
  }
  return redact(out.join("\n"));
}

export function render(r: CheckResult, format: Format, opts: { color?: boolean } = {}): string {
  switch (format) {
    case "json":
      return renderJson(r);
    case "github":
      return renderGithub(r);
    case "markdown":
      return renderMarkdown(r);
    default:
      return renderTerminal(r, opts);
  }
}

/** One test case per check; errors are failures, warnings and info go to the case's output. */
export function renderJunit(r: CheckResult): string {
  const cases = allChecks().map((spec) => {
    const mine = r.findings.filter((f) => f.id === spec.id);
    const text = mine
      .map(
        (f) => `${f.severity} ${displayPath(f.file)}:${f.line}: ${f.message}\nwhy: ${f.why}\nfix: ${f.fix}`,
      )
      .join("\n\n");
    const errors = mine.filter((f) => f.severity === "error");
    const body = [
      errors.length
        ? `<failure message="${xmlAttr(errors.map((f) => `${displayPath(f.file)}:${f.line}: ${f.message}`).join("; "))}" type="${spec.id}">${xmlEscape(text)}</failure>`
        : "",
      !errors.length && text ? `<system-out>${xmlEscape(text)}</system-out>` : "",
    ].join("");
    return `    <testcase classname="check.${spec.id.split(".")[0]}" name="${xmlAttr(`${spec.id}: ${spec.catches}`)}" time="0">${body}</testcase>`;
  });
  const failures = new Set(r.findings.filter((f) => f.severity === "error").map((f) => f.id)).size;
  const seconds = (r.durationMs / 1000).toFixed(3);
  return redact(
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="bridge-harness check" tests="${cases.length}" failures="${failures}" time="${seconds}">`,
      `  <testsuite name="${xmlAttr(`check ${r.environment.name}`)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}">`,
      ...cases,
      "  </testsuite>",
      "</testsuites>",
      "",
    ].join("\n"),
  );
}
