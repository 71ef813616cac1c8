// The scenario step vocabulary: every step type, its fields and an example. The validator, the
// JSON Schema (schema/scenario.schema.json) and docs/scenarios.md are all derived from this table;
// the implementations live in src/scenario/steps.ts.
import { AUTH_STEP_TYPES } from "../auth/step-types.ts";
import { CHECK_STEP_TYPES } from "../check/step-type.ts";
import { faultStepTypes } from "../faults/step-types.ts";
import { PORTAL_STEP_TYPES } from "../portals/step-types.ts";
import { UPGRADE_STEP_TYPES } from "../upgrade/step-types.ts";
import type { FieldSpec } from "./fields.ts";

export interface StepTypeSpec {
  doc: string;
  fields: Record<string, FieldSpec>;
  /** The step posts a message other steps can refer to with `message: <step id>`. */
  producesMessage?: boolean;
  /** This field's value names a conversation (a new channel, a DM) later steps may use as `channel:`. */
  producesChannel?: string;
  /** Groups of fields of which exactly one must be given (e.g. a message's text, typed or blocks). */
  exactlyOne?: string[][];
  /** Example (the value under the step key) for the docs. */
  example: Record<string, unknown> | null;
}

const user: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  required: true,
  doc: "Matrix user (from matrix.users)",
};
const slackUser: FieldSpec = {
  type: "string",
  ref: "slackUser",
  required: true,
  doc: "Slack user (from the slack: seed)",
};
const channel: FieldSpec = {
  type: "string",
  ref: "channel",
  required: true,
  doc: 'Slack channel, "#dev-platform" or its ID',
};
const message: FieldSpec = {
  type: "string",
  ref: "message",
  required: true,
  doc: "id of an earlier step that posted the message",
};
const thread: FieldSpec = {
  type: "string",
  ref: "message",
  doc: "id of an earlier step whose message is the thread root: the post is a thread reply",
};
const observer: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  doc: "Matrix user who observes the portal (default: the first of matrix.users)",
};
const trafficCount: FieldSpec = { type: "integer", min: 1, required: true, doc: "how many messages" };
const trafficRate: FieldSpec = { type: "integer", min: 1, doc: "messages sent per second (default 10)" };
const file: FieldSpec = {
  type: "object",
  required: true,
  doc: "the file: a generated PNG image (name ending .png, no size/path), `size` random bytes, or `path` on disk",
  fields: {
    name: { type: "string", required: true, doc: "file name" },
    mimetype: { type: "string", doc: "MIME type (default: from the name's extension)" },
    size: { type: "size", doc: 'generate this many deterministic bytes ("9MB")' },
    path: { type: "string", doc: "upload this file (relative to the scenario file)" },
  },
};
const strings = (doc: string): FieldSpec => ({ type: "list", items: { type: "string", doc: "text" }, doc });

/** Sustained traffic; also what a fault step's `during:` list runs alongside the fault. */
const TRAFFIC_STEP_TYPES: Record<string, StepTypeSpec> = {
  "slack.traffic": {
    doc: "Sustained traffic from Slack: a Slack user posts `count` numbered messages at `per_second`; the observer must see every one in the portal exactly once and in order, each within the budget (one latency sample per message).",
    fields: { user: slackUser, channel, count: trafficCount, per_second: trafficRate, observer },
    example: { user: "bob", channel: "#dev-platform", count: 1000, per_second: 20 },
  },
  "matrix.traffic": {
    doc: "Sustained traffic from Matrix: a Matrix user sends `count` numbered messages at `per_second`; the bridge must post every one to Slack exactly once and in order, each within the budget (one latency sample per message). While the homeserver is unreachable (a fault) the sender retries each message as a client does.",
    fields: { user, channel, count: trafficCount, per_second: trafficRate },
    example: { user: "alice", channel: "#dev-platform", count: 1000, per_second: 20 },
  },
};

export const SERVICES = ["bridge", "homeserver"] as const;
/** Services whose logs steps can read; `mas` and `proxy` exist in environments with MAS in front. */
export const LOG_SERVICES = ["bridge", "homeserver", "postgres", "mas", "proxy"] as const;
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

