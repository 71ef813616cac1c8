// Slack users changing channels, memberships, DMs and profiles through the control API (in process
// and over HTTP): the events reach an app as Slack's own Socket Mode client (@slack/socket-mode)
// receives them, and the Web API shows the new state.
import { SocketModeClient } from "@slack/socket-mode";
import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { generatePng } from "../../src/scenario/content.ts";
import { quietLogger } from "./quiet-logger.ts";

let fake: FakeSlack;
let client: SocketModeClient;
let web: WebClient;
const got: Record<string, any>[] = [];

beforeAll(async () => {
  fake = await startFakeSlack({
    seed: {
      users: ["alice", { name: "bob", real_name: "Bob Builder", display_name: "Bob" }, "carol"],
      channels: [{ name: "dev-platform", members: ["alice", "bob", "@bot"] }],
    },
  });
  const app = fake.workspace.apps[0]!;
  client = new SocketModeClient({
    appToken: app.appToken,
    logger: quietLogger,
    clientOptions: { slackApiUrl: fake.webApiUrl, retryConfig: { retries: 0 } },
  });
  client.on("slack_event", async (args: any) => {
    if (args.type === "events_api") got.push(args.body.event);
    await args.ack();
  });
  await client.start();
  web = new WebClient(app.botToken, { slackApiUrl: fake.webApiUrl, retryConfig: { retries: 0 } });
});

