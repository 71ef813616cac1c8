// A minimal stand-in for the fake Slack core, for tests of the transport alone: one app, two Web API
// methods, and user actions that only publish events.
import { randomBytes, randomInt } from "node:crypto";
import { HttpResponse, http } from "msw";
import type { WorkspaceInfo } from "../../fakes/slack/api.ts";
import type { SlackCore, SlackCoreOptions, SocketModePort } from "../../fakes/slack/internal.ts";

// Generated per run, shaped like Slack's (the bridge and SDKs check the prefixes).
const digits = () => String(randomInt(1e12, 1e13));
export const STUB_APP_TOKEN = `xapp-1-A0FAKE0001-${digits()}-${randomBytes(16).toString("hex")}`;
export const STUB_BOT_TOKEN = `xoxb-${digits()}-${digits()}-${randomBytes(12).toString("base64url")}`;

/** The port the last stub core was given, for tests that publish raw events. */
export let lastStubPort: SocketModePort | undefined;

export function createStubCore(opts: SlackCoreOptions): SlackCore {
  lastStubPort = opts.socketMode;
  const workspace: WorkspaceInfo = {
    teamId: "T0FAKE0001",
    teamName: "Fake",
    domain: "fake",
    apps: [
      {
        appId: "A0FAKE0001",
        botUserId: "U0BOT00001",
        botId: "B0BOT00001",
        botToken: STUB_BOT_TOKEN,
        appToken: STUB_APP_TOKEN,
        name: "bridge",
      },
    ],
    users: [
      {
        id: "U0HUMAN001",
        name: "alice",
        realName: "Alice",
        displayName: "alice",
        isBot: false,
        deleted: false,
      },
    ],
    channels: [
      {
        id: "C0GENERAL1",
        name: "general",
        kind: "public",
        isPrivate: false,
        archived: false,
        members: ["U0HUMAN001", "U0BOT00001"],
      },
    ],
    bots: [],
    usergroups: [],
    emoji: {},
    resolveUser: (n) => {
      if (n === "alice" || n === "U0HUMAN001") return "U0HUMAN001";
      throw new Error(`unknown user ${n}`);
    },
    resolveChannel: (n) => {
      if (["general", "#general", "C0GENERAL1"].includes(n)) return "C0GENERAL1";
      throw new Error(`unknown channel ${n}`);
    },
  };
  const rateLimits = new Map<string, { calls: number; retryAfterSeconds: number }>();
  let tsCounter = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++tsCounter).padStart(6, "0")}`;
  const limited = (method: string) => {
    const r = rateLimits.get(method);
    if (!r || r.calls <= 0) return undefined;
    r.calls -= 1;
    return HttpResponse.json(
      { ok: false, error: "ratelimited" },
      { status: 429, headers: { "Retry-After": String(r.retryAfterSeconds) } },
    );
  };
  const publish = (event: Record<string, unknown>) => opts.socketMode.publish("A0FAKE0001", event);
  const handlers = [
    http.post("*/api/apps.connections.open", ({ request }) => {
      const limit = limited("apps.connections.open");
      if (limit) return limit;
      const auth = request.headers.get("authorization") ?? "";
      if (auth !== `Bearer ${STUB_APP_TOKEN}`) return HttpResponse.json({ ok: false, error: "invalid_auth" });
      return HttpResponse.json({
        ok: true,
        url: opts.socketMode.issueUrl("A0FAKE0001", new URL(request.url)),
      });
    }),
    http.all("*/api/auth.test", () => {
      return HttpResponse.json({
        ok: true,
        url: "https://fake.slack.com/",
        team: "Fake",
        user: "bridge",
        team_id: "T0FAKE0001",
        user_id: "U0BOT00001",
        bot_id: "B0BOT00001",
        is_enterprise_install: false,
      });
    }),
    http.get("https://files.slack.com/files-pri/*", () => new HttpResponse("file-bytes", { status: 200 })),
  ];
  const unsupported = () => {
    throw new Error("not in the stub core");
  };
  return {
    handlers,
    workspace,
    control: {
      postMessage: async ({ user, channel, text, threadTs }) => {
        const ts = nextTs();
        const event: Record<string, unknown> = {
          type: "message",
          user,
          ts,
          text,
          team: "T0FAKE0001",
          channel,
          event_ts: ts,
          channel_type: "channel",
        };
        if (threadTs) event.thread_ts = threadTs;
        publish(event);
        return { ts, text: text ?? "" };
      },
      editMessage: async ({ user, channel, ts, text }) => {
        const ets = nextTs();
        publish({
          type: "message",
          subtype: "message_changed",
          hidden: true,
          channel,
          ts: ets,
          event_ts: ets,
          channel_type: "channel",
          message: { type: "message", user, text, ts, edited: { user, ts: ets } },
        });
        return { ts };
      },
      deleteMessage: async ({ channel, ts }) => {
        const ets = nextTs();
        publish({
          type: "message",
          subtype: "message_deleted",
          hidden: true,
          channel,
          deleted_ts: ts,
          ts: ets,
          event_ts: ets,
          channel_type: "channel",
        });
      },
      addReaction: async ({ user, channel, ts, name }) => {
        publish({
          type: "reaction_added",
          user,
          reaction: name,
          item: { type: "message", channel, ts },
          event_ts: nextTs(),
        });
      },
      removeReaction: async ({ user, channel, ts, name }) => {
        publish({
          type: "reaction_removed",
          user,
          reaction: name,
          item: { type: "message", channel, ts },
          event_ts: nextTs(),
        });
      },
      uploadFile: unsupported,
      createChannel: unsupported,
      renameChannel: unsupported,
      setTopic: unsupported,
      setPurpose: unsupported,
      archiveChannel: unsupported,
      unarchiveChannel: unsupported,
      joinChannel: unsupported,
      leaveChannel: unsupported,
      inviteToChannel: unsupported,
      kickFromChannel: unsupported,
      openConversation: unsupported,
      updateProfile: unsupported,
      deactivateUser: unsupported,
      changeEmoji: unsupported,
      image: unsupported,
      unfurl: unsupported,
      calls: () => [],
      waitForCall: unsupported,
      history: () => [],
      rateLimit: (method, o) => {
        rateLimits.set(method, { ...o });
      },
      delayResponses: unsupported,
      revokeToken: unsupported,
      outage: unsupported,
      replaceToken: unsupported,
    },
    clearFaults: () => rateLimits.clear(),
  };
}
