// The schema knowledge file (schema-versions.json) and lookups into it.
// Refresh the file with `node src/upgrade/derive-schema-versions.ts` (see docs/upgrades.md).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ReleaseSchema, SectionName } from "./schema.ts";

export const SCHEMA_FILE = fileURLToPath(new URL("./schema-versions.json", import.meta.url));

export interface SchemaFile {
  description: string;
  /** Version table of each section, as read from the sources. */
  tables: Record<SectionName, string>;
  /** Known releases, oldest first. */
  releases: ReleaseSchema[];
}

let cached: SchemaFile | undefined;

export function loadSchemaFile(): SchemaFile {
  cached ??= JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as SchemaFile;
  return cached;
}

/** Orders release tags numerically: v0.1.0 < v0.2.0 < v0.2510.0 < v0.2606.0. */
export function compareReleases(a: string, b: string): number {
  const pa = a.replace(/^v/, "").split(/[.-]/);
  const pb = b.replace(/^v/, "").split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = Number(x);
    const ny = Number(y);
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && x !== "" && y !== "") {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The release tag of an image reference: "bridge-harness/mautrix-slack:v0.1.0" -> "v0.1.0". */
export function releaseOfImage(image: string): string | undefined {
  const noDigest = image.split("@")[0]!;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  if (colon <= slash) return undefined;
  const tag = noDigest.slice(colon + 1);
  return /^v?\d+\.\d+/.test(tag) ? (tag.startsWith("v") ? tag : `v${tag}`) : undefined;
}

/** Looks a release up by tag ("v0.2.0") or image reference. Throws when unknown. */
export function findRelease(tagOrImage: string, file: SchemaFile = loadSchemaFile()): ReleaseSchema {
  const tag = tagOrImage.includes(":") || tagOrImage.includes("/") ? releaseOfImage(tagOrImage) : tagOrImage;
  const r = tag ? file.releases.find((x) => x.release === tag) : undefined;
  if (!r) {
    throw new Error(
      `no schema data for ${tagOrImage}; known: ${file.releases.map((x) => x.release).join(", ")} ` +
        "(add it with node src/upgrade/derive-schema-versions.ts)",
    );
  }
  return r;
}
