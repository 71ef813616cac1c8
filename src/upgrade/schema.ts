// Database schema versions of mautrix bridges, as go.mau.fi/util dbutil sees them.
//
// Every section of the bridge database (the bridgev2 main tables, the Matrix state store, the
// bridge's own tables, the crypto store) has a version table with one row `(version, compat)`.
// A binary knows an upgrade table; its length is the "latest known" version. At start the binary
// refuses (exit 15, "Downgrading the bridge is not supported") when the row's compat is greater
// than its latest known version; otherwise it runs the missing upgrades (none when the database is
// newer) and continues. This module parses the upgrade headers and simulates that logic.

/** The sections of a mautrix-slack database, keyed by the names the harness uses. */
export type SectionName = "main" | "state" | "slack" | "crypto";

export const SECTION_NAMES: readonly SectionName[] = ["main", "state", "slack", "crypto"];

/** Version table and the `db_section` log field of each section. */
export const SECTION_INFO: Record<SectionName, { table: string; logSection: string; what: string }> = {
  main: { table: "version", logSection: "main", what: "bridgev2 tables (portal, ghost, message, ...)" },
  state: { table: "mx_version", logSection: "matrix_state", what: "Matrix state store (mx_*)" },
  slack: { table: "slack_version", logSection: "slack", what: "mautrix-slack's own tables (emoji)" },
  crypto: {
    table: "crypto_version",
    logSection: "crypto",
    what: "end-to-bridge encryption store (crypto_*)",
  },
};

/** One registered upgrade, as `UpgradeTable.Register(from, to, compat, ...)` stores it. */
export interface UpgradeStep {
  /** Table index: the version this step upgrades from. */
  from: number;
  to: number;
  /** "Compatible down to": written to the version table after this step. */
  compat: number;
  message: string;
  /** File the step was read from. */
  file: string;
}

/** What one binary knows about one section. */
export interface SectionSchema {
  /** Latest version the binary knows (length of its upgrade table). */
  latest: number;
  /** Compat written by a fresh install (the `v0 -> vN` step). */
  compat: number;
  /** Registered steps, when derived from sources (absent for reference-only entries). */
  steps?: UpgradeStep[];
}

/** What one release knows about every section. */
export interface ReleaseSchema {
  /** Bridge release tag, e.g. "v0.2.0". */
  release: string;
  /** Where the numbers come from: "module-cache" (derived from sources) or "reference" (stated from the docs). */
  source: "module-cache" | "reference";
  mautrixGo?: string;
  goUtil?: string;
  sections: Partial<Record<SectionName, SectionSchema>>;
  note?: string;
}

/** One row of a version table, or undefined when the section's table does not exist (yet). */
export interface SectionState {
  version: number;
  compat: number;
}

/** The schema state of a bridge database as read from its version tables. */
export type DbSchemaState = Partial<Record<SectionName, SectionState>>;

// dbutil's header syntax (upgradetable.go): "-- v0 -> v16 (compatible with v9+): Message" or "-- v5: Message".
const HEADER_RE = /^-- (?:v(\d+) -> )?v(\d+)(?: \(compatible with v(\d+)\+\))?: (.+)$/;
// Upgrades registered from Go: Table.Register(-1, 20, 20, "Message", ...).
const REGISTER_RE = /\.Register\(\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*"((?:[^"\\]|\\.)*)"/g;
const SPLIT_NAME_RE = /^(.+)\.(postgres|sqlite)\.sql$/;

/** Applies dbutil's Register() normalisation: a negative `from` is relative to `to`, compat <= 0 means `to`. */
export function normaliseStep(
  from: number,
  to: number,
  compat: number,
  message: string,
  file: string,
): UpgradeStep {
  let f = from;
  if (f < 0) f += to;
  if (f < 0) throw new Error(`${file}: invalid from value ${from} for v${to}`);
  return { from: f, to, compat: compat <= 0 ? to : compat, message, file };
}

