// matrix-authentication-service's config.yaml, generated per run: listeners as MAS's own
// `config generate` lays them out (web on 8080, health on the internal listener 8081), its database
// on the run's PostgreSQL under a role of its own, the Synapse pairing, per-run secrets and keys,
// password login on. The operator's MAS overlays are merged over it; the keys the environment owns
// (database, the Synapse pairing, listeners, public URL, and the secrets and signing keys, which a
// production config usually reads from files the test environment does not have) are applied
// again afterwards.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { deepMergeAll, isPlainObject, type PlainObject } from "../../util/deep-merge.ts";
import { randomToken } from "../../util/random.ts";
import { registerSecret } from "../../util/redact.ts";

export const MAS_ALIAS = "mas";
export const MAS_WEB_PORT = 8080;
export const MAS_HEALTH_PORT = 8081;
export const MAS_CONFIG_PATH = "/config/config.yaml";
export const MAS_DATABASE = "mas";

export interface MasSecrets {
  /** Shared with Synapse's matrix_authentication_service block. */
  matrixSecret: string;
  encryption: string;
  rsaKeyPem: string;
  databasePassword: string;
}

/** Fresh secrets for one run, registered for redaction. */
export function generateMasSecrets(): MasSecrets {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const secrets: MasSecrets = {
    matrixSecret: randomToken(40),
    encryption: randomBytes(32).toString("hex"),
    rsaKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    databasePassword: randomToken(24),
  };
  for (const value of Object.values(secrets)) registerSecret(value);
  return secrets;
}

export interface MasConfigParams {
  serverName: string;
  /** Where browsers and clients reach MAS (issuer and links). */
  publicBaseUrl: string;
  /** Synapse as MAS reaches it on the run network. */
  synapseUrl: string;
  postgresHost: string;
  secrets: MasSecrets;
}

function owned(p: MasConfigParams): PlainObject {
  return {
    http: {
      public_base: p.publicBaseUrl,
      issuer: p.publicBaseUrl,
      listeners: [
        {
          name: "web",
          resources: [
            { name: "discovery" },
            { name: "human" },
            { name: "oauth" },
            { name: "compat" },
            { name: "graphql" },
            { name: "assets" },
          ],
          binds: [{ address: `0.0.0.0:${MAS_WEB_PORT}` }],
        },
        {
          name: "internal",
          resources: [{ name: "health" }],
          binds: [{ address: `0.0.0.0:${MAS_HEALTH_PORT}` }],
        },
      ],
    },
    database: {
      uri: `postgresql://${MAS_DATABASE}:${encodeURIComponent(p.secrets.databasePassword)}@${p.postgresHost}:5432/${MAS_DATABASE}`,
    },
    matrix: {
      kind: "synapse",
      homeserver: p.serverName,
      endpoint: p.synapseUrl,
      secret: p.secrets.matrixSecret,
    },
    secrets: { encryption: p.secrets.encryption, keys: [{ kid: "rsa1", key: p.secrets.rsaKeyPem }] },
  };
}

/** The test template: owned keys plus what a test deployment needs (passwords, no rate limits). */
export function masTemplate(p: MasConfigParams): PlainObject {
  const lifted = { burst: 1000, per_second: 1000 };
  return {
    ...owned(p),
    passwords: { enabled: true, minimum_complexity: 0, schemes: [{ version: 1, algorithm: "argon2id" }] },
    account: { password_registration_enabled: false },
    policy: { data: { client_registration: { allow_insecure_uris: true } } },
    rate_limiting: {
      login: { per_ip: lifted, per_account: lifted },
      registration: lifted,
    },
  };
}

/** Template, then the operator's overlays, then the owned keys again (a production overlay must not point MAS elsewhere). */
export function masConfig(p: MasConfigParams, overlays: PlainObject[]): PlainObject {
  const merged = deepMergeAll<PlainObject>(masTemplate(p), overlays);
  const own = owned(p);
  const http = isPlainObject(merged.http) ? merged.http : {};
  merged.http = { ...http, ...(own.http as PlainObject) };
  merged.database = own.database;
  merged.secrets = own.secrets;
  merged.matrix = { ...(isPlainObject(merged.matrix) ? merged.matrix : {}), ...(own.matrix as PlainObject) };
  return merged;
}

/**
 * Synapse's side of the pairing (Synapse >= 1.136). `defaults` go under the operator's overlays (the
 * options MAS replaces, off: an operator config that turns one on shows what Synapse does with it);
 * `pairing` goes over them (the harness owns MAS's address and the shared secret).
 */
export function synapseMasOverlays(
  masUrl: string,
  secret: string,
): { defaults: PlainObject; pairing: PlainObject } {
  return {
    defaults: { enable_registration: false, password_config: { enabled: false } },
    pairing: { matrix_authentication_service: { enabled: true, endpoint: masUrl, secret } },
  };
}
