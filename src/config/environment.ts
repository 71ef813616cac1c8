// environments/*.yaml: which homeserver, PostgreSQL and bridge images to run, and the operator's
// config overlays (merged over the generated configs). Overlay paths are relative to the file.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { PRODUCTION_FIELDS } from "../check/production-fields.ts";
import type { EnvironmentSpec } from "../environment/api.ts";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { checkObject, type FieldSpec, pairNode, type Walk } from "./fields.ts";
import { Reporter, readYamlFile } from "./source.ts";

/** Docker image references: [registry[:port]/]name[/name...][:tag][@sha256:digest] in lower case. */
export const IMAGE_PATTERN =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

const image = (doc: string): FieldSpec => ({
  type: "string",
  required: true,
  pattern: IMAGE_PATTERN,
  patternHint: 'an image reference like "name:tag" (lower case, e.g. "mautrix/slack:v0.2.0")',
  doc,
});
const overlays: FieldSpec = {
  type: "list",
  items: { type: "string", doc: "path of a YAML file, relative to this environment file" },
  doc: "config overlays: YAML files deep-merged over the generated config, in order",
};

export const ENVIRONMENT_FIELDS: Record<string, FieldSpec> = {
  name: { type: "string", doc: "environment name (default: the file name)" },
  description: { type: "string", doc: "what this environment is for" },
  homeserver: {
    type: "object",
    required: true,
    doc: "the Matrix homeserver",
    fields: {
      kind: { type: "string", enum: ["synapse"], doc: "homeserver implementation (default synapse)" },
      image: image('homeserver image ("matrixdotorg/synapse:v1.163.2")'),
      server_name: {
        type: "string",
        pattern: /^[a-z0-9.-]+(?::\d+)?$/,
        patternHint: 'a server name like "localhost" or "example.test"',
        doc: "the homeserver's domain (default localhost)",
      },
      config: overlays,
    },
  },
  postgres: {
    type: "object",
    required: true,
    doc: "PostgreSQL for the homeserver and the bridge",
    fields: { image: image('PostgreSQL image ("postgres:16")') },
  },
  bridge: {
    type: "object",
    required: true,
    doc: "the bridge under test",
    fields: {
      kind: { type: "string", enum: ["mautrix-slack"], doc: "bridge implementation (default mautrix-slack)" },
      image: image('bridge image ("mautrix/slack:v0.2.0")'),
      config: overlays,
    },
  },
  production: PRODUCTION_FIELDS,
};

export interface LoadedEnvironment {
  file: string;
  spec: EnvironmentSpec;
}

/** Validates an environment file; collects problems into `problems` and returns the spec when there were none. */
export function checkEnvironmentFile(file: string, problems: ConfigProblem[]): LoadedEnvironment | undefined {
  const abs = path.resolve(file);
  const src = readYamlFile(abs);
  const r = new Reporter(src);
  const w: Walk = { r };
  const root = src.root as Node | null | undefined;
  let raw: any;
  if (src.problems.length === 0) {
    if (!isMap(root))
      r.report(root, "(root)", "an environment file must be a mapping with homeserver, postgres and bridge");
    else raw = checkObject(w, root, ENVIRONMENT_FIELDS, "");
  }
  const overlayProblems: ConfigProblem[] = [];
  if (raw && isMap(root)) {
    for (const section of ["homeserver", "bridge"] as const) {
      const sec = pairNode(root, section)?.value;
      const cfg = isMap(sec) ? pairNode(sec, "config")?.value : undefined;
      if (!isSeq(cfg)) continue;
      cfg.items.forEach((item, i) => {
        if (!isScalar(item) || typeof item.value !== "string") return;
        const target = path.resolve(path.dirname(abs), item.value);
        if (!existsSync(target) || !statSync(target).isFile()) {
          r.report(
            item as Node,
            `${section}.config[${i}]`,
            `overlay file not found: ${target}`,
            `paths are relative to the environment file's folder (${path.dirname(abs)})`,
          );
          return;
        }
        const overlay = readYamlFile(target);
        overlayProblems.push(...overlay.problems);
        if (overlay.problems.length === 0 && overlay.root != null && !isMap(overlay.root)) {
          overlayProblems.push({
            file: target,
            line: 1,
            column: 1,
            field: "(root)",
            message: "a config overlay must be a YAML mapping",
          });
        }
      });
    }
  }
  const local = [...src.problems, ...overlayProblems];
  problems.push(...local);
  if (local.length > 0 || !raw) return undefined;
  const hsDir = path.dirname(abs);
  const resolveAll = (list: unknown) =>
    ((list as string[] | undefined) ?? []).map((p) => path.resolve(hsDir, p));
  return {
    file: abs,
    spec: {
      name: raw.name ?? path.basename(abs).replace(/\.ya?ml$/, ""),
      postgres: { image: raw.postgres.image },
      homeserver: {
        kind: "synapse",
        image: raw.homeserver.image,
        serverName: raw.homeserver.server_name ?? "localhost",
        configOverlays: resolveAll(raw.homeserver.config),
      },
      bridge: {
        kind: "mautrix-slack",
        image: raw.bridge.image,
        configOverlays: resolveAll(raw.bridge.config),
      },
    },
  };
}

export function loadEnvironment(file: string): LoadedEnvironment {
  const problems: ConfigProblem[] = [];
  const env = checkEnvironmentFile(file, problems);
  if (!env) throw new ConfigError(problems);
  return env;
}