/** Parses the first line of an upgrade .sql file. Returns undefined when it has no upgrade header. */
export function parseSqlHeader(fileName: string, content: string): UpgradeStep | undefined {
  const firstLine = content.split("\n", 1)[0]!.replace(/\r$/, "");
  const m = HEADER_RE.exec(firstLine);
  if (!m) return undefined;
  const from = m[1] !== undefined ? Number(m[1]) : -1;
  const to = Number(m[2]);
  const compat = m[3] !== undefined ? Number(m[3]) : 0;
  return normaliseStep(from, to, compat, m[4]!, fileName);
}

/** Finds `.Register(from, to, compat, "message", ...)` calls in a Go upgrade file. */
export function parseGoRegistrations(fileName: string, content: string): UpgradeStep[] {
  const out: UpgradeStep[] = [];
  for (const m of content.matchAll(REGISTER_RE)) {
    out.push(normaliseStep(Number(m[1]), Number(m[2]), Number(m[3]), m[4]!, fileName));
  }
  return out;
}

/**
 * Builds the upgrade steps of one upgrades folder from its files (name -> content), as dbutil's
 * RegisterFS does: every `.sql` file with a header, split `<name>.postgres.sql`/`<name>.sqlite.sql`
 * pairs counted once, plus `Register(...)` calls in `.go` files of the same folder.
 */
export function stepsFromFiles(files: Record<string, string>): UpgradeStep[] {
  const steps: UpgradeStep[] = [];
  const seenSplit = new Set<string>();
  for (const name of Object.keys(files).sort()) {
    const content = files[name]!;
    if (name.endsWith(".sql")) {
      const split = SPLIT_NAME_RE.exec(name);
      if (split) {
        if (seenSplit.has(split[1]!)) continue;
        seenSplit.add(split[1]!);
      }
      const step = parseSqlHeader(name, content);
      if (!step) throw new Error(`${name}: upgrade header not found (expected "-- vN: message")`);
      steps.push(step);
    } else if (name.endsWith(".go") && !name.endsWith("_test.go")) {
      steps.push(...parseGoRegistrations(name, content));
    }
  }
  return steps.sort((a, b) => a.from - b.from || a.to - b.to);
}

/** Length of the upgrade table the steps make up: the version a binary with these steps calls "latest". */
export function latestVersion(steps: UpgradeStep[]): number {
  let len = 0;
  for (const s of steps) len = Math.max(len, s.from + 1);
  return len;
}

/**
 * Simulates dbutil's Database.Upgrade() on a section in state `current` (undefined = fresh, no row)
 * with a binary that has `steps`. Returns the outcome and the resulting row.
 */
export function simulateUpgrade(
  current: SectionState | undefined,
  steps: UpgradeStep[],
  opts: { ignoreUnsupportedDatabase?: boolean } = {},
): {
  outcome: "refused" | "up_to_date" | "upgraded" | "ignored_unsupported";
  state: SectionState;
  applied: UpgradeStep[];
} {
  const latest = latestVersion(steps);
  const byFrom = new Map<number, UpgradeStep>();
  for (const s of steps) byFrom.set(s.from, s);
  let version = current?.version ?? 0;
  let compat = current ? current.compat || current.version : 0;
  if (compat > latest) {
    return {
      outcome: opts.ignoreUnsupportedDatabase ? "ignored_unsupported" : "refused",
      state: { version, compat },
      applied: [],
    };
  }
  const applied: UpgradeStep[] = [];
  while (version < latest) {
    const step = byFrom.get(version);
    if (!step) {
      version++;
      continue;
    }
    version = step.to;
    compat = step.compat;
    applied.push(step);
  }
  // A missing table entry advances the in-memory version without writing the row: report the row.
  const last = applied[applied.length - 1];
  const state = last ? { version: last.to, compat: last.compat } : { version: current?.version ?? 0, compat };
  return { outcome: applied.length ? "upgraded" : "up_to_date", state, applied };
}

/** Summarises a folder's steps as the schema a binary knows. */
export function sectionSchemaFromSteps(steps: UpgradeStep[]): SectionSchema {
  const fresh = simulateUpgrade(undefined, steps);
  return { latest: latestVersion(steps), compat: fresh.state.compat, steps };
}
