// Re-derives src/upgrade/schema-versions.json from the Go module cache.
//
//   node src/upgrade/derive-schema-versions.ts [--modcache DIR] [--check] [v0.1.0 v0.2.0 ...]
//
// For every mautrix-slack release present in the module cache (or the ones named), it reads the
// release's go.mod for the mautrix-go and go-util versions, then the upgrade headers of each
// database section:
//   main   maunium.net/go/mautrix@<ver>/bridgev2/database/upgrades/   (version table "version")
//   state  maunium.net/go/mautrix@<ver>/sqlstatestore/                  ("mx_version")
//   crypto maunium.net/go/mautrix@<ver>/crypto/sql_store_upgrade/       ("crypto_version")
//   slack  go.mau.fi/mautrix-slack@<tag>/<folder of the Child("slack_version", ...) call>
// It only reads files; it never downloads or builds. Missing modules are reported with the
// `go mod download -json <module>@<version>` line that would fetch them.
// Entries marked "reference" (stated from docs, not derived) are kept unless derived now.
// --check compares instead of writing and exits 1 when the file is out of date.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ReleaseSchema,
  type SectionName,
  type SectionSchema,
  sectionSchemaFromSteps,
  stepsFromFiles,
} from "./schema.ts";
import { compareReleases, SCHEMA_FILE, type SchemaFile } from "./schema-versions.ts";

const MAUTRIX_GO = "maunium.net/go/mautrix";
const GO_UTIL = "go.mau.fi/util";
const SLACK = "go.mau.fi/mautrix-slack";

/** Module cache path of module@version (Go escapes upper-case letters as !lower). */
export function moduleDir(modcache: string, module: string, version: string): string {
  const esc = (s: string) => s.replace(/[A-Z]/g, (c) => "!" + c.toLowerCase());
  return join(modcache, `${esc(module)}@${esc(version)}`);
}

/** Reads `require` and `replace` lines of a go.mod: module -> effective version. */
export function parseGoMod(text: string): Record<string, string> {
  const req: Record<string, string> = {};
  const rep: Record<string, string> = {};
  let block: "require" | "replace" | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (!line) continue;
    if (block) {
      if (line === ")") {
        block = undefined;
        continue;
      }
      handle(block, line);
      continue;
    }
    const m = /^(require|replace)\s*(\()?\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[2]) block = m[1] as "require" | "replace";
    else handle(m[1] as "require" | "replace", m[3]!);
  }
  function handle(kind: "require" | "replace", line: string) {
    if (kind === "require") {
      const [mod, ver] = line.split(/\s+/);
      if (mod && ver) req[mod] = ver;
    } else {
      const m = /^(\S+)(?:\s+\S+)?\s*=>\s*(\S+)\s+(\S+)$/.exec(line);
      if (m && m[2] === m[1]) rep[m[1]!] = m[3]!;
    }
  }
  return { ...req, ...rep };
}

function readFolder(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".sql") && !name.endsWith(".go")) continue;
    const p = join(dir, name);
    if (statSync(p).isFile()) files[name] = readFileSync(p, "utf8");
  }
  return files;
}

function walkGo(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walkGo(p, out);
    else if (name.endsWith(".go") && !name.endsWith("_test.go")) out.push(p);
  }
  return out;
}

