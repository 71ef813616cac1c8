// Public surface of the fake Slack. The harness, the CLI and the tests depend on these types only;
// everything else under fakes/slack/ is internal.

/** One Web API call as the fake received it. */
export interface RecordedCall {
  /** Sequence number, starting at 1, in arrival order. */
  seq: number;
  /** Web API method ("chat.postMessage"), or "files.upload" for the upload URL, "files.download",
   * "images.download" (a profile photo, team icon or custom emoji fetched from *.slack-edge.com),
   * "edge.users.search" (the edge API's user search). */
  method: string;
  /** Form/query/JSON parameters, flattened to strings (JSON-string fields stay strings). */
  params: Record<string, string>;
  /** Which token authenticated the call (redacted to its kind and owner, never the value). */
  auth: { kind: "bot" | "app" | "user" | "none"; appId?: string };
  /** now() when the request headers arrived. */
  receivedAt: number;
  /** now() when the fake handed its answer to the socket (in-process, through msw: when the answer
   * was ready). respondedAt - receivedAt is the fake's own time on the call. */
  respondedAt: number;
  /** The JSON body returned (ok, error, ...). */
  response: { ok: boolean; error?: string; [k: string]: unknown };
  /** HTTP status returned (200 unless a fault injected 429 or similar). */
  status: number;
}

/** One Socket Mode envelope delivery attempt. */
export interface EnvelopeRecord {
  envelopeId: string;
  /** Payload event_id (same across redeliveries). */
  eventId: string;
  /** Inner event type ("message", "reaction_added", ...) and subtype if any. */
  eventType: string;
  subtype?: string;
  /** The inner event object as sent. */
  event: Record<string, unknown>;
  retryAttempt: number;
  /** now() right after the frame was written to the socket. */
  sentAt: number;
  /** now() when the ack frame arrived, if it did. */
  ackedAt?: number;
  connectionId: string;
}

export interface SocketConnectionRecord {
  id: string;
  appId: string;
  openedAt: number;
  closedAt?: number;
  closeReason?: string;
}

export type DisconnectReason = "warning" | "refresh_requested" | "link_disabled" | "too_many_websockets";

/** Acting as Slack users, observing what the bridge did, and injecting faults. */
export interface SlackControl {
  // --- act as Slack users (each emits the events Slack would emit, to every app subscribed) ---
  /**
   * A person (`user`) or an integration (`bot`: a seeded bot, posting as bot_message) posts one of:
   * `text`, mrkdwn as Slack stores it (entities and <...> forms; blocks derived from it); `typed`, what
   * a person types into a Slack client (raw characters, @name, #channel, :emoji:, lists, quotes,
   * ``` code; the client's rich_text and Slack's escaped text derived from it); or `blocks`, rich_text
   * blocks given verbatim (the text fallback derived from them).
   */
  postMessage(args: {
    user?: string;
    bot?: string;
    channel: string;
    text?: string;
    typed?: string;
    blocks?: unknown[];
    threadTs?: string;
    /** bot_message only: the name shown for the integration. */
    username?: string;
  }): Promise<{ ts: string; text: string; blocks?: unknown[] }>;
  editMessage(args: { user: string; channel: string; ts: string; text: string }): Promise<{ ts: string }>;
  deleteMessage(args: { user: string; channel: string; ts: string }): Promise<void>;
  addReaction(args: { user: string; channel: string; ts: string; name: string }): Promise<void>;
  removeReaction(args: { user: string; channel: string; ts: string; name: string }): Promise<void>;
  uploadFile(args: {
    user: string;
    channel: string;
    filename: string;
    mimetype: string;
    data: Uint8Array;
    threadTs?: string;
    initialComment?: string;
  }): Promise<{ fileId: string; ts: string }>;

