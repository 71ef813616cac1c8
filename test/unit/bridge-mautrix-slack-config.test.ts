import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  bridgeConfigProblems,
  buildBridgeConfig,
  explainExitCode,
  provisioningPrefix,
} from "../../src/bridges/mautrix-slack/config.ts";
import { fatalLinesOf, splitMarkedOutput } from "../../src/bridges/mautrix-slack/container.ts";

const example = {
  homeserver: { address: "http://example.localhost:8008", domain: "example.com", software: "standard" },
  appservice: {
    address: "http://localhost:29335",
    hostname: "127.0.0.1",
    port: 29335,
    id: "slack",
    bot: { username: "slackbot", avatar: "mxc://maunium.net/pVtzLmChZejGxLqmXtQjFxem" },
    as_token: "This value is generated when generating the registration",
  },
  database: { type: "postgres", uri: "postgres://user:password@host/database?sslmode=disable" },
  bridge: {
    command_prefix: "!slack",
    permissions: { "*": "relay", "example.com": "user", "@admin:example.com": "admin" },
  },
  provisioning: { shared_secret: "generate" },
  logging: {
    min_level: "debug",
    writers: [
      { type: "stdout", format: "pretty-colored" },
      { type: "file", filename: "./logs/bridge.log" },
    ],
  },
  network: { participant_sync_count: 5 },
};

const params = {
  domain: "localhost",
  homeserverUrl: "http://homeserver:8008",
  databaseUri: "postgres://harness:pw@postgres:5432/mautrix_slack?sslmode=disable",
  appserviceAddress: "http://bridge:29335",
  provisioningSecret: "0123456789abcdef0123",
};

describe("bridge config generation", () => {
  it("applies overlays, then the harness overrides", () => {
    const cfg: any = buildBridgeConfig(
      example,
      [{ network: { participant_sync_count: 50 }, homeserver: { address: "https://matrix.prod.example" } }],
      params,
    );
    expect(cfg.network.participant_sync_count).toBe(50);
    expect(cfg.homeserver).toMatchObject({
      address: "http://homeserver:8008",
      domain: "localhost",
      software: "standard",
    });
    expect(cfg.database).toEqual({ type: "postgres", uri: params.databaseUri });
    expect(cfg.appservice).toMatchObject({
      address: "http://bridge:29335",
      hostname: "0.0.0.0",
      port: 29335,
      id: "slack",
    });
    expect(cfg.provisioning.shared_secret).toBe(params.provisioningSecret);
    expect(cfg.logging.writers).toEqual([{ type: "stdout", format: "pretty" }]);
  });

  it("drops the example's placeholder permissions and grants the homeserver domain admin", () => {
    const cfg: any = buildBridgeConfig(example, [], params);
    expect(cfg.bridge.permissions).toEqual({ "*": "relay", localhost: "admin" });
  });

  it("keeps the overlay's permissions for the domain and its log level", () => {
    const cfg: any = buildBridgeConfig(
      example,
      [
        {
          bridge: { permissions: { localhost: "user", "prod.example": "user" } },
          logging: { min_level: "trace" },
        },
      ],
      { ...params, adminUsers: ["@ops:localhost"] },
    );
    expect(cfg.bridge.permissions).toEqual({
      "*": "relay",
      localhost: "user",
      "prod.example": "user",
      "@ops:localhost": "admin",
    });
    expect(cfg.logging.min_level).toBe("trace");
  });

  it("defaults the log level to debug (bridge state lines) when unset", () => {
    const { logging: _ignored, ...noLogging } = example;
    const cfg: any = buildBridgeConfig(noLogging, [], params);
    expect(cfg.logging.min_level).toBe("debug");
  });

  it("drops a bot avatar on a remote server but keeps one on the run's homeserver", () => {
    expect((buildBridgeConfig(example, [], params) as any).appservice.bot.avatar).toBe("");
    const local = buildBridgeConfig(
      example,
      [{ appservice: { bot: { avatar: "mxc://localhost/abc" } } }],
      params,
    ) as any;
    expect(local.appservice.bot.avatar).toBe("mxc://localhost/abc");
  });
});

