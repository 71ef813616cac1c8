// Stopping the harness at any moment: the CLI runs as a child process and is signalled during the
// environment's start-up and in the middle of a fault (PostgreSQL frozen). After Ctrl-C (SIGINT)
// nothing of the run is left once the process has exited; after SIGKILL what is left is exactly
// what the next start's sweep removes, and the sweep names it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, inject, it } from "vitest";
import { describeSwept, sweepLeftovers } from "../../src/runtime/cleanup.ts";
import { dockerode } from "../../src/runtime/docker.ts";
import { LABEL_PID } from "../../src/runtime/labels.ts";
import { waitUntil } from "../../src/util/clock.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const skipReason = inject("e2eSkipReason");

/** A scenario whose first step freezes PostgreSQL for longer than any test waits. */
function frozenScenario(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bh-interrupt-"));
  const file = path.join(dir, "frozen.yaml");
  writeFileSync(
    file,
    [
      "name: frozen",
      `environment: ${path.join(ROOT, "environments/default.yaml")}`,
      `slack: ${path.join(ROOT, "scenarios/workspaces/chochacho.yaml")}`,
      "steps:",
      "  - fault.pause: { service: postgres, for: 5m }",
      "",
    ].join("\n"),
  );
  return file;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function harnessRun(scenario: string): Run {
  const runsDir = mkdtempSync(path.join(tmpdir(), "bh-interrupt-runs-"));
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, "bin/bridge-harness.js"),
      "run",
      scenario,
      "--runs-dir",
      runsDir,
      "--report-dir",
      runsDir,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Containers, networks and volumes labelled with this process id (all states, paused included). */
async function resourcesOf(
  pid: number,
): Promise<{ containers: string[]; networks: number; volumes: number }> {
  const docker = await dockerode();
  const filters = { label: [`${LABEL_PID}=${pid}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return {
    containers: containers.map((c) => `${c.Labels["bridge-harness.service"] ?? "?"}:${c.State}`),
    networks: networks.length,
    volumes: (Volumes ?? []).length,
  };
}

async function untilPaused(run: Run): Promise<void> {
  const pid = run.child.pid as number;
  await waitUntil(
    async () => (await resourcesOf(pid)).containers.some((c) => c.endsWith(":paused")) || undefined,
    {
      timeoutMs: 180_000,
      intervalMs: 500,
      describe: () => `a paused container of pid ${pid}\n${run.output()}`,
    },
  );
}

const NOTHING = { containers: [], networks: 0, volumes: 0 };

it.skipIf(skipReason !== "")(
  "Ctrl-C during start-up removes everything before the harness exits",
  async () => {
    const run = harnessRun(frozenScenario());
    // PostgreSQL is up, the homeserver and the bridge are still to come.
    await waitUntil(() => /postgres ready/.test(run.output()) || undefined, {
      timeoutMs: 180_000,
      intervalMs: 100,
      describe: () => `PostgreSQL to start\n${run.output()}`,
    });
    run.child.kill("SIGINT");
    expect(await run.exited, run.output()).toBe(130);
    expect(await resourcesOf(run.child.pid as number), run.output()).toEqual(NOTHING);
  },
  240_000,
);

it.skipIf(skipReason !== "")(
  "Ctrl-C in the middle of a fault (PostgreSQL frozen) removes everything before the harness exits",
  async () => {
    const run = harnessRun(frozenScenario());
    await untilPaused(run);
    run.child.kill("SIGINT");
    expect(await run.exited, run.output()).toBe(130);
    expect(await resourcesOf(run.child.pid as number), run.output()).toEqual(NOTHING);
  },
  240_000,
);

it.skipIf(skipReason !== "")(
  "after SIGKILL in the middle of a fault, the next start's sweep removes what is left and names it",
  async () => {
    const run = harnessRun(frozenScenario());
    await untilPaused(run);
    const pid = run.child.pid as number;
    run.child.kill("SIGKILL");
    await run.exited;
    const left = await resourcesOf(pid);
    expect(left.containers.sort()).toEqual([
      "homeserver:running",
      "mautrix-slack:running",
      "postgres:paused",
    ]);
    expect(left.networks).toBe(1);
    // The sweep every start runs, narrowed to this run's owner (other runs on the machine stay).
    const removed = await sweepLeftovers({ label: `${LABEL_PID}=${pid}` });
    const said = describeSwept(removed);
    expect(said).toMatch(new RegExp(`^run \\S+ \\(pid ${pid}\\): container\\(s\\) `));
    for (const service of ["postgres", "homeserver", "mautrix-slack"]) expect(said).toContain(service);
    expect(said).toContain("1 network(s)");
    expect(await resourcesOf(pid)).toEqual(NOTHING);
  },
  240_000,
);
