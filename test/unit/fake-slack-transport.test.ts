import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { createRunCertificates, isSlackHost, SLACK_HOSTS } from "../../fakes/slack/transport/ca.ts";

describe("per-run certificates", () => {
  it("make a CA and a serverAuth leaf for every Slack host, valid from the past", async () => {
    const c = await createRunCertificates();
    const ca = new X509Certificate(c.caCertPem);
    const leaf = new X509Certificate(c.leafCertPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
    for (const h of SLACK_HOSTS) expect(leaf.subjectAltName).toContain(`DNS:${h}`);
    expect(leaf.checkHost("wss-primary.slack.com")).toBeTruthy();
    expect(leaf.checkHost("example.org")).toBeUndefined();
    expect(new Date(leaf.validFrom).getTime()).toBeLessThan(Date.now() - 3600_000);
    expect(c.caCertPem).not.toContain("PRIVATE");
  });

  it("differ per run", async () => {
    const [a, b] = await Promise.all([createRunCertificates(), createRunCertificates()]);
    expect(a.caCertPem).not.toBe(b.caCertPem);
  });
});

describe("isSlackHost", () => {
  it("matches exact names and one-label wildcards only", () => {
    for (const h of [
      "slack.com",
      "SLACK.COM",
      "files.slack.com",
      "wss-primary.slack.com",
      "ca.slack-edge.com",
      "a.slack-edge.com",
      "slack-imgs.com",
    ]) {
      expect(isSlackHost(h), h).toBe(true);
    }
    for (const h of [
      "example.org",
      "evil-slack.com",
      "slack.com.evil.org",
      "a.b.slack.com",
      "api.slack-imgs.com",
      "",
    ]) {
      expect(isSlackHost(h), h).toBe(false);
    }
  });
});

describe("fake Slack log lines", () => {
  it("are redacted before they reach the log sink", async () => {
    const lines: string[] = [];
    const fake = await startFakeSlack({ log: (l) => lines.push(l) });
    try {
      const token = fake.workspace.apps[0]!.botToken;
      // A control call that fails with the token in its input must not echo it.
      const res = await fetch(`${fake.controlUrl}messages`, {
        method: "POST",
        body: JSON.stringify({ user: token, channel: "general", text: "x" }),
      });
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain(token);
      expect(lines.join("\n")).not.toContain(token);
    } finally {
      await fake.stop();
    }
  });
});
