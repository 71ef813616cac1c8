// Synapse's generated homeserver.yaml: a minimal test template (listener on 8008, PostgreSQL through
// the `postgres` alias, rate limits lifted, fast bcrypt) with the spec's overlays merged over it.
import { deepMergeAll, type PlainObject } from "../../util/deep-merge.ts";

export const SYNAPSE_PORT = 8008;
export const SYNAPSE_DATA_DIR = "/data";
export const SYNAPSE_CONFIG_PATH = `${SYNAPSE_DATA_DIR}/homeserver.yaml`;
export const SYNAPSE_APPSERVICE_DIR = `${SYNAPSE_DATA_DIR}/appservices`;
export const SYNAPSE_MEDIA_DIR = "/media_store";

export interface SynapseConfigParams {
  serverName: string;
  publicBaseUrl: string;
  database: { host: string; port?: number; user: string; password: string; dbname: string };
  registrationSharedSecret: string;
  macaroonSecretKey: string;
  formSecret: string;
  /** Registration file names (under SYNAPSE_APPSERVICE_DIR) to list in app_service_config_files. */
  appserviceFiles: string[];
}

const LIFTED = { per_second: 9999, burst_count: 9999 };
const INVITES = { per_second: 1000, burst_count: 1000 };

export function synapseTemplate(p: SynapseConfigParams): PlainObject {
  return {
    server_name: p.serverName,
    report_stats: false,
    public_baseurl: p.publicBaseUrl,
    pid_file: "/tmp/homeserver.pid",
    listeners: [
      {
        port: SYNAPSE_PORT,
        type: "http",
        tls: false,
        bind_addresses: ["0.0.0.0"],
        x_forwarded: true,
        resources: [{ names: ["client"], compress: false }],
      },
    ],
    database: {
      name: "psycopg2",
      args: {
        user: p.database.user,
        password: p.database.password,
        dbname: p.database.dbname,
        host: p.database.host,
        port: p.database.port ?? 5432,
        cp_min: 1,
        cp_max: 10,
      },
    },
    signing_key_path: `${SYNAPSE_DATA_DIR}/signing.key`,
    media_store_path: SYNAPSE_MEDIA_DIR,
    trusted_key_servers: [],
    // No federation: nothing leaves the run's network (remote media fetches fail fast, no DNS).
    federation_domain_whitelist: [],
    allow_public_rooms_over_federation: false,
    // Synapse >= 1.1xx defaults to room version 12, where the creator must not appear in the power
    // levels' users; mautrix-go v0.23 (mautrix-slack v0.2.x) puts it there and room creation fails
    // with "Creator user ... must not appear in content.users". An overlay can set another version.
    default_room_version: "11",
    suppress_key_server_warning: true,
    enable_registration: false,
    registration_shared_secret: p.registrationSharedSecret,
    macaroon_secret_key: p.macaroonSecretKey,
    form_secret: p.formSecret,
    bcrypt_rounds: 4,
    url_preview_enabled: false,
    enable_metrics: false,
    app_service_config_files: p.appserviceFiles.map((f) => `${SYNAPSE_APPSERVICE_DIR}/${f}`),
    rc_message: LIFTED,
    rc_registration: LIFTED,
    rc_login: { address: LIFTED, account: LIFTED, failed_attempts: LIFTED },
    rc_joins: { local: LIFTED, remote: LIFTED },
    rc_joins_per_room: LIFTED,
    rc_admin_redaction: LIFTED,
    rc_presence: { per_user: LIFTED },
    rc_room_creation: LIFTED,
    rc_delayed_event_mgmt: LIFTED,
    rc_user_directory: LIFTED,
    rc_invites: { per_room: INVITES, per_user: INVITES, per_issuer: INVITES },
    rc_3pid_validation: INVITES,
    rc_federation: {
      window_size: 1000,
      sleep_limit: 10,
      sleep_delay: 500,
      reject_limit: 99999,
      concurrent: 3,
    },
    background_updates: { min_batch_size: 100000, sleep_duration_ms: 100000 },
  };
}

/**
 * Template, then the overlays in order. The keys the environment depends on (listener, database,
 * server name, shared secret, appservice files) are re-applied last unless an overlay sets them on
 * purpose — a production overlay must not silently point Synapse at another database.
 */
export function synapseConfig(p: SynapseConfigParams, overlays: PlainObject[]): PlainObject {
  const merged = deepMergeAll<PlainObject>(synapseTemplate(p), overlays);
  const template = synapseTemplate(p);
  // Always needed by the harness, whatever the overlay says.
  merged.server_name = p.serverName;
  merged.registration_shared_secret = p.registrationSharedSecret;
  merged.database = template.database;
  const files = new Set<string>([
    ...((merged.app_service_config_files as string[] | undefined) ?? []),
    ...(template.app_service_config_files as string[]),
  ]);
  merged.app_service_config_files = [...files];
  if (!hasListenerOn8008(merged.listeners)) merged.listeners = template.listeners;
  return merged;
}

function hasListenerOn8008(listeners: unknown): boolean {
  return (
    Array.isArray(listeners) &&
    listeners.some(
      (l: any) =>
        l?.port === SYNAPSE_PORT &&
        (l?.bind_addresses === undefined ||
          (Array.isArray(l.bind_addresses) &&
            l.bind_addresses.some((a: string) => a === "0.0.0.0" || a === "::"))),
    )
  );
}
