// Portal-lifecycle steps (specs in step-types.ts): Slack-side changes to channels, DMs, membership and
// profiles observed on Matrix, Matrix-side changes observed as the bridge's Web API calls, and the
// assertions on portal rooms and on the calls. Every observation is armed before its action.
import type { RecordedCall } from "../../fakes/slack/api.ts";
import type { CountSpec } from "../config/fields.ts";
import type { MatrixUser, SeenEvent } from "../environment/api.ts";
import { checkCount, describeCount, generatePng, sha256 } from "../scenario/content.ts";
import { fail } from "../scenario/observe.ts";
import type { StepContext } from "../scenario/steps.ts";
import { now, waitUntil } from "../util/clock.ts";
import {
  aboutChannel,
  type Duration,
  matrixChange,
  membershipSeen,
  noPortal,
  type Observation,
  portalAppeared,
  seen,
  slackChange,
} from "./observe.ts";

// ---------------------------------------------------------------- argument types (mirror the YAML)

type Expect = "bridged" | "not_bridged";
interface SlackChangeArgs {
  user: string;
  observer?: string;
  expect?: Expect;
  window?: Duration;
}
export interface ExpectPortalArgs {
  channel: string;
  user?: string;
  exists?: boolean;
  membership?: "join" | "leave" | "none";
  name?: string;
  topic?: string;
  avatar?: boolean;
  room_type?: "channel" | "dm" | "group_dm" | "none";
  direct?: boolean;
  tombstoned?: boolean;
  members?: string[];
  absent?: string[];
  ghosts?: Record<string, string>;
  ghost_avatars?: Record<string, boolean>;
}
export interface CreateChannelArgs extends SlackChangeArgs {
  name: string;
  private?: boolean;
  members?: string[];
}
export interface RenameChannelArgs extends SlackChangeArgs {
  channel: string;
  name: string;
  room_name?: string;
}
export interface SetTopicArgs extends SlackChangeArgs {
  channel: string;
  topic: string;
}
export interface SetPurposeArgs extends SlackChangeArgs {
  channel: string;
  purpose: string;
}
export interface UnfurlArgs extends Omit<SlackChangeArgs, "user"> {
  message: string;
  url: string;
  title: string;
}
export interface ArchiveArgs extends Omit<SlackChangeArgs, "expect"> {
  channel: string;
  expect?: Expect | "message";
}
export interface MembershipArgs extends SlackChangeArgs {
  channel: string;
  /** slack.invite */
  users?: string[];
  /** slack.kick */
  target?: string;
}
export interface UpdateProfileArgs extends SlackChangeArgs {
  channel: string;
  display_name?: string;
  real_name?: string;
  avatar?: boolean;
  ghost_name?: string;
}
export interface DeactivateArgs extends SlackChangeArgs {
  channel: string;
}
export interface OpenDmArgs extends SlackChangeArgs {
  with?: string[];
  name: string;
}
interface MatrixChangeArgs {
  user: string;
  expect?: "bridged" | "not_bridged" | "refused";
  window?: Duration;
  slack_error?: string;
}
export interface StartDmArgs extends Omit<MatrixChangeArgs, "expect" | "slack_error"> {
  with: string[];
  name: string;
  expect?: Expect;
}
export interface SetRoomNameArgs extends MatrixChangeArgs {
  channel: string;
  name: string;
}
export interface SetRoomTopicArgs extends MatrixChangeArgs {
  channel: string;
  topic: string;
}
export interface MatrixLeaveArgs extends Omit<MatrixChangeArgs, "expect" | "slack_error"> {
  channel: string;
  expect?: Expect;
}
export interface MatrixKickArgs extends MatrixChangeArgs {
  channel: string;
  target: string;
}
export interface ExpectSlackCallArgs {
  method: string;
  params?: Record<string, string>;
  count?: number | CountSpec;
  ok?: boolean;
}

type Impl = (ctx: StepContext, args: any) => Promise<void>;

// ---------------------------------------------------------------- shared pieces

const enc = encodeURIComponent;

/** The observer of a Slack-side change and, when the conversation has one, its portal room (joined). */
async function watch(ctx: StepContext, a: { observer?: string }, channel?: string) {
  const who = ctx.state.observer(a.observer);
  const observer = await ctx.state.user(who);
  const roomId = channel ? await ctx.state.portalRoom(channel, who, ctx.timeoutMs) : undefined;
  return { who, observer, roomId };
}