  // --- conversations and people (each emits what Slack would; README "Conversations and people") ---
  /** A person creates a channel (public ones: channel_created to every app). Returns its ID. */
  createChannel(args: { user: string; name: string; private?: boolean }): Promise<{ channel: string }>;
  renameChannel(args: { user: string; channel: string; name: string }): Promise<void>;
  setTopic(args: { user: string; channel: string; topic: string }): Promise<void>;
  setPurpose(args: { user: string; channel: string; purpose: string }): Promise<void>;
  archiveChannel(args: { user: string; channel: string }): Promise<void>;
  unarchiveChannel(args: { user: string; channel: string }): Promise<void>;
  /** `user` joins by themselves (a bot user too, as conversations.join). */
  joinChannel(args: { user: string; channel: string }): Promise<void>;
  leaveChannel(args: { user: string; channel: string }): Promise<void>;
  /** `user` (a member) adds `users`; the bot user ("@bot") included, that is how an app is added. */
  inviteToChannel(args: { user: string; channel: string; users: string[] }): Promise<void>;
  /** `user` removes `target` (conversations.kick); a removed bot's app gets channel_left. */
  kickFromChannel(args: { user: string; channel: string; target: string }): Promise<void>;
  /** `user` opens the IM (one other) or group DM (several) with `with`, found or created. */
  openConversation(args: { user: string; with: string[] }): Promise<{ channel: string; created: boolean }>;
  /** A person edits their profile; a new photo is served on avatars.slack-edge.com. user_change to every app. */
  updateProfile(args: {
    user: string;
    displayName?: string;
    realName?: string;
    avatar?: { data: Uint8Array; mimetype: string };
  }): Promise<{ avatarUrl?: string }>;
  /** An admin deactivates the account: deleted true, user_change to every app. */
  deactivateUser(args: { user: string }): Promise<void>;
  /**
   * An admin adds a custom emoji (a generated image unless `image` is given, or an `alias` of another),
   * removes or renames one: emoji_changed to every app. Returns the emoji's value (URL or alias:).
   */
  changeEmoji(
    args:
      | { add: string; image?: { data: Uint8Array; mimetype: string }; alias?: string }
      | { remove: string }
      | { rename: string; to: string },
  ): Promise<{ value?: string }>;
  /** The image the fake serves at a URL on Slack's image hosts (photos, team icon, emoji), if any. */
  image(url: string): { data: Uint8Array; mimetype: string } | undefined;
  /** Slack unfurls `url` in a message: attachments added, message_changed without `edited`. */
  unfurl(args: { channel: string; ts: string; url: string; title: string; text?: string }): Promise<void>;

  // --- observe ---
  calls(): RecordedCall[];
  /** Resolves with the first call (already recorded after `sinceSeq`, or arriving later) matching. */
  waitForCall(
    predicate: (call: RecordedCall) => boolean,
    opts?: { timeoutMs?: number; sinceSeq?: number; describe?: string },
  ): Promise<RecordedCall>;
  envelopes(): EnvelopeRecord[];
  waitForEnvelope(
    predicate: (env: EnvelopeRecord) => boolean,
    opts?: { timeoutMs?: number; describe?: string },
  ): Promise<EnvelopeRecord>;
  connections(): SocketConnectionRecord[];
  /** Resolves once at least `count` Socket Mode connections are open. */
  waitForConnection(opts?: { timeoutMs?: number; count?: number }): Promise<SocketConnectionRecord>;
  /** Messages stored in a channel, oldest first (state after the bridge's edits/deletes). */
  history(channel: string): StoredMessage[];

  // --- faults ---
  /** Send `disconnect` with this reason on every open connection now. */
  disconnect(reason?: DisconnectReason): void;
  /** Repeat disconnect every `everyMs` until cleared (0 clears). */
  disconnectEvery(everyMs: number, reason?: DisconnectReason): void;
  /** Answer the next `calls` calls of `method` ("*" = all) with HTTP 429 + Retry-After (Infinity: until set again; 0 ends it). */
  rateLimit(method: string, opts: { calls: number; retryAfterSeconds: number }): void;
  /**
   * Web API outage of `method` ("*" = every method): answer with an HTTP error `status` (5xx), or
   * "timeout": hold every call until the outage ends, then answer 504. `undefined` ends it.
   */
  outage(method: string, mode: { status: number } | "timeout" | undefined): void;
  /** Ignore acks (so envelopes are redelivered) for the next `count` envelopes (Infinity = until cleared). */
  dropAcks(count: number): void;
  /** Delay writing envelopes by `ms`. */
  delayEnvelopes(ms: number): void;
  /** Delay responses of `method` ("*" = all) by `ms`. */
  delayResponses(method: string, ms: number): void;
  /** Revoke a token: later calls get token_revoked. */
  revokeToken(token: string): void;
  /**
   * Gives an app (id or name; default the first) a new token of this kind — a reinstall issues a new
   * bot token, an admin regenerates the app-level token — and revokes the old one for good
   * (workspace.apps shows the new one; clearFaults() does not bring the old one back).
   */
  replaceToken(kind: "bot" | "app", app?: string): Promise<{ token: string }>;
  /** Stop sending server pings (true) or resume (false). */
  suppressPings(suppress: boolean): void;
  /**
   * Refresh every Socket Mode connection `lifetimeMs` after it opened, as Slack does at
   * approximate_connection_time: a `warning` disconnect, `refresh_requested` `warningMs` later
   * (default 10000; 0 sends refresh_requested at once), then close. `undefined` stops it.
   */
  connectionLifetime(lifetimeMs: number | undefined, opts?: { warningMs?: number }): void;
  /** Remove every injected fault. */
  clearFaults(): void;
}

