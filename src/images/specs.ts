// The images the harness builds, their parents, their pinned versions and the upstream names they
// stand in for. Host-side preparation (go build, pip download) lives in build.ts.
import {
  ARTIFACT_IMAGE_KINDS,
  type ArtifactImageKind,
  type ArtifactPin,
  type PinnedVersions,
} from "./versions.ts";

export type ImageKind = "debian" | "postgres" | "synapse" | "mautrix-slack" | "nginx" | ArtifactImageKind;

export interface ImageSpec {
  /** Short name used on the command line and in progress lines, e.g. `synapse:1.163.2`. */
  name: string;
  kind: ImageKind;
  /** Full local reference, e.g. `bridge-harness/synapse:1.163.2`. */
  ref: string;
  /** Folder under images/ with the Dockerfile and scripts. */
  folder: ImageKind;
  parent: string | null;
  version: string;
  /** Upstream names this image replaces in the image map. */
  upstream: string[];
  /** Everything besides the folder's files that decides the result. */
  recipe: Record<string, unknown>;
  /** Release build packaged from the artifacts folder (continuwuity, tuwunel, MAS). */
  artifact?: ArtifactPin;
}

export const REPOSITORY_PREFIX = "bridge-harness/";

/** Flags of the host-side Go build; part of the cache key. */
export function goBuildArgs(tag: string): string[] {
  return ["build", "-tags", "goolm", "-ldflags", `-s -w -X main.Tag=${tag}`, "-o"];
}

/** Platform selectors of `pip download` for the image's Python; part of the cache key. */
export function pipPlatformArgs(python: string): string[] {
  const abi = `cp${python.replace(".", "")}`;
  return [
    "--only-binary=:all:",
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "linux_x86_64",
    "--python-version",
    python,
    "--implementation",
    "cp",
    "--abi",
    abi,
    "--abi",
    "abi3",
    "--abi",
    "none",
  ];
}

