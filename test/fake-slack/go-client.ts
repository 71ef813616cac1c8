// The slack-go contract tests' Go clients (test/fake-slack/<name>/), built offline from the module
// cache. Without Go the tests skip locally; with CI=true a missing Go fails them instead.
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const hasGo = spawnSync("go", ["version"]).status === 0;
if (!hasGo && process.env.CI === "true")
  throw new Error(
    "go is not installed: the slack-go contract tests need Go >= 1.22 (see README, Requirements)",
  );

/** Builds test/fake-slack/<name> and returns the binary's path. */
export async function buildGoClient(name: string): Promise<string> {
  const binary = join(await mkdtemp(join(tmpdir(), `${name}-`)), "client");
  await promisify(execFile)("go", ["build", "-o", binary, "."], {
    cwd: join(import.meta.dirname, name),
    env: { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off", GOSUMDB: "off" },
  });
  return binary;
}
