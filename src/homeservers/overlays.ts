// Operators' config overlays, read in the format of the service they configure: YAML (Synapse, MAS,
// the bridge) or TOML (the conduwuit family). Errors name the file and, for syntax errors, the line.
import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { isPlainObject, type PlainObject } from "../util/deep-merge.ts";

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(
      `Cannot read config overlay ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

export function readYamlOverlay(path: string): PlainObject {
  const value = parseYaml(readText(path)) ?? {};
  if (!isPlainObject(value))
    throw new Error(`Config overlay ${path} must be a YAML mapping at the top level`);
  return value;
}

/** A TOML overlay as a plain object (tables -> objects, arrays of tables -> arrays of objects). */
export function readTomlOverlay(path: string): PlainObject {
  return parseTomlText(readText(path), path);
}

export function parseTomlText(text: string, path: string): PlainObject {
  try {
    return toPlain(parseToml(text)) as PlainObject;
  } catch (err) {
    if (err instanceof TomlError)
      throw new Error(`${path}:${err.line}:${err.column}: not valid TOML: ${err.message.split("\n")[0]}`);
    throw err;
  }
}

/** smol-toml returns dates as TomlDate objects; the configs we merge only need plain data. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    const out: PlainObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}
