// The Slack surface mautrix-slack's current releases (v0.2604 … v0.2608) use beyond v0.2.0, with
// Slack's own Node SDK (@slack/web-api) against the msw handlers: user groups, the edge user search,
// images on Slack's image hosts, posting permissions, the events and message subtypes the current
// connector handles, rich text and Slack's escaping both ways, and the documented errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BOT_SCOPES } from "../../fakes/slack/core/index.ts";
import { botClient, makeCore, startMsw } from "./web-api-helpers.ts";

const OLD_MANIFEST = DEFAULT_BOT_SCOPES.filter((s) => s !== "usergroups:read");
const { core, published } = makeCore({
  team: { name: "chochacho", icon: true },
  users: [
    { name: "alice", avatar: true, admin: true },
    { name: "bob", real_name: "Bob Builder", email: "bob@example.org" },
    { name: "carol", deleted: true },
  ],
  apps: [
    { name: "mautrix-slack" },
    { name: "old-install", scopes: OLD_MANIFEST },
    { name: "public-only", scopes: ["channels:read", "channels:history"] },
  ],
  bots: [{ name: "deploy-hook" }],
  usergroups: [
    { handle: "oncall", name: "On call", members: ["alice", "bob"] },
    { handle: "retired", members: ["carol"], disabled: true },
  ],
  channels: [
    { name: "dev-platform", members: ["alice", "bob", "@bot", "@old-install"] },
    { name: "announcements", members: ["alice", "@bot"], posting_restricted_to: ["admin", "bob"] },
    { name: "ops", private: true, members: ["alice", "@bot", "@old-install", "@public-only"] },
  ],
  emoji: { partyparrot: true, parrot: "alias:partyparrot" },
});
const ws = core.workspace;
type App = (typeof ws.apps)[number];
const [bridge, oldInstall, publicOnly] = ws.apps as [App, App, App];
const dev = ws.resolveChannel("dev-platform");
const alice = ws.resolveUser("alice");
const bob = ws.resolveUser("bob");
let server: ReturnType<typeof startMsw>;
let web: ReturnType<typeof botClient>;
beforeAll(() => {
  server = startMsw(core);
  web = botClient(core);
});
afterAll(() => server.close());

const slackError = (error: string, extra: Record<string, unknown> = {}) => ({
  data: { ok: false, error, ...extra },
});
const eventsSince = (n: number) =>
  published
    .slice(n)
    .filter((p) => p.appId === bridge.appId)
    .map((p) => p.event);
const isPng = (b: Uint8Array) => Buffer.from(b.subarray(0, 8)).equals(Buffer.from("89504e470d0a1a0a", "hex"));
const download = async (url: string) => {
  const r = await fetch(url);
  return {
    status: r.status,
    type: r.headers.get("content-type"),
    bytes: new Uint8Array(await r.arrayBuffer()),
  };
};

describe("user groups", () => {
  it("usergroups.list lists enabled groups; include_users, include_count and include_disabled as documented", async () => {
    const plain = await web.usergroups.list();
    expect(plain.usergroups?.map((g) => g.handle)).toEqual(["oncall"]);
    expect(plain.usergroups?.[0]).not.toHaveProperty("users");
    const full = await web.usergroups.list({
      include_users: true,
      include_count: true,
      include_disabled: true,
    });
    expect(full.usergroups?.map((g) => [g.handle, g.users, g.user_count])).toEqual([
      ["oncall", [alice, bob], 2],
      ["retired", [ws.resolveUser("carol")], 1],
    ]);
    expect(full.usergroups?.[0]).toMatchObject({ is_usergroup: true, team_id: ws.teamId, name: "On call" });
    expect(full.usergroups?.[1]?.date_delete).toBeGreaterThan(0);
  });

  it("an app installed from the v0.2.0 manifest (no usergroups:read) gets missing_scope", async () => {
    await expect(botClient(core, oldInstall.botToken).usergroups.list()).rejects.toMatchObject(
      slackError("missing_scope", { needed: "usergroups:read" }),
    );
  });

  it("<!subteam^S…> in a message's text is a usergroup element in its blocks", async () => {
    const group = ws.usergroups[0]?.id as string;
    const r = await web.chat.postMessage({ channel: dev, text: `paging <!subteam^${group}> now` });
    expect(r.message?.blocks?.[0]).toMatchObject({
      elements: [
        {
          elements: [
            { type: "text", text: "paging " },
            { type: "usergroup", usergroup_id: group },
            { type: "text", text: " now" },
          ],
        },
      ],
    });
  });
});

