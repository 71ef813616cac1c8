// A started Synapse as the homeserver interface sees it: homeserver.yaml from a test template + the
// operator's YAML overlays, its own database on the run's PostgreSQL, the bridge registration listed
// in app_service_config_files (as Synapse operators do), users through the shared-secret admin API,
// snapshots as database copies. with-mas.ts builds the MAS variant on it.
import type { StartedPostgres } from "../../services/postgres.ts";
import type { PlainObject } from "../../util/deep-merge.ts";
import { fetchWithTimeout } from "../../util/net.ts";
import type {
  HomeserverHealth,
  HomeserverSpec,
  HomeserverStartContext,
  RegisteredUser,
  StartedHomeserver,
} from "../api.ts";
import { passwordLogin } from "../login.ts";
import { readYamlOverlay } from "../overlays.ts";
import { type StartedSynapse, SynapseContainer } from "./container.ts";

export const SYNAPSE_DATABASE = "synapse";
const REGISTRATION_FILE = "mautrix-slack.yaml";

/** The parts of a started Synapse every variant shares; MAS overrides users, URLs and links. */
export class SynapseHomeserver implements StartedHomeserver {
  readonly kind = "synapse" as const;
  protected readonly synapse: StartedSynapse;
  protected readonly postgres: StartedPostgres;
  readonly appserviceRegistration: StartedHomeserver["appserviceRegistration"];

  constructor(synapse: StartedSynapse, postgres: StartedPostgres, spec: HomeserverSpec) {
    this.synapse = synapse;
    this.postgres = postgres;
    this.appserviceRegistration =
      spec.appserviceRegistration === "config"
        ? { method: "config", verifiedBy: `app_service_config_files lists ${REGISTRATION_FILE}` }
        : { method: spec.appserviceRegistration };
  }

  get serverName(): string {
    return this.synapse.serverName;
  }
  get image(): string {
    return this.synapse.image;
  }
  get baseUrl(): string {
    return this.synapse.baseUrl;
  }
  get internalUrl(): string {
    return this.synapse.internalUrl;
  }
  get logFile(): string {
    return this.synapse.logFile ?? "";
  }
  get extraLogs(): Record<string, string> {
    return {};
  }
  readonly notices: readonly string[] = [];
  get links(): Record<string, string> {
    return { homeserver: this.baseUrl };
  }

  registerUser(localpart: string, opts: { admin?: boolean } = {}): Promise<RegisteredUser> {
    return this.synapse.registerUser(localpart, opts);
  }

  login(localpart: string, password: string): Promise<RegisteredUser> {
    return passwordLogin(this.baseUrl, localpart, password);
  }

  version(): Promise<string> {
    return this.synapse.version();
  }

  async health(): Promise<HomeserverHealth> {
    try {
      const res = await fetchWithTimeout(`${this.synapse.baseUrl}/health`, { timeoutMs: 3_000 });
      const text = await res.text();
      return { healthy: res.status === 200, detail: `GET /health: ${res.status} ${text.slice(0, 80)}` };
    } catch (err) {
      return { healthy: false, detail: `GET /health: ${(err as Error).message}` };
    }
  }

  async stateVersion(): Promise<string | undefined> {
    try {
      const [row] = await this.postgres.query<{ version: number }>(
        SYNAPSE_DATABASE,
        "SELECT version FROM schema_version",
      );
      return row ? `schema ${row.version}` : undefined;
    } catch {
      return undefined;
    }
  }

  restart(): Promise<void> {
    return this.synapse.restart();
  }

  containerIds(): string[] {
    return [this.synapse.container.getId()];
  }

  swapImage(image: string): Promise<{ durationMs: number }> {
    return this.synapse.swapImage(image);
  }

  snapshot(name: string): Promise<void> {
    return this.synapse.whileStopped(() => this.postgres.snapshot(snapshotName(name), SYNAPSE_DATABASE));
  }

  restore(name: string): Promise<void> {
    return this.synapse.whileStopped(() => this.postgres.restore(snapshotName(name), SYNAPSE_DATABASE));
  }

  stop(): Promise<void> {
    return this.synapse.stop();
  }
}

/** Homeserver snapshots live next to the bridge's in PostgreSQL: keep their names apart. */
function snapshotName(name: string): string {
  return `homeserver_${name}`;
}

/**
 * Starts Synapse on its database with the bridge registration. A variant (MAS) adds overlays under
 * the operator's (`before`) and over them (`after`), and may set where clients reach it.
 */
export async function startSynapse(
  ctx: HomeserverStartContext,
  variant: { before?: PlainObject[]; after?: PlainObject[]; publicBaseUrl?: string } = {},
): Promise<StartedSynapse> {
  const { spec } = ctx;
  const pg = ctx.postgres;
  let builder = new SynapseContainer(ctx.image)
    .withServerName(spec.serverName)
    .withNetwork(ctx.network)
    .withLabels(ctx.labels("homeserver"))
    .withLog(ctx.log("homeserver"))
    .withConfigOverlays([
      ...(variant.before ?? []),
      ...spec.configOverlays.map(readYamlOverlay),
      ...(variant.after ?? []),
    ])
    .withPostgres({ host: pg.alias, user: pg.user, password: pg.password, dbname: SYNAPSE_DATABASE })
    .withConfigDir(ctx.runDir);
  if (spec.appserviceRegistration === "config")
    builder = builder.withAppserviceRegistration(REGISTRATION_FILE, ctx.registration.yaml);
  if (variant.publicBaseUrl) builder = builder.withPublicBaseUrl(variant.publicBaseUrl);
  const synapse = await builder.start();
  ctx.onTeardown("homeserver", () => synapse.stop());
  return synapse;
}
