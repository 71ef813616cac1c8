// The image map: which local image stands in for an upstream image name (`postgres:16` ->
// `bridge-harness/postgres:16`). Machines without a registry run every environment through it.
//
// Sources, first found wins: `--image-map <file>`, then $BRIDGE_HARNESS_IMAGE_MAP (a file path),
// then .cache/image-map.json, which `images build` writes after a successful build.
// File format (JSON or YAML): a flat object of `upstream: local` pairs, e.g.
//   postgres:16: bridge-harness/postgres:16
//   matrixdotorg/synapse:v1.163.2: bridge-harness/synapse:1.163.2
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { capture, inspectImage } from "./docker-cli.ts";

export const IMAGE_MAP_ENV = "BRIDGE_HARNESS_IMAGE_MAP";
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_IMAGE_MAP_PATH = join(PROJECT_ROOT, ".cache", "image-map.json");
export const BUILD_COMMAND = "./harness images build";

export interface ImageMap {
  /** upstream name -> local name */
  entries: Record<string, string>;
  /** The file the entries came from, or null when there was none. */
  source: string | null;
}

/** Parses the text of an image-map file (JSON or YAML). Throws with the file name and the bad entry. */
export function parseImageMap(text: string, source: string): Record<string, string> {
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new Error(`${source}: not valid JSON or YAML: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new Error(`${source}: expected an object of "upstream image: local image" pairs`);
  }
  const entries: Record<string, string> = {};
  for (const [upstream, local] of Object.entries(data as Record<string, unknown>)) {
    if (typeof local !== "string" || local.trim() === "") {
      throw new Error(
        `${source}: entry "${upstream}" must map to an image name (string), got ${JSON.stringify(local)}`,
      );
    }
    entries[upstream.trim()] = local.trim();
  }
  return entries;
}

export function loadImageMap(opts: { flag?: string; env?: string; defaultPath?: string } = {}): ImageMap {
  const explicit = opts.flag
    ? { path: opts.flag, origin: "--image-map" }
    : opts.env
      ? { path: opts.env, origin: `$${IMAGE_MAP_ENV}` }
      : undefined;
  if (explicit) {
    const path = resolve(explicit.path);
    if (!existsSync(path)) throw new Error(`${explicit.origin}: image map file ${path} does not exist`);
    return { entries: parseImageMap(readFileSync(path, "utf8"), path), source: path };
  }
  const fallback = opts.defaultPath ?? DEFAULT_IMAGE_MAP_PATH;
  if (!existsSync(fallback)) return { entries: {}, source: null };
  return { entries: parseImageMap(readFileSync(fallback, "utf8"), fallback), source: fallback };
}

/** The local image for an upstream name; the name itself when the map has no entry for it. */
export function resolveImage(upstream: string, map: ImageMap | Record<string, string>): string {
  const entries = "entries" in map && typeof map.entries === "object" ? map.entries : map;
  return (entries as Record<string, string>)[upstream] ?? upstream;
}

/** The message for an image the engine does not have. */
export function missingImageMessage(image: string): string {
  const local = /^bridge-harness\/([^:]+)(?::(.+))?$/.exec(image);
  const build = local
    ? `${BUILD_COMMAND} --only ${local[1]}${local[2] ? `:${local[2]}` : ""}`
    : BUILD_COMMAND;
  const lines = [
    `Docker image ${image} is not present in the local Docker engine, and this machine pulls nothing from a registry.`,
    `Build the images with: ${build}`,
  ];
  if (!local) {
    lines.push(
      `Then run with the image map it writes (${DEFAULT_IMAGE_MAP_PATH}), or point --image-map / $${IMAGE_MAP_ENV} at a file mapping "${image}" to a local image.`,
    );
  }
  return lines.join("\n");
}

/** Throws when no Docker engine answers, saying how to get one. */
export async function checkDockerEngine(): Promise<void> {
  const r = await capture("docker", ["version", "--format", "{{.Server.Version}}"]);
  if (r.code === 0 && r.stdout.trim() !== "") return;
  const reason =
    r.code === 127 ? "the docker command is not installed" : (r.stderr.trim().split("\n").pop() ?? "");
  throw new Error(
    [
      `No Docker engine is reachable (${reason}).`,
      "Install and start one: on Debian `apt-get install docker.io` and then `dockerd &` (as root),",
      "or run `bash scripts/setup.sh`, which does both. Set DOCKER_HOST if the engine listens elsewhere.",
    ].join("\n"),
  );
}

/** Throws, naming every missing image and the command that builds it, unless the engine has them all. */
export async function assertImagesPresent(
  images: string[],
  deps: { checkEngine?: () => Promise<void>; inspect?: (ref: string) => Promise<unknown> } = {},
): Promise<void> {
  await (deps.checkEngine ?? checkDockerEngine)();
  const inspect = deps.inspect ?? inspectImage;
  const missing: string[] = [];
  for (const image of [...new Set(images)]) {
    if (!(await inspect(image))) missing.push(image);
  }
  if (missing.length === 0) return;
  throw new Error(missing.map(missingImageMessage).join("\n\n"));
}
