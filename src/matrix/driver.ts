// The Matrix driver: one matrix-js-sdk client per user (no crypto), a sync loop that stamps every
// event with now() when the sync delivers it, and arm-before-act waiters over a buffer of seen events.
// Sends go through plain HTTP so `sentAt` is taken right before the request leaves.
import {
  ClientEvent,
  createClient,
  EventType,
  type MatrixClient,
  type MatrixEvent,
  type Room,
  RoomEvent,
  RoomMemberEvent,
  RoomStateEvent,
} from "matrix-js-sdk";
import { type Logger, logger as sdkRootLogger } from "matrix-js-sdk/lib/logger.js";
import type { MatrixUser, SeenEvent, SendOptions } from "../environment/api.ts";
import { now } from "../util/clock.ts";
import { redact, registerSecret } from "../util/redact.ts";

// Parts of the SDK (MatrixRTC sessions) log through its global loglevel logger, whose children copy
// the parent's method factory: silence it once for the process.
{
  const root = sdkRootLogger as unknown as { methodFactory: unknown; rebuild?: () => void };
  root.methodFactory = () => () => {};
  root.rebuild?.();
}

const silent: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  getChild: () => silent,
};

export interface MatrixUserOptions {
  userId: string;
  accessToken: string;
  deviceId?: string;
  /** Join rooms the user is invited to as soon as the invite arrives (true: every invite). */
  autoJoin?: boolean | ((roomId: string, inviter: string | undefined) => boolean);
  /** How long the first sync may take. */
  initialSyncTimeoutMs?: number;
  /** How long each /sync long-poll may wait on the server (default 30 s, as Element's). */
  syncTimeoutMs?: number;
}

type RoomInfo = { roomId: string; name?: string; topic?: string; membership: string };

export interface WaitForEventOptions {
  timeoutMs: number;
  describe: string;
  /** A value from mark(): events seen since then count too. */
  since?: number;
  /** The room the event is expected in: a timeout then says whether the server has it. */
  roomId?: string;
  /**
   * For the harness's own plumbing, never for measurements: when /sync has not delivered the event
   * after this long, look for it with /messages too (recorded in syncLags).
   */
  serverFallbackAfterMs?: number;
}

interface Waiter {
  test: (e: SeenEvent) => boolean;
  resolve: (e: SeenEvent) => void;
}

let txnCounter = 0;

export class MatrixDriverUser implements MatrixUser {
  readonly userId: string;
  readonly accessToken: string;
  readonly baseUrl: string;
  readonly client: MatrixClient;
  private readonly seen: SeenEvent[] = [];
  private readonly seenIds = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private readonly roomListeners = new Set<() => void>();
  private readonly autoJoin: MatrixUserOptions["autoJoin"];
  private readonly syncTimeoutMs: number;
  private readonly joining = new Set<string>();
  /** This user's own membership changes, stamped when the sync delivered them (invites included). */
  private readonly memberships: { roomId: string; membership: string; seenAt: number }[] = [];
  private stopped = false;
  /** Errors of automatic joins (reported by waiters that time out). */
  readonly backgroundErrors: string[] = [];

