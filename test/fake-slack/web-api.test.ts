// Contract tests: Slack's own Node SDK (@slack/web-api 8.2.0) against the fake's msw handlers,
// for every method mautrix-slack calls, with the params it sends and the fields it reads.
import { ErrorCode, WebClient } from "@slack/web-api";
import { getResponse } from "msw";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botClient, makeCore, startMsw } from "./web-api-helpers.ts";

const seed = {
  team: { name: "chochacho", domain: "chochacho" },
  apps: [
    { name: "mautrix-slack" },
    { name: "other-app", scopes: ["chat:write", "channels:join", "channels:read"] },
  ],
  users: [{ name: "alice", real_name: "Alice Example", display_name: "alice" }, { name: "bob" }, "carol"],
  channels: [
    { name: "dev-platform", members: ["alice", "bob", "@bot"], topic: "Platform" },
    { name: "secret", private: true, members: ["alice", "@bot"] },
    { name: "quiet", members: ["alice", "@other-app"] },
    { name: "empty", members: ["@bot"] },
  ],
  dms: [{ name: "alice-dm", members: ["alice", "@bot"] }, { members: ["alice", "bob", "@bot"] }],
  emoji: { partyparrot: "https://emoji.example/partyparrot.gif", parrot: "alias:partyparrot" },
  messages: [
    { channel: "dev-platform", user: "alice", text: "first", id: "root" },
    { channel: "dev-platform", user: "bob", text: "reply one", thread: "root" },
    { channel: "dev-platform", user: "alice", text: "second", reactions: [{ name: "tada", users: ["bob"] }] },
    { channel: "alice-dm", user: "alice", text: "hi bot" },
  ],
};

const { core, published, logs } = makeCore(seed);
const ws = core.workspace;
const app = ws.apps[0] as (typeof ws.apps)[number];
const other = ws.apps[1] as (typeof ws.apps)[number];
const dev = ws.resolveChannel("dev-platform");
const secret = ws.resolveChannel("secret");
const alice = ws.resolveUser("alice");
const bob = ws.resolveUser("bob");
let server: ReturnType<typeof startMsw>;
let web: WebClient;

beforeAll(() => {
  server = startMsw(core);
  web = botClient(core);
});
afterAll(() => server.close());

const richText = (text: string) => [
  { type: "rich_text", elements: [{ type: "rich_text_section", elements: [{ type: "text", text }] }] },
];

