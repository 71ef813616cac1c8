// The portal-lifecycle step vocabulary (channels, DMs, membership and profiles, both directions), in
// the scenario validator's format (src/config/steps.ts StepTypeSpec). Pure data: the implementations
// are in steps.ts. Every Slack-side step says what the bridge must do with the change (`expect`):
// relay it (`bridged`, the default), or let nothing arrive within `window` (`not_bridged`), which
// states what a bridge version does not relay so that a later one that starts relaying is noticed.

import type { FieldSpec } from "../config/fields.ts";
import type { StepTypeSpec } from "../config/steps.ts";

const slackUser: FieldSpec = {
  type: "string",
  ref: "slackUser",
  required: true,
  doc: 'Slack user who acts (from the slack: seed; "@bot" is the app\'s bot user)',
};
const slackUsers = (doc: string): FieldSpec => ({
  type: "list",
  required: true,
  minItems: 1,
  items: { type: "string", ref: "slackUser", doc: "Slack user" },
  doc,
});
const matrixUser: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  required: true,
  doc: "Matrix user who acts (from matrix.users)",
};
const channel: FieldSpec = {
  type: "string",
  ref: "channel",
  required: true,
  doc: 'Slack channel ("#ops" or its ID), or the name an earlier step gave a DM',
};
const observer: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  doc: "Matrix user who observes the portal (default: the first of matrix.users)",
};
const window: FieldSpec = {
  type: "duration",
  doc: "with expect: not_bridged, how long nothing may arrive (default 2s)",
};
const channelName: FieldSpec = {
  type: "string",
  required: true,
  pattern: /^[a-z0-9_-]{1,80}$/,
  patternHint: "a Slack channel name: lower-case letters, digits, - and _ (no #)",
  doc: "channel name, without #",
};
const conversationName: FieldSpec = {
  type: "string",
  required: true,
  pattern: /^[a-z0-9][a-z0-9_-]*$/,
  patternHint: "a name for later steps: lower-case letters, digits, - and _",
  doc: "the name later steps use for this conversation (`channel: <name>`)",
};
const slackError: FieldSpec = {
  type: "string",
  doc: "the error Slack must answer the bridge's call with (default: the call must succeed)",
};

/** `expect` for a Slack-side change; `meaning` says what the Matrix side shows when it is bridged. */
function expectSlackChange(meaning: string, extra: Record<string, string> = {}): FieldSpec {
  const more = Object.entries(extra).map(([k, v]) => `, ${k} = ${v}`);
  return {
    type: "string",
    enum: ["bridged", "not_bridged", ...Object.keys(extra)],
    doc: `bridged (default) = ${meaning}${more.join("")}, not_bridged = nothing reaches the observer within \`window\` (the bridge must still receive the Slack events)`,
  };
}

/** `expect` for a Matrix-side change. */
function expectMatrixChange(call: string): FieldSpec {
  return {
    type: "string",
    enum: ["bridged", "not_bridged", "refused"],
    doc: `bridged (default) = the bridge calls ${call}, not_bridged = it calls nothing of the kind within \`window\`, refused = the homeserver refuses the change (the user lacks the power level)`,
  };
}

const MEMBERSHIP =
  "the Slack user's ghost joins (leaves) the portal; for the bot user, the observer is invited to (removed from) the portal, or the portal is created";

