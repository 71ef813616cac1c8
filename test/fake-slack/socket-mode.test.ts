// Socket Mode as Slack's own Node SDK sees it, over real sockets.
import { SocketModeClient } from "@slack/socket-mode";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { quietLogger } from "./quiet-logger.ts";
import { createStubCore, lastStubPort, STUB_APP_TOKEN } from "./transport-stub-core.ts";

let fake: FakeSlack;
let lines: string[];
const clients: SocketModeClient[] = [];

beforeEach(async () => {
  lines = [];
  fake = await startFakeSlack(
    {
      log: (l) => lines.push(l),
      ackTimeoutMs: 300,
      redeliveryDelaysMs: [0, 50, 50],
      firstPingDelayMs: 200,
      pingIntervalMs: 500,
    },
    { createCore: createStubCore, hub: { disconnectCloseDelayMs: 50 } },
  );
});

afterEach(async () => {
  for (const c of clients.splice(0)) {
    c.removeAllListeners();
    await Promise.race([c.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
  }
  await fake.stop();
});

function client(retries = 0): SocketModeClient {
  const c = new SocketModeClient({
    appToken: STUB_APP_TOKEN,
    logger: quietLogger,
    clientPingTimeout: 1500,
    clientOptions: { slackApiUrl: fake.webApiUrl, retryConfig: { retries } },
  });
  clients.push(c);
  return c;
}

type Received = {
  type: string;
  body: Record<string, unknown>;
  event: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
  accepts_response_payload?: boolean;
};

function collect(c: SocketModeClient): Received[] {
  const got: Received[] = [];
  c.on("slack_event", async (args: any) => {
    if (args.type !== "events_api") return;
    got.push({
      type: args.body.event.type,
      body: args.body,
      event: args.body.event,
      retry_num: args.retry_num,
      retry_reason: args.retry_reason,
      accepts_response_payload: args.accepts_response_payload,
    });
    await args.ack();
  });
  return got;
}

async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Socket Mode with @slack/socket-mode", () => {
  it("start() resolves on hello and the connection is recorded", async () => {
    const c = client();
    await c.start();
    const conns = fake.control.connections();
    expect(conns).toHaveLength(1);
    expect(conns[0]?.appId).toBe("A0FAKE0001");
    expect(lines.join("\n")).not.toContain(STUB_APP_TOKEN);
  });

  it("delivers each published event type once, acked, with the event_callback wrapper", async () => {
    const c = client();
    const got = collect(c);
    await c.start();
    const { ts } = await fake.control.postMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", text: "hi" });
    await fake.control.postMessage({
      user: "U0HUMAN001",
      channel: "C0GENERAL1",
      text: "reply",
      threadTs: ts,
    });
    await fake.control.editMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", ts, text: "hi!" });
    await fake.control.addReaction({ user: "U0HUMAN001", channel: "C0GENERAL1", ts, name: "tada" });
    await fake.control.removeReaction({ user: "U0HUMAN001", channel: "C0GENERAL1", ts, name: "tada" });
    await fake.control.deleteMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", ts });
    const hub = fake as unknown as { control: { envelopes(): { ackedAt?: number }[] } };
    await until(() => hub.control.envelopes().filter((e) => e.ackedAt).length === 6);
    expect(got.map((g) => g.event.subtype ?? g.type)).toEqual([
      "message",
      "message",
      "message_changed",
      "reaction_added",
      "reaction_removed",
      "message_deleted",
    ]);
    expect(got[1]?.event.thread_ts).toBe(ts);
    const first = got[0] as Received;
    expect(first.retry_num).toBe(0);
    expect(first.retry_reason).toBe("");
    expect(first.accepts_response_payload).toBe(false);
    const body = first.body as any;
    expect(body.type).toBe("event_callback");
    expect(body.team_id).toBe("T0FAKE0001");
    expect(body.api_app_id).toBe("A0FAKE0001");
    expect(body.event_id).toMatch(/^Ev[A-Z0-9]{8,}$/);
    expect(Number.isInteger(body.event_time)).toBe(true);
    expect(body.authorizations[0].user_id).toBe("U0BOT00001");
    const envs = fake.control.envelopes();
    expect(envs.every((e) => e.ackedAt && e.ackedAt >= e.sentAt && e.retryAttempt === 0)).toBe(true);
  });

  it.each(["warning", "refresh_requested", "link_disabled"] as const)(
    "reconnects once after a %s disconnect",
    async (reason) => {
      const c = client();
      await c.start();
      await fake.control.waitForConnection();
      fake.control.disconnect(reason);
      await until(
        () =>
          fake.control.connections().length === 2 && fake.control.connections()[1]?.closedAt === undefined
            ? true
            : undefined,
        20_000,
      );
      await fake.control.waitForConnection({ count: 1 });
      const conns = fake.control.connections();
      expect(conns).toHaveLength(2);
      expect(conns[0]?.closedAt).toBeDefined();
      expect(conns[0]?.closeReason).toBe(reason);
      // Events still flow on the new connection.
      const got = collect(c);
      await fake.control.postMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", text: "after" });
      await until(() => got.length === 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(fake.control.connections()).toHaveLength(2);
    },
    30_000,
  );

  it("delivers raw events as published (file_share, member_joined_channel, channel_created)", async () => {
    const c = client();
    const got = collect(c);
    await c.start();
    const port = lastStubPort!;
    const t = `${Math.floor(Date.now() / 1000)}.000100`;
    const ids = [
      port.publish("A0FAKE0001", {
        type: "message",
        subtype: "file_share",
        upload: true,
        user: "U0HUMAN001",
        text: "",
        files: [{ id: "F0FILE0001", name: "a.txt", size: 3, created: 1 }],
        channel: "C0GENERAL1",
        ts: t,
        event_ts: t,
        channel_type: "channel",
      }),
      port.publish("A0FAKE0001", {
        type: "member_joined_channel",
        user: "U0HUMAN001",
        channel: "C0GENERAL1",
        channel_type: "C",
        team: "T0FAKE0001",
        event_ts: t,
      }),
      port.publish("A0FAKE0001", {
        type: "channel_created",
        channel: { id: "C0NEW00001", name: "new", is_channel: true, created: 1, creator: "U0HUMAN001" },
        event_ts: t,
      }),
    ];
    await until(() => got.length === 3);
    expect(got.map((g) => g.event.subtype ?? g.type)).toEqual([
      "file_share",
      "member_joined_channel",
      "channel_created",
    ]);
    expect(got.map((g) => g.body.event_id)).toEqual(ids);
    expect(String(got[2]?.body.event_context)).toMatch(/^4-/);
  });

  it("sends too_many_websockets instead of hello to the 11th connection", async () => {
    const started: SocketModeClient[] = [];
    for (let i = 0; i < 10; i++) {
      const c = client();
      await c.start();
      started.push(c);
    }
    expect(fake.control.connections().filter((r) => !r.closedAt)).toHaveLength(10);
    // The 11th over a raw socket, to see the frame itself.
    const res = await fetch(`${fake.webApiUrl}apps.connections.open`, {
      method: "POST",
      headers: { authorization: `Bearer ${STUB_APP_TOKEN}` },
    });
    const { url } = (await res.json()) as { url: string };
    const ws = new WebSocket(url);
    const frames: unknown[] = [];
    const closed = new Promise<void>((r) => ws.on("close", () => r()));
    ws.on("message", (d) => frames.push(JSON.parse(String(d))));
    await closed;
    expect(frames).toEqual([
      {
        type: "disconnect",
        reason: "too_many_websockets",
        debug_info: { host: expect.stringMatching(/^applink-/) },
      },
    ]);
    expect(fake.control.connections()[10]?.closeReason).toBe("too_many_websockets");
  });

  it("retries apps.connections.open after a 429 with Retry-After", async () => {
    fake.control.rateLimit("apps.connections.open", { calls: 1, retryAfterSeconds: 1 });
    const c = client(2);
    const t0 = Date.now();
    await c.start();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(fake.control.connections()).toHaveLength(1);
  });

  it("redelivers with retry_attempt and a new envelope_id when acks are dropped", async () => {
    const c = client();
    const got = collect(c);
    await c.start();
    fake.control.dropAcks(2);
    await fake.control.postMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", text: "again" });
    const acked = await fake.control.waitForEnvelope((e) => e.ackedAt !== undefined, { timeoutMs: 5000 });
    expect(acked.retryAttempt).toBe(2);
    const envs = fake.control.envelopes();
    expect(envs.map((e) => e.retryAttempt)).toEqual([0, 1, 2]);
    expect(new Set(envs.map((e) => e.eventId)).size).toBe(1);
    expect(new Set(envs.map((e) => e.envelopeId)).size).toBe(3);
    expect(got.map((g) => g.retry_num)).toEqual([0, 1, 2]);
    expect(got[1]?.retry_reason).toBe("timeout");
  });

  it("queues events while no socket is open and delivers them when one opens", async () => {
    await fake.control.postMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", text: "early" });
    expect(fake.control.envelopes()).toHaveLength(0);
    const c = client();
    const got = collect(c);
    await c.start();
    await until(() => got.length === 1);
    expect(got[0]?.event.text).toBe("early");
  });
});