/** The form POST slack-go sends: token as a form field, no Authorization header. */
async function goStyle(method: string, params: Record<string, string>, token = app.botToken) {
  const res = await fetch(`https://slack.com/api/${method}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, ...params }),
  });
  return { res, body: (await res.json()) as Record<string, any> };
}

function eventsSince(n: number) {
  return published.slice(n);
}

describe("login and first sync (bot path)", () => {
  it("auth.test names team, bot user and bot id", async () => {
    const r = await goStyle("auth.test", {});
    expect(r.res.status).toBe(200);
    expect(r.res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(r.body).toMatchObject({
      ok: true,
      team: "chochacho",
      team_id: ws.teamId,
      user_id: app.botUserId,
      bot_id: app.botId,
      url: "https://chochacho.slack.com/",
    });
    expect(r.body.user).toBe("mautrix-slack");
  });

  it("team.info has a default icon so the bridge downloads nothing", async () => {
    const r = await web.team.info();
    expect(r.team).toMatchObject({ id: ws.teamId, name: "chochacho", domain: "chochacho" });
    expect(r.team?.icon).toMatchObject({ image_default: true });
  });

  it("users.info for self (bot) and a person, without image URLs", async () => {
    const self = await goStyle("users.info", { user: app.botUserId, include_locale: "true" });
    expect(self.body.user).toMatchObject({ id: app.botUserId, is_bot: true, locale: "en-US" });
    expect(self.body.user.profile).toMatchObject({ bot_id: app.botId, api_app_id: app.appId });
    expect(typeof self.body.user.updated).toBe("number");
    const a = await web.users.info({ user: alice });
    expect(a.user).toMatchObject({ id: alice, name: "alice", real_name: "Alice Example", is_bot: false });
    expect(a.user?.profile?.display_name).toBe("alice");
    expect(
      Object.keys(a.user?.profile ?? {}).filter((k) => k.startsWith("image_") || k === "avatar_hash"),
    ).toEqual([]);
    await expect(web.users.info({ user: "U0NOBODY00" })).rejects.toMatchObject({
      data: { error: "user_not_found" },
    });
  });

  it("bots.info", async () => {
    const r = await web.bots.info({ bot: app.botId });
    expect(r.bot).toMatchObject({ id: app.botId, app_id: app.appId, user_id: app.botUserId, deleted: false });
    await expect(web.bots.info({ bot: "B0NONE0000" })).rejects.toMatchObject({
      data: { error: "bot_not_found" },
    });
  });

  it("emoji.list", async () => {
    const r = await web.emoji.list();
    expect(r.emoji).toEqual({
      partyparrot: "https://emoji.example/partyparrot.gif",
      parrot: "alias:partyparrot",
    });
  });

  it("users.conversations pages with next_cursor and ends with an empty one", async () => {
    const types = "public_channel,private_channel,mpim,im";
    const seen: string[] = [];
    let cursor = "";
    let pages = 0;
    do {
      const r = await goStyle("users.conversations", { types, limit: "2", ...(cursor ? { cursor } : {}) });
      expect(r.body.ok).toBe(true);
      seen.push(...r.body.channels.map((c: { id: string }) => c.id));
      cursor = r.body.response_metadata.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // dev-platform, secret, empty, the IM and the MPIM; not #quiet (bot not a member).
    expect(seen).toHaveLength(5);
    expect(seen).not.toContain(ws.resolveChannel("quiet"));
    const only = await web.users.conversations({ types: "im" });
    expect(only.channels?.map((c) => c.is_im)).toEqual([true]);
    expect(only.channels?.[0]?.user).toBe(alice);
    expect(only.channels?.[0]?.id).toMatch(/^D[A-Z0-9]+$/);
  });

  it("conversations.info: is_member, latest, integer created (s) and updated (ms)", async () => {
    const r = await goStyle("conversations.info", {
      channel: dev,
      include_locale: "true",
      include_num_members: "true",
    });
    const ch = r.body.channel;
    expect(ch).toMatchObject({
      id: dev,
      name: "dev-platform",
      is_channel: true,
      is_private: false,
      is_im: false,
      is_mpim: false,
      is_member: true,
      num_members: 3,
    });
    expect(ch.topic.value).toBe("Platform");
    expect(Number.isInteger(ch.created) && ch.created < 1e11).toBe(true);
    expect(Number.isInteger(ch.updated) && ch.updated > 1e12).toBe(true);
    expect(ch.latest.text).toBe("second");
    const empty = await web.conversations.info({ channel: ws.resolveChannel("empty") });
    expect((empty.channel as Record<string, unknown>).latest).toBeUndefined();
    const priv = await web.conversations.info({ channel: secret });
    expect(priv.channel).toMatchObject({ is_private: true, is_member: true });
    await expect(web.conversations.info({ channel: "C0NOPE0000" })).rejects.toMatchObject({
      data: { error: "channel_not_found" },
    });
    const quiet = await web.conversations.info({ channel: ws.resolveChannel("quiet") });
    expect(quiet.channel?.is_member).toBe(false);
  });

  it("conversations.info for an IM has latest and the other user", async () => {
    const im = ws.channels.find((c) => c.name === "alice-dm");
    const r = await web.conversations.info({ channel: im?.id as string });
    expect(r.channel).toMatchObject({ is_im: true, user: alice });
    expect((r.channel as Record<string, any>).latest.text).toBe("hi bot");
  });

  it("conversations.members pages", async () => {
    const p1 = await web.conversations.members({ channel: dev, limit: 2 });
    expect(p1.members).toHaveLength(2);
    const p2 = await web.conversations.members({
      channel: dev,
      limit: 2,
      cursor: p1.response_metadata?.next_cursor,
    });
    expect(p2.members).toEqual([app.botUserId]);
    expect(p2.response_metadata?.next_cursor).toBe("");
  });

  it("apps.connections.open: Bearer xapp only", async () => {
    const open = (headers: Record<string, string>, body = "") =>
      fetch("https://slack.com/api/apps.connections.open", { method: "POST", headers, body }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }),
      );
    const ok = await open({ "content-type": "application/json", authorization: `Bearer ${app.appToken}` });
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    expect(ok.body.url).toMatch(/^wss:\/\/wss-primary\.slack\.com\/link\/\?ticket=/);
    expect(ok.body.warning).toBe("missing_charset");
    expect((await open({ authorization: `Bearer ${app.botToken}` })).body.error).toBe(
      "not_allowed_token_type",
    );
    expect(
      (await open({ "content-type": "application/x-www-form-urlencoded" }, `token=${app.appToken}`)).body
        .error,
    ).toBe("not_authed");
    expect((await open({ authorization: "Bearer xapp-1-A0NOPE-1-abc" })).body.error).toBe("invalid_auth");
    expect((await open({})).body.error).toBe("not_authed");
  });
});

describe("Matrix -> Slack", () => {
  it("chat.postMessage with blocks and no text: stored, answered with ts, echoed to the app", async () => {
    const n = published.length;
    const r = await goStyle("chat.postMessage", {
      channel: dev,
      blocks: JSON.stringify(richText("hello from matrix")),
      unfurl_links: "false",
      unfurl_media: "false",
    });
    expect(r.body.ok).toBe(true);
    expect(r.body.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(r.body.message).toMatchObject({
      user: app.botUserId,
      bot_id: app.botId,
      app_id: app.appId,
      text: "hello from matrix",
      type: "message",
    });
    const events = eventsSince(n);
    expect(events).toHaveLength(1);
    expect(events[0]?.appId).toBe(app.appId);
    expect(events[0]?.event).toMatchObject({
      type: "message",
      channel: dev,
      ts: r.body.ts,
      event_ts: r.body.ts,
      channel_type: "channel",
      user: app.botUserId,
      bot_id: app.botId,
      app_id: app.appId,
      team: ws.teamId,
    });
    expect(events[0]?.event.bot_profile).toMatchObject({ id: app.botId });
    expect(core.control.history(dev).at(-1)).toMatchObject({
      ts: r.body.ts,
      text: "hello from matrix",
      botId: app.botId,
    });
  });

  it("thread replies update the root", async () => {
    const root = (await web.chat.postMessage({ channel: dev, text: "root" })).ts as string;
    const n = published.length;
    const reply = await web.chat.postMessage({ channel: dev, text: "in thread", thread_ts: root });
    expect(eventsSince(n)[0]?.event).toMatchObject({ thread_ts: root, parent_user_id: app.botUserId });
    const replies = await web.conversations.replies({ channel: dev, ts: root });
    expect(replies.messages?.map((m) => m.ts)).toEqual([root, reply.ts]);
    expect(replies.messages?.[0]).toMatchObject({
      reply_count: 1,
      latest_reply: reply.ts,
      reply_users: [app.botUserId],
      thread_ts: root,
    });
  });

  it("reply_broadcast posts a thread_broadcast with the root", async () => {
    const root = (await web.chat.postMessage({ channel: dev, text: "broadcast root" })).ts as string;
    const n = published.length;
    await web.chat.postMessage({
      channel: dev,
      text: "also in channel",
      thread_ts: root,
      reply_broadcast: true,
    });
    expect(eventsSince(n)[0]?.event).toMatchObject({
      subtype: "thread_broadcast",
      thread_ts: root,
      root: { ts: root, text: "broadcast root" },
    });
    const hist = await web.conversations.history({ channel: dev, limit: 1 });
    expect(hist.messages?.[0]?.text).toBe("also in channel");
  });

  it("post errors: no_text, invalid_blocks, not_in_channel, channel_not_found", async () => {
    expect((await goStyle("chat.postMessage", { channel: dev })).body.error).toBe("no_text");
    expect((await goStyle("chat.postMessage", { channel: dev, blocks: "{nope" })).body.error).toBe(
      "invalid_blocks",
    );
    expect((await goStyle("chat.postMessage", { channel: dev, blocks: '[{"x":1}]' })).body.error).toBe(
      "invalid_blocks",
    );
    expect(
      (await goStyle("chat.postMessage", { channel: ws.resolveChannel("quiet"), text: "x" })).body.error,
    ).toBe("not_in_channel");
    const missing = await goStyle("chat.postMessage", { channel: "C0NOPE0000", text: "x" });
    expect(missing.body.error).toBe("channel_not_found");
    expect(missing.res.headers.get("x-slack-failure")).toBe("channel_not_found");
  });

  it("chat.meMessage", async () => {
    const r = await goStyle("chat.meMessage", { channel: dev, text: "waves" });
    expect(r.body).toMatchObject({ ok: true, channel: dev });
    expect(core.control.history(dev).at(-1)?.text).toBe("waves");
  });

  it("chat.update emits message_changed with top-level ts == event_ts and the original in message.ts", async () => {
    const { ts } = await web.chat.postMessage({ channel: dev, text: "v1" });
    const n = published.length;
    const r = await goStyle("chat.update", {
      channel: dev,
      ts: ts as string,
      blocks: JSON.stringify(richText("v2")),
    });
    expect(r.body).toMatchObject({ ok: true, channel: dev, ts, text: "v2" });
    const e = eventsSince(n)[0]?.event as Record<string, any>;
    expect(e).toMatchObject({ type: "message", subtype: "message_changed", hidden: true, channel: dev });
    expect(e.ts).toBe(e.event_ts);
    expect(e.ts > (ts as string)).toBe(true);
    expect(e.message).toMatchObject({ ts, text: "v2", bot_id: app.botId });
    expect(e.message.edited.ts).toMatch(/^\d{10}\.000000$/);
    expect(e.previous_message.text).toBe("v1");
    const alices = core.control.history(dev).find((m) => m.user === alice) as { ts: string };
    expect((await goStyle("chat.update", { channel: dev, ts: alices.ts, text: "x" })).body.error).toBe(
      "cant_update_message",
    );
    expect((await goStyle("chat.update", { channel: dev, ts: "1.000000", text: "x" })).body.error).toBe(
      "message_not_found",
    );
  });

  it("chat.delete emits message_deleted", async () => {
    const { ts } = await web.chat.postMessage({ channel: dev, text: "doomed" });
    const n = published.length;
    const r = await goStyle("chat.delete", { channel: dev, ts: ts as string });
    expect(r.body).toMatchObject({ ok: true, channel: dev, ts });
    const e = eventsSince(n)[0]?.event as Record<string, any>;
    expect(e).toMatchObject({ subtype: "message_deleted", deleted_ts: ts, channel: dev, hidden: true });
    expect(e.ts).toBe(e.event_ts);
    expect(core.control.history(dev).find((m) => m.ts === ts)?.deleted).toBe(true);
    expect((await goStyle("chat.delete", { channel: dev, ts: ts as string })).body.error).toBe(
      "message_not_found",
    );
    const alices = core.control.history(dev).find((m) => m.user === alice) as { ts: string };
    expect((await goStyle("chat.delete", { channel: dev, ts: alices.ts })).body.error).toBe(
      "cant_delete_message",
    );
  });

  it("reactions.add/remove count, emit and refuse duplicates", async () => {
    const target = core.control.history(dev).find((m) => m.user === alice && !m.deleted) as { ts: string };
    const n = published.length;
    expect(
      (await goStyle("reactions.add", { channel: dev, timestamp: target.ts, name: "thumbsup" })).body.ok,
    ).toBe(true);
    expect(
      (await goStyle("reactions.add", { channel: dev, timestamp: target.ts, name: "thumbsup" })).body.error,
    ).toBe("already_reacted");
    expect(eventsSince(n)[0]?.event).toMatchObject({
      type: "reaction_added",
      user: app.botUserId,
      reaction: "thumbsup",
      item_user: alice,
      item: { type: "message", channel: dev, ts: target.ts },
    });
    const got = await web.reactions.get({ channel: dev, timestamp: target.ts });
    expect(got.message?.reactions).toContainEqual({ name: "thumbsup", users: [app.botUserId], count: 1 });
    expect(
      (await goStyle("reactions.remove", { channel: dev, timestamp: target.ts, name: "thumbsup" })).body.ok,
    ).toBe(true);
    expect(eventsSince(n).at(-1)?.event.type).toBe("reaction_removed");
    expect(
      (await goStyle("reactions.remove", { channel: dev, timestamp: target.ts, name: "thumbsup" })).body
        .error,
    ).toBe("no_reaction");
  });

  it("3-step upload (Node SDK uploadV2), share ts, file_share + file_shared + file_created, download", async () => {
    const data = Buffer.alloc(10 * 1024 * 1024, 7);
    const n = published.length;
    const r = (await web.files.uploadV2({
      channel_id: dev,
      file: data,
      filename: "big.png",
      initial_comment: "a picture",
    })) as any;
    expect(r.ok).toBe(true);
    const file = r.files[0].files[0];
    expect(file.id).toMatch(/^F[A-Z0-9]+$/);
    expect(file.size).toBe(data.length);
    expect(file.mimetype).toBe("image/png");
    const shareTs = file.shares.public[dev][0].ts;
    expect(shareTs).toMatch(/^\d{10}\.\d{6}$/);
    const types = eventsSince(n).map((e) => `${e.event.type}${e.event.subtype ? `/${e.event.subtype}` : ""}`);
    expect(types).toEqual(["file_created", "message/file_share", "file_shared"]);
    const msg = eventsSince(n)[1]?.event as Record<string, any>;
    expect(msg).toMatchObject({ ts: shareTs, text: "a picture", upload: true, user: app.botUserId });
    expect(msg.files[0].url_private_download).toBe(
      `https://files.slack.com/files-pri/${ws.teamId}-${file.id}/download/big.png`,
    );
    const dl = await fetch(msg.files[0].url_private_download, {
      headers: { authorization: `Bearer ${app.botToken}` },
    });
    expect(dl.status).toBe(200);
    expect(Buffer.from(await dl.arrayBuffer()).equals(data)).toBe(true);
    const denied = await fetch(msg.files[0].url_private_download);
    expect(denied.status).toBe(200);
    expect((await denied.text()).startsWith("<!DOCTYPE html>")).toBe(true);
    const info = await web.files.info({ file: file.id });
    expect(info.file?.id).toBe(file.id);
    const upload = core.control.calls().find((c) => c.method === "files.upload");
    expect(upload?.params).toMatchObject({ file_id: file.id, size: String(data.length) });
  });

  it("slack-go's upload: multipart part `file` with Bearer, answered 200 `OK - <len>`", async () => {
    const u = await goStyle("files.getUploadURLExternal", { filename: "note.txt", length: "5" });
    expect(u.body.upload_url).toMatch(/^https:\/\/files\.slack\.com\/upload\/v1\//);
    const form = new FormData();
    form.append("file", new Blob(["hello"]), "note.txt");
    const up = await fetch(u.body.upload_url, {
      method: "POST",
      body: form,
      headers: { authorization: `Bearer ${app.botToken}` },
    });
    expect(up.status).toBe(200);
    expect(await up.text()).toBe("OK - 5");
    const done = await goStyle("files.completeUploadExternal", {
      files: JSON.stringify([{ id: u.body.file_id, title: "" }]),
      channel_id: secret,
    });
    expect(done.body.files).toHaveLength(1);
    expect(done.body.files[0].shares.private[secret][0].ts).toMatch(/^\d{10}\.\d{6}$/);
    expect((await goStyle("files.getUploadURLExternal", { filename: "x" })).body.error).toBe(
      "invalid_arguments",
    );
    expect(
      (await goStyle("files.completeUploadExternal", { files: '[{"id":"F0NOPE0000"}]' })).body.error,
    ).toBe("file_not_found");
  });

  it("conversations.join: missing_scope with the bridge's scopes; joins and warns with channels:join", async () => {
    const quiet = ws.resolveChannel("quiet");
    const r = await goStyle("conversations.join", { channel: dev });
    expect(r.body).toMatchObject({ ok: false, error: "missing_scope", needed: "channels:join" });
    expect(r.body.provided).toContain("chat:write");
    const n = published.length;
    const j = await goStyle("conversations.join", { channel: dev }, other.botToken);
    expect(j.body.ok).toBe(true);
    expect(eventsSince(n).map((e) => e.event.type)).toContain("member_joined_channel");
    const joinEvent = eventsSince(n).find((e) => e.event.type === "member_joined_channel");
    expect(joinEvent?.event).toMatchObject({ user: other.botUserId, channel: dev, channel_type: "C" });
    const again = await goStyle("conversations.join", { channel: quiet }, other.botToken);
    expect(again.body).toMatchObject({
      ok: true,
      warning: "already_in_channel",
      response_metadata: { warnings: ["already_in_channel"] },
    });
  });
});

