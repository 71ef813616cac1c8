// Conversation lifecycle methods the bridge may call (Matrix -> Slack): create, open, setPurpose,
// archive/unarchive, kick, leave, with Slack's own Node SDK (@slack/web-api) against the msw
// handlers, and the events each publishes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botClient, makeCore, startMsw } from "./web-api-helpers.ts";

const MANAGER_SCOPES = ["channels:manage", "channels:read", "groups:read", "groups:write", "chat:write"];
const { core, published } = makeCore({
  users: ["alice", "bob", "carol"],
  apps: [{ name: "mautrix-slack" }, { name: "manager", scopes: MANAGER_SCOPES }],
  channels: [
    { name: "general", general: true, members: ["alice", "bob", "@bot", "@manager"] },
    { name: "dev-platform", members: ["alice", "bob", "@bot"] },
    { name: "ops", private: true, members: ["alice", "bob", "@bot"] },
  ],
});
const ws = core.workspace;
const [bridge, manager] = ws.apps as [(typeof ws.apps)[number], (typeof ws.apps)[number]];
const alice = ws.resolveUser("alice");
const bob = ws.resolveUser("bob");
const ops = ws.resolveChannel("ops");
let server: ReturnType<typeof startMsw>;
let web: ReturnType<typeof botClient>;
let admin: ReturnType<typeof botClient>;
beforeAll(() => {
  server = startMsw(core);
  web = botClient(core);
  admin = botClient(core, manager.botToken);
});
afterAll(() => server.close());

/** Events published since `n`, as "type" or "type/subtype", with the app they went to. */
const since = (n: number) =>
  published.slice(n).map((p) => ({
    app: p.appId,
    kind: `${p.event.type}${p.event.subtype ? `/${p.event.subtype}` : ""}`,
    event: p.event as Record<string, any>,
  }));
const kinds = (n: number, app = bridge.appId) =>
  since(n)
    .filter((e) => e.app === app)
    .map((e) => e.kind);
const slackError = (error: string, extra: Record<string, unknown> = {}) => ({
  data: { ok: false, error, ...extra },
});

describe("conversations.create", () => {
  it("a public channel needs channels:manage, which the bridge's manifest lacks", async () => {
    await expect(web.conversations.create({ name: "lobby" })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "channels:manage" }),
    );
  });

  it("announces a public channel to every app with channel_created, members or not", async () => {
    const n = published.length;
    const r = await admin.conversations.create({ name: "lobby" });
    expect(r.channel).toMatchObject({ name: "lobby", is_channel: true, is_private: false, is_member: true });
    const created = since(n).filter((e) => e.kind === "channel_created");
    expect(created.map((e) => e.app).sort()).toEqual([bridge.appId, manager.appId].sort());
    expect(created[0]?.event.channel).toMatchObject({
      id: r.channel?.id,
      name: "lobby",
      name_normalized: "lobby",
      is_channel: true,
      creator: manager.botUserId,
      context_team_id: ws.teamId,
    });
    expect(typeof created[0]?.event.channel.created).toBe("number");
    await expect(admin.conversations.create({ name: "lobby" })).rejects.toMatchObject(
      slackError("name_taken"),
    );
    await expect(admin.conversations.create({ name: "Big Room" })).rejects.toMatchObject(
      slackError("invalid_name_specials"),
    );
  });

  it("announces a private channel to nobody", async () => {
    const n = published.length;
    const r = await web.conversations.create({ name: "quiet-room", is_private: true });
    expect(r.channel).toMatchObject({ is_private: true, is_member: true });
    expect(since(n)).toEqual([]);
  });
});

describe("conversations.setPurpose", () => {
  it("sets the purpose and posts the channel_purpose message", async () => {
    const n = published.length;
    const r = await web.conversations.setPurpose({ channel: ops, purpose: "Keep the lights on" });
    expect((r.channel as any).purpose.value).toBe("Keep the lights on");
    expect(since(n).map((e) => e.event)).toEqual([
      expect.objectContaining({
        type: "message",
        subtype: "channel_purpose",
        purpose: "Keep the lights on",
        text: "set the channel purpose: Keep the lights on",
        channel: ops,
        channel_type: "group",
      }),
    ]);
  });
});

