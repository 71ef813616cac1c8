// Redacting a run folder (generated configs, registration, service logs, reports) so it is safe to
// upload: secret-named keys in YAML/TOML lose their values, and every known secret, URI password,
// PEM private key and token shape is replaced wherever it appears. In place; modes are kept.
import { lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isMap, isPair, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { redact } from "../util/redact.ts";
import { isSecretPath, PEM_PRIVATE_KEY, URI_PASSWORD } from "./secrets.ts";

export const MARKER = "[REDACTED]";
/** Files larger than this are not read (no config or log of a run gets near it). */
const MAX_BYTES = 256 * 1024 * 1024;

export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

function isText(buf: Buffer): boolean {
  return !buf.subarray(0, 8192).includes(0);
}

/** YAML with the values of secret-named keys replaced (comments and layout kept). */
function redactYamlKeys(text: string): string {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length) return text;
  let changed = false;
  const walk = (node: unknown, keys: (string | number)[]) => {
    if (isMap(node))
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = [...keys, String(pair.key.value)];
        const value = pair.value as Node | null;
        if (isScalar(value) && typeof value.value === "string" && value.value && isSecretPath(key)) {
          value.value = MARKER;
          changed = true;
        } else walk(value, key);
      }
    else if (isSeq(node)) for (const [i, item] of node.items.entries()) walk(item, [...keys, i]);
  };
  walk(doc.contents, []);
  return changed ? doc.toString({ lineWidth: 0 }) : text;
}

/** TOML `key = "value"` lines of secret-named keys. */
function redactTomlKeys(text: string): string {
  return text.replace(
    /^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)(["'])(.*)\4(\s*(#.*)?)$/gm,
    (line, ind, key, eq, q, _v, rest) =>
      isSecretPath(key.split(".")) ? `${ind}${key}${eq}${q}${MARKER}${q}${rest}` : line,
  );
}

/** Every known secret, URI password, private key and token shape in a text. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(PEM_PRIVATE_KEY, MARKER).replace(URI_PASSWORD, `$1${MARKER}$3`);
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MARKER);
  return redact(out);
}

export interface RedactionReport {
  files: number;
  changed: string[];
}

/** Redacts every text file under `dir` in place. `secrets`: the operator's (registered ones are added by redact()). */
export function redactFolder(dir: string, secrets: readonly string[]): RedactionReport {
  // Longest first, so a secret containing another is replaced whole.
  const known = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  const changed: string[] = [];
  const files = filesUnder(dir);
  for (const file of files) {
    const stat = lstatSync(file);
    if (stat.size > MAX_BYTES) continue;
    const buf = readFileSync(file);
    if (!isText(buf)) continue;
    const text = buf.toString("utf8");
    let out = text;
    if (/\.ya?ml$/i.test(file)) out = redactYamlKeys(out);
    else if (/\.toml$/i.test(file)) out = redactTomlKeys(out);
    out = redactText(out, known);
    if (out !== text) {
      writeFileSync(file, out, { mode: stat.mode });
      changed.push(file);
    }
  }
  return { files: files.length, changed };
}

/** Files under `dir` that still contain one of `secrets` (for the check after redaction, and tests). */
export function findSecrets(dir: string, secrets: readonly string[]): { file: string; secret: string }[] {
  const hits: { file: string; secret: string }[] = [];
  for (const file of filesUnder(dir)) {
    const buf = readFileSync(file);
    if (!isText(buf)) continue;
    const text = buf.toString("utf8");
    for (const s of secrets) if (text.includes(s)) hits.push({ file, secret: s });
  }
  return hits;
}
