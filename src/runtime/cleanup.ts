// Cleanup by label. No reaper container exists offline, so:
//  - each run keeps a teardown stack (LIFO, idempotent) run by stop(), by SIGINT/SIGTERM, and — as a
//    synchronous last resort through the docker CLI — when the process exits or dies of an uncaught error;
//  - at start, a sweep removes leftovers of earlier runs whose pid label is not a live process.
import "./docker-env.ts";
import { execFileSync } from "node:child_process";
import { dockerode } from "./docker.ts";
import { LABEL_KEEP, LABEL_PID, LABEL_RUN, LABEL_SERVICE } from "./labels.ts";
import { removeVolumeQuietly } from "./volumes.ts";

type Step = { name: string; fn: () => Promise<void> | void };

/** Teardown steps of one run, run last-in first-out, at most once. */
export class Teardown {
  readonly runId: string;
  private readonly steps: Step[] = [];
  private running: Promise<string[]> | undefined;
  private finished = false;
  /** Work that may still create containers for this run (the environment's start-up). */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Set by `keep`: process-exit hooks leave the run's containers running. */
  keep: boolean;

  constructor(runId: string, opts: { keep?: boolean } = {}) {
    this.runId = runId;
    this.keep = opts.keep ?? false;
    activeTeardowns.add(this);
    installProcessHooks();
  }

  add(name: string, fn: () => Promise<void> | void): void {
    if (this.running) throw new Error(`Teardown of run ${this.runId} already started; cannot add "${name}"`);
    this.steps.push({ name, fn });
  }

  get done(): boolean {
    return this.finished;
  }

  /** Work that may create containers for this run: an interrupt waits for it before its last sweep. */
  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    settled.then(() => this.inflight.delete(settled));
  }

  /**
   * Teardown for an interrupt: the steps, then — since a start-up still under way may create a
   * container after that — once it settled (or after `settleMs`), the run's label once more.
   */
  async interrupt(settleMs = 20_000): Promise<string[]> {
    const errors = await this.run();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.inflight]),
      new Promise((r) => {
        timer = setTimeout(r, settleMs);
      }),
    ]);
    clearTimeout(timer);
    try {
      await removeRunResources(this.runId);
    } catch (err) {
      errors.push(`label cleanup: ${err instanceof Error ? err.message : String(err)}`);
    }
    return errors;
  }

  /** Runs every step (even when some fail); resolves with the errors, never rejects. Idempotent. */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const errors: string[] = [];
      for (const step of [...this.steps].reverse()) {
        try {
          await step.fn();
        } catch (err) {
          errors.push(`${step.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      // Whatever a step missed (containers created by a failed start, for instance).
      try {
        await removeRunResources(this.runId);
      } catch (err) {
        errors.push(`label cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
      activeTeardowns.delete(this);
      this.finished = true;
      return errors;
    })();
    return this.running;
  }
}

const activeTeardowns = new Set<Teardown>();
let hooksInstalled = false;

let interrupting: Promise<void> | undefined;

/**
 * Tears down every run of this process that is not kept — also one still starting — and resolves
 * when their containers, networks and volumes are gone. Idempotent: the signal hook and the CLI
 * wait for the same work.
 */
export function interruptRuns(): Promise<void> {
  interrupting ??= (async () => {
    const pending = [...activeTeardowns].filter((t) => !t.keep);
    if (pending.length)
      process.stderr.write(`\nbridge-harness: removing the containers of ${pending.length} run(s)...\n`);
    await Promise.allSettled(pending.map((t) => t.interrupt()));
  })();
  return interrupting;
}

function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === "SIGINT" ? 130 : 143;
    // A second signal exits at once (the exit hook still removes by label synchronously).
    process.once(signal, () => process.exit(code));
    interruptRuns().finally(() => process.exit(code));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.on("uncaughtExceptionMonitor", () => syncCleanupAll());
  process.on("exit", () => syncCleanupAll());
}

/** Synchronous removal through the docker CLI, for exit paths where nothing async runs any more. */
function syncCleanupAll(): void {
  for (const t of [...activeTeardowns]) {
    // A teardown under way when the process is forced out may not have reached every container.
    if (t.keep || t.done) continue;
    activeTeardowns.delete(t);
    const filter = `label=${LABEL_RUN}=${t.runId}`;
    // Containers first: networks and volumes cannot go while a container uses them.
    for (const [list, remove] of [
      [
        ["ps", "-aq"],
        ["rm", "-f", "-v"],
      ],
      [
        ["network", "ls", "-q"],
        ["network", "rm"],
      ],
      [
        ["volume", "ls", "-q"],
        ["volume", "rm", "-f"],
      ],
    ]) {
      try {
        const ids = execFileSync("docker", [...list, "--filter", filter], {
          encoding: "utf8",
          timeout: 10_000,
        })
          .split("\n")
          .filter(Boolean);
        if (ids.length) execFileSync("docker", [...remove, ...ids], { stdio: "ignore", timeout: 30_000 });
      } catch {
        // Best effort: the next run's sweep removes what is left.
      }
    }
  }
}