const isMember = (e: SeenEvent, userId: string, memberships: string[]) =>
  e.type === "m.room.member" && e.stateKey === userId && memberships.includes(e.content.membership);

/** The app's bot user (the bridge's own Slack account), whose membership is the observer's. */
function isBridgeBot(ctx: StepContext, slackUserId: string): boolean {
  return ctx.state.workspace.apps.some((app) => app.botUserId === slackUserId);
}

/** A change to the channel's state seen in the portal as one state event (name, topic). */
async function roomStateChange(
  ctx: StepContext,
  a: SlackChangeArgs & { channel: string },
  o: { kind: string; type: string; field: string; value: string; act: () => Promise<void> },
): Promise<void> {
  const { observer, roomId } = await watch(ctx, a, a.channel);
  const channelId = ctx.state.channelId(a.channel);
  await slackChange(ctx, {
    observer,
    roomId,
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: o.kind,
    act: o.act,
    carries: aboutChannel(() => channelId),
    outcome: (obs) => seen(obs, (e) => e.type === o.type && e.content[o.field] === o.value),
    what: () => `${o.type} ${JSON.stringify(o.value)} in ${roomId}`,
  });
}

// ---------------------------------------------------------------- Slack side: channels

const createChannel: Impl = async (ctx, a: CreateChannelArgs) => {
  const { state } = ctx;
  const { observer } = await watch(ctx, a);
  const creator = state.slackUserId(a.user);
  const withBot = (a.members ?? []).some((m) => isBridgeBot(ctx, state.slackUserId(m)));
  let channelId: string | undefined;
  await slackChange(ctx, {
    observer,
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "portal",
    act: async () => {
      channelId = (await state.control.createChannel({ user: creator, name: a.name, private: a.private }))
        .channel;
      if (a.members?.length)
        await state.control.inviteToChannel({
          user: creator,
          channel: channelId,
          users: a.members.map((m) => state.slackUserId(m)),
        });
    },
    // With the app among the members, its joining carries the change (channel_created came first).
    carries: (e) => aboutChannel(() => channelId)(e) && !(withBot && e.eventType === "channel_created"),
    outcome: portalAppeared(ctx, () => channelId),
    what: () => `an invite to the new portal of #${a.name}`,
    nothingElse: () => noPortal(ctx, channelId, `#${a.name}`),
  });
  ctx.details.channel = channelId;
};

const renameChannel: Impl = async (ctx, a: RenameChannelArgs) => {
  const { state } = ctx;
  const channelId = state.channelId(a.channel);
  const info = state.workspace.channels.find((c) => c.id === channelId);
  const roomName = a.room_name ?? (info?.isPrivate ? a.name : `#${a.name}`);
  await roomStateChange(ctx, a, {
    kind: "rename",
    type: "m.room.name",
    field: "name",
    value: roomName,
    act: () =>
      state.control.renameChannel({ user: state.slackUserId(a.user), channel: channelId, name: a.name }),
  });
};

const setTopic: Impl = async (ctx, a: SetTopicArgs) => {
  const { state } = ctx;
  await roomStateChange(ctx, a, {
    kind: "topic",
    type: "m.room.topic",
    field: "topic",
    value: a.topic,
    act: () =>
      state.control.setTopic({
        user: state.slackUserId(a.user),
        channel: state.channelId(a.channel),
        topic: a.topic,
      }),
  });
};

const setPurpose: Impl = async (ctx, a: SetPurposeArgs) => {
  const { state } = ctx;
  await roomStateChange(ctx, a, {
    kind: "topic",
    type: "m.room.topic",
    field: "topic",
    value: a.purpose,
    act: () =>
      state.control.setPurpose({
        user: state.slackUserId(a.user),
        channel: state.channelId(a.channel),
        purpose: a.purpose,
      }),
  });
};

/** Slack adds a link preview to a message: message_changed without `edited`; bridged = an m.replace edit. */
const unfurl: Impl = async (ctx, a: UnfurlArgs) => {
  const { state } = ctx;
  const m = state.message(a.message);
  const { observer } = await watch(ctx, a);
  await slackChange(ctx, {
    observer,
    roomId: m.roomId,
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "edit",
    act: () => state.control.unfurl({ channel: m.channelId, ts: m.ts, url: a.url, title: a.title }),
    carries: (e) => e.subtype === "message_changed" && (e.event as any).message?.ts === m.ts,
    outcome: (obs) =>
      obs
        .events()
        .find(
          (e) =>
            e.type === "m.room.message" &&
            e.content["m.relates_to"]?.rel_type === "m.replace" &&
            e.content["m.relates_to"]?.event_id === m.eventId,
        )?.seenAt,
    what: () => `an edit of ${m.eventId} with the preview of ${a.url}`,
  });
};

