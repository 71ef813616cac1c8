// Socket Mode details seen from a raw `ws` client: pings, tickets, acks, redelivery on drop, faults.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { FakeSlack, FakeSlackOptions } from "../../fakes/slack/api.ts";
import { type FakeSlackInternals, startFakeSlack } from "../../fakes/slack/index.ts";
import { createStubCore, STUB_APP_TOKEN } from "./transport-stub-core.ts";

const fakes: FakeSlack[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const f of fakes.splice(0)) await f.stop();
});

async function start(
  opts: FakeSlackOptions = {},
  hub: FakeSlackInternals["hub"] = {},
): Promise<{ fake: FakeSlack; lines: string[] }> {
  const lines: string[] = [];
  const fake = await startFakeSlack(
    { log: (l) => lines.push(l), ...opts },
    { createCore: createStubCore, hub },
  );
  fakes.push(fake);
  return { fake, lines };
}

async function openUrl(fake: FakeSlack): Promise<string> {
  const res = await fetch(`${fake.webApiUrl}apps.connections.open`, {
    method: "POST",
    headers: { authorization: `Bearer ${STUB_APP_TOKEN}`, "content-type": "application/json" },
  });
  return ((await res.json()) as { url: string }).url;
}

interface Raw {
  ws: WebSocket;
  frames: any[];
  pings: { at: number; data: string }[];
  next(pred: (f: any) => boolean, ms?: number): Promise<any>;
}

async function connect(url: string, autoAck = true): Promise<Raw> {
  const ws = new WebSocket(url, { headers: { origin: "https://api.slack.com" } });
  sockets.push(ws);
  const frames: any[] = [];
  const pings: { at: number; data: string }[] = [];
  const listeners = new Set<() => void>();
  ws.on("ping", (d) => pings.push({ at: Date.now(), data: String(d) }));
  ws.on("message", (d) => {
    const f = JSON.parse(String(d));
    frames.push(f);
    if (autoAck && f.envelope_id) ws.send(JSON.stringify({ envelope_id: f.envelope_id }));
    for (const l of listeners) l();
  });
  await new Promise<void>((r, j) => ws.once("open", () => r()).once("error", j));
  const next = (pred: (f: any) => boolean, ms = 5000) =>
    new Promise<any>((resolve, reject) => {
      const check = () => {
        const f = frames.find(pred);
        if (f) {
          listeners.delete(check);
          clearTimeout(t);
          resolve(f);
        }
      };
      const t = setTimeout(() => {
        listeners.delete(check);
        reject(new Error("frame not received"));
      }, ms);
      listeners.add(check);
      check();
    });
  return { ws, frames, pings, next };
}

const msg = (fake: FakeSlack, text: string) =>
  fake.control.postMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", text });

