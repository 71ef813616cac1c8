// scripts/check-clean.sh, which .ci/run calls after set-up: a fresh clone must stay as committed.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "../../scripts/check-clean.sh");

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), "bh-clean-"));
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  git("init", "-q");
  writeFileSync(join(dir, "package-lock.json"), '{"lockfileVersion":3}\n');
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "init");
  return dir;
}

describe("the CI guard against set-up modifying tracked files", () => {
  it("passes on a clean checkout; untracked files (node_modules, caches) do not count", () => {
    const dir = repo();
    writeFileSync(join(dir, "untracked.txt"), "x");
    expect(spawnSync("bash", [SCRIPT, dir]).status).toBe(0);
  });

  it("fails, naming the file, when set-up rewrote a tracked one", () => {
    const dir = repo();
    writeFileSync(join(dir, "package-lock.json"), '{"lockfileVersion":3,"packages":{}}\n');
    const r = spawnSync("bash", [SCRIPT, dir], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("set-up modified tracked files");
    expect(r.stderr).toContain("package-lock.json");
  });

  it("runs in .ci/run right after set-up", async () => {
    const { readFileSync } = await import("node:fs");
    const ci = readFileSync(join(import.meta.dirname, "../../.ci/run"), "utf8");
    expect(ci).toMatch(/bash scripts\/setup\.sh\n(#.*\n)*bash scripts\/check-clean\.sh\n/);
  });
});