afterAll(async () => {
  client.removeAllListeners();
  await Promise.race([client.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  await fake.stop();
});

/** Runs `act`, then returns the events the app received because of it (waits until `count` arrived). */
async function received(count: number, act: () => Promise<unknown>): Promise<Record<string, any>[]> {
  const from = got.length;
  await act();
  const end = Date.now() + 5000;
  while (got.length < from + count && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // nothing more should follow
  return got.slice(from);
}
const kinds = (events: Record<string, any>[]) =>
  events.map((e) => `${e.type}${e.subtype ? `/${e.subtype}` : ""}`);

async function control(method: string, path: string, body: unknown) {
  const res = await fetch(`${fake.controlUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe("channels", () => {
  it("a public channel is announced to the app; adding the app delivers its own join", async () => {
    let channel = "";
    const created = await received(1, async () => {
      channel = (await fake.control.createChannel({ user: "alice", name: "incidents" })).channel;
    });
    expect(kinds(created)).toEqual(["channel_created"]);
    expect(created[0]?.channel).toMatchObject({
      id: channel,
      name: "incidents",
      creator: fake.workspace.resolveUser("alice"),
    });
    const joined = await received(2, () =>
      fake.control.inviteToChannel({ user: "alice", channel, users: ["@bot", "bob"] }),
    );
    // bob's join comes after the app's: the app is a member by then.
    expect(kinds(joined)).toEqual([
      "member_joined_channel",
      "message/channel_join",
      "member_joined_channel",
      "message/channel_join",
    ]);
    expect(joined[0]).toMatchObject({
      user: fake.workspace.apps[0]?.botUserId,
      inviter: fake.workspace.resolveUser("alice"),
      channel_type: "C",
    });
    const info = await web.conversations.info({ channel });
    expect(info.channel).toMatchObject({ name: "incidents", is_member: true });
  });

  it("renames, topics, purposes, archives: the events and message subtypes Slack sends", async () => {
    const channel = fake.workspace.resolveChannel("incidents");
    const events = await received(8, async () => {
      await fake.control.renameChannel({ user: "bob", channel, name: "incident-42" });
      await fake.control.setTopic({ user: "bob", channel, topic: "Failover" });
      await fake.control.setPurpose({ user: "bob", channel, purpose: "Response" });
      await fake.control.archiveChannel({ user: "bob", channel });
      await fake.control.unarchiveChannel({ user: "bob", channel });
    });
    expect(kinds(events)).toEqual([
      "channel_rename",
      "message/channel_name",
      "message/channel_topic",
      "message/channel_purpose",
      "channel_archive",
      "message/channel_archive",
      "channel_unarchive",
      "message/channel_unarchive",
    ]);
    expect(events[0]?.channel).toMatchObject({ id: channel, name: "incident-42", is_channel: true });
    expect(events[2]).toMatchObject({ topic: "Failover" });
    expect(events[3]).toMatchObject({ purpose: "Response" });
    expect(events[6]).toMatchObject({ channel, user: fake.workspace.resolveUser("bob") });
    const info = await web.conversations.info({ channel });
    expect(info.channel).toMatchObject({
      name: "incident-42",
      is_archived: false,
      topic: { value: "Failover" },
      purpose: { value: "Response" },
    });
  });

  it("leaves and removals: member_left_channel, and channel_left to a removed app", async () => {
    const channel = fake.workspace.resolveChannel("incident-42");
    const left = await received(2, () => fake.control.leaveChannel({ user: "bob", channel }));
    expect(kinds(left)).toEqual(["member_left_channel", "message/channel_leave"]);
    const removed = await received(1, () =>
      fake.control.kickFromChannel({ user: "alice", channel, target: "@bot" }),
    );
    expect(removed).toEqual([
      {
        type: "channel_left",
        channel,
        actor_id: fake.workspace.resolveUser("alice"),
        event_ts: expect.any(String),
      },
    ]);
    await expect(web.conversations.info({ channel })).resolves.toMatchObject({
      channel: { is_member: false },
    });
    await expect(fake.control.kickFromChannel({ user: "alice", channel, target: "bob" })).rejects.toThrow(
      /not_in_channel/,
    );
  });
});

describe("people", () => {
  it("a new display name and photo: user_change and user_profile_changed to the app, the photo served on avatars.slack-edge.com", async () => {
    const photo = generatePng(20, 10);
    let avatarUrl = "";
    const events = await received(1, async () => {
      avatarUrl =
        (
          await fake.control.updateProfile({
            user: "bob",
            displayName: "Bobby",
            avatar: { data: photo, mimetype: "image/png" },
          })
        ).avatarUrl ?? "";
    });
    expect(kinds(events)).toEqual(["user_change", "user_profile_changed"]);
    const user = events[0]?.user;
    expect(user).toMatchObject({
      id: fake.workspace.resolveUser("bob"),
      deleted: false,
      real_name: "Bob Builder",
    });
    expect(user.profile).toMatchObject({
      display_name: "Bobby",
      image_512: avatarUrl,
      image_original: avatarUrl,
    });
    expect(user.profile.avatar_hash).toMatch(/^[0-9a-f]+$/);
    expect(avatarUrl).toMatch(
      /^https:\/\/avatars\.slack-edge\.com\/\d{4}-\d\d-\d\d\/\d+_[0-9a-f]+_512\.png$/,
    );
    // Served without a token, on any host the fake answers (here its plain port).
    const res = await fetch(new URL(new URL(avatarUrl).pathname, fake.webApiUrl));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(photo))).toBe(true);
    const missing = await fetch(new URL("/2020-01-01/1_abc_512.png", fake.webApiUrl));
    expect(missing.status).toBe(404);
    const info = await web.users.info({ user: fake.workspace.resolveUser("bob") });
    expect(info.user?.profile?.display_name).toBe("Bobby");
  });

  it("a deactivated account: user_change with deleted true", async () => {
    const events = await received(1, () => fake.control.deactivateUser({ user: "carol" }));
    expect(events[0]).toMatchObject({ type: "user_change", user: { name: "carol", deleted: true } });
    expect(typeof events[0]?.cache_ts).toBe("number");
  });
});

describe("DMs", () => {
  it("a person opening a DM with the app announces it with im_created; a group DM with nothing", async () => {
    const bot = fake.workspace.apps[0]?.botUserId as string;
    let dm = { channel: "", created: false };
    const events = await received(1, async () => {
      dm = await fake.control.openConversation({ user: "alice", with: [bot] });
    });
    expect(dm.created).toBe(true);
    expect(events).toEqual([
      {
        type: "im_created",
        user: fake.workspace.resolveUser("alice"),
        channel: expect.objectContaining({ id: dm.channel, is_im: true }),
        event_ts: expect.any(String),
      },
    ]);
    expect(await fake.control.openConversation({ user: "alice", with: [bot] })).toEqual({
      ...dm,
      created: false,
    });
    const group = await received(0, () =>
      fake.control.openConversation({ user: "alice", with: [bot, "bob"] }),
    );
    expect(group).toEqual([]);
    const message = await received(1, () =>
      fake.control.postMessage({ user: "alice", channel: dm.channel, text: "hi" }),
    );
    expect(message[0]).toMatchObject({ type: "message", channel: dm.channel, channel_type: "im" });
  });
});

describe("control API over HTTP", () => {
  it("the lifecycle routes act and answer what the control methods return", async () => {
    const created = await control("POST", "channels", { user: "alice", name: "ops", private: true });
    expect(created).toMatchObject({ status: 200, body: { ok: true, channel: expect.stringMatching(/^C/) } });
    const channel = created.body.channel as string;
    for (const [method, path, body] of [
      ["POST", "channels/members", { user: "alice", channel, users: ["bob", "@bot"] }],
      ["PUT", "channels/name", { user: "alice", channel, name: "ops-2" }],
      ["PUT", "channels/topic", { user: "alice", channel, topic: "" }],
      ["PUT", "channels/purpose", { user: "alice", channel, purpose: "Run things" }],
      ["POST", "channels/archive", { user: "alice", channel }],
      ["POST", "channels/unarchive", { user: "alice", channel }],
      ["DELETE", "channels/members", { user: "alice", channel, target: "bob" }],
      ["DELETE", "channels/members", { user: "alice", channel }],
      [
        "PATCH",
        "users/profile",
        { user: "bob", real_name: "Robert", avatar: Buffer.from(generatePng()).toString("base64") },
      ],
      ["POST", "users/deactivate", { user: "bob" }],
    ] as const)
      expect(await control(method, path, body), `${method} ${path}`).toMatchObject({
        status: 200,
        body: { ok: true },
      });
    expect(fake.workspace.channels.find((c) => c.id === channel)).toMatchObject({
      name: "ops-2",
      kind: "private",
      archived: false,
      members: [fake.workspace.apps[0]?.botUserId],
    });
    expect(fake.workspace.users.find((u) => u.name === "bob")).toMatchObject({
      realName: "Robert",
      deleted: true,
    });
    const dm = await control("POST", "conversations", { user: "alice", with: ["@bot", "carol"] });
    expect(dm.body).toMatchObject({ ok: true, channel: expect.stringMatching(/^C/), created: true });
  });

  it("bad input gets 400 with what to send", async () => {
    expect(await control("POST", "channels", { user: "alice" })).toEqual({
      status: 400,
      body: { ok: false, error: '"name" is required (a non-empty string)' },
    });
    expect(await control("POST", "channels", { user: "alice", name: "x", private: "yes" })).toMatchObject({
      status: 400,
      body: { error: '"private" must be true or false' },
    });
    expect(await control("POST", "conversations", { user: "alice", with: [] })).toMatchObject({
      status: 400,
      body: { error: '"with" is required (a non-empty list of user names or IDs)' },
    });
    expect(await control("PUT", "channels/topic", { user: "alice", channel: "dev-platform" })).toMatchObject({
      status: 400,
      body: { error: '"topic" is required (a string, "" clears it)' },
    });
    expect(await control("POST", "channels", { user: "alice", name: "Not Valid" })).toMatchObject({
      status: 400,
      body: { error: "fake Slack control.createChannel: invalid_name_specials" },
    });
  });
});
