// The bridge's own Slack library (the slack-go fork pinned by mautrix-slack v0.2.0) against the real
// fake core, through the CONNECT proxy as the bridge reaches it: every Web API method the bridge
// calls must succeed, and every event the fake emits must decode into slack-go's strict types.
// Skipped when no Go toolchain (with the module cache) is available, except with CI=true.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { buildGoClient, type GoClient, hasGo, runGoClient } from "./go-client.ts";

interface Line {
  kind: string;
  call?: string;
  error?: string;
  type?: string;
  go_type?: string;
  data?: Record<string, any>;
  [k: string]: unknown;
}

let binary = "";
let fake: FakeSlack;
let client: GoClient<Line>;
let lines: Line[] = [];
const logs: string[] = [];
let waitLine: GoClient<Line>["waitLine"];

const seed = {
  team: { name: "chochacho" },
  users: [{ name: "alice", real_name: "Alice Example" }, { name: "bob" }],
  channels: [{ name: "dev-platform", members: ["alice", "bob", "@bot"], topic: "Platform" }],
  dms: [{ name: "alice-dm", members: ["alice", "@bot"] }],
  emoji: { partyparrot: "https://emoji.example/pp.gif" },
  messages: [{ channel: "dev-platform", user: "alice", text: "seeded" }],
};

beforeAll(async () => {
  if (!hasGo) return;
  binary = await buildGoClient("web-api-slackgo");
  fake = await startFakeSlack({ seed, pingIntervalMs: 5000, log: (l) => logs.push(l) });
  const app = fake.workspace.apps[0];
  client = runGoClient<Line>(binary, fake, {
    BOT_TOKEN: app?.botToken,
    APP_TOKEN: app?.appToken,
    CHANNEL: fake.workspace.resolveChannel("dev-platform"),
  });
  ({ lines, waitLine } = client);
}, 120_000);

afterAll(async () => {
  if (!hasGo) return;
  await client?.stop();
  await fake?.stop();
});

const call = (name: string) => lines.find((l) => l.kind === "call" && l.call === name);