/** Removes every container (forced, with volumes), then every network and named volume labelled with this run id. */
export async function removeRunResources(runId: string): Promise<void> {
  const docker = await dockerode();
  const filter = { label: [`${LABEL_RUN}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters: filter });
  await Promise.all(containers.map((c) => removeContainerQuietly(c.Id)));
  const networks = await docker.listNetworks({ filters: filter });
  for (const n of networks) {
    try {
      await docker.getNetwork(n.Id).remove();
    } catch (err: any) {
      if (err?.statusCode !== 404) throw err;
    }
  }
  const { Volumes: volumes } = await docker.listVolumes({ filters: filter });
  await Promise.all((volumes ?? []).map((v) => removeVolumeQuietly(v.Name)));
}

export async function removeContainerQuietly(id: string): Promise<void> {
  const docker = await dockerode();
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err: any) {
    // 404: already gone; 409: removal already in progress.
    if (err?.statusCode !== 404 && err?.statusCode !== 409) throw err;
  }
}

export interface LabelledResource {
  id: string;
  kind: "container" | "network" | "volume";
  labels: Record<string, string>;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err?.code === "EPERM";
  }
}

/**
 * Which resources are leftovers: labelled by the harness, not kept on purpose (unless `includeKept`),
 * and owned by a process that no longer exists. Resources of the current process are never selected.
 */
export function selectLeftovers(
  resources: LabelledResource[],
  opts: { isAlive?: (pid: number) => boolean; includeKept?: boolean; currentPid?: number } = {},
): LabelledResource[] {
  const isAlive = opts.isAlive ?? isProcessAlive;
  const currentPid = opts.currentPid ?? process.pid;
  return resources.filter((r) => {
    const runId = r.labels[LABEL_RUN];
    const pidLabel = r.labels[LABEL_PID];
    if (!runId || pidLabel === undefined) return false;
    if (r.labels[LABEL_KEEP] === "true" && !opts.includeKept) return false;
    const pid = Number(pidLabel);
    if (pid === currentPid) return false;
    return !isAlive(pid);
  });
}

/**
 * Removes leftovers of earlier runs (see selectLeftovers). Returns what was removed. `label`
 * ("key=value") narrows the candidates (e.g. to one owner's pid).
 */
export async function sweepLeftovers(
  opts: { includeKept?: boolean; label?: string } = {},
): Promise<LabelledResource[]> {
  const docker = await dockerode();
  const filter = { label: [LABEL_PID, ...(opts.label ? [opts.label] : [])] };
  const containers = await docker.listContainers({ all: true, filters: filter });
  const networks = await docker.listNetworks({ filters: filter });
  const { Volumes: volumes } = await docker.listVolumes({ filters: filter });
  const resources: LabelledResource[] = [
    ...containers.map((c) => ({ id: c.Id, kind: "container" as const, labels: c.Labels ?? {} })),
    ...networks.map((n) => ({ id: n.Id, kind: "network" as const, labels: n.Labels ?? {} })),
    ...(volumes ?? []).map((v) => ({ id: v.Name, kind: "volume" as const, labels: v.Labels ?? {} })),
  ];
  const leftovers = selectLeftovers(resources, opts);
  await Promise.all(leftovers.filter((r) => r.kind === "container").map((r) => removeContainerQuietly(r.id)));
  for (const r of leftovers.filter((x) => x.kind === "network")) {
    try {
      await docker.getNetwork(r.id).remove();
    } catch (err: any) {
      if (err?.statusCode !== 404) throw err;
    }
  }
  await Promise.all(leftovers.filter((r) => r.kind === "volume").map((r) => removeVolumeQuietly(r.id)));
  return leftovers;
}

/** One line naming what a sweep removed, per run: "run X (pid 123): postgres, synapse containers; 1 network". */
export function describeSwept(removed: readonly LabelledResource[]): string {
  const runs = new Map<string, LabelledResource[]>();
  for (const r of removed) {
    const key = `run ${r.labels[LABEL_RUN]} (pid ${r.labels[LABEL_PID]})`;
    runs.set(key, [...(runs.get(key) ?? []), r]);
  }
  return [...runs]
    .map(([run, list]) => {
      const containers = list
        .filter((r) => r.kind === "container")
        .map((r) => r.labels[LABEL_SERVICE] ?? r.id.slice(0, 12));
      const networks = list.filter((r) => r.kind === "network").length;
      const volumes = list.filter((r) => r.kind === "volume").length;
      const parts = [
        containers.length ? `container(s) ${containers.join(", ")}` : "",
        networks ? `${networks} network(s)` : "",
        volumes ? `${volumes} volume(s)` : "",
      ].filter(Boolean);
      return `${run}: ${parts.join(", ")}`;
    })
    .join("; ");
}
