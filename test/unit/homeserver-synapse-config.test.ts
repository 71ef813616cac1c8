import { describe, expect, it } from "vitest";
import { synapseConfig } from "../../src/homeservers/synapse/config.ts";

const params = {
  serverName: "localhost",
  publicBaseUrl: "http://localhost:8008/",
  database: { host: "postgres", user: "harness", password: "pw", dbname: "synapse" },
  registrationSharedSecret: "secret-secret",
  macaroonSecretKey: "m",
  formSecret: "f",
  appserviceFiles: ["mautrix-slack.yaml"],
};

describe("synapse config", () => {
  it("is a minimal test config with rate limits lifted", () => {
    const cfg: any = synapseConfig(params, []);
    expect(cfg.listeners[0]).toMatchObject({ port: 8008, bind_addresses: ["0.0.0.0"] });
    expect(cfg.database.args).toMatchObject({ host: "postgres", dbname: "synapse" });
    expect(cfg.rc_message).toEqual({ per_second: 9999, burst_count: 9999 });
    expect(cfg.bcrypt_rounds).toBe(4);
    expect(cfg.federation_domain_whitelist).toEqual([]);
    expect(cfg.app_service_config_files).toEqual(["/data/appservices/mautrix-slack.yaml"]);
  });

  it("merges overlays but keeps what the environment depends on", () => {
    const cfg: any = synapseConfig(params, [
      {
        rc_message: { per_second: 1 },
        database: { name: "sqlite3" },
        server_name: "prod.example",
        app_service_config_files: ["/etc/other.yaml"],
      },
      { max_upload_size: "100M" },
    ]);
    expect(cfg.rc_message).toEqual({ per_second: 1, burst_count: 9999 });
    expect(cfg.max_upload_size).toBe("100M");
    expect(cfg.database.name).toBe("psycopg2");
    expect(cfg.server_name).toBe("localhost");
    expect(cfg.app_service_config_files).toEqual(["/etc/other.yaml", "/data/appservices/mautrix-slack.yaml"]);
  });
});

import { defaultLocalImage, resolveImage } from "../../src/environment/preflight.ts";

describe("image resolution fallback", () => {
  it("maps upstream names to the local builds, an explicit map first", () => {
    expect(defaultLocalImage("postgres:16")).toBe("bridge-harness/postgres:16");
    expect(defaultLocalImage("matrixdotorg/synapse:v1.163.2")).toBe("bridge-harness/synapse:1.163.2");
    expect(defaultLocalImage("mautrix/slack:v0.2.0")).toBe("bridge-harness/mautrix-slack:v0.2.0");
    expect(resolveImage("mautrix/slack:v0.2.0", { "mautrix/slack:v0.2.0": "mine:1" })).toBe("mine:1");
    expect(defaultLocalImage("something/else:1")).toBe("something/else:1");
  });
});
