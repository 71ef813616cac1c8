// A service that does not come up fails with the same shape whatever it is: which service, its exit
// code when it exited, and the log lines it wrote during that start. Scenarios that expect a start
// to fail (expect_start) match on these fields.
import type { StartedTestContainer } from "testcontainers";
import { waitUntil } from "../util/clock.ts";
import { fetchWithTimeout } from "../util/net.ts";
import { redact } from "../util/redact.ts";
import { dockerode } from "./docker.ts";
import type { ServiceLog } from "./logs.ts";
import { ContainerExitedError } from "./wait.ts";
import type { WatchedContainer } from "./watched.ts";

export class ServiceStartError extends Error {
  /** The environment's name for it: "homeserver", "bridge", "mas", "proxy", "postgres". */
  readonly service: string;
  readonly exitCode: number | undefined;
  /** The last lines the service wrote during this start (redacted). */
  readonly logTail: string[];
  /** Every line written during this start, for matching expectations. */
  readonly startLines: string[];
  constructor(
    message: string,
    opts: { service: string; exitCode?: number; logTail?: string[]; startLines?: string[] },
  ) {
    super(message);
    this.name = "ServiceStartError";
    this.service = opts.service;
    this.exitCode = opts.exitCode;
    this.logTail = opts.logTail ?? [];
    this.startLines = opts.startLines ?? this.logTail;
  }
}

/** The ServiceStartError in an error's cause chain, if any. */
export function findServiceStartError(err: unknown): ServiceStartError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 10; e = (e as Error).cause, depth++) {
    if (e instanceof ServiceStartError) return e;
  }
  return undefined;
}

export function formatLogTail(lines: string[]): string {
  return `Last ${lines.length} log lines:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}

/**
 * Starts a watched container; when it exits or never becomes ready, throws ServiceStartError naming
 * `title` (e.g. "Synapse (bridge-harness/synapse:1.163.2)") with the lines it logged meanwhile.
 */
export async function startServiceContainer(
  container: WatchedContainer,
  opts: {
    service: string;
    title: string;
    log?: ServiceLog;
    tailLines?: number;
    /** What the lines of a failed start mean and how to fix it, when the service's output is cryptic. */
    explain?: (lines: string[]) => string | undefined;
  },
): Promise<StartedTestContainer> {
  const mark = opts.log?.mark() ?? 0;
  opts.log?.note(`starting ${opts.title}`);
  try {
    return await container.startWatched();
  } catch (err) {
    const startLines = opts.log?.linesSince(mark) ?? [];
    const tail = startLines.slice(-(opts.tailLines ?? 20));
    const exitCode = err instanceof ContainerExitedError ? err.exitCode : undefined;
    const what =
      exitCode !== undefined
        ? `exited during start with code ${exitCode}`
        : `did not become ready: ${err instanceof Error ? err.message : String(err)}`;
    opts.log?.note(what);
    const fix = opts.explain?.(startLines);
    throw new ServiceStartError(
      redact(`${opts.title} ${what}${fix ? `\n${fix}` : ""}\n${formatLogTail(tail)}`),
      {
        service: opts.service,
        exitCode,
        logTail: tail,
        startLines,
      },
    );
  }
}

/**
 * Restarts a container in place (same config and state) — also one that was killed — re-attaches
 * its output to the service log, and resolves once `ready` holds again: a URL answering 200, or a
 * check of the caller's.
 */
export async function restartServiceContainer(
  container: StartedTestContainer,
  opts: {
    log?: ServiceLog;
    ready: string | (() => Promise<void>);
    timeoutMs?: number;
    /**
     * Restart through the engine, skipping the container's wait strategy when that only fits a
     * first start (PostgreSQL on an existing data directory logs "ready" once, not twice); its host
     * ports must then be pinned, as testcontainers does not see them again.
     */
    skipWaitStrategy?: boolean;
  },
): Promise<void> {
  const mark = Date.now();
  if (opts.skipWaitStrategy) await (await dockerode()).getContainer(container.getId()).restart({ t: 10 });
  else await container.restart({ timeout: 10_000 });
  if (opts.log) {
    opts.log.note("container restarted");
    opts.log.attach(await container.logs({ since: Math.floor(mark / 1000) }));
  }
  const { ready } = opts;
  const check =
    typeof ready === "string"
      ? async () => {
          const res = await fetchWithTimeout(ready, { timeoutMs: 2_000 });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        }
      : ready;
  let last = "";
  await waitUntil(
    async () => {
      try {
        await check();
        return true;
      } catch (err) {
        last = (err as Error).message;
        return false;
      }
    },
    {
      timeoutMs: opts.timeoutMs ?? 60_000,
      intervalMs: 200,
      describe: () =>
        `${typeof ready === "string" ? `${ready} did not answer 200` : "the service was not ready"} after the restart (last: ${last})`,
    },
  );
}
