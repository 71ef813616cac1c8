// Writes the file reports of a run into one folder: junit.xml, report.json, report.html, summary.md.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderJunit } from "./junit.ts";
import { renderMarkdown } from "./markdown.ts";
import type { RunResult } from "./model.ts";

export type ReportFormat = "junit" | "json" | "html" | "markdown";

export interface WriteReportsOptions {
  /** Folder for the reports (created if missing). */
  dir: string;
  /** Default: all of them. */
  formats?: ReportFormat[];
}

export interface WrittenReports {
  junit?: string;
  json?: string;
  html?: string;
  markdown?: string;
}

/** File names inside `dir`. */
export const REPORT_FILES: Record<ReportFormat, string> = {
  junit: "junit.xml",
  json: "report.json",
  html: "report.html",
  markdown: "summary.md",
};

/** Writes the requested reports; returns their absolute paths. */
export async function writeReports(result: RunResult, opts: WriteReportsOptions): Promise<WrittenReports> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const formats = opts.formats ?? (Object.keys(REPORT_FILES) as ReportFormat[]);
  const written: WrittenReports = {};
  for (const format of formats) {
    const path = join(dir, REPORT_FILES[format]);
    const render: Record<ReportFormat, () => string> = {
      junit: () => renderJunit(result),
      json: () => renderJson(result),
      html: () => renderHtml(result, { dir }),
      markdown: () => renderMarkdown(result),
    };
    const text = render[format]();
    await writeFile(path, text, "utf8");
    written[format] = path;
  }
  return written;
}