/** Images in build priority order (the ones others wait for first). */
export function imageSpecs(v: PinnedVersions): ImageSpec[] {
  const debianRef = `${REPOSITORY_PREFIX}debian:${v.debian.suite}`;
  const debian: ImageSpec = {
    name: `debian:${v.debian.suite}`,
    kind: "debian",
    ref: debianRef,
    folder: "debian",
    parent: null,
    version: v.debian.suite,
    upstream: [],
    recipe: { suite: v.debian.suite, variant: "minbase" },
  };
  // One image per major, each named only for its own major (postgres:16 is PostgreSQL 16).
  const pgMajors = [
    v.postgres.default,
    ...Object.keys(v.postgres.majors).filter((m) => m !== v.postgres.default),
  ];
  const postgres = pgMajors.map(
    (major): ImageSpec => ({
      name: `postgres:${major}`,
      kind: "postgres",
      ref: `${REPOSITORY_PREFIX}postgres:${major}`,
      folder: "postgres",
      parent: debianRef,
      version: major,
      upstream: [`postgres:${major}`],
      recipe: { major, ...v.postgres.majors[major] },
    }),
  );
  const synapse = (ver: string): ImageSpec => ({
    name: `synapse:${ver}`,
    kind: "synapse",
    ref: `${REPOSITORY_PREFIX}synapse:${ver}`,
    folder: "synapse",
    parent: debianRef,
    version: ver,
    upstream: [`matrixdotorg/synapse:v${ver}`],
    recipe: { version: ver, pip: pipPlatformArgs(v.synapse.python), extra: ["psycopg2-binary"] },
  });
  const slack = v["mautrix-slack"];
  const bridge = (tag: string): ImageSpec => ({
    name: `mautrix-slack:${tag}`,
    kind: "mautrix-slack",
    ref: `${REPOSITORY_PREFIX}mautrix-slack:${tag}`,
    folder: "mautrix-slack",
    parent: debianRef,
    version: tag,
    // Upstream's own registry reference, and the short name older environments use.
    upstream: [`dock.mau.dev/mautrix/slack:${tag}`, `mautrix/slack:${tag}`],
    recipe: { module: slack.module, tag, sum: slack.versions[tag].sum, go: goBuildArgs(tag), cgo: true },
  });
  const nginx: ImageSpec = {
    name: `nginx:${v.nginx.version}`,
    kind: "nginx",
    ref: `${REPOSITORY_PREFIX}nginx:${v.nginx.version}`,
    folder: "nginx",
    parent: debianRef,
    version: v.nginx.version,
    upstream: [`nginx:${v.nginx.version}`],
    recipe: { suite: v.debian.suite },
  };
  const fromArtifacts = ARTIFACT_IMAGE_KINDS.flatMap((kind) => {
    const a = v[kind];
    const tags = [a.default, ...Object.keys(a.versions).filter((t) => t !== a.default)];
    return tags.map(
      (tag): ImageSpec => ({
        name: `${kind}:${tag}`,
        kind,
        ref: `${REPOSITORY_PREFIX}${kind}:${tag}`,
        folder: kind,
        parent: debianRef,
        version: tag,
        upstream: a.upstream.map((repo) => `${repo}:${tag}`),
        recipe: { sha256: a.versions[tag].sha256 },
        artifact: a.versions[tag],
      }),
    );
  });
  const synapseVersions = [v.synapse.default, ...v.synapse.versions.filter((x) => x !== v.synapse.default)];
  const slackTags = [slack.default, ...Object.keys(slack.versions).filter((x) => x !== slack.default)];
  // Priority: postgres, default bridge, default Synapse, then the other versions.
  const [synDefault, ...synOthers] = synapseVersions.map(synapse);
  const [slackDefault, ...slackOthers] = slackTags.map(bridge);
  const all = [
    debian,
    ...postgres.slice(0, 1),
    slackDefault,
    synDefault,
    ...postgres.slice(1),
    ...slackOthers,
    ...synOthers,
    ...fromArtifacts,
    nginx,
  ];
  for (const spec of all) assertSameVersion(spec);
  return all;
}

/** The version an upstream image reference names (its tag without a leading v), if any. */
export function tagVersion(ref: string): string | undefined {
  const at = ref.lastIndexOf(":");
  return at > ref.lastIndexOf("/") ? ref.slice(at + 1).replace(/^v/, "") : undefined;
}

/**
 * Refuses an image that would stand in for an upstream name of another version (postgres:16 served
 * by PostgreSQL 15): every upstream tag must name the image's own version (for PostgreSQL, major).
 */
export function assertSameVersion(spec: ImageSpec): void {
  const own = spec.version.replace(/^v/, "");
  for (const up of spec.upstream) {
    const tag = tagVersion(up);
    if (tag !== undefined && tag !== own)
      throw new Error(
        `${spec.ref} is ${spec.kind} ${spec.version} and cannot stand in for ${up}: an image map entry maps a version only to the same version (build ${up.split(":")[0]} ${tag} instead)`,
      );
  }
}

/** Selects images by `--only` names: `synapse` (every version), `synapse:1.163.2`, or a full ref. */
export function selectImages(
  specs: ImageSpec[],
  only: string[],
): { selected: ImageSpec[]; unknown: string[] } {
  if (only.length === 0) return { selected: specs, unknown: [] };
  const unknown: string[] = [];
  const chosen = new Set<ImageSpec>();
  for (const raw of only) {
    const name = raw.startsWith(REPOSITORY_PREFIX) ? raw.slice(REPOSITORY_PREFIX.length) : raw;
    const matches = specs.filter((s) => s.name === name || s.kind === name);
    if (matches.length === 0) unknown.push(raw);
    for (const m of matches) chosen.add(m);
  }
  return { selected: specs.filter((s) => chosen.has(s)), unknown };
}
