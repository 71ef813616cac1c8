// State changes shared by the Web API (the bridge acting) and the control API (Slack users acting).
// Each change emits the Events API events Slack would, to every app whose bot is in the channel.
import { randomUUID } from "node:crypto";
import { hex, opaque, unguessable } from "./ids.ts";
import { channelType, type Json, renderFile, renderMessage, renderUser } from "./render.ts";
import {
  type Channel,
  emptyChannel,
  fileTypeOf,
  type Message,
  type StoredFile,
  type User,
  type Workspace,
} from "./state.ts";

/** A Slack application error: becomes {"ok":false,"error":code,...extra}. */
export class SlackError extends Error {
  readonly code: string;
  readonly extra: Json;
  constructor(code: string, extra: Json = {}) {
    super(code);
    this.code = code;
    this.extra = extra;
  }
}

export interface Actor {
  userId: string;
  botId?: string;
  appId?: string;
}

export type Publish = (appId: string, event: Record<string, unknown>) => void;

const REACTION_NAME = /^[a-z0-9_+'-]+(::skin-tone-[2-6])?$/;

export class Actions {
  readonly ws: Workspace;
  private readonly publishFn: Publish;

  constructor(ws: Workspace, publish: Publish) {
    this.ws = ws;
    this.publishFn = publish;
  }

  actorForUser(userId: string): Actor {
    const u = this.ws.users.get(userId);
    if (!u) throw new SlackError("user_not_found");
    return u.isBot ? { userId, botId: u.botId, appId: u.appId } : { userId };
  }

  /** Channel visible to `viewer`: public channels to everyone, others to members only. */
  channelFor(channelId: string | undefined, viewer: string): Channel {
    if (!channelId) throw new SlackError("channel_not_found");
    const c = this.ws.channels.get(channelId);
    if (!c || (c.kind !== "public" && !c.members.includes(viewer))) throw new SlackError("channel_not_found");
    return c;
  }

  private publish(channel: Channel, event: Json, extraApps: string[] = []): void {
    const apps = new Set<string>(extraApps);
    for (const app of this.ws.apps) if (channel.members.includes(app.botUserId)) apps.add(app.id);
    for (const appId of apps) this.publishFn(appId, event);
  }

  /** Events Slack sends to every app of the workspace, member or not (channel_created, user_change). */
  private publishToAll(event: Json): void {
    for (const app of this.ws.apps) this.publishFn(app.id, event);
  }

  findMessage(channel: Channel, ts: string | undefined): Message {
    const m = ts ? channel.byTs.get(ts) : undefined;
    if (!m || m.deleted || m.subtype === "tombstone") throw new SlackError("message_not_found");
    return m;
  }

  post(
    actor: Actor,
    channel: Channel,
    args: {
      text?: string;
      blocks?: unknown[];
      threadTs?: string;
      subtype?: string;
      broadcast?: boolean;
      username?: string;
      iconUrl?: string;
      files?: string[];
      silent?: boolean;
      at?: number;
    },
  ): Message {
    if (channel.archived) throw new SlackError("is_archived");
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    let threadTs: string | undefined;
    let parent: Message | undefined;
    if (args.threadTs) {
      parent = channel.byTs.get(args.threadTs);
      // Slack posts to the channel when thread_ts names no message; a reply to a reply joins its thread.
      if (parent && !parent.deleted) {
        if (parent.threadTs && parent.threadTs !== parent.ts)
          parent = channel.byTs.get(parent.threadTs) ?? parent;
        threadTs = parent.ts;
      } else parent = undefined;
    }
    // Clients send rich_text blocks; system messages (joins, topics, renames) have none.
    const auto = (!args.subtype || args.subtype === "me_message") && !args.files?.length;
    const blocks = args.blocks ?? (args.text !== undefined && auto ? textToBlocks(args.text) : undefined);
    const text = args.text ?? (blocks ? blocksToText(blocks) : "");
    const msg: Message = {
      ts: this.ws.nextTs(channel, args.at),
      type: "message",
      user: actor.userId,
      text,
      reactions: [],
      files: args.files ?? [],
    };
    if (actor.botId) {
      msg.botId = actor.botId;
      msg.appId = actor.appId;
    } else msg.clientMsgId = randomUUID();
    if (args.subtype) msg.subtype = args.subtype;
    if (args.broadcast && threadTs) msg.subtype = "thread_broadcast";
    if (blocks?.length) msg.blocks = blocks;
    if (args.username) msg.username = args.username;
    if (args.iconUrl) msg.iconUrl = args.iconUrl;
    if (parent && threadTs) {
      msg.threadTs = threadTs;
      msg.parentUserId = parent.user;
      parent.threadTs = parent.ts;
      parent.replies = [...(parent.replies ?? []), msg.ts];
    }
    this.ws.addMessage(channel, msg);
    if (!args.silent) {
      const event: Json = {
        ...renderMessage(this.ws, channel, msg),
        channel: channel.id,
        event_ts: msg.ts,
        channel_type: channelType(channel),
      };
      this.publish(channel, event);
    }
    return msg;
  }

  update(
    actor: Actor,
    channel: Channel,
    ts: string | undefined,
    args: { text?: string; blocks?: unknown[] },
  ): Message {
    const msg = this.findMessage(channel, ts);
    if (msg.user !== actor.userId || (msg.botId ?? undefined) !== (actor.botId ?? undefined))
      throw new SlackError("cant_update_message");
    const previous = renderMessage(this.ws, channel, msg);
    if (args.blocks) {
      msg.blocks = args.blocks;
      msg.text = args.text ?? blocksToText(args.blocks);
    } else if (args.text !== undefined) {
      msg.text = args.text;
      msg.blocks = msg.files.length ? undefined : textToBlocks(args.text);
    }
    // edited.ts has second precision in Slack; keep it increasing so every edit is newer than the last.
    const lastEdit = msg.edited ? Number(msg.edited.ts.split(".")[0]) : 0;
    const sec = Math.max(Math.floor(Date.now() / 1000), lastEdit + 1);
    msg.edited = { user: actor.userId, ts: `${sec}.000000` };
    const eventTs = this.ws.nextTs(channel);
    const message = renderMessage(this.ws, channel, msg);
    message.source_team = this.ws.team.id;
    message.user_team = this.ws.team.id;
    this.publish(channel, {
      type: "message",
      subtype: "message_changed",
      message,
      previous_message: previous,
      channel: channel.id,
      hidden: true,
      ts: eventTs,
      event_ts: eventTs,
      channel_type: channelType(channel),
    });
    return msg;
  }

  remove(actor: Actor, channel: Channel, ts: string | undefined, opts: { asAdmin?: boolean } = {}): Message {
    const msg = this.findMessage(channel, ts);
    if (!opts.asAdmin && msg.user !== actor.userId) throw new SlackError("cant_delete_message");
    const previous = renderMessage(this.ws, channel, msg);
    channel.updatedMs = Date.now();
    const eventTs = this.ws.nextTs(channel);
    const liveReplies = msg.replies?.some((r) => !channel.byTs.get(r)?.deleted);
    if (liveReplies) {
      // Slack keeps a thread root with replies as a tombstone and announces it as an edit.
      msg.subtype = "tombstone";
      msg.user = "USLACKBOT";
      msg.botId = undefined;
      msg.appId = undefined;
      msg.clientMsgId = undefined;
      msg.text = "This message was deleted.";
      msg.blocks = undefined;
      msg.files = [];
      msg.reactions = [];
      msg.edited = undefined;
      const message = renderMessage(this.ws, channel, msg);
      message.hidden = true;
      this.publish(channel, {
        type: "message",
        subtype: "message_changed",
        hidden: true,
        message,
        previous_message: previous,
        channel: channel.id,
        ts: eventTs,
        event_ts: eventTs,
        channel_type: channelType(channel),
      });
      return msg;
    }
    msg.deleted = true;
    this.publish(channel, {
      type: "message",
      subtype: "message_deleted",
      hidden: true,
      deleted_ts: msg.ts,
      channel: channel.id,
      previous_message: previous,
      ts: eventTs,
      event_ts: eventTs,
      channel_type: channelType(channel),
    });
    return msg;
  }

  react(
    actor: Actor,
    channel: Channel,
    ts: string | undefined,
    name: string | undefined,
    add: boolean,
  ): void {
    if (!name) throw new SlackError("invalid_arguments");
    const msg = this.findMessage(channel, ts);
    if (!REACTION_NAME.test(name)) throw new SlackError("invalid_name");
    let r = msg.reactions.find((x) => x.name === name);
    if (add) {
      if (r?.users.includes(actor.userId)) throw new SlackError("already_reacted");
      if (!r && msg.reactions.length >= 50) throw new SlackError("too_many_reactions");
      if (!r) {
        r = { name, users: [] };
        msg.reactions.push(r);
      }
      r.users.push(actor.userId);
    } else {
      if (!r?.users.includes(actor.userId)) throw new SlackError("no_reaction");
      r.users = r.users.filter((u) => u !== actor.userId);
      if (!r.users.length) msg.reactions = msg.reactions.filter((x) => x !== r);
    }
    const event: Json = {
      type: add ? "reaction_added" : "reaction_removed",
      user: actor.userId,
      reaction: name,
      item: { type: "message", channel: channel.id, ts: msg.ts },
      event_ts: this.ws.nextTs(channel),
    };
    if (msg.user) event.item_user = msg.user;
    this.publish(channel, event);
  }

  join(user: User, channel: Channel, inviter?: string): boolean {
    if (channel.members.includes(user.id)) return false;
    channel.members.push(user.id);
    channel.updatedMs = Date.now();
    const eventTs = this.ws.nextTs(channel);
    // The joiner is a member by now, so a bot joining receives its own join, as on Slack.
    this.publish(channel, {
      type: "member_joined_channel",
      user: user.id,
      channel: channel.id,
      channel_type: channel.kind === "public" ? "C" : "G",
      team: this.ws.team.id,
      ...(inviter ? { inviter } : {}),
      event_ts: eventTs,
    });
    const actor = this.actorForUser(user.id);
    const text = `<@${user.id}> has joined the channel`;
    const msg = this.post(actor, channel, { text, subtype: "channel_join", silent: true });
    if (inviter) msg.inviter = inviter;
    this.publishMessage(channel, msg);
    return true;
  }

  private publishMessage(channel: Channel, msg: Message): void {
    this.publish(channel, {
      ...renderMessage(this.ws, channel, msg),
      channel: channel.id,
      event_ts: msg.ts,
      channel_type: channelType(channel),
    });
  }

  setTopic(actor: Actor, channel: Channel, topic: string): void {
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    if (topic.length > 250) throw new SlackError("too_long");
    channel.topic = { value: topic, creator: actor.userId, last_set: Math.floor(Date.now() / 1000) };
    const text = topic ? `set the channel topic: ${topic}` : "cleared the channel topic";
    const msg = this.post(actor, channel, { text, subtype: "channel_topic", silent: true });
    msg.topic = topic;
    this.publishMessage(channel, msg);
  }

  rename(actor: Actor, channel: Channel, name: string): void {
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    checkChannelName(name);
    const clash = this.ws.channelByName(name);
    if (clash && clash !== channel) throw new SlackError("name_taken");
    const old = channel.name;
    channel.name = name;
    channel.updatedMs = Date.now();
    this.publish(channel, {
      type: channel.kind === "public" ? "channel_rename" : "group_rename",
      channel: {
        id: channel.id,
        name,
        name_normalized: name,
        created: channel.created,
        is_channel: channel.kind === "public",
        is_mpim: false,
      },
      event_ts: this.ws.nextTs(channel),
    });
    const text = `renamed the channel from "${old}" to "${name}"`;
    const msg = this.post(actor, channel, { text, subtype: "channel_name", silent: true });
    msg.name = name;
    msg.oldName = old;
    this.publishMessage(channel, msg);
  }

  /** A channel is created; public ones are announced to every app with channel_created. */
  createChannel(actor: Actor, name: string, isPrivate: boolean): Channel {
    checkChannelName(name);
    if (this.ws.channelByName(name)) throw new SlackError("name_taken");
    const c = emptyChannel(
      this.ws.ids.next("C"),
      name,
      isPrivate ? "private" : "public",
      actor.userId,
      Math.floor(Date.now() / 1000),
    );
    c.updatedMs = Date.now();
    c.members = [actor.userId];
    this.ws.channels.set(c.id, c);
    // Private channels are announced to nobody: apps learn of them when invited.
    if (!isPrivate)
      this.publishToAll({
        type: "channel_created",
        channel: {
          id: c.id,
          is_channel: true,
          name,
          name_normalized: name,
          created: c.created,
          creator: c.creator,
          is_shared: false,
          is_org_shared: false,
          context_team_id: this.ws.team.id,
          is_archived: false,
          is_frozen: false,
          is_general: false,
          is_group: false,
          is_private: false,
          is_ext_shared: false,
          is_im: false,
          is_mpim: false,
          is_pending_ext_shared: false,
        },
        event_ts: this.ws.nextEventTs(),
      });
    return c;
  }

  /** conversations.invite: `actor` (a member) adds people; each gets member_joined_channel with the inviter. */
  invite(actor: Actor, channel: Channel, userIds: string[]): void {
    if (channel.kind === "im" || channel.kind === "mpim")
      throw new SlackError("method_not_supported_for_channel_type");
    if (channel.archived) throw new SlackError("is_archived");
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    if (!userIds.length) throw new SlackError("no_user");
    const users = userIds.map((id) => {
      const u = this.ws.users.get(id);
      if (!u || u.deleted) throw new SlackError("user_not_found");
      if (id === actor.userId) throw new SlackError("cant_invite_self");
      return u;
    });
    if (users.every((u) => channel.members.includes(u.id))) throw new SlackError("already_in_channel");
    for (const u of users) this.join(u, channel, actor.userId);
  }

  /**
   * A member leaves, or with `by` is removed by another member (conversations.kick). The remaining
   * members' apps get member_left_channel (and, on a leave, the channel_leave message); a removed
   * bot's app gets channel_left / group_left naming who removed it.
   */
  removeMember(user: User, channel: Channel, by?: Actor): void {
    if (channel.kind === "im") throw new SlackError("method_not_supported_for_channel_type");
    if (by) {
      if (by.userId === user.id) throw new SlackError("cant_kick_self");
      if (channel.isGeneral) throw new SlackError("cant_kick_from_general");
      if (!channel.members.includes(by.userId)) throw new SlackError("not_in_channel");
    } else if (channel.isGeneral) throw new SlackError("cant_leave_general");
    if (!channel.members.includes(user.id)) throw new SlackError("not_in_channel");
    const farewell = by
      ? undefined
      : this.post(this.actorForUser(user.id), channel, {
          text: `<@${user.id}> has left the channel`,
          subtype: "channel_leave",
          silent: true,
        });
    channel.members = channel.members.filter((m) => m !== user.id);
    channel.updatedMs = Date.now();
    this.publish(channel, {
      type: "member_left_channel",
      user: user.id,
      channel: channel.id,
      channel_type: channel.kind === "public" ? "C" : "G",
      team: this.ws.team.id,
      event_ts: this.ws.nextTs(channel),
    });
    if (farewell) this.publishMessage(channel, farewell);
    const app = this.ws.appByBotUser(user.id);
    if (app)
      this.publishFn(app.id, {
        type: channel.kind === "public" ? "channel_left" : "group_left",
        channel: channel.id,
        actor_id: by?.userId ?? user.id,
        event_ts: this.ws.nextTs(channel),
      });
  }

  setPurpose(actor: Actor, channel: Channel, purpose: string): void {
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    if (purpose.length > 250) throw new SlackError("too_long");
    channel.purpose = { value: purpose, creator: actor.userId, last_set: Math.floor(Date.now() / 1000) };
    const text = purpose ? `set the channel purpose: ${purpose}` : "cleared the channel purpose";
    const msg = this.post(actor, channel, { text, subtype: "channel_purpose", silent: true });
    msg.purpose = purpose;
    this.publishMessage(channel, msg);
  }

  /** conversations.archive / unarchive: channel_archive (group_archive) and its channel_archive message. */
  setArchived(actor: Actor, channel: Channel, archived: boolean): void {
    if (channel.kind === "im" || channel.kind === "mpim")
      throw new SlackError("method_not_supported_for_channel_type");
    if (archived && channel.archived) throw new SlackError("already_archived");
    if (!archived && !channel.archived) throw new SlackError("not_archived");
    if (channel.isGeneral) throw new SlackError("cant_archive_general");
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    const isPublic = channel.kind === "public";
    if (!archived) channel.archived = false;
    const msg = this.post(actor, channel, {
      text: `<@${actor.userId}> ${archived ? "archived" : "un-archived"} the channel`,
      subtype: archived ? "channel_archive" : "channel_unarchive",
      silent: true,
    });
    channel.archived = archived;
    const eventTs = this.ws.nextTs(channel);
    // Slack's shapes differ: group_unarchive names the actor as actor_id, the others as user.
    const event: Json = archived
      ? {
          type: isPublic ? "channel_archive" : "group_archive",
          channel: channel.id,
          user: actor.userId,
          is_moved: 0,
        }
      : isPublic
        ? { type: "channel_unarchive", channel: channel.id, user: actor.userId }
        : { type: "group_unarchive", channel: channel.id, actor_id: actor.userId };
    this.publish(channel, { ...event, event_ts: eventTs });
    this.publishMessage(channel, msg);
  }

  /**
   * conversations.open: the IM (two members) or group DM (three to nine) of `opener` and `others`,
   * found or created. A new IM is announced to its members' apps with im_created.
   */
  openConversation(opener: string, others: string[]): { channel: Channel; created: boolean } {
    const ids = [...new Set(others.filter((u) => u && u !== opener))];
    if (!ids.length) throw new SlackError("users_list_not_supplied");
    if (ids.length > 8) throw new SlackError("too_many_users");
    for (const id of ids) if (!this.ws.users.has(id)) throw new SlackError("user_not_found");
    const members = [opener, ...ids];
    const kind = members.length === 2 ? "im" : "mpim";
    const key = [...members].sort().join(",");
    for (const c of this.ws.channels.values())
      if (c.kind === kind && [...c.members].sort().join(",") === key) return { channel: c, created: false };
    const created = Math.floor(Date.now() / 1000);
    const names = members.map((id) => this.ws.users.get(id)?.name ?? id);
    const id = this.ws.ids.next(kind === "im" ? "D" : "C");
    const c = emptyChannel(id, kind === "im" ? id : `mpdm-${names.join("--")}-1`, kind, opener, created);
    c.updatedMs = Date.now();
    c.members = members;
    this.ws.channels.set(id, c);
    if (kind === "im")
      this.publish(c, {
        type: "im_created",
        user: opener,
        channel: { id, created, is_im: true, user: ids[0], is_user_deleted: false },
        event_ts: this.ws.nextTs(c),
      });
    return { channel: c, created: true };
  }

  /**
   * A person changes their profile (display name, full name, photo) or is deactivated: user_change to
   * every app, with the user as users.info shows it. A photo is served on avatars.slack-edge.com.
   */
  updateUser(
    user: User,
    change: {
      displayName?: string;
      realName?: string;
      avatar?: { data: Uint8Array; mimetype: string };
      deleted?: boolean;
    },
  ): void {
    if (change.displayName !== undefined) user.displayName = change.displayName;
    if (change.realName !== undefined) user.realName = change.realName;
    if (change.deleted !== undefined) user.deleted = change.deleted;
    if (change.avatar) {
      const hash = hex(10);
      const ext = change.avatar.mimetype === "image/jpeg" ? "jpg" : "png";
      const path = `/${new Date().toISOString().slice(0, 10)}/${Date.now()}_${hash}_512.${ext}`;
      // A copy: the caller keeps its buffer.
      this.ws.avatars.set(path, {
        data: new Uint8Array(change.avatar.data),
        mimetype: change.avatar.mimetype,
      });
      user.image = `${AVATARS_ORIGIN}${path}`;
      user.avatarHash = hash;
    }
    // `updated` is in seconds; the bridge skips updates that are not newer than the last it saw.
    user.updated = Math.max(Math.floor(Date.now() / 1000), user.updated + 1);
    this.publishToAll({
      type: "user_change",
      user: renderUser(this.ws, user),
      cache_ts: Math.floor(Date.now() / 1000),
      event_ts: this.ws.nextEventTs(),
    });
  }

  /** Creates a file record awaiting bytes (files.getUploadURLExternal). */
  newFile(userId: string, filename: string, length: number | undefined): StoredFile {
    const ft = fileTypeOf(filename);
    const f: StoredFile = {
      id: this.ws.ids.next("F"),
      name: filename,
      title: filename,
      ...ft,
      user: userId,
      created: Math.floor(Date.now() / 1000),
      size: 0,
      declaredLength: length,
      uploadId: unguessable(40),
      completed: false,
      shares: { public: {}, private: {} },
      channels: [],
    };
    this.ws.files.set(f.id, f);
    this.ws.uploads.set(f.uploadId, f.id);
    return f;
  }

  /** files.completeUploadExternal: finish and, with a channel, share as one file_share message. */
  completeAndShare(
    actor: Actor,
    fileIds: { id: string; title?: string }[],
    channel: Channel | undefined,
    opts: { threadTs?: string; initialComment?: string; blocks?: unknown[] },
  ): StoredFile[] {
    const files = fileIds.map(({ id, title }) => {
      const f = this.ws.files.get(id);
      if (!f || f.user !== actor.userId || f.data === undefined) throw new SlackError("file_not_found");
      if (title) f.title = title;
      return f;
    });
    if (channel && !channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    for (const f of files) f.completed = true;
    if (!channel) return files;
    const msg = this.post(actor, channel, {
      text: opts.initialComment ?? "",
      blocks: opts.blocks ?? (opts.initialComment ? textToBlocks(opts.initialComment) : undefined),
      threadTs: opts.threadTs,
      subtype: "file_share",
      files: files.map((f) => f.id),
      silent: true,
    });
    for (const f of files) {
      const bucket = channel.kind === "public" ? f.shares.public : f.shares.private;
      const share: Json & { ts: string; channel_name: string } = { ts: msg.ts, channel_name: channel.name };
      if (msg.threadTs) share.thread_ts = msg.threadTs;
      bucket[channel.id] = [...(bucket[channel.id] ?? []), share];
      if (!f.channels.includes(channel.id)) f.channels.push(channel.id);
    }
    const uploaderApp = actor.appId ? [actor.appId] : [];
    for (const f of files)
      this.publish(
        channel,
        {
          type: "file_created",
          file_id: f.id,
          user_id: actor.userId,
          file: { id: f.id },
          event_ts: this.ws.nextTs(channel),
        },
        uploaderApp,
      );
    this.publish(channel, {
      ...renderMessage(this.ws, channel, msg),
      channel: channel.id,
      event_ts: msg.ts,
      channel_type: channelType(channel),
    });
    for (const f of files)
      this.publish(channel, {
        type: "file_shared",
        channel_id: channel.id,
        file_id: f.id,
        user_id: actor.userId,
        file: { id: f.id },
        event_ts: this.ws.nextTs(channel),
      });
    return files;
  }

  renderFile(f: StoredFile): Json {
    return renderFile(this.ws, f, true);
  }
}

/** Where profile photos set through the control API are served (the bridge downloads them). */
export const AVATARS_ORIGIN = "https://avatars.slack-edge.com";

/** Slack's channel name rules (conversations.create / rename). */
export function checkChannelName(name: string): void {
  if (!name) throw new SlackError("invalid_name_required");
  if (name.length > 80) throw new SlackError("invalid_name_maxlength");
  if (!/^[a-z0-9_-]+$/.test(name)) throw new SlackError("invalid_name_specials");
}

const MENTION = /<(@[UW][A-Z0-9]+|#C[A-Z0-9]+|#G[A-Z0-9]+|https?:\/\/[^>|]+)(?:\|([^>]*))?>/g;

/** The rich_text block a Slack client sends for `text` (mentions and links as elements). */
export function textToBlocks(text: string): unknown[] {
  const elements: Json[] = [];
  let last = 0;
  for (const m of text.matchAll(MENTION)) {
    if (m.index > last) elements.push(...styledText(text.slice(last, m.index)));
    const target = m[1] as string;
    if (target.startsWith("@")) elements.push({ type: "user", user_id: target.slice(1) });
    else if (target.startsWith("#")) elements.push({ type: "channel", channel_id: target.slice(1) });
    else elements.push(m[2] ? { type: "link", url: target, text: m[2] } : { type: "link", url: target });
    last = m.index + m[0].length;
  }
  if (last < text.length) elements.push(...styledText(text.slice(last)));
  return [{ type: "rich_text", block_id: opaque(5), elements: [{ type: "rich_text_section", elements }] }];
}

/** mrkdwn markers a Slack client turns into rich_text styles when a person types them. */
const STYLE_MARKERS: Record<string, string> = { "*": "bold", _: "italic", "`": "code", "~": "strike" };
const STYLED = /(^|[\s(])([*_`~])([^*_`~\n]+)\2(?=$|[\s.,;:!?)])/g;

/** Splits plain text into rich_text `text` elements, styling *bold*, _italic_, `code` and ~strike~. */
function styledText(text: string): Json[] {
  const out: Json[] = [];
  let last = 0;
  for (const m of text.matchAll(STYLED)) {
    const start = m.index + (m[1] as string).length;
    if (start > last) out.push({ type: "text", text: text.slice(last, start) });
    out.push({ type: "text", text: m[3], style: { [STYLE_MARKERS[m[2] as string] as string]: true } });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ type: "text", text: text.slice(last) });
  return out;
}

/** The fallback `text` Slack derives from rich_text blocks. */
export function blocksToText(blocks: unknown[]): string {
  const out: string[] = [];
  const walk = (el: unknown): void => {
    if (!el || typeof el !== "object") return;
    const e = el as Json;
    switch (e.type) {
      case "text": {
        // Slack's fallback text keeps the mrkdwn markers of styled runs.
        const style = (e.style ?? {}) as Record<string, boolean>;
        const markers = Object.entries(STYLE_MARKERS)
          .filter(([, name]) => style[name])
          .map(([marker]) => marker)
          .join("");
        out.push(`${markers}${String(e.text ?? "")}${[...markers].reverse().join("")}`);
        return;
      }
      case "user":
        out.push(`<@${String(e.user_id)}>`);
        return;
      case "channel":
        out.push(`<#${String(e.channel_id)}>`);
        return;
      case "link":
        out.push(e.text ? `<${String(e.url)}|${String(e.text)}>` : `<${String(e.url)}>`);
        return;
      case "emoji":
        out.push(`:${String(e.name)}:`);
        return;
      case "section":
      case "header":
        if (e.text && typeof e.text === "object") out.push(String((e.text as Json).text ?? ""));
        return;
    }
    if (Array.isArray(e.elements)) {
      const before = out.length;
      for (const child of e.elements) walk(child);
      if (e.type === "rich_text_preformatted" || e.type === "rich_text_quote") {
        if (out.length > before) out.push("\n");
      }
    }
  };
  for (const b of blocks) walk(b);
  return out.join("").replace(/\n$/, "");
}

/** invalid_blocks unless every block is an object with a string type. */
export function validBlocks(value: unknown): value is unknown[] {
  return (
    Array.isArray(value) &&
    value.length <= 50 &&
    value.every((b) => b && typeof b === "object" && typeof (b as Json).type === "string")
  );
}
