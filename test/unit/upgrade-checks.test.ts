import { afterEach, describe, expect, it, vi } from "vitest";
import type { MatrixUser, StartedEnvironment } from "../../src/environment/api.ts";
import { checkNoDuplicates } from "../../src/upgrade/checks.ts";

const ROOM = "!portal:localhost";
const ALICE = "@alice:localhost";
const BOB_GHOST = "@slack_t1-ubob:localhost";

/** `mapping`: the bridge's message table, Slack message ID -> Matrix event ID. */
function env(history: Record<string, unknown>[], mapping: Record<string, string> = {}): StartedEnvironment {
  return {
    homeserver: { baseUrl: "http://hs.test" },
    bridge: { botUserId: "@slackbot:localhost" },
    fakeSlack: {
      workspace: {
        teamId: "T1",
        apps: [{ botUserId: "UBOT", botId: "BBOT" }],
        resolveChannel: () => "C1",
      },
      control: { history: () => history },
    },
    postgres: {
      async query(_db: string, sql: string, params?: unknown[]) {
        if ((params ?? [])[0] !== "T1-C1") return [];
        if (sql.includes("FROM message")) return Object.entries(mapping).map(([id, mxid]) => ({ id, mxid }));
        return [{ mxid: ROOM }];
      },
    },
  } as unknown as StartedEnvironment;
}

/** Serves /messages in two pages (newest first, as dir=b does). */
function serveMessages(events: { sender: string; body: string; edit?: boolean }[]) {
  const chunkOf = (list: typeof events) =>
    list
      .map((e) => ({
        event_id: `$e${events.indexOf(e)}`,
        sender: e.sender,
        type: "m.room.message",
        content: {
          body: e.body,
          ...(e.edit ? { "m.relates_to": { rel_type: "m.replace", event_id: "$x" } } : {}),
        },
      }))
      .reverse();
  const half = Math.ceil(events.length / 2);
  const pages = [chunkOf(events.slice(half)), chunkOf(events.slice(0, half)), []];
  const fetchMock = vi.fn(async (url: string) => {
    const from = new URL(url).searchParams.get("from");
    const i = from ? Number(from) : 0;
    return new Response(JSON.stringify({ chunk: pages[i], end: String(i + 1) }), { status: 200 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

const alice = { userId: ALICE, accessToken: "tok" } as MatrixUser;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("checkNoDuplicates", () => {
  it("passes when each Slack and Matrix message crossed once (edits and deleted messages ignored)", async () => {
    const f = serveMessages([
      { sender: BOB_GHOST, body: "hello" },
      { sender: ALICE, body: "hi back" },
      { sender: BOB_GHOST, body: "* hello edited", edit: true },
      { sender: BOB_GHOST, body: "sent while down" },
    ]);
    const r = await checkNoDuplicates(
      env(
        [
          { ts: "1.0001", user: "UBOB", text: "hello edited", edited: { user: "UBOB", ts: "2" } },
          { ts: "1.0002", user: "UBOT", text: "hi back" },
          { ts: "1.0003", user: "UBOB", text: "sent while down" },
          { ts: "1.0004", user: "UBOB", text: "gone", deleted: true },
        ],
        { "T1-C1-1.0001": "$e0", "T1-C1-1.0003": "$e3" },
      ),
      alice,
      "#dev-platform",
    );
    expect(r).toMatchObject({
      roomId: ROOM,
      slackToMatrix: {},
      matrixToSlack: {},
      checkedSlackMessages: 1,
      checkedMatrixMessages: 1,
    });
    expect(f).toHaveBeenCalledTimes(3);
  });

  it("reports a redelivered Slack message shown twice, a lost one, and a Matrix message posted twice", async () => {
    serveMessages([
      { sender: BOB_GHOST, body: "twice" },
      { sender: BOB_GHOST, body: "twice" },
      { sender: ALICE, body: "echo" },
    ]);
    const r = await checkNoDuplicates(
      env(
        [
          { ts: "1.1", user: "UBOB", text: "twice" },
          { ts: "1.2", user: "UBOB", text: "lost" },
          { ts: "1.3", botId: "BBOT", text: "echo" },
          { ts: "1.4", user: "UBOT", text: "echo" },
        ],
        { "T1-C1-1.1": "$e0" },
      ),
      alice,
      "#dev-platform",
    );
    expect(r.slackToMatrix).toEqual({ twice: 2, lost: 0 });
    expect(r.matrixToSlack).toEqual({ echo: 2 });
  });

  it("matches by text when a restored snapshot lost the mapping, and still catches a second delivery", async () => {
    serveMessages([
      { sender: BOB_GHOST, body: "before snapshot" },
      { sender: BOB_GHOST, body: "after snapshot" },
      { sender: BOB_GHOST, body: "after snapshot" },
      { sender: BOB_GHOST, body: "formatted *elsewhere*" },
    ]);
    const r = await checkNoDuplicates(
      env(
        [
          { ts: "1.1", user: "UBOB", text: "before snapshot" },
          { ts: "1.2", user: "UBOB", text: "after snapshot" },
        ],
        { "T1-C1-1.1": "$e0" },
      ),
      alice,
      "#dev-platform",
    );
    expect(r.slackToMatrix).toEqual({ "after snapshot": 2 });
  });

  it("fails clearly when the channel has no portal", async () => {
    const e = env([]);
    (e.fakeSlack.workspace as any).teamId = "T9";
    await expect(checkNoDuplicates(e, alice, "#dev-platform")).rejects.toThrow(
      /no portal room for #dev-platform/,
    );
  });
});
