// The Web API methods: shapes and errors as Slack answers them (reference/slack-protocol.md §4).

import { type Actions, type Actor, SlackError } from "../core/actions.ts";
import {
  type Json,
  renderBot,
  renderChannel,
  renderMessage,
  renderUser,
  renderUsergroup,
} from "../core/render.ts";
import { validBlocks } from "../core/richtext.ts";
import {
  type App,
  type Channel,
  type ChannelKind,
  type Message,
  parseTs,
  type Workspace,
} from "../core/state.ts";
import type { SocketModePort } from "../internal.ts";
import { decodeCursor, encodeCursor, type ParsedRequest } from "./request.ts";

export interface MethodContext {
  params: Record<string, string>;
  files: ParsedRequest["files"];
  actor: Actor;
  app: App;
  ws: Workspace;
  actions: Actions;
  socketMode: SocketModePort;
  url: URL;
}

export interface MethodSpec {
  token: "bot" | "app";
  /** Any one of these scopes suffices; empty = none needed. */
  scopes: string[];
  run(ctx: MethodContext): Json;
}

const READ = ["channels:read", "groups:read", "im:read", "mpim:read"];
const HISTORY = ["channels:history", "groups:history", "im:history", "mpim:history"];
const SCOPE_PREFIX: Record<ChannelKind, string> = {
  public: "channels",
  private: "groups",
  im: "im",
  mpim: "mpim",
};

/** Methods with alternative scopes (one per conversation type) need the one of the conversation's type. */
function requireKindScope(
  ctx: MethodContext,
  c: Channel,
  action: "read" | "history" | "write.topic" | "write.invites",
): void {
  requireScope(ctx, `${SCOPE_PREFIX[c.kind]}:${action}`);
}

/** A Slack timestamp argument ("1700000000.000100"; also whole seconds): `error` when malformed. */
function tsParam(raw: string | undefined, error: string): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,12}(\.\d{1,6})?$/.test(raw)) throw new SlackError(error);
  const [sec, frac = ""] = raw.split(".");
  return `${sec}.${frac.padEnd(6, "0")}`;
}
const TYPE_OF: Record<ChannelKind, string> = {
  public: "public_channel",
  private: "private_channel",
  im: "im",
  mpim: "mpim",
};

function limitOf(p: Record<string, string>, def: number, max: number): number {
  const raw = p.limit;
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new SlackError("invalid_limit");
  return n === 0 ? def : Math.min(Math.floor(n), max);
}

function truthy(v: string | undefined): boolean {
  return v === "true" || v === "1";
}

function parseJsonParam(raw: string | undefined, error: string): unknown {
  if (raw === undefined || raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new SlackError(error);
  }
}

