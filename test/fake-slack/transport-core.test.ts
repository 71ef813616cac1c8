// startFakeSlack() with the real core: Slack's Node SDK over the plain port, the Web API through the
// proxy, and the control API over HTTP.
import { SocketModeClient } from "@slack/socket-mode";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { createSlackCore } from "../../fakes/slack/core/index.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { quietLogger } from "./quiet-logger.ts";

let fake: FakeSlack;
let client: SocketModeClient;
const lines: string[] = [];
const got: { type: string; subtype?: string; event: any }[] = [];

beforeAll(async () => {
  fake = await startFakeSlack({ log: (l) => lines.push(l), firstPingDelayMs: 200, pingIntervalMs: 1000 });
  client = new SocketModeClient({
    appToken: fake.workspace.apps[0]!.appToken,
    logger: quietLogger,
    clientPingTimeout: 2000,
    clientOptions: { slackApiUrl: fake.webApiUrl, retryConfig: { retries: 0 } },
  });
  client.on("slack_event", async (args: any) => {
    if (args.type !== "events_api") return;
    got.push({ type: args.body.event.type, subtype: args.body.event.subtype, event: args.body.event });
    await args.ack();
  });
  await client.start();
});

afterAll(async () => {
  client.removeAllListeners();
  await Promise.race([client.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
  await fake.stop();
});

async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function firstHumanAndChannel(): { user: string; channel: string } {
  const user = fake.workspace.users.find((u) => !u.isBot)!.id;
  const bot = fake.workspace.apps[0]!.botUserId;
  const channel = fake.workspace.channels.find(
    (c) => c.members.includes(bot) && c.members.includes(user),
  )!.id;
  return { user, channel };
}

describe("startFakeSlack with the real core", () => {
  it("delivers the core's events to @slack/socket-mode, acked", async () => {
    const { user, channel } = firstHumanAndChannel();
    const before = got.length;
    const { ts } = await fake.control.postMessage({ user, channel, text: "hello" });
    await fake.control.postMessage({ user, channel, text: "in thread", threadTs: ts });
    await fake.control.editMessage({ user, channel, ts, text: "hello!" });
    await fake.control.addReaction({ user, channel, ts, name: "tada" });
    await fake.control.removeReaction({ user, channel, ts, name: "tada" });
    await fake.control.uploadFile({
      user,
      channel,
      filename: "a.txt",
      mimetype: "text/plain",
      data: new Uint8Array([1, 2, 3]),
    });
    // A root with replies becomes a tombstone; delete a plain message.
    const plain = await fake.control.postMessage({ user, channel, text: "to delete" });
    await fake.control.deleteMessage({ user, channel, ts: plain.ts });
    await until(() => got.slice(before).some((g) => g.subtype === "message_deleted")).catch((e) => {
      throw new Error(
        `${e.message}: got ${got
          .slice(before)
          .map((g) => g.subtype ?? g.type)
          .join(", ")}`,
      );
    });
    const kinds = got.slice(before).map((g) => g.subtype ?? g.type);
    for (const k of [
      "message",
      "message_changed",
      "reaction_added",
      "reaction_removed",
      "file_share",
      "message_deleted",
    ]) {
      expect(kinds).toContain(k);
    }
    expect(got.slice(before).find((g) => g.event.thread_ts === ts)?.event.text).toBe("in thread");
    await until(() => fake.control.envelopes().every((e) => e.ackedAt));
  });

  it("serves the Web API through the proxy to https://slack.com", async () => {
    const dispatcher = new ProxyAgent({ uri: fake.proxyUrl, requestTls: { ca: fake.caCertPem } });
    const res = await undiciFetch("https://slack.com/api/auth.test", {
      method: "POST",
      body: new URLSearchParams({ token: fake.workspace.apps[0]!.botToken }),
      dispatcher,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, user_id: fake.workspace.apps[0]!.botUserId });
    const open = await undiciFetch("https://slack.com/api/apps.connections.open", {
      method: "POST",
      headers: {
        authorization: `Bearer ${fake.workspace.apps[0]!.appToken}`,
        "content-type": "application/json",
      },
      dispatcher,
    });
    expect(((await open.json()) as { url: string }).url).toMatch(
      /^wss:\/\/wss-primary\.slack\.com\/link\/\?ticket=/,
    );
    await dispatcher.close();
  });

  it("answers the control API over HTTP, without tokens", async () => {
    const { user, channel } = firstHumanAndChannel();
    const base = fake.controlUrl;
    const post = await fetch(`${base}messages`, {
      method: "POST",
      body: JSON.stringify({ user, channel, text: "via http" }),
    });
    expect(post.status).toBe(200);
    const { ts } = (await post.json()) as { ts: string };
    expect(ts).toMatch(/^\d+\.\d{6}$/);
    const history = (await (await fetch(`${base}history/${channel}`)).json()) as {
      messages: { text: string }[];
    };
    expect(history.messages.some((m) => m.text === "via http")).toBe(true);
    const ws = await (await fetch(`${base}workspace`)).text();
    expect(ws).toContain(fake.workspace.teamId);
    for (const a of fake.workspace.apps) {
      expect(ws).not.toContain(a.botToken);
      expect(ws).not.toContain(a.appToken);
    }
    const conns = (await (await fetch(`${base}connections`)).json()) as { connections: unknown[] };
    expect(conns.connections.length).toBeGreaterThanOrEqual(1);
    const envs = (await (await fetch(`${base}envelopes`)).json()) as { envelopes: unknown[] };
    expect(envs.envelopes.length).toBeGreaterThan(0);
    const calls = (await (await fetch(`${base}calls?method=apps.connections.open`)).json()) as {
      calls: { method: string }[];
    };
    expect(calls.calls.length).toBeGreaterThan(0);
    expect(calls.calls.every((c) => c.method === "apps.connections.open")).toBe(true);
    const json = (method: string, body: unknown) => ({ method, body: JSON.stringify(body) });
    expect((await fetch(`${base}reactions`, json("POST", { user, channel, ts, name: "tada" }))).status).toBe(
      200,
    );
    expect(
      (await fetch(`${base}reactions`, json("DELETE", { user, channel, ts, name: "tada" }))).status,
    ).toBe(200);
    expect(
      (await fetch(`${base}messages`, json("PUT", { user, channel, ts, text: "edited via http" }))).status,
    ).toBe(200);
    const file = await fetch(
      `${base}files`,
      json("POST", {
        user,
        channel,
        filename: "a.txt",
        mimetype: "text/plain",
        data: Buffer.from("abc").toString("base64"),
      }),
    );
    expect(file.status).toBe(200);
    expect(((await file.json()) as { fileId: string }).fileId).toMatch(/^F/);
    expect((await fetch(`${base}messages`, json("DELETE", { user, channel, ts }))).status).toBe(200);
    const after = (await (await fetch(`${base}history/${channel}`)).json()) as {
      messages: { ts: string; deleted?: boolean }[];
    };
    expect(after.messages.some((m) => m.ts === ts && !m.deleted)).toBe(false);
    expect((await fetch(`${base}faults/drop-acks`, { method: "POST", body: '{"count":0}' })).status).toBe(
      200,
    );
    expect((await fetch(`${base}faults/clear`, { method: "POST" })).status).toBe(200);
  });

  it("answers bad control input with 400 and a message", async () => {
    const base = fake.controlUrl;
    const cases: [string, RequestInit, RegExp][] = [
      ["messages", { method: "POST", body: "{not json" }, /JSON object/],
      ["messages", { method: "POST", body: "{}" }, /"user" is required/],
      [
        "messages",
        { method: "POST", body: JSON.stringify({ user: "nobody", channel: "x", text: "t" }) },
        /unknown user/,
      ],
      ["faults/disconnect", { method: "POST", body: '{"reason":"bogus"}' }, /reason/],
      ["faults/delay-envelopes", { method: "POST", body: '{"ms":-1}' }, /"ms"/],
    ];
    for (const [path, init, message] of cases) {
      const res = await fetch(`${base}${path}`, init);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect((await fetch(`${base}nope`)).status).toBe(404);
  });

  it("stamps receivedAt when the request headers arrive, not after the body", async () => {
    const { channel } = firstHumanAndChannel();
    const before = performance.timeOrigin + performance.now();
    const res = await fetch(`${fake.webApiUrl}chat.postMessage`, {
      method: "POST",
      headers: { "x-harness-received-at": "1" },
      body: new URLSearchParams({ token: fake.workspace.apps[0]!.botToken, channel, text: "stamped" }),
    });
    expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
    const call = fake.control.calls().findLast((c) => c.method === "chat.postMessage")!;
    expect(call.receivedAt).toBeGreaterThanOrEqual(before);
  });

  it("writes the echo of a bot's post after the post's answer, as Slack orders them", async () => {
    const { channel } = firstHumanAndChannel();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${fake.webApiUrl}chat.postMessage`, {
        method: "POST",
        body: new URLSearchParams({ token: fake.workspace.apps[0]!.botToken, channel, text: `echo ${i}` }),
      });
      const { ts } = (await res.json()) as { ts: string };
      const env = await fake.control.waitForEnvelope((e) => e.eventType === "message" && e.event.ts === ts);
      const call = fake.control.calls().findLast((c) => c.response.ts === ts)!;
      expect(env.sentAt).toBeGreaterThanOrEqual(call.respondedAt);
    }
  });

  it("stamps respondedAt when the answer is handed to the socket", async () => {
    const written: Response[] = [];
    const spied = await startFakeSlack(
      {},
      {
        createCore: (o) => {
          const core = createSlackCore(o);
          return {
            ...core,
            responseWritten: (answer) => {
              written.push(answer);
              core.responseWritten?.(answer);
            },
          };
        },
      },
    );
    try {
      spied.control.delayResponses("auth.test", 100);
      const res = await fetch(`${spied.webApiUrl}auth.test`, {
        method: "POST",
        headers: { authorization: `Bearer ${spied.workspace.apps[0]!.botToken}` },
      });
      expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
      const answered = performance.timeOrigin + performance.now();
      const call = spied.control.calls().findLast((c) => c.method === "auth.test")!;
      expect(written).toHaveLength(1);
      expect(call.respondedAt - call.receivedAt).toBeGreaterThanOrEqual(95);
      expect(call.respondedAt).toBeLessThanOrEqual(answered);
    } finally {
      await spied.stop();
    }
  });

  it("never logs a token", () => {
    const all = lines.join("\n");
    for (const a of fake.workspace.apps) {
      expect(all).not.toContain(a.botToken);
      expect(all).not.toContain(a.appToken);
    }
  });
});
