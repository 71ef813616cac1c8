// Named Docker volumes for state that must outlive a container (a homeserver's RocksDB across
// restarts and image swaps), and tar snapshots of a directory inside a stopped container. Volumes
// carry the run's labels, so teardown and the leftover sweep remove them like containers.
import { createReadStream, createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { dockerode } from "./docker.ts";

export async function createVolume(name: string, labels: Record<string, string>): Promise<string> {
  const docker = await dockerode();
  await docker.createVolume({ Name: name, Labels: labels });
  return name;
}

export async function removeVolumeQuietly(name: string): Promise<void> {
  const docker = await dockerode();
  try {
    await docker.getVolume(name).remove({ force: true });
  } catch (err: any) {
    if (err?.statusCode !== 404) throw err;
  }
}

/** Writes `path` (a directory) of a container, running or stopped, as a tar file (top entry: its base name). */
export async function saveDirectory(containerId: string, path: string, tarFile: string): Promise<void> {
  const docker = await dockerode();
  const stream = (await docker.getContainer(containerId).getArchive({ path })) as unknown as Readable;
  await pipeline(stream, createWriteStream(tarFile, { mode: 0o600 }));
}

/** A tar file written by saveDirectory, as testcontainers' withCopyArchivesToContainer takes it. */
export function tarStream(tarFile: string): Readable {
  return createReadStream(tarFile);
}
