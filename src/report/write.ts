// Writes the file reports of a run into one folder.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderJunit } from "./junit.ts";
import type { RunResult } from "./model.ts";

export type ReportFormat = "junit" | "json" | "html";

export interface WriteReportsOptions {
  /** Folder for the reports (created if missing). */
  dir: string;
  /** Default: all three. */
  formats?: ReportFormat[];
}

export interface WrittenReports {
  junit?: string;
  json?: string;
  html?: string;
}

/** File names inside `dir`. */
export const REPORT_FILES: Record<ReportFormat, string> = {
  junit: "junit.xml",
  json: "report.json",
  html: "report.html",
};

/** Writes the requested reports; returns their absolute paths. */
export async function writeReports(result: RunResult, opts: WriteReportsOptions): Promise<WrittenReports> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const formats = opts.formats ?? ["junit", "json", "html"];
  const written: WrittenReports = {};
  for (const format of formats) {
    const path = join(dir, REPORT_FILES[format]);
    const text =
      format === "junit"
        ? renderJunit(result)
        : format === "json"
          ? renderJson(result)
          : renderHtml(result, { dir });
    await writeFile(path, text, "utf8");
    written[format] = path;
  }
  return written;
}