export const PORTAL_STEP_TYPES: Record<string, StepTypeSpec> = {
  "expect.portal": {
    doc: "Checks a conversation's portal room: that it exists (and, unless membership says otherwise, joins it as the observer), its name, topic, avatar, room type, members and ghost profiles, whether it is marked direct or tombstoned.",
    fields: {
      channel,
      user: observer,
      exists: { type: "boolean", doc: "false: the bridge has no portal room for it (default true)" },
      membership: {
        type: "string",
        enum: ["join", "leave", "none"],
        doc: "the observer's membership: join (default; the step joins if invited), leave (left or removed), or none (the portal room exists but the observer was never invited)",
      },
      name: { type: "string", doc: 'expected room name ("#dev-platform")' },
      topic: { type: "string", doc: "expected room topic" },
      avatar: { type: "boolean", doc: "the room has an avatar (true) or none (false)" },
      room_type: {
        type: "string",
        enum: ["channel", "dm", "group_dm", "none"],
        doc: "the room type the bridge declares in its m.bridge state (com.beeper.room_type; none: the room has no m.bridge state)",
      },
      direct: {
        type: "boolean",
        doc: "the invite that brought the observer in is marked is_direct (what clients record in m.direct)",
      },
      tombstoned: { type: "boolean", doc: "the room has (true) or lacks (false) an m.room.tombstone" },
      members: {
        type: "list",
        items: { type: "string", ref: "slackUser", doc: "Slack user" },
        doc: "Slack users whose ghosts must be in the room",
      },
      absent: {
        type: "list",
        items: { type: "string", ref: "slackUser", doc: "Slack user" },
        doc: "Slack users whose ghosts must not be in the room",
      },
      ghosts: {
        type: "map",
        keyRef: "slackUser",
        values: { type: "string", doc: "display name" },
        doc: "Slack user -> expected ghost display name",
      },
      ghost_avatars: {
        type: "map",
        keyRef: "slackUser",
        values: { type: "boolean", doc: "has an avatar" },
        doc: "Slack user -> whether the ghost has an avatar",
      },
    },
    example: {
      channel: "#dev-platform",
      user: "alice",
      name: "#dev-platform",
      members: ["bob"],
      ghosts: { bob: "Bob Builder" },
    },
  },
  "slack.create_channel": {
    doc: 'A Slack user creates a channel and adds `members` ("@bot" adds the app). Later steps refer to it as #<name>.',
    producesChannel: "name",
    fields: {
      user: slackUser,
      name: channelName,
      private: { type: "boolean", doc: "a private channel (default public)" },
      members: { ...slackUsers("Slack users the creator adds right away"), required: false },
      observer,
      expect: expectSlackChange("a portal room appears and the observer is invited (latency to the invite)"),
      window,
    },
    example: { user: "bob", name: "incidents", members: ["carol", "@bot"] },
  },
  "slack.rename_channel": {
    doc: "A Slack user renames a channel. Later steps refer to it by the new name.",
    producesChannel: "name",
    fields: {
      user: slackUser,
      channel,
      name: channelName,
      room_name: { type: "string", doc: 'expected Matrix room name (default "#<name>", private: "<name>")' },
      observer,
      expect: expectSlackChange("the portal's m.room.name changes"),
      window,
    },
    example: { user: "bob", channel: "#incidents", name: "incident-42" },
  },
  "slack.set_topic": {
    doc: "A Slack user sets a channel's topic.",
    fields: {
      user: slackUser,
      channel,
      topic: { type: "string", required: true, doc: 'the topic ("" clears it)' },
      observer,
      expect: expectSlackChange("the portal's m.room.topic becomes the topic"),
      window,
    },
    example: { user: "bob", channel: "#incidents", topic: "Database failover" },
  },
  "slack.set_purpose": {
    doc: "A Slack user sets a channel's purpose (Matrix has no purpose; a bridge would show it as the topic).",
    fields: {
      user: slackUser,
      channel,
      purpose: { type: "string", required: true, doc: 'the purpose ("" clears it)' },
      observer,
      expect: expectSlackChange("the portal's m.room.topic becomes the purpose"),
      window,
    },
    example: { user: "bob", channel: "#incidents", purpose: "Coordinate incident response" },
  },
  "slack.unfurl": {
    doc: "Slack unfurls a link in an earlier message: the link preview is added as an attachment and announced as message_changed without `edited` (nobody edited the text).",
    fields: {
      message: {
        type: "string",
        ref: "message",
        required: true,
        doc: "id of an earlier step that posted the message",
      },
      url: { type: "string", required: true, doc: "the unfurled link" },
      title: { type: "string", required: true, doc: "the preview's title" },
      observer,
      expect: expectSlackChange("the message is edited on Matrix (m.replace) with the link preview"),
      window,
    },
    example: { message: "hello", url: "https://example.org/post", title: "A post", expect: "not_bridged" },
  },
  "slack.archive_channel": {
    doc: "A Slack user archives a channel.",
    fields: {
      user: slackUser,
      channel,
      observer,
      expect: expectSlackChange("the portal is tombstoned or the observer removed from it", {
        message: "only Slack's notice arrives, as a message from the user's ghost",
      }),
      window,
    },
    example: { user: "bob", channel: "#incidents", expect: "message" },
  },
  "slack.unarchive_channel": {
    doc: "A Slack user unarchives a channel.",
    fields: {
      user: slackUser,
      channel,
      observer,
      expect: expectSlackChange("the observer is invited to the portal again", {
        message: "only Slack's notice arrives, as a message from the user's ghost",
      }),
      window,
    },
    example: { user: "bob", channel: "#incidents", expect: "message" },
  },
  "slack.join": {
    doc: 'A Slack user joins a channel by themselves ("@bot": the app joins).',
    fields: { user: slackUser, channel, observer, expect: expectSlackChange(MEMBERSHIP), window },
    example: { user: "dana", channel: "#incidents" },
  },
  "slack.leave": {
    doc: "A Slack user leaves a channel.",
    fields: { user: slackUser, channel, observer, expect: expectSlackChange(MEMBERSHIP), window },
    example: { user: "dana", channel: "#incidents" },
  },
  "slack.invite": {
    doc: 'A Slack user adds others to a channel ("@bot" adds the app).',
    fields: {
      user: slackUser,
      channel,
      users: slackUsers("Slack users added"),
      observer,
      expect: expectSlackChange(MEMBERSHIP),
      window,
    },
    example: { user: "bob", channel: "#incidents", users: ["dana"] },
  },
  "slack.kick": {
    doc: 'A Slack user removes another from a channel ("@bot" removes the app).',
    fields: {
      user: slackUser,
      channel,
      target: { ...slackUser, doc: "Slack user removed" },
      observer,
      expect: expectSlackChange(MEMBERSHIP),
      window,
    },
    example: { user: "bob", channel: "#incidents", target: "dana" },
  },
  "slack.update_profile": {
    doc: "A Slack user changes their display name, full name and/or photo; the observer watches their ghost in a portal.",
    fields: {
      user: slackUser,
      channel: {
        ...channel,
        doc: "a conversation whose portal the ghost is in, where the change is observed",
      },
      display_name: { type: "string", doc: "new display name" },
      real_name: { type: "string", doc: "new full name" },
      avatar: { type: "boolean", doc: "true: a new generated photo" },
      ghost_name: {
        type: "string",
        doc: "expected ghost display name (default: the display name, else the full name, as mautrix-slack's default template)",
      },
      observer,
      expect: expectSlackChange(
        "the ghost's name and/or avatar change in the portal (the avatar's bytes are checked)",
      ),
      window,
    },
    example: { user: "dana", channel: "#incidents", display_name: "Dana (on call)", avatar: true },
  },
  "slack.deactivate_user": {
    doc: "A Slack admin deactivates a user; the observer watches their ghost in a portal.",
    fields: {
      user: slackUser,
      channel: {
        ...channel,
        doc: "a conversation whose portal the ghost is in, where the change is observed",
      },
      observer,
      expect: expectSlackChange("the ghost leaves the portal or its profile changes"),
      window,
    },
    example: { user: "erin", channel: "#incidents", expect: "not_bridged" },
  },
  "slack.open_dm": {
    doc: "A Slack user opens a DM with the app's bot, or with `with` a group DM with the bot and those users. Later steps refer to it by `name`.",
    producesChannel: "name",
    fields: {
      user: slackUser,
      with: {
        type: "list",
        items: { type: "string", ref: "slackUser", doc: "Slack user" },
        doc: "other members besides the bot (a group DM)",
      },
      name: conversationName,
      observer,
      expect: expectSlackChange("a portal room appears and the observer is invited"),
      window,
    },
    example: { user: "bob", name: "bob-dm", expect: "not_bridged" },
  },
  "matrix.start_dm": {
    doc: "A Matrix user starts a direct chat with Slack users' ghosts (a room with is_direct invites, as clients do). Later steps refer to it by `name`.",
    producesChannel: "name",
    fields: {
      user: matrixUser,
      with: slackUsers("Slack users invited (one: a DM, several: a group DM)"),
      name: conversationName,
      expect: {
        type: "string",
        enum: ["bridged", "not_bridged"],
        doc: "bridged (default) = the bridge calls conversations.open with exactly these users and the room becomes their conversation's portal, not_bridged = no such call within `window`",
      },
      window,
    },
    example: { user: "alice", with: ["carol"], name: "carol-dm" },
  },
  "matrix.set_room_name": {
    doc: "A Matrix user renames a portal room (m.room.name).",
    fields: {
      user: matrixUser,
      channel,
      name: { type: "string", required: true, doc: "new room name" },
      expect: expectMatrixChange("conversations.rename with the name"),
      slack_error: slackError,
      window,
    },
    example: {
      user: "alice",
      channel: "carol-dm",
      name: "Carol and me",
      slack_error: "method_not_supported_for_channel_type",
    },
  },
  "matrix.set_topic": {
    doc: "A Matrix user sets a portal room's topic (m.room.topic).",
    fields: {
      user: matrixUser,
      channel,
      topic: { type: "string", required: true, doc: "new topic" },
      expect: expectMatrixChange("conversations.setTopic with the topic"),
      slack_error: slackError,
      window,
    },
    example: { user: "alice", channel: "carol-dm", topic: "Release planning" },
  },
  "matrix.leave": {
    doc: "A Matrix user leaves a portal room.",
    fields: {
      user: matrixUser,
      channel,
      expect: {
        type: "string",
        enum: ["bridged", "not_bridged"],
        doc: "bridged (default) = the bridge calls conversations.leave, not_bridged = it calls nothing of the kind within `window`",
      },
      window,
    },
    example: { user: "alice", channel: "#incidents", expect: "not_bridged" },
  },
  "matrix.kick": {
    doc: "A Matrix user removes a Slack user's ghost from a portal room.",
    fields: {
      user: matrixUser,
      channel,
      target: { ...slackUser, doc: "Slack user whose ghost is removed" },
      expect: expectMatrixChange("conversations.kick for the user"),
      slack_error: slackError,
      window,
    },
    example: { user: "alice", channel: "#incidents", target: "dana", expect: "refused" },
  },
  "expect.slack_call": {
    doc: 'Asserts Web API calls the bridge made since the scenario started: the method, parameters (values "@name" and "#channel" or a DM\'s name are resolved to IDs) and how many.',
    fields: {
      method: { type: "string", required: true, doc: 'Web API method ("conversations.open")' },
      params: {
        type: "map",
        values: { type: "string", doc: "value" },
        doc: "parameters the call must carry (subset)",
      },
      count: { type: "count", doc: "how many matching calls (default: at least one)" },
      ok: { type: "boolean", doc: "the answers were ok (true) or errors (false); default: either" },
    },
    example: { method: "conversations.open", params: { users: "@carol", return_im: "true" }, count: 1 },
  },
};

