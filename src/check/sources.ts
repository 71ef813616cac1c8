// The operator's config files as `check` reads them: parsed values plus the line of every key, for
// YAML (the yaml library's node ranges), JSON (read as YAML) and TOML (smol-toml for the values, a
// key-line index of our own for the positions). Overlays are layered the way the harness merges them.
import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { deepMergeAll, isPlainObject } from "../util/deep-merge.ts";

export type KeyPath = readonly (string | number)[];

export interface ConfigFile {
  /** Absolute path. */
  path: string;
  format: "yaml" | "toml";
  data: unknown;
  /** Line (1-based) of the key at `path`, else of its nearest ancestor that has one, else 1. */
  line(path: KeyPath): number;
}

/** A file that could not be read or parsed, with the position its parser named. */
export interface ParseProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export type Loaded = { file: ConfigFile; problem?: undefined } | { file?: undefined; problem: ParseProblem };

export function formatOf(file: string): "yaml" | "toml" {
  return /\.toml$/i.test(file) ? "toml" : "yaml";
}

export function loadConfigFile(file: string): Loaded {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot read: ${(e as Error).message}`;
    return { problem: { file, line: 1, column: 1, message } };
  }
  return formatOf(file) === "toml" ? parseTomlFile(file, text) : parseYamlFile(file, text);
}

export function parseYamlFile(file: string, text: string): Loaded {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
    const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    return { problem: { file, line: pos.line, column: pos.col, message: `YAML: ${message}` } };
  }
  const root = doc.contents as Node | null;
  const line = (path: KeyPath): number => {
    let node: unknown = root;
    let best = 1;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        best = positionLine(lines, (pair.key as Node).range?.[0]) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
        node = node.items[segment];
        best = positionLine(lines, (node as Node).range?.[0]) ?? best;
      } else break;
    }
    return best;
  };
  return { file: { path: file, format: "yaml", data: doc.toJS() ?? {}, line } };
}

function positionLine(lines: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

export function parseTomlFile(file: string, text: string): Loaded {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const message = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      return { problem: { file, line: e.line, column: e.column, message: `TOML: ${message}` } };
    }
    throw e;
  }
  const index = tomlKeyLines(text);
  const line = (path: KeyPath): number => {
    for (let n = path.length; n > 0; n--) {
      const hit = index.get(pathKey(path.slice(0, n)));
      if (hit !== undefined) return hit;
    }
    return 1;
  };
  return { file: { path: file, format: "toml", data, line } };
}

const pathKey = (path: KeyPath) => JSON.stringify(path);

/**
 * Line of every key in a TOML document: table headers (`[a.b]`, `[[a]]` with its element index) and
 * `key = value` lines, dotted and quoted keys included. Values spanning lines (multi-line strings,
 * arrays, inline tables) are skipped, so keys inside them map to their parent key's line.
 */
export function tomlKeyLines(text: string): Map<string, number> {
  const index = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  const record = (path: KeyPath, line: number) => {
    if (!index.has(pathKey(path))) index.set(pathKey(path), line);
  };
  // A table header below an array of tables refers to its last element: [[a]] then [a.b] -> a[i].b.
  const resolve = (keys: string[]): (string | number)[] => {
    const out: (string | number)[] = [];
    for (const k of keys) {
      out.push(k);
      const count = arrayCounts.get(pathKey(out));
      if (count !== undefined) out.push(count - 1);
    }
    return out;
  };
  let table: (string | number)[] = [];
  const lines = text.split(/\r?\n/);
  let skip: ValueScan | undefined;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (skip) {
      skip = scanValue(raw, skip);
      if (skip.done) skip = undefined;
      return;
    }
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const header = /^\[\[\s*(.+?)\s*\]\]/.exec(line) ?? /^\[\s*(.+?)\s*\]/.exec(line);
    if (header) {
      const keys = splitKey(header[1]);
      if (line.startsWith("[[")) {
        const parent = resolve(keys.slice(0, -1));
        const arrayPath = [...parent, keys[keys.length - 1]];
        const count = (arrayCounts.get(pathKey(arrayPath)) ?? 0) + 1;
        arrayCounts.set(pathKey(arrayPath), count);
        record(arrayPath, lineNo);
        table = [...arrayPath, count - 1];
      } else table = resolve(keys);
      // [a.b.c] also defines a and a.b (when nothing earlier did).
      for (let n = 1; n <= table.length; n++) record(table.slice(0, n), lineNo);
      return;
    }
    const eq = keyValueSplit(line);
    if (eq < 0) return;
    const keys = splitKey(line.slice(0, eq));
    for (let n = 1; n <= keys.length; n++) record([...table, ...keys.slice(0, n)], lineNo);
    const state = scanValue(line.slice(eq + 1), { depth: 0, string: undefined, done: false });
    if (!state.done) skip = state;
  });
  return index;
}

/** Position of the `=` that ends a key (outside quotes), or -1. */
function keyValueSplit(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "=") return i;
  }
  return -1;
}

/** `a."b.c".d` -> ["a", "b.c", "d"] */
export function splitKey(key: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  for (const c of key.trim()) {
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ".") {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

interface ValueScan {
  /** Open brackets ([ and {) not yet closed. */
  depth: number;
  /** Inside a multi-line string: its delimiter. */
  string: '"""' | "'''" | undefined;
  done: boolean;
}

/** Follows a value over one line: strings, comments, brackets. `done` when the value ended. */
function scanValue(text: string, state: ValueScan): ValueScan {
  let { depth, string } = state;
  let i = 0;
  while (i < text.length) {
    if (string) {
      const end = text.indexOf(string, i);
      if (end < 0) return { depth, string, done: false };
      i = end + 3;
      string = undefined;
      continue;
    }
    const c = text[i];
    if (text.startsWith('"""', i) || text.startsWith("'''", i)) {
      string = text.slice(i, i + 3) as '"""' | "'''";
      i += 3;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) i += c === '"' && text[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "#") break;
    else {
      if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") depth--;
      i++;
    }
  }
  return { depth, string, done: !string && depth <= 0 };
}

/** Value at a path in plain data (objects and arrays). */
export function valueAt(data: unknown, path: KeyPath): unknown {
  let cur: unknown = data;
  for (const segment of path) {
    if (Array.isArray(cur) && typeof segment === "number") cur = cur[segment];
    else if (isPlainObject(cur) && typeof segment === "string") cur = cur[segment];
    else return undefined;
  }
  return cur;
}

/** Calls `visit` for every string in plain data, with its path. */
export function forEachString(
  data: unknown,
  visit: (value: string, path: (string | number)[]) => void,
): void {
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") visit(value, path);
    else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) walk(value[i], [...path, i]);
    else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(data, []);
}

/** Where a value came from: the file (and line) that sets it. */
export interface Located<T = unknown> {
  value: T;
  file: string;
  line: number;
}

/**
 * Overlays merged as the harness merges them (mappings key by key, everything else replaces);
 * each value is located in the last overlay that sets it.
 */
export class Layered {
  readonly files: readonly ConfigFile[];
  readonly data: Record<string, unknown>;

  constructor(files: readonly ConfigFile[]) {
    this.files = files;
    this.data = deepMergeAll<Record<string, unknown>>(
      {},
      files.map((f) => f.data),
    );
  }

  get empty(): boolean {
    return this.files.length === 0;
  }

  get(path: KeyPath): unknown {
    return valueAt(this.data, path);
  }

  /** The value and the file:line that set it (undefined when no overlay sets it). */
  at<T = unknown>(path: KeyPath): Located<T> | undefined {
    const value = this.get(path);
    if (value === undefined) return undefined;
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i];
      if (valueAt(f.data, path) !== undefined) return { value: value as T, file: f.path, line: f.line(path) };
    }
    return undefined;
  }

  /** Where to point at a path that is not set: the first line of the last overlay. */
  fallback(): { file: string; line: number } | undefined {
    const last = this.files[this.files.length - 1];
    return last ? { file: last.path, line: 1 } : undefined;
  }
}
