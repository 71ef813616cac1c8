// What `check` reads from an environment file: which homeserver and bridge (kind, image), the
// operator's overlay files, MAS, and the `production:` facts only `check` uses. Read here, leniently,
// so environment files with keys the test runtime does not know yet (homeserver kinds, auth) work.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { ConfigError } from "../config/errors.ts";
import { checkValue, type FieldSpec, pairNode, type Walk } from "../config/fields.ts";
import { Reporter, readYamlFile } from "../config/source.ts";
import { PRODUCTION_FIELDS } from "./production-fields.ts";
import { type ConfigFile, parseYamlFile } from "./sources.ts";

export const HOMESERVER_KINDS = ["synapse", "continuwuity", "tuwunel"] as const;
export type HomeserverKind = (typeof HOMESERVER_KINDS)[number];

export interface CheckEnvironment {
  file: string;
  name: string;
  /** The environment file itself, for positions of its keys. */
  source: ConfigFile;
  homeserver: {
    kind: HomeserverKind;
    image?: string;
    serverName?: string;
    overlays: string[];
    auth?: { kind: "mas"; image?: string; overlays: string[] };
  };
  bridge: { image?: string; overlays: string[] };
  production: {
    registration?: string;
    slackAppManifest?: string;
    bridgeRelease?: string;
    hosts?: string[];
    postgresMaxConnections?: number;
    ignore: string[];
  };
}

const TOP_LEVEL = ["name", "description", "homeserver", "postgres", "bridge", "production"];
const str = (doc: string): FieldSpec => ({ type: "string", doc });
const fileList: FieldSpec = { type: "list", items: str("path"), doc: "overlay files" };
const KIND: FieldSpec = { type: "string", enum: HOMESERVER_KINDS, doc: "homeserver kind" };
const AUTH_KIND: FieldSpec = { type: "string", enum: ["mas"], doc: "authentication service kind" };

/** Reads an environment file for `check`; throws ConfigError (file:line:column problems) when it is broken. */
export function readCheckEnvironment(file: string): CheckEnvironment {
  const abs = path.resolve(file);
  const src = readYamlFile(abs, "--environment");
  const r = new Reporter(src);
  const w: Walk = { r };
  const root = src.root as Node | null | undefined;
  if (src.problems.length === 0 && !isMap(root))
    r.report(root, "(root)", "an environment file must be a mapping with homeserver, postgres and bridge");
  if (src.problems.length || !isMap(root)) throw new ConfigError(src.problems);

  const nodeAt = (map: YAMLMap | undefined, key: string) =>
    map ? (pairNode(map, key)?.value as Node | undefined) : undefined;
  const section = (map: YAMLMap | undefined, key: string, field: string) => {
    const node = nodeAt(map, key);
    if (node !== undefined && !isMap(node)) r.report(node, field, "expected a mapping");
    return isMap(node) ? node : undefined;
  };
  const value = (map: YAMLMap | undefined, key: string, spec: FieldSpec, field: string) => {
    const node = nodeAt(map, key);
    return node === undefined ? undefined : checkValue(w, node, spec, field);
  };
  const dir = path.dirname(abs);
  /** An operator file named in the environment: absolute path, reported when it does not exist. */
  const existing = (p: string, node: Node | undefined, field: string): string => {
    const target = path.resolve(dir, p);
    if (!existsSync(target) || !statSync(target).isFile())
      r.report(
        node,
        field,
        `file not found: ${target}`,
        `paths are relative to the environment file's folder (${dir})`,
      );
    return target;
  };
  const files = (map: YAMLMap | undefined, key: string, field: string): string[] => {
    const node = nodeAt(map, key);
    const list = (value(map, key, fileList, field) as string[] | undefined) ?? [];
    return list.map((p, i) => existing(p, isSeq(node) ? (node.items[i] as Node) : node, `${field}[${i}]`));
  };
  const oneFile = (map: YAMLMap | undefined, key: string, field: string): string | undefined => {
    const p = value(map, key, str(""), field) as string | undefined;
    return p === undefined ? undefined : existing(p, nodeAt(map, key), field);
  };

  const hs = section(root, "homeserver", "homeserver");
  const auth = section(hs, "auth", "homeserver.auth");
  const bridge = section(root, "bridge", "bridge");
  const prod = section(root, "production", "production");
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!TOP_LEVEL.includes(key))
      r.report(
        pair.key as Node,
        key,
        `unknown key "${key}" in an environment file`,
        `an environment file has ${TOP_LEVEL.join(", ")}; is this a service's config instead?`,
      );
  }
  for (const key of ["homeserver", "bridge"])
    if (!nodeAt(root, key))
      r.report(root, key, `missing ${key} section`, `every environment names its ${key}`);
  const result: CheckEnvironment = {
    file: abs,
    name: (value(root, "name", str(""), "name") as string | undefined) ?? path.basename(abs, ".yaml"),
    source: parseYamlFile(abs, src.text).file!,
    homeserver: {
      kind: (value(hs, "kind", KIND, "homeserver.kind") as HomeserverKind | undefined) ?? "synapse",
      image: value(hs, "image", str(""), "homeserver.image") as string | undefined,
      serverName: value(hs, "server_name", str(""), "homeserver.server_name") as string | undefined,
      overlays: files(hs, "config", "homeserver.config"),
      ...(auth
        ? {
            auth: {
              kind: (value(auth, "kind", AUTH_KIND, "homeserver.auth.kind") as "mas" | undefined) ?? "mas",
              image: value(auth, "image", str(""), "homeserver.auth.image") as string | undefined,
              overlays: files(auth, "config", "homeserver.auth.config"),
            },
          }
        : {}),
    },
    bridge: {
      image: value(bridge, "image", str(""), "bridge.image") as string | undefined,
      overlays: files(bridge, "config", "bridge.config"),
    },
    production: { ignore: [] },
  };
  if (prod) {
    const facts = (checkValue(w, prod, PRODUCTION_FIELDS, "production") ?? {}) as Record<string, any>;
    result.production = {
      registration: oneFile(prod, "registration", "production.registration"),
      slackAppManifest: oneFile(prod, "slack_app_manifest", "production.slack_app_manifest"),
      bridgeRelease: facts.bridge_release,
      hosts: facts.hosts,
      postgresMaxConnections: facts.postgres_max_connections,
      ignore: facts.ignore ?? [],
    };
  }
  if (src.problems.length) throw new ConfigError(src.problems);
  return result;
}