/** Slack's notice for an (un)archive, as the bridge relays it: "Bob archived the channel". */
const ARCHIVE_NOTICE = { archive: /(^|[^-])archived the channel$/, unarchive: /un-archived the channel$/ };

const archive =
  (archived: boolean): Impl =>
  async (ctx, a: ArchiveArgs) => {
    const { state } = ctx;
    const { observer, roomId } = await watch(ctx, a, a.channel);
    const channelId = state.channelId(a.channel);
    const actor = state.slackUserId(a.user);
    const ghost = state.ghostMxid(actor);
    const room = roomId as string;
    const notice = archived ? ARCHIVE_NOTICE.archive : ARCHIVE_NOTICE.unarchive;
    const expect = a.expect ?? "bridged";
    await slackChange(ctx, {
      observer,
      roomId,
      expect: expect === "message" ? "bridged" : expect,
      window: a.window,
      kind: archived ? "archive" : "unarchive",
      act: () =>
        archived
          ? state.control.archiveChannel({ user: actor, channel: channelId })
          : state.control.unarchiveChannel({ user: actor, channel: channelId }),
      carries: aboutChannel(() => channelId),
      outcome: (obs) => {
        if (expect === "message")
          return seen(
            obs,
            (e) => e.type === "m.room.message" && e.sender === ghost && notice.test(String(e.content.body)),
          );
        if (archived)
          return (
            seen(obs, (e) => e.type === "m.room.tombstone") ?? membershipSeen(obs, room, ["leave", "ban"])
          );
        return membershipSeen(obs, room, ["invite", "join"]);
      },
      what: () =>
        expect === "message"
          ? `the notice "${archived ? "archived" : "un-archived"} the channel" from ${ghost} in ${room}`
          : archived
            ? `${room} tombstoned or left`
            : `an invite to ${room} again`,
    });
  };

// ---------------------------------------------------------------- Slack side: membership

/**
 * The Matrix side of a Slack membership change of `userId`: a person's ghost joins or leaves the
 * portal; the bot user (the bridge's own Slack account) joining makes the observer invited (or, with
 * no portal yet, creates it), leaving removes the observer.
 */
function membershipOutcome(
  ctx: StepContext,
  userId: string,
  joining: boolean,
  channelId: string,
  roomId: string | undefined,
): (obs: Observation) => number | undefined | Promise<number | undefined> {
  if (!isBridgeBot(ctx, userId)) {
    const ghost = ctx.state.ghostMxid(userId);
    const wanted = joining ? ["join"] : ["leave", "ban"];
    return (obs) => seen(obs, (e) => isMember(e, ghost, wanted));
  }
  if (!roomId) return portalAppeared(ctx, () => channelId);
  return (obs) => membershipSeen(obs, roomId, joining ? ["invite", "join"] : ["leave", "ban"]);
}

function membership(kind: "join" | "leave" | "invite" | "kick"): Impl {
  return async (ctx, a: MembershipArgs) => {
    const { state } = ctx;
    const channelId = state.channelId(a.channel);
    const actor = state.slackUserId(a.user);
    const targets = (
      kind === "invite" ? (a.users ?? []) : kind === "kick" ? [a.target as string] : [a.user]
    ).map((u) => state.slackUserId(u));
    const joining = kind === "join" || kind === "invite";
    const withBot = targets.some((t) => isBridgeBot(ctx, t));
    const existing = await state.portalMxid(channelId);
    // The bot's membership is the observer's: it is watched whether or not the observer is in the
    // portal (or there is none yet); a person's ghost is watched from inside the portal.
    const { who, observer, roomId: joined } = await watch(ctx, a, withBot ? undefined : a.channel);
    const roomId = withBot ? existing : joined;
    const outcomes = targets.map((t) => membershipOutcome(ctx, t, joining, channelId, roomId));
    await slackChange(ctx, {
      observer,
      roomId,
      expect: a.expect ?? "bridged",
      window: a.window,
      kind: "membership",
      act: async () => {
        const channel = channelId;
        if (kind === "join") await state.control.joinChannel({ user: actor, channel });
        else if (kind === "leave") await state.control.leaveChannel({ user: actor, channel });
        else if (kind === "invite")
          await state.control.inviteToChannel({ user: actor, channel, users: targets });
        else await state.control.kickFromChannel({ user: actor, channel, target: targets[0] as string });
      },
      carries: aboutChannel(() => channelId),
      outcome: async (obs) => {
        const times = await Promise.all(outcomes.map((f) => f(obs)));
        return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
      },
      what: () => `${targets.join(", ")} ${joining ? "joining" : "leaving"} the portal of ${a.channel}`,
      nothingElse: existing ? undefined : () => noPortal(ctx, channelId, a.channel),
    });
    // The observer was removed with the bot: a later portalRoom() must wait for a new invite.
    if (!joining && withBot && (a.expect ?? "bridged") === "bridged") state.forgetPortal(channelId, who);
  };
}

