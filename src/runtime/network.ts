// One Docker network per run, labelled like the containers. Containers reach each other through
// network aliases; they reach servers on the host through the network's gateway IP.
import "./docker-env.ts";
import { getContainerRuntimeClient, StartedNetwork } from "testcontainers";

export interface RunNetwork {
  network: StartedNetwork;
  name: string;
  id: string;
  /** The host's address on this network (bind host servers containers must reach to it). */
  gatewayIp: string;
  remove(): Promise<void>;
}

export async function createRunNetwork(runId: string, labels: Record<string, string>): Promise<RunNetwork> {
  const client = await getContainerRuntimeClient();
  const name = `bridge-harness-${runId}`.slice(0, 63);
  const dockerNetwork = await client.network.create({
    Name: name,
    CheckDuplicate: true,
    Driver: "bridge",
    Internal: false,
    Attachable: false,
    Ingress: false,
    EnableIPv6: false,
    Labels: labels,
  });
  const network = new StartedNetwork(client, name, dockerNetwork);
  const info = await dockerNetwork.inspect();
  const gatewayIp: string | undefined = info?.IPAM?.Config?.[0]?.Gateway;
  if (!gatewayIp)
    throw new Error(`Docker network ${name} has no gateway address (IPAM: ${JSON.stringify(info?.IPAM)})`);
  let removed = false;
  return {
    network,
    name,
    id: dockerNetwork.id,
    gatewayIp,
    async remove() {
      if (removed) return;
      removed = true;
      try {
        await dockerNetwork.remove();
      } catch (err: any) {
        if (err?.statusCode !== 404) throw err;
      }
    },
  };
}
