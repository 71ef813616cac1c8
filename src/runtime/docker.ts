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
