// The Environment facade: starts PostgreSQL, the fake Slack, the homeserver (through its driver,
// src/homeservers/) and the bridge for one run, in dependency order and in parallel where possible,
// and tears everything down (always, and idempotently). See api.ts for the contract.
//
//   preflight (Docker engine + images) -> network
//     -> [ postgres (the bridge's and the homeserver's databases) | fake Slack (proxy on the network
//          gateway) | bridge config (-e, overlays, -g) ]
//     -> homeserver (driver: config, start, appservice registration)
//     -> bridge (needs the homeserver + the fake's proxy and CA) -> /_matrix/mau/ready
import "../runtime/docker-env.ts";
import type { FakeSlack, FakeSlackOptions } from "../../fakes/slack/api.ts";
import { BRIDGE_ALIAS, BRIDGE_PORT, type BridgeOverrideParams } from "../bridges/mautrix-slack/config.ts";
import {
  generateBridgeConfig,
  MautrixSlackContainer,
  regenerateBridgeConfig,
  type StartedMautrixSlack,
} from "../bridges/mautrix-slack/container.ts";
import type { StartedHomeserver } from "../homeservers/api.ts";
import { homeserverDriver } from "../homeservers/index.ts";
import { readYamlOverlay } from "../homeservers/overlays.ts";
import { createMatrixUser, type MatrixDriverUser } from "../matrix/driver.ts";
import { describeSwept, sweepLeftovers, Teardown } from "../runtime/cleanup.ts";
import { withRunFolder } from "../runtime/failure.ts";
import { ServiceLog } from "../runtime/logs.ts";
import { createRunNetwork } from "../runtime/network.ts";
import { createRun } from "../runtime/run.ts";
import { BRIDGE_DATABASE, PostgresContainer, type StartedPostgres } from "../services/postgres.ts";
import { now } from "../util/clock.ts";
import { randomToken } from "../util/random.ts";
import { redact } from "../util/redact.ts";
import type { EnvironmentSpec, MatrixUser, StartedEnvironment, StartOptions } from "./api.ts";
import { checkPrerequisites, resolveImages } from "./preflight.ts";
import { describeServices } from "./services.ts";

export type { EnvironmentSpec, StartedEnvironment, StartOptions } from "./api.ts";

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
export function startEnvironment(spec: EnvironmentSpec, opts: StartOptions): Promise<StartedEnvironment> {
  const run = createRun({ name: spec.name, runDir: opts.runDir, keep: opts.keep });
  const teardown = new Teardown(run.id, { keep: opts.keep });
  const starting = startServices(spec, opts, run, teardown);
  // An interrupt (Ctrl-C) waits for a start-up under way before its last sweep of the run's label.
  teardown.track(starting);
  return starting;
}

