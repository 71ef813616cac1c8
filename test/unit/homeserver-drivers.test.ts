// The homeserver drivers' pure parts: config generation per kind (conduwuit-family TOML, MAS), the
// admin room's answer matching, version-dependent behaviour, and environment-file validation of
// what a kind can and cannot do.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkEnvironmentFile } from "../../src/config/environment.ts";
import { formatProblems } from "../../src/config/errors.ts";
import { answerTo, registrationCodeBlock } from "../../src/homeservers/conduwuit/admin-room.ts";
import { conduwuitConfig, conduwuitConfigToml } from "../../src/homeservers/conduwuit/config.ts";
import { FLAVOURS } from "../../src/homeservers/conduwuit/flavours.ts";
import {
  FIRST_RUN_TOKEN,
  readsContinuwuityPrefix,
  storageVersion,
} from "../../src/homeservers/conduwuit/versions.ts";
import { ownedEnvironmentVariable } from "../../src/homeservers/kinds.ts";
import { parseTomlText } from "../../src/homeservers/overlays.ts";
import { masConfig, synapseMasOverlays } from "../../src/homeservers/synapse/mas-config.ts";
import { proxyConfig } from "../../src/homeservers/synapse/proxy.ts";
import { ServiceLog } from "../../src/runtime/logs.ts";
import { clearSecrets } from "../../src/util/redact.ts";

const registration = {
  id: "slack",
  url: "http://bridge:29335",
  as_token: "as-token-value",
  hs_token: "hs-token-value",
  sender_localpart: "a1b2c3d4",
  rate_limited: false,
  "io.element.msc4190": true,
  namespaces: {
    users: [
      { regex: "^@slackbot:localhost$", exclusive: true },
      { regex: "^@slack_.*:localhost$", exclusive: true },
    ],
  },
};

describe("conduwuit-family config", () => {
  const params = { serverName: "localhost", registrationToken: "run-token-123" };

  it("merges the operator's TOML over the template and keeps the keys the harness owns", () => {
    const overlay = parseTomlText(
      '[global]\nserver_name = "prod.example"\nlog = "warn"\nregistration_token = "theirs"\nregistration_token_file = "/run/secrets/token"\nmax_request_size = 20000000\n',
      "overlay.toml",
    );
    const cfg: any = conduwuitConfig(FLAVOURS.continuwuity, params, [overlay]);
    expect(cfg.global.log).toBe("warn");
    expect(cfg.global.max_request_size).toBe(20000000);
    expect(cfg.global.server_name).toBe("localhost");
    expect(cfg.global.registration_token).toBe("run-token-123");
    expect(cfg.global.registration_token_file).toBeUndefined();
    expect(cfg.global.database_path).toBe("/var/lib/continuwuity");
    expect(cfg.global.address).toBe("0.0.0.0");
    expect(cfg.global.allow_federation).toBe(false);
  });

  it("turns off the update check only where the flavour has one", () => {
    expect((conduwuitConfig(FLAVOURS.continuwuity, params, []) as any).global.allow_check_for_updates).toBe(
      false,
    );
    expect((conduwuitConfig(FLAVOURS.tuwunel, params, []) as any).global).not.toHaveProperty(
      "allow_check_for_updates",
    );
  });

  it("writes tuwunel's [global.appservice.<id>] section from the registration", () => {
    const toml = conduwuitConfigToml(
      conduwuitConfig(FLAVOURS.tuwunel, { ...params, appservice: registration }, []),
    );
    const parsed: any = parseToml(toml);
    expect(parsed.global.appservice.slack).toEqual({
      url: "http://bridge:29335",
      as_token: "as-token-value",
      hs_token: "hs-token-value",
      sender_localpart: "a1b2c3d4",
      rate_limited: false,
      device_management: true,
      users: [
        { regex: "^@slackbot:localhost$", exclusive: true },
        { regex: "^@slack_.*:localhost$", exclusive: true },
      ],
    });
  });

  it("keeps an operator's top-level [[appservices]] table where they put it (so the server sees what they wrote)", () => {
    const overlay = parseTomlText('[[appservices]]\nregistration = "/etc/x.yaml"\n', "quickstart.toml");
    const toml = conduwuitConfigToml(conduwuitConfig(FLAVOURS.continuwuity, params, [overlay]));
    expect(toml).toMatch(/^\[\[appservices\]\]\nregistration = "\/etc\/x\.yaml"$/m);
    expect((parseToml(toml) as any).global.appservices).toBeUndefined();
  });

  it("reports TOML syntax errors with file, line and column", () => {
    expect(() => parseTomlText('[global]\nlog = "info"\nport = \n', "/etc/c.toml")).toThrow(
      /^\/etc\/c\.toml:3:8: not valid TOML/,
    );
  });
});

