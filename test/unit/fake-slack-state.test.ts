import { describe, expect, it } from "vitest";
import { buildWorkspace } from "../../fakes/slack/core/build.ts";
import { appToken, botToken, IdFactory } from "../../fakes/slack/core/ids.ts";
import { blocksToText, mrkdwnToBlocks as textToBlocks } from "../../fakes/slack/core/richtext.ts";
import { formatTs, parseTs, type Workspace } from "../../fakes/slack/core/state.ts";
import { defaultSeed } from "../../fakes/slack/seed/index.ts";
import { decodeCursor, encodeCursor } from "../../fakes/slack/web-api/request.ts";
import { redact } from "../../src/util/redact.ts";

function channelOf(ws: Workspace) {
  const c = [...ws.channels.values()][0];
  if (!c) throw new Error("no channel");
  return c;
}

describe("timestamps", () => {
  it("are fixed-width sec.micros and round-trip", () => {
    expect(formatTs(1_700_000_000_000_100)).toBe("1700000000.000100");
    expect(parseTs("1700000000.000100")).toBe(1_700_000_000_000_100);
    expect(parseTs("1700000000.1")).toBeUndefined();
  });

  it("are strictly increasing and unique per channel, even in a burst", () => {
    const { ws } = buildWorkspace(defaultSeed);
    const c = channelOf(ws);
    const list = Array.from({ length: 5000 }, () => ws.nextTs(c));
    expect(new Set(list).size).toBe(list.length);
    for (let i = 1; i < list.length; i++) expect((list[i] as string) > (list[i - 1] as string)).toBe(true);
    for (const ts of list) expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    // A requested time in the past still yields a later ts than the last one.
    expect(ws.nextTs(c, 1_000_000) > (list.at(-1) as string)).toBe(true);
  });
});

describe("ids and tokens", () => {
  it("IDs are uppercase without '-' and unique", () => {
    const ids = new IdFactory();
    const all = Array.from({ length: 2000 }, () => ids.next("C"));
    expect(new Set(all).size).toBe(2000);
    for (const id of all) expect(id).toMatch(/^C[A-Z0-9]{10}$/);
    expect(ids.reserve(all[0] as string)).toBe(false);
  });

  it("tokens look like Slack's and are redacted once the workspace is built", () => {
    expect(botToken()).toMatch(/^xoxb-\d{13}-\d{13}-[A-Za-z0-9]{24}$/);
    expect(appToken("A0ABCDEFGHI")).toMatch(/^xapp-1-A0ABCDEFGHI-\d{13}-[0-9a-f]{64}$/);
    const { ws } = buildWorkspace(defaultSeed);
    const app = ws.apps[0];
    expect(app).toBeDefined();
    const line = redact(`bot=${app?.botToken} app=${app?.appToken}`);
    expect(line).not.toContain(app?.botToken);
    expect(line).not.toContain(app?.appToken);
  });
});

describe("default workspace", () => {
  it("is chochacho with #dev-platform, alice, bob and the bridge's bot as members", () => {
    const { ws } = buildWorkspace(defaultSeed);
    expect(ws.team.name).toBe("chochacho");
    const dev = ws.channelByName("dev-platform");
    const app = ws.apps[0];
    expect(dev?.members).toEqual([ws.userByName("alice")?.id, ws.userByName("bob")?.id, app?.botUserId]);
    expect(app?.botScopes).toContain("chat:write");
    expect(app?.appScopes).toEqual(["connections:write"]);
  });
});

describe("cursors", () => {
  it("encode a kind and a value; other kinds are invalid", () => {
    const c = encodeCursor("user", "U0ABC");
    expect(decodeCursor(c, "user")).toBe("U0ABC");
    expect(decodeCursor(c, "id")).toBeNull();
    expect(decodeCursor("", "id")).toBeUndefined();
  });
});

describe("blocks", () => {
  it("text -> rich_text -> text keeps mentions and links", () => {
    const text = "hi <@U0ABC> in <#C0DEF> see <https://x.example|x> and <https://y.example>";
    expect(blocksToText(textToBlocks(text))).toBe(text);
  });
});

describe("multipart", () => {
  it("reads slack-go's body with its closing delimiter written twice", async () => {
    const { parseMultipart } = await import("../../fakes/slack/web-api/multipart.ts");
    const b = "XyZ";
    const body =
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n` +
      `a\r\n-b\r\n--${b}--\r\n\r\n--${b}--\r\n`;
    const parts = parseMultipart(new TextEncoder().encode(body), `multipart/form-data; boundary=${b}`);
    expect(parts).toHaveLength(1);
    expect(parts?.[0]).toMatchObject({ name: "file", filename: "a.bin" });
    expect(new TextDecoder().decode(parts?.[0]?.data)).toBe("a\r\n-b");
    expect(parseMultipart(new Uint8Array(), "multipart/form-data")).toBeUndefined();
  });
});
