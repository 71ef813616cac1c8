// `bridge-harness check --environment <file>`: exit 0 clean, 1 findings at or above --fail-on
// (default: errors), 2 usage or a broken environment file.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors.ts";
import { redact } from "../util/redact.ts";
import { reaches, SEVERITIES, type Severity } from "./findings.ts";
import { FORMATS, type Format, render, renderJunit } from "./output.ts";
import { runChecks } from "./run.ts";

export const CHECK_HELP = `Usage: bridge-harness check --environment <file> [options]

Static checks of the operator's files the environment names (bridge config, registration, homeserver
config, MAS config, Slack app manifest): mismatched tokens and namespaces, a homeserver that never
loads the registration, debug logging, database and network addresses, Slack scopes, MAS pairing,
versions that refuse the database. No containers; well under 2 seconds. Every finding has an id,
a severity, file:line, what is wrong, why it matters and the fix (docs/config-checks.md).

Options:
  --environment <file>   the environment file (its overlays and its production: section)
  --format <format>      terminal (default, grouped by file), json, github (workflow annotations),
                         markdown (job summary / pull request comment)
  --junit <file>         also write JUnit XML (one test case per check)
  --fail-on <severity>   exit 1 on findings of this severity or worse: error (default), warning, info
  -h, --help

Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage or a broken environment file.`;

export async function runCheckCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      environment: { type: "string" },
      format: { type: "string" },
      junit: { type: "string" },
      "fail-on": { type: "string" },
    },
  });
  const usage = (message: string) => {
    process.stderr.write(`bridge-harness check: ${message}\nRun "bridge-harness check --help" for usage.\n`);
    return 2;
  };
  if (values.help) {
    process.stdout.write(`${CHECK_HELP}\n`);
    return 0;
  }
  const environment = values.environment ?? positionals[0];
  if (!environment || positionals.length > (values.environment ? 0 : 1))
    return usage(
      'name one environment file: "bridge-harness check --environment environments/production.yaml"',
    );
  const format = (values.format ?? "terminal") as Format;
  if (!FORMATS.includes(format)) return usage(`--format must be one of ${FORMATS.join(", ")}`);
  const failOn = (values["fail-on"] ?? "error") as Severity;
  if (!SEVERITIES.includes(failOn)) return usage(`--fail-on must be one of ${SEVERITIES.join(", ")}`);

  let result: ReturnType<typeof runChecks>;
  try {
    result = runChecks(environment);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${redact(e.message)}\n`);
      return 2;
    }
    throw e;
  }
  const color = format === "terminal" && process.stdout.isTTY && !process.env.NO_COLOR;
  process.stdout.write(`${render(result, format, { color })}\n`);
  if (values.junit) {
    mkdirSync(path.dirname(path.resolve(values.junit)), { recursive: true });
    writeFileSync(values.junit, renderJunit(result));
  }
  return result.findings.some((f) => reaches(f.severity, failOn)) ? 1 : 0;
}
