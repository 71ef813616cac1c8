// Every check, proven on a minimal bad file: the finding fires with its id at the marked line, and
// nothing else does. A case is a clean set of files with one file replaced or one overlay added; the
// offending line carries `# expect: <id>[, <id>]`. The clean set itself gives no finding.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { allChecks, runChecks } from "../../src/check/run.ts";
import { tomlKeyLines } from "../../src/check/sources.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MANIFEST = readFileSync(path.join(ROOT, "examples/operator-repo/slack/app-manifest.yaml"), "utf8");

const BRIDGE = `homeserver:
  address: http://synapse:8008
  domain: example.org
appservice:
  address: http://bridge:29335
  hostname: 0.0.0.0
  port: 29335
  as_token: AS_TOKEN_0123456789
  hs_token: HS_TOKEN_0123456789
database:
  type: postgres
  uri: postgres://bridge:pw12345678@postgres/bridge?sslmode=disable
logging:
  min_level: info
`;
const REGISTRATION = `id: slack
url: http://bridge:29335
as_token: AS_TOKEN_0123456789
hs_token: HS_TOKEN_0123456789
sender_localpart: Xk2rR9aLp0QvW3sT
rate_limited: false
namespaces:
  users:
    - { regex: '^@slackbot:example\\.org$', exclusive: true }
    - { regex: '^@slack_.*:example\\.org$', exclusive: true }
`;
const SYNAPSE = `server_name: example.org
listeners:
  - { port: 8008, type: http, resources: [{ names: [client] }] }
database:
  name: psycopg2
  args: { user: synapse, password: pw87654321, dbname: synapse, host: postgres, cp_max: 10 }
app_service_config_files: [/data/registration.yaml]
default_room_version: "11"
`;
const SYNAPSE_MAS = `matrix_authentication_service:
  enabled: true
  endpoint: http://mas:8080/
  secret: MAS_SECRET_0123456789
`;
const MAS = `http:
  listeners:
    - name: web
      binds: [{ address: "[::]:8080" }]
database:
  uri: postgresql://mas:pw11223344@postgres/mas
matrix:
  homeserver: example.org
  endpoint: http://synapse:8008/
  secret: MAS_SECRET_0123456789
`;
const CONTINUWUITY = `[global]
server_name = "example.org"
log = "info"
`;

interface Case {
  /** Files replacing or adding to the clean set. */
  files?: Record<string, string>;
  /** Environment file (YAML); default: Synapse 1.163.2, bridge v0.2607.0, the registration and manifest. */
  env?: string;
}

const env = (o: {
  kind?: string;
  hsImage?: string;
  hs?: string[];
  bridgeImage?: string;
  bridge?: string[];
  auth?: boolean;
  production?: string;
}) => `homeserver:
  kind: ${o.kind ?? "synapse"}
  image: ${o.hsImage ?? "matrixdotorg/synapse:v1.163.2"}
  config: [${(o.hs ?? ["homeserver.yaml"]).join(", ")}]
${o.auth ? "  auth: { kind: mas, image: element-hq/matrix-authentication-service:1.22.0, config: [mas.yaml] }\n" : ""}postgres: { image: "postgres:16" }
bridge:
  image: ${o.bridgeImage ?? "mautrix/slack:v0.2607.0"}
  config: [${(o.bridge ?? ["bridge.yaml"]).join(", ")}]
production:
  registration: registration.yaml
  slack_app_manifest: manifest.yaml
${o.production ?? ""}`;

const withOverlay = (name: string) => env({ bridge: ["bridge.yaml", name] });
const masEnv = (o: { hs?: string[]; bridge?: string[] } = {}) =>
  env({ hs: o.hs ?? ["homeserver.yaml", "synapse-mas.yaml"], bridge: o.bridge, auth: true });
const swap = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return text.replace(from, to);
};

