// scenarios/*.yaml: an environment, a Slack workspace seed, Matrix users, budgets and steps.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { isAlias, isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import type { EnvironmentSpec } from "../environment/api.ts";
import { checkEnvironmentFile } from "./environment.ts";
import { ConfigError, type ConfigProblem, closest, displayPath, quoteList } from "./errors.ts";
import {
  checkObject,
  checkValue,
  type FieldSpec,
  keyOf,
  pairNode,
  type RefKind,
  type Walk,
} from "./fields.ts";
import { matchesChannel, matchesUser, type SeedNames, seedNames, seedValidator } from "./seed.ts";
import { Reporter, readYamlFile, type YamlSource } from "./source.ts";
import { COMMON_STEP_FIELDS, STEP_TYPES } from "./steps.ts";

export const DEFAULT_BUDGET_MS = 5000;
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Services whose failed start a scenario can expect (the names ServiceStartError carries). */
export const START_FAILING_SERVICES = ["homeserver", "bridge", "postgres", "mas", "proxy"] as const;

export const SCENARIO_FIELDS: Record<string, FieldSpec> = {
  name: { type: "string", doc: "scenario name (default: the file name)" },
  description: { type: "string", doc: "what the scenario shows" },
  environment: {
    type: "string",
    required: true,
    doc: 'environment name ("default" = environments/default.yaml) or path relative to this file',
  },
  slack: {
    type: "any",
    required: true,
    doc: "the fake Slack workspace seed (format: fakes/slack/README.md), inline or a path to a seed file",
  },
  matrix: {
    type: "object",
    doc: "Matrix side",
    fields: {
      users: {
        type: "list",
        items: {
          type: "string",
          pattern: /^[a-z0-9._=\-/]+$/,
          patternHint: "a Matrix localpart (lower-case letters, digits, ._=-/)",
          doc: "localpart",
        },
        doc: "Matrix users the harness registers (localparts)",
      },
    },
  },
  budgets: {
    type: "object",
    doc: "latency budgets (default 5s each way)",
    fields: {
      default: { type: "duration", doc: "both directions" },
      slack_to_matrix: { type: "duration", doc: "Slack -> Matrix" },
      matrix_to_slack: { type: "duration", doc: "Matrix -> Slack" },
    },
  },
  options: {
    type: "object",
    doc: "runner options",
    fields: {
      continue_on_failure: {
        type: "boolean",
        doc: "run the remaining steps after a failure (default false)",
      },
    },
  },
  expect_start: {
    type: "list",
    minItems: 1,
    doc: "the environment must NOT come up: how its start fails (any one of these outcomes); for reproducing configurations that break a deployment. The scenario has no steps then",
    items: {
      type: "object",
      doc: "one acceptable way for the start to fail",
      fields: {
        service: {
          type: "string",
          required: true,
          enum: START_FAILING_SERVICES,
          doc: "the service that fails to start",
        },
        exit_code: {
          type: "integer",
          min: 0,
          doc: "its exit code (default: any, or none when it stays up but is not ready)",
        },
        log: {
          type: "string",
          doc: "a regular expression one of the lines it logged during that start must match",
        },
        because: {
          type: "string",
          required: true,
          doc: "why, in one line: shown in the report next to the outcome",
        },
      },
    },
  },
  steps: { type: "any", doc: "the steps, in order (required unless expect_start is given)" },
};

/** A step's `expected_failure:` (a known upstream problem; src/scenario/runner.ts applies it). */
export interface ExpectedFailureMark {
  reason: string;
  upstream: string;
  matches?: string;
}

/** One acceptable way for an environment's start to fail (scenario `expect_start`). */
export interface StartExpectation {
  service: (typeof START_FAILING_SERVICES)[number];
  exitCode?: number;
  log?: string;
  because: string;
}

export interface StepSpec {
  /** Unique within the scenario. */
  id: string;
  type: string;
  /** The step's fields, validated (durations in ms, sizes in bytes). */
  args: Record<string, any>;
  budgetMs?: number;
  timeoutMs?: number;
  expectedFailure?: ExpectedFailureMark;
  /** 1-based line in the scenario file. */
  line: number;
}

