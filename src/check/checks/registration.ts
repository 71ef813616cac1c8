// The appservice registration the homeserver loads against the bridge config it must agree with:
// tokens, id, URL and port, namespaces, sender_localpart, rate limiting.
import { isPlainObject } from "../../util/deep-merge.ts";
import {
  BRIDGE_DEFAULTS,
  bridgeValue,
  type CheckContext,
  type CheckGroup,
  fileAt,
  quote,
  ref,
  serverName,
  urlParts,
} from "../context.ts";
import { valueAt } from "../sources.ts";

const REQUIRED = ["id", "url", "as_token", "hs_token", "sender_localpart", "namespaces"] as const;

/** A ghost ID as mautrix-slack makes it: lower-case team ID, "-", lower-case user ID. */
const SAMPLE_GHOST_ID = "t0123abcd-u0456efgh";

export const registrationChecks: CheckGroup = {
  subject: "registration",
  checks: [
    {
      id: "registration.missing-field",
      severity: "error",
      catches:
        "a required registration key (id, url, as_token, hs_token, sender_localpart, namespaces) is missing",
      why: "Synapse refuses to start on a registration without these keys; the conduwuit family rejects the `appservices register` command.",
      fix: "Regenerate the registration with the bridge (`mautrix-slack -g -c config.yaml -r registration.yaml`) instead of writing it by hand.",
    },
    {
      id: "registration.id-mismatch",
      severity: "error",
      catches: "the registration's `id` differs from the bridge's `appservice.id`",
      why: "The bridge pings the homeserver as `/_matrix/client/v1/appservice/<appservice.id>/ping`; the homeserver answers 403 for another appservice's id, and the bridge exits with code 13 at start.",
      fix: "Use the same id in both files (the bridge's default is `slack`).",
    },
    {
      id: "registration.as-token-mismatch",
      severity: "error",
      catches: "`as_token` in the registration differs from `appservice.as_token` in the bridge config",
      why: 'The homeserver does not know the token the bridge authenticates with: "as_token was not accepted", the bridge exits with code 16. Typical cause: `-g` was run again (it writes new tokens into the config) but the homeserver kept the old registration.',
      fix: "Copy the registration the bridge generated together with its config to the homeserver (or copy both tokens from one file into the other) and restart the homeserver.",
    },
    {
      id: "registration.hs-token-mismatch",
      severity: "error",
      catches: "`hs_token` in the registration differs from `appservice.hs_token` in the bridge config",
      why: "The bridge rejects every transaction and ping the homeserver sends with the registration's hs_token: the start-up ping fails (exit code 13) and no Matrix event reaches Slack.",
      fix: "Make both tokens equal: the registration and the config come from the same `-g` run.",
    },
    {
      id: "registration.url-port-mismatch",
      severity: "error",
      catches:
        "the port in the registration's `url` is not the port the bridge listens on (`appservice.port`)",
      why: "The homeserver pushes events and the start-up ping to the registration's url; nothing listens there, so the ping fails with M_CONNECTION_FAILED and the bridge exits with code 13.",
      fix: "Point the registration's url at `appservice.port` (default 29335), or change the port in both places.",
    },
    {
      id: "registration.url-differs",
      severity: "warning",
      catches: "the registration's `url` differs from the bridge's `appservice.address`",
      why: "The bridge writes `appservice.address` into the registration whenever it is regenerated with `-g`; a hand-edited url silently changes the next time someone regenerates.",
      fix: "Set `appservice.address` in the bridge config to the URL the homeserver uses, and regenerate or copy the registration's url from it.",
    },
    {
      id: "registration.namespace-misses-bot",
      severity: "error",
      catches: "no `namespaces.users` regex matches the bridge bot `@<appservice.bot.username>:<domain>`",
      why: "The bridge registers its bot with `m.login.application_service`; outside the namespace the homeserver refuses (M_EXCLUSIVE / M_INVALID_USERNAME) and the bridge exits with code 16.",
      fix: "Add an exclusive users namespace `^@<bot username>:<domain>$` (as `-g` writes it), or regenerate the registration after changing the bot username or domain.",
    },
    {
      id: "registration.namespace-misses-ghosts",
      severity: "error",
      catches:
        "no `namespaces.users` regex matches the bridge's Slack users (`appservice.username_template`)",
      why: "Every Slack user becomes a ghost `@<username_template>:<domain>`; outside the namespace the homeserver refuses to register them, so Slack users never join portals and their messages are not bridged.",
      fix: "Add the exclusive users namespace `^@slack_.*:<domain>$` matching the username template (as `-g` writes it), or regenerate the registration after changing the template or domain.",
    },
    {
      id: "registration.sender-localpart-is-bot",
      severity: "warning",
      catches: "`sender_localpart` was set to the bot's username",
      why: "mautrix bridges write a random 32-character `sender_localpart` on purpose and never read it: at runtime the bridge acts as `@<appservice.bot.username>` through `?user_id=`. Making the bot the appservice's sender user hands that account to the homeserver (it is created and owned by the appservice registration itself, exempt from the namespace and rate limits) and usually comes from a hand edit that the next `-g` undoes. If the bot did not answer, the cause is elsewhere: talk to `@<bot username>:<domain>`, not to `@<sender_localpart>`.",
      fix: "Keep the random sender_localpart the bridge generated (regenerate with `-g`, or put back the original value).",
    },
    {
      id: "registration.rate-limited",
      severity: "warning",
      catches: "`rate_limited` is missing or true",
      why: "Synapse rate-limits appservice users unless the registration says `rate_limited: false` (its default is true). Ghosts relaying a busy channel, backfill and bursts after a reconnect then get 429 M_LIMIT_EXCEEDED and messages arrive late.",
      fix: "Set `rate_limited: false` in the registration (mautrix writes it so).",
    },
  ],
  run(ctx) {
    const reg = ctx.registration;
    if (!reg) return;
    const f = ctx.findings;
    const data = isPlainObject(reg.data) ? reg.data : {};
    for (const key of REQUIRED)
      if (!(key in data))
        f.add("registration.missing-field", fileAt(reg, []), `the registration has no \`${key}\``);

    compareWithBridge(ctx, data);
    checkNamespaces(ctx, data);

    const bot = bridgeValue(ctx, ["appservice", "bot", "username"], BRIDGE_DEFAULTS.botUsername);
    if (data.sender_localpart === bot)
      f.add(
        "registration.sender-localpart-is-bot",
        fileAt(reg, ["sender_localpart"]),
        `sender_localpart is "${bot}", the bot's username`,
      );
    if (ctx.env.homeserver.kind !== "continuwuity" && data.rate_limited !== false)
      f.add(
        "registration.rate-limited",
        fileAt(reg, "rate_limited" in data ? ["rate_limited"] : []),
        "rate_limited" in data
          ? `rate_limited is ${quote(data.rate_limited)}`
          : "the registration has no `rate_limited: false` (Synapse's default is true)",
      );
  },
};

