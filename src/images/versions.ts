// The pinned versions in images/versions.json, typed.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface PinnedVersions {
  debian: { suite: string };
  postgres: { major: number };
  synapse: { default: string; versions: string[]; python: string };
  "mautrix-slack": { default: string; module: string; versions: Record<string, { sum: string }> };
}

export function loadVersions(imagesDir: string): PinnedVersions {
  const file = join(imagesDir, "versions.json");
  const data = JSON.parse(readFileSync(file, "utf8")) as PinnedVersions;
  const problems: string[] = [];
  if (typeof data.debian?.suite !== "string") problems.push("debian.suite (string)");
  if (typeof data.postgres?.major !== "number") problems.push("postgres.major (number)");
  if (!Array.isArray(data.synapse?.versions) || data.synapse.versions.length === 0)
    problems.push("synapse.versions (non-empty list)");
  const slack = data["mautrix-slack"];
  if (typeof slack?.module !== "string") problems.push('"mautrix-slack".module (string)');
  for (const [tag, v] of Object.entries(slack?.versions ?? {})) {
    if (!/^h1:[A-Za-z0-9+/=]+$/.test(v?.sum ?? ""))
      problems.push(`"mautrix-slack".versions.${tag}.sum (h1:...)`);
  }
  if (problems.length > 0) throw new Error(`${file}: missing or invalid ${problems.join(", ")}`);
  return data;
}
