// Predicting whether a bridge release will start on an existing database, from the database's
// version tables and the schema knowledge file. Mirrors go.mau.fi/util dbutil Database.Upgrade():
// refused (exit 15) when the row's compat > the binary's latest known version.
import type { StartedEnvironment } from "../environment/api.ts";
import {
  type DbSchemaState,
  type ReleaseSchema,
  SECTION_INFO,
  SECTION_NAMES,
  type SectionName,
  type SectionState,
  simulateUpgrade,
} from "./schema.ts";
import { findRelease } from "./schema-versions.ts";

export type SectionVerdict =
  /** The table does not exist yet: the binary creates the section from scratch. */
  | "fresh"
  /** Same version as the binary's latest. */
  | "up_to_date"
  /** Older than the binary: it runs the missing upgrades. */
  | "upgrade"
  /** Newer than the binary, but compatible: it logs "Database is up to date" and runs. */
  | "newer_compatible"
  /** compat > latest: "unsupported database schema version", exit 15. */
  | "refused"
  /** Newer and incompatible, but --ignore-unsupported-database was given: a warning, then it runs. */
  | "ignored"
  /** No data about this section for the target release. */
  | "unknown";

export interface SectionPrediction {
  section: SectionName;
  /** Version table, and the `db_section` the bridge logs. */
  table: string;
  logSection: string;
  db?: SectionState;
  targetLatest?: number;
  verdict: SectionVerdict;
  /** The row expected after the target started (when it starts). */
  after?: SectionState;
  reason: string;
}

export interface StartPrediction {
  /** Release the prediction is for. */
  target: string;
  /** Whether the target binary accepts the database (starts past its database upgrade). */
  accepted: boolean;
  /** One line per section, refusals first. */
  reasons: string[];
  /** Exit code the bridge is expected to exit with when refused. */
  expectedExitCode?: number;
  /** The `db_section` values expected in the FATAL line. */
  refusedSections: string[];
  sections: SectionPrediction[];
  /** Version rows expected after the target started (sections it would touch). */
  expectedAfter: DbSchemaState;
}

export interface PredictOptions {
  /** The bridge runs with --ignore-unsupported-database. */
  ignoreUnsupportedDatabase?: boolean;
}

function describe(s: SectionState): string {
  return s.compat === s.version ? `v${s.version}` : `v${s.version} (compatible down to v${s.compat})`;
}

/**
 * Predicts whether `target` (a release tag, an image reference, or a ReleaseSchema) starts on a
 * database in state `current`. Named for its main use, a rollback; it equally predicts upgrades.
 */
export function predictRollback(
  current: DbSchemaState,
  target: ReleaseSchema | string,
  opts: PredictOptions = {},
): StartPrediction {
  const rel = typeof target === "string" ? findRelease(target) : target;
  const sections: SectionPrediction[] = [];
  const expectedAfter: DbSchemaState = {};
  for (const name of SECTION_NAMES) {
    const info = SECTION_INFO[name];
    const db = current[name];
    const known = rel.sections[name];
    const base = {
      section: name,
      table: info.table,
      logSection: info.logSection,
      db,
      targetLatest: known?.latest,
    };
    if (!db) {
      // Sections the database lacks are created by the target only when it uses them (crypto needs
      // encryption), so they are not part of the prediction's verdict.
      sections.push({
        ...base,
        verdict: "fresh",
        reason: `${info.logSection}: no ${info.table} table; created fresh if used`,
      });
      continue;
    }
    if (!known) {
      sections.push({
        ...base,
        verdict: "unknown",
        reason: `${info.logSection}: database ${describe(db)}; no data for ${rel.release} (${rel.source})`,
      });
      continue;
    }
    const compat = db.compat || db.version;
    let verdict: SectionVerdict;
    let after: SectionState | undefined;
    let reason: string;
    if (compat > known.latest) {
      verdict = opts.ignoreUnsupportedDatabase ? "ignored" : "refused";
      after = verdict === "ignored" ? { ...db } : undefined;
      reason =
        `${info.logSection}: database ${describe(db)} is newer than ${rel.release} supports ` +
        `(latest known v${known.latest}, needs compat <= v${known.latest})` +
        (verdict === "refused"
          ? ` -> "unsupported database schema version", exit 15, "Downgrading the bridge is not supported"`
          : " -> warning, continues (--ignore-unsupported-database)");
    } else if (db.version > known.latest) {
      verdict = "newer_compatible";
      after = { ...db };
      reason = `${info.logSection}: database ${describe(db)} is newer than ${rel.release}'s v${known.latest} but compatible -> runs unchanged`;
    } else if (db.version === known.latest) {
      verdict = "up_to_date";
      after = { ...db };
      reason = `${info.logSection}: database ${describe(db)} is what ${rel.release} expects`;
    } else {
      verdict = "upgrade";
      after = known.steps
        ? simulateUpgrade(db, known.steps).state
        : { version: known.latest, compat: Math.min(known.compat, known.latest) };
      reason = `${info.logSection}: database ${describe(db)} -> ${rel.release} upgrades it to ${describe(after)}`;
    }
    if (after) expectedAfter[name] = after;
    sections.push({ ...base, verdict, after, reason });
  }
  const refused = sections.filter((s) => s.verdict === "refused");
  const order: SectionVerdict[] = [
    "refused",
    "ignored",
    "unknown",
    "upgrade",
    "newer_compatible",
    "up_to_date",
    "fresh",
  ];
  const reasons = [...sections]
    .sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict))
    .map((s) => s.reason);
  return {
    target: rel.release,
    accepted: refused.length === 0,
    reasons,
    expectedExitCode: refused.length ? 15 : undefined,
    refusedSections: refused.map((s) => s.logSection),
    sections,
    expectedAfter,
  };
}

/** Minimal database access the reader needs (StartedEnvironment.postgres fits). */
export interface SqlQuery {
  query<T = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * Reads the bridge database's version tables. A section whose table does not exist (or is empty)
 * is left out. A NULL or 0 compat means "same as version", as dbutil reads it.
 */
export async function readDbSchemaState(
  pg: SqlQuery | Pick<StartedEnvironment, "postgres">,
  database = "mautrix_slack",
): Promise<DbSchemaState> {
  const q: SqlQuery = "postgres" in pg ? pg.postgres : pg;
  const tables = SECTION_NAMES.map((n) => SECTION_INFO[n].table);
  const existing = await q.query<{ table_name: string }>(
    database,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)",
    [tables],
  );
  const present = new Set(existing.map((r) => r.table_name));
  const state: DbSchemaState = {};
  for (const name of SECTION_NAMES) {
    const table = SECTION_INFO[name].table;
    if (!present.has(table)) continue;
    // Table names come from SECTION_INFO, never from input.
    const rows = await q.query<{ version: number | string | null; compat: number | string | null }>(
      database,
      `SELECT version, compat FROM ${table} LIMIT 1`,
    );
    const row = rows[0];
    if (!row || row.version === null) continue;
    const version = Number(row.version);
    const compat = row.compat === null || Number(row.compat) === 0 ? version : Number(row.compat);
    state[name] = { version, compat };
  }
  return state;
}

/** "main v20/9, state v7/3, slack v2/1" — compact form for titles and details. */
export function formatSchemaState(s: DbSchemaState): string {
  const parts = SECTION_NAMES.filter((n) => s[n]).map((n) => `${n} v${s[n]!.version}/${s[n]!.compat}`);
  return parts.length ? parts.join(", ") : "(no version tables)";
}