export const STEP_TYPES: Record<string, StepTypeSpec> = {
  login: {
    doc: "Logs a Matrix user into the bridge with the Slack app's bot and app tokens: `login app` in the DM with the bridge bot (via: chat) or through the provisioning API (via: provisioning). Waits until the bridge reports CONNECTED and a Socket Mode connection is open.",
    fields: {
      user,
      via: { type: "string", enum: ["chat", "provisioning"], doc: "how to log in (default chat)" },
      app: { type: "string", ref: "app", doc: "which app of the seed (default: the first)" },
    },
    example: { user: "alice", via: "chat" },
  },
  // Portal lifecycle: channels, DMs, membership and profiles (src/portals/step-types.ts).
  "expect.portal": PORTAL_STEP_TYPES["expect.portal"] as StepTypeSpec,
  "slack.post": {
    doc: "A Slack user (or an integration seeded under bots:, posting as bot_message) posts a message, given as `text` (Slack mrkdwn as Slack stores it: *bold*, _italic_, `code`, <https://x|links>, <@name> mentions, &lt; &gt; &amp; for < > &), `typed` (what a person types into a Slack client: raw characters, @name for people and user groups, @here, #channel, :emoji:, URLs, lists, > quotes, ``` code) or `blocks` (rich_text blocks, verbatim); the Matrix user must see it in the portal, and unless expect.body says otherwise its rendered text must be the message's (markup and entities decoded). With `thread:` it is a thread reply.",
    producesMessage: true,
    exactlyOne: [["text", "typed", "blocks"]],
    fields: {
      user: { ...slackUser, doc: "Slack user or integration (from the slack: seed)" },
      channel,
      text: { type: "string", doc: "message text in Slack mrkdwn" },
      typed: {
        type: "string",
        doc: "what a person types into a Slack client (becomes rich_text as the client sends it)",
      },
      blocks: {
        type: "list",
        items: { type: "any", doc: "a Slack block" },
        doc: "rich_text blocks, sent verbatim",
      },
      thread,
      observer,
      new_portal: {
        type: "boolean",
        doc: "the conversation has no portal yet and this first message must create it (latency: to the observer's invite; the message, plain text, must be in the new room)",
      },
      bridged: {
        type: "boolean",
        doc: "false: the bridge must receive the message but nothing may reach the observer within `window` (what a bridge version does not relay)",
      },
      window: { type: "duration", doc: "with bridged: false, how long nothing may arrive (default 2s)" },
      expect: {
        type: "object",
        doc: "what the Matrix event must contain (default: body equals text for plain text, else the rendered text is the message's)",
        fields: {
          body: { type: "string", doc: "exact plain-text body (replaces the default check)" },
          contains: strings("substrings of the plain-text body"),
          html: strings('substrings of formatted_body ("<strong>bold</strong>")'),
          no_html: strings("substrings formatted_body must not have"),
          mentions: {
            type: "list",
            items: { type: "string", ref: "slackUser", doc: "Slack user" },
            doc: "Slack users mentioned as Matrix pills",
          },
          room_mention: { type: "boolean", doc: "the event mentions the whole room (m.mentions.room)" },
        },
      },
    },
    example: {
      user: "bob",
      channel: "#dev-platform",
      typed: "hello *team*, a < b",
      expect: { html: ["<strong>team</strong>", "a &lt; b"] },
    },
  },
  "matrix.send": {
    doc: "A Matrix user sends a message in the portal (optionally with HTML formatting); the bridge must call chat.postMessage. With `thread:` it is a thread reply.",
    producesMessage: true,
    fields: {
      user,
      channel,
      text: { type: "string", required: true, doc: "plain-text body" },
      html: { type: "string", doc: "formatted_body (org.matrix.custom.html)" },
      thread,
      expect: {
        type: "object",
        doc: "what the Slack message must contain (default: text equals the body for plain text; with html, the stored message reads as the HTML's text)",
        fields: {
          text: { type: "string", doc: "exact text of the message (rich-text blocks flattened)" },
          contains: strings("substrings of the text"),
          styles: {
            type: "list",
            items: { type: "string", enum: ["bold", "italic", "code", "strike"], doc: "style" },
            doc: "rich-text styles that must appear",
          },
          links: strings("link URLs that must appear"),
          mentions: {
            type: "list",
            items: { type: "string", ref: "slackUser", doc: "Slack user" },
            doc: "Slack users mentioned",
          },
        },
      },
    },
    example: {
      user: "alice",
      channel: "#dev-platform",
      text: "bold move",
      html: "<b>bold</b> move",
      expect: { styles: ["bold"] },
    },
  },
  "slack.react": {
    doc: "A Slack user adds a reaction (Slack shortcode, no colons) to a message; the Matrix user must see the m.reaction. For a custom emoji of the workspace, the reaction must carry its image (fi.mau.slack.reaction.mxc), byte for byte the one Slack serves.",
    fields: {
      user: slackUser,
      message,
      emoji: { type: "string", required: true, doc: 'Slack shortcode ("thumbsup")' },
      observer,
    },
    example: { user: "bob", message: "hello", emoji: "thumbsup" },
  },
  "slack.add_emoji": {
    doc: "A workspace admin adds a custom emoji (a generated image served on emoji.slack-edge.com, or an alias of another): Slack sends emoji_changed to the app, which the bridge must acknowledge. Later reactions with it show its image.",
    fields: {
      name: {
        type: "string",
        required: true,
        pattern: /^[a-z0-9_+'-]+$/,
        patternHint: "lowercase letters, digits, _ + ' -",
        doc: "the emoji's name (its shortcode)",
      },
      alias: { type: "string", doc: "make it an alias of this existing emoji instead of an image" },
    },
    example: { name: "shipit" },
  },
  "slack.unreact": {
    doc: "A Slack user removes a reaction added by an earlier slack.react; the Matrix user must see the reaction redacted.",
    fields: {
      user: slackUser,
      message,
      emoji: { type: "string", required: true, doc: "Slack shortcode" },
      observer,
    },
    example: { user: "bob", message: "hello", emoji: "thumbsup" },
  },
  "matrix.react": {
    doc: "A Matrix user reacts to a message; the bridge must call reactions.add with the Slack shortcode.",
    fields: {
      user,
      message,
      emoji: {
        type: "string",
        required: true,
        doc: 'the reaction key ("👍") or a known shortcode ("thumbsup")',
      },
      slack_name: { type: "string", doc: "expected Slack shortcode (default: derived from emoji)" },
    },
    example: { user: "alice", message: "hello", emoji: "👍" },
  },
  "matrix.unreact": {
    doc: "A Matrix user redacts a reaction sent by an earlier matrix.react; the bridge must call reactions.remove.",
    fields: {
      user,
      message,
      emoji: { type: "string", required: true, doc: "the same emoji as in matrix.react" },
      slack_name: { type: "string", doc: "expected Slack shortcode (default: derived from emoji)" },
    },
    example: { user: "alice", message: "hello", emoji: "👍" },
  },
  "slack.edit": {
    doc: "A Slack user edits a message; the Matrix user must see an m.replace edit with the new text.",
    fields: { user: slackUser, message, text: { type: "string", required: true, doc: "new text" }, observer },
    example: { user: "bob", message: "hello", text: "hello, edited" },
  },
  "matrix.edit": {
    doc: "A Matrix user edits their message (m.replace); the bridge must call chat.update on the original ts.",
    fields: { user, message, text: { type: "string", required: true, doc: "new text" } },
    example: { user: "alice", message: "hi", text: "hi, edited" },
  },
  "slack.delete": {
    doc: "A Slack user deletes a message; the Matrix user must see the event redacted.",
    fields: { user: slackUser, message, observer },
    example: { user: "bob", message: "hello" },
  },
  "matrix.redact": {
    doc: "A Matrix user redacts their message; the bridge must call chat.delete.",
    fields: { user, message },
    example: { user: "alice", message: "hi" },
  },
  "slack.upload": {
    doc: "A Slack user shares a file in a channel; the Matrix user must see an m.image/m.file whose media downloads byte for byte.",
    producesMessage: true,
    fields: {
      user: slackUser,
      channel,
      file,
      thread,
      observer,
      comment: { type: "string", doc: "initial comment" },
    },
    example: { user: "bob", channel: "#dev-platform", file: { name: "blob.bin", size: "9MB" } },
  },
  "matrix.upload": {
    doc: "A Matrix user uploads a file to the portal; the bridge must upload it to Slack (files.getUploadURLExternal, upload, files.completeUploadExternal) with the same size.",
    producesMessage: true,
    fields: { user, channel, file, thread },
    example: { user: "alice", channel: "#dev-platform", file: { name: "diagram.png" } },
  },
  ...TRAFFIC_STEP_TYPES,
  restart: {
    doc: "Restarts a service (bridge or homeserver) and waits until it is back.",
    fields: { service: { type: "string", enum: SERVICES, required: true, doc: "which service" } },
    example: { service: "bridge" },
  },
  "wait.healthy": {
    doc: "Waits until the bridge is live and ready and, once a user is logged in, its login is CONNECTED with a Socket Mode connection open, and every Matrix user's sync delivers; up to a minute, or the step's `timeout:` when it gives another.",
    fields: {
      user: { ...observer, doc: "Matrix user whose login is checked (default: the first logged-in user)" },
    },
    example: null,
  },
  "expect.health": {
    doc: "Checks the bridge's health indicators: connection status (login state), time since the last bridged message, and the number of error lines in its log.",
    fields: {
      user: { ...observer, doc: "Matrix user whose login is checked (default: the first logged-in user)" },
      state: { type: "string", doc: "expected login state (default CONNECTED)" },
      last_message_within: { type: "duration", doc: "a message crossed the bridge at most this long ago" },
      max_errors: {
        type: "integer",
        min: 0,
        doc: "at most this many error-level lines in the bridge log since the scenario started",
      },
    },
    example: { state: "CONNECTED", last_message_within: "2m", max_errors: 0 },
  },
  "expect.logs": {
    doc: "Asserts lines present in or absent from a service's log (plain substrings, or /regular expressions/), or that nothing above a level was logged. Only lines logged since the scenario started count, unless since: start.",
    fields: {
      service: { type: "string", enum: LOG_SERVICES, doc: "whose log (default bridge)" },
      present: strings("each must appear in some line"),
      absent: strings("none may appear in any line"),
      max_level: { type: "string", enum: LOG_LEVELS, doc: 'no line above this level ("warn" = no errors)' },
      since: {
        type: "string",
        enum: ["scenario", "start"],
        doc: "which lines: those logged since this scenario started (default), or since the service started",
      },
    },
    example: { service: "bridge", present: ["Bridge started"], max_level: "warn" },
  },
  "expect.db": {
    doc: "Asserts facts in the bridge database: number of portals (rooms for channels and DMs), ghosts and bridged messages, or any SQL count.",
    fields: {
      portals: { type: "count", doc: "portal rooms (excluding the workspace space)" },
      ghosts: { type: "count", doc: "ghost users" },
      messages: { type: "count", doc: "bridged messages" },
      query: {
        type: "object",
        doc: "a custom query whose first column of the first row is a number",
        fields: {
          sql: { type: "string", required: true, doc: "SELECT count(*) ..." },
          database: { type: "string", enum: ["mautrix_slack", "synapse"], doc: "default mautrix_slack" },
          equals: { type: "count", required: true, doc: "expected value or range" },
        },
      },
    },
    example: { portals: { min: 1 }, ghosts: { min: 2 } },
  },
  ...PORTAL_STEP_TYPES,
  // Upgrades, rollbacks and config changes (src/upgrade/step-types.ts).
  ...UPGRADE_STEP_TYPES,
  // Static checks of the operator's config files (src/check/step-type.ts).
  ...CHECK_STEP_TYPES,
  ...AUTH_STEP_TYPES,
  // Faults and availability probes (src/faults/step-types.ts).
  ...faultStepTypes(TRAFFIC_STEP_TYPES),
};

/** Keys every step may carry next to its type key. */
export const COMMON_STEP_FIELDS: Record<string, FieldSpec> = {
  id: {
    type: "string",
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    patternHint: "a step id (letters, digits, '.', '_', '-')",
    doc: "unique step id (default <index>-<type>, e.g. 3-slack.post)",
  },
  budget: { type: "duration", doc: "latency budget for this step (default: the scenario's budgets)" },
  timeout: { type: "duration", doc: "how long to wait for the outcome before failing (default 30s)" },
  expected_failure: {
    type: "object",
    doc: "a known upstream problem makes this step fail: a failure (matching `matches`) is reported as an expected failure and does not fail the scenario; a pass is reported too",
    fields: {
      reason: { type: "string", required: true, doc: "what goes wrong and why" },
      upstream: {
        type: "string",
        required: true,
        doc: "the upstream issue, or where upstream the behaviour comes from",
      },
      matches: {
        type: "string",
        doc: "the failure must contain this text (or match this /regular expression/); any other failure is a real one",
      },
    },
  },
};
