// State changes shared by the Web API (the bridge acting) and the control API (Slack users acting).
// Each change emits the Events API events Slack would, to every app whose bot is in the channel.
import { randomUUID } from "node:crypto";
import { unguessable } from "./ids.ts";
import { hostEmoji, imageFor, setUserPhoto } from "./images.ts";
import { channelType, type Json, renderFile, renderMessage, renderUser } from "./render.ts";
import { blocksToText, mrkdwnToBlocks } from "./richtext.ts";
import {
  type Channel,
  emptyChannel,
  fileTypeOf,
  type HostedImage,
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

  /** message_changed, Slack's (hidden) event for a message changed in place: an edit, an unfurl, a tombstone. */
  private publishChanged(channel: Channel, message: Json, previous: Json, eventTs: string): void {
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
    // An integration (incoming webhook) has no user: it posts to its channel as bot_message.
    const integration = !actor.userId;
    if (!integration && !channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
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
    const blocks = args.blocks ?? (args.text !== undefined && auto ? mrkdwnToBlocks(args.text) : undefined);
    const text = args.text ?? (blocks ? blocksToText(blocks) : "");
    const msg: Message = {
      ts: this.ws.nextTs(channel, args.at),
      type: "message",
      user: integration ? undefined : actor.userId,
      text,
      reactions: [],
      files: args.files ?? [],
    };
    if (actor.botId) {
      msg.botId = actor.botId;
      msg.appId = actor.appId;
    } else msg.clientMsgId = randomUUID();
    if (args.subtype) msg.subtype = args.subtype;
    else if (integration) msg.subtype = "bot_message";
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
      msg.blocks = msg.files.length ? undefined : mrkdwnToBlocks(args.text);
    }
    // edited.ts has second precision in Slack; keep it increasing so every edit is newer than the last.
    const lastEdit = msg.edited ? Number(msg.edited.ts.split(".")[0]) : 0;
    const sec = Math.max(Math.floor(Date.now() / 1000), lastEdit + 1);
    msg.edited = { user: actor.userId, ts: `${sec}.000000` };
    const eventTs = this.ws.nextTs(channel);
    const message = renderMessage(this.ws, channel, msg);
    message.source_team = this.ws.team.id;
    message.user_team = this.ws.team.id;
    this.publishChanged(channel, message, previous, eventTs);
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
      this.publishChanged(channel, message, previous, eventTs);
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
    this.setAbout(actor, channel, "topic", topic);
  }

  setPurpose(actor: Actor, channel: Channel, purpose: string): void {
    this.setAbout(actor, channel, "purpose", purpose);
  }

  /** The channel's topic or purpose (250 characters at most), announced by a channel_topic / channel_purpose message. */
  private setAbout(actor: Actor, channel: Channel, field: "topic" | "purpose", value: string): void {
    if (!channel.members.includes(actor.userId)) throw new SlackError("not_in_channel");
    if (value.length > 250) throw new SlackError("too_long");
    channel[field] = { value, creator: actor.userId, last_set: Math.floor(Date.now() / 1000) };
    const text = value ? `set the channel ${field}: ${value}` : `cleared the channel ${field}`;
    const msg = this.post(actor, channel, { text, subtype: `channel_${field}`, silent: true });
    msg[field] = value;
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
   * every app, with the user as users.info shows it, and for a profile change user_profile_changed
   * too. A photo is served on avatars.slack-edge.com.
   */
  updateUser(
    user: User,
    change: {
      displayName?: string;
      realName?: string;
      avatar?: HostedImage;
      deleted?: boolean;
    },
  ): void {
    if (change.displayName !== undefined) user.displayName = change.displayName;
    if (change.realName !== undefined) user.realName = change.realName;
    if (change.deleted !== undefined) user.deleted = change.deleted;
    if (change.avatar) setUserPhoto(this.ws, user, change.avatar);
    // `updated` is in seconds; the bridge skips updates that are not newer than the last it saw.
    user.updated = Math.max(Math.floor(Date.now() / 1000), user.updated + 1);
    const types = change.deleted === undefined ? ["user_change", "user_profile_changed"] : ["user_change"];
    for (const type of types)
      this.publishToAll({
        type,
        user: renderUser(this.ws, user),
        cache_ts: Math.floor(Date.now() / 1000),
        event_ts: this.ws.nextEventTs(),
      });
  }

  /**
   * An admin adds (image or alias), removes or renames a custom emoji: emoji_changed to every app, in
   * Slack's shapes (add: name + value; remove: names; rename: old_name, new_name, value).
   */
  changeEmoji(
    change:
      | { add: string; image?: HostedImage; alias?: string }
      | { remove: string }
      | { rename: string; to: string },
  ): string | undefined {
    const base = { type: "emoji_changed", event_ts: this.ws.nextEventTs() };
    if ("add" in change) {
      if (!/^[a-z0-9_+'-]+$/.test(change.add)) throw new SlackError("invalid_name");
      if (this.ws.emoji.has(change.add)) throw new SlackError("error_name_taken");
      const value = change.alias
        ? `alias:${change.alias}`
        : hostEmoji(this.ws, change.add, change.image ?? imageFor(change.add));
      this.ws.emoji.set(change.add, value);
      this.publishToAll({ ...base, subtype: "add", name: change.add, value });
      return value;
    }
    if ("remove" in change) {
      if (!this.ws.emoji.delete(change.remove)) throw new SlackError("emoji_not_found");
      this.publishToAll({ ...base, subtype: "remove", names: [change.remove] });
      return undefined;
    }
    const value = this.ws.emoji.get(change.rename);
    if (value === undefined) throw new SlackError("emoji_not_found");
    if (this.ws.emoji.has(change.to)) throw new SlackError("error_name_taken");
    this.ws.emoji.delete(change.rename);
    this.ws.emoji.set(change.to, value);
    this.publishToAll({ ...base, subtype: "rename", old_name: change.rename, new_name: change.to, value });
    return value;
  }

  /**
   * Slack unfurls a link in a message: attachments are added and the change is announced as
   * message_changed without `edited` (nobody edited the text).
   */
  unfurl(
    channel: Channel,
    ts: string | undefined,
    link: { url: string; title: string; text?: string },
  ): Message {
    const msg = this.findMessage(channel, ts);
    const previous = renderMessage(this.ws, channel, msg);
    const host = new URL(link.url).hostname;
    msg.attachments = [
      ...(msg.attachments ?? []),
      {
        id: (msg.attachments?.length ?? 0) + 1,
        from_url: link.url,
        original_url: link.url,
        title: link.title,
        title_link: link.url,
        text: link.text ?? "",
        fallback: `${host}: ${link.title}`,
        service_name: host,
      },
    ];
    this.publishChanged(channel, renderMessage(this.ws, channel, msg), previous, this.ws.nextTs(channel));
    return msg;
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
      blocks: opts.blocks ?? (opts.initialComment ? mrkdwnToBlocks(opts.initialComment) : undefined),
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

/** Slack's channel name rules (conversations.create / rename). */
export function checkChannelName(name: string): void {
  if (!name) throw new SlackError("invalid_name_required");
  if (name.length > 80) throw new SlackError("invalid_name_maxlength");
  if (!/^[a-z0-9_-]+$/.test(name)) throw new SlackError("invalid_name_specials");
}
