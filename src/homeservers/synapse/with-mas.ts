// Synapse with matrix-authentication-service doing all authentication, as Element's current guidance
// deploys it: MAS on its own database and role, Synapse paired with it through the stable
// matrix_authentication_service block, and a reverse proxy in front that hands login, logout and
// refresh to MAS. Clients and the bridge use the proxy's address. Users are registered in MAS
// (`mas-cli manage register-user`) and log in with a password through MAS's compatibility layer.
// The bridge is unaffected: Synapse checks appservice tokens itself before asking MAS.
import type { StartedPostgres } from "../../services/postgres.ts";
import { waitUntil } from "../../util/clock.ts";
import type { PlainObject } from "../../util/deep-merge.ts";
import { fetchWithTimeout, withFreePort } from "../../util/net.ts";
import { randomToken } from "../../util/random.ts";
import { registerSecret } from "../../util/redact.ts";
import type {
  DatabaseRequest,
  HomeserverSpec,
  HomeserverStartContext,
  RegisteredUser,
  StartedAuthService,
} from "../api.ts";
import { HOMESERVER_ALIAS } from "../api.ts";
import { passwordLogin } from "../login.ts";
import { readYamlOverlay } from "../overlays.ts";
import { SYNAPSE_PORT } from "./config.ts";
import type { StartedSynapse } from "./container.ts";
import { SynapseHomeserver, startSynapse } from "./homeserver.ts";
import { StartedMas } from "./mas.ts";
import {
  generateMasSecrets,
  MAS_ALIAS,
  MAS_DATABASE,
  MAS_WEB_PORT,
  masConfig,
  synapseMasOverlays,
} from "./mas-config.ts";
import { type StartedProxy, startProxy } from "./proxy.ts";

/** MAS's own database, owned by a role that can reach nothing else. */
export function masDatabases(): DatabaseRequest[] {
  const password = randomToken(24);
  registerSecret(password);
  return [{ name: MAS_DATABASE, owner: { user: MAS_DATABASE, password } }];
}

class SynapseMasHomeserver extends SynapseHomeserver {
  private readonly mas: StartedMas;
  private readonly proxy: StartedProxy;
  readonly auth: StartedAuthService;

  constructor(
    synapse: StartedSynapse,
    postgres: StartedPostgres,
    spec: HomeserverSpec,
    mas: StartedMas,
    proxy: StartedProxy,
  ) {
    super(synapse, postgres, spec);
    this.mas = mas;
    this.proxy = proxy;
    this.auth = {
      kind: "mas",
      get image() {
        return mas.image;
      },
      loginUrl: `${mas.publicUrl}login`,
      logFile: mas.logFile,
      get running() {
        return mas.running;
      },
      health: () => mas.health(),
      stop: () => mas.stop(),
      start: () => mas.start(),
      reconfigure: (overlays) => mas.reconfigure(overlays as PlainObject[]),
    };
  }

  override get baseUrl(): string {
    return this.proxy.url;
  }
  override get internalUrl(): string {
    return this.proxy.internalUrl;
  }
  override get extraLogs(): Record<string, string> {
    return { mas: this.mas.logFile, proxy: this.proxy.logFile };
  }
  override get links(): Record<string, string> {
    return { homeserver: this.baseUrl, mas: this.mas.publicUrl, login: this.auth.loginUrl };
  }

  /**
   * Registers the user in MAS, which provisions it on Synapse in the background, then logs in with
   * the password through the proxy (MAS's compatibility layer) until that provisioning is done.
   */
  override async registerUser(localpart: string, opts: { admin?: boolean } = {}): Promise<RegisteredUser> {
    const password = randomToken(24);
    registerSecret(password);
    await this.mas.registerUser(localpart, password, opts);
    let last = "";
    return waitUntil(
      async () => {
        try {
          return await passwordLogin(this.baseUrl, localpart, password);
        } catch (err) {
          last = (err as Error).message;
          return undefined;
        }
      },
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        describe: () =>
          `the first login of ${localpart} through matrix-authentication-service (last: ${last})`,
      },
    );
  }
}

export async function startSynapseWithMas(ctx: HomeserverStartContext) {
  const auth = ctx.spec.auth!;
  if (!ctx.authImages)
    throw new Error("matrix-authentication-service: the environment resolved no MAS image");
  const owner = ctx.databases.find((d) => d.name === MAS_DATABASE)?.owner;
  if (!owner) throw new Error("matrix-authentication-service: its database was not created");
  const secrets = { ...generateMasSecrets(), databasePassword: owner.password };
  const masUrl = `http://${MAS_ALIAS}:${MAS_WEB_PORT}/`;
  const operatorOverlays = auth.configOverlays.map(readYamlOverlay);
  const mas = await withFreePort((webHostPort) => {
    const buildConfig = (extra: PlainObject[]) =>
      masConfig(
        {
          serverName: ctx.spec.serverName,
          publicBaseUrl: `http://127.0.0.1:${webHostPort}/`,
          synapseUrl: `http://${HOMESERVER_ALIAS}:${SYNAPSE_PORT}/`,
          postgresHost: ctx.postgres.alias,
          secrets,
        },
        [...operatorOverlays, ...extra],
      );
    return StartedMas.start({
      image: ctx.authImages!.mas,
      buildConfig,
      config: buildConfig([]),
      webHostPort,
      network: ctx.network,
      labels: ctx.labels,
      log: ctx.log("mas"),
      runDir: ctx.runDir,
    });
  });
  ctx.onTeardown("mas", () => mas.stop());
  const proxy = await startProxy({
    image: ctx.authImages.proxy,
    synapseUrl: `http://${HOMESERVER_ALIAS}:${SYNAPSE_PORT}`,
    masUrl: masUrl.replace(/\/$/, ""),
    network: ctx.network,
    labels: ctx.labels("proxy"),
    log: ctx.log("reverse-proxy"),
  });
  ctx.onTeardown("proxy", async () => {
    await proxy.container.stop({ timeout: 5_000, remove: true });
  });
  const { defaults, pairing } = synapseMasOverlays(masUrl, secrets.matrixSecret);
  const synapse = await startSynapse(ctx, {
    before: [defaults],
    after: [pairing],
    publicBaseUrl: `${proxy.url}/`,
  });
  await waitUntil(
    async () => {
      const res = await fetchWithTimeout(`${proxy.url}/_matrix/client/versions`, { timeoutMs: 2_000 }).catch(
        () => undefined,
      );
      await res?.arrayBuffer();
      return res?.status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 200, describe: () => "Synapse through the reverse proxy" },
  );
  return new SynapseMasHomeserver(synapse, ctx.postgres, ctx.spec, mas, proxy);
}