async function startServices(
  spec: EnvironmentSpec,
  opts: StartOptions,
  run: ReturnType<typeof createRun>,
  teardown: Teardown,
): Promise<StartedEnvironment> {
  const progress = (line: string) => opts.progress?.(redact(line));
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
  const logs = new Map<string, ServiceLog>();
  /** The service's log file, `<run folder>/<file>.log`, opened on first use and closed at teardown. */
  const log = (file: string): ServiceLog => {
    let l = logs.get(file);
    if (!l) {
      l = new ServiceLog(run.dir, file);
      logs.set(file, l);
    }
    return l;
  };
  // Registered first, so it runs last: logs stay open until every container is gone.
  teardown.add("close logs", async () => {
    await Promise.all([...logs.values()].map((l) => l.close()));
  });
  progress(`run folder ${run.dir}`);

  try {
    const images = await phase("preflight", async () => {
      const resolved = resolveImages(spec, opts.imageMap);
      await checkPrerequisites(Object.values(resolved));
      const swept = await sweepLeftovers().catch(() => []);
      if (swept.length) progress(`removed leftovers of ended runs: ${describeSwept(swept)}`);
      return resolved;
    });

    const net = await phase("network", () => createRunNetwork(run.id, run.labels));
    teardown.add("network", () => net.remove());

    const driver = homeserverDriver(spec.homeserver.kind);
    const serverName = spec.homeserver.serverName;
    const pgPassword = randomToken(24);
    const bridgeOverlays = spec.bridge.configOverlays.map(readYamlOverlay);
    const overrideParams: BridgeOverrideParams = {
      domain: serverName,
      homeserverUrl: driver.internalUrl(spec.homeserver),
      databaseUri: `postgres://harness:${encodeURIComponent(pgPassword)}@postgres:5432/${BRIDGE_DATABASE}?sslmode=disable`,
      appserviceAddress: `http://${BRIDGE_ALIAS}:${BRIDGE_PORT}`,
      provisioningSecret: randomToken(32),
      adminUsers: opts.bridgeAdmins,
    };
    const databases = driver.databases(spec.homeserver);

    // --- parallel group: postgres, fake Slack, bridge config -----------------------------------
    const pgP = phase("postgres", () =>
      new PostgresContainer(images.postgres)
        .withNetwork(net.network)
        .withLabels(run.serviceLabels("postgres"))
        .withLog(log("postgres"))
        .withPassword(pgPassword)
        .withDatabases(BRIDGE_DATABASE, databases)
        .start(),
    ).then((pg) => {
      teardown.add("postgres", () => pg.stop());
      return pg;
    });
    const fakeP = phase("fake-slack", async () => {
      const startFakeSlack = await loadFakeSlack();
      const fakeLog = log("fake-slack");
      return startFakeSlack({
        seed: opts.slackSeed,
        proxyHost: net.gatewayIp,
        dir: run.dir,
        log: (line) => fakeLog.write(line),
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
        log: log("mautrix-slack-setup"),
      }),
    );
    const group = await Promise.allSettled([pgP, fakeP, bridgeConfigP]);
    const failed = group.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    const pg = (group[0] as PromiseFulfilledResult<StartedPostgres>).value;
    const fake = (group[1] as PromiseFulfilledResult<FakeSlack>).value;
    const bridgeConfig = (group[2] as PromiseFulfilledResult<Awaited<typeof bridgeConfigP>>).value;

    // --- homeserver --------------------------------------------------------------------------------
    const homeserver: StartedHomeserver = await phase("homeserver", () =>
      driver.start({
        spec: spec.homeserver,
        image: images.homeserver,
        authImages: images.mas && images.proxy ? { mas: images.mas, proxy: images.proxy } : undefined,
        network: net.network,
        labels: (service) => run.serviceLabels(service),
        log: (service) => log(service === "homeserver" ? spec.homeserver.kind : service),
        runDir: run.dir,
        postgres: pg,
        databases,
        registration: { yaml: bridgeConfig.registrationYaml, doc: bridgeConfig.registration },
        onTeardown: (name, fn) => teardown.add(name, fn),
        progress,
      }),
    );

    // --- bridge ----------------------------------------------------------------------------------
    const bridge: StartedMautrixSlack = await phase("bridge", () =>
      new MautrixSlackContainer(images.bridge)
        .withNetwork(net.network)
        .withLabels(run.serviceLabels("mautrix-slack"))
        .withLog(log("mautrix-slack"))
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
    const passwords = new Map<string, string>();
    const user = (
      localpart: string,
      userOpts: { autoJoin?: boolean; admin?: boolean } = {},
    ): Promise<MatrixUser> => {
      let p = users.get(localpart);
      if (!p) {
        p = (async () => {
          const reg = await homeserver.registerUser(localpart, { admin: userOpts.admin ?? false });
          passwords.set(localpart, reg.password);
          const u = await createMatrixUser(homeserver.baseUrl, {
            userId: reg.userId,
            accessToken: reg.accessToken,
            deviceId: reg.deviceId,
            autoJoin: userOpts.autoJoin ?? true,
            syncTimeoutMs: spec.matrixClient?.syncTimeoutMs,
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
      homeserver: reconnectingUsers(homeserver, reconnectUsers),
      bridge,
      postgres: {
        query: (db, sql, params) => pg.query(db, sql, params),
        snapshot: (name) => pg.snapshot(name),
        restore: (name) => pg.restore(name),
        restart: () => pg.restart(),
        containerIds: () => pg.containerIds(),
      },
      user,
      async login(localpart: string) {
        const password = passwords.get(localpart);
        if (!password) throw new Error(`${localpart} is not a registered Matrix user of this environment`);
        return homeserver.login(localpart, password);
      },
      timings,
      services: await describeServices({
        asked: {
          postgres: spec.postgres.image,
          homeserver: spec.homeserver.image,
          bridge: spec.bridge.image,
        },
        ran: images,
        postgres: pg,
        database: BRIDGE_DATABASE,
        homeserver,
        bridge,
      }),
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

/**
 * The homeserver as the environment hands it out: every operation that takes the server down wakes
 * the Matrix users' sync loops once it answers again (they back off while it is away). Everything
 * else is the driver's handle, with methods bound to it.
 */
function reconnectingUsers(hs: StartedHomeserver, reconnect: () => Promise<void>): StartedHomeserver {
  const downtime = new Set<PropertyKey>(["restart", "swapImage", "snapshot", "restore"]);
  return new Proxy(hs, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (!downtime.has(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        await reconnect();
        return result;
      };
    },
  });
}