describe("history", () => {
  it("conversations.history: newest first, excludes replies, pages with cursor", async () => {
    const all = await web.conversations.history({ channel: dev, limit: 1000 });
    const ts = all.messages?.map((m) => m.ts as string) ?? [];
    expect([...ts].sort().reverse()).toEqual(ts);
    expect(all.messages?.some((m) => m.text === "reply one")).toBe(false);
    expect(all.messages?.find((m) => m.text === "first")).toMatchObject({
      reply_count: 1,
      reply_users: [bob],
    });
    expect(all.messages?.find((m) => m.text === "second")?.reactions).toEqual([
      { name: "tada", users: [bob], count: 1 },
    ]);
    const paged: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const p = await web.conversations.history({ channel: dev, limit: 2, cursor });
      paged.push(...(p.messages?.map((m) => m.ts as string) ?? []));
      cursor = p.response_metadata?.next_cursor;
      if (!p.has_more) break;
    }
    expect(paged).toEqual(ts);
    expect((await goStyle("conversations.history", { channel: ws.resolveChannel("quiet") })).body.error).toBe(
      "not_in_channel",
    );
    expect((await goStyle("conversations.history", { channel: dev, cursor: "garbage" })).body.error).toBe(
      "invalid_cursor",
    );
  });

  it("oldest without latest returns the messages right after oldest", async () => {
    const asc = core.control
      .history(dev)
      .filter((m) => !m.deleted && !m.threadTs)
      .map((m) => m.ts);
    const r = await web.conversations.history({ channel: dev, oldest: asc[0], limit: 2 });
    expect(r.messages?.map((m) => m.ts)).toEqual([asc[2], asc[1]]);
    expect(r.has_more).toBe(true);
  });
});

