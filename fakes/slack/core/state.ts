// The workspace as Slack stores it: team, users, bots, apps, conversations, messages, files, emoji.
// Plain objects and maps, no I/O. Rendering to Slack's JSON shapes lives in render.ts.
import type { IdFactory } from "./ids.ts";

export interface Team {
  id: string;
  name: string;
  domain: string;
}

export interface User {
  id: string;
  name: string;
  realName: string;
  displayName: string;
  email?: string;
  tz: string;
  tzOffset: number;
  isBot: boolean;
  isAdmin: boolean;
  isOwner: boolean;
  deleted: boolean;
  /** Profile image URL; omitted from users.info unless seeded so the bridge downloads nothing. */
  image?: string;
  /** Slack's avatar_hash of a profile image the fake serves (see Workspace.avatars). */
  avatarHash?: string;
  updated: number;
  /** Set for bot users. */
  botId?: string;
  appId?: string;
}

export interface Bot {
  id: string;
  /** Empty for integrations (incoming webhooks), which post as bot_message without a user. */
  appId: string;
  userId: string;
  name: string;
  updated: number;
  deleted: boolean;
}

export interface App {
  id: string;
  name: string;
  botId: string;
  botUserId: string;
  botToken: string;
  appToken: string;
  botScopes: string[];
  appScopes: string[];
}

export type ChannelKind = "public" | "private" | "im" | "mpim";

export interface Reaction {
  name: string;
  users: string[];
}

export interface Message {
  ts: string;
  type: "message";
  subtype?: string;
  user?: string;
  botId?: string;
  appId?: string;
  text: string;
  blocks?: unknown[];
  /** Legacy attachments: link unfurls Slack added, or what an integration posted. */
  attachments?: Record<string, unknown>[];
  threadTs?: string;
  parentUserId?: string;
  /** Reply ts list, for thread roots. */
  replies?: string[];
  edited?: { user: string; ts: string };
  reactions: Reaction[];
  files: string[];
  clientMsgId?: string;
  username?: string;
  iconUrl?: string;
  deleted?: boolean;
  /** channel_topic / channel_purpose / channel_name / channel_join details. */
  topic?: string;
  purpose?: string;
  name?: string;
  oldName?: string;
  inviter?: string;
}

export interface Channel {
  id: string;
  name: string;
  kind: ChannelKind;
  created: number;
  creator: string;
  members: string[];
  topic: { value: string; creator: string; last_set: number };
  purpose: { value: string; creator: string; last_set: number };
  updatedMs: number;
  archived: boolean;
  isGeneral: boolean;
  /** The other user of an IM (for the bot's view). */
  imUser?: string;
  /** Posting permissions (conversations.info properties.posting_restricted_to): "admin", "ra", users. */
  postingRestrictedTo?: { type: string[]; user: string[] };
  /** All messages incl. thread replies and deleted ones, ascending ts. */
  messages: Message[];
  byTs: Map<string, Message>;
  /** Last issued ts in microseconds. */
  lastTsMicros: number;
}

/** A user group (subteam), mentioned as <!subteam^S…>. */
export interface Usergroup {
  id: string;
  handle: string;
  name: string;
  description: string;
  users: string[];
  disabled: boolean;
  created: number;
  updated: number;
  createdBy: string;
}

/** An image the fake serves on Slack's image hosts (profile photos, team icons, custom emoji). */
export interface HostedImage {
  data: Uint8Array;
  mimetype: string;
}

export interface StoredFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  prettyType: string;
  user: string;
  created: number;
  data?: Uint8Array;
  size: number;
  /** Declared length from files.getUploadURLExternal. */
  declaredLength?: number;
  uploadId: string;
  completed: boolean;
  shares: {
    public: Record<string, { ts: string; channel_name: string }[]>;
    private: Record<string, { ts: string; channel_name: string }[]>;
  };
  channels: string[];
}

export class Workspace {
  team: Team;
  readonly users = new Map<string, User>();
  readonly bots = new Map<string, Bot>();
  readonly apps: App[] = [];
  readonly channels = new Map<string, Channel>();
  readonly files = new Map<string, StoredFile>();
  readonly uploads = new Map<string, string>();
  readonly emoji = new Map<string, string>();
  readonly usergroups = new Map<string, Usergroup>();
  /** Images served on Slack's image hosts (avatars, emoji, ca.slack-edge.com), by URL path. */
  readonly images = new Map<string, HostedImage>();
  /** team.info icon URLs (image_34 ... image_230, image_original); none: Slack's default icon. */
  teamIcon?: Record<string, string>;
  readonly emojiCacheTs: number;
  readonly ids: IdFactory;
  /** Last event_ts issued for events that belong to no conversation (user_change), microseconds. */
  private lastEventMicros = 0;