export interface StoredMessage {
  ts: string;
  user?: string;
  botId?: string;
  text: string;
  threadTs?: string;
  edited?: { user: string; ts: string };
  reactions: { name: string; users: string[]; count: number }[];
  files: { id: string; name: string; mimetype: string; size: number }[];
  blocks?: unknown[];
  attachments?: Record<string, unknown>[];
  subtype?: string;
  deleted?: boolean;
}

/** The Slack workspace as the harness sees it after seeding (IDs and tokens resolved). */
export interface WorkspaceInfo {
  teamId: string;
  teamName: string;
  domain: string;
  /** Per app: its ids and the tokens the bridge logs in with. */
  apps: {
    appId: string;
    botUserId: string;
    botId: string;
    botToken: string;
    appToken: string;
    name: string;
  }[];
  users: {
    id: string;
    name: string;
    realName: string;
    displayName: string;
    isBot: boolean;
    deleted: boolean;
    /** The profile photo's URL, when the user has one. */
    image?: string;
  }[];
  /** Channels, IMs and group DMs (kind), as they are now. */
  channels: {
    id: string;
    name: string;
    kind: "public" | "private" | "im" | "mpim";
    isPrivate: boolean;
    archived: boolean;
    members: string[];
  }[];
  /** Integrations (seeded under bots:): they post bot_message messages without a user. */
  bots: { id: string; name: string }[];
  /** User groups (handles for @-mentions, members) and custom emoji (name -> URL or alias:). */
  usergroups: { id: string; handle: string; name: string; users: string[] }[];
  emoji: Record<string, string>;
  /** Resolves a seed name ("alice", "#dev-platform", "dev-platform") or an ID to an ID. */
  resolveUser(nameOrId: string): string;
  resolveChannel(nameOrId: string): string;
}

export interface FakeSlackOptions {
  /** Parsed seed object or path to a seed YAML file (the scenario's `slack:` section shape). */
  seed?: unknown;
  /** Host for the plain-HTTP Web API, control API and ws:// Socket Mode endpoint. Default 127.0.0.1. */
  host?: string;
  /** Port for the above. Default 0 (ephemeral). */
  port?: number;
  /** Host the CONNECT proxy binds to (the harness passes the Docker network gateway). Default 127.0.0.1. */
  proxyHost?: string;
  proxyPort?: number;
  /** Where ca.pem (and nothing secret) is written. Default: a temp dir. */
  dir?: string;
  /** Server PING interval (default 10000) and first ping delay (default 3000). */
  pingIntervalMs?: number;
  firstPingDelayMs?: number;
  /** Ack deadline before redelivery (default 3000) and redelivery delays (default [0, 60000, 300000]). */
  ackTimeoutMs?: number;
  redeliveryDelaysMs?: number[];
  /** Receives one line per notable event (already redacted). */
  log?: (line: string) => void;
}

export interface FakeSlack {
  /** http://HOST:PORT/api/ — for Slack SDKs pointed at the fake directly. */
  webApiUrl: string;
  /** http://PROXYHOST:PORT — HTTPS_PROXY for the bridge container. */
  proxyUrl: string;
  /** PEM of the per-run CA that signs slack.com & co., and the file it was written to. */
  caCertPem: string;
  caFile: string;
  /** http://HOST:PORT/_control/ — the control API over HTTP. */
  controlUrl: string;
  control: SlackControl;
  workspace: WorkspaceInfo;
  stop(): Promise<void>;
}
