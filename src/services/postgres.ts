// PostgreSQL for a run: one container, one database per service, all with C collation (Synapse
// refuses anything else). The bridge's database is the container's main database (POSTGRES_DB) so
// it can be snapshotted and restored with CREATE DATABASE ... TEMPLATE. The data directory lives in
// the container (not a tmpfs) and the host port is pinned, so a restart — also after a kill — finds
// both again.
import { ServiceBuilder } from "./builder.ts";
import "../runtime/docker-env.ts";
import { randomBytes } from "node:crypto";
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from "@testcontainers/postgresql";
import pg from "pg";
import { Wait } from "testcontainers";
import type { ServiceLog } from "../runtime/logs.ts";
import { restartServiceContainer } from "../runtime/start-failure.ts";
import { withFreePort } from "../util/net.ts";
import { registerSecret } from "../util/redact.ts";

export const POSTGRES_ALIAS = "postgres";
export const BRIDGE_DATABASE = "mautrix_slack";

/** A database besides the main one; with `owner`, a role of its own that owns only this database. */
export interface ExtraDatabase {
  name: string;
  owner?: { user: string; password: string };
}

/** Database names must be plain identifiers: they are interpolated into SQL. */
function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`Invalid database/snapshot name "${name}" (use [a-z0-9_])`);
  return name;
}

export class PostgresContainer extends ServiceBuilder {
  private readonly image: string;
  private mainDatabase = BRIDGE_DATABASE;
  private extraDatabases: ExtraDatabase[] = [];
  private startupTimeoutMs = 60_000;
  private password?: string;

  constructor(image: string) {
    super(POSTGRES_ALIAS);
    this.image = image;
  }

  /** The container's main database (snapshot-able) and the other databases to create. */
  withDatabases(main: string, others: ExtraDatabase[]): this {
    this.mainDatabase = ident(main);
    for (const db of others) {
      ident(db.name);
      if (db.owner) ident(db.owner.user);
    }
    this.extraDatabases = others;
    return this;
  }

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  /** Default: random per container (registered as a secret either way). */
  withPassword(password: string): this {
    this.password = password;
    return this;
  }

  async start(): Promise<StartedPostgres> {
    const user = "harness";
    const password = this.password ?? randomBytes(18).toString("base64url");
    registerSecret(password);
    const initSql = this.extraDatabases.map(createDatabaseSql).join("\n");
    let container = new PostgreSqlContainer(this.image)
      .withDatabase(this.mainDatabase)
      .withUsername(user)
      .withPassword(password)
      .withEnvironment({ POSTGRES_INITDB_ARGS: "--encoding=UTF8 --lc-collate=C --lc-ctype=C" })
      .withCommand([
        "postgres",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ])
      // Ready = the second "ready to accept connections" (the first is the entrypoint's temporary
      // socket-only server running the init scripts). Reading the log is cheaper than the module's
      // default (a pg_isready health check every 250 ms plus a port probe by docker exec), which
      // costs seconds on a loaded 2-core machine.
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .withHealthCheck({
        test: ["CMD-SHELL", `pg_isready --host localhost --username ${user} --dbname ${this.mainDatabase}`],
        interval: 5_000,
        timeout: 2_000,
        retries: 100,
      })
      .withCopyContentToContainer([
        { content: `${initSql}\n`, target: "/docker-entrypoint-initdb.d/10-databases.sql" },
      ])
      .withLabels(this.labels)
      .withStartupTimeout(this.startupTimeoutMs);
    if (this.network) container = container.withNetwork(this.network).withNetworkAliases(this.alias);
    if (this.log) container = container.withLogConsumer(this.log.consumer);
    // A pinned host port: the harness reaches the server at the same address after a restart.
    const started = await withFreePort((port) =>
      container.withExposedPorts({ container: 5432, host: port }).start(),
    );
    return new StartedPostgres(started, {
      log: this.log,
      user,
      password,
      alias: this.alias,
      mainDatabase: this.mainDatabase,
      databases: [this.mainDatabase, ...this.extraDatabases.map((d) => d.name)],
    });
  }
}

