// Does the homeserver load the bridge's registration? Synapse reads files listed in
// app_service_config_files; continuwuity has no config option at all (admin-room command only);
// tuwunel reads [global.appservice.<id>] tables (v1.2.0+) and appservice_dir (v1.6.0+).
import path from "node:path";
import { isPlainObject } from "../../util/deep-merge.ts";
import { atLeast, type CheckContext, type CheckGroup, envAt, imageRelease } from "../context.ts";
import type { Position } from "../findings.ts";
import type { ConfigFile } from "../sources.ts";

function adminCommandFix(ctx: CheckContext): string {
  const server = ctx.env.homeserver.serverName ?? "<server_name>";
  const reg = ctx.env.production.registration
    ? path.basename(ctx.env.production.registration)
    : "registration.yaml";
  const tuwunel =
    ctx.env.homeserver.kind === "tuwunel"
      ? " tuwunel also loads `[global.appservice.<id>]` tables (v1.2.0+) and the Synapse-format files in `appservice_dir` (v1.6.0+)."
      : "";
  return [
    `Remove it. Register the appservice once from the admin room (#admins:${server}): send a message whose first line is the command and whose body is the registration in a code block:`,
    "",
    "    !admin appservices register",
    "    ```yaml",
    `    <the contents of ${reg}>`,
    "    ```",
    "",
    `The server answers "Appservice registered with ID: <id>" and keeps it in its database across restarts (\`!admin appservices list\` shows it).${tuwunel}`,
  ].join("\n");
}

/** Whether this server reads a [global] key that loads registrations (tuwunel, from the release that added it). */
function readsKey(ctx: CheckContext, key: string): boolean {
  const kind = ctx.env.homeserver.kind;
  const release = imageRelease(ctx.env.homeserver.image);
  if (kind !== "tuwunel") return false;
  const since: Record<string, string> = { appservice: "v1.2.0", appservice_dir: "v1.6.0" };
  return key in since && (!release || atLeast(release, since[key]));
}

const LOOKALIKE_KEYS = [
  "appservice",
  "appservices",
  "appservice_dir",
  "app_service_config_files",
  "appservice_registration",
  "appservice_registrations",
  "registration_file",
  "registration_files",
];

export const homeserverChecks: CheckGroup = {
  subject: "homeserver",
  checks: [
    {
      id: "synapse.registration-not-loaded",
      severity: "error",
      catches:
        "Synapse's `app_service_config_files` is missing or empty while the environment names a registration",
      why: "Synapse knows only the appservices listed there (read at start-up). Without it the bridge's as_token is unknown: M_UNKNOWN_TOKEN, the bridge exits with code 16.",
      fix: "List the registration's path (as the homeserver sees it) under `app_service_config_files` and restart Synapse.",
    },
    {
      id: "conduwuit.appservices-array",
      severity: "error",
      catches:
        "a top-level `[[appservices]]` (or `[[appservice]]`) table in a continuwuity/tuwunel TOML file",
      why: 'No conduwuit-family server has such an option. continuwuity v0.5.0-rc4 refuses to start: "TOML parse error ... invalid type: sequence, expected a map" (checked by running it); releases that ignore unknown keys start without the appservice, and the bridge exits with code 16.',
      fix: "(shown with the finding: the admin-room command that registers the appservice)",
      evidence:
        "examples/operator-repo/mistakes/continuwuity-appservices-array/consequence.yaml and scenarios/repro-appservices-in-toml.yaml (continuwuity v0.5.0-rc4 does not start), run by npm test",
    },
    {
      id: "conduwuit.appservice-key-ignored",
      severity: "error",
      catches: "a TOML key meant to load a registration that this server (or this release) does not read",
      why: 'continuwuity ignores `[global.appservice.*]`, `appservice_dir` and similar keys with "WARN Config parameter ... is unknown ..., ignoring." (checked on v0.5.0-rc4); tuwunel reads `[global.appservice.<id>]` only from v1.2.0 and `appservice_dir` only from v1.6.0. Nothing is registered: the as_token is unknown and the bridge exits with code 16.',
      fix: "(shown with the finding: the admin-room command that registers the appservice)",
    },
    {
      id: "tuwunel.appservice-differs",
      severity: "error",
      catches:
        "a tuwunel `[global.appservice.<id>]` table disagrees with the registration file (tokens, url, sender_localpart)",
      why: "tuwunel uses the table, not the file: a token that differs from the bridge's makes the bridge exit with code 16 (as_token) or 13 (hs_token, failed ping); a wrong url makes the ping fail (exit 13).",
      fix: "Generate the table from the registration the bridge wrote (or use `appservice_dir` with the file itself on tuwunel >= 1.6.0).",
    },
  ],
  run(ctx) {
    if (ctx.env.homeserver.kind === "synapse") checkSynapse(ctx);
    else checkConduwuit(ctx);
  },
};