export interface ScenarioSpec {
  name: string;
  description?: string;
  /** Absolute path of the scenario file. */
  file: string;
  environmentFile: string;
  environment: EnvironmentSpec;
  slackSeed: unknown;
  /** Set when `slack:` names a seed file. */
  slackSeedFile?: string;
  matrixUsers: string[];
  budgets: { slackToMatrixMs: number; matrixToSlackMs: number };
  continueOnFailure: boolean;
  steps: StepSpec[];
  /** Set when the environment must fail to start (then there are no steps). */
  expectStart?: StartExpectation[];
}

/** Finds the environment a scenario names. */
export function resolveEnvironmentRef(
  ref: string,
  scenarioFile: string,
): { file?: string; looked: string[]; dirs: string[] } {
  const dir = path.dirname(scenarioFile);
  if (ref.includes("/") || /\.ya?ml$/.test(ref)) {
    const file = path.resolve(dir, ref);
    return { file: existsSync(file) ? file : undefined, looked: [file], dirs: [path.dirname(file)] };
  }
  const dirs = [
    path.resolve(dir, "../environments"),
    path.resolve(dir, "environments"),
    path.resolve("environments"),
  ];
  const uniq = [...new Set(dirs)];
  const looked = uniq.map((d) => path.join(d, `${ref}.yaml`));
  return { file: looked.find((f) => existsSync(f)), looked, dirs: uniq.filter((d) => existsSync(d)) };
}

function availableEnvironments(dirs: string[]): string[] {
  const names = new Set<string>();
  for (const d of dirs)
    for (const f of readdirSync(d)) if (/\.ya?ml$/.test(f)) names.add(f.replace(/\.ya?ml$/, ""));
  return [...names].sort();
}

/** Validates a scenario file (and its environment and seed); returns the spec or the problems. */
export async function checkScenarioFile(
  file: string,
): Promise<{ spec?: ScenarioSpec; problems: ConfigProblem[] }> {
  const abs = path.resolve(file);
  const src = readYamlFile(abs);
  const problems: ConfigProblem[] = [];
  if (src.problems.length) return { problems: src.problems };
  const r = new Reporter(src);
  const root = src.root;
  if (!isMap(root)) {
    r.report(root, "(root)", "a scenario file must be a mapping with environment, slack and steps");
    return { problems: src.problems };
  }
  const w: Walk = { r };
  const top = checkObject(w, root, SCENARIO_FIELDS, "") as Record<string, any>;

  // environment
  let environment: EnvironmentSpec | undefined;
  let environmentFile: string | undefined;
  const envNode = pairNode(root, "environment")?.value as Node | undefined;
  if (typeof top.environment === "string") {
    const found = resolveEnvironmentRef(top.environment, abs);
    if (!found.file) {
      const avail = availableEnvironments(found.dirs);
      const near = closest(top.environment, avail);
      r.report(
        envNode,
        "environment",
        `environment "${top.environment}" not found (looked for ${found.looked.map(displayPath).join(", ")})`,
        near
          ? `did you mean "${near}"?`
          : avail.length
            ? `available: ${avail.join(", ")}`
            : "create the environment file or give a path",
      );
    } else {
      const env = checkEnvironmentFile(found.file, problems);
      environment = env?.spec;
      environmentFile = found.file;
    }
  }

  // slack seed
  const seed = loadSeed(r, root, abs, problems);
  const names: SeedNames = seedNames(seed.seed);
  if (seed.seed !== undefined) {
    const validate = await seedValidator();
    if (validate) {
      for (const issue of validate(seed.seed)) {
        const at = seed.source ? nodeAt(seed.source.root, issue.path) : nodeAt(seed.node, issue.path);
        const rep = seed.source ? new Reporter(seed.source) : r;
        const field = seed.source ? issuePath("", issue.path) : issuePath("slack", issue.path);
        rep.report(at ?? seed.node, field || "slack", issue.message, issue.hint);
      }
      if (seed.source) problems.push(...seed.source.problems);
    }
  }

  const matrixUsers: string[] = (top.matrix?.users ?? []).filter((u: unknown) => typeof u === "string");
  const expectStart = checkExpectStart(r, root, top.expect_start);
  const steps = expectStart
    ? checkNoSteps(r, root)
    : checkSteps(w, root, { names, matrixUsers, seedGiven: seed.seed !== undefined });

  const budgets = top.budgets ?? {};
  const def = budgets.default ?? DEFAULT_BUDGET_MS;
  problems.push(...src.problems);
  if (problems.length || !environment || !environmentFile || !steps) return { problems };
  return {
    problems,
    spec: {
      name: top.name ?? path.basename(abs).replace(/\.ya?ml$/, ""),
      description: top.description,
      file: abs,
      environmentFile,
      environment,
      slackSeed: seed.seed,
      slackSeedFile: seed.file,
      matrixUsers,
      budgets: {
        slackToMatrixMs: budgets.slack_to_matrix ?? def,
        matrixToSlackMs: budgets.matrix_to_slack ?? def,
      },
      continueOnFailure: top.options?.continue_on_failure ?? false,
      steps,
      ...(expectStart ? { expectStart } : {}),
    },
  };
}