describe("bridge exit codes and output parsing", () => {
  it("explains the codes a start can end with", () => {
    expect(explainExitCode(13)).toMatch(/ping/);
    expect(explainExitCode(15)).toMatch(/downgrade/);
    expect(explainExitCode(16)).toMatch(/as_token/);
    expect(explainExitCode(11)).toMatch(/config invalid/);
    expect(explainExitCode(99)).toBe("unknown exit code");
  });

  it("picks FATAL lines and their INFO explanation", () => {
    const lines = [
      "2026-11-22T03:49:56Z INF Starting bridge",
      '2026-11-22T03:49:57Z FTL Failed to initialize database error="unsupported database schema version" db_section=main',
      "2026-11-22T03:49:57Z INF Downgrading the bridge is not supported",
      "2026-11-22T03:49:57Z DBG something else",
    ];
    expect(fatalLinesOf(lines)).toEqual([lines[1], lines[2]]);
  });

  it("splits files printed between markers", () => {
    const out =
      "noise\n=====bridge-harness:begin:config=====\na: 1\n=====bridge-harness:end:config=====\n" +
      "=====bridge-harness:begin:registration=====\nid: slack\n=====bridge-harness:end:registration=====\n";
    expect(splitMarkedOutput(out)).toEqual({ config: "a: 1\n", registration: "id: slack\n" });
  });
});

describe("config generation for the current release (v0.2608.0's example config)", () => {
  const current = parse(
    readFileSync(join(import.meta.dirname, "../fixtures/mautrix-slack-v0.2608.0-config.yaml"), "utf8"),
  );

  it("sets what the harness owns and keeps the release's own keys; the result passes the bridge's checks", () => {
    const cfg: any = buildBridgeConfig(
      current,
      [{ network: { dm_only: false }, encryption: { allow: true } }],
      params,
    );
    expect(bridgeConfigProblems(cfg)).toEqual([]);
    expect(cfg.provisioning).toEqual({
      shared_secret: params.provisioningSecret,
      allow_matrix_auth: true,
      debug_endpoints: false,
    });
    expect(cfg.homeserver).toMatchObject({
      address: "http://homeserver:8008",
      domain: "localhost",
      retry_limit: 4,
    });
    expect(cfg.appservice).toMatchObject({
      address: "http://bridge:29335",
      hostname: "0.0.0.0",
      port: 29335,
    });
    expect(cfg.database).toMatchObject({ type: "postgres", uri: params.databaseUri, max_open_conns: 5 });
    expect(cfg.encryption).toMatchObject({
      allow: true,
      pickle_key: "generate",
      msc4190: false,
      self_sign: false,
    });
    expect(cfg.bridge).toMatchObject({ kick_matrix_users: true, bridge_matrix_leave: false });
    expect(cfg.network.dm_only).toBe(false);
    expect(provisioningPrefix(cfg)).toBe("/_matrix/provision");
  });

  it("an operator's v0.2.0-era config: provisioning.prefix is dropped (the release ignores it) and a short secret replaced", () => {
    const old = { provisioning: { prefix: "/_matrix/custom", shared_secret: "short" } };
    const cfg: any = buildBridgeConfig(current, [old], params);
    expect(cfg.provisioning).not.toHaveProperty("prefix");
    expect(provisioningPrefix(cfg)).toBe("/_matrix/provision");
    // v0.2.0 still reads the prefix: there the harness follows it.
    const v020: any = buildBridgeConfig(
      { ...example, provisioning: { prefix: "/_matrix/provision", shared_secret: "generate" } },
      [old],
      params,
    );
    expect(provisioningPrefix(v020)).toBe("/_matrix/custom");
  });

  it("refuses a secret the release would disable the provisioning API for, naming the key", () => {
    expect(() =>
      buildBridgeConfig(current, [], { ...params, provisioningSecret: "0123456789abcde" }),
    ).toThrow(/provisioning\.shared_secret: under 16 characters/);
    expect(bridgeConfigProblems(current)).toEqual([
      "homeserver.address: unset or the example's placeholder",
      "homeserver.domain: unset or the example's example.com",
      "database.uri: unset or the example's placeholder",
      "bridge.permissions: only the example's placeholder entries",
      "provisioning.shared_secret: under 16 characters or `generate`: the provisioning API would be disabled or unknown",
    ]);
  });
});
