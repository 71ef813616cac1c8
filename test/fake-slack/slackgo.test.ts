// The bridge's own Slack library (slack-go fork, same version as mautrix-slack v0.2.0), reaching the
// fake exactly as the bridge does: https://slack.com through HTTPS_PROXY, trusting SSL_CERT_FILE.
// Skipped when no Go toolchain (with the module cache) is available, except with CI=true.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { buildGoClient, hasGo, runGoClient } from "./go-client.ts";
import { createStubCore, STUB_APP_TOKEN, STUB_BOT_TOKEN } from "./transport-stub-core.ts";

let binary = "";

beforeAll(async () => {
  if (!hasGo) return;
  binary = await buildGoClient("slackgo-client");
}, 120_000);

// Tests run concurrently: fakes are stopped after all of them (an afterEach would stop running ones).
const fakes: FakeSlack[] = [];
afterAll(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

interface Line {
  kind: string;
  at: number;
  [k: string]: unknown;
}

function runClient(
  fake: FakeSlack,
  seconds: number,
  onLine?: (l: Line) => void,
  tokens = { bot: STUB_BOT_TOKEN, app: STUB_APP_TOKEN },
): Promise<Line[]> {
  return runGoClient<Line>(
    binary,
    fake,
    { BOT_TOKEN: tokens.bot, APP_TOKEN: tokens.app, RUN_SECONDS: String(seconds) },
    onLine,
  ).exited;
}

describe.skipIf(!hasGo)("slack-go socketmode through the proxy", () => {
  it.concurrent("connects, receives and acks events, and stays connected past its 30 s ping watchdog", async () => {
    const fake = await startFakeSlack({ pingIntervalMs: 5000 }, { createCore: createStubCore });
    fakes.push(fake);
    const done = runClient(fake, 36, (l) => {
      if (l.kind === "connected") {
        void fake.control.postMessage({ user: "U0HUMAN001", channel: "C0GENERAL1", text: "hello go" });
      }
    });
    const lines = await done;
    expect(lines.find((l) => l.kind === "auth")).toMatchObject({ user_id: "U0BOT00001" });
    expect(lines.filter((l) => l.kind === "connected")).toHaveLength(1);
    expect(lines.filter((l) => l.kind === "hello")).toHaveLength(1);
    expect(lines.find((l) => l.kind === "event")).toMatchObject({ type: "message", retry_attempt: 0 });
    expect(lines.filter((l) => l.kind.startsWith("error") || l.kind === "incoming_error")).toEqual([]);
    const envs = fake.control.envelopes();
    expect(envs).toHaveLength(1);
    expect(envs[0]?.ackedAt).toBeDefined();
    expect(fake.control.connections()).toHaveLength(1);
  }, 60_000);

  it.concurrent("reconnects once on a disconnect frame, and after ~30 s when pings are suppressed", async () => {
    const fake = await startFakeSlack(
      { firstPingDelayMs: 500, pingIntervalMs: 2000 },
      { createCore: createStubCore },
    );
    fakes.push(fake);
    let connected = 0;
    const done = runClient(fake, 50, (l) => {
      if (l.kind !== "connected") return;
      connected += 1;
      if (connected === 1) setTimeout(() => fake.control.disconnect("refresh_requested"), 1000);
      if (connected === 2) fake.control.suppressPings(true);
    });
    const lines = await done;
    const conns = fake.control.connections();
    const summary = JSON.stringify({ conns, lines: lines.map((l) => l.kind) });
    expect(conns.length, summary).toBe(3);
    expect(conns[0]?.closeReason).toBe("refresh_requested");
    const gap = (conns[2]?.openedAt ?? 0) - (conns[1]?.openedAt ?? 0);
    expect(gap, summary).toBeGreaterThan(25_000);
    expect(gap, summary).toBeLessThan(45_000);
  }, 75_000);

  it.concurrent("receives the real core's events through the proxy and acks every one", async () => {
    const fake = await startFakeSlack({});
    fakes.push(fake);
    const app = fake.workspace.apps[0]!;
    const user = fake.workspace.users.find((u) => !u.isBot)!.id;
    const channel = fake.workspace.channels.find(
      (c) => c.members.includes(app.botUserId) && c.members.includes(user),
    )!.id;
    const lines = await runClient(
      fake,
      8,
      (l) => {
        if (l.kind !== "connected") return;
        void (async () => {
          const { ts } = await fake.control.postMessage({ user, channel, text: "from slack" });
          await fake.control.postMessage({ user, channel, text: "reply", threadTs: ts });
          await fake.control.editMessage({ user, channel, ts, text: "edited" });
          await fake.control.addReaction({ user, channel, ts, name: "tada" });
          await fake.control.removeReaction({ user, channel, ts, name: "tada" });
          const other = await fake.control.postMessage({ user, channel, text: "bye" });
          await fake.control.deleteMessage({ user, channel, ts: other.ts });
        })();
      },
      { bot: app.botToken, app: app.appToken },
    );
    expect(lines.filter((l) => l.kind.includes("error"))).toEqual([]);
    const types = lines.filter((l) => l.kind === "event").map((l) => l.type);
    expect(types).toEqual([
      "message",
      "message",
      "message",
      "reaction_added",
      "reaction_removed",
      "message",
      "message",
    ]);
    const envs = fake.control.envelopes();
    expect(envs).toHaveLength(7);
    expect(envs.every((e) => e.ackedAt !== undefined && e.retryAttempt === 0)).toBe(true);
  }, 60_000);
  it.concurrent("decodes every portal-lifecycle event into the struct mautrix-slack switches on", async () => {
    const fake = await startFakeSlack({ seed: { users: ["alice", "bob"], channels: [] } });
    fakes.push(fake);
    const app = fake.workspace.apps[0]!;
    const c = fake.control;
    const lines = await runClient(
      fake,
      8,
      (l) => {
        if (l.kind !== "connected") return;
        void (async () => {
          const { channel } = await c.createChannel({ user: "alice", name: "lobby" });
          await c.inviteToChannel({ user: "alice", channel, users: ["@bot", "bob"] });
          await c.renameChannel({ user: "alice", channel, name: "lobby-2" });
          await c.setTopic({ user: "alice", channel, topic: "t" });
          await c.setPurpose({ user: "alice", channel, purpose: "p" });
          await c.archiveChannel({ user: "alice", channel });
          await c.unarchiveChannel({ user: "alice", channel });
          await c.leaveChannel({ user: "bob", channel });
          await c.kickFromChannel({ user: "alice", channel, target: "@bot" });
          const secret = (await c.createChannel({ user: "alice", name: "secret", private: true })).channel;
          await c.inviteToChannel({ user: "alice", channel: secret, users: ["@bot"] });
          await c.renameChannel({ user: "alice", channel: secret, name: "secret-2" });
          await c.archiveChannel({ user: "alice", channel: secret });
          await c.unarchiveChannel({ user: "alice", channel: secret });
          await c.kickFromChannel({ user: "alice", channel: secret, target: "@bot" });
          await c.updateProfile({ user: "bob", displayName: "Bobby" });
          await c.deactivateUser({ user: "bob" });
          await c.openConversation({ user: "alice", with: [app.botUserId] });
        })();
      },
      { bot: app.botToken, app: app.appToken },
    );
    expect(lines.filter((l) => l.kind.includes("error"))).toEqual([]);
    const decoded = lines.filter((l) => l.kind === "event").map((l) => `${l.type} ${l.data_type}`);
    expect([...new Set(decoded)].sort()).toEqual(
      [
        "channel_archive *slack.ChannelArchiveEvent",
        "channel_created *slack.ChannelCreatedEvent",
        "channel_left *slack.ChannelLeftEvent",
        "channel_rename *slack.ChannelRenameEvent",
        "channel_unarchive *slack.ChannelUnarchiveEvent",
        "group_archive *slack.GroupArchiveEvent",
        "group_left *slack.GroupLeftEvent",
        "group_rename *slack.GroupRenameEvent",
        "group_unarchive *slack.GroupUnarchiveEvent",
        "im_created *slack.IMCreatedEvent",
        "member_joined_channel *slack.MemberJoinedChannelEvent",
        "member_left_channel *slack.MemberLeftChannelEvent",
        "message *slack.MessageEvent",
        "user_change *slack.UserChangeEvent",
        // Not in the struct table v0.2.0 switches on (it logs "Unrecognized Slack event type" and
        // acks); v0.2608.0 handles it as user_change.
        "user_profile_changed *slackevents.UserProfileChangedEvent",
      ].sort(),
    );
    const envs = fake.control.envelopes();
    expect(decoded).toHaveLength(envs.length);
    expect(envs.every((e) => e.ackedAt !== undefined && e.retryAttempt === 0)).toBe(true);
  }, 60_000);
});
