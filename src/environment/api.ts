// The Environment facade: what scenario steps, tests and the CLI use to drive a running deployment.
// Implemented in src/environment/environment.ts on top of src/runtime and src/services.
import type { FakeSlack } from "../../fakes/slack/api.ts";
import type { HomeserverSpec, RegisteredUser, StartedHomeserver } from "../homeservers/api.ts";

/** A resolved environment definition (from environments/*.yaml after validation and defaults). */
export interface EnvironmentSpec {
  name: string;
  /** Upstream image names; the image map turns them into local ones. */
  postgres: { image: string };
  homeserver: HomeserverSpec;
  /** Behaviour of this deployment's parts that is known and stated (log lines set apart in reports). */
  knownIssues?: KnownIssue[];
  /**
   * How the harness's Matrix clients sync, when an environment needs other than Element's defaults
   * (a 30 s /sync long-poll), with the reason (shown in reports).
   */
  matrixClient?: { syncTimeoutMs: number; reason: string };
  bridge: {
    kind: "mautrix-slack";
    image: string;
    /** Absolute paths of YAML files deep-merged over the bridge's generated config, in order. */
    configOverlays: string[];
  };
}

/**
 * A known behaviour of the software an environment runs (usually upstream, found by this harness):
 * log lines matching `log` are not counted by log and health assertions, but reported with `reason`.
 */
export interface KnownIssue {
  service: "bridge" | "homeserver";
  /** Regular expression matched against each line. */
  log: string;
  /** Why, with where the evidence is. */
  reason: string;
}

export interface StartOptions {
  /** Folder for this run's configs and logs; created if missing. */
  runDir: string;
  /** Seed for the fake Slack workspace (the scenario's `slack:` section). */
  slackSeed?: unknown;
  /** Image map: upstream name -> local name. */
  imageMap?: Record<string, string>;
  /** Progress lines ("postgres ready in 1.9 s"). */
  progress?: (line: string) => void;
  /**
   * Leave the containers running when the process exits without stop() (for `--keep`); they are
   * labelled so the leftover sweep skips them. stop() still removes them.
   */
  keep?: boolean;
  /** Users granted bridge admin in bridge.permissions (default: every user of the homeserver domain). */
  bridgeAdmins?: string[];
}

/** Timestamps (from now()) of one Matrix event as the driver saw it. */
export interface SeenEvent {
  eventId: string;
  roomId: string;
  sender: string;
  type: string;
  content: Record<string, any>;
  /** now() when the driver's sync delivered it. */
  seenAt: number;
  /** State key for state events (membership events: the user ID). */
  stateKey?: string;
  /** origin_server_ts (the homeserver's clock, not the harness clock). */
  originServerTs?: number;
}

export interface SendOptions {
  /**
   * Until this now() time, a send the homeserver did not take (unreachable, 5xx, 429) is tried again
   * with the same transaction ID, as a client's outbox does; `sentAt` stays the first attempt's.
   */
  retryUntil?: number;
}

export interface MatrixUser {
  userId: string;
  accessToken: string;
  /** Room IDs of rooms the user is joined to or invited to. */
  rooms(): string[];
  joinRoom(roomIdOrAlias: string): Promise<void>;
  /** Sends a message; returns the event ID and now() taken just before the send call. */
  sendText(
    roomId: string,
    body: string,
    opts?: { html?: string; threadRootId?: string } & SendOptions,
  ): Promise<{ eventId: string; sentAt: number }>;
  sendEvent(
    roomId: string,
    type: string,
    content: Record<string, any>,
    opts?: SendOptions,
  ): Promise<{ eventId: string; sentAt: number }>;
  /** Makes the sync loop retry at once (it backs off while the homeserver is unreachable). */
  reconnect(): Promise<void>;
  redact(roomId: string, eventId: string): Promise<{ eventId: string; sentAt: number }>;
  /**
   * Arm-before-act waiter: resolves with the first event (already seen after arming, or later) matching.
   * `since` (a value from mark()) arms it earlier: events seen since that mark count too. This lets a
   * caller mark, act, and then build a predicate from the action's result (e.g. a new room ID).
   */
  waitForEvent(
    predicate: (e: SeenEvent) => boolean,
    opts: {
      timeoutMs: number;
      describe: string;
      since?: number;
      /** The room the event is expected in: a timeout then says whether the homeserver has it. */
      roomId?: string;
      /** Harness plumbing only: after this long without /sync delivering it, also look with /messages. */
      serverFallbackAfterMs?: number;
    },
  ): Promise<SeenEvent>;
  /** A position in the stream of events seen by this user's sync. */
  mark(): number;
  /** Events the harness read with /messages because the homeserver's /sync held them back. */
  readonly syncLags: readonly { eventId: string; roomId: string; describe: string }[];
  /** Events seen so far, optionally since a mark. */
  events(since?: number): SeenEvent[];
  /** This user's own membership changes (invite, join, leave, ban) with when its sync delivered them. */
  membershipChanges(): { roomId: string; membership: string; seenAt: number }[];
  /** Creates a room; with isDirect a DM (trusted_private_chat, is_direct). Returns the room ID. */
  createRoom(opts?: {
    invite?: string[];
    isDirect?: boolean;
    name?: string;
    topic?: string;
    preset?: "private_chat" | "trusted_private_chat" | "public_chat";
  }): Promise<string>;
  leaveRoom(roomId: string): Promise<void>;
  /** Raw Client-Server API call as this user (path starting with /_matrix/...). */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Resolves when the user is invited to (or joined) a room matching the predicate on its state. */
  waitForRoom(
    predicate: (room: { roomId: string; name?: string; topic?: string; membership: string }) => boolean,
    opts: { timeoutMs: number; describe: string },
  ): Promise<{ roomId: string; name?: string; topic?: string; membership: string }>;
  /** Resolves once this user's membership in the room is `membership` ("join", "invite", "leave"). */
  waitForMembership(roomId: string, membership: string, opts: { timeoutMs: number }): Promise<void>;
  roomState(roomId: string): Promise<{
    name?: string;
    topic?: string;
    members: { userId: string; displayName?: string; membership: string }[];
  }>;
  /** Downloads an mxc:// URI through the homeserver (authenticated media). */
  download(mxc: string): Promise<Uint8Array>;
  upload(data: Uint8Array, opts: { name: string; mimetype: string }): Promise<string>;
  stop(): void;
}