/** One-line title of a portal-lifecycle step for reports; undefined for other step types. */
export function describePortalStep(type: string, a: Record<string, any>): string | undefined {
  const not = a.expect === "not_bridged" ? " (not bridged)" : a.expect === "refused" ? " (refused)" : "";
  switch (type) {
    case "expect.portal":
      return `portal for ${a.channel} ${a.exists === false ? "does not exist" : a.membership === "leave" ? "left" : "exists"}${a.name ? ` named ${JSON.stringify(a.name)}` : ""}`;
    case "slack.create_channel":
      return `${a.user} creates ${a.private ? "private " : ""}#${a.name}${a.members?.length ? ` with ${a.members.join(", ")}` : ""}${not}`;
    case "slack.rename_channel":
      return `${a.user} renames ${a.channel} to #${a.name}${not}`;
    case "slack.set_topic":
      return `${a.user} sets the topic of ${a.channel} to ${JSON.stringify(a.topic)}${not}`;
    case "slack.set_purpose":
      return `${a.user} sets the purpose of ${a.channel} to ${JSON.stringify(a.purpose)}${not}`;
    case "slack.unfurl":
      return `Slack unfurls ${a.url} in ${a.message}${not}`;
    case "slack.archive_channel":
    case "slack.unarchive_channel":
      return `${a.user} ${type === "slack.archive_channel" ? "archives" : "unarchives"} ${a.channel}${a.expect === "message" ? " (arrives as a message)" : not}`;
    case "slack.join":
      return `${a.user} joins ${a.channel}${not}`;
    case "slack.leave":
      return `${a.user} leaves ${a.channel}${not}`;
    case "slack.invite":
      return `${a.user} adds ${a.users?.join(", ")} to ${a.channel}${not}`;
    case "slack.kick":
      return `${a.user} removes ${a.target} from ${a.channel}${not}`;
    case "slack.update_profile":
      return `${a.user} changes their profile (${["display_name", "real_name", "avatar"].filter((k) => a[k] !== undefined).join(", ")})${not}`;
    case "slack.deactivate_user":
      return `${a.user} is deactivated${not}`;
    case "slack.open_dm":
      return `${a.user} opens a ${a.with?.length ? `group DM with the bot and ${a.with.join(", ")}` : "DM with the bot"} (${a.name})${not}`;
    case "matrix.start_dm":
      return `${a.user} starts a direct chat with ${a.with?.join(", ")} (${a.name})${not}`;
    case "matrix.set_room_name":
      return `${a.user} renames the portal of ${a.channel} to ${JSON.stringify(a.name)}${not}`;
    case "matrix.set_topic":
      return `${a.user} sets the topic of the portal of ${a.channel} to ${JSON.stringify(a.topic)}${not}`;
    case "matrix.leave":
      return `${a.user} leaves the portal of ${a.channel}${not}`;
    case "matrix.kick":
      return `${a.user} removes ${a.target} from the portal of ${a.channel}${not}`;
    case "expect.slack_call":
      return `the bridge called ${a.method}${a.params ? ` with ${JSON.stringify(a.params)}` : ""}`;
    default:
      return undefined;
  }
}
