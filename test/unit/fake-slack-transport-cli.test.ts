import { afterEach, describe, expect, it, vi } from "vitest";
import { runFakeSlackCommand } from "../../fakes/slack/cli.ts";

afterEach(() => vi.restoreAllMocks());

describe("bridge-harness fake-slack arguments", () => {
  it("rejects unknown options and bad ports with exit code 2 and the usage", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await runFakeSlackCommand(["--bogus"])).toBe(2);
    expect(await runFakeSlackCommand(["--port", "http"])).toBe(2);
    expect(await runFakeSlackCommand(["--proxy-port=70000"])).toBe(2);
    expect(await runFakeSlackCommand(["--seed"])).toBe(2);
    expect(err.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(/usage: bridge-harness fake-slack/);
  });

  it("prints the usage for --help", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    expect(await runFakeSlackCommand(["--help"])).toBe(0);
    expect(String(log.mock.calls[0]?.[0])).toMatch(/--proxy-port/);
  });

  it("fails with exit code 1 and the seed error for a missing seed file", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await runFakeSlackCommand(["--seed", "/nonexistent/seed.yaml", "--quiet"])).toBe(1);
    expect(String(err.mock.calls[0]?.[0])).toMatch(/seed\.yaml/);
  });
});
