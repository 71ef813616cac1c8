// bridge-harness command line: run, check, redact, validate, list, down, schema, images build, fake-slack.
// Exit codes: 0 ok, 1 a scenario failed, 2 usage or validation error, 130 interrupted.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { isMap } from "yaml";
import { updateCheckReference } from "../check/docs.ts";
import { updateStepReference } from "../config/docs.ts";
import { checkEnvironmentFile, loadEnvironment } from "../config/environment.ts";
import { ConfigError, type ConfigProblem, displayPath, formatProblems } from "../config/errors.ts";
import { renderSchemas } from "../config/json-schema.ts";
import { checkScenarioFile, type ScenarioSpec } from "../config/scenario.ts";
import { parseYamlText } from "../config/source.ts";
import type { StartedEnvironment } from "../environment/api.ts";
import { redact } from "../util/redact.ts";

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

class UsageError extends Error {}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

const HELP: Record<string, string> = {
  main: `bridge-harness — integration tests for Matrix <-> Slack bridge deployments

Usage: bridge-harness <command> [options]

Commands:
  run <scenario.yaml...>     run scenarios against real containers and the fake Slack
  check --environment <file> static checks of the operator's config files (seconds, no containers)
  redact <dir...>            remove secrets from run folders before they are uploaded
  validate [file.yaml...]    check scenario and environment files (default: all shipped ones)
  list                       list the shipped scenarios and environments
  down <run-id...>|--all     remove the containers and network of kept runs
  schema [--write]           print (or write to schema/) the JSON Schemas of the YAML files
  images build [...]         build the container images from packages (cached)
  fake-slack [...]           run the fake Slack alone

Run "bridge-harness <command> --help" for a command's options.
Exit codes: 0 passed, 1 a scenario failed, 2 usage or validation error, 130 interrupted.`,
  run: `Usage: bridge-harness run <scenario.yaml...> [options]

Runs the scenarios. Scenarios naming the same environment and Slack workspace share one environment
(started once, in order); --isolate gives each its own.

Options:
  --keep                 leave the environment running afterwards and print how to reach it
                         (homeserver URL, a Matrix user and access token, the fake Slack's control URL)
                         and how to tear it down; this process keeps serving the fake Slack until Ctrl-C
  --environment <file>   run every scenario in this environment instead of the one it names
  --image-map <file>     upstream image -> local image (JSON or YAML); default $BRIDGE_HARNESS_IMAGE_MAP,
                         then .cache/image-map.json
  --report-dir <dir>     where junit.xml, report.json, report.html and summary.md go (default: reports)
  --runs-dir <dir>       where run folders (configs, logs) go (default: runs)
  --isolate              one environment per scenario
  --continue-on-failure  run a scenario's remaining steps after a failed one (default: skip them)
  -h, --help

Ctrl-C tears everything down and exits with 130.`,
  validate: `Usage: bridge-harness validate [file.yaml...]

Checks scenario and environment files without starting anything: unknown keys, types, durations,
users, channels, step ids, environment references, image names and overlay files. Every problem is
printed as file:line:column: field: message (hint: ...). Without files, checks scenarios/*.yaml and
environments/*.yaml. Exit code 2 when a file has problems.`,
  list: `Usage: bridge-harness list

Lists scenarios/*.yaml (name, environment, steps, description) and environments/*.yaml.`,
  down: `Usage: bridge-harness down <run-id...> | --all

Removes the containers and network of a run kept with --keep (the run id is printed by run --keep).
--all removes every run whose owning process has exited, kept ones included.`,
  schema: `Usage: bridge-harness schema [--write]

Prints the JSON Schemas for scenario and environment files; --write updates schema/*.schema.json,
the step reference in docs/scenarios.md and the check reference in docs/config-checks.md.`,
};

