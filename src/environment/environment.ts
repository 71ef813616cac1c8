// The Environment facade: starts PostgreSQL, the fake Slack, Synapse and mautrix-slack for one run,
// in dependency order and in parallel where possible, and tears everything down (always, and
// idempotently). See api.ts for the contract.
//
//   preflight (Docker engine + images) -> network
//     -> [ postgres | fake Slack (proxy on the network gateway) | bridge config (-e, overlays, -g) ]
//     -> synapse (needs postgres + the bridge registration)
//     -> bridge (needs synapse + the fake's proxy and CA) -> /_matrix/mau/ready
import "../runtime/docker-env.ts";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { FakeSlack, FakeSlackOptions } from "../../fakes/slack/api.ts";
import { createMatrixUser, type MatrixDriverUser } from "../matrix/driver.ts";
import { sweepLeftovers, Teardown } from "../runtime/cleanup.ts";
import { withRunFolder } from "../runtime/failure.ts";
import { ServiceLog } from "../runtime/logs.ts";
import { createRunNetwork } from "../runtime/network.ts";
import { createRun } from "../runtime/run.ts";
import {
  generateBridgeConfig,
  MautrixSlackContainer,
  regenerateBridgeConfig,
  type StartedMautrixSlack,
} from "../services/mautrix-slack.ts";
import { BRIDGE_ALIAS, BRIDGE_PORT, type BridgeOverrideParams } from "../services/mautrix-slack-config.ts";
import {
  BRIDGE_DATABASE,
  PostgresContainer,
  type StartedPostgres,
  SYNAPSE_DATABASE,
} from "../services/postgres.ts";
import { HOMESERVER_ALIAS, type StartedSynapse, SynapseContainer } from "../services/synapse.ts";
import { now } from "../util/clock.ts";
import { isPlainObject, type PlainObject } from "../util/deep-merge.ts";
import { randomToken } from "../util/random.ts";
import { redact } from "../util/redact.ts";
import type { EnvironmentSpec, MatrixUser, StartedEnvironment, StartOptions } from "./api.ts";
import { checkPrerequisites, resolveImages } from "./preflight.ts";

export type { EnvironmentSpec, StartedEnvironment, StartOptions } from "./api.ts";

