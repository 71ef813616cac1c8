// The Socket Mode server side: tickets, hello, server PINGs, envelopes, acks, redelivery and
// disconnects, as Slack does them (see reference/slack-protocol.md §2).
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { now } from "../../../src/util/clock.ts";
import type { DisconnectReason, EnvelopeRecord, SocketConnectionRecord, WorkspaceInfo } from "../api.ts";
import { eventId } from "../core/ids.ts";
import type { SocketModePort } from "../internal.ts";

export interface SocketModeHubOptions {
  /** Server PING interval (default 10000) and delay of the first PING after hello (default 3000). */
  pingIntervalMs?: number;
  firstPingDelayMs?: number;
  /** Ack deadline (default 3000) and delays before retry 1..3 (default [0, 60000, 300000]). */
  ackTimeoutMs?: number;
  redeliveryDelaysMs?: number[];
  /** Concurrent connections per app before too_many_websockets (default 10). */
  maxConnectionsPerApp?: number;
  /** Ticket lifetime (default 60000). */
  ticketTtlMs?: number;
  /**
   * When set, each connection is refreshed after this long as Slack does after
   * approximate_connection_time: `warning`, then `refresh_requested` after refreshWarningMs, then close.
   * Off by default.
   */
  connectionLifetimeMs?: number;
  refreshWarningMs?: number;
  /** Between a `disconnect` frame and the server closing the socket (default 500). */
  disconnectCloseDelayMs?: number;
  /**
   * A connection whose PING stays unanswered this long is dropped, as a dead peer (a container
   * killed without its TCP close reaching us) would otherwise keep receiving envelopes. Default
   * 2 x pingIntervalMs. Until then, a connection with a PING unanswered for 2 s gets no new
   * envelopes while another connection of the app is healthy.
   */
  pongTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Connection {
  record: SocketConnectionRecord;
  ws: WebSocket;
  host: string;
  /** False once a disconnect was sent or the socket is closing: no new envelopes go there. */
  usable: boolean;
  timers: NodeJS.Timeout[];
  pingTimer?: NodeJS.Timeout;
  /** The refresh at the end of its lifetime (see connectionLifetime()). */
  lifetimeTimer?: NodeJS.Timeout;
  pingCount: number;
  /** Date.now() of the oldest PING not yet answered. */
  pingOutstandingSince?: number;
}

interface PendingEvent {
  appId: string;
  eventId: string;
  event: Record<string, unknown>;
  eventTime: number;
  /** Built at the first write, once the workspace is known (the seed may publish earlier). */
  payload?: Record<string, unknown>;
  /** retry_attempt of the next delivery. */
  attempt: number;
  done: boolean;
}

interface InFlight {
  pending: PendingEvent;
  record: EnvelopeRecord;
  conn: Connection;
  timer?: NodeJS.Timeout;
}

interface Waiter<T> {
  test: (value: T) => boolean;
  resolve: (value: T) => void;
}

const BIG_ACK_BYTES = 20 * 1024;

export class SocketModeHub implements SocketModePort {
  private readonly opts: Required<Omit<SocketModeHubOptions, "connectionLifetimeMs" | "log">> & {
    connectionLifetimeMs?: number;
  };
  private readonly log: (line: string) => void;
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
  });
  private readonly tickets = new Map<string, { appId: string; expiresAt: number; used: boolean }>();
  private readonly conns = new Map<string, Connection>();
  private readonly queues = new Map<string, PendingEvent[]>();
  private readonly inflight = new Map<string, InFlight>();
  private readonly rr = new Map<string, number>();
  private readonly envelopeRecords: EnvelopeRecord[] = [];
  private readonly connectionRecords: SocketConnectionRecord[] = [];
  private readonly envelopeWaiters = new Set<Waiter<EnvelopeRecord>>();
  private readonly connectionWaiters = new Set<Waiter<number>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly eventIds = new Set<string>();
  private workspace?: WorkspaceInfo;
  private hostCounter = 0;
  private dropAcksLeft = 0;
  private envelopeDelayMs = 0;
  private pingsSuppressed = false;
  private disconnectTimer?: NodeJS.Timeout;
  /** Connection lifetime now in force: the option's, or one a fault set. */
  private lifetime: { ms?: number; warningMs: number };
  private readonly verificationToken = randomUUID().replace(/-/g, "").slice(0, 24);
  private closed = false;
  /** Events published in the current turn of the event loop (see publish()). */
  private publishedThisTurn: PendingEvent[] = [];
  private publishTurn?: NodeJS.Immediate;

  constructor(opts: SocketModeHubOptions = {}) {
    this.opts = {
      pingIntervalMs: opts.pingIntervalMs ?? 10_000,
      firstPingDelayMs: opts.firstPingDelayMs ?? 3_000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 3_000,
      redeliveryDelaysMs: opts.redeliveryDelaysMs ?? [0, 60_000, 300_000],
      maxConnectionsPerApp: opts.maxConnectionsPerApp ?? 10,
      ticketTtlMs: opts.ticketTtlMs ?? 60_000,
      connectionLifetimeMs: opts.connectionLifetimeMs,
      refreshWarningMs: opts.refreshWarningMs ?? 10_000,
      disconnectCloseDelayMs: opts.disconnectCloseDelayMs ?? 500,
      pongTimeoutMs: opts.pongTimeoutMs ?? 2 * (opts.pingIntervalMs ?? 10_000),
    };
    this.log = opts.log ?? (() => {});
    this.lifetime = { ms: this.opts.connectionLifetimeMs, warningMs: this.opts.refreshWarningMs };
  }

  /** The workspace gives team_id and the bot user for the envelope payloads. */
  setWorkspace(workspace: WorkspaceInfo): void {
    this.workspace = workspace;
  }

  // --- SocketModePort ---

  issueUrl(appId: string, requestUrl: URL): string {
    const ticket = randomUUID();
    this.sweepTickets();
    this.tickets.set(ticket, { appId, expiresAt: Date.now() + this.opts.ticketTtlMs, used: false });
    const query = `?ticket=${ticket}&app_id=${encodeURIComponent(appId)}`;
    if (requestUrl.protocol === "https:") return `wss://wss-primary.slack.com/link/${query}`;
    return `ws://${requestUrl.host}/link/${query}`;
  }

  publish(appId: string, event: Record<string, unknown>): string {
    const eventId = this.newEventId();
    const pending: PendingEvent = {
      appId,
      eventId,
      event,
      eventTime: Math.floor(Date.now() / 1000),
      attempt: 0,
      done: false,
    };
    // Out after this turn of the event loop: the answer to the Web API call that caused the event
    // is written first, the order Slack delivers them in and the bridge relies on (an echo of its
    // own post arrives after it stored the ts).
    this.publishedThisTurn.push(pending);
    this.publishTurn ??= setImmediate(() => {
      this.publishTurn = undefined;
      const batch = this.publishedThisTurn;
      this.publishedThisTurn = [];
      for (const p of batch) this.enqueue(p);
    });
    return eventId;
  }

  // --- WebSocket upgrade from the HTTP server ---

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const ticketId = url.searchParams.get("ticket") ?? "";
    const ticket = this.tickets.get(ticketId);
    if (!ticket || ticket.expiresAt < Date.now()) {
      this.log(`socket-mode: upgrade refused (401): ${ticket ? "expired" : "unknown"} ticket`);
      rejectUpgrade(socket, 401, "Unauthorized");
      return;
    }
    if (ticket.used) {
      this.log(`socket-mode: upgrade refused (403): ticket already used app=${ticket.appId}`);
      rejectUpgrade(socket, 403, "Forbidden");
      return;
    }
    ticket.used = true;
    const debugReconnects = url.searchParams.get("debug_reconnects") === "true";
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ticket.appId, ws, debugReconnects));
  }

  // --- observation ---

  envelopes(): EnvelopeRecord[] {
    return [...this.envelopeRecords];
  }

  connections(): SocketConnectionRecord[] {
    return this.connectionRecords.map((r) => ({ ...r }));
  }

  openConnectionCount(appId?: string): number {
    let n = 0;
    for (const c of this.conns.values()) if (!appId || c.record.appId === appId) n++;
    return n;
  }

  waitForEnvelope(
    predicate: (env: EnvelopeRecord) => boolean,
    opts: { timeoutMs?: number; describe?: string } = {},
  ): Promise<EnvelopeRecord> {
    const found = this.envelopeRecords.find(predicate);
    if (found) return Promise.resolve(found);
    return this.arm(this.envelopeWaiters, predicate, opts.timeoutMs ?? 10_000, () => {
      const last = this.envelopeRecords
        .slice(-5)
        .map(
          (e) =>
            `${e.eventType}${e.subtype ? `/${e.subtype}` : ""}#${e.retryAttempt}${e.ackedAt ? "+ack" : ""}`,
        );
      return `envelope ${opts.describe ?? "matching predicate"} (${this.envelopeRecords.length} sent, last: ${last.join(", ") || "none"})`;
    });
  }

  waitForConnection(opts: { timeoutMs?: number; count?: number } = {}): Promise<SocketConnectionRecord> {
    const count = opts.count ?? 1;
    const latest = () => {
      const open = [...this.conns.values()].map((c) => c.record);
      return open.sort((a, b) => b.openedAt - a.openedAt)[0] as SocketConnectionRecord;
    };
    if (this.conns.size >= count) return Promise.resolve({ ...latest() });
    return this.arm(
      this.connectionWaiters,
      (n) => n >= count,
      opts.timeoutMs ?? 30_000,
      () => {
        return `${count} open Socket Mode connection(s) (open now: ${this.conns.size}, ever: ${this.connectionRecords.length})`;
      },
    ).then(() => ({ ...latest() }));
  }

  // --- faults ---

  disconnect(reason: DisconnectReason = "refresh_requested"): void {
    const targets = [...this.conns.values()].filter((c) => c.usable);
    this.log(`socket-mode: fault disconnect reason=${reason} on ${targets.length} connection(s)`);
    for (const c of targets) this.sendDisconnect(c, reason, true);
  }

  disconnectEvery(everyMs: number, reason: DisconnectReason = "refresh_requested"): void {
    if (this.disconnectTimer) {
      clearInterval(this.disconnectTimer);
      this.timers.delete(this.disconnectTimer);
      this.disconnectTimer = undefined;
    }
    if (!everyMs || everyMs <= 0) return;
    this.log(`socket-mode: fault disconnect every ${everyMs} ms reason=${reason}`);
    this.disconnectTimer = setInterval(() => this.disconnect(reason), everyMs);
    this.timers.add(this.disconnectTimer);
  }

  dropAcks(count: number): void {
    this.dropAcksLeft = count;
    this.log(`socket-mode: fault drop next ${count} ack(s)`);
  }

  delayEnvelopes(ms: number): void {
    this.envelopeDelayMs = Math.max(0, ms);
    this.log(`socket-mode: fault delay envelopes by ${ms} ms`);
  }

  suppressPings(suppress: boolean): void {
    this.pingsSuppressed = suppress;
    // Liveness is judged afresh once pings resume.
    for (const c of this.conns.values()) c.pingOutstandingSince = undefined;
    this.log(`socket-mode: fault pings ${suppress ? "suppressed" : "resumed"}`);
  }

  /**
   * Refreshes each connection `lifetimeMs` after it opened (already open ones too), the way Slack
   * does at approximate_connection_time; `undefined` stops it.
   */
  connectionLifetime(lifetimeMs: number | undefined, opts: { warningMs?: number } = {}): void {
    this.lifetime = { ms: lifetimeMs, warningMs: opts.warningMs ?? this.opts.refreshWarningMs };
    this.log(
      `socket-mode: fault connection lifetime ${lifetimeMs === undefined ? "off" : `${lifetimeMs} ms, refresh_requested ${this.lifetime.warningMs} ms after the warning`}`,
    );
    for (const c of this.conns.values()) this.armLifetime(c);
  }

  clearFaults(): void {
    this.disconnectEvery(0);
    if (this.lifetime.ms !== this.opts.connectionLifetimeMs)
      this.connectionLifetime(this.opts.connectionLifetimeMs, { warningMs: this.opts.refreshWarningMs });
    this.dropAcksLeft = 0;
    this.envelopeDelayMs = 0;
    this.pingsSuppressed = false;
  }

  /** Terminates every socket and timer; queued events are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.publishTurn) clearImmediate(this.publishTurn);
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
    for (const f of this.inflight.values()) if (f.timer) clearTimeout(f.timer);
    for (const c of this.conns.values()) {
      this.stopConnTimers(c);
      c.ws.terminate();
    }
    this.conns.clear();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  // --- internals ---

  private onOpen(appId: string, ws: WebSocket, debugReconnects: boolean): void {
    this.hostCounter += 1;
    const host = `applink-${this.hostCounter}`;
    const record: SocketConnectionRecord = { id: host, appId, openedAt: now() };
    this.connectionRecords.push(record);
    const conn: Connection = { record, ws, host, usable: false, timers: [], pingCount: 0 };
    ws.on("error", (err) => this.log(`socket-mode: ${host} socket error: ${err.message}`));
    ws.on("close", (code) => this.onClose(conn, code));

    const live = [...this.conns.values()].filter((c) => c.record.appId === appId).length;
    if (live >= this.opts.maxConnectionsPerApp) {
      record.closeReason = "too_many_websockets";
      this.log(`socket-mode: ${host} app=${appId} refused: too_many_websockets (${live} live)`);
      ws.send(JSON.stringify({ type: "disconnect", reason: "too_many_websockets", debug_info: { host } }));
      this.later(conn, () => ws.close(1000), this.opts.disconnectCloseDelayMs);
      this.later(conn, () => ws.terminate(), this.opts.disconnectCloseDelayMs + 2_000);
      return;
    }
    this.conns.set(host, conn);
    const lifetimeS = debugReconnects ? 360 : 18060;
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: live + 1,
        debug_info: { host, build_number: 14, approximate_connection_time: lifetimeS },
        connection_info: { app_id: appId },
      }),
    );
    conn.usable = true;
    this.log(`socket-mode: ${host} opened app=${appId} num_connections=${live + 1}`);
    ws.on("message", (data, isBinary) => this.onFrame(conn, data, isBinary));
    this.later(conn, () => this.startPings(conn), this.opts.firstPingDelayMs);
    this.armLifetime(conn);
    this.notifyConnections();
    this.flushQueue(appId);
  }

  private startPings(conn: Connection): void {
    conn.ws.on("pong", () => {
      conn.pingOutstandingSince = undefined;
    });
    const ping = () => {
      if (this.pingsSuppressed || conn.ws.readyState !== WebSocket.OPEN) return;
      const since = conn.pingOutstandingSince;
      if (since !== undefined && Date.now() - since >= this.opts.pongTimeoutMs) {
        this.log(`socket-mode: ${conn.host} no pong for ${Date.now() - since} ms: dropping the connection`);
        conn.record.closeReason = "no pong";
        conn.usable = false;
        conn.ws.terminate();
        return;
      }
      conn.pingCount += 1;
      conn.pingOutstandingSince ??= Date.now();
      conn.ws.ping(`Ping from ${conn.host}`);
    };
    ping();
    conn.pingTimer = setInterval(ping, this.opts.pingIntervalMs);
  }

  private armLifetime(conn: Connection): void {
    if (conn.lifetimeTimer) clearTimeout(conn.lifetimeTimer);
    conn.lifetimeTimer = undefined;
    const ms = this.lifetime.ms;
    if (ms === undefined || !conn.usable) return;
    const due = Math.max(0, conn.record.openedAt + ms - now());
    conn.lifetimeTimer = setTimeout(() => this.refresh(conn), due);
  }

  private refresh(conn: Connection): void {
    if (!conn.usable) return;
    if (this.lifetime.warningMs <= 0) {
      this.log(`socket-mode: ${conn.host} connection lifetime reached: refresh_requested`);
      this.sendDisconnect(conn, "refresh_requested", true);
      return;
    }
    this.log(`socket-mode: ${conn.host} connection lifetime reached: warning`);
    conn.ws.send(JSON.stringify({ type: "disconnect", reason: "warning", debug_info: { host: conn.host } }));
    this.later(
      conn,
      () => {
        if (conn.ws.readyState === WebSocket.OPEN) this.sendDisconnect(conn, "refresh_requested", true);
      },
      this.lifetime.warningMs,
    );
  }

  private sendDisconnect(conn: Connection, reason: DisconnectReason, thenClose: boolean): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.usable = false;
    conn.record.closeReason = reason;
    // Unacked envelopes stay in flight: the client may still ack them before it goes; the rest are
    // redelivered when the socket closes.
    conn.ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: conn.host } }));
    if (!thenClose) return;
    this.later(conn, () => conn.ws.close(1000), this.opts.disconnectCloseDelayMs);
    this.later(conn, () => conn.ws.terminate(), this.opts.disconnectCloseDelayMs + 2_000);
  }

  private onClose(conn: Connection, code: number): void {
    this.stopConnTimers(conn);
    conn.usable = false;
    conn.record.closedAt = now();
    conn.record.closeReason ??= `closed (${code})`;
    const wasLive = this.conns.delete(conn.host);
    if (wasLive) this.log(`socket-mode: ${conn.host} closed app=${conn.record.appId} code=${code}`);
    this.requeueInflight(conn, "connection closed");
  }

  private stopConnTimers(conn: Connection): void {
    for (const t of conn.timers) clearTimeout(t);
    conn.timers = [];
    if (conn.lifetimeTimer) clearTimeout(conn.lifetimeTimer);
    conn.lifetimeTimer = undefined;
    if (conn.pingTimer) clearInterval(conn.pingTimer);
    conn.pingTimer = undefined;
  }

  private later(conn: Connection, fn: () => void, ms: number): void {
    conn.timers.push(setTimeout(fn, ms));
  }

  private onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      this.log(`socket-mode: ${conn.host} ignored binary frame (${buf.length} bytes)`);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(buf.toString("utf8"));
    } catch {
      this.log(`socket-mode: ${conn.host} ignored non-JSON frame (${buf.length} bytes)`);
      return;
    }
    const envelopeId = (msg as { envelope_id?: unknown })?.envelope_id;
    if (typeof envelopeId !== "string") {
      this.log(`socket-mode: ${conn.host} ignored frame without envelope_id`);
      return;
    }
    if (buf.length >= BIG_ACK_BYTES) {
      this.log(
        `socket-mode: ${conn.host} WARNING ack for ${envelopeId} is ${buf.length} bytes (>= 20 KB; real Slack drops it)`,
      );
    }
    const flight = this.inflight.get(envelopeId);
    if (!flight) {
      this.log(`socket-mode: ${conn.host} ack for unknown or settled envelope ${envelopeId}`);
      return;
    }
    if (this.dropAcksLeft > 0) {
      this.dropAcksLeft -= 1;
      this.log(`socket-mode: ${conn.host} dropped ack for ${envelopeId} (fault)`);
      return;
    }
    if (flight.timer) clearTimeout(flight.timer);
    this.inflight.delete(envelopeId);
    flight.record.ackedAt = now();
    this.log(
      `socket-mode: ${conn.host} -> ack ${envelopeId} (${(flight.record.ackedAt - flight.record.sentAt).toFixed(1)} ms)`,
    );
    flight.pending.done = true;
    this.notifyEnvelopes(flight.record);
  }

  private enqueue(pending: PendingEvent, avoid?: Connection): void {
    if (this.closed) return;
    const conn = this.pickConnection(pending.appId, avoid);
    if (!conn) {
      const q = this.queues.get(pending.appId) ?? [];
      q.push(pending);
      this.queues.set(pending.appId, q);
      return;
    }
    if (this.envelopeDelayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.send(pending, conn);
      }, this.envelopeDelayMs);
      this.timers.add(t);
    } else {
      this.send(pending, conn);
    }
  }

  private flushQueue(appId: string): void {
    const q = this.queues.get(appId);
    if (!q?.length) return;
    this.queues.delete(appId);
    this.log(`socket-mode: delivering ${q.length} queued event(s) for app=${appId}`);
    for (const p of q) this.enqueue(p);
  }

  /** A PING unanswered for 2 s (or half the interval): probably a dead peer. */
  private suspect(c: Connection): boolean {
    if (this.pingsSuppressed || c.pingOutstandingSince === undefined) return false;
    return Date.now() - c.pingOutstandingSince > Math.min(2_000, this.opts.pingIntervalMs / 2);
  }

  private pickConnection(appId: string, avoid?: Connection): Connection | undefined {
    const all = [...this.conns.values()].filter(
      (c) => c.record.appId === appId && c.usable && c.ws.readyState === WebSocket.OPEN,
    );
    // Healthy connections first (answering PINGs), and not the one that just missed an ack.
    const healthy = all.filter((c) => !this.suspect(c));
    const preferred = healthy.filter((c) => c !== avoid);
    const open = preferred.length ? preferred : healthy.length ? healthy : all;
    if (!open.length) return undefined;
    const i = (this.rr.get(appId) ?? 0) % open.length;
    this.rr.set(appId, i + 1);
    return open[i];
  }

  private send(pending: PendingEvent, conn: Connection): void {
    if (this.closed || pending.done) return;
    // The chosen connection may have gone away while the write was delayed.
    if (!conn.usable || conn.ws.readyState !== WebSocket.OPEN) {
      this.enqueue(pending);
      return;
    }
    const envelopeId = randomUUID();
    const attempt = pending.attempt;
    pending.payload ??= this.buildPayload(pending);
    const frame = JSON.stringify({
      envelope_id: envelopeId,
      payload: pending.payload,
      type: "events_api",
      accepts_response_payload: false,
      retry_attempt: attempt,
      retry_reason: attempt > 0 ? "timeout" : "",
    });
    conn.ws.send(frame);
    const sentAt = now();
    const event = pending.event;
    const record: EnvelopeRecord = {
      envelopeId,
      eventId: pending.eventId,
      eventType: String(event.type ?? ""),
      event,
      retryAttempt: attempt,
      sentAt,
      connectionId: conn.host,
    };
    if (typeof event.subtype === "string") record.subtype = event.subtype;
    this.envelopeRecords.push(record);
    this.log(
      `socket-mode: ${conn.host} <- ${record.eventType}${record.subtype ? `/${record.subtype}` : ""} ` +
        `${pending.eventId} envelope ${envelopeId} retry_attempt=${attempt}`,
    );
    const flight: InFlight = { pending, record, conn };
    flight.timer = setTimeout(() => this.onAckTimeout(envelopeId), this.opts.ackTimeoutMs);
    this.inflight.set(envelopeId, flight);
    this.notifyEnvelopes(record);
  }

  private onAckTimeout(envelopeId: string): void {
    const flight = this.inflight.get(envelopeId);
    if (!flight) return;
    this.inflight.delete(envelopeId);
    const p = flight.pending;
    if (p.attempt >= 3) {
      this.log(`socket-mode: event ${p.eventId} never acked after 3 retries; giving up`);
      p.done = true;
      return;
    }
    p.attempt += 1;
    const delay = this.opts.redeliveryDelaysMs[p.attempt - 1] ?? 0;
    this.log(`socket-mode: no ack for ${envelopeId} (event ${p.eventId}); retry ${p.attempt} in ${delay} ms`);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(p, flight.conn);
    }, delay);
    this.timers.add(t);
  }

  /** Unacked envelopes of a connection that went away go out again on another connection. */
  private requeueInflight(conn: Connection, why: string): void {
    const lost: PendingEvent[] = [];
    for (const [id, f] of this.inflight) {
      if (f.conn !== conn) continue;
      if (f.timer) clearTimeout(f.timer);
      this.inflight.delete(id);
      f.pending.attempt = Math.min(f.pending.attempt + 1, 3);
      lost.push(f.pending);
    }
    if (!lost.length || this.closed) return;
    this.log(`socket-mode: ${conn.host} ${why}: redelivering ${lost.length} unacked envelope(s)`);
    for (const p of lost) this.enqueue(p);
  }

  private buildPayload(pending: PendingEvent): Record<string, unknown> {
    const { appId, eventId, event } = pending;
    const ws = this.workspace;
    const teamId = ws?.teamId ?? "T0FAKE0001";
    const app = ws?.apps.find((a) => a.appId === appId);
    const channel =
      (typeof event.channel === "string" && event.channel) ||
      (typeof (event.item as { channel?: unknown })?.channel === "string" &&
        (event.item as { channel: string }).channel) ||
      (typeof event.channel_id === "string" && event.channel_id) ||
      undefined;
    const ctx: Record<string, string> = { et: String(event.type ?? ""), tid: teamId, aid: appId };
    if (channel) ctx.cid = channel;
    return {
      token: this.verificationToken,
      team_id: teamId,
      context_team_id: teamId,
      context_enterprise_id: null,
      api_app_id: appId,
      event,
      type: "event_callback",
      event_id: eventId,
      event_time: pending.eventTime,
      authorizations: [
        {
          enterprise_id: null,
          team_id: teamId,
          user_id: app?.botUserId ?? "",
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(JSON.stringify(ctx)).toString("base64url")}`,
    };
  }

  private newEventId(): string {
    for (;;) {
      const id = eventId();
      if (!this.eventIds.has(id)) {
        this.eventIds.add(id);
        return id;
      }
    }
  }

  private sweepTickets(): void {
    const t = Date.now();
    for (const [k, v] of this.tickets) if (v.expiresAt < t - 60_000) this.tickets.delete(k);
  }

  private arm<T>(
    set: Set<Waiter<T>>,
    test: (value: T) => boolean,
    timeoutMs: number,
    describe: () => string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        test,
        resolve: (v) => {
          clearTimeout(timer);
          set.delete(waiter);
          resolve(v);
        },
      };
      const timer = setTimeout(() => {
        set.delete(waiter);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      set.add(waiter);
    });
  }

  private notifyEnvelopes(record: EnvelopeRecord): void {
    for (const w of [...this.envelopeWaiters]) if (w.test(record)) w.resolve(record);
  }

  private notifyConnections(): void {
    for (const w of [...this.connectionWaiters]) if (w.test(this.conns.size)) w.resolve(this.conns.size);
  }
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${status} ${text}`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
}