describe("Socket Mode (raw client)", () => {
  it("sends hello with integer fields at once, then server PINGs on schedule", async () => {
    const { fake } = await start({ firstPingDelayMs: 300, pingIntervalMs: 400 });
    const t0 = Date.now();
    const c = await connect(await openUrl(fake));
    const hello = await c.next((f) => f.type === "hello");
    expect(hello).toEqual({
      type: "hello",
      num_connections: 1,
      debug_info: { host: "applink-1", build_number: 14, approximate_connection_time: 18060 },
      connection_info: { app_id: "A0FAKE0001" },
    });
    await new Promise((r) => setTimeout(r, 1400));
    expect(c.pings.length).toBeGreaterThanOrEqual(3);
    expect(c.pings[0]!.at - t0).toBeGreaterThanOrEqual(250);
    expect(c.pings[0]!.at - t0).toBeLessThan(900);
    expect(c.pings[0]!.data).toBe("Ping from applink-1");
    const gaps = c.pings.slice(1).map((p, i) => p.at - c.pings[i]!.at);
    for (const g of gaps) expect(g).toBeGreaterThan(300);
  });

  it("answers client pings with pongs and stops pinging when suppressed", async () => {
    const { fake } = await start({ firstPingDelayMs: 100, pingIntervalMs: 200 });
    const c = await connect(await openUrl(fake));
    const pong = new Promise<string>((r) => c.ws.once("pong", (d) => r(String(d))));
    c.ws.ping("Ping from client (1)");
    expect(await pong).toBe("Ping from client (1)");
    await new Promise((r) => setTimeout(r, 300));
    fake.control.suppressPings(true);
    // A PING written just before may still be on its way.
    await new Promise((r) => setTimeout(r, 100));
    const n = c.pings.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(c.pings.length).toBe(n);
    fake.control.suppressPings(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.pings.length).toBeGreaterThan(n);
  });

  it("reports a 360 s lifetime with debug_reconnects=true and accepts unknown parameters", async () => {
    const { fake } = await start();
    const c = await connect(`${await openUrl(fake)}&debug_reconnects=true&foo=bar`);
    const hello = await c.next((f) => f.type === "hello");
    expect(hello.debug_info.approximate_connection_time).toBe(360);
  });

  it("refuses unknown and reused tickets", async () => {
    const { fake } = await start();
    const url = await openUrl(fake);
    await connect(url);
    const status = (u: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(u);
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("error", () => {});
      });
    expect(await status(url)).toBe(403);
    expect(await status(url.replace(/ticket=[^&]+/, "ticket=nope"))).toBe(401);
  });

  it("ignores junk frames from a client and keeps serving it", async () => {
    const { fake, lines } = await start();
    const c = await connect(await openUrl(fake));
    await c.next((f) => f.type === "hello");
    c.ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    for (const junk of ["not json", "null", "[]", "42", '{"envelope_id":5}', '{"envelope_id":"nope"}'])
      c.ws.send(junk);
    c.ws.send("x".repeat(1_000_000));
    await msg(fake, "after the junk");
    const env = await c.next((f) => f.type === "events_api" && f.payload.event.text === "after the junk");
    const rec = await fake.control.waitForEnvelope((e) => e.envelopeId === env.envelope_id && !!e.ackedAt);
    expect(rec.ackedAt).toBeGreaterThan(0);
    expect(fake.control.connections().filter((k) => k.closedAt === undefined)).toHaveLength(1);
    expect(lines.filter((l) => l.includes("ignored")).length).toBeGreaterThanOrEqual(7);
    expect(lines.some((l) => l.includes("unknown or settled envelope nope"))).toBe(true);
  });

  it("accepts acks with a payload, and flags acks of 20 KB or more", async () => {
    const { fake, lines } = await start();
    const c = await connect(await openUrl(fake), false);
    await msg(fake, "one");
    const env = await c.next((f) => f.type === "events_api");
    c.ws.send(JSON.stringify({ envelope_id: env.envelope_id, payload: { text: "x".repeat(21_000) } }));
    const rec = await fake.control.waitForEnvelope((e) => e.ackedAt !== undefined);
    expect(rec.envelopeId).toBe(env.envelope_id);
    expect(lines.some((l) => l.includes("WARNING ack") && l.includes(env.envelope_id))).toBe(true);
  });

  it("redelivers unacked envelopes on another connection when the socket drops", async () => {
    const { fake } = await start({ ackTimeoutMs: 60_000 });
    const a = await connect(await openUrl(fake), false);
    await a.next((f) => f.type === "hello");
    await msg(fake, "lost?");
    const first = await a.next((f) => f.type === "events_api");
    a.ws.terminate();
    await msg(fake, "while down");
    const b = await connect(await openUrl(fake));
    const again = await b.next(
      (f) => f.type === "events_api" && f.payload.event_id === first.payload.event_id,
    );
    expect(again.envelope_id).not.toBe(first.envelope_id);
    expect(again.retry_attempt).toBe(1);
    await b.next((f) => f.type === "events_api" && f.payload.event.text === "while down");
  });

  it("round-robins envelopes over the app's open connections", async () => {
    const { fake } = await start();
    const a = await connect(await openUrl(fake));
    const b = await connect(await openUrl(fake));
    await b.next((f) => f.type === "hello");
    for (let i = 0; i < 4; i++) await msg(fake, `m${i}`);
    await fake.control.waitForEnvelope(() => fake.control.envelopes().filter((e) => e.ackedAt).length === 4);
    const count = (r: Raw) => r.frames.filter((f) => f.type === "events_api").length;
    expect([count(a), count(b)]).toEqual([2, 2]);
  });

  it("delays envelope writes when asked, and stamps sentAt after the write", async () => {
    const { fake } = await start();
    const c = await connect(await openUrl(fake));
    await c.next((f) => f.type === "hello");
    fake.control.delayEnvelopes(300);
    const t0 = performance.timeOrigin + performance.now();
    await msg(fake, "slow");
    const rec = await fake.control.waitForEnvelope((e) => e.ackedAt !== undefined);
    expect(rec.sentAt - t0).toBeGreaterThanOrEqual(290);
    expect(rec.ackedAt!).toBeGreaterThanOrEqual(rec.sentAt);
  });

  it("refreshes a connection after its lifetime: warning, then refresh_requested, then close", async () => {
    const { fake } = await start(
      {},
      { connectionLifetimeMs: 200, refreshWarningMs: 200, disconnectCloseDelayMs: 50 },
    );
    const c = await connect(await openUrl(fake));
    const closed = new Promise<void>((r) => c.ws.once("close", () => r()));
    await closed;
    expect(c.frames.map((f) => f.type === "disconnect" && f.reason).filter(Boolean)).toEqual([
      "warning",
      "refresh_requested",
    ]);
    expect(fake.control.connections()[0]?.closeReason).toBe("refresh_requested");
  });

  it("sets a connection lifetime at run time: open connections are refreshed by their age, until cleared", async () => {
    const { fake } = await start({}, { disconnectCloseDelayMs: 20 });
    const old = await connect(await openUrl(fake));
    await new Promise((r) => setTimeout(r, 150));
    fake.control.connectionLifetime(100, { warningMs: 0 });
    // Older than the lifetime already: refreshed at once, with refresh_requested only.
    await old.next((f) => f.type === "disconnect", 1000);
    expect(old.frames.filter((f) => f.type === "disconnect").map((f) => f.reason)).toEqual([
      "refresh_requested",
    ]);
    const fresh = await connect(await openUrl(fake));
    const openedAt = Date.now();
    await fresh.next((f) => f.type === "disconnect", 1000);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(80);
    fake.control.connectionLifetime(undefined);
    const calm = await connect(await openUrl(fake));
    await new Promise((r) => setTimeout(r, 300));
    expect(calm.frames.filter((f) => f.type === "disconnect")).toEqual([]);
  });

  it("clearFaults() ends a lifetime set at run time", async () => {
    const { fake } = await start({}, { disconnectCloseDelayMs: 20 });
    fake.control.connectionLifetime(150, { warningMs: 50 });
    fake.control.clearFaults();
    const c = await connect(await openUrl(fake));
    await new Promise((r) => setTimeout(r, 400));
    expect(c.frames.filter((f) => f.type === "disconnect")).toEqual([]);
  });

  it("repeats disconnects with disconnectEvery until cleared", async () => {
    const { fake } = await start({}, { disconnectCloseDelayMs: 20 });
    const a = await connect(await openUrl(fake));
    fake.control.disconnectEvery(100, "warning");
    await a.next((f) => f.type === "disconnect");
    fake.control.clearFaults();
    const b = await connect(await openUrl(fake));
    await new Promise((r) => setTimeout(r, 300));
    expect(b.frames.filter((f) => f.type === "disconnect")).toEqual([]);
  });

  it("waitForConnection and waitForEnvelope resolve on past or later events, and time out with a description", async () => {
    const { fake } = await start();
    const waiting = fake.control.waitForConnection({ count: 1, timeoutMs: 3000 });
    const c = await connect(await openUrl(fake));
    expect((await waiting).appId).toBe("A0FAKE0001");
    expect((await fake.control.waitForConnection()).id).toBe("applink-1");
    await c.next((f) => f.type === "hello");
    await expect(
      fake.control.waitForEnvelope(() => false, { timeoutMs: 50, describe: "never" }),
    ).rejects.toThrow(/never/);
  });

  it("keeps envelopes off a connection that stops answering PINGs, then drops it", async () => {
    const { fake } = await start({ firstPingDelayMs: 50, pingIntervalMs: 200 }, { pongTimeoutMs: 5_000 });
    const ghost = await connect(await openUrl(fake));
    const live = await connect(await openUrl(fake));
    await live.next((f) => f.type === "hello");
    await ghost.next((f) => f.type === "hello");
    // A peer that vanished without closing: it reads nothing, so it answers no PING.
    (ghost.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 4; i++) await msg(fake, `m${i}`);
    await fake.control.waitForEnvelope(() => fake.control.envelopes().filter((e) => e.ackedAt).length === 4);
    expect(fake.control.envelopes().map((e) => e.connectionId)).toEqual(Array(4).fill("applink-2"));
  });

  it("drops a connection whose PING stays unanswered for pongTimeoutMs and redelivers its envelopes", async () => {
    const { fake, lines } = await start(
      { firstPingDelayMs: 50, pingIntervalMs: 100, ackTimeoutMs: 60_000 },
      { pongTimeoutMs: 300 },
    );
    const ghost = await connect(await openUrl(fake), false);
    await ghost.next((f) => f.type === "hello");
    await msg(fake, "to the ghost");
    await ghost.next((f) => f.type === "events_api");
    (ghost.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const live = await connect(await openUrl(fake));
    const again = await live.next((f) => f.type === "events_api", 3000);
    expect(again.payload.event.text).toBe("to the ghost");
    expect(again.retry_attempt).toBe(1);
    expect(fake.control.connections()[0]?.closeReason).toBe("no pong");
    expect(lines.some((l) => l.includes("no pong"))).toBe(true);
  });
});