function readOverlay(path: string): PlainObject {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(
      `Cannot read config overlay ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const value = parse(text) ?? {};
  if (!isPlainObject(value))
    throw new Error(`Config overlay ${path} must be a YAML mapping at the top level`);
  return value;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function loadFakeSlack(): Promise<(opts: FakeSlackOptions) => Promise<FakeSlack>> {
  const mod = (await import("../../fakes/slack/index.ts")) as {
    startFakeSlack?: (o: FakeSlackOptions) => Promise<FakeSlack>;
  };
  if (typeof mod.startFakeSlack !== "function")
    throw new Error("fakes/slack/index.ts does not export startFakeSlack");
  return mod.startFakeSlack;
}

/** Starts the whole environment. On failure everything already started is removed and the error names the run folder. */
export async function startEnvironment(
  spec: EnvironmentSpec,
  opts: StartOptions,
): Promise<StartedEnvironment> {
  const progress = (line: string) => opts.progress?.(redact(line));
  const run = createRun({ name: spec.name, runDir: opts.runDir, keep: opts.keep });
  const teardown = new Teardown(run.id, { keep: opts.keep });
  const timings: Record<string, number> = {};
  const tStart = now();
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = now();
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      progress(`${name} failed after ${seconds(now() - t0)}`);
      throw err;
    }
    timings[name] = now() - t0;
    progress(`${name} ready in ${seconds(timings[name])}`);
    return value;
  };
  const logs = {
    postgres: new ServiceLog(run.dir, "postgres"),
    homeserver: new ServiceLog(run.dir, "synapse"),
    bridge: new ServiceLog(run.dir, "mautrix-slack"),
    bridgeSetup: new ServiceLog(run.dir, "mautrix-slack-setup"),
    fakeSlack: new ServiceLog(run.dir, "fake-slack"),
  };
  // Registered first, so it runs last: logs stay open until every container is gone.
  teardown.add("close logs", async () => {
    await Promise.all(Object.values(logs).map((l) => l.close()));
  });
  progress(`run folder ${run.dir}`);

  try {
    const images = await phase("preflight", async () => {
      const resolved = resolveImages(spec, opts.imageMap);
      await checkPrerequisites(Object.values(resolved));
      await sweepLeftovers().catch(() => []);
      return resolved;
    });

    const net = await phase("network", () => createRunNetwork(run.id, run.labels));
    teardown.add("network", () => net.remove());

    const serverName = spec.homeserver.serverName;
    const pgPassword = randomToken(24);
    const bridgeOverlays = spec.bridge.configOverlays.map(readOverlay);
    const synapseOverlays = spec.homeserver.configOverlays.map(readOverlay);
    const overrideParams: BridgeOverrideParams = {
      domain: serverName,
      homeserverUrl: `http://${HOMESERVER_ALIAS}:8008`,
      databaseUri: `postgres://harness:${encodeURIComponent(pgPassword)}@postgres:5432/${BRIDGE_DATABASE}?sslmode=disable`,
      appserviceAddress: `http://${BRIDGE_ALIAS}:${BRIDGE_PORT}`,
      provisioningSecret: randomToken(32),
      adminUsers: opts.bridgeAdmins,
    };

    // --- parallel group: postgres, fake Slack, bridge config -----------------------------------
    const pgP = phase("postgres", () =>
      new PostgresContainer(images.postgres)
        .withNetwork(net.network)
        .withLabels(run.serviceLabels("postgres"))
        .withLog(logs.postgres)
        .withPassword(pgPassword)
        .withDatabases(BRIDGE_DATABASE, [SYNAPSE_DATABASE])
        .start(),
    ).then((pg) => {
      teardown.add("postgres", () => pg.stop());
      return pg;
    });
    const fakeP = phase("fake-slack", async () => {
      const startFakeSlack = await loadFakeSlack();
      return startFakeSlack({
        seed: opts.slackSeed,
        proxyHost: net.gatewayIp,
        dir: run.dir,
        log: (line) => logs.fakeSlack.write(line),
      });
    }).then((fake) => {
      teardown.add("fake-slack", () => fake.stop());
      return fake;
    });
    const bridgeConfigP = phase("bridge-config", () =>
      generateBridgeConfig({
        image: images.bridge,
        overlays: bridgeOverlays,
        params: overrideParams,
        labels: run.serviceLabels("bridge-setup"),
        runDir: run.dir,
        log: logs.bridgeSetup,
      }),
    );
    const group = await Promise.allSettled([pgP, fakeP, bridgeConfigP]);
    const failed = group.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    const pg = (group[0] as PromiseFulfilledResult<StartedPostgres>).value;
    const fake = (group[1] as PromiseFulfilledResult<FakeSlack>).value;
    const bridgeConfig = (group[2] as PromiseFulfilledResult<Awaited<typeof bridgeConfigP>>).value;

    // --- synapse ---------------------------------------------------------------------------------
    const synapse: StartedSynapse = await phase("synapse", () =>
      new SynapseContainer(images.homeserver)
        .withServerName(serverName)
        .withNetwork(net.network)
        .withLabels(run.serviceLabels("synapse"))
        .withLog(logs.homeserver)
        .withConfigOverlays(synapseOverlays)
        .withPostgres({ host: pg.alias, user: pg.user, password: pg.password, dbname: SYNAPSE_DATABASE })
        .withAppserviceRegistration("mautrix-slack.yaml", bridgeConfig.registrationYaml)
        .withConfigDir(run.dir)
        .start(),
    );
    teardown.add("synapse", () => synapse.stop());

    // --- bridge ----------------------------------------------------------------------------------
    const bridge: StartedMautrixSlack = await phase("bridge", () =>
      new MautrixSlackContainer(images.bridge)
        .withNetwork(net.network)
        .withLabels(run.serviceLabels("mautrix-slack"))
        .withLog(logs.bridge)
        .withGeneratedConfig(bridgeConfig)
        .withSlackProxy({ proxyUrl: fake.proxyUrl, caPem: fake.caCertPem })
        .withRegenerator((extra, fileName) =>
          regenerateBridgeConfig({
            image: bridge.image,
            overlays: [...bridgeOverlays, ...extra],
            params: overrideParams,
            previous: bridgeConfig,
            labels: run.serviceLabels("bridge-setup"),
            runDir: run.dir,
            fileName,
          }),
        )
        .start(),
    );
    teardown.add("bridge", () => bridge.stop());
    timings.total = now() - tStart;
    progress(`environment ready in ${seconds(timings.total)}`);

    // --- users -----------------------------------------------------------------------------------
    const users = new Map<string, Promise<MatrixDriverUser>>();
    const user = (
      localpart: string,
      userOpts: { autoJoin?: boolean; admin?: boolean } = {},
    ): Promise<MatrixUser> => {
      let p = users.get(localpart);
      if (!p) {
        p = (async () => {
          const reg = await synapse.registerUser(localpart, { admin: userOpts.admin ?? false });
          const u = await createMatrixUser(synapse.baseUrl, {
            userId: reg.userId,
            accessToken: reg.accessToken,
            deviceId: reg.deviceId,
            autoJoin: userOpts.autoJoin ?? true,
          });
          teardown.add(`matrix user ${localpart}`, () => u.stop());
          return u;
        })();
        users.set(localpart, p);
        p.catch(() => users.delete(localpart));
      }
      return p;
    };

    // Matrix clients back off while the homeserver is down; wake them once it answers again.
    const reconnectUsers = async () => {
      const started = await Promise.allSettled([...users.values()]);
      await Promise.all(
        started
          .filter((r) => r.status === "fulfilled")
          .map((r) => (r as PromiseFulfilledResult<MatrixDriverUser>).value.reconnect()),
      );
    };

    let stopping: Promise<void> | undefined;
    const env: StartedEnvironment = {
      spec,
      runId: run.id,
      runDir: run.dir,
      network: { name: net.name, gatewayIp: net.gatewayIp },
      fakeSlack: fake,
      homeserver: {
        baseUrl: synapse.baseUrl,
        serverName,
        logFile: logs.homeserver.file,
        get image() {
          return synapse.image;
        },
        restart: async () => {
          await synapse.restart();
          await reconnectUsers();
        },
        swapImage: async (image: string) => {
          const result = await synapse.swapImage(image);
          await reconnectUsers();
          return result;
        },
      },
      bridge,
      postgres: {
        query: (db, sql, params) => pg.query(db, sql, params),
        snapshot: (name) => pg.snapshot(name),
        restore: (name) => pg.restore(name),
      },
      user,
      timings,
      stop() {
        stopping ??= (async () => {
          const errors = await teardown.run();
          if (errors.length)
            process.stderr.write(redact(`bridge-harness: teardown problems: ${errors.join("; ")}\n`));
        })();
        return stopping;
      },
    };
    return env;
  } catch (err) {
    progress(`start failed; removing what was started`);
    await teardown.run();
    throw withRunFolder(err, run.dir);
  }
}
