// Content hash of an image's inputs. An image whose label `bridge-harness.inputs` equals the hash
// of its current inputs is up to date and is not rebuilt.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const INPUTS_LABEL = "bridge-harness.inputs";
export const IMAGE_LABEL = "bridge-harness.image";

export interface InputFile {
  /** Path relative to the image's folder, with forward slashes. */
  path: string;
  content: Buffer | string;
  executable?: boolean;
}

export interface CacheKeyInputs {
  image: string;
  files: InputFile[];
  /** Pinned versions and how the host-side steps are run (flags, tags): anything that changes the result. */
  recipe: unknown;
  /** Image id of the parent image, or null for a base image. */
  parentId: string | null;
}

/** Stable JSON: object keys sorted, so that key order never changes the hash. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function computeCacheKey(inputs: CacheKeyInputs): string {
  const files = [...inputs.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => ({
      path: f.path,
      sha256: createHash("sha256").update(f.content).digest("hex"),
      executable: f.executable === true,
    }));
  const doc = stableJson({
    v: 1,
    image: inputs.image,
    files,
    recipe: inputs.recipe,
    parentId: inputs.parentId,
  });
  return createHash("sha256").update(doc).digest("hex").slice(0, 32);
}

/** Every regular file under `dir` (recursively), for the cache key. */
export function readFolderFiles(dir: string): InputFile[] {
  const out: InputFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile())
        out.push({
          path: relative(dir, full).split("\\").join("/"),
          content: readFileSync(full),
          executable: (st.mode & 0o111) !== 0,
        });
    }
  };
  walk(dir);
  return out;
}