describe("conduwuit-family versions", () => {
  afterEach(() => clearSecrets());

  it("reads the RocksDB version from the start-up log", () => {
    expect(storageVersion(["x", "WARN ... Created new RocksDB database with version 17"])).toBe("RocksDB 17");
    expect(storageVersion(["INFO ... Loaded RocksDB database with schema version 18"])).toBe("RocksDB 18");
    expect(storageVersion(["nothing"])).toBeUndefined();
  });

  it("knows which continuwuity releases read CONTINUWUITY_* variables", () => {
    expect(readsContinuwuityPrefix("conduwuit 0.5.0")).toBe(false); // v0.5.0-rc4 reports this
    expect(readsContinuwuityPrefix("continuwuity 0.5.0-rc.5")).toBe(false);
    expect(readsContinuwuityPrefix("continuwuity 0.5.0-rc.6")).toBe(true);
    expect(readsContinuwuityPrefix("continuwuity 0.5.5")).toBe(true);
    expect(readsContinuwuityPrefix("continuwuity 26.7.3")).toBe(true);
  });

  it("captures the first-run token from the console and keeps it out of the log file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-firstrun-"));
    const log = new ServiceLog(dir, "continuwuity");
    let token = "";
    log.captureSecrets(FIRST_RUN_TOKEN, (t) => {
      token = t;
    });
    log.write(
      "Open your Matrix client of choice and register an account on \u001b[1;32mlocalhost\u001b[0m using the registration token \u001b[1;32mAbCdEfGh12345678\u001b[0m . Pick your own username and password!",
    );
    await log.close();
    expect(token).toBe("AbCdEfGh12345678");
    expect(readFileSync(log.file, "utf8")).not.toContain("AbCdEfGh12345678");
    expect(log.lines().join("\n")).toContain("[REDACTED]");
  });
});

describe("the admin room", () => {
  const bot = "@conduit:localhost";
  it("takes the server's reply to the command", () => {
    const events = [
      { event_id: "$later", sender: bot, type: "m.room.message", content: { body: "other" } },
      {
        event_id: "$reply",
        sender: bot,
        type: "m.room.message",
        content: {
          body: "Appservice registered with ID: slack",
          "m.relates_to": { "m.in_reply_to": { event_id: "$cmd" } },
        },
      },
      { event_id: "$cmd", sender: "@admin:localhost", type: "m.room.message", content: { body: "!admin" } },
    ];
    expect(answerTo(events, "$cmd", bot)).toBe("Appservice registered with ID: slack");
  });

  it("falls back to the server's first plain message after the command, and waits when there is none", () => {
    const cmd = { event_id: "$cmd", sender: "@admin:localhost", type: "m.room.message", content: {} };
    const earlier = { event_id: "$old", sender: bot, type: "m.room.message", content: { body: "before" } };
    expect(answerTo([cmd, earlier], "$cmd", bot)).toBeUndefined();
    const first = { event_id: "$a", sender: bot, type: "m.room.message", content: { body: "first" } };
    const second = { event_id: "$b", sender: bot, type: "m.room.message", content: { body: "second" } };
    expect(answerTo([second, first, cmd], "$cmd", bot)).toBe("first");
  });

  it("sends the registration as the fenced code block the command expects", () => {
    expect(registrationCodeBlock("id: slack\nurl: x\n\n")).toBe("```yaml\nid: slack\nurl: x\n```");
  });
});

