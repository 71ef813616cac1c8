// The Slack app against what the bridge version needs: Socket Mode, bot scopes and event
// subscriptions compared with the app manifest mautrix-slack ships (app-manifest.yaml at its tag),
// token rotation, and Slack tokens written into config files.

import { APP_MANIFESTS } from "../../bridges/mautrix-slack/manifest.ts";
import { compareReleases } from "../../upgrade/schema-versions.ts";
import { isPlainObject } from "../../util/deep-merge.ts";
import { type CheckContext, type CheckGroup, fileAt, imageRelease } from "../context.ts";
import type { Severity } from "../findings.ts";
import { forEachString, type Layered, valueAt } from "../sources.ts";

/** What stops working without a scope or event the bridge relies on (the rest: less visible features). */
const ESSENTIAL: Record<string, string> = {
  "chat:write": "messages, edits and deletions from Matrix",
  "reactions:write": "reactions from Matrix",
  "reactions:read": "reactions from Slack",
  "channels:read": "portals for public channels",
  "groups:read": "portals for private channels",
  "im:read": "portals for DMs",
  "mpim:read": "portals for group DMs",
  "channels:history": "messages from public channels",
  "groups:history": "messages from private channels",
  "im:history": "messages from DMs",
  "mpim:history": "messages from group DMs",
  "users:read": "Slack users' names and avatars",
  "team:read": "the workspace's name and icon at login",
  "files:read": "files from Slack",
  "files:write": "files from Matrix",
  "message.channels": "messages from public channels",
  "message.groups": "messages from private channels",
  "message.im": "messages from DMs",
  "message.mpim": "messages from group DMs",
  reaction_added: "reactions from Slack",
  reaction_removed: "reaction removals from Slack",
};

function manifestFor(release: string | undefined) {
  if (!release) return APP_MANIFESTS[APP_MANIFESTS.length - 1];
  return [...APP_MANIFESTS].reverse().find((m) => compareReleases(release, m.since) >= 0) ?? APP_MANIFESTS[0];
}

const TOKEN = /\b(xox[abpr]|xapp)-[A-Za-z0-9-]{8,}/;

export const slackChecks: CheckGroup = {
  subject: "slack",
  checks: [
    {
      id: "slack.socket-mode-disabled",
      severity: "error",
      catches: "the Slack app manifest does not enable Socket Mode (`settings.socket_mode_enabled`)",
      why: "The bridge's app login (`login app` with a bot token and an app-level xapp- token) receives every Slack event over Socket Mode (apps.connections.open with the xapp- token); it has no Events API endpoint. Without Socket Mode the login succeeds but nothing from Slack ever arrives.",
      fix: "Set `settings.socket_mode_enabled: true` and create an app-level token with the `connections:write` scope (Basic Information -> App-Level Tokens); give it to the bridge as the second token of `login app`.",
    },
    {
      id: "slack.token-rotation",
      severity: "error",
      catches: "the Slack app manifest enables token rotation",
      why: "With rotation Slack's bot tokens expire after 12 hours and must be refreshed with a refresh token; mautrix-slack (v0.1.0 to v0.2608.0) has no refresh code, so the login turns to BAD_CREDENTIALS (invalid_auth / token_expired) half a day after `login app`.",
      fix: "Set `settings.token_rotation_enabled: false` (rotation cannot be turned off once tokens were rotated: create a new app from the bridge's manifest).",
    },
    {
      id: "slack.missing-bot-scope",
      severity: "error",
      catches: "bot scopes of the bridge version's app manifest are missing from the app",
      why: "Slack answers the bridge's Web API calls with missing_scope: the features that use them fail (error: messages, reactions, files or portals; warning: the rest, e.g. topics, invites, pins, custom emoji, user group mentions).",
      fix: "Add the scopes to `oauth_config.scopes.bot` (or start from the manifest the bridge ships, app-manifest.yaml at its release tag) and reinstall the app to the workspace.",
    },
    {
      id: "slack.missing-bot-event",
      severity: "error",
      catches: "bot events of the bridge version's app manifest are not subscribed",
      why: "Slack never sends events the app is not subscribed to: without message.* the bridge sees no messages from that kind of conversation, without reaction_* no reactions (error); without the others, renames, archives, joins and profile changes are missed (warning).",
      fix: "Add the events to `settings.event_subscriptions.bot_events` and reinstall the app.",
    },
    {
      id: "slack.token-in-config",
      severity: "error",
      catches: "a Slack token (xoxb-, xoxp-, xapp-) written into a config file",
      why: "The bridge reads no Slack token from its config: tokens are given at login (`login app <xoxb-...> <xapp-...>` or the provisioning API) and kept in its database. A token in a config file does nothing for the bridge and leaks the workspace to everyone who can read the repository.",
      fix: "Remove it, revoke it in the app's settings, and log in with the new tokens through the bridge bot.",
    },
  ],
  run(ctx) {
    scanTokens(ctx, ctx.bridge);
    scanTokens(ctx, ctx.homeserver);
    const m = ctx.slackManifest;
    if (!m || !isPlainObject(m.data)) return;
    const f = ctx.findings;
    const data = m.data;
    if (valueAt(data, ["settings", "socket_mode_enabled"]) !== true)
      f.add(
        "slack.socket-mode-disabled",
        fileAt(m, ["settings", "socket_mode_enabled"]),
        "settings.socket_mode_enabled is not true",
      );
    if (valueAt(data, ["settings", "token_rotation_enabled"]) === true)
      f.add(
        "slack.token-rotation",
        fileAt(m, ["settings", "token_rotation_enabled"]),
        "settings.token_rotation_enabled is true",
      );
    const release = imageRelease(ctx.env.bridge.image);
    const wanted = manifestFor(release);
    const version = release ?? `the newest known release (${APP_MANIFESTS[APP_MANIFESTS.length - 1].since})`;
    missing(ctx, "slack.missing-bot-scope", ["oauth_config", "scopes", "bot"], wanted.scopes, version);
    missing(
      ctx,
      "slack.missing-bot-event",
      ["settings", "event_subscriptions", "bot_events"],
      wanted.events,
      version,
    );
  },
};

function missing(ctx: CheckContext, id: string, path: string[], wanted: string[], version: string): void {
  const m = ctx.slackManifest!;
  const have = valueAt(m.data, path);
  const list = Array.isArray(have) ? have.map(String) : [];
  const absent = wanted.filter((s) => !list.includes(s));
  if (!absent.length) return;
  const essential = absent.filter((s) => s in ESSENTIAL);
  const severity: Severity = essential.length ? "error" : "warning";
  const described = absent.map((s) => (ESSENTIAL[s] ? `${s} (${ESSENTIAL[s]})` : s));
  ctx.findings.add(
    id,
    fileAt(m, path),
    `${path.join(".")} lacks ${absent.length} of mautrix-slack ${version}'s: ${described.join(", ")}`,
    { severity },
  );
}

function scanTokens(ctx: CheckContext, config: Layered): void {
  for (const file of config.files)
    forEachString(file.data, (value, path) => {
      const hit = TOKEN.exec(value);
      // Name the kind and the key, never the token.
      if (hit)
        ctx.findings.add(
          "slack.token-in-config",
          fileAt(file, path),
          `${path.join(".")} holds a Slack ${hit[1]}- token`,
        );
    });
}
