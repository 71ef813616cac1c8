// Database URIs and pool sizes of the bridge, Synapse and MAS.
import { isPlainObject } from "../../util/deep-merge.ts";
import { type CheckContext, type CheckGroup, envAt, quote, ref } from "../context.ts";
import type { Position } from "../findings.ts";

const PLACEHOLDER_URI = "postgres://user:password@host/database?sslmode=disable";
const POSTGRES_DEFAULT_MAX_CONNECTIONS = 100;
/** PostgreSQL keeps superuser_reserved_connections (default 3) of max_connections for superusers. */
const RESERVED = 3;

/** One service's database, as far as its config says. */
interface DatabaseUse {
  service: string;
  host?: string;
  port: number;
  name?: string;
  pool: number;
  at: Position;
}

function fromUri(uri: string): { host?: string; port: number; name?: string } | undefined {
  try {
    const u = new URL(uri);
    if (!/^postgres(ql)?:$/.test(u.protocol)) return undefined;
    return {
      host: u.hostname || undefined,
      port: Number(u.port || 5432),
      name: u.pathname.replace(/^\//, ""),
    };
  } catch {
    return undefined;
  }
}

/**
 * The PostgreSQL databases the services use (SQLite and unparsable settings left out), the
 * homeserver first: a shared database is reported at the service that refuses it (bridge, MAS).
 */
function databaseUses(ctx: CheckContext): DatabaseUse[] {
  const uses: DatabaseUse[] = [];
  if (ctx.env.homeserver.kind === "synapse") {
    const db = ctx.homeserver.at<Record<string, any>>(["database"]);
    if (db && isPlainObject(db.value) && db.value.name === "psycopg2" && isPlainObject(db.value.args)) {
      const a = db.value.args as Record<string, any>;
      uses.push({
        service: "homeserver",
        host: a.host,
        port: Number(a.port ?? 5432),
        name: a.dbname ?? a.database,
        pool: Number(a.cp_max ?? 5),
        at: ctx.homeserver.at(["database", "args"]) ?? db,
      });
    }
  }
  const bridgeUri = ctx.bridge.at<string>(["database", "uri"]);
  const bridgeType = ctx.bridge.get(["database", "type"]) ?? "postgres";
  if (bridgeUri && bridgeType === "postgres" && typeof bridgeUri.value === "string") {
    const p = fromUri(bridgeUri.value);
    const pool = Number(ctx.bridge.get(["database", "max_open_conns"]) ?? 5);
    if (p) uses.push({ service: "bridge", ...p, pool, at: bridgeUri });
  }
  const mas = ctx.mas?.at<unknown>(["database"]);
  if (mas && isPlainObject(mas.value)) {
    const d = mas.value as Record<string, any>;
    const p =
      typeof d.uri === "string"
        ? fromUri(d.uri)
        : { host: d.host, port: Number(d.port ?? 5432), name: d.database };
    if (p) uses.push({ service: "MAS", ...p, pool: Number(d.max_connections ?? 10), at: mas });
  }
  return uses;
}

export const databaseChecks: CheckGroup = {
  subject: "database",
  checks: [
    {
      id: "database.bridge-sqlite3",
      severity: "error",
      catches: "the bridge's `database.type` is `sqlite3`",
      why: 'mautrix bridges refuse it: FATAL "Invalid database type sqlite3. Use sqlite3-fk-wal instead.", exit code 14.',
      fix: "Use `postgres` (or `sqlite3-fk-wal` with `uri: file:/data/slack.db?_txlock=immediate`).",
    },
    {
      id: "database.bridge-uri-placeholder",
      severity: "error",
      catches: "the bridge's `database.uri` is still the example value",
      why: 'The bridge refuses to start with "database.uri not configured" (exit code 11).',
      fix: "Set `database.uri` to the bridge's own PostgreSQL database.",
    },
    {
      id: "database.bridge-sslmode",
      severity: "warning",
      catches: "the bridge's PostgreSQL URI has no `sslmode`",
      why: 'The bridge\'s driver (lib/pq) defaults to sslmode=require: against a PostgreSQL without TLS (the usual container setup) every connection fails with "pq: SSL is not enabled on the server" and the bridge does not start. The example config carries `?sslmode=disable` for that reason.',
      fix: "Add `?sslmode=disable` (same host or private network) or `?sslmode=verify-full` (TLS) to the URI.",
    },
    {
      id: "database.shared",
      severity: "error",
      catches: "two services (bridge, Synapse, MAS) use the same PostgreSQL database",
      why: 'mautrix bridges refuse a database holding other programs\' tables: FATAL with "See https://docs.mau.fi/faq/foreign-tables" or "Sharing the same database with different programs is not supported", exit code 15. MAS needs a database of its own too.',
      fix: "Give each service its own database (CREATE DATABASE mautrix_slack ...).",
    },
    {
      id: "database.synapse-sqlite",
      severity: "warning",
      catches: "Synapse runs on SQLite",
      why: "Synapse documents SQLite for testing only: it serialises writes and slows down as soon as a bridge pushes a workspace's traffic through it; migrating later needs downtime (synapse_port_db).",
      fix: "Use PostgreSQL (`database: {name: psycopg2, args: {...}}`).",
    },
    {
      id: "database.pools-exceed-postgres",
      severity: "warning",
      catches: "the connection pools of the services sharing one PostgreSQL add up to more than it accepts",
      why: 'When all pools fill (bursts, backfill, a restart storm) PostgreSQL answers "sorry, too many clients already" and the service that asked last fails its queries. Defaults: bridge max_open_conns 5, Synapse cp_max 5, MAS max_connections 10; PostgreSQL max_connections 100 minus 3 reserved.',
      fix: "Lower the pools (bridge `database.max_open_conns`, Synapse `database.args.cp_max`, MAS `database.max_connections`) or raise max_connections (and say so in `production.postgres_max_connections`).",
    },
  ],
  run(ctx) {
    const f = ctx.findings;
    const type = ctx.bridge.at(["database", "type"]);
    if (type?.value === "sqlite3") f.add("database.bridge-sqlite3", type, "database.type is sqlite3");
    const uri = ctx.bridge.at<string>(["database", "uri"]);
    if (uri?.value === PLACEHOLDER_URI)
      f.add("database.bridge-uri-placeholder", uri, "database.uri is the example's placeholder");
    else if (
      uri &&
      typeof uri.value === "string" &&
      /^postgres(ql)?:\/\//.test(uri.value) &&
      !/[?&]sslmode=/.test(uri.value)
    )
      f.add("database.bridge-sslmode", uri, "database.uri sets no sslmode (the driver then requires TLS)");
    if (ctx.env.homeserver.kind === "synapse") {
      const name = ctx.homeserver.at(["database", "name"]);
      if (name && typeof name.value === "string" && name.value.startsWith("sqlite"))
        f.add("database.synapse-sqlite", name, `database.name is ${quote(name.value)}`);
    }

    const uses = databaseUses(ctx);
    uses.forEach((a, i) => {
      const b = uses.slice(0, i).find((u) => u.name && u.name === a.name && sameServer(u, a));
      if (b)
        f.add(
          "database.shared",
          a.at,
          `the ${a.service} uses database "${a.name}" on ${a.host ?? "the default host"}:${a.port}, as the ${b.service} does (${ref(b.at)})`,
        );
    });
    checkPools(ctx, uses);
  },
};

function sameServer(a: DatabaseUse, b: DatabaseUse): boolean {
  return (a.host ?? "") === (b.host ?? "") && a.port === b.port;
}

function checkPools(ctx: CheckContext, uses: DatabaseUse[]): void {
  const max = ctx.env.production.postgresMaxConnections ?? POSTGRES_DEFAULT_MAX_CONNECTIONS;
  const servers = new Map<string, DatabaseUse[]>();
  for (const u of uses) {
    const key = `${u.host ?? ""}:${u.port}`;
    servers.set(key, [...(servers.get(key) ?? []), u]);
  }
  for (const [server, list] of servers) {
    const total = list.reduce((n, u) => n + (Number.isFinite(u.pool) ? u.pool : 0), 0);
    if (total <= max - RESERVED) continue;
    const last = list[list.length - 1];
    ctx.findings.add(
      "database.pools-exceed-postgres",
      last.at ?? envAt(ctx, ["postgres"]),
      `pools on ${server.replace(/^:/, "the default host:")} add up to ${total} connections (${list.map((u) => `${u.service} ${u.pool}`).join(", ")}); PostgreSQL accepts ${max - RESERVED}`,
    );
  }
}