function findYaml(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** "scenario" or "environment", from the file's keys (or its folder). */
export function fileKind(file: string): "scenario" | "environment" {
  try {
    const src = parseYamlText(file, readFileSync(file, "utf8"));
    if (isMap(src.root)) {
      const keys = src.root.items.map((p: any) => String(p.key?.value));
      if (keys.includes("steps") || keys.includes("slack") || keys.includes("environment")) return "scenario";
      if (keys.includes("homeserver") || keys.includes("bridge") || keys.includes("postgres"))
        return "environment";
    }
  } catch {
    // fall through
  }
  return path.basename(path.dirname(path.resolve(file))) === "environments" ? "environment" : "scenario";
}

async function validateFiles(files: string[]): Promise<{ problems: ConfigProblem[]; specs: ScenarioSpec[] }> {
  const problems: ConfigProblem[] = [];
  const specs: ScenarioSpec[] = [];
  for (const f of files) {
    if (fileKind(f) === "environment") checkEnvironmentFile(f, problems);
    else {
      const r = await checkScenarioFile(f);
      problems.push(...r.problems);
      if (r.spec) specs.push(r.spec);
    }
  }
  // One problem reported once even when several scenarios share the environment with it.
  const seen = new Set<string>();
  return {
    specs,
    problems: problems.filter((p) => {
      const k = JSON.stringify(p);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }),
  };
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}
function err(text: string): void {
  process.stderr.write(`${redact(text)}\n`);
}

async function cmdValidate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help) return help("validate");
  const files = positionals.length
    ? positionals
    : [...findYaml(path.join(ROOT, "scenarios")), ...findYaml(path.join(ROOT, "environments"))];
  const { problems } = await validateFiles(files);
  if (problems.length) {
    err(formatProblems(problems));
    err(`${problems.length} problem(s) in ${new Set(problems.map((p) => p.file)).size} file(s)`);
    return EXIT.usage;
  }
  for (const f of files) out(`ok  ${displayPath(path.resolve(f))} (${fileKind(f)})`);
  return EXIT.ok;
}

async function cmdList(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { help: { type: "boolean", short: "h" } } });
  if (values.help) return help("list");
  out("Scenarios:");
  for (const f of findYaml(path.join(ROOT, "scenarios"))) {
    const r = await checkScenarioFile(f);
    const rel = displayPath(f);
    if (r.spec)
      out(
        `  ${rel.padEnd(36)} ${r.spec.environment.name.padEnd(10)} ${String(r.spec.steps.length).padStart(3)} steps  ${r.spec.description ?? ""}`,
      );
    else out(`  ${rel.padEnd(36)} (invalid: run "bridge-harness validate ${rel}")`);
  }
  out("Environments:");
  for (const f of findYaml(path.join(ROOT, "environments"))) {
    const problems: ConfigProblem[] = [];
    const env = checkEnvironmentFile(f, problems);
    const rel = displayPath(f);
    if (env)
      out(
        `  ${rel.padEnd(36)} ${env.spec.homeserver.image}, ${env.spec.postgres.image}, ${env.spec.bridge.image}`,
      );
    else out(`  ${rel.padEnd(36)} (invalid: run "bridge-harness validate ${rel}")`);
  }
  return EXIT.ok;
}

async function loadImageMapEntries(flag: string | undefined): Promise<Record<string, string> | undefined> {
  const mod = await import("../images/image-map.ts");
  return mod.loadImageMap({ flag, env: process.env[mod.IMAGE_MAP_ENV] }).entries;
}

