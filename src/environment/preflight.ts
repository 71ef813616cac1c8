// Checks before anything starts: the Docker engine answers, and every image is present locally
// (nothing is ever pulled). Upstream image names are turned into local ones through the image map
// (src/images/image-map.ts when present, else the built-in bridge-harness/* naming).
import "../runtime/docker-env.ts";
import { assertImagesPresent, checkDockerEngine, loadImageMap } from "../images/image-map.ts";
import { dockerode } from "../runtime/docker.ts";
import type { EnvironmentSpec } from "./api.ts";

export interface ResolvedImages {
  postgres: string;
  homeserver: string;
  bridge: string;
  /** With homeserver.auth: matrix-authentication-service and the reverse proxy in front. */
  mas?: string;
  proxy?: string;
}

/** Built-in fallback for the upstream names used in specs (the image map, when present, comes first). */
export function defaultLocalImage(upstream: string): string {
  const [name, tag = "latest"] = splitImage(upstream);
  const base = name.replace(/^(docker\.io\/|ghcr\.io\/)/, "").replace(/^library\//, "");
  const repo = base.split("/").pop();
  if (repo === "continuwuity" || repo === "tuwunel" || repo === "matrix-authentication-service")
    return `bridge-harness/${repo}:${tag}`;
  if (base === "nginx") return `bridge-harness/nginx:${tag}`;
  // Each major only from its own: postgres:16 is bridge-harness/postgres:16 (see images/versions.json).
  if (base === "postgres") return `bridge-harness/postgres:${tag.split(/[.-]/)[0]}`;
  if (base === "matrixdotorg/synapse" || base === "element-hq/synapse")
    return `bridge-harness/synapse:${tag.replace(/^v/, "")}`;
  if (base === "mautrix/slack" || base === "dock.mau.dev/mautrix/slack")
    return `bridge-harness/mautrix-slack:${tag}`;
  return upstream;
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(":");
  if (at > image.lastIndexOf("/")) return [image.slice(0, at), image.slice(at + 1)];
  return [image, undefined];
}

/**
 * Upstream -> local: the explicit map (StartOptions.imageMap) first, then the image map file
 * (--image-map / $BRIDGE_HARNESS_IMAGE_MAP / .cache/image-map.json), then the built-in naming.
 */
export function resolveImage(
  upstream: string,
  map: Record<string, string> = {},
  fileMap?: Record<string, string>,
): string {
  return map[upstream] ?? fileMap?.[upstream] ?? defaultLocalImage(upstream);
}

function imageMapFile(): Record<string, string> {
  try {
    return loadImageMap({ env: process.env.BRIDGE_HARNESS_IMAGE_MAP }).entries;
  } catch {
    return {};
  }
}

export function resolveImages(spec: EnvironmentSpec, map: Record<string, string> = {}): ResolvedImages {
  const fileMap = imageMapFile();
  const auth = spec.homeserver.auth;
  return {
    postgres: resolveImage(spec.postgres.image, map, fileMap),
    homeserver: resolveImage(spec.homeserver.image, map, fileMap),
    bridge: resolveImage(spec.bridge.image, map, fileMap),
    ...(auth
      ? { mas: resolveImage(auth.image, map, fileMap), proxy: resolveImage(auth.proxyImage, map, fileMap) }
      : {}),
  };
}

export async function checkDocker(): Promise<void> {
  try {
    const docker = await dockerode();
    await docker.ping();
  } catch (err) {
    throw new Error(
      `The Docker engine does not answer (${err instanceof Error ? err.message : String(err)}). ` +
        "Start dockerd (or set DOCKER_HOST) and try again.",
    );
  }
}

/** Names of images that are not present locally. */
export async function missingImages(images: string[]): Promise<string[]> {
  const docker = await dockerode();
  const missing: string[] = [];
  for (const image of new Set(images)) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      missing.push(image);
    }
  }
  return missing;
}

/** Docker engine first, then every image (messages say how to build what is missing). */
export async function checkPrerequisites(images: string[]): Promise<void> {
  await checkDockerEngine();
  await assertImagesPresent(images);
}
