// The upgrade/rollback/config-change step vocabulary, in the scenario validator's format
// (src/config/steps.ts StepTypeSpec). Pure data: the implementations are in steps.ts.

import type { FieldSpec } from "../config/fields.ts";
import type { StepTypeSpec } from "../config/steps.ts";

const IMAGE: FieldSpec = {
  type: "string",
  required: true,
  pattern: /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/,
  patternHint: 'an image reference like "mautrix/slack:v0.2.0"',
  doc: "image to run (upstream name; the image map substitutes local builds)",
};
const user: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  doc: "logged-in Matrix user whose bridge login must be CONNECTED again, and who observes messages (default: the first of matrix.users)",
};
const checkLogin: FieldSpec = {
  type: "boolean",
  doc: "also wait until the user's login reports CONNECTED through the provisioning API (default true; turn it off when the change takes away the user's access to the bridge, which makes the API answer 403)",
};
const expectOutcome: FieldSpec = {
  type: "string",
  enum: ["running", "refused"],
  doc: "the bridge must keep running (default), or refuse to start (exit code and FATAL lines are reported)",
};
const snapshotName: FieldSpec = {
  type: "string",
  pattern: /^[a-z0-9_]+$/,
  patternHint: "lower-case letters, digits and _",
  doc: "snapshot name",
};
const whileDown: FieldSpec = {
  type: "list",
  doc: "Slack messages posted while the bridge is down (after the old one stopped); each must reach Matrix exactly once after the new one connects",
  items: {
    type: "object",
    doc: "a Slack message",
    fields: {
      user: { type: "string", ref: "slackUser", required: true, doc: "Slack user" },
      channel: { type: "string", ref: "channel", required: true, doc: "Slack channel" },
      text: { type: "string", required: true, doc: "plain text (unique in the scenario)" },
    },
  },
};
const matrixWhileDown: FieldSpec = {
  type: "list",
  doc: "Matrix messages sent while the bridge is down; the homeserver retries the transaction and each must reach Slack once the new bridge runs",
  items: {
    type: "object",
    doc: "a Matrix message",
    fields: {
      user: { type: "string", ref: "matrixUser", required: true, doc: "Matrix user (joined to the portal)" },
      channel: { type: "string", ref: "channel", required: true, doc: "Slack channel whose portal gets it" },
      text: { type: "string", required: true, doc: "plain text (unique in the scenario)" },
    },
  },
};
const swapFields: Record<string, FieldSpec> = {
  image: IMAGE,
  user,
  expect: expectOutcome,
  while_down: whileDown,
  matrix_while_down: matrixWhileDown,
  check_prediction: {
    type: "boolean",
    doc: "fail when the schema prediction differs from what the bridge did (default true)",
  },
  max_swap: { type: "duration", doc: "fail when stop -> ready and connected takes longer" },
};
const sections: Record<string, FieldSpec> = Object.fromEntries(
  ["main", "state", "slack", "crypto"].map((s) => [
    s,
    {
      type: "object",
      doc: `the ${s} section's version row`,
      fields: {
        version: { type: "integer", min: 0, doc: "version" },
        compat: { type: "integer", min: 0, doc: "compatible down to" },
      },
    } satisfies FieldSpec,
  ]),
);