/** SQL run by the entrypoint on first start; a role with an owner gets only its own database. */
export function createDatabaseSql(db: ExtraDatabase): string {
  const create = `CREATE DATABASE ${ident(db.name)} LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`;
  if (!db.owner) return `${create};`;
  registerSecret(db.owner.password);
  const user = ident(db.owner.user);
  const password = db.owner.password.replace(/'/g, "''");
  return [
    `CREATE ROLE ${user} LOGIN PASSWORD '${password}';`,
    `${create} OWNER ${user};`,
    `REVOKE ALL ON DATABASE ${ident(db.name)} FROM PUBLIC;`,
  ].join("\n");
}

export class StartedPostgres {
  readonly container: StartedPostgreSqlContainer;
  readonly user: string;
  readonly password: string;
  /** Network alias other containers use. */
  readonly alias: string;
  readonly mainDatabase: string;
  readonly databases: string[];
  private readonly log?: ServiceLog;
  private stopped = false;

  constructor(
    container: StartedPostgreSqlContainer,
    opts: {
      user: string;
      password: string;
      alias: string;
      mainDatabase: string;
      databases: string[];
      log?: ServiceLog;
    },
  ) {
    this.container = container;
    this.log = opts.log;
    this.user = opts.user;
    this.password = opts.password;
    this.alias = opts.alias;
    this.mainDatabase = opts.mainDatabase;
    this.databases = opts.databases;
  }

  get hostPort(): number {
    return this.container.getMappedPort(5432);
  }

  /** postgres:// URI as seen from another container on the run network. */
  containerUri(database: string): string {
    return `postgres://${this.user}:${encodeURIComponent(this.password)}@${this.alias}:5432/${database}?sslmode=disable`;
  }

  /** Runs one statement against `database` from the host. */
  async query<T = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<T[]> {
    const client = new pg.Client({
      host: "127.0.0.1",
      port: this.hostPort,
      user: this.user,
      password: this.password,
      database,
      // A frozen or cut-off server (fault steps) must not hang the harness.
      connectionTimeoutMillis: 10_000,
      query_timeout: 120_000,
    });
    await client.connect();
    try {
      const result = await client.query(sql, params as any[]);
      return result.rows as T[];
    } finally {
      await client.end();
    }
  }

  /**
   * Copies `database` (default: the bridge's) into the template `snapshot_<name>`. Open connections
   * to it are terminated first (stop the bridge before, or it reconnects mid-copy).
   */
  async snapshot(name: string, database = this.mainDatabase): Promise<void> {
    const snap = ident(`snapshot_${name}`);
    await this.terminate(database);
    await this.query("postgres", `DROP DATABASE IF EXISTS ${snap}`);
    await this.query("postgres", `CREATE DATABASE ${snap} TEMPLATE ${ident(database)}`);
  }

  /** Replaces `database` with a copy of snapshot `name`. The snapshot stays available. */
  async restore(name: string, database = this.mainDatabase): Promise<void> {
    const snap = ident(`snapshot_${name}`);
    const exists = await this.query("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [snap]);
    if (exists.length === 0) throw new Error(`No snapshot "${name}" of the database`);
    await this.terminate(database);
    await this.query("postgres", `DROP DATABASE IF EXISTS ${ident(database)}`);
    await this.query("postgres", `CREATE DATABASE ${ident(database)} TEMPLATE ${snap}`);
  }

  private async terminate(database: string): Promise<void> {
    await this.query(
      "postgres",
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database],
    );
  }

  /** Ids of the service's containers (one). */
  containerIds(): string[] {
    return [this.container.getId()];
  }

  /** Restarts the server in its container (data and host port kept), also after a kill; resolves once it answers. */
  restart(): Promise<void> {
    return restartServiceContainer(this.container, {
      log: this.log,
      skipWaitStrategy: true,
      ready: async () => {
        await this.query("postgres", "SELECT 1");
      },
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.container.stop({ timeout: 0, remove: true });
  }
}