// ---------------------------------------------------------------- Slack side: people

/** The ghost's display name per mautrix-slack's default template: display name, else full name, else handle. */
function defaultGhostName(ctx: StepContext, slackUserId: string): string {
  const u = ctx.state.workspace.users.find((x) => x.id === slackUserId);
  if (!u) fail(`unknown Slack user ${slackUserId}`);
  return `${u.displayName || u.realName || u.name}${u.isBot ? " (bot)" : ""}`;
}

const updateProfile: Impl = async (ctx, a: UpdateProfileArgs) => {
  const { state } = ctx;
  const { observer, roomId } = await watch(ctx, a, a.channel);
  const userId = state.slackUserId(a.user);
  const ghost = state.ghostMxid(userId);
  const room = roomId as string;
  const before = await memberContent(observer, room, ghost);
  if (before?.membership !== "join")
    fail(`${a.user}'s ghost ${ghost} is not in ${room}, so its profile cannot be seen there`);
  const oldAvatar = before.avatar_url;
  // A new size each time: a new photo with its own bytes.
  const photo = a.avatar ? generatePng(48 + Math.floor(Math.random() * 64), 48) : undefined;
  const renamed = a.display_name !== undefined || a.real_name !== undefined || a.ghost_name !== undefined;
  let name: string | undefined;
  let seenEvent: SeenEvent | undefined;
  await slackChange(ctx, {
    observer,
    roomId,
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "profile",
    act: async () => {
      await state.control.updateProfile({
        user: userId,
        displayName: a.display_name,
        realName: a.real_name,
        avatar: photo ? { data: photo, mimetype: "image/png" } : undefined,
      });
      name = renamed ? (a.ghost_name ?? defaultGhostName(ctx, userId)) : undefined;
    },
    carries: (e) => e.eventType === "user_change" && (e.event as any).user?.id === userId,
    outcome: (obs) => {
      seenEvent = obs
        .events()
        .find(
          (e) =>
            isMember(e, ghost, ["join"]) &&
            (name === undefined || e.content.displayname === name) &&
            (!photo || (typeof e.content.avatar_url === "string" && e.content.avatar_url !== oldAvatar)),
        );
      return seenEvent?.seenAt;
    },
    what: () =>
      `${ghost}'s member event${name ? ` named ${JSON.stringify(name)}` : ""}${photo ? " with a new avatar" : ""}`,
  });
  if (!photo || !seenEvent) return;
  const got = await observer.download(seenEvent.content.avatar_url);
  ctx.details.avatar = seenEvent.content.avatar_url;
  if (sha256(got) !== sha256(photo))
    fail(
      `the ghost's avatar is ${got.length} bytes (sha256 ${sha256(got).slice(0, 12)}), not the photo set on Slack (${photo.length} bytes, ${sha256(photo).slice(0, 12)})`,
    );
};

/** A user's m.room.member content in a room, as the observer reads it (undefined: never a member). */
async function memberContent(
  user: MatrixUser,
  roomId: string,
  userId: string,
): Promise<{ membership?: string; avatar_url?: string } | undefined> {
  try {
    return (await user.api(
      "GET",
      `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`,
    )) as { membership?: string; avatar_url?: string };
  } catch (e) {
    if (/HTTP 404/.test((e as Error).message)) return undefined;
    throw e;
  }
}

const deactivateUser: Impl = async (ctx, a: DeactivateArgs) => {
  const { state } = ctx;
  const { observer, roomId } = await watch(ctx, a, a.channel);
  const userId = state.slackUserId(a.user);
  const ghost = state.ghostMxid(userId);
  await slackChange(ctx, {
    observer,
    roomId,
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "profile",
    act: () => state.control.deactivateUser({ user: userId }),
    carries: (e) => e.eventType === "user_change" && (e.event as any).user?.id === userId,
    outcome: (obs) => seen(obs, (e) => e.type === "m.room.member" && e.stateKey === ghost),
    what: () => `a member event of ${ghost} in ${roomId}`,
  });
};