describe("auth and faults", () => {
  it("not_authed, invalid_auth, missing_scope, not_allowed_token_type, unknown_method", async () => {
    const anon = new WebClient(undefined, { retryConfig: { retries: 0 } });
    await expect(anon.auth.test()).rejects.toMatchObject({ data: { error: "not_authed" } });
    await expect(
      new WebClient("xoxb-1-2-nope", { retryConfig: { retries: 0 } }).auth.test(),
    ).rejects.toMatchObject({ data: { error: "invalid_auth" } });
    const scoped = new WebClient(other.botToken, { retryConfig: { retries: 0 } });
    await expect(scoped.users.info({ user: alice })).rejects.toMatchObject({
      data: {
        error: "missing_scope",
        needed: "users:read",
        provided: "chat:write,channels:join,channels:read",
      },
    });
    await expect(
      new WebClient(app.appToken, { retryConfig: { retries: 0 } }).auth.test(),
    ).rejects.toMatchObject({ data: { error: "not_allowed_token_type" } });
    const unknown = await goStyle("nope.method", {});
    expect(unknown.body).toMatchObject({ ok: false, error: "unknown_method" });
  });

  it("JSON bodies need a Bearer token", async () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch("https://slack.com/api/chat.postMessage", {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", ...headers },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, any>>);
    expect((await post({}, { token: app.botToken, channel: dev, text: "x" })).error).toBe("not_authed");
    const ok = await post({ authorization: `Bearer ${app.botToken}` }, { channel: dev, text: "json" });
    expect(ok.ok).toBe(true);
    expect(ok.warning).toBeUndefined();
  });

  it("GET with query parameters works", async () => {
    const r = await fetch(`https://slack.com/api/users.info?user=${alice}`, {
      headers: { authorization: `Bearer ${app.botToken}` },
    });
    expect(((await r.json()) as any).user.id).toBe(alice);
  });

  it("429 with an integer Retry-After, then normal service", async () => {
    core.control.rateLimit("chat.postMessage", { calls: 1, retryAfterSeconds: 7 });
    const strict = new WebClient(app.botToken, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    await expect(strict.chat.postMessage({ channel: dev, text: "x" })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 7,
    });
    const raw = core.control
      .calls()
      .filter((c) => c.method === "chat.postMessage")
      .at(-1);
    expect(raw).toMatchObject({ status: 429, response: { ok: false, error: "ratelimited" } });
    expect((await strict.chat.postMessage({ channel: dev, text: "x" })).ok).toBe(true);
  });

  it("revokeToken -> token_revoked; clearFaults restores", async () => {
    core.control.revokeToken(app.botToken);
    expect((await goStyle("auth.test", {})).body.error).toBe("token_revoked");
    core.clearFaults();
    expect((await goStyle("auth.test", {})).body.ok).toBe(true);
  });

  it("delayResponses delays; receivedAt is the arrival, respondedAt after the delay", async () => {
    core.control.delayResponses("auth.test", 150);
    const t0 = performance.timeOrigin + performance.now();
    await goStyle("auth.test", {});
    const took = performance.timeOrigin + performance.now() - t0;
    core.clearFaults();
    expect(took).toBeGreaterThanOrEqual(140);
    const call = core.control
      .calls()
      .filter((c) => c.method === "auth.test")
      .at(-1);
    expect((call?.receivedAt ?? 0) - t0).toBeLessThan(100);
    expect((call?.respondedAt ?? 0) - (call?.receivedAt ?? 0)).toBeGreaterThanOrEqual(140);
  });

  it("respondedAt moves to when a transport reports the answer written", async () => {
    const answer = await getResponse(
      core.handlers,
      new Request("https://slack.com/api/auth.test", {
        method: "POST",
        headers: { authorization: `Bearer ${app.botToken}` },
      }),
    );
    const ready = core.control.calls().at(-1)!.respondedAt;
    await new Promise((r) => setTimeout(r, 30));
    core.responseWritten?.(answer!);
    expect(core.control.calls().at(-1)!.respondedAt).toBeGreaterThanOrEqual(ready + 25);
  });

  it("receivedAt takes the transport's arrival stamp when given", async () => {
    const stamp = performance.timeOrigin + performance.now() - 5;
    await fetch("https://slack.com/api/auth.test", {
      method: "POST",
      headers: { authorization: `Bearer ${app.botToken}`, "x-harness-received-at": String(stamp) },
    });
    expect(core.control.calls().at(-1)?.receivedAt).toBe(stamp);
  });

  it("waitForCall is armed before the act and honours sinceSeq", async () => {
    const since = core.control.calls().at(-1)?.seq ?? 0;
    const waiting = core.control.waitForCall((c) => c.method === "chat.postMessage", {
      sinceSeq: since,
      timeoutMs: 2000,
    });
    await web.chat.postMessage({ channel: dev, text: "awaited" });
    const call = await waiting;
    expect(call.seq).toBeGreaterThan(since);
    expect(call.params.text).toBe("awaited");
    expect(call.auth).toEqual({ kind: "bot", appId: app.appId });
    await expect(
      core.control.waitForCall((c) => c.method === "never.called", { timeoutMs: 50, describe: "nothing" }),
    ).rejects.toThrow(/nothing/);
  });

  it("tokens never appear in recorded calls or logs", () => {
    const dump = JSON.stringify(core.control.calls()) + logs.join("\n");
    for (const a of ws.apps) {
      expect(dump).not.toContain(a.botToken);
      expect(dump).not.toContain(a.appToken);
    }
    expect(core.control.calls().every((c) => !("token" in c.params))).toBe(true);
  });
});

describe("acting as Slack users", () => {
  it("postMessage emits a human message with blocks and client_msg_id", async () => {
    const n = published.length;
    const { ts } = await core.control.postMessage({
      user: "alice",
      channel: "#dev-platform",
      text: `hey <@${app.botUserId}> see <https://example.org|this>`,
    });
    const e = eventsSince(n)[0]?.event as Record<string, any>;
    expect(e).toMatchObject({
      type: "message",
      user: alice,
      ts,
      event_ts: ts,
      channel: dev,
      channel_type: "channel",
      team: ws.teamId,
    });
    expect(e.bot_id).toBeUndefined();
    expect(e.client_msg_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.blocks[0].elements[0].elements).toEqual([
      { type: "text", text: "hey " },
      { type: "user", user_id: app.botUserId },
      { type: "text", text: " see " },
      { type: "link", url: "https://example.org", text: "this" },
    ]);
  });

  it("edit, react, thread, delete, upload", async () => {
    const { ts } = await core.control.postMessage({ user: "alice", channel: "dev-platform", text: "orig" });
    let n = published.length;
    await core.control.editMessage({ user: "alice", channel: "dev-platform", ts, text: "changed" });
    await core.control.editMessage({ user: "alice", channel: "dev-platform", ts, text: "changed again" });
    const edits = eventsSince(n)
      .filter((e) => e.appId === app.appId)
      .map((e) => e.event as Record<string, any>);
    expect(edits.map((e) => e.message.text)).toEqual(["changed", "changed again"]);
    expect(edits[1].message.edited.ts > edits[0].message.edited.ts).toBe(true);
    await core.control.addReaction({ user: "bob", channel: "dev-platform", ts, name: ":partyparrot:" });
    expect(published.at(-1)?.event).toMatchObject({
      type: "reaction_added",
      reaction: "partyparrot",
      user: bob,
    });
    await core.control.removeReaction({ user: "bob", channel: "dev-platform", ts, name: "partyparrot" });
    const reply = await core.control.postMessage({
      user: "bob",
      channel: "dev-platform",
      text: "threaded",
      threadTs: ts,
    });
    expect(published.at(-1)?.event).toMatchObject({ thread_ts: ts, parent_user_id: alice, ts: reply.ts });
    await core.control
      .deleteMessage({ user: "alice", channel: "dev-platform", ts: reply.ts })
      .catch((e) => expect(String(e)).toMatch(/cant_delete_message/));
    await core.control.deleteMessage({ user: "bob", channel: "dev-platform", ts: reply.ts });
    expect(published.at(-1)?.event).toMatchObject({ subtype: "message_deleted", deleted_ts: reply.ts });
    n = published.length;
    const up = await core.control.uploadFile({
      user: "alice",
      channel: "secret",
      filename: "a.txt",
      mimetype: "text/plain",
      data: new TextEncoder().encode("abc"),
      initialComment: "see file",
    });
    expect(up.fileId).toMatch(/^F/);
    const share = eventsSince(n).find((e) => e.event.subtype === "file_share")?.event as Record<string, any>;
    expect(share).toMatchObject({ ts: up.ts, channel: secret, channel_type: "group", text: "see file" });
    const dl = await fetch(share.files[0].url_private_download, {
      headers: { authorization: `Bearer ${app.botToken}` },
    });
    expect(await dl.text()).toBe("abc");
  });

  it("deleting a thread root with replies leaves a tombstone announced as message_changed", async () => {
    const { ts } = await core.control.postMessage({
      user: "alice",
      channel: "dev-platform",
      text: "root to delete",
    });
    await core.control.postMessage({
      user: "bob",
      channel: "dev-platform",
      text: "keeps the thread",
      threadTs: ts,
    });
    const n = published.length;
    await core.control.deleteMessage({ user: "alice", channel: "dev-platform", ts });
    const e = eventsSince(n).find((x) => x.appId === app.appId)?.event as Record<string, any>;
    expect(e).toMatchObject({ subtype: "message_changed", hidden: true, channel: dev });
    expect(e.message).toMatchObject({
      ts,
      subtype: "tombstone",
      user: "USLACKBOT",
      text: "This message was deleted.",
      reply_count: 1,
    });
    expect(core.control.history(dev).find((m) => m.ts === ts)).toMatchObject({
      deleted: true,
      user: "USLACKBOT",
    });
    const replies = await web.conversations.replies({ channel: dev, ts });
    expect(replies.messages).toHaveLength(2);
  });

  it("control errors name the Slack error", async () => {
    await expect(
      core.control.postMessage({ user: "carol", channel: "dev-platform", text: "x" }),
    ).rejects.toThrow(/not_in_channel/);
    await expect(
      core.control.postMessage({ user: "nobody", channel: "dev-platform", text: "x" }),
    ).rejects.toThrow(/unknown user "nobody"/);
  });
});
