// `bridge-harness redact <dir...> [--environment <file>...]`: makes run folders and report folders
// safe to upload. Exit 0 when nothing secret is left, 1 when a known secret survived, 2 usage.
import { existsSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { displayPath } from "../config/errors.ts";
import { findSecrets, redactFolder } from "./redact-folder.ts";
import { operatorSecrets } from "./secrets.ts";

export const REDACT_HELP = `Usage: bridge-harness redact <dir...> [--environment <file>...]

Redacts secrets in place in run folders (generated configs, registration, service logs) and report
folders before they are uploaded: values of secret-named keys in YAML/TOML (tokens, passwords,
shared secrets, keys), passwords in URIs, PEM private keys, Slack/Matrix token shapes, and every
secret found in the operator's files the environments name (wherever it appears, logs included).
Runs also do this to their own run folder when they finish.

Options:
  --environment <file>   environment whose operator files' secrets must go (repeatable)
  -h, --help

Exit codes: 0 done and nothing known left, 1 a known secret is still present, 2 usage.`;

export async function runRedactCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      environment: { type: "string", multiple: true },
    },
  });
  if (values.help) {
    process.stdout.write(`${REDACT_HELP}\n`);
    return 0;
  }
  const bad = positionals.filter((d) => !existsSync(d) || !statSync(d).isDirectory());
  if (!positionals.length || bad.length) {
    process.stderr.write(
      `bridge-harness redact: ${positionals.length ? `not a folder: ${bad.join(", ")}` : "name the folders to redact (e.g. runs reports)"}\nRun "bridge-harness redact --help" for usage.\n`,
    );
    return 2;
  }
  const missingEnv = (values.environment ?? []).filter((f) => !existsSync(f));
  if (missingEnv.length) {
    process.stderr.write(`bridge-harness redact: environment file not found: ${missingEnv.join(", ")}\n`);
    return 2;
  }
  const secrets = (values.environment ?? []).flatMap((f) => operatorSecrets(f));
  let left = 0;
  for (const dir of positionals) {
    const r = redactFolder(dir, secrets);
    const remaining = findSecrets(dir, secrets);
    left += remaining.length;
    process.stdout.write(`${displayPath(dir)}: ${r.changed.length} of ${r.files} file(s) redacted\n`);
    // Name the file, never the secret.
    for (const hit of remaining) process.stdout.write(`  still holds a secret: ${displayPath(hit.file)}\n`);
  }
  return left ? 1 : 0;
}