function checkSynapse(ctx: CheckContext): void {
  if (!ctx.registration) return;
  const files = ctx.homeserver.at<unknown>(["app_service_config_files"]);
  if (Array.isArray(files?.value) && files.value.length > 0) return;
  const at: Position = files ?? ctx.homeserver.fallback() ?? envAt(ctx, ["homeserver"]);
  ctx.findings.add(
    "synapse.registration-not-loaded",
    { file: at.file, line: at.line },
    files
      ? "app_service_config_files lists no registration"
      : `no app_service_config_files in the homeserver config, so ${path.basename(ctx.registration.path)} is never loaded`,
  );
}

function checkConduwuit(ctx: CheckContext): void {
  const f = ctx.findings;
  const kind = ctx.env.homeserver.kind;
  const fix = adminCommandFix(ctx);
  for (const file of ctx.homeserver.files) {
    if (!isPlainObject(file.data)) continue;
    for (const [key, value] of Object.entries(file.data)) {
      if (key === "global") continue;
      const at = { file: file.path, line: file.line([key]) };
      if (/^appservices?$/.test(key) && Array.isArray(value))
        f.add(
          "conduwuit.appservices-array",
          at,
          `[[${key}]] is not a ${kind} option: ${kind === "continuwuity" ? "continuwuity v0.5.0-rc4 refuses to start on it" : "the file's top level holds only [global]"}`,
          { fix },
        );
      else if (/appservice|registration/.test(key))
        f.add(
          "conduwuit.appservice-key-ignored",
          at,
          `[${key}] is outside [global]: ${kind} ignores it and registers nothing`,
          { fix },
        );
    }
    const global = file.data.global;
    if (!isPlainObject(global)) continue;
    for (const key of LOOKALIKE_KEYS) {
      if (!(key in global) || readsKey(ctx, key)) continue;
      const release = imageRelease(ctx.env.homeserver.image);
      f.add(
        "conduwuit.appservice-key-ignored",
        { file: file.path, line: file.line(["global", key]) },
        `${kind}${release ? ` ${release}` : ""} does not read global.${key}: it logs an unknown-key warning and registers nothing`,
        { fix },
      );
    }
    if (readsKey(ctx, "appservice") && isPlainObject(global.appservice)) compareTuwunelTables(ctx, file);
  }
}

function compareTuwunelTables(ctx: CheckContext, file: ConfigFile): void {
  const reg = ctx.registration;
  if (!reg || !isPlainObject(reg.data)) return;
  const tables = (file.data as any).global.appservice as Record<string, unknown>;
  const regData = reg.data;
  for (const [id, table] of Object.entries(tables)) {
    if (!isPlainObject(table)) continue;
    if (typeof regData.id === "string" && Object.keys(tables).length > 1 && id !== regData.id) continue;
    for (const key of ["as_token", "hs_token", "url", "sender_localpart"]) {
      if (!(key in table) || table[key] === regData[key]) continue;
      const secret = key.endsWith("_token");
      ctx.findings.add(
        "tuwunel.appservice-differs",
        { file: file.path, line: file.line(["global", "appservice", id, key]) },
        secret
          ? `global.appservice.${id}.${key} differs from ${key} in ${path.basename(reg.path)}`
          : `global.appservice.${id}.${key} is ${JSON.stringify(table[key])}, ${path.basename(reg.path)} says ${JSON.stringify(regData[key])}`,
      );
    }
  }
}
