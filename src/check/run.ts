// `check`: read the environment file, load every operator file it names (with positions), run each
// group of checks, return the findings. No containers, no network.
import { existsSync } from "node:fs";
import path from "node:path";
import { now } from "../util/clock.ts";
import { bridgeChecks } from "./checks/bridge.ts";
import { databaseChecks } from "./checks/database.ts";
import { homeserverChecks } from "./checks/homeserver.ts";
import { loggingChecks } from "./checks/logging.ts";
import { masChecks } from "./checks/mas.ts";
import { networkChecks } from "./checks/network.ts";
import { registrationChecks } from "./checks/registration.ts";
import { slackChecks } from "./checks/slack.ts";
import { versionChecks } from "./checks/versions.ts";
import type { CheckContext, CheckGroup } from "./context.ts";
import { type CheckEnvironment, readCheckEnvironment } from "./environment.ts";
import { type CheckSpec, type Finding, Findings } from "./findings.ts";
import { type ConfigFile, Layered, loadConfigFile } from "./sources.ts";

const fileChecks: CheckGroup = {
  subject: "file",
  checks: [
    {
      id: "file.parse-error",
      severity: "error",
      catches: "an operator file the environment names cannot be read or parsed (YAML, JSON or TOML syntax)",
      why: "The service it configures refuses to start on it (Synapse, the bridge and MAS exit while loading their config; continuwuity and tuwunel print the TOML parse error and exit), and no other check can look into it.",
      fix: "Fix the syntax at the reported line and column.",
    },
  ],
  run() {},
};

/** Every group, in the order the docs list them. */
export const CHECK_GROUPS: readonly CheckGroup[] = [
  fileChecks,
  registrationChecks,
  homeserverChecks,
  bridgeChecks,
  networkChecks,
  databaseChecks,
  loggingChecks,
  slackChecks,
  masChecks,
  versionChecks,
];

export function allChecks(): CheckSpec[] {
  return CHECK_GROUPS.flatMap((g) => g.checks);
}

export interface CheckResult {
  environment: CheckEnvironment;
  /** Every operator file read (absolute paths). */
  files: string[];
  findings: Finding[];
  durationMs: number;
}

/** Runs every check on the files an environment names. Throws ConfigError for a broken environment file. */
export function runChecks(environmentFile: string): CheckResult {
  const started = now();
  const env = readCheckEnvironment(environmentFile);
  const findings = new Findings(allChecks(), env.production.ignore);
  const files: string[] = [];
  const load = (file: string): ConfigFile | undefined => {
    files.push(file);
    const r = loadConfigFile(file);
    if (r.problem)
      findings.add(
        "file.parse-error",
        { file, line: r.problem.line, column: r.problem.column },
        r.problem.message,
      );
    return r.file;
  };
  const layered = (list: string[]) => new Layered(list.map(load).filter((f): f is ConfigFile => !!f));
  const ctx: CheckContext = {
    env,
    bridge: layered(env.bridge.overlays),
    homeserver: layered(env.homeserver.overlays),
    ...(env.homeserver.auth ? { mas: layered(env.homeserver.auth.overlays) } : {}),
    findings,
  };
  if (env.production.registration) ctx.registration = load(env.production.registration);
  if (env.production.slackAppManifest) ctx.slackManifest = load(env.production.slackAppManifest);
  const logConfig = synapseLogConfigFile(ctx);
  if (logConfig) ctx.synapseLogConfig = load(logConfig);
  for (const group of CHECK_GROUPS) group.run(ctx);
  return { environment: env, files, findings: findings.sorted(), durationMs: now() - started };
}

/**
 * Synapse's log config lives in its own file (`log_config: /data/<name>.log.config`); when a file of
 * that name sits next to one of the homeserver overlays, it is the operator's copy.
 */
function synapseLogConfigFile(ctx: CheckContext): string | undefined {
  if (ctx.env.homeserver.kind !== "synapse") return undefined;
  const name = ctx.homeserver.get(["log_config"]);
  if (typeof name !== "string" || !name) return undefined;
  for (const overlay of [...ctx.homeserver.files].reverse()) {
    const candidate = path.join(path.dirname(overlay.path), path.basename(name));
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