const CASES: Record<string, Case> = {
  "file.parse-error": {
    files: { "bridge.yaml": "appservice:\n  id: slack\n port: 1 # expect: file.parse-error\n" },
  },
  "registration.missing-field": {
    files: {
      "registration.yaml": `# no hs_token # expect: registration.missing-field\n${swap(REGISTRATION, "hs_token: HS_TOKEN_0123456789\n", "")}`,
    },
  },
  "registration.id-mismatch": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "id: slack",
        "id: slack-prod # expect: registration.id-mismatch",
      ),
    },
  },
  "registration.as-token-mismatch": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "as_token: AS_TOKEN_0123456789",
        "as_token: AS_TOKEN_rotated000 # expect: registration.as-token-mismatch",
      ),
    },
  },
  "registration.hs-token-mismatch": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "hs_token: HS_TOKEN_0123456789",
        "hs_token: HS_TOKEN_rotated000 # expect: registration.hs-token-mismatch",
      ),
    },
  },
  "registration.url-port-mismatch": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "url: http://bridge:29335",
        "url: http://bridge:8080 # expect: registration.url-port-mismatch, registration.url-differs",
      ),
    },
  },
  "registration.url-differs": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "url: http://bridge:29335",
        "url: http://bridge.internal:29335 # expect: registration.url-differs",
      ),
    },
  },
  "registration.namespace-misses-bot": {
    files: {
      "registration.yaml": swap(
        swap(REGISTRATION, "    - { regex: '^@slackbot:example\\.org$', exclusive: true }\n", ""),
        "  users:",
        "  users: # expect: registration.namespace-misses-bot",
      ),
    },
  },
  "registration.namespace-misses-ghosts": {
    files: {
      "registration.yaml": swap(
        swap(REGISTRATION, "    - { regex: '^@slack_.*:example\\.org$', exclusive: true }\n", ""),
        "  users:",
        "  users: # expect: registration.namespace-misses-ghosts",
      ),
    },
  },
  "registration.namespace-misses-bot and -ghosts (empty list)": {
    files: {
      "registration.yaml": swap(
        swap(
          REGISTRATION,
          "    - { regex: '^@slackbot:example\\.org$', exclusive: true }\n    - { regex: '^@slack_.*:example\\.org$', exclusive: true }\n",
          "",
        ),
        "  users:",
        "  users: [] # expect: registration.namespace-misses-bot, registration.namespace-misses-ghosts",
      ),
    },
  },
  "registration.sender-localpart-is-bot": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "sender_localpart: Xk2rR9aLp0QvW3sT",
        "sender_localpart: slackbot # expect: registration.sender-localpart-is-bot",
      ),
    },
  },
  "registration.rate-limited": {
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "rate_limited: false",
        "rate_limited: true # expect: registration.rate-limited",
      ),
    },
  },
  "synapse.registration-not-loaded": {
    files: {
      "homeserver.yaml": `# expect: synapse.registration-not-loaded\n${swap(SYNAPSE, "app_service_config_files: [/data/registration.yaml]\n", "")}`,
    },
  },
  "conduwuit.appservices-array": {
    env: env({ kind: "continuwuity", hsImage: "continuwuity/continuwuity:v0.5.0-rc4", hs: ["hs.toml"] }),
    files: {
      "hs.toml": `${CONTINUWUITY}\n[[appservices]] # expect: conduwuit.appservices-array\nregistration = "/etc/registration.yaml"\n`,
    },
  },
  "conduwuit.appservice-key-ignored": {
    env: env({ kind: "continuwuity", hsImage: "continuwuity/continuwuity:v0.5.0-rc4", hs: ["hs.toml"] }),
    files: {
      "hs.toml": `${CONTINUWUITY}\n[global.appservice.slack] # expect: conduwuit.appservice-key-ignored\nurl = "http://bridge:29335"\n`,
    },
  },
  "tuwunel.appservice-differs": {
    env: env({ kind: "tuwunel", hsImage: "jevolk/tuwunel:v1.4.6", hs: ["hs.toml"] }),
    files: {
      "hs.toml": `${CONTINUWUITY}\n[global.appservice.slack]\nurl = "http://bridge:29335"\nas_token = "AS_TOKEN_old" # expect: tuwunel.appservice-differs\nhs_token = "HS_TOKEN_0123456789"\nsender_localpart = "Xk2rR9aLp0QvW3sT"\n`,
    },
  },
  "bridge.unconfigured": {
    env: withOverlay("extra.yaml"),
    files: { "extra.yaml": "appservice:\n  username_template: slack_user # expect: bridge.unconfigured\n" },
  },
  "bridge.domain-mismatch": {
    files: {
      "homeserver.yaml": swap(SYNAPSE, "server_name: example.org", "server_name: chat.example.org"),
      "bridge.yaml": swap(
        BRIDGE,
        "  domain: example.org",
        "  domain: example.org # expect: bridge.domain-mismatch",
      ),
    },
  },
  "network.loopback-address": {
    env: withOverlay("extra.yaml"),
    files: {
      "extra.yaml": "homeserver:\n  address: http://127.0.0.1:8008 # expect: network.loopback-address\n",
    },
  },
  "network.unknown-host": {
    env: env({ production: "  hosts: [synapse, postgres, mautrix-slack]\n" }),
    files: {
      "registration.yaml": swap(
        REGISTRATION,
        "url: http://bridge:29335",
        "url: http://bridge:29335 # expect: network.unknown-host",
      ),
    },
  },
  "network.listener-loopback": {
    env: withOverlay("extra.yaml"),
    files: { "extra.yaml": "appservice:\n  hostname: 127.0.0.1 # expect: network.listener-loopback\n" },
  },
  "database.bridge-sqlite3": {
    env: withOverlay("extra.yaml"),
    files: { "extra.yaml": "database:\n  type: sqlite3 # expect: database.bridge-sqlite3\n" },
  },
  "database.bridge-uri-placeholder": {
    env: withOverlay("extra.yaml"),
    files: {
      "extra.yaml":
        "database:\n  uri: postgres://user:password@host/database?sslmode=disable # expect: database.bridge-uri-placeholder\n",
    },
  },
  "database.bridge-sslmode": {
    env: withOverlay("extra.yaml"),
    files: {
      "extra.yaml":
        "database:\n  uri: postgres://bridge:pw12345678@postgres/bridge # expect: database.bridge-sslmode\n",
    },
  },
  "database.shared": {
    env: withOverlay("extra.yaml"),
    files: {
      "extra.yaml":
        "database:\n  uri: postgres://bridge:pw12345678@postgres/synapse?sslmode=disable # expect: database.shared\n",
    },
  },
  "database.synapse-sqlite": {
    files: {
      "homeserver.yaml": swap(
        SYNAPSE,
        "  name: psycopg2\n  args: { user: synapse, password: pw87654321, dbname: synapse, host: postgres, cp_max: 10 }",
        "  name: sqlite3 # expect: database.synapse-sqlite\n  args: { database: /data/homeserver.db }",
      ),
    },
  },
  "database.pools-exceed-postgres": {
    env: env({ production: "  postgres_max_connections: 12\n" }),
    files: {
      "bridge.yaml": swap(
        BRIDGE,
        "  uri: postgres://bridge:pw12345678@postgres/bridge?sslmode=disable",
        "  uri: postgres://bridge:pw12345678@postgres/bridge?sslmode=disable # expect: database.pools-exceed-postgres",
      ),
    },
  },
  "logging.bridge-debug": {
    files: {
      "bridge.yaml": swap(BRIDGE, "  min_level: info", "  min_level: debug # expect: logging.bridge-debug"),
    },
  },
  "logging.homeserver-debug": {
    env: env({ kind: "continuwuity", hsImage: "continuwuity/continuwuity:v0.5.0-rc4", hs: ["hs.toml"] }),
    files: {
      "hs.toml": swap(CONTINUWUITY, 'log = "info"', 'log = "debug" # expect: logging.homeserver-debug'),
    },
  },
  "slack.socket-mode-disabled": {
    files: {
      "manifest.yaml": swap(
        MANIFEST,
        "  socket_mode_enabled: true",
        "  socket_mode_enabled: false # expect: slack.socket-mode-disabled",
      ),
    },
  },
  "slack.token-rotation": {
    files: {
      "manifest.yaml": swap(
        MANIFEST,
        "  token_rotation_enabled: false",
        "  token_rotation_enabled: true # expect: slack.token-rotation",
      ),
    },
  },
  "slack.missing-bot-scope": {
    files: {
      "manifest.yaml": swap(
        swap(MANIFEST, "      - chat:write\n", ""),
        "    bot:\n",
        "    bot: # expect: slack.missing-bot-scope\n",
      ),
    },
  },
  "slack.missing-bot-event": {
    files: {
      "manifest.yaml": swap(
        swap(MANIFEST, "      - reaction_added\n", ""),
        "    bot_events:\n",
        "    bot_events: # expect: slack.missing-bot-event\n",
      ),
    },
  },
  "slack.token-in-config": {
    env: withOverlay("extra.yaml"),
    files: {
      "extra.yaml": "network:\n  app_token: xapp-1-A0123-4567-abcdef0123 # expect: slack.token-in-config\n",
    },
  },
  "mas.msc3861-removed": {
    env: masEnv({ hs: ["homeserver.yaml", "legacy.yaml"] }),
    files: {
      "legacy.yaml":
        "experimental_features:\n  msc3861: # expect: mas.msc3861-removed\n    enabled: true\n    issuer: http://mas:8080/\n",
    },
  },
  "mas.synapse-not-delegating": {
    env: masEnv({ hs: ["homeserver.yaml"] }),
    files: { "homeserver.yaml": `# expect: mas.synapse-not-delegating\n${SYNAPSE}` },
  },
  "mas.secret-mismatch": {
    env: masEnv(),
    files: {
      "synapse-mas.yaml": swap(
        SYNAPSE_MAS,
        "  secret: MAS_SECRET_0123456789",
        "  secret: MAS_SECRET_other # expect: mas.secret-mismatch",
      ),
    },
  },
  "mas.endpoint-mismatch": {
    env: masEnv(),
    files: {
      "synapse-mas.yaml": swap(
        SYNAPSE_MAS,
        "  endpoint: http://mas:8080/",
        "  endpoint: http://mas:8081/ # expect: mas.endpoint-mismatch",
      ),
    },
  },
  "mas.homeserver-endpoint-mismatch": {
    env: masEnv(),
    files: {
      "mas.yaml": swap(
        MAS,
        "  endpoint: http://synapse:8008/",
        "  endpoint: http://synapse:8448/ # expect: mas.homeserver-endpoint-mismatch",
      ),
    },
  },
  "mas.server-name-mismatch": {
    env: masEnv(),
    files: {
      "mas.yaml": swap(
        MAS,
        "  homeserver: example.org",
        "  homeserver: example.com # expect: mas.server-name-mismatch",
      ),
    },
  },
  "mas.synapse-option-conflict": {
    env: masEnv(),
    files: {
      "synapse-mas.yaml": `${SYNAPSE_MAS}enable_registration: true # expect: mas.synapse-option-conflict\n`,
    },
  },
  "mas.bridge-encryption-without-msc4190": {
    env: masEnv({ bridge: ["bridge.yaml", "extra.yaml"] }),
    files: { "extra.yaml": "encryption:\n  allow: true # expect: mas.bridge-encryption-without-msc4190\n" },
  },
  "mas.bridge-encryption": {
    env: masEnv({ bridge: ["bridge.yaml", "extra.yaml"] }),
    files: { "extra.yaml": "encryption:\n  allow: true # expect: mas.bridge-encryption\n  msc4190: true\n" },
  },
  "versions.database-schema-refused": {
    env: swap(
      env({ bridge: ["bridge.yaml", "extra.yaml"], production: "  bridge_release: v0.2608.0\n" }),
      "  image: mautrix/slack:v0.2607.0",
      "  image: mautrix/slack:v0.2.0 # expect: versions.database-schema-refused",
    ),
    files: { "extra.yaml": "encryption:\n  allow: true\n" },
  },
  "versions.release-unknown": {
    env: env({ production: "  bridge_release: v0.9.9 # expect: versions.release-unknown\n" }),
  },
  "versions.room-version-unsupported": {
    env: swap(
      env({ bridgeImage: "mautrix/slack:v0.2.0" }),
      "  image: matrixdotorg/synapse:v1.163.2",
      "  image: matrixdotorg/synapse:v1.163.2 # expect: versions.room-version-unsupported",
    ),
    files: { "homeserver.yaml": swap(SYNAPSE, 'default_room_version: "11"\n', "") },
  },
};

