// Paths as reports show them.
import { isAbsolute, relative, resolve, sep } from "node:path";

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