/** Folder of the slack section: the package whose Go code calls Child("slack_version", ...). */
function findSlackUpgradeDir(slackDir: string): { dir: string; table: string } {
  const pkg = join(slackDir, "pkg");
  for (const file of walkGo(existsSync(pkg) ? pkg : slackDir)) {
    const m = /\.Child\(\s*"([a-z_]+_version)"/.exec(readFileSync(file, "utf8"));
    if (m) return { dir: join(file, ".."), table: m[1]! };
  }
  throw new Error(`${slackDir}: no Child("..._version", ...) call found`);
}

function constValue(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const m = new RegExp(`const\\s+${name}\\s*=\\s*"([^"]+)"`).exec(readFileSync(file, "utf8"));
  return m?.[1];
}

/** Derives one release from the module cache. */
export function deriveRelease(
  modcache: string,
  tag: string,
): { release: ReleaseSchema; tables: Record<SectionName, string>; problems: string[] } {
  const problems: string[] = [];
  const slackDir = moduleDir(modcache, SLACK, tag);
  if (!existsSync(slackDir))
    throw new Error(`${slackDir} missing: run \`go mod download -json ${SLACK}@${tag}\``);
  const mods = parseGoMod(readFileSync(join(slackDir, "go.mod"), "utf8"));
  const mgo = mods[MAUTRIX_GO];
  const util = mods[GO_UTIL];
  if (!mgo) throw new Error(`${tag}: go.mod does not require ${MAUTRIX_GO}`);
  const mgoDir = moduleDir(modcache, MAUTRIX_GO, mgo);
  if (!existsSync(mgoDir))
    throw new Error(`${mgoDir} missing: run \`go mod download -json ${MAUTRIX_GO}@${mgo}\``);

  // Version table names, read from the sources rather than assumed.
  const slack = findSlackUpgradeDir(slackDir);
  const tables: Record<SectionName, string> = {
    main: "version",
    state: constValue(join(mgoDir, "sqlstatestore", "statestore.go"), "VersionTableName") ?? "?",
    crypto: constValue(join(mgoDir, "crypto", "sql_store_upgrade", "upgrade.go"), "VersionTableName") ?? "?",
    slack: slack.table,
  };
  if (util) {
    const utilDir = moduleDir(modcache, GO_UTIL, util);
    const dbFile = join(utilDir, "dbutil", "database.go");
    if (!existsSync(dbFile))
      problems.push(
        `${dbFile} missing (go mod download -json ${GO_UTIL}@${util}): default table not checked`,
      );
    else if (!/VersionTable:\s*"version"/.test(readFileSync(dbFile, "utf8")))
      problems.push(`${GO_UTIL}@${util}: default VersionTable is no longer "version"`);
    const utFile = join(utilDir, "dbutil", "upgradetable.go");
    if (
      existsSync(utFile) &&
      !readFileSync(utFile, "utf8").includes("(?: \\(compatible with v(\\d+)\\+\\))?")
    )
      problems.push(`${GO_UTIL}@${util}: upgrade header syntax changed; check parseSqlHeader`);
  }

  const dirs: Record<SectionName, string> = {
    main: join(mgoDir, "bridgev2", "database", "upgrades"),
    state: join(mgoDir, "sqlstatestore"),
    crypto: join(mgoDir, "crypto", "sql_store_upgrade"),
    slack: slack.dir,
  };
  const sections: Partial<Record<SectionName, SectionSchema>> = {};
  for (const [name, dir] of Object.entries(dirs) as [SectionName, string][]) {
    const schema = sectionSchemaFromSteps(stepsFromFiles(readFolder(dir)));
    // Keep file names relative to the module for readability.
    sections[name] = { ...schema, steps: schema.steps?.map((s) => ({ ...s })) };
  }
  return {
    release: { release: tag, source: "module-cache", mautrixGo: mgo, goUtil: util, sections },
    tables,
    problems,
  };
}

function listCachedTags(modcache: string): string[] {
  const parent = join(modcache, "go.mau.fi");
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((n) => n.startsWith("mautrix-slack@v"))
    .map((n) => n.slice("mautrix-slack@".length))
    .sort(compareReleases);
}

function main(argv: string[]): number {
  let modcache = process.env.GOMODCACHE || join(process.env.GOPATH || join(homedir(), "go"), "pkg", "mod");
  let check = false;
  const tags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--modcache") modcache = argv[++i]!;
    else if (a === "--check") check = true;
    else if (/^v\d/.test(a)) tags.push(a);
    else {
      console.error(`unknown argument ${a}`);
      return 2;
    }
  }
  const wanted = tags.length ? tags : listCachedTags(modcache);
  if (!wanted.length) {
    console.error(
      `no ${SLACK}@* in ${modcache}; download one with \`go mod download -json ${SLACK}@v0.2.0\``,
    );
    return 1;
  }
  const old: SchemaFile = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
  const byRelease = new Map(old.releases.map((r) => [r.release, r]));
  let tables = old.tables;
  let failed = false;
  for (const tag of wanted) {
    try {
      const d = deriveRelease(modcache, tag);
      byRelease.set(tag, d.release);
      tables = d.tables;
      for (const p of d.problems) console.error(`warning: ${p}`);
      const s = d.release.sections;
      console.log(
        `${tag} (mautrix-go ${d.release.mautrixGo}): ` +
          (Object.keys(s) as SectionName[])
            .map((k) => `${k} v${s[k]!.latest} compat v${s[k]!.compat}`)
            .join(", "),
      );
    } catch (e) {
      failed = true;
      console.error(`${tag}: ${(e as Error).message}`);
    }
  }
  const next: SchemaFile = {
    ...old,
    tables,
    releases: [...byRelease.values()].sort((a, b) => compareReleases(a.release, b.release)),
  };
  const text = JSON.stringify(next, null, 2) + "\n";
  if (check) {
    const same = text === readFileSync(SCHEMA_FILE, "utf8");
    console.log(same ? "schema-versions.json is up to date" : "schema-versions.json is out of date");
    return same && !failed ? 0 : 1;
  }
  writeFileSync(SCHEMA_FILE, text);
  console.log(`wrote ${SCHEMA_FILE}`);
  return failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
