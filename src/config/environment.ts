// environments/*.yaml: which homeserver, PostgreSQL and bridge images to run, and the operator's
// config overlays (merged over the generated configs). Overlay paths are relative to the file.
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { PRODUCTION_FIELDS } from "../check/production-fields.ts";
import type { EnvironmentSpec } from "../environment/api.ts";
import {
  APPSERVICE_REGISTRATION_METHODS,
  type AppserviceRegistrationMethod,
  HOMESERVER_KINDS,
  type HomeserverKind,
} from "../homeservers/api.ts";
import { HOMESERVER_KIND_INFO, ownedEnvironmentVariable } from "../homeservers/kinds.ts";
import { parseTomlText } from "../homeservers/overlays.ts";
import { ConfigError, type ConfigProblem, quoteList } from "./errors.ts";
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
/** The proxy MAS deployments put in front (login/logout/refresh to MAS, the rest to Synapse). */
export const DEFAULT_PROXY_IMAGE = "nginx:1.22";

export const ENVIRONMENT_FIELDS: Record<string, FieldSpec> = {
  name: { type: "string", doc: "environment name (default: the file name)" },
  description: { type: "string", doc: "what this environment is for" },
  homeserver: {
    type: "object",
    required: true,
    doc: "the Matrix homeserver",
    fields: {
      kind: {
        type: "string",
        enum: HOMESERVER_KINDS,
        doc: "homeserver implementation (default synapse)",
      },
      image: image(
        'homeserver image ("matrixdotorg/synapse:v1.163.2", "forgejo.ellis.link/continuwuation/continuwuity:v0.5.0-rc4", "ghcr.io/matrix-construct/tuwunel:v1.4.6")',
      ),
      server_name: {
        type: "string",
        pattern: /^[a-z0-9.-]+(?::\d+)?$/,
        patternHint: 'a server name like "localhost" or "example.test"',
        doc: "the homeserver's domain (default localhost)",
      },
      config: {
        ...overlays,
        doc: "config overlays merged over the generated config, in order: YAML files for Synapse, TOML files for continuwuity and tuwunel",
      },
      env: {
        type: "map",
        values: { type: "string", doc: "value" },
        doc: "environment variables of the homeserver container (continuwuity/tuwunel read config from them, e.g. CONTINUWUITY_LOG)",
      },
      appservice_registration: {
        type: "string",
        enum: APPSERVICE_REGISTRATION_METHODS,
        doc: "how the bridge's registration reaches the homeserver: config (Synapse's app_service_config_files, tuwunel's [global.appservice.<id>]), admin_room (`!admin appservices register`, continuwuity and tuwunel) or none (nothing: reproduces a registration that does not happen). Default: config for Synapse, admin_room otherwise",
      },
      auth: {
        type: "object",
        doc: "authentication in front of Synapse: matrix-authentication-service behind a reverse proxy",
        fields: {
          kind: { type: "string", enum: ["mas"], required: true, doc: "mas (matrix-authentication-service)" },
          image: image('MAS image ("ghcr.io/element-hq/matrix-authentication-service:1.22.0")'),
          config: { ...overlays, doc: "YAML overlays merged over MAS's generated config, in order" },
          proxy_image: {
            ...image(`reverse proxy image (default "${DEFAULT_PROXY_IMAGE}")`),
            required: false,
          },
        },
      },
    },
  },
  known_issues: {
    type: "list",
    doc: "known behaviour of the software this environment runs (usually upstream): matching log lines are not counted by expect.logs / expect.health but reported with the reason in every report",
    items: {
      type: "object",
      doc: "one known issue",
      fields: {
        service: { type: "string", enum: ["bridge", "homeserver"], required: true, doc: "whose log" },
        log: { type: "string", required: true, doc: "regular expression matching the issue's log lines" },
        reason: { type: "string", required: true, doc: "what it is and where the evidence is" },
      },
    },
  },
  matrix_client: {
    type: "object",
    doc: "how the harness's Matrix users sync, when this homeserver needs other than Element's defaults",
    fields: {
      sync_timeout: {
        type: "duration",
        required: true,
        doc: "the /sync long-poll timeout (Element and the default: 30s)",
      },
      reason: { type: "string", required: true, doc: "why this environment needs it (shown in reports)" },
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
  const kind: HomeserverKind = raw?.homeserver?.kind ?? "synapse";
  const info = HOMESERVER_KIND_INFO[kind];
  if (raw && isMap(root)) {
    const hs = pairNode(root, "homeserver")?.value;
    const auth = isMap(hs) ? pairNode(hs, "auth")?.value : undefined;
    const overlayLists: { node: unknown; field: string; format: "yaml" | "toml" }[] = [
      {
        node: isMap(hs) ? pairNode(hs, "config")?.value : undefined,
        field: "homeserver.config",
        format: info.configFormat,
      },
      {
        node: isMap(auth) ? pairNode(auth, "config")?.value : undefined,
        field: "homeserver.auth.config",
        format: "yaml",
      },
      { node: configOf(root, "bridge"), field: "bridge.config", format: "yaml" },
    ];
    for (const list of overlayLists)
      overlayProblems.push(...checkOverlayFiles(r, list.node, list.field, list.format, path.dirname(abs)));
    checkHomeserverKind(r, hs, raw.homeserver, kind);
    const issues = pairNode(root, "known_issues")?.value;
    (raw.known_issues ?? []).forEach((issue: { log?: string }, i: number) => {
      try {
        new RegExp(issue.log ?? "");
      } catch (err) {
        const item = isSeq(issues) ? issues.items[i] : undefined;
        r.report(
          (isMap(item) ? pairNode(item, "log")?.value : item) as Node,
          `known_issues[${i}].log`,
          `not a valid regular expression: ${(err as Error).message}`,
          "escape ( ) [ ] . * + ? with a backslash to match them literally",
        );
      }
    });
  }
  const local = [...src.problems, ...overlayProblems];
  problems.push(...local);
  if (local.length > 0 || !raw) return undefined;
  const hsDir = path.dirname(abs);
  const resolveAll = (list: unknown) =>
    ((list as string[] | undefined) ?? []).map((p) => path.resolve(hsDir, p));
  const auth = raw.homeserver.auth;
  return {
    file: abs,
    spec: {
      name: raw.name ?? path.basename(abs).replace(/\.ya?ml$/, ""),
      postgres: { image: raw.postgres.image },
      ...(raw.known_issues ? { knownIssues: raw.known_issues } : {}),
      ...(raw.matrix_client
        ? {
            matrixClient: { syncTimeoutMs: raw.matrix_client.sync_timeout, reason: raw.matrix_client.reason },
          }
        : {}),
      homeserver: {
        kind,
        image: raw.homeserver.image,
        serverName: raw.homeserver.server_name ?? "localhost",
        configOverlays: resolveAll(raw.homeserver.config),
        env: raw.homeserver.env ?? {},
        appserviceRegistration:
          (raw.homeserver.appservice_registration as AppserviceRegistrationMethod | undefined) ??
          info.appserviceRegistration[0],
        ...(auth
          ? {
              auth: {
                kind: "mas" as const,
                image: auth.image,
                configOverlays: resolveAll(auth.config),
                proxyImage: auth.proxy_image ?? DEFAULT_PROXY_IMAGE,
              },
            }
          : {}),
      },
      bridge: {
        kind: "mautrix-slack",
        image: raw.bridge.image,
        configOverlays: resolveAll(raw.bridge.config),
      },
    },
  };
}

function configOf(root: Node, section: string): unknown {
  const sec = isMap(root) ? pairNode(root, section)?.value : undefined;
  return isMap(sec) ? pairNode(sec, "config")?.value : undefined;
}

/** Every overlay exists and parses in the format of the service it configures. */
function checkOverlayFiles(
  r: Reporter,
  cfg: unknown,
  field: string,
  format: "yaml" | "toml",
  dir: string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!isSeq(cfg)) return problems;
  cfg.items.forEach((item, i) => {
    if (!isScalar(item) || typeof item.value !== "string") return;
    const target = path.resolve(dir, item.value);
    if (!existsSync(target) || !statSync(target).isFile()) {
      r.report(
        item as Node,
        `${field}[${i}]`,
        `overlay file not found: ${target}`,
        `paths are relative to the environment file's folder (${dir})`,
      );
      return;
    }
    if (format === "toml") {
      try {
        parseTomlText(readFileSync(target, "utf8"), target);
      } catch (err) {
        const m = /^(.*):(\d+):(\d+): (.*)$/s.exec((err as Error).message);
        problems.push({
          file: target,
          line: m ? Number(m[2]) : 1,
          column: m ? Number(m[3]) : 1,
          field: "(toml)",
          message: m ? m[4] : (err as Error).message,
          hint: `${field}: continuwuity and tuwunel overlays are TOML, like the server's own config file`,
        });
      }
      return;
    }
    const overlay = readYamlFile(target);
    problems.push(...overlay.problems);
    if (overlay.problems.length === 0 && overlay.root != null && !isMap(overlay.root)) {
      problems.push({
        file: target,
        line: 1,
        column: 1,
        field: "(root)",
        message: "a config overlay must be a YAML mapping",
      });
    }
  });
  return problems;
}

/** What the chosen kind can do: registration method, auth, environment variables it must not override. */
function checkHomeserverKind(r: Reporter, hs: unknown, raw: any, kind: HomeserverKind): void {
  if (!isMap(hs) || !raw) return;
  const info = HOMESERVER_KIND_INFO[kind];
  const method = raw.appservice_registration as AppserviceRegistrationMethod | undefined;
  if (method && !info.appserviceRegistration.includes(method)) {
    r.report(
      pairNode(hs, "appservice_registration")?.value as Node,
      "homeserver.appservice_registration",
      `${kind} cannot take the appservice registration by "${method}"`,
      info.unsupportedRegistration || `use one of ${quoteList(info.appserviceRegistration)}`,
    );
  }
  if (raw.auth && !info.auth.includes(raw.auth.kind)) {
    r.report(
      pairNode(hs, "auth")?.value as Node,
      "homeserver.auth",
      `${kind} does not run behind matrix-authentication-service in this harness`,
      "matrix-authentication-service pairs with Synapse (kind: synapse); remove auth for this kind",
    );
  }
  const envNode = pairNode(hs, "env")?.value;
  for (const name of Object.keys(raw.env ?? {})) {
    const owned = ownedEnvironmentVariable(kind, name);
    if (!owned) continue;
    const pair = isMap(envNode)
      ? envNode.items.find((p) => isScalar(p.key) && p.key.value === name)
      : undefined;
    r.report(
      (pair?.key as Node) ?? (envNode as Node),
      `homeserver.env.${name}`,
      `${name} would override ${owned}, which the harness sets so it can reach the server and create users`,
      "remove it; put the rest of your configuration in TOML overlays (homeserver.config) or other variables",
    );
  }
}

export function loadEnvironment(file: string): LoadedEnvironment {
  const problems: ConfigProblem[] = [];
  const env = checkEnvironmentFile(file, problems);
  if (!env) throw new ConfigError(problems);
  return env;
}
