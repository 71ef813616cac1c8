// Seed loading: a parsed object, a YAML file (or a scenario file with a `slack:` section), or the
// default workspace. Problems are reported as `file:line:column: slack.users[1].name: message`.
import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { formatPath, type Seed, type SeedIssue, validateSeed } from "./validate.ts";

export { formatPath, type Seed, type SeedIssue, validateSeed } from "./validate.ts";

/** The operator's workspace: chochacho, #dev-platform, two people and the bridge's app. */
export const defaultSeed: Seed = {
  team: { name: "chochacho", domain: "chochacho" },
  apps: [{ name: "mautrix-slack" }],
  users: [
    { name: "alice", real_name: "Alice Example", display_name: "alice", email: "alice@chochacho.example" },
    { name: "bob", real_name: "Bob Example", display_name: "bob", email: "bob@chochacho.example" },
  ],
  channels: [
    {
      name: "general",
      general: true,
      members: ["alice", "bob", "@bot"],
      topic: "Company-wide announcements",
    },
    { name: "dev-platform", members: ["alice", "bob", "@bot"], topic: "Platform team" },
  ],
};

export class SeedError extends Error {
  readonly issues: SeedIssue[];
  readonly lines: string[];
  constructor(lines: string[], issues: SeedIssue[]) {
    super(`invalid slack seed:\n${lines.join("\n")}`);
    this.name = "SeedError";
    this.lines = lines;
    this.issues = issues;
  }
}

/**
 * Parses seed YAML with positions. `section` names the key holding the seed inside a larger file
 * (a scenario's "slack"); without it the whole document is the seed unless it has a `slack:` key.
 */
export function parseSeedYaml(text: string, file: string, section?: string): Seed {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: false });
  if (doc.errors.length) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: (yaml): ${e.message.split("\n")[0]}`;
    });
    throw new SeedError(
      lines,
      doc.errors.map((e) => ({ path: [], message: e.message })),
    );
  }
  let base: string[] = [];
  if (section) base = [section];
  else if (isMap(doc.contents) && doc.contents.has("slack")) base = ["slack"];
  const value = base.length ? doc.getIn(base) : doc.toJS();
  const seed = (
    value && typeof value === "object" && "toJSON" in (value as object)
      ? (value as { toJSON(): unknown }).toJSON()
      : value
  ) as unknown;
  const issues = validateSeed(seed);
  if (issues.length) {
    const lines = issues.map((issue) => {
      // The deepest node that exists gives the position (a missing key points at its parent).
      let node: unknown;
      const last = issue.path[issue.path.length - 1];
      if (issue.message.startsWith("unknown field") && typeof last === "string") {
        // Point at the key itself, not its value.
        const parent = doc.getIn([...base, ...issue.path.slice(0, -1)], true);
        if (isMap(parent)) node = parent.items.find((p) => isScalar(p.key) && p.key.value === last)?.key;
      }
      for (let n = issue.path.length; n >= 0 && !node; n--)
        node = doc.getIn([...base, ...issue.path.slice(0, n)], true);
      if (!node && base.length === 0) node = doc.contents;
      const range = (node as { range?: [number, number] } | undefined)?.range;
      const pos = range ? lineCounter.linePos(range[0]) : { line: 1, col: 1 };
      const hint = issue.hint ? ` (hint: ${issue.hint})` : "";
      return `${file}:${pos.line}:${pos.col}: ${formatPath(issue.path, base.join("."))}: ${issue.message}${hint}`;
    });
    throw new SeedError(lines, issues);
  }
  return (seed ?? {}) as Seed;
}

/** Resolves FakeSlackOptions.seed: undefined -> default, string -> YAML file path, object -> validated. */
export function loadSeed(input: unknown): Seed {
  if (input === undefined || input === null) return defaultSeed;
  if (typeof input === "string") return parseSeedYaml(readFileSync(input, "utf8"), input);
  const issues = validateSeed(input);
  if (issues.length) {
    const lines = issues.map(
      (i) => `(seed): ${formatPath(i.path, "slack")}: ${i.message}${i.hint ? ` (hint: ${i.hint})` : ""}`,
    );
    throw new SeedError(lines, issues);
  }
  return input as Seed;
}
