// mautrix-slack config generation (pure parts): the harness overrides applied after the user's
// overlays, and what the bridge's exit codes mean.
import { deepMergeAll, getPath, isPlainObject, type PlainObject } from "../../util/deep-merge.ts";

export const BRIDGE_ALIAS = "bridge";
export const BRIDGE_PORT = 29335;
export const BRIDGE_DATA_DIR = "/data";
export const BRIDGE_CA_PATH = "/usr/local/share/bridge-harness/ca.pem";
export const BRIDGE_UID = 1337;

export interface BridgeOverrideParams {
  /** homeserver.domain (the Matrix server name). */
  domain: string;
  /** URL of the homeserver as the bridge container reaches it. */
  homeserverUrl: string;
  /** postgres:// URI of the bridge database as the bridge container reaches it. */
  databaseUri: string;
  /** URL of the bridge as the homeserver reaches it. */
  appserviceAddress: string;
  provisioningSecret: string;
  /** Users/domains to grant bridge admin (the homeserver domain by default). */
  adminUsers?: string[];
}

/**
 * The few keys the environment needs, computed against the already overlaid config (so a level or
 * permission set by the config under test survives).
 */
export function bridgeOverrides(overlaid: PlainObject, p: BridgeOverrideParams): PlainObject {
  const permissions: PlainObject = isPlainObject(getPath(overlaid, "bridge.permissions"))
    ? { ...(getPath(overlaid, "bridge.permissions") as PlainObject) }
    : {};
  // The example's placeholder entries mean nothing here; drop them.
  delete permissions["example.com"];
  delete permissions["@admin:example.com"];
  if (!(p.domain in permissions)) permissions[p.domain] = "admin";
  for (const user of p.adminUsers ?? []) permissions[user] = "admin";

  const level = getPath(overlaid, "logging.min_level");
  // The example's bot avatar lives on maunium.net: fetching it would make the homeserver reach out
  // of the run's network. Remote avatars are dropped; avatars on the run's own homeserver stay.
  const avatar = getPath(overlaid, "appservice.bot.avatar");
  const botAvatar =
    typeof avatar === "string" && avatar.startsWith("mxc://") && !avatar.startsWith(`mxc://${p.domain}/`)
      ? ""
      : avatar;
  return {
    homeserver: { address: p.homeserverUrl, domain: p.domain },
    database: { type: "postgres", uri: p.databaseUri },
    appservice: {
      address: p.appserviceAddress,
      hostname: "0.0.0.0",
      port: BRIDGE_PORT,
      ...(botAvatar === undefined ? {} : { bot: { avatar: botAvatar } }),
    },
    provisioning: { shared_secret: p.provisioningSecret },
    bridge: { permissions },
    logging: {
      min_level: typeof level === "string" && level !== "" ? level : "debug",
      writers: [{ type: "stdout", format: "pretty" }],
    },
  };
}

/** Where the provisioning API lives: `provisioning.prefix` up to mautrix-go v0.2x; fixed since. */
export const DEFAULT_PROVISIONING_PREFIX = "/_matrix/provision";

/** example config -> overlays in order -> harness overrides; throws when the result would not start. */
export function buildBridgeConfig(
  example: PlainObject,
  overlays: PlainObject[],
  p: BridgeOverrideParams,
): PlainObject {
  const overlaid = deepMergeAll<PlainObject>(example, overlays);
  const overrides = bridgeOverrides(overlaid, p);
  const merged = deepMergeAll<PlainObject>(overlaid, [overrides]);
  // permissions are replaced wholesale (the merge would keep the example's placeholders).
  (merged.bridge as PlainObject).permissions = (overrides.bridge as PlainObject).permissions;
  (merged.logging as PlainObject).writers = (overrides.logging as PlainObject).writers;
  // Releases whose example has no provisioning.prefix (the current ones) drop the key and serve the
  // API at /_matrix/provision whatever an old overlay says; so does the harness.
  if (getPath(example, "provisioning.prefix") === undefined)
    delete (merged.provisioning as PlainObject | undefined)?.prefix;
  const problems = bridgeConfigProblems(merged);
  if (problems.length)
    throw new Error(`the generated mautrix-slack config would not work:\n  ${problems.join("\n  ")}`);
  return merged;
}