/** expect_start: each `log` must be a valid regular expression. */
function checkExpectStart(r: Reporter, root: YAMLMap, raw: unknown): StartExpectation[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const list = pairNode(root, "expect_start")?.value;
  return raw.map((x: Record<string, any>, i) => {
    if (typeof x?.log === "string") {
      try {
        new RegExp(x.log);
      } catch (err) {
        const item = isSeq(list) ? (list.items[i] as Node) : undefined;
        r.report(
          isMap(item) ? (pairNode(item, "log")?.value as Node) : (item ?? root),
          `expect_start[${i}].log`,
          `not a valid regular expression: ${(err as Error).message}`,
          "escape ( ) [ ] . * + ? with a backslash to match them literally",
        );
      }
    }
    return { service: x?.service, exitCode: x?.exit_code, log: x?.log, because: x?.because };
  });
}

/** A scenario whose start must fail has nothing to run afterwards. */
function checkNoSteps(r: Reporter, root: YAMLMap): StepSpec[] {
  const stepsNode = pairNode(root, "steps")?.value as Node | undefined;
  if (isSeq(stepsNode) && stepsNode.items.length > 0)
    r.report(
      stepsNode,
      "steps",
      "a scenario with expect_start has no steps (they would never run: the environment must not come up)",
      "move the steps to a scenario of their own, or drop expect_start",
    );
  return [];
}

export async function loadScenario(file: string): Promise<ScenarioSpec> {
  const { spec, problems } = await checkScenarioFile(file);
  if (!spec) throw new ConfigError(problems);
  return spec;
}