describe("conversations.archive and unarchive", () => {
  it("archive: group_archive and the channel_archive message; posting is refused until unarchived", async () => {
    let n = published.length;
    await web.conversations.archive({ channel: ops });
    expect(kinds(n)).toEqual(["group_archive", "message/channel_archive"]);
    expect(since(n)[0]?.event).toMatchObject({ channel: ops, user: bridge.botUserId, is_moved: 0 });
    expect(since(n)[1]?.event.text).toBe(`<@${bridge.botUserId}> archived the channel`);
    expect((await web.conversations.info({ channel: ops })).channel?.is_archived).toBe(true);
    await expect(web.chat.postMessage({ channel: ops, text: "hello?" })).rejects.toMatchObject(
      slackError("is_archived"),
    );
    await expect(web.conversations.archive({ channel: ops })).rejects.toMatchObject(
      slackError("already_archived"),
    );
    n = published.length;
    await web.conversations.unarchive({ channel: ops });
    expect(kinds(n)).toEqual(["group_unarchive", "message/channel_unarchive"]);
    // Slack's group_unarchive names the actor as actor_id.
    expect(since(n)[0]?.event).toMatchObject({ channel: ops, actor_id: bridge.botUserId });
    await expect(web.conversations.unarchive({ channel: ops })).rejects.toMatchObject(
      slackError("not_archived"),
    );
  });

  it("public channels need channels:manage; #general cannot be archived", async () => {
    await expect(
      web.conversations.archive({ channel: ws.resolveChannel("dev-platform") }),
    ).rejects.toMatchObject(slackError("missing_scope", { needed: "channels:manage" }));
    await expect(
      admin.conversations.archive({ channel: ws.resolveChannel("general") }),
    ).rejects.toMatchObject(slackError("cant_archive_general"));
  });
});

describe("conversations.kick and leave", () => {
  it("kick: member_left_channel to the remaining members' apps, and no channel_leave message", async () => {
    const n = published.length;
    await web.conversations.kick({ channel: ops, user: bob });
    expect(since(n).map((e) => e.event)).toEqual([
      {
        type: "member_left_channel",
        user: bob,
        channel: ops,
        channel_type: "G",
        team: ws.teamId,
        event_ts: expect.stringMatching(/^\d+\.\d{6}$/),
      },
    ]);
    await expect(web.conversations.kick({ channel: ops, user: bob })).rejects.toMatchObject(
      slackError("not_in_channel"),
    );
    await expect(web.conversations.kick({ channel: ops, user: bridge.botUserId })).rejects.toMatchObject(
      slackError("cant_kick_self"),
    );
    await expect(web.conversations.kick({ channel: ops, user: "U0NOBODY00" })).rejects.toMatchObject(
      slackError("user_not_found"),
    );
    await expect(
      web.conversations.kick({ channel: ws.resolveChannel("dev-platform"), user: bob }),
    ).rejects.toMatchObject(slackError("missing_scope", { needed: "channels:manage" }));
  });

  it("leave: the leaving app gets group_left naming itself; a second leave is ok with not_in_channel", async () => {
    const n = published.length;
    const r = await web.conversations.leave({ channel: ops });
    expect(r.ok).toBe(true);
    const mine = since(n).filter((e) => e.app === bridge.appId);
    expect(mine.map((e) => e.event)).toEqual([
      { type: "group_left", channel: ops, actor_id: bridge.botUserId, event_ts: expect.any(String) },
    ]);
    await expect(web.conversations.leave({ channel: ops })).rejects.toMatchObject(
      slackError("channel_not_found"),
    );
    const again = await admin.conversations.leave({ channel: ws.resolveChannel("lobby") });
    expect(again.ok).toBe(true);
    const still = await admin.conversations.leave({ channel: ws.resolveChannel("lobby") });
    expect(still).toMatchObject({ ok: true, not_in_channel: true });
    await expect(admin.conversations.leave({ channel: ws.resolveChannel("general") })).rejects.toMatchObject(
      slackError("cant_leave_general"),
    );
  });
});

describe("conversations.open", () => {
  it("a new IM is announced with im_created; opening it again is a no-op", async () => {
    const n = published.length;
    const r = await web.conversations.open({ users: bob, return_im: true });
    expect(r).not.toHaveProperty("no_op");
    expect(r.channel).toMatchObject({ is_im: true, user: bob });
    expect(since(n).map((e) => e.event)).toEqual([
      {
        type: "im_created",
        user: bridge.botUserId,
        channel: expect.objectContaining({ id: r.channel?.id, is_im: true, user: bob }),
        event_ts: expect.any(String),
      },
    ]);
    const again = await web.conversations.open({ users: bob, return_im: true });
    expect(again).toMatchObject({ no_op: true, already_open: true, channel: { id: r.channel?.id } });
    const group = await web.conversations.open({ users: `${alice},${bob}` });
    expect(group.channel).toMatchObject({ is_mpim: true, is_private: true });
    await expect(web.conversations.open({ users: "" })).rejects.toMatchObject(
      slackError("users_list_not_supplied"),
    );
  });
});