/** Channel by ID, "#name" or name; a user ID opens (or finds) the IM with that user. */
function channelParam(ctx: MethodContext, raw: string | undefined): Channel {
  if (!raw) throw new SlackError("channel_not_found");
  const viewer = ctx.actor.userId;
  if (/^[UW][A-Z0-9]+$/.test(raw) && ctx.ws.users.has(raw))
    return ctx.actions.openConversation(viewer, [raw]).channel;
  const byId = ctx.ws.channels.get(raw);
  if (byId) return ctx.actions.channelFor(raw, viewer);
  const byName = ctx.ws.channelByName(raw.replace(/^#/, ""));
  if (byName && byName.kind !== "im") return ctx.actions.channelFor(byName.id, viewer);
  throw new SlackError("channel_not_found");
}

function paginate<T>(
  items: T[],
  cursor: string | undefined,
  kind: string,
  key: (t: T) => string,
  limit: number,
): { page: T[]; next: string } {
  const after = decodeCursor(cursor, kind);
  if (after === null) throw new SlackError("invalid_cursor");
  let start = 0;
  if (after !== undefined) {
    start = items.findIndex((t) => key(t) === after);
    if (start < 0) throw new SlackError("invalid_cursor");
  }
  const page = items.slice(start, start + limit);
  const nextItem = items[start + limit];
  return { page, next: nextItem === undefined ? "" : encodeCursor(kind, key(nextItem)) };
}

function typesParam(raw: string | undefined): ChannelKind[] {
  const types = (raw || "public_channel").split(",").map((t) => t.trim());
  const kinds: ChannelKind[] = [];
  for (const t of types) {
    const kind = (Object.keys(TYPE_OF) as ChannelKind[]).find((k) => TYPE_OF[k] === t);
    if (!kind) throw new SlackError("invalid_types");
    kinds.push(kind);
  }
  return kinds;
}

function requireScope(ctx: MethodContext, scope: string): void {
  if (!ctx.app.botScopes.includes(scope))
    throw new SlackError("missing_scope", { needed: scope, provided: ctx.app.botScopes.join(",") });
}

/** Methods that manage a conversation need the write scope of its type (public: channels:manage). */
const MANAGE = ["channels:manage", "groups:write", "im:write", "mpim:write"];
function requireManageScope(ctx: MethodContext, c: Channel): void {
  requireScope(
    ctx,
    c.kind === "public" ? "channels:manage" : c.kind === "private" ? "groups:write" : `${c.kind}:write`,
  );
}

function commaList(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
}

function requireMember(ctx: MethodContext, c: Channel): void {
  if (!c.members.includes(ctx.actor.userId)) throw new SlackError("not_in_channel");
}

function messageArgs(ctx: MethodContext): { text?: string; blocks?: unknown[] } {
  const p = ctx.params;
  const blocks = parseJsonParam(p.blocks, "invalid_blocks");
  if (blocks !== undefined && !validBlocks(blocks)) throw new SlackError("invalid_blocks");
  const attachments = parseJsonParam(p.attachments, "invalid_attachments");
  if (attachments !== undefined && !Array.isArray(attachments)) throw new SlackError("invalid_attachments");
  const text = p.text;
  if (
    (text === undefined || text === "") &&
    !(blocks as unknown[] | undefined)?.length &&
    !(attachments as unknown[] | undefined)?.length
  )
    throw new SlackError("no_text");
  if (text && text.length > 40_000) throw new SlackError("msg_too_long");
  return { text: text || undefined, blocks: blocks as unknown[] | undefined };
}

function postMessage(ctx: MethodContext, subtype?: string): Json {
  const channel = channelParam(ctx, ctx.params.channel);
  const args = messageArgs(ctx);
  const msg = ctx.actions.post(ctx.actor, channel, {
    ...args,
    threadTs: ctx.params.thread_ts || undefined,
    broadcast: truthy(ctx.params.reply_broadcast),
    username: ctx.params.username || undefined,
    iconUrl: ctx.params.icon_url || undefined,
    subtype,
  });
  if (subtype) return { channel: channel.id, ts: msg.ts };
  return { channel: channel.id, ts: msg.ts, message: renderMessage(ctx.ws, channel, msg) };
}

/** The message a reactions.* call names: channel + timestamp (file and file_comment are not modelled). */
function reactionTarget(ctx: MethodContext): { channel: Channel; ts: string } {
  const p = ctx.params;
  if (!p.channel || !p.timestamp) {
    if (p.file || p.file_comment) throw new SlackError("file_not_found");
    throw new SlackError("no_item_specified");
  }
  const ts = tsParam(p.timestamp, "bad_timestamp") as string;
  return { channel: channelParam(ctx, p.channel), ts };
}

function react(ctx: MethodContext, add: boolean): Json {
  const { channel, ts } = reactionTarget(ctx);
  const name = ctx.params.name?.replace(/^:|:$/g, "");
  if (!name) throw new SlackError("invalid_name");
  ctx.actions.react(ctx.actor, channel, ts, name, add);
  return {};
}

function historyPage(ctx: MethodContext, channel: Channel): Json {
  const p = ctx.params;
  const limit = limitOf(p, 100, 999);
  const inclusive = truthy(p.inclusive);
  let latest = tsParam(p.latest, "invalid_ts_latest");
  const from = tsParam(p.oldest, "invalid_ts_oldest");
  let oldest = from && parseTs(from) !== 0 ? from : undefined;
  let latestIncl = inclusive;
  let oldestIncl = inclusive;
  let forward = !!oldest && !latest;
  if (p.cursor) {
    const back = decodeCursor(p.cursor, "next_ts");
    const fwd = back === null ? decodeCursor(p.cursor, "prev_ts") : undefined;
    if (back) {
      latest = back;
      latestIncl = false;
      forward = false;
    } else if (fwd) {
      oldest = fwd;
      oldestIncl = false;
      forward = true;
    } else throw new SlackError("invalid_cursor");
  }
  const all = ctx.ws.topLevel(channel).filter((m) => {
    if (latest && (latestIncl ? m.ts > latest : m.ts >= latest)) return false;
    if (oldest && (oldestIncl ? m.ts < oldest : m.ts <= oldest)) return false;
    return true;
  });
  let page: Message[];
  let hasMore: boolean;
  let next = "";
  if (forward) {
    page = all.slice(0, limit);
    hasMore = all.length > limit;
    if (hasMore) next = encodeCursor("prev_ts", (page[page.length - 1] as Message).ts);
    page.reverse();
  } else {
    page = all.slice(Math.max(0, all.length - limit)).reverse();
    hasMore = all.length > limit;
    if (hasMore) next = encodeCursor("next_ts", (page[page.length - 1] as Message).ts);
  }
  return {
    messages: page.map((m) => renderMessage(ctx.ws, channel, m)),
    has_more: hasMore,
    pin_count: 0,
    channel_actions_ts: null,
    channel_actions_count: 0,
    response_metadata: { next_cursor: next },
  };
}

function fileIdsParam(raw: string | undefined): { id: string; title?: string }[] {
  const files = parseJsonParam(raw, "invalid_arguments");
  if (!Array.isArray(files) || !files.length) throw new SlackError("invalid_arguments");
  return files.map((f) => {
    if (!f || typeof f !== "object" || typeof (f as Json).id !== "string")
      throw new SlackError("invalid_arguments");
    const title = (f as Json).title;
    return { id: (f as Json).id as string, title: typeof title === "string" ? title : undefined };
  });
}

export const METHODS: Record<string, MethodSpec> = {
  "api.test": { token: "bot", scopes: [], run: (ctx) => ({ args: { ...ctx.params } }) },

  "auth.test": {
    token: "bot",
    scopes: [],
    run: ({ ws, app }) => ({
      url: `https://${ws.team.domain}.slack.com/`,
      team: ws.team.name,
      user: ws.users.get(app.botUserId)?.name ?? app.name,
      team_id: ws.team.id,
      user_id: app.botUserId,
      bot_id: app.botId,
      is_enterprise_install: false,
    }),
  },

  "apps.connections.open": {
    token: "app",
    scopes: ["connections:write"],
    run: ({ app, socketMode, url }) => ({ url: socketMode.issueUrl(app.id, url) }),
  },

  "team.info": {
    token: "bot",
    scopes: ["team:read"],
    run: ({ ws, params }) => {
      if (params.team && params.team !== ws.team.id) throw new SlackError("team_not_found");
      // Without an icon Slack lists its default one, flagged image_default (the bridge downloads nothing).
      let icon: Json = { ...ws.teamIcon, image_default: false };
      if (!ws.teamIcon) {
        icon = { image_default: true };
        for (const s of [34, 44, 68, 88, 102, 132, 230])
          icon[`image_${s}`] = `https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-${s}.png`;
      }
      return {
        team: {
          id: ws.team.id,
          name: ws.team.name,
          url: `https://${ws.team.domain}.slack.com/`,
          domain: ws.team.domain,
          email_domain: "",
          icon,
          avatar_base_url: "https://ca.slack-edge.com/",
          is_verified: false,
          lob_sales_home_enabled: false,
        },
      };
    },
  },

  "users.info": {
    token: "bot",
    scopes: ["users:read"],
    run: ({ ws, params }) => {
      const u = params.user ? ws.users.get(params.user) : undefined;
      if (!u) throw new SlackError("user_not_found");
      return { user: renderUser(ws, u, { locale: truthy(params.include_locale) }) };
    },
  },

  "users.list": {
    token: "bot",
    scopes: ["users:read"],
    run: ({ ws, params }) => {
      const { page, next } = paginate(
        [...ws.users.values()],
        params.cursor,
        "user",
        (u) => u.id,
        limitOf(params, 0, 1000) || 1000,
      );
      return {
        members: page.map((u) => renderUser(ws, u, { locale: truthy(params.include_locale) })),
        cache_ts: Math.floor(Date.now() / 1000),
        response_metadata: { next_cursor: next },
      };
    },
  },

  "usergroups.list": {
    token: "bot",
    scopes: ["usergroups:read"],
    run: ({ ws, params }) => {
      if (params.team_id && params.team_id !== ws.team.id) throw new SlackError("invalid_team_id");
      const groups = [...ws.usergroups.values()].filter(
        (g) => truthy(params.include_disabled) || !g.disabled,
      );
      const opts = { users: truthy(params.include_users), count: truthy(params.include_count) };
      return { usergroups: groups.map((g) => renderUsergroup(ws, g, opts)) };
    },
  },

  "users.lookupByEmail": {
    token: "bot",
    scopes: ["users:read.email"],
    run: ({ ws, params }) => {
      const email = (params.email ?? "").toLowerCase();
      const u = email ? [...ws.users.values()].find((x) => x.email?.toLowerCase() === email) : undefined;
      if (!u) throw new SlackError("users_not_found");
      return { user: renderUser(ws, u) };
    },
  },

  "bots.info": {
    token: "bot",
    scopes: ["users:read"],
    run: ({ ws, params }) => {
      const b = params.bot ? ws.bots.get(params.bot) : undefined;
      if (!b) throw new SlackError("bot_not_found");
      return { bot: renderBot(b) };
    },
  },

  "emoji.list": {
    token: "bot",
    scopes: ["emoji:read"],
    run: ({ ws }) => ({ emoji: Object.fromEntries(ws.emoji), cache_ts: `${ws.emojiCacheTs}.000000` }),
  },

  "users.conversations": {
    token: "bot",
    scopes: READ,
    run: (ctx) => {
      const { ws, params } = ctx;
      const kinds = typesParam(params.types);
      const who = params.user || ctx.actor.userId;
      if (!ws.users.has(who)) throw new SlackError("user_not_found");
      const list = [...ws.channels.values()].filter(
        (c) =>
          kinds.includes(c.kind) &&
          c.members.includes(who) &&
          !(truthy(params.exclude_archived) && c.archived),
      );
      const { page, next } = paginate(list, params.cursor, "id", (c) => c.id, limitOf(params, 100, 1000));
      return {
        channels: page.map((c) => renderChannel(ws, c, ctx.actor.userId)),
        response_metadata: { next_cursor: next },
      };
    },
  },

  "conversations.list": {
    token: "bot",
    scopes: READ,
    run: (ctx) => {
      const { ws, params } = ctx;
      const kinds = typesParam(params.types);
      const me = ctx.actor.userId;
      const list = [...ws.channels.values()].filter(
        (c) =>
          kinds.includes(c.kind) &&
          (c.kind === "public" || c.members.includes(me)) &&
          !(truthy(params.exclude_archived) && c.archived),
      );
      const { page, next } = paginate(list, params.cursor, "id", (c) => c.id, limitOf(params, 100, 1000));
      return {
        channels: page.map((c) => renderChannel(ws, c, me)),
        response_metadata: { next_cursor: next },
      };
    },
  },

  "conversations.info": {
    token: "bot",
    scopes: READ,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireKindScope(ctx, c, "read");
      return {
        channel: renderChannel(ctx.ws, c, ctx.actor.userId, {
          latest: true,
          numMembers: truthy(ctx.params.include_num_members),
          locale: truthy(ctx.params.include_locale),
        }),
      };
    },
  },

  "conversations.members": {
    token: "bot",
    scopes: READ,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireKindScope(ctx, c, "read");
      const { page, next } = paginate(
        c.members,
        ctx.params.cursor,
        "user",
        (u) => u,
        limitOf(ctx.params, 100, 1000),
      );
      return { members: page, response_metadata: { next_cursor: next } };
    },
  },

  "conversations.join": {
    token: "bot",
    scopes: ["channels:join"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      if (c.kind !== "public") throw new SlackError("method_not_supported_for_channel_type");
      if (c.archived) throw new SlackError("is_archived");
      const user = ctx.ws.users.get(ctx.actor.userId);
      if (!user) throw new SlackError("user_not_found");
      const joined = ctx.actions.join(user, c);
      const out: Json = { channel: renderChannel(ctx.ws, c, user.id) };
      if (!joined) {
        out.warning = "already_in_channel";
        out.response_metadata = { warnings: ["already_in_channel"] };
      }
      return out;
    },
  },

  "conversations.setTopic": {
    token: "bot",
    scopes: ["channels:write.topic", "groups:write.topic", "im:write.topic", "mpim:write.topic"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireKindScope(ctx, c, "write.topic");
      ctx.actions.setTopic(ctx.actor, c, ctx.params.topic ?? "");
      return { channel: renderChannel(ctx.ws, c, ctx.actor.userId) };
    },
  },

  "conversations.rename": {
    token: "bot",
    scopes: ["channels:manage", "groups:write", "im:write", "mpim:write"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      if (c.kind === "im" || c.kind === "mpim") throw new SlackError("method_not_supported_for_channel_type");
      requireManageScope(ctx, c);
      ctx.actions.rename(ctx.actor, c, ctx.params.name ?? "");
      return { channel: renderChannel(ctx.ws, c, ctx.actor.userId) };
    },
  },

  "conversations.invite": {
    token: "bot",
    scopes: ["channels:write.invites", "groups:write.invites", "mpim:write.invites"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      // IMs take no invites at all (method_not_supported_for_channel_type, below).
      if (c.kind !== "im") requireKindScope(ctx, c, "write.invites");
      ctx.actions.invite(ctx.actor, c, commaList(ctx.params.users));
      return { channel: renderChannel(ctx.ws, c, ctx.actor.userId, { numMembers: true }) };
    },
  },

  "conversations.kick": {
    token: "bot",
    scopes: MANAGE,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireManageScope(ctx, c);
      const target = ctx.params.user ? ctx.ws.users.get(ctx.params.user) : undefined;
      if (!target) throw new SlackError("user_not_found");
      ctx.actions.removeMember(target, c, ctx.actor);
      return {};
    },
  },

  "conversations.leave": {
    token: "bot",
    scopes: MANAGE,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireManageScope(ctx, c);
      const me = ctx.ws.users.get(ctx.actor.userId);
      if (!me) throw new SlackError("user_not_found");
      // Slack answers ok with not_in_channel when there is nothing to leave.
      if (!c.members.includes(me.id) && !c.isGeneral) return { not_in_channel: true };
      ctx.actions.removeMember(me, c);
      return {};
    },
  },

  "conversations.archive": {
    token: "bot",
    scopes: MANAGE,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireManageScope(ctx, c);
      ctx.actions.setArchived(ctx.actor, c, true);
      return {};
    },
  },

  "conversations.unarchive": {
    token: "bot",
    scopes: MANAGE,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireManageScope(ctx, c);
      ctx.actions.setArchived(ctx.actor, c, false);
      return {};
    },
  },

  "conversations.setPurpose": {
    token: "bot",
    scopes: ["channels:write.topic", "groups:write.topic", "im:write.topic", "mpim:write.topic"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireKindScope(ctx, c, "write.topic");
      ctx.actions.setPurpose(ctx.actor, c, ctx.params.purpose ?? "");
      return { channel: renderChannel(ctx.ws, c, ctx.actor.userId) };
    },
  },

  "conversations.create": {
    token: "bot",
    scopes: ["channels:manage", "groups:write"],
    run: (ctx) => {
      const isPrivate = truthy(ctx.params.is_private);
      if (!isPrivate) requireScope(ctx, "channels:manage");
      const c = ctx.actions.createChannel(ctx.actor, ctx.params.name ?? "", isPrivate);
      return { channel: renderChannel(ctx.ws, c, ctx.actor.userId) };
    },
  },

  "conversations.open": {
    token: "bot",
    scopes: ["im:write", "mpim:write"],
    run: (ctx) => {
      const me = ctx.actor.userId;
      let c: Channel;
      let created = false;
      if (ctx.params.channel) c = channelParam(ctx, ctx.params.channel);
      else ({ channel: c, created } = ctx.actions.openConversation(me, commaList(ctx.params.users)));
      const full = truthy(ctx.params.return_im) || c.kind !== "im";
      const channel = full ? renderChannel(ctx.ws, c, me) : { id: c.id };
      return created ? { channel } : { no_op: true, already_open: true, channel };
    },
  },

  "conversations.history": {
    token: "bot",
    scopes: HISTORY,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireKindScope(ctx, c, "history");
      requireMember(ctx, c);
      return historyPage(ctx, c);
    },
  },

  "conversations.replies": {
    token: "bot",
    scopes: HISTORY,
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      requireKindScope(ctx, c, "history");
      requireMember(ctx, c);
      const ts = tsParam(ctx.params.ts, "thread_not_found");
      if (!ts) throw new SlackError("invalid_arguments");
      let root = c.byTs.get(ts);
      if (!root || root.deleted) throw new SlackError("thread_not_found");
      if (root.threadTs && root.threadTs !== root.ts) root = c.byTs.get(root.threadTs) ?? root;
      const replies = (root.replies ?? [])
        .map((r) => c.byTs.get(r))
        .filter((m): m is Message => !!m && !m.deleted);
      const p = ctx.params;
      const inclusive = truthy(p.inclusive);
      const latest = tsParam(p.latest, "invalid_ts_latest");
      const from = tsParam(p.oldest, "invalid_ts_oldest");
      const oldest = from && parseTs(from) !== 0 ? from : undefined;
      const inRange = replies.filter(
        (m) =>
          !(latest && (inclusive ? m.ts > latest : m.ts >= latest)) &&
          !(oldest && (inclusive ? m.ts < oldest : m.ts <= oldest)),
      );
      const { page, next } = paginate(inRange, p.cursor, "reply", (m) => m.ts, limitOf(p, 1000, 1000));
      return {
        messages: [root, ...page].map((m) => renderMessage(ctx.ws, c, m)),
        has_more: next !== "",
        response_metadata: { next_cursor: next },
      };
    },
  },

  "chat.postMessage": { token: "bot", scopes: ["chat:write"], run: (ctx) => postMessage(ctx) },
  "chat.meMessage": { token: "bot", scopes: ["chat:write"], run: (ctx) => postMessage(ctx, "me_message") },

  "chat.update": {
    token: "bot",
    scopes: ["chat:write"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      const p = ctx.params;
      const blocks = parseJsonParam(p.blocks, "invalid_blocks");
      if (blocks !== undefined && !validBlocks(blocks)) throw new SlackError("invalid_blocks");
      if (
        p.text === undefined &&
        blocks === undefined &&
        p.attachments === undefined &&
        p.file_ids === undefined
      )
        throw new SlackError("no_text");
      const msg = ctx.actions.update(ctx.actor, c, p.ts, {
        text: p.text,
        blocks: blocks as unknown[] | undefined,
      });
      const message = renderMessage(ctx.ws, c, msg);
      delete message.ts;
      return { channel: c.id, ts: msg.ts, text: msg.text, message };
    },
  },

  "chat.delete": {
    token: "bot",
    scopes: ["chat:write"],
    run: (ctx) => {
      const c = channelParam(ctx, ctx.params.channel);
      const msg = ctx.actions.remove(ctx.actor, c, ctx.params.ts);
      return { channel: c.id, ts: msg.ts };
    },
  },

  "reactions.add": { token: "bot", scopes: ["reactions:write"], run: (ctx) => react(ctx, true) },
  "reactions.remove": { token: "bot", scopes: ["reactions:write"], run: (ctx) => react(ctx, false) },

  "reactions.get": {
    token: "bot",
    scopes: ["reactions:read"],
    run: (ctx) => {
      const { channel: c, ts } = reactionTarget(ctx);
      const msg = ctx.actions.findMessage(c, ts);
      return { type: "message", channel: c.id, message: renderMessage(ctx.ws, c, msg) };
    },
  },

  "files.getUploadURLExternal": {
    token: "bot",
    scopes: ["files:write"],
    run: (ctx) => {
      const { filename, length } = ctx.params;
      const n = Number(length);
      if (!filename || !length || !Number.isInteger(n) || n <= 0) throw new SlackError("invalid_arguments");
      if (n > 1024 * 1024 * 1024) throw new SlackError("file_too_large");
      const f = ctx.actions.newFile(ctx.actor.userId, filename, n);
      return { upload_url: `https://files.slack.com/upload/v1/${f.uploadId}`, file_id: f.id };
    },
  },

  "files.completeUploadExternal": {
    token: "bot",
    scopes: ["files:write"],
    run: (ctx) => {
      const p = ctx.params;
      const ids = fileIdsParam(p.files);
      const channelId = p.channel_id || p.channels?.split(",")[0];
      const channel = channelId ? channelParam(ctx, channelId) : undefined;
      const blocks = parseJsonParam(p.blocks, "invalid_blocks");
      if (blocks !== undefined && !validBlocks(blocks)) throw new SlackError("invalid_blocks");
      const files = ctx.actions.completeAndShare(ctx.actor, ids, channel, {
        threadTs: p.thread_ts || undefined,
        initialComment: p.initial_comment || undefined,
        blocks: blocks as unknown[] | undefined,
      });
      return { files: files.map((f) => ctx.actions.renderFile(f)) };
    },
  },

  "files.info": {
    token: "bot",
    scopes: ["files:read"],
    run: (ctx) => {
      const f = ctx.params.file ? ctx.ws.files.get(ctx.params.file) : undefined;
      const me = ctx.actor.userId;
      const visible =
        f?.completed &&
        (f.user === me ||
          f.channels.some((c) => {
            const ch = ctx.ws.channels.get(c);
            return ch && (ch.kind === "public" || ch.members.includes(me));
          }));
      if (!f || !visible) throw new SlackError("file_not_found");
      return { file: ctx.actions.renderFile(f), comments: [], response_metadata: { next_cursor: "" } };
    },
  },

  // Retired by Slack in favour of the getUploadURLExternal/completeUploadExternal pair.
  "files.upload": {
    token: "bot",
    scopes: ["files:write"],
    run: () => {
      throw new SlackError("method_deprecated");
    },
  },
};