interface Expected {
  id: string;
  file: string;
  line: number;
}

function run(c: Case) {
  const dir = mkdtempSync(path.join(tmpdir(), "bh-check-"));
  const files: Record<string, string> = {
    "bridge.yaml": BRIDGE,
    "registration.yaml": REGISTRATION,
    "homeserver.yaml": SYNAPSE,
    "synapse-mas.yaml": SYNAPSE_MAS,
    "mas.yaml": MAS,
    "manifest.yaml": MANIFEST,
    "environment.yaml": c.env ?? env({}),
    ...c.files,
  };
  const expected: Expected[] = [];
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), text);
    text.split("\n").forEach((line, i) => {
      const m = /# expect: ([a-z0-9., -]+)$/.exec(line);
      if (m)
        for (const id of m[1].split(",").map((s) => s.trim()))
          expected.push({ id, file: path.join(dir, name), line: i + 1 });
    });
  }
  const result = runChecks(path.join(dir, "environment.yaml"));
  const found = result.findings.map((f) => ({ id: f.id, file: f.file, line: f.line }));
  const order = (a: Expected, b: Expected) => a.id.localeCompare(b.id) || a.line - b.line;
  return { found: found.sort(order), expected: expected.sort(order), result };
}

describe("check: one minimal bad file per check", () => {
  it("the clean files give no finding", () => {
    const { found } = run({});
    expect(found).toEqual([]);
  });

  it("every check has a case", () => {
    expect(
      Object.keys(CASES)
        .filter((id) => !id.includes(" "))
        .sort(),
    ).toEqual(
      allChecks()
        .map((c) => c.id)
        .sort(),
    );
  });

  for (const [id, c] of Object.entries(CASES))
    it(`${id} fires at the marked line, and nothing else does`, () => {
      const { found, expected, result } = run(c);
      expect(expected.some((e) => e.id === id.split(" ")[0])).toBe(true);
      expect(found, JSON.stringify(result.findings, null, 2)).toEqual(expected);
    });
});