async function keptInfo(env: StartedEnvironment, spec: ScenarioSpec): Promise<string> {
  const localpart = spec.matrixUsers[0] ?? "alice";
  const user = await env.user(localpart);
  const runId = env.runId ?? "(unknown)";
  const label = `bridge-harness.run=${runId}`;
  // The whole point of --keep is to hand these to a person: printed here only, never in reports or logs.
  return [
    "",
    `Environment kept running — run ${runId}`,
    `  homeserver       ${env.homeserver.baseUrl}   (${env.homeserver.kind}, server name ${env.homeserver.serverName})`,
    ...(env.homeserver.auth
      ? [
          `  MAS              ${env.homeserver.links.mas}   (matrix-authentication-service)`,
          `  login page       ${env.homeserver.auth.loginUrl}   (sign in with a browser)`,
        ]
      : []),
    `  Matrix user      ${user.userId}`,
    `  access token     ${user.accessToken}`,
    "                   (Element: sign in with this homeserver URL, or use the token with curl/any client)",
    `  bridge           ${env.bridge.url}   bot ${env.bridge.botUserId}`,
    `  fake Slack       ${env.fakeSlack.controlUrl}   (control API; Web API ${env.fakeSlack.webApiUrl})`,
    `  run folder       ${displayPath(env.runDir)}   (configs and service logs)`,
    "",
    "This process serves the fake Slack. To tear down: press Ctrl-C here, or from another shell:",
    `  bridge-harness down ${runId}`,
    `  # or: docker rm -f -v $(docker ps -aq --filter label=${label}); docker network rm $(docker network ls -q --filter label=${label})`,
  ].join("\n");
}

let interrupted = false;

async function cmdRun(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      keep: { type: "boolean" },
      environment: { type: "string" },
      "image-map": { type: "string" },
      "report-dir": { type: "string" },
      "runs-dir": { type: "string" },
      isolate: { type: "boolean" },
      "continue-on-failure": { type: "boolean" },
    },
  });
  if (values.help) return help("run");
  if (!positionals.length)
    throw new UsageError(
      'run needs at least one scenario file, e.g. "bridge-harness run scenarios/messaging.yaml"',
    );
  const { problems, specs } = await validateFiles(positionals);
  if (problems.length) {
    err(formatProblems(problems));
    return EXIT.usage;
  }
  if (values["continue-on-failure"]) for (const s of specs) s.continueOnFailure = true;
  if (values.environment) {
    const env = loadEnvironment(values.environment);
    for (const s of specs) {
      s.environment = env.spec;
      s.environmentFile = env.file;
    }
  }
  let imageMap: Record<string, string> | undefined;
  try {
    imageMap = await loadImageMapEntries(values["image-map"]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const { runScenarios, stopActiveEnvironments } = await import("../scenario/runner.ts");
  const report = await import("../report/index.ts");
  const printer = report.createProgressPrinter(process.stdout, {});
  const progress = {
    scenarioStarted: (n: string, f: string) => printer.scenarioStarted(n, f),
    setupPhase: (n: string, ms: number) => printer.setupPhase(n, ms),
    stepStarted: (s: { id: string; type?: string; title?: string }) => printer.stepStarted(s),
    stepFinished: (s: any) => printer.stepFinished(s),
    scenarioFinished: (r: any) => printer.scenarioFinished(r),
    line: (l: string) => process.stdout.write(`  · ${redact(l)}\n`),
  };

  const { interruptRuns } = await import("../runtime/cleanup.ts");
  process.on("SIGINT", () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    process.stderr.write("\nbridge-harness: interrupted, tearing down...\n");
    // Started environments, and one still starting: exit only once their containers are gone.
    Promise.allSettled([stopActiveEnvironments(), interruptRuns()]).finally(() =>
      process.exit(EXIT.interrupted),
    );
  });

  const { result, kept } = await runScenarios(specs, {
    imageMap,
    keep: values.keep,
    isolate: values.isolate,
    runsDir: values["runs-dir"],
    progress,
    aborted: () => interrupted,
  });
  const reportDir = values["report-dir"] ?? "reports";
  let written: Record<string, string | undefined> = {};
  try {
    written = { ...(await report.writeReports(result, { dir: reportDir })) };
  } catch (e) {
    err(`could not write reports to ${reportDir}: ${(e as Error).message}`);
  }
  printer.runFinished(result, written);
  const code = result.outcome === "failed" ? EXIT.failed : EXIT.ok;
  if (values.keep && kept.length) {
    for (const env of kept) {
      const spec = specs.find((s) => s.environment.name === env.spec.name) ?? specs[0];
      out(await keptInfo(env, spec));
    }
    await new Promise(() => undefined); // until Ctrl-C (the SIGINT handler tears down and exits)
  }
  return code;
}

