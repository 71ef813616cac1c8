// What ran, per service: the image the environment asked for, the image that actually ran (after the
// image map) and the version the running service itself reports. Reports show all three, so that a
// substituted image (postgres:16 served by PostgreSQL 15, say) cannot go unnoticed.
import type { StartedHomeserver } from "../homeservers/api.ts";
import type { ServiceImage, StartedBridge } from "./api.ts";

/** "PostgreSQL 16.15 on x86_64-pc-linux-gnu, ..." -> "PostgreSQL 16.15". */
export function postgresVersion(versionRow: string): string {
  return /^PostgreSQL \S+/.exec(versionRow)?.[0] ?? versionRow;
}

/** From mautrix's start-up line "Initializing bridge ... name=mautrix-slack version=0.2.0". */
export function bridgeVersion(logLines: string[]): string | undefined {
  for (const line of logLines) {
    const m = /Initializing bridge\b.*\bname=(\S+).*\bversion=(\S+)/.exec(line);
    if (m) return `${m[1]} ${m[2]}`;
  }
  return undefined;
}

/** Asks each running service for its version; a service that does not answer is listed without one. */
export async function describeServices(o: {
  asked: { postgres: string; homeserver: string; bridge: string };
  ran: { postgres: string; homeserver: string; bridge: string };
  postgres: { query<T>(database: string, sql: string): Promise<T[]> };
  database: string;
  homeserver: StartedHomeserver;
  bridge: StartedBridge;
}): Promise<Record<string, ServiceImage>> {
  const settle = <T>(p: Promise<T>) => p.catch(() => undefined);
  const [pg, hs, lines] = await Promise.all([
    settle(o.postgres.query<{ version: string }>(o.database, "SELECT version() AS version")),
    settle(o.homeserver.version()),
    settle(o.bridge.logLines()),
  ]);
  const entry = (name: "postgres" | "homeserver" | "bridge", version: string | undefined): ServiceImage => ({
    asked: o.asked[name],
    ran: o.ran[name],
    ...(version ? { version } : {}),
  });
  return {
    postgres: entry("postgres", pg?.[0] ? postgresVersion(pg[0].version) : undefined),
    homeserver: entry("homeserver", hs),
    bridge: entry("bridge", lines ? bridgeVersion(lines) : undefined),
  };
}