export interface BridgeHealth {
  /** From the provisioning API: the login's bridge state event (CONNECTED, TRANSIENT_DISCONNECT, BAD_CREDENTIALS ...). */
  state?: string;
  /** /_matrix/mau/live and /ready. */
  live: boolean;
  ready: boolean;
}

export interface StartedBridge {
  botUserId: string;
  /** Host-side URL of the bridge's HTTP server (appservice + provisioning). */
  url: string;
  image: string;
  logFile: string;
  /** The bridge's management room for this user, once loginApp created it. */
  managementRoom(user: MatrixUser): string | undefined;
  /** Logs in the Matrix user through the management room (`login app`), returns when the bot confirms. */
  loginApp(user: MatrixUser, tokens: { botToken: string; appToken: string }): Promise<void>;
  /** Logs in through the provisioning API. */
  loginAppProvisioning(user: MatrixUser, tokens: { botToken: string; appToken: string }): Promise<void>;
  health(user?: MatrixUser): Promise<BridgeHealth>;
  /** Lines of the bridge log so far (redacted). */
  logLines(): Promise<string[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops (or, after a kill, removes) the container and starts a new one on the same config and database. */
  restart(): Promise<void>;
  /** Ids of the bridge's containers now (none while it is stopped; a restart replaces them). */
  containerIds(): string[];
  /** Replaces the bridge container with another image, keeping config, registration and database. */
  swapImage(image: string): Promise<{ durationMs: number }>;
  /**
   * Regenerates config.yaml (example config -> the environment's overlays -> `extraOverlays` -> harness
   * overrides) and restarts the bridge with it. `[]` returns to the environment's own config.
   * Used by the config-change steps (src/upgrade/steps.ts).
   */
  reconfigure?(
    extraOverlays: Record<string, unknown>[],
  ): Promise<{ durationMs: number; configFile?: string }>;
}

/**
 * What StartedBridge.start/restart/swapImage reject with when the bridge does not come up: an Error
 * carrying the container's exit code (when it exited) and the bridge's own FATAL lines.
 */
export interface BridgeStartFailure extends Error {
  exitCode?: number;
  /** FATAL (and following INFO explanation) lines of that start, redacted. */
  fatalLines?: string[];
}

/** One service as it ran: the image asked for, the image run (after the image map), its own version. */
export interface ServiceImage {
  asked: string;
  ran: string;
  /** What the running service reports ("PostgreSQL 16.15", "Synapse 1.163.2", "mautrix-slack 0.2.0"). */
  version?: string;
}

export interface StartedEnvironment {
  spec: EnvironmentSpec;
  /** Added for `bridge-harness down <run id>` and --keep output: the run id in the containers' bridge-harness.run label. */
  runId?: string;
  runDir: string;
  fakeSlack: FakeSlack;
  /**
   * The homeserver, whatever its kind (src/homeservers/api.ts). restart() and swapImage() also wake
   * the Matrix users' sync loops once it answers again.
   */
  homeserver: StartedHomeserver;
  bridge: StartedBridge;
  postgres: {
    /** Runs SQL against one of the databases ("mautrix_slack", and the homeserver's: "synapse"). */
    query<T = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<T[]>;
    snapshot(name: string): Promise<void>;
    restore(name: string): Promise<void>;
    /** Restarts the server in its container (data and host port kept), also after a kill. */
    restart(): Promise<void>;
    containerIds(): string[];
  };
  /**
   * Registers (or returns the already registered) Matrix user with this localpart. Invites are
   * joined automatically unless `autoJoin: false` (only honoured on the first call per localpart).
   */
  user(localpart: string, opts?: { autoJoin?: boolean; admin?: boolean }): Promise<MatrixUser>;
  /**
   * A new password login of a user registered with user(), the way clients log in to this
   * deployment (with MAS: through the proxy to MAS). A new device and access token each time.
   */
  login(localpart: string): Promise<RegisteredUser>;
  /** The run's Docker network (containers reach host servers at gatewayIp). */
  network?: { name: string; gatewayIp: string };
  /** Startup timings per phase, ms. */
  timings: Record<string, number>;
  /** Per service (postgres, homeserver, bridge): image asked for, image run, reported version. */
  services?: Record<string, ServiceImage>;
  /** Stops everything and removes containers and the network. Idempotent. */
  stop(): Promise<void>;
}
