// Wait strategies that notice a container exiting and keep its exit code (testcontainers removes a
// container whose wait strategy failed, so the code has to be read while waiting).
import "./docker-env.ts";
import type Dockerode from "dockerode";
import type { BoundPorts, WaitStrategy } from "testcontainers";

abstract class BaseWait implements WaitStrategy {
  protected startupTimeoutMs = 60_000;
  private timeoutSet = false;
  abstract waitUntilReady(
    container: Dockerode.Container,
    boundPorts: BoundPorts,
    startTime?: Date,
  ): Promise<void>;
  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }
  getStartupTimeout(): number {
    return this.startupTimeoutMs;
  }
}

export class ContainerExitedError extends Error {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  constructor(exitCode: number, oomKilled: boolean, message?: string) {
    super(message ?? `container exited with code ${exitCode}${oomKilled ? " (out of memory)" : ""}`);
    this.name = "ContainerExitedError";
    this.exitCode = exitCode;
    this.oomKilled = oomKilled;
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exitedState(
  container: Dockerode.Container,
): Promise<{ exitCode: number; oomKilled: boolean } | undefined> {
  const info = await container.inspect();
  const s = info.State;
  if (s.Running || s.Paused || s.Restarting) return undefined;
  if (s.Status === "created") return undefined;
  return { exitCode: s.ExitCode, oomKilled: s.OOMKilled };
}

/** For one-shot containers: resolves when the container has exited (whatever the code), keeping the code. */
export class UntilExitedWait extends BaseWait {
  exitCode: number | undefined;
  constructor() {
    super();
    this.startupTimeoutMs = 120_000;
  }
  async waitUntilReady(container: Dockerode.Container): Promise<void> {
    const deadline = Date.now() + this.startupTimeoutMs;
    for (;;) {
      const state = await exitedState(container);
      if (state) {
        this.exitCode = state.exitCode;
        return;
      }
      if (Date.now() > deadline)
        throw new Error(`one-shot container still running after ${this.startupTimeoutMs} ms`);
      await delay(100);
    }
  }
}

/**
 * Polls http://<host>:<mapped port><path> until it answers 200; fails at once with ContainerExitedError
 * when the container exits first.
 */
export class HttpReadyOrExitWait extends BaseWait {
  private readonly path: string;
  private readonly port: number;
  private readonly intervalMs: number;
  exit: ContainerExitedError | undefined;

  constructor(path: string, port: number, opts: { intervalMs?: number } = {}) {
    super();
    this.path = path;
    this.port = port;
    this.intervalMs = opts.intervalMs ?? 150;
  }

  async waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts): Promise<void> {
    const deadline = Date.now() + this.startupTimeoutMs;
    const hostPort = boundPorts.getBinding(this.port);
    const url = `http://127.0.0.1:${hostPort}${this.path}`;
    let last = "no answer yet";
    for (;;) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      const state = await exitedState(container);
      if (state) {
        this.exit = new ContainerExitedError(state.exitCode, state.oomKilled);
        throw this.exit;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.path} on port ${this.port} not ready after ${this.startupTimeoutMs} ms (last: ${last})`,
        );
      }
      await delay(this.intervalMs);
    }
  }
}

/**
 * Watches a container from the moment it is created: `exited` resolves with the exit code as soon as
 * the container stops (testcontainers itself would first wait 10 s for ports that never appear).
 * Use with WatchedContainer below; call stop() once the container is ready or gone.
 */
export class ExitWatch {
  containerId: string | undefined;
  private stopped = false;
  readonly exited: Promise<ContainerExitedError>;
  private onCreated!: (id: string) => void;

  constructor(
    inspect: (
      id: string,
    ) => Promise<{ status: string; running: boolean; exitCode: number; oomKilled: boolean } | undefined>,
    intervalMs = 200,
  ) {
    const created = new Promise<string>((resolve) => {
      this.onCreated = resolve;
    });
    this.exited = (async () => {
      const id = await created;
      for (;;) {
        if (this.stopped) return new Promise<never>(() => {});
        const state = await inspect(id).catch(() => undefined);
        if (state && !state.running && state.status !== "created" && state.status !== "restarting") {
          return new ContainerExitedError(state.exitCode, state.oomKilled);
        }
        await delay(intervalMs);
      }
    })();
  }

  created(id: string): void {
    this.containerId = id;
    this.onCreated(id);
  }

  stop(): void {
    this.stopped = true;
  }
}