describe("the edge API's user search", () => {
  const search = (body: unknown, team = ws.teamId) =>
    fetch(`https://edgeapi.slack.com/cache/${team}/users/search`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  const request = (query: string, extra: Record<string, unknown> = {}) => ({
    count: 24,
    filter: "NOT deactivated",
    fuzz: 1,
    include_profile_only_users: true,
    query,
    search_email: true,
    token: bridge.botToken,
    uax29_tokenizer: false,
    ...extra,
  });

  it("finds people by name, full name and email, leaving out deactivated accounts", async () => {
    expect((await search(request("builder"))).results.map((u: { id: string }) => u.id)).toEqual([bob]);
    expect((await search(request("bob@example"))).results.map((u: { id: string }) => u.id)).toEqual([bob]);
    expect((await search(request("carol"))).results).toEqual([]);
    expect((await search(request("carol", { filter: "" }))).results).toHaveLength(1);
    const call = core.control.calls().findLast((c) => c.method === "edge.users.search");
    expect(call?.params).toMatchObject({ query: "carol" });
    expect(JSON.stringify(call?.params)).not.toContain(bridge.botToken);
  });

  it("answers token and body errors as the Web API does", async () => {
    expect(await search(request("x", { token: undefined }))).toMatchObject({
      ok: false,
      error: "not_authed",
    });
    expect(await search(request("x", { token: "xoxb-1-2-nope" }))).toMatchObject({
      ok: false,
      error: "invalid_auth",
    });
    expect(await search([1])).toMatchObject({ ok: false, error: "json_not_object" });
    expect(await search(request("x"), "T0OTHER001")).toMatchObject({ ok: false, error: "team_not_found" });
  });
});

describe("images on Slack's image hosts are images", () => {
  it("a seeded profile photo: users.info URLs (and ca.slack-edge.com by avatar_hash) serve the same PNG", async () => {
    const { user } = await web.users.info({ user: alice });
    const photo = await download(user?.profile?.image_original as string);
    expect(photo).toMatchObject({ status: 200, type: "image/png" });
    expect(isPng(photo.bytes)).toBe(true);
    expect(new URL(user?.profile?.image_512 as string).hostname).toBe("avatars.slack-edge.com");
    const byHash = await download(
      `https://ca.slack-edge.com/${ws.teamId}-${alice}-${user?.profile?.avatar_hash}-512`,
    );
    expect(byHash.bytes).toEqual(photo.bytes);
    expect(core.control.image(user?.profile?.image_original as string)?.data).toEqual(photo.bytes);
  });

  it("the team icon: image_default false and every size downloadable", async () => {
    const { team } = await web.team.info();
    const icon = team?.icon as Record<string, unknown>;
    expect(icon.image_default).toBe(false);
    const big = await download(icon.image_230 as string);
    expect(big.status).toBe(200);
    expect(isPng(big.bytes)).toBe(true);
  });

  it("custom emoji: emoji.list URLs on emoji.slack-edge.com serve PNGs; aliases stay aliases", async () => {
    const { emoji } = await web.emoji.list();
    expect(emoji?.parrot).toBe("alias:partyparrot");
    expect(new URL(emoji?.partyparrot as string).hostname).toBe("emoji.slack-edge.com");
    const img = await download(emoji?.partyparrot as string);
    expect(img.status).toBe(200);
    expect(isPng(img.bytes)).toBe(true);
  });

  it("a path the fake does not serve is a 404, as on the CDN, and recorded", async () => {
    expect((await download("https://emoji.slack-edge.com/T0X/nope/abc.png")).status).toBe(404);
    expect(core.control.calls().findLast((c) => c.method === "images.download")).toMatchObject({
      status: 404,
    });
  });
});

describe("conversations.info", () => {
  it("properties.posting_restricted_to for a channel with posting permissions, none otherwise", async () => {
    const restricted = await web.conversations.info({ channel: ws.resolveChannel("announcements") });
    expect((restricted.channel as Record<string, any>).properties).toEqual({
      posting_restricted_to: { type: ["admin"], user: [bob] },
    });
    const open = await web.conversations.info({ channel: dev });
    expect(open.channel).not.toHaveProperty("properties");
  });
});

describe("events and message subtypes the current connector handles", () => {
  it("emoji_changed add, rename and remove in Slack's shapes, to every app", async () => {
    const n = published.length;
    const { value } = await core.control.changeEmoji({ add: "shipit" });
    await core.control.changeEmoji({ rename: "shipit", to: "ship-it" });
    await core.control.changeEmoji({ remove: "ship-it" });
    const events = eventsSince(n);
    expect(events).toMatchObject([
      { type: "emoji_changed", subtype: "add", name: "shipit", value },
      { type: "emoji_changed", subtype: "rename", old_name: "shipit", new_name: "ship-it", value },
      { type: "emoji_changed", subtype: "remove", names: ["ship-it"] },
    ]);
    expect(published.slice(n).filter((p) => p.appId === oldInstall.appId)).toHaveLength(3);
    expect(isPng((await download(value as string)).bytes)).toBe(true);
    await expect(core.control.changeEmoji({ remove: "ship-it" })).rejects.toThrow(/emoji_not_found/);
  });

  it("a profile change: user_change and user_profile_changed with the user as users.info shows it", async () => {
    const n = published.length;
    await core.control.updateProfile({ user: "bob", displayName: "Bobby" });
    const events = eventsSince(n);
    expect(events.map((e) => e.type)).toEqual(["user_change", "user_profile_changed"]);
    for (const e of events) {
      expect(e.user).toMatchObject({ id: bob, profile: { display_name: "Bobby" } });
      expect(typeof e.cache_ts).toBe("number");
    }
  });

  it("an integration posts bot_message with bot_id and username, no user; bots.info has no user_id", async () => {
    const n = published.length;
    await core.control.postMessage({
      bot: "deploy-hook",
      channel: dev,
      text: "deployed *v2*",
      username: "CI",
    });
    const [event] = eventsSince(n);
    expect(event).toMatchObject({
      type: "message",
      subtype: "bot_message",
      username: "CI",
      text: "deployed *v2*",
    });
    expect(event).not.toHaveProperty("user");
    const { bot } = await web.bots.info({ bot: event?.bot_id as string });
    expect(bot).toMatchObject({ name: "deploy-hook" });
    expect(bot).not.toHaveProperty("user_id");
  });

  it("a link unfurl: message_changed with the attachment and without `edited`", async () => {
    const { ts } = await core.control.postMessage({
      user: "bob",
      channel: dev,
      typed: "see https://example.org/x",
    });
    const n = published.length;
    await core.control.unfurl({ channel: dev, ts, url: "https://example.org/x", title: "Example" });
    const [event] = eventsSince(n);
    expect(event).toMatchObject({
      subtype: "message_changed",
      message: {
        ts,
        attachments: [
          { from_url: "https://example.org/x", original_url: "https://example.org/x", title: "Example" },
        ],
      },
    });
    expect(event?.ts).toBe(event?.event_ts);
    expect(event?.message).not.toHaveProperty("edited");
  });

  it("channel_purpose and channel_leave messages accompany purpose changes and leaves", async () => {
    const n = published.length;
    await core.control.setPurpose({ user: "alice", channel: dev, purpose: "Platform" });
    await core.control.leaveChannel({ user: "bob", channel: dev });
    expect(eventsSince(n).map((e) => `${e.type}${e.subtype ? `/${e.subtype}` : ""}`)).toEqual([
      "message/channel_purpose",
      "member_left_channel",
      "message/channel_leave",
    ]);
    await core.control.joinChannel({ user: "bob", channel: dev });
  });
});

describe("rich text from a Slack client and Slack's escaping", () => {
  it("typed a < b & c: raw characters in blocks, entities in text; the event carries both", async () => {
    const n = published.length;
    const posted = await core.control.postMessage({ user: "bob", channel: dev, typed: "a < b & c > d" });
    expect(posted.text).toBe("a &lt; b &amp; c &gt; d");
    const [event] = eventsSince(n);
    expect(event?.text).toBe("a &lt; b &amp; c &gt; d");
    expect(event?.blocks).toMatchObject([
      { elements: [{ elements: [{ type: "text", text: "a < b & c > d" }] }] },
    ]);
  });

  it("mrkdwn text with entities: &lt;b&gt; is <b> in the blocks", async () => {
    const posted = await core.control.postMessage({ user: "bob", channel: dev, text: "&lt;b&gt; &amp;" });
    expect(posted.blocks).toMatchObject([{ elements: [{ elements: [{ type: "text", text: "<b> &" }] }] }]);
  });

  it("a Matrix message `if a < b` (blocks, no text) is stored and echoed as Slack stores it", async () => {
    const n = published.length;
    const blocks = [
      {
        type: "rich_text",
        elements: [{ type: "rich_text_section", elements: [{ type: "text", text: "if a < b" }] }],
      },
    ];
    const r = await web.chat.postMessage({ channel: dev, blocks });
    expect(r.message?.text).toBe("if a &lt; b");
    expect(r.message?.blocks).toEqual(blocks);
    expect(eventsSince(n)[0]).toMatchObject({ text: "if a &lt; b", blocks, bot_id: bridge.botId });
    const history = await web.conversations.history({ channel: dev, limit: 1 });
    expect(history.messages?.[0]).toMatchObject({ ts: r.ts, text: "if a &lt; b", blocks });
  });

  it("typed lists, quotes, code with a language, broadcasts, mentions and emoji become the client's elements", async () => {
    const posted = await core.control.postMessage({
      user: "alice",
      channel: dev,
      typed: [
        "@here *deploy* plan for @bob and @oncall in #dev-platform :rocket:",
        "1. build",
        "2. ship",
        "  - canary",
        "- done",
        "> quoted <tag>",
        "```ts",
        "const x = a < b;",
        "```",
      ].join("\n"),
    });
    const [block] = posted.blocks as Record<string, any>[];
    expect(block?.elements).toEqual([
      {
        type: "rich_text_section",
        elements: [
          { type: "broadcast", range: "here" },
          { type: "text", text: " " },
          { type: "text", text: "deploy", style: { bold: true } },
          { type: "text", text: " plan for " },
          { type: "user", user_id: bob },
          { type: "text", text: " and " },
          { type: "usergroup", usergroup_id: ws.usergroups[0]?.id },
          { type: "text", text: " in " },
          { type: "channel", channel_id: dev },
          { type: "text", text: " " },
          { type: "emoji", name: "rocket" },
        ],
      },
      {
        type: "rich_text_list",
        style: "ordered",
        indent: 0,
        border: 0,
        elements: [
          { type: "rich_text_section", elements: [{ type: "text", text: "build" }] },
          { type: "rich_text_section", elements: [{ type: "text", text: "ship" }] },
        ],
      },
      {
        type: "rich_text_list",
        style: "bullet",
        indent: 1,
        border: 0,
        elements: [{ type: "rich_text_section", elements: [{ type: "text", text: "canary" }] }],
      },
      {
        type: "rich_text_list",
        style: "bullet",
        indent: 0,
        border: 0,
        elements: [{ type: "rich_text_section", elements: [{ type: "text", text: "done" }] }],
      },
      { type: "rich_text_quote", elements: [{ type: "text", text: "quoted <tag>" }] },
      {
        type: "rich_text_preformatted",
        border: 0,
        language: "ts",
        elements: [{ type: "text", text: "const x = a < b;" }],
      },
    ]);
    expect(posted.text).toBe(
      [
        `<!here> *deploy* plan for <@${bob}> and <!subteam^${ws.usergroups[0]?.id}> in <#${dev}> :rocket:1. build`,
        "2. ship",
        "    • canary",
        "• done",
        "&gt; quoted &lt;tag&gt;",
        "```const x = a &lt; b;```",
      ].join("\n"),
    );
  });

  it("verbatim blocks with a date and a message link: the text fallback uses Slack's <!date^…> and the URL", async () => {
    const link = `https://chochacho.slack.com/archives/${dev}/p1700000000000100`;
    const posted = await core.control.postMessage({
      user: "alice",
      channel: dev,
      blocks: [
        {
          type: "rich_text",
          elements: [
            {
              type: "rich_text_section",
              elements: [
                { type: "text", text: "due " },
                { type: "date", timestamp: 1700000000, format: "{date_short}", fallback: "Nov 14, 2023" },
                { type: "text", text: " see " },
                { type: "message_mention", channel_id: dev, message_ts: "1700000000.000100", url: link },
              ],
            },
          ],
        },
      ],
    });
    expect(posted.text).toBe(`due <!date^1700000000^{date_short}|Nov 14, 2023> see <${link}>`);
  });
});

describe("documented errors", () => {
  it("conversations.history: malformed latest/oldest are invalid_ts_latest / invalid_ts_oldest", async () => {
    await expect(web.conversations.history({ channel: dev, latest: "yesterday" })).rejects.toMatchObject(
      slackError("invalid_ts_latest"),
    );
    await expect(web.conversations.history({ channel: dev, oldest: "1.2.3" })).rejects.toMatchObject(
      slackError("invalid_ts_oldest"),
    );
    const ok = await web.conversations.history({ channel: dev, oldest: "0", latest: "9999999999" });
    expect(ok.ok).toBe(true);
  });

  it("conversations.replies: malformed bounds too", async () => {
    const { ts } = await core.control.postMessage({ user: "bob", channel: dev, text: "root" });
    await expect(web.conversations.replies({ channel: dev, ts, latest: "x" })).rejects.toMatchObject(
      slackError("invalid_ts_latest"),
    );
  });

  it("reactions.add: no target is no_item_specified, a malformed one bad_timestamp, no name invalid_name", async () => {
    const { ts } = await core.control.postMessage({ user: "bob", channel: dev, text: "react here" });
    await expect(web.reactions.add({ name: "tada" } as never)).rejects.toMatchObject(
      slackError("no_item_specified"),
    );
    await expect(web.reactions.add({ channel: dev, timestamp: "soon", name: "tada" })).rejects.toMatchObject(
      slackError("bad_timestamp"),
    );
    await expect(web.reactions.add({ channel: dev, timestamp: ts } as never)).rejects.toMatchObject(
      slackError("invalid_name"),
    );
    await expect(web.reactions.remove({ name: "tada" } as never)).rejects.toMatchObject(
      slackError("no_item_specified"),
    );
  });

  it("methods with a scope per conversation type want the one of the conversation's type", async () => {
    const ops = ws.resolveChannel("ops");
    await expect(
      botClient(core, oldInstall.botToken).conversations.info({ channel: ops }),
    ).resolves.toMatchObject({
      ok: true,
    });
    const limited = botClient(core, publicOnly.botToken);
    expect((await limited.conversations.info({ channel: dev })).ok).toBe(true);
    await expect(limited.conversations.info({ channel: ops })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "groups:read" }),
    );
    await expect(limited.conversations.history({ channel: ops })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "groups:history" }),
    );
    await expect(limited.conversations.setTopic({ channel: dev, topic: "x" })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "channels:write.topic" }),
    );
    await expect(limited.conversations.invite({ channel: dev, users: bob })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "channels:write.invites" }),
    );
  });

  it("conversations.kick and .leave: Slack's errors for self, non-members and unknown users", async () => {
    const kick = (user: string) => web.conversations.kick({ channel: ws.resolveChannel("ops"), user });
    await expect(kick(bridge.botUserId)).rejects.toMatchObject(slackError("cant_kick_self"));
    await expect(kick("U0NOBODY01")).rejects.toMatchObject(slackError("user_not_found"));
    await expect(kick(bob)).rejects.toMatchObject(slackError("not_in_channel"));
    await expect(web.conversations.kick({ channel: dev, user: bob })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "channels:manage" }),
    );
    // Leaving a public channel needs channels:manage too, which the bridge's manifest lacks.
    await expect(web.conversations.leave({ channel: dev })).rejects.toMatchObject(
      slackError("missing_scope", { needed: "channels:manage" }),
    );
    const n = published.length;
    expect(await web.conversations.leave({ channel: ws.resolveChannel("ops") })).toMatchObject({ ok: true });
    expect(eventsSince(n).map((e) => e.type)).toEqual(["group_left"]);
  });
});
