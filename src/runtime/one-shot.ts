// One-shot containers (generate a config, print a file): run to completion, keep the output.
import "./docker-env.ts";
import { GenericContainer, type StartedNetwork } from "testcontainers";
import type { ServiceLog } from "./logs.ts";
import { UntilExitedWait } from "./wait.ts";

export interface OneShotResult {
  exitCode: number;
  /** stdout and stderr interleaved, unredacted (callers redact before printing). */
  output: string;
}

export async function runOneShot(opts: {
  image: string;
  entrypoint?: string[];
  command: string[];
  files?: { content: string; target: string; mode?: number }[];
  labels: Record<string, string>;
  network?: StartedNetwork;
  env?: Record<string, string>;
  user?: string;
  /** Named volumes (or host paths) to mount: source -> target. */
  mounts?: { source: string; target: string }[];
  /** Lines also go (redacted) to this log. */
  log?: ServiceLog;
  timeoutMs?: number;
}): Promise<OneShotResult> {
  const wait = new UntilExitedWait().withStartupTimeout(opts.timeoutMs ?? 60_000);
  let output = "";
  let ended!: () => void;
  const streamEnded = new Promise<void>((resolve) => {
    ended = resolve;
  });
  let container = new GenericContainer(opts.image)
    .withCommand(opts.command)
    .withLabels(opts.labels)
    .withWaitStrategy(wait)
    .withLogConsumer((stream) => {
      stream.on("data", (chunk: Buffer | string) => {
        output += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      });
      stream.on("end", () => ended());
      stream.on("close", () => ended());
      if (opts.log) opts.log.attach(stream);
    });
  if (opts.entrypoint) container = container.withEntrypoint(opts.entrypoint);
  if (opts.files?.length) container = container.withCopyContentToContainer(opts.files);
  if (opts.network) container = container.withNetwork(opts.network);
  if (opts.env) container = container.withEnvironment(opts.env);
  if (opts.user) container = container.withUser(opts.user);
  if (opts.mounts?.length) container = container.withBindMounts(opts.mounts);
  const started = await container.start();
  // The log stream ends when the container has stopped; bounded in case the engine never closes it.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([streamEnded, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
  clearTimeout(timer);
  await started.stop({ remove: true, timeout: 0 }).catch(() => undefined);
  return { exitCode: wait.exitCode ?? -1, output };
}