describe("check: findings never show secrets", () => {
  it("token and secret mismatches name the keys, not the values", () => {
    const texts = ["registration.as-token-mismatch", "mas.secret-mismatch", "slack.token-in-config"].flatMap(
      (id) => run(CASES[id]).result.findings.map((f) => `${f.message} ${f.why} ${f.fix}`),
    );
    expect(texts.length).toBeGreaterThan(2);
    for (const t of texts) {
      expect(t).not.toMatch(/AS_TOKEN_|MAS_SECRET_|xapp-1-A0123/);
    }
  });
});

describe("check: TOML key lines", () => {
  it("tables, arrays of tables, dotted and quoted keys, multi-line values", () => {
    const lines = tomlKeyLines(
      [
        "title = 'x'", // 1
        "[global]", // 2
        'server_name = "example.org"', // 3
        "trusted_servers = [", // 4
        '  "a",', // 5
        "]", // 6
        'motd = """', // 7
        "not_a_key = 1", // 8
        '"""', // 9
        'well_known.client = "https://x"', // 10
        "[[appservices]]", // 11
        "registration = 'a'", // 12
        "[[appservices]]", // 13
        '[global."quoted.key"]', // 14
        "inner = { a = 1 }", // 15
      ].join("\n"),
    );
    const at = (...p: (string | number)[]) => lines.get(JSON.stringify(p));
    expect(at("title")).toBe(1);
    expect(at("global", "server_name")).toBe(3);
    expect(at("global", "trusted_servers")).toBe(4);
    expect(at("global", "not_a_key")).toBeUndefined();
    expect(at("global", "well_known", "client")).toBe(10);
    expect(at("appservices")).toBe(11);
    expect(at("appservices", 0, "registration")).toBe(12);
    expect(at("appservices", 1)).toBe(13);
    expect(at("global", "quoted.key", "inner")).toBe(15);
  });
});
