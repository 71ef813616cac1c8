// Conversation management the bridge may call (topics, renames, invites, DMs from Matrix) and
// request-format edge cases, with @slack/web-api against the msw handlers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METHODS } from "../../fakes/slack/web-api/methods.ts";
import { botClient, makeCore, startMsw } from "./web-api-helpers.ts";

const { core, published, logs } = makeCore({
  users: [{ name: "alice", email: "alice@chochacho.example" }, "bob", "carol"],
  channels: [
    { name: "dev-platform", members: ["alice", "@bot"] },
    { name: "secret", private: true, members: ["alice", "@bot"] },
  ],
});
const ws = core.workspace;
const app = ws.apps[0] as (typeof ws.apps)[number];
let server: ReturnType<typeof startMsw>;
let web: ReturnType<typeof botClient>;
beforeAll(() => {
  server = startMsw(core);
  web = botClient(core);
});
afterAll(() => server.close());
const since = (n: number) => published.slice(n).map((p) => p.event);

describe("conversation management", () => {
  it("setTopic updates the channel and emits a channel_topic message", async () => {
    const n = published.length;
    const r = await web.conversations.setTopic({
      channel: ws.resolveChannel("dev-platform"),
      topic: "New topic",
    });
    expect((r.channel as any).topic.value).toBe("New topic");
    expect(since(n)[0]).toMatchObject({
      type: "message",
      subtype: "channel_topic",
      topic: "New topic",
      user: app.botUserId,
    });
    expect(since(n)[0]?.blocks).toBeUndefined();
  });

  it("rename: private channels with groups:write; public needs channels:manage", async () => {
    const n = published.length;
    const secret = ws.resolveChannel("secret");
    const r = await web.conversations.rename({ channel: secret, name: "hush" });
    expect(r.channel?.name).toBe("hush");
    expect(since(n).map((e) => `${e.type}${e.subtype ? `/${e.subtype}` : ""}`)).toEqual([
      "group_rename",
      "message/channel_name",
    ]);
    expect(since(n)[1]).toMatchObject({ name: "hush", old_name: "secret" });
    await expect(
      web.conversations.rename({ channel: ws.resolveChannel("dev-platform"), name: "x" }),
    ).rejects.toMatchObject({
      data: { error: "missing_scope", needed: "channels:manage" },
    });
  });

  it("invite adds members with member_joined_channel carrying the inviter", async () => {
    const n = published.length;
    const bob = ws.resolveUser("bob");
    await web.conversations.invite({ channel: ws.resolveChannel("dev-platform"), users: bob });
    expect(since(n)[0]).toMatchObject({
      type: "member_joined_channel",
      user: bob,
      inviter: app.botUserId,
      channel_type: "C",
    });
    expect(since(n)[1]).toMatchObject({ subtype: "channel_join", user: bob, inviter: app.botUserId });
    await expect(
      web.conversations.invite({ channel: ws.resolveChannel("dev-platform"), users: bob }),
    ).rejects.toMatchObject({
      data: { error: "already_in_channel" },
    });
  });

  it("create (private) then invite, as startchat.go does for group chats", async () => {
    const r = await web.conversations.create({ name: "new-group", is_private: true });
    expect(r.channel).toMatchObject({ name: "new-group", is_private: true, is_member: true });
    await web.conversations.invite({
      channel: r.channel?.id as string,
      users: `${ws.resolveUser("alice")},${ws.resolveUser("carol")}`,
    });
    expect(ws.channels.find((c) => c.id === r.channel?.id)?.members).toHaveLength(3);
    await expect(web.conversations.create({ name: "new-group", is_private: true })).rejects.toMatchObject({
      data: { error: "name_taken" },
    });
  });

  it("open returns the IM (return_im) or an MPIM, reusing existing ones", async () => {
    const alice = ws.resolveUser("alice");
    const a = await web.conversations.open({ users: alice, return_im: true });
    expect(a.channel).toMatchObject({ is_im: true, user: alice });
    expect(a.channel?.id).toMatch(/^D/);
    const again = await web.conversations.open({ users: alice, return_im: true });
    expect(again.channel?.id).toBe(a.channel?.id);
    const group = await web.conversations.open({ users: `${alice},${ws.resolveUser("bob")}` });
    expect(group.channel).toMatchObject({ is_mpim: true });
  });

  it("users.lookupByEmail", async () => {
    const r = await web.users.lookupByEmail({ email: "alice@chochacho.example" });
    expect(r.user?.name).toBe("alice");
    await expect(web.users.lookupByEmail({ email: "nobody@x.example" })).rejects.toMatchObject({
      data: { error: "users_not_found" },
    });
  });
});

