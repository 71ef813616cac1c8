// Paths as reports show them.
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

/** A path relative to the working directory when it lies inside it (what CI tools expect), else absolute. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  if (rel === "") return ".";
  if (rel.startsWith("..") || isAbsolute(rel)) return abs;
  return rel;
}

/** A relative URL from a report in `reportDir` to `target` (a file path), for href attributes. */
export function relativeHref(reportDir: string, target: string, cwd = process.cwd()): string {
  const rel = relative(resolve(cwd, reportDir), resolve(cwd, target));
  return rel
    .split(sep)
    .map((part) => encodeURIComponent(part))
    .join("/");
}

/**
 * Every log of a scenario: the ones the runner declared, plus any other `*.log` file in the run
 * folder (so a log is listed even when the environment failed before its services were known).
 * Service name -> path, sorted by name.
 */
export function scenarioLogs(scenario: {
  runDir: string;
  logs: Record<string, string>;
}): Record<string, string> {
  const logs: Record<string, string> = { ...scenario.logs };
  const declared = new Set(Object.values(logs).map((p) => resolve(p)));
  try {
    if (scenario.runDir && existsSync(scenario.runDir)) {
      for (const entry of readdirSync(scenario.runDir, { withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith(".log")) continue;
        const path = join(scenario.runDir, entry.name);
        if (declared.has(resolve(path))) continue;
        let name = entry.name.slice(0, -4);
        while (name in logs) name = `${name}'`;
        logs[name] = path;
      }
    }
  } catch {
    // An unreadable run folder only means fewer links.
  }
  return Object.fromEntries(
    Object.keys(logs)
      .sort()
      .map((k) => [k, logs[k]]),
  );
}