describe.skipIf(!hasGo)("slack-go (mautrix-slack v0.2.0's fork) against the fake core", () => {
  it("login and first sync calls all succeed with the fields the bridge reads", async () => {
    await waitLine((l) => l.kind === "connected");
    const ws = fake.workspace;
    const app = ws.apps[0];
    expect(call("auth.test")).toMatchObject({
      team_id: ws.teamId,
      user_id: app?.botUserId,
      bot_id: app?.botId,
    });
    expect(call("team.info")?.team).toMatchObject({ id: ws.teamId, icon: { image_default: true } });
    expect(call("users.info")?.user).toMatchObject({ id: app?.botUserId, is_bot: true });
    expect(call("emoji.list")).toMatchObject({ count: 1 });
    expect(call("users.conversations")?.ids).toHaveLength(2);
    const infos = lines.filter((l) => l.call === "conversations.info");
    expect(infos).toHaveLength(2);
    const dev = infos.find((l) => (l.channel as any)?.name === "dev-platform")?.channel as Record<
      string,
      any
    >;
    expect(dev).toMatchObject({ is_member: true, is_channel: true, num_members: 3 });
    expect(dev.latest.text).toBe("seeded");
    const im = infos.find((l) => (l.channel as any)?.is_im)?.channel as Record<string, any>;
    expect(im.user).toBe(ws.resolveUser("alice"));
    expect(call("conversations.members")?.members).toHaveLength(3);
    expect(call("bots.info")?.bot).toMatchObject({ id: app?.botId, app_id: app?.appId });
    expect(lines.filter((l) => l.kind === "call" && l.error)).toEqual([]);
  });

  it("Slack users' actions arrive as events slack-go decodes", async () => {
    const c = fake.control;
    const { ts } = await c.postMessage({ user: "alice", channel: "dev-platform", text: "hello bridge" });
    await c.postMessage({ user: "bob", channel: "dev-platform", text: "reply", threadTs: ts });
    await c.editMessage({ user: "alice", channel: "dev-platform", ts, text: "hello bridge (edited)" });
    await c.addReaction({ user: "bob", channel: "dev-platform", ts, name: "partyparrot" });
    await c.removeReaction({ user: "bob", channel: "dev-platform", ts, name: "partyparrot" });
    await c.uploadFile({
      user: "alice",
      channel: "alice-dm",
      filename: "cat.png",
      mimetype: "image/png",
      data: new Uint8Array(1000),
    });
    const lone = await c.postMessage({ user: "alice", channel: "dev-platform", text: "short-lived" });
    await c.deleteMessage({ user: "alice", channel: "dev-platform", ts: lone.ts });
    await c.deleteMessage({ user: "alice", channel: "dev-platform", ts });
    await waitLine((l) => l.kind === "event" && l.data?.message?.subtype === "tombstone");
    const events = lines.filter((l) => l.kind === "event");
    const summary = events.map((e) => `${e.type}${e.data?.subtype ? `/${e.data.subtype}` : ""} ${e.go_type}`);
    expect(summary).toEqual([
      "message *slack.MessageEvent",
      "message *slack.MessageEvent",
      "message/message_changed *slack.MessageEvent",
      "reaction_added *slack.ReactionAddedEvent",
      "reaction_removed *slack.ReactionRemovedEvent",
      "file_created *slack.FileCreatedEvent",
      "message/file_share *slack.MessageEvent",
      "file_shared *slack.FileSharedEvent",
      "message *slack.MessageEvent",
      "message/message_deleted *slack.MessageEvent",
      "message/message_changed *slack.MessageEvent",
    ]);
    expect(events[1]?.data).toMatchObject({ thread_ts: ts, text: "reply" });
    expect(events[2]?.data?.message).toMatchObject({ ts, text: "hello bridge (edited)" });
    expect(events[2]?.data?.ts).toBe(events[2]?.data?.event_ts);
    expect(events[6]?.data?.files?.[0]).toMatchObject({ name: "cat.png", size: 1000, mimetype: "image/png" });
    expect(events[9]?.data?.deleted_ts).toBe(lone.ts);
    expect(events[10]?.data?.message).toMatchObject({ ts, subtype: "tombstone", user: "USLACKBOT" });
    expect(lines.filter((l) => l.kind === "bad_message")).toEqual([]);
  });

  it("Matrix -> Slack calls, including the 3-step upload and the download, succeed and echo", async () => {
    const before = lines.filter((l) => l.kind === "event").length;
    client.child.stdin.write("bridge\n");
    await waitLine((l) => l.kind === "bridge_done", 30_000);
    const errors = lines.filter((l) => l.kind === "call" && l.error);
    expect(logs.filter((l) => l.includes("failed"))).toEqual([]);
    expect(errors.map((e) => `${e.call}: ${e.error}`)).toEqual([]);
    expect(call("chat.postMessage")?.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(call("files.upload.v2")?.share_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(call("files.download")).toMatchObject({ size: 3 * 1024 * 1024, same: true });
    expect(call("conversations.history")?.texts).toHaveLength(3);
    expect(call("conversations.replies")).toMatchObject({ count: 2 });
    await waitLine((l) => l.kind === "event" && l.type === "file_shared" && lines.indexOf(l) > before);
    await new Promise((r) => setTimeout(r, 300));
    const echoes = lines.filter((l) => l.kind === "event").slice(before);
    const mine = echoes.filter((e) => e.type === "message" && !e.data?.subtype);
    expect(mine.map((e) => e.data?.text)).toEqual(["from matrix", "threaded from matrix"]);
    expect(mine[0]?.data).toMatchObject({ bot_id: fake.workspace.apps[0]?.botId });
    expect(lines.filter((l) => l.kind === "bad_message")).toEqual([]);
    const unacked = fake.control.envelopes().filter((e) => e.ackedAt === undefined);
    expect(unacked).toEqual([]);
  });
});
