// HTML report (placeholder, replaced below).
import type { RunResult } from "./model.ts";
import { redactDeep } from "./sanitize.ts";

export function renderHtml(result: RunResult, _opts: { dir: string }): string {
  const run = redactDeep(result);
  return `<!doctype html><meta charset="utf-8"><title>bridge-harness</title><pre>${JSON.stringify(run).replace(/</g, "&lt;")}</pre>`;
}
