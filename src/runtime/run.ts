// A run: its id, its folder (configs, logs, reports) and its labels.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { runLabels, serviceLabels } from "./labels.ts";

export interface RunInfo {
  /** Unique per run: `<timestamp>-<name>-<random>`; used in labels and resource names. */
  id: string;
  /** Absolute path of the run folder. */
  dir: string;
  name: string;
  keep: boolean;
  labels: Record<string, string>;
  serviceLabels(service: string): Record<string, string>;
}

/** `2026-11-22T03-41-06` (UTC, file-name safe). */
export function timestampForPath(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/:/g, "-");
}

/** Keeps names file- and label-safe. */
export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 48) || "run"
  );
}

/**
 * Creates the run folder. Without `runDir` it is `runs/<timestamp>-<name>/` under `baseDir`
 * (default: the current directory).
 */
export function createRun(opts: {
  name: string;
  runDir?: string;
  baseDir?: string;
  keep?: boolean;
}): RunInfo {
  const stamp = timestampForPath();
  const name = slug(opts.name);
  const dir = resolve(opts.runDir ?? resolve(opts.baseDir ?? process.cwd(), "runs", `${stamp}-${name}`));
  mkdirSync(dir, { recursive: true });
  const id = `${stamp}-${name}-${randomBytes(3).toString("hex")}`.toLowerCase();
  const keep = opts.keep ?? false;
  return {
    id,
    dir,
    name,
    keep,
    labels: runLabels(id, { keep }),
    serviceLabels: (service) => serviceLabels(id, service, { keep }),
  };
}
