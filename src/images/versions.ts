// The pinned versions in images/versions.json, typed.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A release build that no reachable registry serves, packaged from the artifacts folder. */
export interface ArtifactPin {
  /** Path under the artifacts folder. */
  artifact: string;
  sha256: string;
}

export interface ArtifactImageVersions {
  default: string;
  /** Upstream repositories (without tag) the image stands in for. */
  upstream: string[];
  versions: Record<string, ArtifactPin>;
}

export const ARTIFACT_IMAGE_KINDS = ["continuwuity", "tuwunel", "matrix-authentication-service"] as const;
export type ArtifactImageKind = (typeof ARTIFACT_IMAGE_KINDS)[number];

export interface PinnedVersions {
  debian: { suite: string };
  postgres: { major: number };
  synapse: { default: string; versions: string[]; python: string };
  "mautrix-slack": { default: string; module: string; versions: Record<string, { sum: string }> };
  continuwuity: ArtifactImageVersions;
  tuwunel: ArtifactImageVersions;
  "matrix-authentication-service": ArtifactImageVersions;
  /** Debian's nginx (the reverse proxy in front of Synapse + MAS). */
  nginx: { version: string };
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
  for (const kind of ARTIFACT_IMAGE_KINDS) {
    const a = data[kind];
    if (!Array.isArray(a?.upstream) || a.upstream.length === 0) problems.push(`"${kind}".upstream (list)`);
    if (!a?.versions?.[a?.default]) problems.push(`"${kind}".default (a key of versions)`);
    for (const [tag, pin] of Object.entries(a?.versions ?? {})) {
      if (typeof pin?.artifact !== "string") problems.push(`"${kind}".versions.${tag}.artifact (path)`);
      if (!/^[a-f0-9]{64}$/.test(pin?.sha256 ?? "")) problems.push(`"${kind}".versions.${tag}.sha256 (hex)`);
    }
  }
  if (typeof data.nginx?.version !== "string") problems.push("nginx.version (string)");
  if (problems.length > 0) throw new Error(`${file}: missing or invalid ${problems.join(", ")}`);
  return data;
}