describe("listing", () => {
  it("Node's paginate() walks users.list and conversations.list to the empty cursor", async () => {
    const names: string[] = [];
    for await (const page of web.paginate("users.list", { limit: 2 }))
      names.push(
        ...(((page as unknown as Record<string, unknown>).members as { name: string }[]) ?? []).map(
          (m) => m.name,
        ),
      );
    expect(names.sort()).toEqual(["alice", "bob", "carol", "mautrix-slack"]);
    const chans: string[] = [];
    for await (const page of web.paginate("conversations.list", {
      limit: 1,
      types: "public_channel,private_channel",
    }))
      chans.push(
        ...(((page as unknown as Record<string, unknown>).channels as { name: string }[]) ?? []).map(
          (c) => c.name,
        ),
      );
    expect(chans).toContain("dev-platform");
  });

  it("usergroups.list is granted by the current manifest's usergroups:read (no groups seeded here)", async () => {
    expect(await web.usergroups.list()).toMatchObject({ ok: true, usergroups: [] });
  });
});

describe("request formats", () => {
  it("a form with a charset gets the superfluous_charset warning in both places", async () => {
    const r = await fetch("https://slack.com/api/auth.test", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: `token=${app.botToken}`,
    });
    expect(await r.json()).toMatchObject({
      ok: true,
      warning: "superfluous_charset",
      response_metadata: { warnings: ["superfluous_charset"] },
    });
  });

  it("multipart forms carry parameters", async () => {
    const form = new FormData();
    form.append("token", app.botToken);
    form.append("user", ws.resolveUser("alice"));
    const r = await fetch("https://slack.com/api/users.info", { method: "POST", body: form });
    expect(((await r.json()) as any).user.name).toBe("alice");
  });

  it("a malformed JSON body is invalid_json, a JSON non-object json_not_object; any origin is served", async () => {
    const post = (body: string) =>
      fetch("http://127.0.0.1:3999/api/chat.postMessage", {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          authorization: `Bearer ${app.botToken}`,
        },
        body,
      });
    const r = await post("{nope");
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: false, error: "invalid_json" });
    expect(await (await post('["channel"]')).json()).toMatchObject({ ok: false, error: "json_not_object" });
    expect(await (await post("42")).json()).toMatchObject({ ok: false, error: "json_not_object" });
  });

  it("plain-HTTP clients get upload URLs on their own origin", async () => {
    const r = await fetch("http://127.0.0.1:3999/api/files.getUploadURLExternal", {
      method: "POST",
      headers: {
        authorization: `Bearer ${app.botToken}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "filename=a.txt&length=3",
    });
    expect(((await r.json()) as any).upload_url).toMatch(/^http:\/\/127\.0\.0\.1:3999\/upload\/v1\//);
  });

  it("an exception in a handler is internal_error with HTTP 200 and a logged, redacted line", async () => {
    const spec = METHODS["api.test"];
    if (!spec) throw new Error("api.test missing");
    const original = spec.run;
    spec.run = () => {
      throw new Error(`boom ${app.botToken}`);
    };
    try {
      const r = await fetch("https://slack.com/api/api.test", {
        method: "POST",
        headers: { authorization: `Bearer ${app.botToken}` },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get("x-slack-failure")).toBe("internal_error");
      expect(await r.json()).toEqual({ ok: false, error: "internal_error" });
    } finally {
      spec.run = original;
    }
    const line = logs.find((l) => l.includes("api.test failed"));
    expect(line).toContain("boom");
    expect(line).not.toContain(app.botToken);
  });
});