// ---------------------------------------------------------------- DMs

const openDm: Impl = async (ctx, a: OpenDmArgs) => {
  const { state } = ctx;
  const { observer } = await watch(ctx, a);
  const opener = state.slackUserId(a.user);
  const bot = state.workspace.apps[0]?.botUserId ?? fail("the workspace has no app");
  let channelId: string | undefined;
  await slackChange(ctx, {
    observer,
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "portal",
    act: async () => {
      const others = [bot, ...(a.with ?? []).map((u) => state.slackUserId(u))];
      channelId = (await state.control.openConversation({ user: opener, with: others })).channel;
      state.conversations.set(a.name, channelId);
    },
    carries: aboutChannel(() => channelId),
    outcome: portalAppeared(ctx, () => channelId),
    what: () => `an invite to a portal for ${a.name}`,
    nothingElse: () => noPortal(ctx, channelId, a.name),
  });
  ctx.details.channel = channelId;
};

/**
 * slack.post with new_portal: the message is the conversation's first and must create its portal.
 * Latency: from the message's envelope to the observer's invite; the message must then be in the room.
 */
export async function postCreatingPortal(
  ctx: StepContext,
  a: { user: string; channel: string; text: string; observer?: string },
): Promise<{ ts: string; roomId: string; eventId: string }> {
  const { state } = ctx;
  const { who, observer } = await watch(ctx, a);
  const channelId = state.channelId(a.channel);
  await noPortal(ctx, channelId, `${a.channel} before its first message`);
  const ghost = state.ghostMxid(state.slackUserId(a.user));
  let ts = "";
  await slackChange(ctx, {
    observer,
    expect: "bridged",
    kind: "portal",
    act: async () => {
      ts = (
        await state.control.postMessage({ user: state.slackUserId(a.user), channel: channelId, text: a.text })
      ).ts;
    },
    carries: (e) => e.eventType === "message" && (e.event as any).ts === ts,
    outcome: portalAppeared(ctx, () => channelId),
    what: () => `an invite to the portal the first message in ${a.channel} creates`,
  });
  const roomId = await state.portalRoom(a.channel, who, ctx.timeoutMs);
  // The message was sent before the observer joined: it is room history, which a homeserver may put
  // in the join's /sync timeline (Synapse) or not (continuwuity); read it the way a client reads
  // history, with /messages.
  const message = await waitUntil(
    async () => {
      const page = (await observer.api(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`,
      )) as { chunk?: { event_id: string; type: string; sender: string; content: { body?: string } }[] };
      return (page.chunk ?? []).find(
        (e) => e.type === "m.room.message" && e.sender === ghost && e.content.body === a.text,
      );
    },
    {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 200,
      describe: () => `the first message ${JSON.stringify(a.text)} in the history of ${roomId}`,
    },
  );
  return { ts, roomId, eventId: message.event_id };
}

/** slack.post with bridged: false: the message must reach the bridge, and nothing the observer. */
export async function postNotBridged(
  ctx: StepContext,
  a: { user: string; channel: string; text: string; observer?: string; window?: Duration },
): Promise<void> {
  const { state } = ctx;
  const { observer } = await watch(ctx, a);
  const channelId = state.channelId(a.channel);
  const roomId = await state.portalMxid(channelId);
  let ts = "";
  await slackChange(ctx, {
    observer,
    roomId,
    expect: "not_bridged",
    window: a.window,
    kind: "message",
    act: async () => {
      ts = (
        await state.control.postMessage({ user: state.slackUserId(a.user), channel: channelId, text: a.text })
      ).ts;
    },
    carries: (e) => e.eventType === "message" && (e.event as any).ts === ts,
    outcome: () => undefined,
    what: () => `the message ${JSON.stringify(a.text)}`,
    // A portal the message created must not have reached the observer either.
    nothingElse: async () => {
      const created = roomId ? undefined : await state.portalMxid(channelId);
      if (created && observer.membershipChanges().some((m) => m.roomId === created))
        fail(
          `the message created the portal ${created} and ${observer.userId} was invited (the bridge relays this now: update the scenario)`,
        );
    },
  });
  ctx.details.ts = ts;
}

const startDm: Impl = async (ctx, a: StartDmArgs) => {
  const { state } = ctx;
  const user = await state.user(a.user);
  const ids = a.with.map((u) => state.slackUserId(u));
  const key = [...ids].sort().join(",");
  const mark = user.mark();
  let roomId = "";
  const call = await matrixChange(ctx, {
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "dm",
    method: "conversations.open",
    matches: (c) => (c.params.users ?? "").split(",").sort().join(",") === key,
    act: async () => {
      const sentAt = now();
      roomId = await user.createRoom({ invite: ids.map((id) => state.ghostMxid(id)), isDirect: true });
      return sentAt;
    },
  });
  ctx.details.roomId = roomId;
  if (!call) return;
  const channelId = String((call.response.channel as { id?: string } | undefined)?.id ?? "");
  if (!channelId) fail("conversations.open answered without a channel");
  state.conversations.set(a.name, channelId);
  const portal = await waitUntil(() => state.portalMxid(channelId), {
    timeoutMs: ctx.timeoutMs,
    intervalMs: 100,
    describe: () => `the bridge to record ${roomId} as the portal of ${channelId}`,
  });
  if (portal !== roomId)
    fail(`the portal of ${channelId} is ${portal}, not the room ${a.user} created (${roomId})`);
  // The bridge confirms with a notice from the ghost; later steps must not mistake it for a message.
  const ghosts = ids.map((id) => state.ghostMxid(id));
  const notice = await user.waitForEvent(
    (e) =>
      e.roomId === roomId &&
      e.type === "m.room.message" &&
      ghosts.includes(e.sender) &&
      e.content.msgtype === "m.notice",
    { since: mark, timeoutMs: ctx.timeoutMs, describe: `the bridge's notice in ${roomId}` },
  );
  ctx.details.notice = notice.content.body;
  state.session.portals.set(`${channelId}|${a.user}`, roomId);
};

// ---------------------------------------------------------------- Matrix side: rooms

/** The portal a Matrix user changes, with a state-event sender that stamps the send. */
async function matrixPortal(ctx: StepContext, a: { user: string; channel: string }) {
  const { state } = ctx;
  const user = await state.user(a.user);
  const roomId = await state.portalRoom(a.channel, a.user, ctx.timeoutMs);
  const channelId = state.channelId(a.channel);
  const sendState = async (type: string, content: Record<string, unknown>) => {
    const sentAt = now();
    await user.api("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/`, content);
    return sentAt;
  };
  return { user, roomId, channelId, sendState };
}

/** A Matrix room-state change the bridge relays as one Web API call carrying the same value. */
function matrixRoomStateChange(
  type: "m.room.name" | "m.room.topic",
  field: "name" | "topic",
  kind: string,
  method: string,
): Impl {
  return async (ctx, a: SetRoomNameArgs & SetRoomTopicArgs) => {
    const { channelId, sendState } = await matrixPortal(ctx, a);
    const value = a[field];
    await matrixChange(ctx, {
      expect: a.expect ?? "bridged",
      window: a.window,
      kind,
      method,
      matches: (c) => c.params.channel === channelId,
      act: () => sendState(type, { [field]: value }),
      slackError: a.slack_error,
      check: (c) => paramIs(c, field, value),
    });
  };
}

const setRoomName = matrixRoomStateChange("m.room.name", "name", "rename", "conversations.rename");
const setRoomTopic = matrixRoomStateChange("m.room.topic", "topic", "topic", "conversations.setTopic");

function paramIs(c: RecordedCall, name: string, want: string): void {
  if (c.params[name] !== want)
    fail(`${c.method} carried ${name}=${JSON.stringify(c.params[name])}, expected ${JSON.stringify(want)}`);
}

const matrixLeave: Impl = async (ctx, a: MatrixLeaveArgs) => {
  const { user, roomId, channelId } = await matrixPortal(ctx, a);
  await matrixChange(ctx, {
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "membership",
    method: "conversations.leave",
    matches: (c) => c.params.channel === channelId,
    act: async () => {
      const sentAt = now();
      await user.leaveRoom(roomId);
      ctx.state.forgetPortal(channelId, a.user);
      return sentAt;
    },
  });
};

const matrixKick: Impl = async (ctx, a: MatrixKickArgs) => {
  const { state } = ctx;
  const { user, roomId, channelId } = await matrixPortal(ctx, a);
  const target = state.slackUserId(a.target);
  await matrixChange(ctx, {
    expect: a.expect ?? "bridged",
    window: a.window,
    kind: "membership",
    method: "conversations.kick",
    matches: (c) => c.params.channel === channelId && c.params.user === target,
    act: async () => {
      const sentAt = now();
      await user.api("POST", `/_matrix/client/v3/rooms/${enc(roomId)}/kick`, {
        user_id: state.ghostMxid(target),
      });
      return sentAt;
    },
    slackError: a.slack_error,
  });
};

// ---------------------------------------------------------------- assertions

/** A portal's room state as the observer reads it. */
async function portalState(user: MatrixUser, roomId: string) {
  const state = (await user.api("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/state`)) as {
    type: string;
    state_key: string;
    content: Record<string, any>;
  }[];
  const one = (type: string) => state.find((e) => e.type === type && e.state_key === "")?.content;
  return {
    name: one("m.room.name")?.name as string | undefined,
    topic: one("m.room.topic")?.topic as string | undefined,
    avatar: one("m.room.avatar")?.url as string | undefined,
    tombstone: one("m.room.tombstone"),
    // The bridge's own declaration; without an m.bridge event the room is not marked as a portal.
    roomType: bridgeRoomType(state.find((e) => e.type === "m.bridge")?.content),
    member: (userId: string) =>
      state.find((e) => e.type === "m.room.member" && e.state_key === userId)?.content,
  };
}

function bridgeRoomType(bridgeInfo: Record<string, any> | undefined): string {
  if (!bridgeInfo) return "none";
  return (bridgeInfo["com.beeper.room_type"] as string | undefined) || "channel";
}

const expectPortal: Impl = async (ctx, a: ExpectPortalArgs) => {
  const { state } = ctx;
  const who = state.observer(a.user);
  const channelId = state.channelId(a.channel);
  if (a.exists === false) {
    await noPortal(ctx, channelId, a.channel);
    return;
  }
  const user = await state.user(who);
  let roomId: string;
  if (a.membership === "leave" || a.membership === "none") {
    roomId = await waitUntil(() => state.portalMxid(channelId), {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 200,
      describe: () => `a portal room for ${a.channel}`,
    });
    ctx.details.roomId = roomId;
    // The homeserver's word, not the client's view: continuwuity tells a user who left a room only
    // with an empty left-room entry, which leaves matrix-js-sdk showing "join" (docs/homeservers.md).
    if (a.membership === "leave")
      await waitUntil(
        async () => {
          const { joined_rooms } = (await user.api("GET", "/_matrix/client/v3/joined_rooms")) as {
            joined_rooms: string[];
          };
          return !joined_rooms.includes(roomId);
        },
        {
          timeoutMs: ctx.timeoutMs,
          intervalMs: 200,
          describe: () => `${who} to have left the portal ${roomId} (the homeserver's joined_rooms)`,
        },
      );
    else if (user.membershipChanges().some((m) => m.roomId === roomId))
      fail(`${who} was invited to the portal ${roomId}, expected the bridge never to invite it`);
    return;
  }
  roomId = await state.portalRoom(a.channel, who, ctx.timeoutMs);
  ctx.details.roomId = roomId;
  const problems: string[] = [];
  const want = (label: string, got: unknown, expected: unknown) => {
    if (expected !== undefined && got !== expected)
      problems.push(`${label} is ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  };
  await waitUntil(
    async () => {
      problems.length = 0;
      const rs = await portalState(user, roomId);
      want("name", rs.name, a.name);
      want("topic", rs.topic, a.topic);
      want("avatar", rs.avatar !== undefined, a.avatar);
      want("room type", rs.roomType, a.room_type);
      want("tombstoned", rs.tombstone !== undefined, a.tombstoned);
      if (a.direct !== undefined)
        want("direct (the observer's invite is_direct)", await directInvite(user, roomId), a.direct);
      for (const name of new Set([
        ...(a.members ?? []),
        ...Object.keys({ ...a.ghosts, ...a.ghost_avatars }),
      ])) {
        const mxid = state.ghostMxid(state.slackUserId(name));
        const m = rs.member(mxid);
        if (m?.membership !== "join")
          problems.push(`${name}'s ghost ${mxid} is ${m ? m.membership : "not a member"}`);
        else {
          want(`${name}'s ghost name`, m.displayname, a.ghosts?.[name]);
          want(`${name}'s ghost has an avatar`, typeof m.avatar_url === "string", a.ghost_avatars?.[name]);
        }
      }
      for (const name of a.absent ?? []) {
        const mxid = state.ghostMxid(state.slackUserId(name));
        if (rs.member(mxid)?.membership === "join") problems.push(`${name}'s ghost ${mxid} is in the room`);
      }
      return problems.length === 0 || undefined;
    },
    {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 250,
      describe: () => `portal ${roomId} for ${a.channel}: ${problems.join("; ")}`,
    },
  );
  // A ghost's avatar is the photo Slack serves, byte for byte (not, say, an error page stored as one).
  const rs = await portalState(user, roomId);
  for (const [name, has] of Object.entries(a.ghost_avatars ?? {})) {
    const id = state.slackUserId(name);
    const url = state.workspace.users.find((u) => u.id === id)?.image;
    const served = has && url ? state.control.image(url) : undefined;
    const avatar = rs.member(state.ghostMxid(id))?.avatar_url;
    if (!served || typeof avatar !== "string") continue;
    const got = await user.download(avatar);
    if (sha256(got) !== sha256(served.data))
      fail(
        `${name}'s ghost avatar is ${got.length} bytes (sha256 ${sha256(got).slice(0, 12)}), not the photo Slack serves (${served.data.length} bytes, ${sha256(served.data).slice(0, 12)})`,
      );
  }
};

/**
 * Whether the invite that brought the user into the room was marked is_direct (undefined: none
 * found). Invites reach the client as stripped state without an event ID, so the invite event is
 * looked up in the room's history once the user has joined (a homeserver need not repeat it in the
 * join's /sync timeline; continuwuity does not).
 */
async function directInvite(user: MatrixUser, roomId: string): Promise<boolean | undefined> {
  const seen = user.events().find((e) => e.roomId === roomId && isMember(e, user.userId, ["invite"]));
  if (seen) return seen.content.is_direct === true;
  const page = (await user.api(
    "GET",
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`,
  )) as {
    chunk?: { type: string; state_key?: string; content: { membership?: string; is_direct?: boolean } }[];
  };
  const invite = (page.chunk ?? []).find(
    (e) => e.type === "m.room.member" && e.state_key === user.userId && e.content.membership === "invite",
  );
  return invite ? invite.content.is_direct === true : undefined;
}

const expectSlackCall: Impl = async (ctx, a: ExpectSlackCallArgs) => {
  const { state } = ctx;
  const params = Object.entries(a.params ?? {}).map(([k, v]) => [k, resolveParam(ctx, v)] as const);
  const want: CountSpec =
    a.count === undefined
      ? { min: 1 }
      : typeof a.count === "number"
        ? { min: a.count, max: a.count }
        : a.count;
  const calls = state.control
    .calls()
    .filter(
      (c) =>
        c.receivedAt >= state.startedAt &&
        c.method === a.method &&
        params.every(([k, v]) => c.params[k] === v) &&
        (a.ok === undefined || c.response.ok === a.ok),
    );
  ctx.details.calls = calls.map((c) => ({
    params: c.params,
    answer: c.response.ok ? "ok" : c.response.error,
  }));
  if (!checkCount(calls.length, want))
    fail(
      `${calls.length} ${a.method} call(s) matched ${JSON.stringify(Object.fromEntries(params))}, expected ${describeCount(want)}; this scenario's ${a.method} calls: ${JSON.stringify(
        state.control
          .calls()
          .filter((c) => c.receivedAt >= state.startedAt && c.method === a.method)
          .map((c) => c.params),
      )}`,
    );
};

/** "@name" -> user ID, "#name" or a DM's name -> conversation ID; other values as written. */
function resolveParam(ctx: StepContext, value: string): string {
  if (value.startsWith("@")) return ctx.state.slackUserId(value);
  if (value.startsWith("#") || ctx.state.conversations.has(value)) return ctx.state.channelId(value);
  return value;
}

export const PORTAL_IMPLEMENTATIONS: Record<string, Impl> = {
  "expect.portal": expectPortal,
  "slack.create_channel": createChannel,
  "slack.rename_channel": renameChannel,
  "slack.set_topic": setTopic,
  "slack.set_purpose": setPurpose,
  "slack.unfurl": unfurl,
  "slack.archive_channel": archive(true),
  "slack.unarchive_channel": archive(false),
  "slack.join": membership("join"),
  "slack.leave": membership("leave"),
  "slack.invite": membership("invite"),
  "slack.kick": membership("kick"),
  "slack.update_profile": updateProfile,
  "slack.deactivate_user": deactivateUser,
  "slack.open_dm": openDm,
  "matrix.start_dm": startDm,
  "matrix.set_room_name": setRoomName,
  "matrix.set_topic": setRoomTopic,
  "matrix.leave": matrixLeave,
  "matrix.kick": matrixKick,
  "expect.slack_call": expectSlackCall,
};
