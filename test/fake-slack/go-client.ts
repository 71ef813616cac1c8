// The slack-go contract tests' Go clients (test/fake-slack/<name>/), built offline from the module
// cache and run against a fake. Without Go the tests skip locally; with CI=true a missing Go fails
// them instead.
import { type ChildProcessWithoutNullStreams, execFile, spawn, spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { FakeSlack } from "../../fakes/slack/api.ts";

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

/** A running Go client: its JSON lines as they come, and how to wait for one. */
export interface GoClient<L> {
  child: ChildProcessWithoutNullStreams;
  /** Every line the client printed so far, parsed. */
  lines: L[];
  /** The first line matching `pred`, printed already or within `timeoutMs`. */
  waitLine(pred: (l: L) => boolean, timeoutMs?: number): Promise<L>;
  /** Every line, once the client exited. */
  exited: Promise<L[]>;
  /** Says "exit" on its stdin, then kills it. */
  stop(): Promise<void>;
}

/**
 * Starts a built client reaching the fake as the bridge does (https://slack.com & co. through
 * HTTPS_PROXY, trusting SSL_CERT_FILE), with `env` on top; it prints one JSON object per line.
 */
export function runGoClient<L>(
  binary: string,
  fake: FakeSlack,
  env: Record<string, string | undefined>,
  onLine?: (l: L) => void,
): GoClient<L> {
  const child = spawn(binary, [], {
    env: {
      PATH: process.env.PATH,
      HTTPS_PROXY: fake.proxyUrl,
      SSL_CERT_FILE: fake.caFile,
      NO_PROXY: "",
      ...env,
    },
  });
  const lines: L[] = [];
  const waiters: { pred: (l: L) => boolean; resolve: (l: L) => void }[] = [];
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = JSON.parse(buf.slice(0, i)) as L;
      buf = buf.slice(i + 1);
      lines.push(line);
      onLine?.(line);
      for (const w of [...waiters])
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  });
  const waitLine = (pred: (l: L) => boolean, timeoutMs = 20_000): Promise<L> => {
    const found = lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no matching line; last: ${JSON.stringify(lines.slice(-5))}`)),
        timeoutMs,
      );
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  };
  const exited = new Promise<L[]>((resolve) => child.on("close", () => resolve(lines)));
  const stop = async () => {
    child.stdin.write("exit\n");
    await new Promise((r) => setTimeout(r, 100));
    child.kill();
  };
  return { child, lines, waitLine, exited, stop };
}