  constructor(baseUrl: string, opts: MatrixUserOptions) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.userId = opts.userId;
    this.accessToken = opts.accessToken;
    registerSecret(opts.accessToken);
    this.autoJoin = opts.autoJoin;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 30_000;
    this.client = createClient({
      baseUrl: this.baseUrl,
      userId: opts.userId,
      accessToken: opts.accessToken,
      deviceId: opts.deviceId,
      logger: silent,
      timelineSupport: false,
    });
    this.client.on(
      RoomEvent.Timeline,
      (event: MatrixEvent, room: Room | undefined, toStart: boolean | undefined) => {
        if (toStart) return;
        this.record(event, room?.roomId ?? event.getRoomId());
      },
    );
    // Invites arrive as stripped state, not as timeline events.
    this.client.on(RoomMemberEvent.Membership, (event: MatrixEvent, member) => {
      if (member.userId === this.userId) {
        this.record(event, member.roomId);
        if (member.membership === "invite") this.maybeAutoJoin(member.roomId, event.getSender());
      }
      this.notifyRooms();
    });
    this.client.on(RoomEvent.MyMembership, (room: Room, membership: string) => {
      // Invites carry no event ID (stripped state), so the timeline buffer cannot time them.
      this.memberships.push({ roomId: room.roomId, membership, seenAt: now() });
      this.notifyRooms();
    });
    this.client.on(RoomEvent.Name, () => this.notifyRooms());
    this.client.on(RoomStateEvent.Events, () => this.notifyRooms());
    this.client.on(ClientEvent.Room, () => this.notifyRooms());
  }

  /** Starts the sync loop; resolves after the first sync. */
  async start(timeoutMs = 30_000): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`First sync of ${this.userId} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onSync = (state: string) => {
        if (state === "PREPARED" || state === "SYNCING") {
          clearTimeout(timer);
          this.client.off(ClientEvent.Sync, onSync);
          resolve();
        } else if (state === "ERROR") {
          // keeps retrying; the timeout reports it
        }
      };
      this.client.on(ClientEvent.Sync, onSync);
    });
    await this.client.startClient({
      initialSyncLimit: 20,
      lazyLoadMembers: false,
      disablePresence: true,
      pollTimeout: this.syncTimeoutMs,
    });
    await ready;
    // Invites that were pending before the client started.
    for (const room of this.client.getRooms()) {
      if (room.getMyMembership() === "invite") this.maybeAutoJoin(room.roomId, undefined);
    }
  }

  private maybeAutoJoin(roomId: string, inviter: string | undefined): void {
    const want =
      typeof this.autoJoin === "function" ? this.autoJoin(roomId, inviter) : this.autoJoin === true;
    if (!want || this.joining.has(roomId) || this.stopped) return;
    this.joining.add(roomId);
    this.joinRoom(roomId).catch((err) => {
      this.backgroundErrors.push(`auto-join ${roomId}: ${err instanceof Error ? err.message : String(err)}`);
      this.joining.delete(roomId);
    });
  }

  private record(event: MatrixEvent, roomId: string | undefined): void {
    const seenAt = now();
    const eventId = event.getId();
    if (!eventId || !roomId) return;
    const key = `${eventId}|${event.getType()}|${event.getStateKey() ?? ""}`;
    if (this.seenIds.has(key)) return;
    this.seenIds.add(key);
    const seen: SeenEvent = {
      eventId,
      roomId,
      sender: event.getSender() ?? "",
      type: event.getType(),
      content: event.getContent() as Record<string, any>,
      stateKey: event.getStateKey(),
      originServerTs: event.getTs(),
      seenAt,
    };
    this.seen.push(seen);
    for (const waiter of this.waiters) {
      if (safeTest(waiter.test, seen)) {
        this.waiters.delete(waiter);
        waiter.resolve(seen);
      }
    }
  }

  private notifyRooms(): void {
    for (const l of this.roomListeners) l();
  }

  /** A position in the stream of seen events: pass it as `since` to a waiter armed later. */
  mark(): number {
    return this.seen.length;
  }

  /** Events seen so far (optionally since a mark). */
  events(since = 0): SeenEvent[] {
    return this.seen.slice(since);
  }

  membershipChanges(): { roomId: string; membership: string; seenAt: number }[] {
    return [...this.memberships];
  }

  rooms(): string[] {
    return this.client
      .getRooms()
      .filter((r) => ["join", "invite"].includes(r.getMyMembership()))
      .map((r) => r.roomId);
  }

  private roomInfo(room: Room): RoomInfo {
    const state = room.currentState;
    const name = state.getStateEvents("m.room.name", "")?.getContent()?.name;
    const topic = state.getStateEvents("m.room.topic", "")?.getContent()?.topic;
    return {
      roomId: room.roomId,
      name: name || undefined,
      topic: topic || undefined,
      membership: room.getMyMembership(),
    };
  }

  waitForEvent(predicate: (e: SeenEvent) => boolean, opts: WaitForEventOptions): Promise<SeenEvent> {
    const since = opts.since ?? this.seen.length;
    const earlier = this.seen.slice(since).find((e) => safeTest(predicate, e));
    if (earlier) return Promise.resolve(earlier);
    const armedAt = Date.now();
    return new Promise<SeenEvent>((resolve, reject) => {
      let settled = false;
      let poll: NodeJS.Timeout | undefined;
      let pollStart: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(pollStart);
        clearInterval(poll);
        this.waiters.delete(waiter);
        fn();
      };
      const waiter: Waiter = { test: predicate, resolve: (e) => finish(() => resolve(e)) };
      // Harness plumbing (bot prompts) may look the event up on the server when /sync is late.
      const fallbackRoom = opts.serverFallbackAfterMs !== undefined ? opts.roomId : undefined;
      if (fallbackRoom) {
        pollStart = setTimeout(() => {
          poll = setInterval(async () => {
            const found = await this.findOnServer(fallbackRoom, predicate, since).catch(() => undefined);
            if (!found || settled) return;
            this.syncLags.push({ eventId: found.eventId, roomId: fallbackRoom, describe: opts.describe });
            finish(() => resolve(found));
          }, 500);
        }, opts.serverFallbackAfterMs);
      }
      const timer = setTimeout(async () => {
        // Tell "the homeserver never had it" apart from "its /sync did not deliver it".
        const held = opts.roomId
          ? await this.findOnServer(opts.roomId, predicate, since).catch(() => undefined)
          : undefined;
        const extra = this.backgroundErrors.length
          ? ` (background errors: ${this.backgroundErrors.join("; ")})`
          : "";
        const note = held
          ? `; the homeserver has a matching event (${held.eventId}, sent ${Math.round((held.originServerTs ?? armedAt) - armedAt)} ms after the wait began) that its /sync did not deliver to this client`
          : "";
        finish(() =>
          reject(
            new Error(
              redact(
                `Timed out after ${opts.timeoutMs} ms waiting for ${opts.describe} as ${this.userId}${note}${extra}`,
              ),
            ),
          ),
        );
      }, opts.timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Events the harness had to fetch with /messages because /sync did not deliver them in time. */
  readonly syncLags: { eventId: string; roomId: string; describe: string }[] = [];

  /** The newest event of `roomId` on the server matching `predicate` that this client has not seen since `since`. */
  private async findOnServer(
    roomId: string,
    predicate: (e: SeenEvent) => boolean,
    since: number,
  ): Promise<SeenEvent | undefined> {
    const seenIds = new Set(this.seen.slice(0, since).map((e) => e.eventId));
    const page = (await this.api(
      "GET",
      `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=50`,
    )) as { chunk?: Record<string, any>[] };
    for (const raw of page.chunk ?? []) {
      const e: SeenEvent = {
        eventId: raw.event_id,
        roomId,
        sender: raw.sender ?? "",
        type: raw.type ?? "",
        content: raw.content ?? {},
        stateKey: raw.state_key,
        originServerTs: raw.origin_server_ts,
        seenAt: now(),
      };
      if (!seenIds.has(e.eventId) && safeTest(predicate, e)) return e;
    }
    return undefined;
  }

  waitForRoom(
    predicate: (room: RoomInfo) => boolean,
    opts: { timeoutMs: number; describe: string },
  ): Promise<{ roomId: string; name?: string; topic?: string; membership: string }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const room of this.client.getRooms()) {
          const info = this.roomInfo(room);
          if (info.membership !== "join" && info.membership !== "invite") continue;
          let ok = false;
          try {
            ok = predicate(info);
          } catch {
            ok = false;
          }
          if (ok) {
            done();
            resolve(info);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        const known = this.client
          .getRooms()
          .map((r) => this.roomInfo(r))
          .map((r) => `${r.roomId} ${JSON.stringify(r.name ?? "")} (${r.membership})`)
          .join(", ");
        reject(
          new Error(
            `Timed out after ${opts.timeoutMs} ms waiting for room: ${opts.describe} (rooms: ${known || "none"})`,
          ),
        );
      }, opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.roomListeners.delete(check);
      };
      this.roomListeners.add(check);
      check();
    });
  }

  /** Resolves once the user's membership in `roomId` is `membership` (as seen by sync). */
  waitForMembership(roomId: string, membership: string, opts: { timeoutMs: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.client.getRoom(roomId)?.getMyMembership() === membership) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `Timed out after ${opts.timeoutMs} ms waiting for ${this.userId} to be "${membership}" in ${roomId}`,
          ),
        );
      }, opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.roomListeners.delete(check);
      };
      this.roomListeners.add(check);
      check();
    });
  }

  async roomState(roomId: string) {
    const state = (await this.api("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/state`)) as any[];
    const get = (type: string) => state.find((e) => e.type === type && e.state_key === "")?.content;
    return {
      name: get("m.room.name")?.name as string | undefined,
      topic: get("m.room.topic")?.topic as string | undefined,
      members: state
        .filter((e) => e.type === "m.room.member")
        .map((e) => ({
          userId: e.state_key as string,
          displayName: e.content?.displayname as string | undefined,
          membership: e.content?.membership as string,
        })),
    };
  }

  async createRoom(
    opts: {
      invite?: string[];
      isDirect?: boolean;
      name?: string;
      topic?: string;
      preset?: "private_chat" | "trusted_private_chat" | "public_chat";
    } = {},
  ): Promise<string> {
    const body: Record<string, unknown> = {
      preset: opts.preset ?? (opts.isDirect ? "trusted_private_chat" : "private_chat"),
      invite: opts.invite ?? [],
      is_direct: opts.isDirect ?? false,
    };
    if (opts.name) body.name = opts.name;
    if (opts.topic) body.topic = opts.topic;
    const res = (await this.api("POST", "/_matrix/client/v3/createRoom", body)) as { room_id: string };
    return res.room_id;
  }

  async joinRoom(roomIdOrAlias: string): Promise<void> {
    await this.api("POST", `/_matrix/client/v3/join/${enc(roomIdOrAlias)}`, {});
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.api("POST", `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {});
  }

  async sendText(
    roomId: string,
    body: string,
    opts: { html?: string; threadRootId?: string; msgtype?: string } & SendOptions = {},
  ): Promise<{ eventId: string; sentAt: number }> {
    const content: Record<string, any> = { msgtype: opts.msgtype ?? "m.text", body };
    if (opts.html) {
      content.format = "org.matrix.custom.html";
      content.formatted_body = opts.html;
    }
    if (opts.threadRootId) {
      content["m.relates_to"] = {
        rel_type: "m.thread",
        event_id: opts.threadRootId,
        is_falling_back: true,
        "m.in_reply_to": { event_id: opts.threadRootId },
      };
    }
    return this.sendEvent(roomId, "m.room.message", content, opts);
  }

  async sendEvent(
    roomId: string,
    type: string,
    content: Record<string, any>,
    opts: SendOptions = {},
  ): Promise<{ eventId: string; sentAt: number }> {
    const txn = `bh${Date.now()}.${++txnCounter}`;
    const path = `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txn)}`;
    const sentAt = now();
    for (let backoffMs = 500; ; backoffMs = Math.min(backoffMs * 2, 5_000)) {
      try {
        const res = (await this.api("PUT", path, content)) as { event_id: string };
        return { eventId: res.event_id, sentAt };
      } catch (err) {
        // Refusals (4xx other than 429) do not change by retrying.
        const message = (err as Error).message;
        const refused = /: HTTP 4\d\d /.test(message) && !/: HTTP 429 /.test(message);
        if (refused || opts.retryUntil === undefined || now() + backoffMs >= opts.retryUntil) throw err;
        await new Promise((r) => setTimeout(r, backoffMs));
      }
    }
  }

  async sendState(roomId: string, type: string, stateKey: string, content: Record<string, any>) {
    const sentAt = now();
    const res = (await this.api(
      "PUT",
      `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
      content,
    )) as {
      event_id: string;
    };
    return { eventId: res.event_id, sentAt };
  }

  async redact(
    roomId: string,
    eventId: string,
    reason?: string,
  ): Promise<{ eventId: string; sentAt: number }> {
    const txn = `bh${Date.now()}.${++txnCounter}`;
    const sentAt = now();
    const res = (await this.api(
      "PUT",
      `/_matrix/client/v3/rooms/${enc(roomId)}/redact/${enc(eventId)}/${enc(txn)}`,
      reason ? { reason } : {},
    )) as { event_id: string };
    return { eventId: res.event_id, sentAt };
  }

  async download(mxc: string): Promise<Uint8Array> {
    const m = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc);
    if (!m) throw new Error(`Not an mxc:// URI: ${mxc}`);
    const res = await fetch(`${this.baseUrl}/_matrix/client/v1/media/download/${enc(m[1])}/${enc(m[2])}`, {
      headers: { authorization: `Bearer ${this.accessToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`Download of ${mxc} failed: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  async upload(data: Uint8Array, opts: { name: string; mimetype: string }): Promise<string> {
    const res = await fetch(`${this.baseUrl}/_matrix/media/v3/upload?filename=${enc(opts.name)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.accessToken}`, "content-type": opts.mimetype },
      body: Buffer.from(data),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as any;
    if (!res.ok)
      throw new Error(`Upload failed: HTTP ${res.status} ${body?.errcode ?? ""} ${body?.error ?? ""}`);
    return body.content_uri as string;
  }

  /** A raw Client-Server API call as this user. Throws with errcode on non-2xx. */
  async api(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.accessToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { raw: text };
    }
    if (!res.ok) {
      throw new Error(
        redact(
          `${method} ${path} as ${this.userId}: HTTP ${res.status} ${json?.errcode ?? ""} ${json?.error ?? text.slice(0, 200)}`,
        ),
      );
    }
    return json;
  }

  /**
   * After a homeserver restart the SDK's sync loop is backing off; this retries at once. Resolves when
   * a sync has completed again (or after `timeoutMs`, whichever comes first).
   */
  async reconnect(timeoutMs = 15_000): Promise<void> {
    if (this.stopped) return;
    let onSync: ((state: string) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const synced = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      onSync = (state: string) => {
        if (state === "SYNCING" || state === "PREPARED") resolve();
      };
      this.client.on(ClientEvent.Sync, onSync);
    });
    this.client.retryImmediately();
    try {
      await synced;
    } finally {
      clearTimeout(timer);
      if (onSync) this.client.off(ClientEvent.Sync, onSync);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.client.stopClient();
    this.client.removeAllListeners();
    this.waiters.clear();
    this.roomListeners.clear();
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function safeTest(fn: (e: SeenEvent) => boolean, e: SeenEvent): boolean {
  try {
    return fn(e);
  } catch {
    return false;
  }
}

/** Creates a user handle and starts its sync loop (resolves after the first sync). */
export async function createMatrixUser(baseUrl: string, opts: MatrixUserOptions): Promise<MatrixDriverUser> {
  const user = new MatrixDriverUser(baseUrl, opts);
  try {
    await user.start(opts.initialSyncTimeoutMs ?? 30_000);
  } catch (err) {
    user.stop();
    throw err;
  }
  return user;
}

export { EventType };
