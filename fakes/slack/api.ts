// Public surface of the fake Slack. The harness, the CLI and the tests depend on these types only;
// everything else under fakes/slack/ is internal.

/** One Web API call as the fake received it. */
export interface RecordedCall {
  /** Sequence number, starting at 1, in arrival order. */
  seq: number;
  /** Web API method ("chat.postMessage"), or "files.upload" for the upload URL, "files.download". */
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
  postMessage(args: {
    user: string;
    channel: string;
    text: string;
    threadTs?: string;
  }): Promise<{ ts: string }>;
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
  users: { id: string; name: string; realName: string; displayName: string; isBot: boolean }[];
  channels: { id: string; name: string; isPrivate: boolean; members: string[] }[];
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
