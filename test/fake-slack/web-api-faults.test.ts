// Web API faults the scenario fault steps drive, over a real socket: outages (an error status, or
// calls held until the outage ends), rate limits for a window, and new tokens that revoke
// the old token for good.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";

let fake: FakeSlack;
beforeEach(async () => {
  fake = await startFakeSlack({});
});
afterEach(async () => {
  await fake.stop();
});

async function call(method: string, token = fake.workspace.apps[0]!.botToken) {
  const res = await fetch(`${fake.webApiUrl}${method}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; error?: string } };
}

describe("Web API outage", () => {
  it("answers the methods it covers with the status, and the others normally, until it ends", async () => {
    fake.control.outage("auth.test", { status: 503 });
    expect(await call("auth.test")).toEqual({
      status: 503,
      body: { ok: false, error: "service_unavailable" },
    });
    expect((await call("team.info")).status).toBe(200);
    fake.control.outage("auth.test", undefined);
    expect(await call("auth.test")).toMatchObject({ status: 200, body: { ok: true } });
    const recorded = fake.control.calls().filter((c) => c.method === "auth.test");
    expect(recorded.map((c) => c.status)).toEqual([503, 200]);
  });

  it('"*" covers every method', async () => {
    fake.control.outage("*", { status: 500 });
    expect(await call("team.info")).toEqual({ status: 500, body: { ok: false, error: "internal_error" } });
    fake.control.clearFaults();
    expect((await call("team.info")).status).toBe(200);
  });

  it('"timeout" holds calls until the outage ends, then answers 504', async () => {
    fake.control.outage("*", "timeout");
    const started = Date.now();
    const held = call("auth.test");
    let settled = false;
    held.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    fake.control.outage("*", undefined);
    expect(await held).toEqual({ status: 504, body: { ok: false, error: "request_timeout" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await call("auth.test")).status).toBe(200);
  });
});

describe("rate limit for a window", () => {
  it("Infinity rate-limits every call until calls: 0 ends it", async () => {
    fake.control.rateLimit("auth.test", { calls: Number.POSITIVE_INFINITY, retryAfterSeconds: 2 });
    for (let i = 0; i < 3; i++) expect((await call("auth.test")).status).toBe(429);
    fake.control.rateLimit("auth.test", { calls: 0, retryAfterSeconds: 0 });
    expect((await call("auth.test")).status).toBe(200);
  });
});

describe("token replacement", () => {
  it("revokes the old bot token for good and issues a new one; the app token stays", async () => {
    const before = fake.workspace.apps[0]!;
    const fresh = await fake.control.replaceToken("bot");
    expect(fresh.token).not.toBe(before.botToken);
    expect(fresh.token).toMatch(/^xoxb-/);
    expect(fake.workspace.apps[0]).toMatchObject({ botToken: fresh.token, appToken: before.appToken });
    expect((await call("auth.test", before.botToken)).body).toEqual({ ok: false, error: "token_revoked" });
    fake.control.clearFaults();
    expect((await call("auth.test", before.botToken)).body).toEqual({ ok: false, error: "token_revoked" });
    expect((await call("auth.test", fresh.token)).body.ok).toBe(true);
  });

  it("replaces the app-level token", async () => {
    const before = fake.workspace.apps[0]!;
    const fresh = await fake.control.replaceToken("app");
    expect(fresh.token).toMatch(new RegExp(`^xapp-1-${before.appId}-`));
    const open = (token: string) =>
      fetch(`${fake.webApiUrl}apps.connections.open`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.json() as Promise<{ ok: boolean; error?: string }>);
    expect(await open(before.appToken)).toEqual({ ok: false, error: "token_revoked" });
    expect((await open(fresh.token)).ok).toBe(true);
  });

  it("is available over the control API, which hands the new token to the caller only", async () => {
    const lines: string[] = [];
    await fake.stop();
    fake = await startFakeSlack({ log: (l) => lines.push(l) });
    const res = await fetch(`${fake.controlUrl}faults/replace-token`, {
      method: "POST",
      body: JSON.stringify({ kind: "bot" }),
    });
    const body = (await res.json()) as { ok: boolean; token: string };
    expect(body.ok).toBe(true);
    expect(body.token).toBe(fake.workspace.apps[0]!.botToken);
    expect(lines.join("\n")).not.toContain(body.token);
  });
});