describe("matrix-authentication-service", () => {
  const secrets = {
    matrixSecret: "shared-1",
    encryption: "ab".repeat(32),
    rsaKeyPem: "PEM",
    databasePassword: "db-pw",
  };
  const params = {
    serverName: "localhost",
    publicBaseUrl: "http://127.0.0.1:1234/",
    synapseUrl: "http://homeserver:8008/",
    postgresHost: "postgres",
    secrets,
  };

  it("merges the operator's config but keeps database, pairing, listeners and keys its own", () => {
    const cfg: any = masConfig(params, [
      {
        passwords: { minimum_complexity: 3 },
        database: { uri: "postgresql://prod/mas" },
        matrix: { endpoint: "http://synapse:8008/", secret: "theirs" },
        secrets: { keys: [{ kid: "prod", key_file: "/secrets/mas.pem" }] },
        http: { public_base: "https://auth.example.org/", trusted_proxies: ["10.0.0.0/8"] },
        branding: { service_name: "Example" },
      },
    ]);
    expect(cfg.passwords).toMatchObject({ enabled: true, minimum_complexity: 3 });
    expect(cfg.branding).toEqual({ service_name: "Example" });
    expect(cfg.database.uri).toBe("postgresql://mas:db-pw@postgres:5432/mas");
    expect(cfg.matrix).toEqual({
      kind: "synapse",
      homeserver: "localhost",
      endpoint: "http://homeserver:8008/",
      secret: "shared-1",
    });
    expect(cfg.secrets.keys).toEqual([{ kid: "rsa1", key: "PEM" }]);
    expect(cfg.http.public_base).toBe("http://127.0.0.1:1234/");
    expect(cfg.http.trusted_proxies).toEqual(["10.0.0.0/8"]);
    expect(cfg.http.listeners.map((l: any) => l.name)).toEqual(["web", "internal"]);
  });

  it("pairs Synapse over the operator's config and turns MAS-replaced options off under it", () => {
    const { defaults, pairing } = synapseMasOverlays("http://mas:8080/", "shared-1");
    expect(defaults).toEqual({ enable_registration: false, password_config: { enabled: false } });
    expect(pairing).toEqual({
      matrix_authentication_service: { enabled: true, endpoint: "http://mas:8080/", secret: "shared-1" },
    });
  });

  it("routes login, logout and refresh to MAS and the rest to Synapse, re-resolving both", () => {
    const conf = proxyConfig("http://homeserver:8008", "http://mas:8080");
    expect(conf).toMatch(
      /location ~ \^\/_matrix\/client\/\(\.\*\)\/\(login\|logout\|refresh\) \{\n\s+proxy_pass \$mas;/,
    );
    expect(conf).toMatch(/location \/ \{\n\s+proxy_pass \$synapse;/);
    expect(conf).toContain("resolver 127.0.0.11");
  });
});

describe("environment files: what a homeserver kind can do", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "bh-kinds-"));
    mkdirSync(path.join(dir, "environments"));
  });
  const tail = "postgres:\n  image: postgres:16\nbridge:\n  image: mautrix/slack:v0.2.0\n";
  const check = (name: string, text: string, files: Record<string, string> = {}) => {
    for (const [f, content] of Object.entries(files))
      writeFileSync(path.join(dir, "environments", f), content);
    const file = path.join(dir, "environments", `${name}.yaml`);
    writeFileSync(file, text + tail);
    const problems: Parameters<typeof checkEnvironmentFile>[1] = [];
    const env = checkEnvironmentFile(file, problems);
    return { env, errors: formatProblems(problems).split(dir).join("<dir>") };
  };

  it("defaults the registration method per kind", () => {
    const hs = (kind: string) =>
      check(kind, `homeserver:\n  kind: ${kind}\n  image: x/${kind}:v1\n`).env?.spec.homeserver
        .appserviceRegistration;
    expect(hs("synapse")).toBe("config");
    expect(hs("continuwuity")).toBe("admin_room");
    expect(hs("tuwunel")).toBe("admin_room");
  });

  it("refuses a registration method the kind does not have, and says which one to use", () => {
    const { errors } = check(
      "cw-config",
      "homeserver:\n  kind: continuwuity\n  image: x/c:v1\n  appservice_registration: config\n",
    );
    expect(errors).toContain(
      'homeserver.appservice_registration: continuwuity cannot take the appservice registration by "config"',
    );
    expect(errors).toContain("!admin appservices register");
    expect(errors).toMatch(/^<dir>\/environments\/cw-config\.yaml:4:28:/);
  });

  it("refuses MAS in front of a kind that does not pair with it", () => {
    const { errors } = check(
      "cw-mas",
      "homeserver:\n  kind: tuwunel\n  image: x/t:v1\n  auth:\n    kind: mas\n    image: x/mas:1\n",
    );
    expect(errors).toContain("homeserver.auth: tuwunel does not run behind matrix-authentication-service");
  });

  it("refuses environment variables that would override what the harness owns", () => {
    const { errors } = check(
      "cw-env",
      "homeserver:\n  kind: continuwuity\n  image: x/c:v1\n  env:\n    CONTINUWUITY_LOG: info\n    CONTINUWUITY_DATABASE_PATH: /data\n",
    );
    expect(errors).toContain(
      "homeserver.env.CONTINUWUITY_DATABASE_PATH: CONTINUWUITY_DATABASE_PATH would override database_path",
    );
    expect(errors).not.toContain("CONTINUWUITY_LOG");
    expect(ownedEnvironmentVariable("tuwunel", "TUWUNEL_CONFIG")).toBe("the config file path");
    expect(ownedEnvironmentVariable("synapse", "SYNAPSE_CONFIG_PATH")).toBe("SYNAPSE_CONFIG_PATH");
  });

  it("reads conduwuit-family overlays as TOML and points at the line of a syntax error", () => {
    const { errors } = check(
      "cw-toml",
      "homeserver:\n  kind: continuwuity\n  image: x/c:v1\n  config: [broken.toml]\n",
      { "broken.toml": '[global]\nlog = "info"\nport = \n' },
    );
    expect(errors).toMatch(/<dir>\/environments\/broken\.toml:3:8: \(toml\): not valid TOML/);
  });
});