  constructor(team: Team, ids: IdFactory) {
    this.team = team;
    this.ids = ids;
    this.emojiCacheTs = Math.floor(Date.now() / 1000);
  }

  /** Next ts for a channel: wall clock in microseconds, strictly increasing, fixed width. */
  nextTs(channel: Channel, atMicros?: number): string {
    const candidate = atMicros ?? Math.floor(Date.now() * 1000) + Math.floor(Math.random() * 1000);
    const micros = candidate > channel.lastTsMicros ? candidate : channel.lastTsMicros + 1;
    channel.lastTsMicros = micros;
    return formatTs(micros);
  }

  /** event_ts for workspace events (user_change, channel_created): strictly increasing. */
  nextEventTs(): string {
    const candidate = Math.floor(Date.now() * 1000);
    this.lastEventMicros = candidate > this.lastEventMicros ? candidate : this.lastEventMicros + 1;
    return formatTs(this.lastEventMicros);
  }

  appByBotUser(userId: string): App | undefined {
    return this.apps.find((a) => a.botUserId === userId);
  }

  userByName(name: string): User | undefined {
    for (const u of this.users.values()) if (u.name === name) return u;
    return undefined;
  }

  channelByName(name: string): Channel | undefined {
    for (const c of this.channels.values()) if (c.name === name) return c;
    return undefined;
  }

  addMessage(channel: Channel, msg: Message): void {
    const last = channel.messages[channel.messages.length - 1];
    if (!last || last.ts < msg.ts) channel.messages.push(msg);
    else {
      // Seeded or out-of-order inserts keep the array sorted.
      let i = channel.messages.length;
      while (i > 0 && (channel.messages[i - 1] as Message).ts > msg.ts) i--;
      channel.messages.splice(i, 0, msg);
    }
    channel.byTs.set(msg.ts, msg);
    channel.updatedMs = Date.now();
  }

  /** Live top-level messages (what conversations.history lists), ascending. */
  topLevel(channel: Channel): Message[] {
    return channel.messages.filter(
      (m) => !m.deleted && (!m.threadTs || m.threadTs === m.ts || m.subtype === "thread_broadcast"),
    );
  }

  latest(channel: Channel): Message | undefined {
    for (let i = channel.messages.length - 1; i >= 0; i--) {
      const m = channel.messages[i] as Message;
      if (!m.deleted && (!m.threadTs || m.threadTs === m.ts || m.subtype === "thread_broadcast")) return m;
    }
    return undefined;
  }

  isMember(channel: Channel, userId: string): boolean {
    return channel.members.includes(userId);
  }
}

export function formatTs(micros: number): string {
  const sec = Math.floor(micros / 1_000_000);
  const frac = micros - sec * 1_000_000;
  return `${sec}.${String(frac).padStart(6, "0")}`;
}

export function parseTs(ts: string): number | undefined {
  const m = /^(\d{1,12})\.(\d{6})$/.exec(ts);
  if (!m) return undefined;
  return Number(m[1]) * 1_000_000 + Number(m[2]);
}

const MIME: Record<string, [string, string]> = {
  png: ["image/png", "PNG"],
  jpg: ["image/jpeg", "JPEG"],
  jpeg: ["image/jpeg", "JPEG"],
  gif: ["image/gif", "GIF"],
  webp: ["image/webp", "WebP"],
  txt: ["text/plain", "Plain Text"],
  pdf: ["application/pdf", "PDF"],
  mp4: ["video/mp4", "MPEG 4 Video"],
  webm: ["audio/webm", "WebM"],
  ogg: ["audio/ogg", "Ogg Vorbis"],
  mp3: ["audio/mpeg", "MP3"],
  json: ["application/json", "JSON"],
  zip: ["application/zip", "Zip"],
};

/** Slack derives mimetype and filetype from the file name. */
export function fileTypeOf(
  name: string,
  mimetype?: string,
): { mimetype: string; filetype: string; prettyType: string } {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  const known = MIME[ext];
  if (known)
    return { mimetype: mimetype ?? known[0], filetype: ext === "jpeg" ? "jpg" : ext, prettyType: known[1] };
  return {
    mimetype: mimetype ?? "application/octet-stream",
    filetype: ext || "binary",
    prettyType: ext ? ext.toUpperCase() : "Binary",
  };
}

export function emptyChannel(
  id: string,
  name: string,
  kind: ChannelKind,
  creator: string,
  created: number,
): Channel {
  return {
    id,
    name,
    kind,
    created,
    creator,
    members: [],
    topic: { value: "", creator: "", last_set: 0 },
    purpose: { value: "", creator: "", last_set: 0 },
    updatedMs: created * 1000,
    archived: false,
    isGeneral: false,
    messages: [],
    byTs: new Map(),
    lastTsMicros: 0,
  };
}