async function cmdDown(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" }, all: { type: "boolean" } },
  });
  if (values.help) return help("down");
  if (!positionals.length && !values.all)
    throw new UsageError("down needs a run id (printed by run --keep) or --all");
  const cleanup = await import("../runtime/cleanup.ts");
  if (values.all) {
    const removed = await cleanup.sweepLeftovers({ includeKept: true });
    out(
      removed.length
        ? `removed what finished runs left: ${cleanup.describeSwept(removed)}`
        : "no finished run left anything behind",
    );
  }
  for (const id of positionals) {
    await cleanup.removeRunResources(id);
    out(`removed run ${id}`);
  }
  return EXIT.ok;
}

async function cmdSchema(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { help: { type: "boolean", short: "h" }, write: { type: "boolean" } },
  });
  if (values.help) return help("schema");
  const schemas = renderSchemas();
  if (values.write) {
    for (const [name, text] of Object.entries(schemas)) {
      writeFileSync(path.join(ROOT, "schema", name), text);
      out(`wrote schema/${name}`);
    }
    const docs = path.join(ROOT, "docs", "scenarios.md");
    if (existsSync(docs)) {
      writeFileSync(docs, updateStepReference(readFileSync(docs, "utf8")));
      out("updated the step reference in docs/scenarios.md");
    }
    const checks = path.join(ROOT, "docs", "config-checks.md");
    if (existsSync(checks)) {
      writeFileSync(checks, updateCheckReference(readFileSync(checks, "utf8")));
      out("updated the check reference in docs/config-checks.md");
    }
  } else for (const [name, text] of Object.entries(schemas)) out(`# ${name}\n${text}`);
  return EXIT.ok;
}

async function delegate(modulePath: string, fn: string, args: string[], what: string): Promise<number> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(new URL(modulePath, import.meta.url).href);
  } catch (e) {
    err(`${what} is not available in this checkout (${(e as Error).message})`);
    return EXIT.usage;
  }
  const f = mod[fn];
  if (typeof f !== "function") {
    err(`${what}: ${modulePath} does not export ${fn}`);
    return EXIT.usage;
  }
  const code = await (f as (a: string[]) => Promise<number | undefined>)(args);
  return typeof code === "number" ? code : EXIT.ok;
}

function help(topic: string): number {
  out(HELP[topic] ?? HELP.main);
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        return help(rest[0] ?? "main");
      case "--version":
      case "-v": {
        const { toolVersion } = await import("../scenario/runner.ts");
        out(toolVersion());
        return EXIT.ok;
      }
      case "run":
        return await cmdRun(rest);
      case "check":
        return await delegate("../check/command.ts", "runCheckCommand", rest, "check");
      case "redact":
        return await delegate("../artifacts/command.ts", "runRedactCommand", rest, "redact");
      case "validate":
        return await cmdValidate(rest);
      case "list":
        return await cmdList(rest);
      case "down":
        return await cmdDown(rest);
      case "schema":
        return await cmdSchema(rest);
      case "images":
        if (rest[0] === "--help" || rest[0] === "-h" || rest.length === 0) {
          out(
            "Usage: bridge-harness images build [options]   (bridge-harness images build --help for options)",
          );
          return rest.length === 0 ? EXIT.usage : EXIT.ok;
        }
        if (rest[0] !== "build")
          throw new UsageError(`unknown images subcommand "${rest[0]}" (try "images build")`);
        return await delegate("../images/command.ts", "runImagesBuild", rest.slice(1), "images build");
      case "fake-slack":
        return await delegate("../../fakes/slack/cli.ts", "runFakeSlackCommand", rest, "fake-slack");
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return EXIT.usage;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      err(`bridge-harness: ${(e as Error).message}`);
      err('Run "bridge-harness --help" for usage.');
      return EXIT.usage;
    }
    err(`bridge-harness: ${(e as Error).stack ?? String(e)}`);
    return EXIT.failed;
  }
}

const isEntry = process.argv[1] && /bin\/bridge-harness(\.js)?$|src\/cli\/main\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      err(String(e));
      process.exit(EXIT.failed);
    },
  );
}
