// mautrix-slack's current release (v0.2608.0) cannot be built here (its slack-go fork is not served by
// the Go module proxy), so its Slack traffic is replayed instead: the same Web API calls, edge API
// search and image downloads its connector makes, through upstream slack-go v0.35 (which the fork is
// rebased on), reaching the fake as the bridge does (https://slack.com & co. through HTTPS_PROXY,
// trusting SSL_CERT_FILE); and every event the current connector handles, decoded by slack-go's strict
// Socket Mode types. Skipped without Go >= 1.26 and its module cache (scripts/setup.sh fills it),
// except with CI=true.
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

const seed = {
  team: { name: "chochacho", icon: true },
  users: [
    { name: "alice", avatar: true, admin: true },
    { name: "bob", real_name: "Bob Builder", avatar: true },
    "carol",
  ],
  bots: [{ name: "deploy-hook" }],
  usergroups: [{ handle: "oncall", members: ["alice", "bob"] }],
  channels: [
    { name: "dev-platform", members: ["alice", "bob", "@bot"] },
    { name: "announcements", members: ["alice", "@bot"], posting_restricted_to: ["admin"] },
    { name: "ops", private: true, members: ["alice", "@bot"] },
    { name: "lobby", members: ["alice", "@bot"] },
  ],
  emoji: { partyparrot: true },
};

let fake: FakeSlack;
let client: GoClient<Line>;
let lines: Line[] = [];
let waitLine: GoClient<Line>["waitLine"];

beforeAll(async () => {
  if (!hasGo) return;
  const binary = await buildGoClient("slackgo-current");
  fake = await startFakeSlack({ seed, pingIntervalMs: 5000 });
  const ws = fake.workspace;
  const app = ws.apps[0];
  client = runGoClient<Line>(binary, fake, {
    BOT_TOKEN: app?.botToken,
    APP_TOKEN: app?.appToken,
    CHANNEL: ws.resolveChannel("dev-platform"),
    PRIVATE_CHANNEL: ws.resolveChannel("ops"),
    KICK_USER: ws.resolveUser("carol"),
  });
  ({ lines, waitLine } = client);
  await waitLine((l) => l.kind === "connected");
}, 180_000);

afterAll(async () => {
  if (!hasGo) return;
  await client?.stop();
  await fake?.stop();
});

const call = (name: string) => lines.find((l) => l.kind === "call" && l.call === name);