function issuePath(prefix: string, p: (string | number)[]): string {
  let out = prefix;
  for (const part of p) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

function nodeAt(root: Node | null | undefined, p: (string | number)[]): Node | undefined {
  let node: any = root;
  for (const part of p) {
    if (isMap(node)) node = pairNode(node, String(part))?.value;
    else if (isSeq(node) && typeof part === "number") node = node.items[part];
    else return node ?? undefined;
  }
  return node ?? undefined;
}

function loadSeed(
  r: Reporter,
  root: YAMLMap,
  scenarioFile: string,
  problems: ConfigProblem[],
): { seed?: unknown; file?: string; node?: Node; source?: YamlSource } {
  const node = pairNode(root, "slack")?.value as Node | undefined;
  if (!node) return {};
  if (isMap(node)) return { seed: node.toJSON(), node };
  if (isScalar(node) && typeof node.value === "string") {
    const file = path.resolve(path.dirname(scenarioFile), node.value);
    if (!existsSync(file)) {
      r.report(
        node,
        "slack",
        `seed file not found: ${file}`,
        "paths are relative to the scenario file's folder",
      );
      return { node };
    }
    const source = readYamlFile(file);
    if (source.problems.length) {
      problems.push(...source.problems);
      return { node };
    }
    if (!isMap(source.root)) {
      problems.push({
        file,
        line: 1,
        column: 1,
        field: "(root)",
        message: "a Slack seed file must be a mapping",
      });
      return { node };
    }
    return { seed: source.root.toJSON(), file, node, source };
  }
  r.report(node, "slack", `expected the workspace seed (a mapping) or the path of a seed file`);
  return { node };
}

interface StepContext {
  names: SeedNames;
  matrixUsers: string[];
  seedGiven: boolean;
}

function checkSteps(w: Walk, root: YAMLMap, ctx: StepContext): StepSpec[] | undefined {
  const stepsNode = pairNode(root, "steps")?.value as Node | undefined;
  if (!pairNode(root, "steps")) {
    w.r.report(
      root,
      "steps",
      "required field missing",
      'add "steps:" (the steps to run), or "expect_start:" when the environment must fail to start',
    );
    return undefined;
  }
  if (!isSeq(stepsNode)) {
    w.r.report(
      stepsNode ?? root,
      "steps",
      `expected a list of steps, got ${stepsNode ? "something else" : "nothing"}`,
      "start each step with '- '",
    );
    return undefined;
  }
  const out: StepSpec[] = [];
  const ids = new Map<string, { index: number; line: number }>();
  const messageSteps: string[] = [];
  /** Conversations earlier steps create (channels, DMs) -> where: they are valid `channel:` values. */
  const createdChannels = new Map<string, string>();
  const allTypes = Object.keys(STEP_TYPES);
  let ok = true;
  stepsNode.items.forEach((item, index) => {
    const field = `steps[${index}]`;
    const itemNode = item as Node;
    let type: string | undefined;
    let typeKeyNode: Node | undefined;
    let valueNode: Node | null | undefined;
    let common: Record<string, any> = {};
    if (isScalar(itemNode) && typeof itemNode.value === "string") {
      type = itemNode.value;
      typeKeyNode = itemNode;
      valueNode = null;
    } else if (isMap(itemNode)) {
      const keys = itemNode.items.map((p) => keyOf(p) ?? "");
      const typeKeys = keys.filter((k) => !(k in COMMON_STEP_FIELDS));
      const known = typeKeys.filter((k) => k in STEP_TYPES);
      type = known[0] ?? typeKeys[0];
      const pair = type !== undefined ? pairNode(itemNode, type) : undefined;
      typeKeyNode = pair?.key as Node | undefined;
      valueNode = pair?.value as Node | null | undefined;
      // `slack.post: *greeting` repeats the fields an earlier `&greeting` marked.
      if (isAlias(valueNode) && w.r.src.doc) valueNode = valueNode.resolve(w.r.src.doc) as Node | undefined;
      const commonFields: Record<string, FieldSpec> = { ...COMMON_STEP_FIELDS };
      if (type) commonFields[type] = { type: "any", doc: "the step" };
      common = checkObject(w, itemNode, commonFields, field, {
        unknownHint: (key) => {
          if (key in STEP_TYPES) return "one step per list item: start the next step with '- '";
          const spec = type ? STEP_TYPES[type] : undefined;
          if (spec && key in spec.fields) {
            const col = w.r.position(typeKeyNode).column;
            return `"${key}" is a field of "${type}": indent it under "${type}:" (column ${col + 2}), not beside it`;
          }
          return undefined;
        },
      });
      if (!typeKeys.length) {
        w.r.report(itemNode, field, "step has no type", `start it with one of: ${allTypes.join(", ")}`);
        ok = false;
        return;
      }
    } else {
      w.r.report(
        itemNode,
        field,
        `expected a step (a mapping like "slack.post: {...}"), got a ${isSeq(itemNode) ? "list" : "value"}`,
      );
      ok = false;
      return;
    }
    const spec = STEP_TYPES[type];
    if (!spec) {
      const near = closest(type, allTypes);
      w.r.report(
        typeKeyNode,
        field,
        `unknown step "${type}"`,
        near ? `did you mean "${near}"?` : `steps are: ${allTypes.join(", ")}`,
      );
      ok = false;
      return;
    }
    const id: string = typeof common.id === "string" ? common.id : `${index + 1}-${type}`;
    const line = w.r.position(itemNode).line;
    const prev = ids.get(id);
    if (prev) {
      const idNode = isMap(itemNode) ? (pairNode(itemNode, "id")?.value as Node) : itemNode;
      w.r.report(
        idNode,
        `${field}.id`,
        `duplicate step id "${id}" (already used by steps[${prev.index}] on line ${prev.line})`,
        "step ids must be unique; rename one",
      );
      ok = false;
    } else ids.set(id, { index, line });

    const stepField = `${field}.${type}`;
    const refs = (kind: RefKind, value: string, node: Node, f: string) => {
      switch (kind) {
        case "matrixUser":
          if (!ctx.matrixUsers.includes(value))
            w.r.report(
              node,
              f,
              `unknown Matrix user "${value}"`,
              ctx.matrixUsers.length
                ? `declared in matrix.users: ${ctx.matrixUsers.join(", ")}`
                : "declare it under matrix.users",
            );
          break;
        case "slackUser":
          if (ctx.seedGiven && !matchesUser(ctx.names, value)) {
            const near = closest(value.replace(/^@/, ""), ctx.names.users);
            w.r.report(
              node,
              f,
              `unknown Slack user "${value}"`,
              near
                ? `did you mean "${near}"?`
                : `users in the slack: seed: ${ctx.names.users.join(", ") || "(none)"}`,
            );
          }
          break;
        case "channel":
          if (
            ctx.seedGiven &&
            !matchesChannel(ctx.names, value) &&
            !createdChannels.has(value.replace(/^#/, ""))
          ) {
            const known = [...ctx.names.channels, ...createdChannels.keys()];
            const near = closest(value.replace(/^#/, ""), known);
            w.r.report(
              node,
              f,
              `unknown Slack channel "${value}"`,
              near
                ? `did you mean "#${near}"?`
                : `channels in the slack: seed${createdChannels.size ? " and created by earlier steps" : ""}: ${known.map((c) => `#${c}`).join(", ") || "(none)"}`,
            );
          }
          break;
        case "app":
          if (ctx.seedGiven && !ctx.names.apps.includes(value))
            w.r.report(
              node,
              f,
              `unknown Slack app "${value}"`,
              `apps in the slack: seed: ${ctx.names.apps.join(", ") || "(none)"}`,
            );
          break;
        case "message":
          if (!messageSteps.includes(value))
            w.r.report(
              node,
              f,
              `"${value}" is not an earlier step that posted a message`,
              messageSteps.length
                ? `earlier message steps: ${messageSteps.join(", ")}`
                : "refer to the id of an earlier slack.post, matrix.send, slack.upload or matrix.upload step",
            );
          break;
      }
    };
    const sw: Walk = { r: w.r, refs };
    let args: Record<string, any> = {};
    if (valueNode === null || valueNode === undefined || (isScalar(valueNode) && valueNode.value === null)) {
      const missing = Object.entries(spec.fields)
        .filter(([, f]) => f.required)
        .map(([k]) => k);
      // Of fields given one of several ways (text, typed or blocks), the first names them.
      for (const group of spec.exactlyOne ?? []) missing.push(group[0] as string);
      if (missing.length) {
        w.r.report(
          typeKeyNode,
          stepField,
          `missing ${missing.length > 1 ? "fields" : "field"} ${quoteList(missing, "and")}`,
          `write them indented under "${type}:"`,
        );
        ok = false;
      }
    } else if (isMap(valueNode)) {
      args = checkObject(sw, valueNode, spec.fields, stepField);
      for (const group of spec.exactlyOne ?? []) {
        // Keys written, valid or not (a wrong type is reported on its own).
        const given = group.filter((k) => pairNode(valueNode, k) !== undefined);
        if (given.length === 1) continue;
        const node = given.length ? (pairNode(valueNode, given[1] as string)?.key as Node) : typeKeyNode;
        w.r.report(
          node,
          given.length ? `${stepField}.${given[1]}` : stepField,
          given.length
            ? `${quoteList(given, "and")} cannot be combined`
            : `missing one of ${quoteList(group, "or")}`,
          `give exactly one of ${quoteList(group, "or")}`,
        );
        ok = false;
      }
    } else {
      checkValue(sw, valueNode, { type: "object", fields: spec.fields, doc: "" }, stepField);
      ok = false;
    }
    if (spec.producesMessage) messageSteps.push(id);
    const produced = spec.producesChannel ? args[spec.producesChannel] : undefined;
    if (typeof produced === "string") {
      const where =
        createdChannels.get(produced) ??
        (matchesChannel(ctx.names, produced) ? "the slack: seed" : undefined);
      const node = isMap(valueNode)
        ? (pairNode(valueNode, spec.producesChannel as string)?.value as Node)
        : itemNode;
      if (where)
        w.r.report(
          node,
          `${stepField}.${spec.producesChannel}`,
          `"${produced}" already names a conversation (in ${where})`,
          "choose a name no channel or DM of the scenario has",
        );
      else createdChannels.set(produced, `steps[${index}] on line ${line}`);
    }
    out.push({
      id,
      type,
      args,
      budgetMs: common.budget,
      timeoutMs: common.timeout,
      ...(common.expected_failure ? { expectedFailure: common.expected_failure } : {}),
      line,
    });
  });
  if (stepsNode.items.length === 0) w.r.report(stepsNode, "steps", "a scenario needs at least one step");
  return ok ? out : undefined;
}