function compareWithBridge(ctx: CheckContext, data: Record<string, unknown>): void {
  const reg = ctx.registration!;
  const f = ctx.findings;
  const id = bridgeValue(ctx, ["appservice", "id"], BRIDGE_DEFAULTS.id);
  if (typeof data.id === "string" && data.id !== id)
    f.add(
      "registration.id-mismatch",
      fileAt(reg, ["id"]),
      `registration id "${data.id}", but the bridge's appservice.id is "${id}"`,
    );
  // Token values are secrets: name the keys, never the values.
  for (const [key, check] of [
    ["as_token", "registration.as-token-mismatch"],
    ["hs_token", "registration.hs-token-mismatch"],
  ] as const) {
    const other = ctx.bridge.at<string>(["appservice", key]);
    if (typeof data[key] === "string" && other && other.value !== data[key])
      f.add(check, fileAt(reg, [key]), `${key} differs from appservice.${key} in ${ref(other)}`);
  }
  const url = urlParts(data.url);
  const port = ctx.bridge.at<number>(["appservice", "port"]);
  const listenPort = port?.value ?? BRIDGE_DEFAULTS.port;
  if (url && url.port !== Number(listenPort))
    f.add(
      "registration.url-port-mismatch",
      fileAt(reg, ["url"]),
      `url ${data.url} uses port ${url.port}, the bridge listens on ${listenPort}${port ? ` (${ref(port)})` : " (its default)"}`,
    );
  const address = ctx.bridge.at<string>(["appservice", "address"]);
  const norm = (u: unknown) => String(u).replace(/\/+$/, "");
  if (typeof data.url === "string" && address && norm(address.value) !== norm(data.url))
    f.add(
      "registration.url-differs",
      fileAt(reg, ["url"]),
      `url ${data.url}, but appservice.address is ${address.value} (${ref(address)})`,
    );
}

/**
 * Whether a users namespace matches, with Python's re.match semantics (anchored at the start) as
 * Synapse applies them; undefined when a regex JavaScript cannot read might have matched.
 */
function namespaceMatches(regexes: unknown, userId: string): boolean | undefined {
  if (!Array.isArray(regexes)) return false;
  let unreadable = false;
  for (const ns of regexes) {
    const source = isPlainObject(ns) ? ns.regex : undefined;
    if (typeof source !== "string") continue;
    try {
      if (new RegExp(`^(?:${source})`).test(userId)) return true;
    } catch {
      unreadable = true;
    }
  }
  return unreadable ? undefined : false;
}

function checkNamespaces(ctx: CheckContext, data: Record<string, unknown>): void {
  const reg = ctx.registration!;
  const domain = serverName(ctx);
  if (!domain || !("namespaces" in data)) return;
  const users = valueAt(data, ["namespaces", "users"]);
  const at = fileAt(reg, users === undefined ? ["namespaces"] : ["namespaces", "users"]);
  const bot = `@${bridgeValue(ctx, ["appservice", "bot", "username"], BRIDGE_DEFAULTS.botUsername)}:${domain}`;
  const template = bridgeValue<string>(
    ctx,
    ["appservice", "username_template"],
    BRIDGE_DEFAULTS.usernameTemplate,
  );
  const ghost = `@${String(template).replace("{{.}}", SAMPLE_GHOST_ID)}:${domain}`;
  if (namespaceMatches(users, bot) === false)
    ctx.findings.add("registration.namespace-misses-bot", at, `no users namespace matches the bot ${bot}`);
  if (namespaceMatches(users, ghost) === false) {
    const tpl = ctx.bridge.at(["appservice", "username_template"]);
    ctx.findings.add(
      "registration.namespace-misses-ghosts",
      at,
      `no users namespace matches Slack users like ${ghost} (username_template "${template}"${tpl ? `, ${ref(tpl)}` : ""})`,
    );
  }
}
