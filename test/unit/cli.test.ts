// The CLI's commands that need no containers: exit codes, help, validate, list, schema.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EXIT, fileKind, main } from "../../src/cli/main.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
let out: string;
let err: string;

beforeEach(() => {
  out = "";
  err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: any) => {
    err += String(chunk);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe("bridge-harness CLI", () => {
  it("--help lists the commands; each command has its own help", async () => {
    expect(await main(["--help"])).toBe(EXIT.ok);
    for (const cmd of ["run", "validate", "list", "down", "schema", "images build", "fake-slack"])
      expect(out).toContain(cmd);
    out = "";
    expect(await main(["run", "--help"])).toBe(EXIT.ok);
    expect(out).toContain("--keep");
    expect(out).toContain("--image-map");
    expect(out).toContain("--report-dir");
  });

  it("unknown commands and options are usage errors (exit 2)", async () => {
    expect(await main(["frobnicate"])).toBe(EXIT.usage);
    expect(err).toContain('bridge-harness: unknown command "frobnicate"');
    expect(await main(["run", "--bogus", "x.yaml"])).toBe(EXIT.usage);
    expect(await main(["run"])).toBe(EXIT.usage);
    expect(err).toContain("run needs at least one scenario file");
    expect(await main(["down"])).toBe(EXIT.usage);
  });

  it("validate: the shipped files are valid (exit 0)", async () => {
    expect(await main(["validate"])).toBe(EXIT.ok);
    expect(out).toContain("scenarios/messaging.yaml (scenario)");
    expect(out).toContain("environments/default.yaml (environment)");
  });

  it("validate and run: a broken scenario prints file:line:column errors and exits 2 without starting anything", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-cli-"));
    const file = path.join(dir, "bad.yaml");
    writeFileSync(
      file,
      `environment: ${path.join(ROOT, "environments/default.yaml")}\nslack: { users: [bob] }\nsteps:\n  - slack.pots: {}\n`,
    );
    expect(await main(["validate", file])).toBe(EXIT.usage);
    expect(err).toContain(
      `${file}:4:5: steps[0]: unknown step "slack.pots" (hint: did you mean "slack.post"?)`,
    );
    expect(err).toContain("1 problem(s) in 1 file(s)");
    err = "";
    expect(await main(["run", file])).toBe(EXIT.usage);
    expect(err).toContain('unknown step "slack.pots"');
  });

  it("run --environment with a missing file is a validation error (exit 2)", async () => {
    expect(
      await main([
        "run",
        path.join(ROOT, "scenarios/messaging.yaml"),
        "--environment",
        "/nonexistent/env.yaml",
      ]),
    ).toBe(EXIT.usage);
    expect(err).toContain("/nonexistent/env.yaml:1:1: (file): file not found: /nonexistent/env.yaml");
  });

  it("tells scenario files from environment files", () => {
    expect(fileKind(path.join(ROOT, "scenarios/messaging.yaml"))).toBe("scenario");
    expect(fileKind(path.join(ROOT, "environments/default.yaml"))).toBe("environment");
  });

  it("list shows scenarios with their environment and step count", async () => {
    expect(await main(["list"])).toBe(EXIT.ok);
    expect(out).toMatch(/scenarios\/messaging\.yaml\s+default\s+\d+ steps/);
    expect(out).toContain("matrixdotorg/synapse:v1.163.2, postgres:16, dock.mau.dev/mautrix/slack:v0.2.0");
  });

  it("schema prints both JSON Schemas", async () => {
    expect(await main(["schema"])).toBe(EXIT.ok);
    expect(out).toContain("# scenario.schema.json");
    expect(out).toContain("# environment.schema.json");
  });
});
