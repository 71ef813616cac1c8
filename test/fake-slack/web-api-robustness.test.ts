// Hostile input over a real socket: every Web API method with junk, wrong-typed, oversized and
// half-valid parameters in every encoding Slack accepts. The fake must answer each the way Slack
// does (HTTP 200 and ok:true, or ok:false with a Slack error code), never with an HTTP 500, an
// internal_error or a hang, and must log no handler failure. A query string beyond the HTTP
// server's 16 KB header limit is refused at the HTTP level (431), as a front end would. A fixed seed keeps runs reproducible;
// a failure names the request that caused it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { METHODS } from "../../fakes/slack/web-api/methods.ts";

const REQUESTS = 1500;
const IN_FLIGHT = 20;

/** mulberry32: small, seeded, good enough to pick test inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARAMS = [
  "channel",
  "channel_id",
  "ts",
  "timestamp",
  "thread_ts",
  "name",
  "user",
  "users",
  "text",
  "blocks",
  "cursor",
  "limit",
  "oldest",
  "latest",
  "inclusive",
  "types",
  "file",
  "files",
  "filename",
  "length",
  "email",
  "topic",
  "is_private",
  "return_im",
  "bot",
  "full",
  "exclude_archived",
  "include_locale",
  "reply_broadcast",
  "as_user",
];

let fake: FakeSlack;
const logs: string[] = [];

beforeAll(async () => {
  fake = await startFakeSlack({ log: (l) => logs.push(l) });
});
afterAll(async () => {
  await fake?.stop();
});

describe("the Web API under hostile input", () => {
  it(`answers ${REQUESTS} junk requests the way Slack does`, { timeout: 120_000 }, async () => {
    const random = prng(20261122);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const app = fake.workspace.apps[0]!;
    const channel = fake.workspace.channels.find((c) => c.members.includes(app.botUserId))!.id;
    const user = fake.workspace.users.find((u) => !u.isBot)!.id;
    const { ts } = await fake.control.postMessage({ user, channel, text: "a real message to aim at" });
    const values = [
      "",
      " ",
      "null",
      "0",
      "-1",
      "1e309",
      "99999999999999999999",
      "abc",
      "[]",
      "{}",
      "[{",
      '{"a":',
      '[{"type":"rich_text"}]',
      '[{"type":"rich_text","elements":[{"type":"nope","elements":5}]}]',
      '[{"id":"F0NOPE"}]',
      '[{"id":5,"title":[]}]',
      "C0NOPE",
      "U0NOPE",
      channel,
      user,
      ts,
      "1700000000.000100",
      "1700000000",
      ".",
      "💥 émoji",
      "x".repeat(40_000),
      "true",
      "false",
      "%%",
      "a\u0000b",
      "<@U0NOPE> <#C0NOPE> <!here>",
    ];
    const jsonValues = [...values, 0, -5, 1.5, true, false, null, [], {}, [1, 2], { nested: { deep: [] } }];
    const methods = [...Object.keys(METHODS), "no.such.method", "chat.postMessage/", "..%2F"];

    type Sent = { describe: string; status: number; body: string; oversized: boolean };
    const send = async (i: number): Promise<Sent> => {
      const method = pick(methods);
      const token = pick([app.botToken, app.botToken, app.appToken, "xoxb-wrong", ""]);
      const params: Record<string, unknown> = {};
      const n = Math.floor(random() * 6);
      for (let k = 0; k < n; k++) params[pick(PARAMS)] = pick(jsonValues);
      const encoding = pick(["form", "json", "query", "multipart", "raw"] as const);
      const str = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
      let url = `${fake.webApiUrl}${method}`;
      const init: RequestInit & { headers: Record<string, string> } = { method: "POST", headers: {} };
      if (encoding === "json") {
        init.headers["content-type"] = pick(["application/json; charset=utf-8", "application/json"]);
        init.headers.authorization = `Bearer ${token}`;
        init.body = random() < 0.1 ? '{"channel": ' : JSON.stringify(params);
      } else if (encoding === "multipart") {
        const form = new FormData();
        form.set("token", token);
        for (const [k, v] of Object.entries(params)) form.set(k, str(v));
        if (random() < 0.3) form.set("file", new Blob([new Uint8Array(64)]), "junk.bin");
        init.body = form;
      } else if (encoding === "raw") {
        init.headers["content-type"] = pick(["text/plain", "application/xml", "application/octet-stream"]);
        init.headers.authorization = `Bearer ${token}`;
        init.body = pick(["<xml/>", "\u0000\u0001", "token=x&&&==", ""]);
      } else {
        const q = new URLSearchParams({ token });
        for (const [k, v] of Object.entries(params)) q.set(k, str(v));
        if (encoding === "query") {
          url += `?${q}`;
          init.method = pick(["GET", "POST"]);
        } else {
          init.headers["content-type"] = "application/x-www-form-urlencoded";
          init.body = q.toString();
        }
      }
      const shown = Object.entries(params).map(([k, v]) => `${k}=${str(v).slice(0, 40)}`);
      const describe = `#${i} ${init.method} ${method} (${encoding}) ${shown.join(" ")}`;
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
      return { describe, status: res.status, body: await res.text(), oversized: url.length > 16_000 };
    };

    const bad: string[] = [];
    let okTrue = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < REQUESTS) {
          const r = await send(next++);
          if (r.oversized) {
            if (r.status !== 431) bad.push(`${r.describe}: oversized URL got HTTP ${r.status}, expected 431`);
            continue;
          }
          let body: { ok?: unknown; error?: unknown } = {};
          try {
            body = JSON.parse(r.body);
          } catch {
            bad.push(`${r.describe}: not JSON: ${r.body.slice(0, 80)}`);
            continue;
          }
          if (r.status !== 200) bad.push(`${r.describe}: HTTP ${r.status}`);
          else if (body.ok === true) okTrue++;
          else if (body.ok !== false || typeof body.error !== "string" || !/^[a-z_]+$/.test(body.error))
            bad.push(`${r.describe}: not a Slack answer: ${r.body.slice(0, 120)}`);
          else if (body.error === "internal_error") bad.push(`${r.describe}: internal_error`);
        }
      }),
    );
    expect(bad.slice(0, 10)).toEqual([]);
    expect(logs.filter((l) => / failed: /.test(l)).slice(0, 5)).toEqual([]);
    // The junk did not all bounce off the token check: some of it reached the methods and passed.
    expect(okTrue).toBeGreaterThan(REQUESTS / 20);
    // And the fake still works.
    const after = await fake.control.postMessage({ user, channel, text: "still alive" });
    expect(after.ts).toMatch(/^\d{10}\.\d{6}$/);
  });
});
