import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { type LabelledResource, selectLeftovers } from "../../src/runtime/cleanup.ts";
import { ServiceLog } from "../../src/runtime/logs.ts";
import { clearSecrets, registerSecret } from "../../src/util/redact.ts";

afterEach(() => clearSecrets());

describe("ServiceLog", () => {
  it("writes every line, redacted and without colours, to <dir>/<service>.log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bh-log-"));
    const log = new ServiceLog(dir, "bridge");
    registerSecret("super-secret-value");
    const stream = new PassThrough();
    log.consumer(stream);
    stream.write("first \u001b[32mline\u001b[0m\nsecond has super-secret-value and xoxb-123-abc");
    stream.end("\nthird (no newline)");
    await new Promise((r) => stream.on("end", r));
    await log.close();
    const text = readFileSync(join(dir, "bridge.log"), "utf8");
    expect(text).toBe("first line\nsecond has [REDACTED] and xoxb-[REDACTED]\nthird (no newline)\n");
    expect(log.lines()).toHaveLength(3);
  });

  it("line waiters are armed before the action and honour marks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bh-log-"));
    const log = new ServiceLog(dir, "svc");
    log.write("old: ready");
    const mark = log.mark();
    const waiter = log.waitForLine(/ready/, { timeoutMs: 1000 });
    log.write("new: ready");
    await expect(waiter.promise).resolves.toBe("new: ready");
    await expect(log.waitForLine(/ready/, { timeoutMs: 50, since: mark }).promise).resolves.toBe(
      "new: ready",
    );
    await expect(log.waitForLine(/never/, { timeoutMs: 30 }).promise).rejects.toThrow(/Timed out/);
    await log.close();
  });
});

describe("leftover sweep selection", () => {
  const r = (
    id: string,
    labels: Record<string, string>,
    kind: "container" | "network" = "container",
  ): LabelledResource => ({
    id,
    kind,
    labels,
  });
  const alive = new Set([100, 200]);
  const isAlive = (pid: number) => alive.has(pid);

  it("selects resources of dead processes only", () => {
    const resources = [
      r("dead", { "bridge-harness.run": "a", "bridge-harness.pid": "999" }),
      r("dead-net", { "bridge-harness.run": "a", "bridge-harness.pid": "999" }, "network"),
      r("alive", { "bridge-harness.run": "b", "bridge-harness.pid": "100" }),
      r("mine", { "bridge-harness.run": "c", "bridge-harness.pid": "300" }),
      r("foreign", { "org.testcontainers": "true" }),
      r("kept", { "bridge-harness.run": "d", "bridge-harness.pid": "999", "bridge-harness.keep": "true" }),
    ];
    expect(selectLeftovers(resources, { isAlive, currentPid: 300 }).map((x) => x.id)).toEqual([
      "dead",
      "dead-net",
    ]);
    expect(
      selectLeftovers(resources, { isAlive, currentPid: 300, includeKept: true }).map((x) => x.id),
    ).toEqual(["dead", "dead-net", "kept"]);
  });
});