export const UPGRADE_STEP_TYPES: Record<string, StepTypeSpec> = {
  "db.snapshot": {
    doc: "Snapshots the bridge database under a name (PostgreSQL template copy). A running bridge is stopped for the copy and waited for again. Records the schema versions and portal/ghost/message counts.",
    fields: { name: { ...snapshotName, required: true }, user },
    example: { name: "before_upgrade", user: "alice" },
  },
  "bridge.upgrade": {
    doc: "Replaces the bridge with another image (config, registration and database kept). Predicts from the database's version tables whether the image will accept the schema, then reports the prediction next to the outcome, the schema before/after and how long stop -> ready -> connected to Slack took.",
    fields: swapFields,
    example: {
      image: "mautrix/slack:v0.2.0",
      user: "alice",
      while_down: [{ user: "bob", channel: "#dev-platform", text: "sent during the upgrade" }],
    },
  },
  "bridge.rollback": {
    doc: "Replaces the bridge with an older image, optionally restoring a db.snapshot first. Without a restore the old binary meets the newer schema: the step predicts accept/refuse (compat vs latest known version) and checks the prediction against what happens. A refusal is reported with exit code and FATAL lines; `expect: refused` asserts it.",
    fields: {
      ...swapFields,
      restore: { ...snapshotName, doc: "db.snapshot to restore before starting (default: none)" },
    },
    example: { image: "mautrix/slack:v0.1.0", restore: "before_upgrade", user: "alice" },
  },
  "homeserver.upgrade": {
    doc: "Replaces the homeserver with another image while the bridge keeps running (config, signing key, database kept), then waits until the bridge is healthy and its login CONNECTED. Reports the homeserver's version and state version (Synapse's schema, the conduwuit family's RocksDB version) before/after.",
    fields: {
      image: { ...IMAGE, doc: 'homeserver image ("matrixdotorg/synapse:v1.163.2")' },
      user,
    },
    example: { image: "matrixdotorg/synapse:v1.163.2", user: "alice" },
  },
  "config.change": {
    doc: "Applies a config overlay over the environment's bridge config (stacking on earlier changes) and restarts the bridge; waits until it is connected again. Later `expect.logs_since` steps can compare the log after this point.",
    fields: {
      bridge: {
        type: "any",
        required: true,
        doc: "overlay deep-merged over the bridge config (YAML mapping)",
      },
      user,
      check_login: checkLogin,
    },
    example: { bridge: { logging: { min_level: "info" } }, user: "alice" },
  },
  "config.revert": {
    doc: "Drops every config.change overlay, restarts the bridge with the environment's own config and waits until it is connected again.",
    fields: { user, check_login: checkLogin },
    example: { user: "alice" },
  },
  "expect.schema": {
    doc: "Asserts the bridge database's version rows: what a release leaves (`release: v0.2.0`, i.e. its latest version per section) and/or exact rows per section.",
    fields: {
      release: { type: "string", doc: 'every section at this release\'s latest version ("v0.2.0")' },
      ...sections,
    },
    example: { release: "v0.2.0", main: { version: 20, compat: 9 } },
  },
  "expect.no_duplicates": {
    doc: "Checks a channel both ways: every unedited, undeleted message a Slack user posted appears exactly once in the portal, and no Matrix message was posted twice to Slack.",
    fields: {
      channel: { type: "string", ref: "channel", required: true, doc: "Slack channel" },
      user,
    },
    example: { channel: "#dev-platform", user: "alice" },
  },
  "expect.logs_since": {
    doc: "Asserts on the bridge log lines written after an earlier step (config.change, config.revert, bridge.upgrade, ...): levels that must (not) appear, substrings that must (not) appear.",
    fields: {
      since: { type: "string", required: true, doc: "id of an earlier step" },
      levels_present: {
        type: "list",
        items: { type: "string", enum: ["trace", "debug", "info", "warn", "error", "fatal"], doc: "level" },
        doc: "at least one line at each of these levels",
      },
      levels_absent: {
        type: "list",
        items: { type: "string", enum: ["trace", "debug", "info", "warn", "error", "fatal"], doc: "level" },
        doc: "no line at any of these levels",
      },
      present: { type: "list", items: { type: "string", doc: "substring" }, doc: "each must appear" },
      absent: { type: "list", items: { type: "string", doc: "substring" }, doc: "none may appear" },
    },
    example: { since: "to-info", levels_absent: ["debug"] },
  },
  "expect.command": {
    doc: "A Matrix user sends a command to the bridge bot in their management room (DM with the bot) and the bot's reply must (not) contain text — e.g. a permission change makes `login` answer \"You don't have permission\".",
    fields: {
      user: { ...user, required: true },
      command: { type: "string", required: true, doc: 'command text ("help", "login app")' },
      reply_contains: {
        type: "list",
        items: { type: "string", doc: "substring" },
        doc: "the reply contains each",
      },
      reply_lacks: {
        type: "list",
        items: { type: "string", doc: "substring" },
        doc: "the reply contains none",
      },
    },
    example: { user: "alice", command: "help", reply_contains: ["login"] },
  },
};

/** One-line title of an upgrade step for reports; undefined for other step types. */
export function describeUpgradeStep(type: string, a: Record<string, any>): string | undefined {
  const downParts = [
    a.while_down?.length ? `${a.while_down.length} Slack` : "",
    a.matrix_while_down?.length ? `${a.matrix_while_down.length} Matrix` : "",
  ].filter(Boolean);
  const down = downParts.length ? `, ${downParts.join(" + ")} message(s) sent while it is down` : "";
  switch (type) {
    case "db.snapshot":
      return `snapshot the bridge database as "${a.name}"`;
    case "bridge.upgrade":
      return `upgrade the bridge to ${a.image}${a.expect === "refused" ? " (must refuse to start)" : ""}${down}`;
    case "bridge.rollback":
      return `roll the bridge back to ${a.image}${a.restore ? ` restoring "${a.restore}"` : " without restoring the database"}${a.expect === "refused" ? " (must refuse to start)" : ""}${down}`;
    case "homeserver.upgrade":
      return `upgrade the homeserver to ${a.image} under the running bridge`;
    case "config.change":
      return `change the bridge config: ${JSON.stringify(a.bridge)}`;
    case "config.revert":
      return "revert the bridge config to the environment's";
    case "expect.schema":
      return `bridge schema ${[a.release ? `at ${a.release}` : "", ...["main", "state", "slack", "crypto"].filter((s) => a[s]).map((s) => `${s} ${a[s].version ?? "?"}/${a[s].compat ?? "?"}`)].filter(Boolean).join(", ")}`;
    case "expect.no_duplicates":
      return `every message in ${a.channel} bridged exactly once`;
    case "expect.logs_since":
      return `bridge log since ${a.since}${a.levels_absent?.length ? ` has no ${a.levels_absent.join("/")} lines` : ""}${a.levels_present?.length ? ` has ${a.levels_present.join("/")} lines` : ""}`;
    case "expect.command":
      return `${a.user} sends "${a.command}" to the bridge bot`;
    default:
      return undefined;
  }
}
