// Access to the Docker engine through testcontainers' client (same connection settings).
import "./docker-env.ts";
import type Dockerode from "dockerode";
import { getContainerRuntimeClient } from "testcontainers";

export async function dockerode(): Promise<Dockerode> {
  const client = await getContainerRuntimeClient();
  return client.container.dockerode;
}

/** The exit code and status of a container, or undefined when it no longer exists. */
export async function containerState(
  id: string,
): Promise<{ status: string; running: boolean; exitCode: number; oomKilled: boolean } | undefined> {
  const docker = await dockerode();
  try {
    const info = await docker.getContainer(id).inspect();
    return {
      status: info.State.Status,
      running: info.State.Running,
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
    };
  } catch {
    return undefined;
  }
}

/** Ids of containers carrying all of these labels (running or not). */
export async function containersByLabels(labels: Record<string, string>): Promise<string[]> {
  const docker = await dockerode();
  const list = await docker.listContainers({
    all: true,
    filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
  });
  return list.map((c) => c.Id);
}

/** Splits Docker's multiplexed (non-TTY) log format into text; plain text passes through. */
export function demuxDockerLogs(buf: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0 || i + 8 + size > buf.length) {
      return out + buf.subarray(i).toString("utf8");
    }
    out += buf.subarray(i + 8, i + 8 + size).toString("utf8");
    i += 8 + size;
  }
  return out + buf.subarray(i).toString("utf8");
}

/** Everything a container wrote so far (stdout and stderr), or "" when it is gone. */
export async function containerLogsText(id: string): Promise<string> {
  const docker = await dockerode();
  try {
    const raw = (await docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, follow: false })) as unknown;
    return Buffer.isBuffer(raw) ? demuxDockerLogs(raw) : String(raw ?? "");
  } catch {
    return "";
  }
}
