// Reports of a run: live terminal progress, JUnit XML, JSON, a self-contained HTML file and a
// Markdown summary.
// Every string that reaches any of them goes through redact().

export { renderHtml } from "./html.ts";
export { renderJson } from "./json.ts";
export { renderJunit } from "./junit.ts";
export { directionLabel, formatMs, percentile, summarizeLatencies } from "./latency.ts";
export { renderMarkdown } from "./markdown.ts";
export type * from "./model.ts";
export type { ProgressPrinter, ProgressPrinterOptions, StepStart } from "./terminal.ts";
export { createProgressPrinter } from "./terminal.ts";
export type { ReportFormat, WriteReportsOptions, WrittenReports } from "./write.ts";
export { REPORT_FILES, writeReports } from "./write.ts";