describe.skipIf(!hasGo)("the current release's Slack traffic through upstream slack-go v0.35", () => {
  it("decodes every event and message subtype the current connector handles, all acked", async () => {
    const c = fake.control;
    const before = fake.control.envelopes().length;
    await c.changeEmoji({ add: "shipit" });
    await c.changeEmoji({ rename: "shipit", to: "ship-it" });
    await c.changeEmoji({ remove: "ship-it" });
    await c.updateProfile({ user: "bob", displayName: "Bobby" });
    await c.postMessage({ bot: "deploy-hook", channel: "dev-platform", text: "deployed", username: "CI" });
    const { ts } = await c.postMessage({
      user: "alice",
      channel: "dev-platform",
      typed: "@here @oncall see https://example.org/x\n- one\n> quoted\n```go\nx < y\n```",
    });
    await c.unfurl({ channel: "dev-platform", ts, url: "https://example.org/x", title: "Example" });
    await c.setPurpose({ user: "alice", channel: "dev-platform", purpose: "Platform" });
    await c.leaveChannel({ user: "bob", channel: "dev-platform" });
    await c.joinChannel({ user: "bob", channel: "dev-platform" });
    await c.kickFromChannel({ user: "alice", channel: "lobby", target: "@bot" });
    await c.kickFromChannel({ user: "alice", channel: "ops", target: "@bot" });
    await c.inviteToChannel({ user: "alice", channel: "ops", users: ["@bot"] });
    await c.openConversation({ user: "carol", with: [fake.workspace.apps[0]?.botUserId as string] });
    await waitLine((l) => l.kind === "event" && l.type === "im_created");
    const events = lines.filter((l) => l.kind === "event");
    const kinds = [
      ...new Set(events.map((e) => `${e.type}${e.data?.subtype ? `/${e.data.subtype}` : ""} ${e.go_type}`)),
    ];
    // Upstream slack-go decodes into its slackevents structs (the fork maps the same types onto the
    // slack.* structs the connector switches on); either way a field of the wrong type drops the envelope.
    for (const expected of [
      "emoji_changed/add *slackevents.EmojiChangedEvent",
      "emoji_changed/rename *slackevents.EmojiChangedEvent",
      "emoji_changed/remove *slackevents.EmojiChangedEvent",
      "user_change *slackevents.UserChangeEvent",
      "user_profile_changed *slackevents.UserProfileChangedEvent",
      "message/bot_message *slackevents.MessageEvent",
      "message/message_changed *slackevents.MessageEvent",
      "message/channel_purpose *slackevents.MessageEvent",
      "member_left_channel *slackevents.MemberLeftChannelEvent",
      "message/channel_leave *slackevents.MessageEvent",
      "channel_left *slackevents.ChannelLeftEvent",
      "group_left *slackevents.GroupLeftEvent",
      "im_created *slackevents.ImCreatedEvent",
    ])
      expect(kinds).toContain(expected);
    const unfurl = events.find((e) => e.data?.subtype === "message_changed");
    expect(unfurl?.data?.message).toMatchObject({ ts, attachments: [{ from_url: "https://example.org/x" }] });
    expect(unfurl?.data?.message?.edited).toBeFalsy();
    const typed = events.find((e) => e.type === "message" && e.data?.ts === ts && !e.data?.subtype);
    const elements = JSON.stringify(typed?.data?.blocks);
    for (const t of ["broadcast", "usergroup", "rich_text_list", "rich_text_quote", "rich_text_preformatted"])
      expect(elements).toContain(`"${t}"`);
    expect(typed?.data?.text).toContain("x &lt; y");
    expect(lines.filter((l) => l.kind === "bad_message")).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      fake.control
        .envelopes()
        .slice(before)
        .filter((e) => e.ackedAt === undefined),
    ).toEqual([]);
  });

  it("replays the connector's Web API calls, edge search and image downloads; each answers as the connector needs", async () => {
    client.child.stdin.write("replay\n");
    await waitLine((l) => l.kind === "replay_done", 30_000);
    const ws = fake.workspace;
    const expectedErrors: Record<string, string> = {
      // The bridge's manifest has no channels:manage: kicking from a public channel is refused.
      "conversations.kick public": "missing_scope",
      "conversations.history bad latest": "invalid_ts_latest",
    };
    const errors = Object.fromEntries(
      lines.filter((l) => l.kind === "call" && l.error).map((l) => [l.call, l.error]),
    );
    expect(errors).toEqual(expectedErrors);
    // Images: real PNGs from the image hosts, through the proxy.
    for (const name of ["team.icon", "emoji partyparrot", "avatar alice", "avatar bob"])
      expect(call(name), name).toMatchObject({ status: 200, content_type: "image/png" });
    const announcements = lines.find(
      (l) => l.call === "conversations.info" && l.channel === ws.resolveChannel("announcements"),
    );
    expect(announcements?.posting_restricted_to).toEqual(["admin"]);
    expect(call("usergroups.list")?.groups).toEqual({
      oncall: [ws.resolveUser("alice"), ws.resolveUser("bob")],
    });
    expect(call("edge.users.search")?.ids).toEqual([ws.resolveUser("bob")]);
    expect(call("conversations.history")?.text).toBe("if a &lt; b &amp; c");
    expect(call("conversations.open")?.is_im).toBe(true);
    const kicked = fake.control.calls().find((c) => c.method === "conversations.kick" && c.response.ok);
    expect(kicked?.params).toMatchObject({
      channel: ws.resolveChannel("ops"),
      user: ws.resolveUser("carol"),
    });
  });
});