/** Where the harness reaches the provisioning API of a bridge running `config`. */
export function provisioningPrefix(config: PlainObject): string {
  const prefix = getPath(config, "provisioning.prefix");
  return typeof prefix === "string" && prefix !== ""
    ? prefix.replace(/\/+$/, "")
    : DEFAULT_PROVISIONING_PREFIX;
}

/**
 * What the bridge refuses at start (exit 11, mautrix-go bridgeconfig) or silently disables, for the
 * keys the harness owns (the appservice tokens come later, from `-g`): each problem names the key.
 */
export function bridgeConfigProblems(config: PlainObject): string[] {
  const problems: string[] = [];
  const str = (path: string) => {
    const v = getPath(config, path);
    return typeof v === "string" ? v : undefined;
  };
  if (!str("homeserver.address") || str("homeserver.address") === "http://example.localhost:8008")
    problems.push("homeserver.address: unset or the example's placeholder");
  if (!str("homeserver.domain") || str("homeserver.domain") === "example.com")
    problems.push("homeserver.domain: unset or the example's example.com");
  const software = str("homeserver.software") ?? "standard";
  if (!["standard", "asmux", "hungry"].includes(software))
    problems.push(`homeserver.software: "${software}" is not standard, asmux or hungry`);
  if (!str("database.uri") || str("database.uri")?.includes("user:password@host"))
    problems.push("database.uri: unset or the example's placeholder");
  if (!str("appservice.address")) problems.push("appservice.address: unset");
  const template = str("appservice.username_template");
  if (template !== undefined && !template.includes("{{.}}"))
    problems.push(`appservice.username_template: "${template}" lacks {{.}}`);
  const permissions = getPath(config, "bridge.permissions");
  const real = isPlainObject(permissions)
    ? Object.keys(permissions).filter((k) => !["*", "example.com", "@admin:example.com"].includes(k))
    : [];
  if (!real.length) problems.push("bridge.permissions: only the example's placeholder entries");
  const secret = str("provisioning.shared_secret") ?? "";
  // mautrix-go disables the provisioning API for a secret under 16 characters (and the literal
  // "generate" is replaced by a random one the harness would not know).
  if (secret.length < 16 || secret === "generate")
    problems.push(
      "provisioning.shared_secret: under 16 characters or `generate`: the provisioning API would be disabled or unknown",
    );
  return problems;
}

const EXIT_CODES: Record<number, string> = {
  0: "exited normally (docker-run.sh generated a config or registration and stopped?)",
  1: "start-up failed (see the FTL line), or a command-line error",
  5: "--generate-registration used together with --no-update",
  10: "config file could not be read, upgraded or parsed",
  11: "config invalid (a required key is unset or still the example value)",
  12: "logging config invalid",
  13: "appservice ping failed: the homeserver cannot reach the bridge at appservice.address",
  14: "database connection could not be initialised (or database.type is sqlite3)",
  15: "database init/upgrade failed; a too-new schema means a downgrade was refused",
  16: "as_token rejected by the homeserver, or the bot could not register",
  17: "whoami returned another user than @<bot.username>:<domain>",
  18: "homeserver too old (no spec >= v1.4) or corrupt database",
  20: "registration generation: homeserver.domain not set",
  21: "registration file could not be saved",
  22: "config could not be saved after generating the registration",
  23: "neither the appservice HTTP listener nor websocket mode is enabled",
  33: "encryption setup failed",
  50: "encryption: device keys invalid",
  51: "encryption: could not share keys",
  137: "killed (SIGKILL, possibly out of memory)",
  143: "terminated (SIGTERM)",
};

export function explainExitCode(code: number): string {
  return EXIT_CODES[code] ?? "unknown exit code";
}
