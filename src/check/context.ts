// What every group of checks gets: the environment, the operator's files (layered overlays with
// positions), and where to put findings. Plus the small helpers several groups share.
import { displayPath } from "../config/errors.ts";
import { compareReleases, releaseOfImage } from "../upgrade/schema-versions.ts";
import type { CheckEnvironment } from "./environment.ts";
import type { CheckSpec, Findings, Position } from "./findings.ts";
import type { ConfigFile, KeyPath, Layered } from "./sources.ts";

export interface CheckContext {
  env: CheckEnvironment;
  /** The bridge config: the environment's bridge overlays. */
  bridge: Layered;
  /** The homeserver config: YAML overlays for Synapse, TOML for continuwuity/tuwunel. */
  homeserver: Layered;
  /** MAS config overlays (homeserver.auth.kind: mas). */
  mas?: Layered;
  registration?: ConfigFile;
  slackManifest?: ConfigFile;
  /** Synapse's log config, when the file its `log_config` names sits next to the overlay. */
  synapseLogConfig?: ConfigFile;
  findings: Findings;
}

/** A subject's checks: their specs (for the docs and ids) and the code that applies them. */
export interface CheckGroup {
  subject: string;
  checks: CheckSpec[];
  run(ctx: CheckContext): void;
}

/** Position of a key of the environment file. */
export function envAt(ctx: CheckContext, path: KeyPath): Position {
  return { file: ctx.env.file, line: ctx.env.source.line(path) };
}

/** Position of a key in a single file. */
export function fileAt(file: ConfigFile, path: KeyPath): Position {
  return { file: file.path, line: file.line(path) };
}

/** The mautrix-slack values that apply when the bridge config does not set them (the example config's). */
export const BRIDGE_DEFAULTS = {
  id: "slack",
  botUsername: "slackbot",
  usernameTemplate: "slack_{{.}}",
  port: 29335,
} as const;

export function bridgeValue<T>(ctx: CheckContext, path: KeyPath, fallback: T): T {
  const v = ctx.bridge.get(path);
  return (v === undefined || v === null ? fallback : v) as T;
}

/** The Matrix server name the bridge config says it serves (homeserver.domain), else the homeserver's. */
export function serverName(ctx: CheckContext): string | undefined {
  const fromBridge = ctx.bridge.get(["homeserver", "domain"]);
  if (typeof fromBridge === "string" && fromBridge) return fromBridge;
  return homeserverServerName(ctx) ?? ctx.env.homeserver.serverName;
}

/** server_name from the homeserver's own config (Synapse top level, conduwuit family [global]). */
export function homeserverServerName(ctx: CheckContext): string | undefined {
  const v =
    ctx.env.homeserver.kind === "synapse"
      ? ctx.homeserver.get(["server_name"])
      : ctx.homeserver.get(["global", "server_name"]);
  return typeof v === "string" && v ? v : undefined;
}

export interface UrlParts {
  host: string;
  port: number;
}

/** Host and port of an http(s)/postgres URL (default ports filled in); undefined when unparsable. */
export function urlParts(value: unknown): UrlParts | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const u = new URL(value);
    const defaults: Record<string, number> = {
      "http:": 80,
      "https:": 443,
      "postgres:": 5432,
      "postgresql:": 5432,
    };
    const port = u.port ? Number(u.port) : defaults[u.protocol];
    if (port === undefined || !u.hostname) return undefined;
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    return undefined;
  }
}

export function isLoopback(host: string): boolean {
  return (
    host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith(".localhost")
  );
}

/** "v1.163.2" from "matrixdotorg/synapse:v1.163.2" (undefined for tags like latest). */
export function imageRelease(image: string | undefined): string | undefined {
  return image ? releaseOfImage(image) : undefined;
}

/** Whether release `v` is at least `min` (both "v1.2.3"). */
export function atLeast(v: string, min: string): boolean {
  return compareReleases(v, min) >= 0;
}

export function quote(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}

/** "config/registration.yaml:5" (relative to the working directory when inside it). */
export function ref(p: { file: string; line: number }): string {
  return `${displayPath(p.file)}:${p.line}`;
}
