// State changes shared by the Web API (the bridge acting) and the control API (Slack users acting).
// Each change emits the Events API events Slack would, to every app whose bot is in the channel.
import { randomUUID } from "node:crypto";
import { opaque, unguessable } from "./ids.ts";
import { channelType, type Json, renderFile, renderMessage } from "./render.ts";
import {
  type Channel,
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
    if (!/^[a-z0-9_-]{1,80}$/.test(name)) throw new SlackError("invalid_name_specials");
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
