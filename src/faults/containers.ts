// Service faults at the container level, through the Docker engine: SIGKILL, freezing (pause), and
// cutting a container off the run's network, then putting it back with the aliases it had there.
import { dockerode } from "../runtime/docker.ts";

export async function killContainers(ids: readonly string[]): Promise<void> {
  const docker = await dockerode();
  await Promise.all(ids.map((id) => docker.getContainer(id).kill({ signal: "SIGKILL" })));
}

export async function pauseContainers(ids: readonly string[]): Promise<void> {
  const docker = await dockerode();
  await Promise.all(ids.map((id) => docker.getContainer(id).pause()));
}

export async function unpauseContainers(ids: readonly string[]): Promise<void> {
  const docker = await dockerode();
  await Promise.all(ids.map((id) => docker.getContainer(id).unpause()));
}

/**
 * Disconnects the containers from `network`; returns what reconnects them with the same network
 * aliases ("homeserver", "postgres", ...), so the others find them again by name.
 */
export async function disconnectContainers(
  ids: readonly string[],
  network: string,
): Promise<() => Promise<void>> {
  const docker = await dockerode();
  const net = docker.getNetwork(network);
  const aliases = new Map<string, string[]>();
  for (const id of ids) {
    const info = await docker.getContainer(id).inspect();
    const endpoint = info.NetworkSettings.Networks[network];
    if (!endpoint) throw new Error(`container ${id.slice(0, 12)} is not on network ${network}`);
    // Docker adds the short container id as an alias of its own on reconnect.
    aliases.set(
      id,
      (endpoint.Aliases ?? []).filter((a: string) => !id.startsWith(a)),
    );
  }
  await Promise.all(ids.map((id) => net.disconnect({ Container: id, Force: true })));
  return async () => {
    for (const id of ids)
      await net.connect({ Container: id, EndpointConfig: { Aliases: aliases.get(id) ?? [] } });
  };
}
