// Which values in the operator's config files are secrets: values of secret-named keys (tokens,
// passwords, shared secrets, keys), everything under a `secrets:` mapping, passwords inside URIs,
// PEM private keys and Slack/Matrix token shapes.
import { existsSync } from "node:fs";
import { readCheckEnvironment } from "../check/environment.ts";
import { forEachString, loadConfigFile } from "../check/sources.ts";

const SECRET_KEY =
  /(^|_)(token|secret|secrets|password|passwd|pickle_key|private_key|signing_key|server_key|key|encryption|admin_token)$/i;
/** Secret-looking names whose values are locations or switches, not secrets. */
const NOT_SECRET = /(_path|_file|_dir|_enabled|_lifetime|_type|_method|^kid)$/i;
/** Placeholders the examples ship, not secrets (and common words the log redaction must not hit). */
const PLACEHOLDERS = new Set(["generate", "This value is generated when generating the registration"]);

export const URI_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)([^@\s/]+)(@)/gi;
export const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

/** Whether the value at this path (keys from the root) is a secret by its name. */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  const keys = path.filter((p): p is string => typeof p === "string");
  const last = keys[keys.length - 1] ?? "";
  if (NOT_SECRET.test(last)) return false;
  return SECRET_KEY.test(last) || keys.slice(0, -1).some((k) => /^secrets$/i.test(k));
}

/** Secret values found in parsed config data. */
export function secretsIn(data: unknown): string[] {
  const out: string[] = [];
  forEachString(data, (value, path) => {
    for (const m of value.matchAll(URI_PASSWORD)) out.push(decodeURIComponentSafe(m[2]));
    for (const m of value.matchAll(PEM_PRIVATE_KEY)) out.push(m[0]);
    if (isSecretPath(path) && !PLACEHOLDERS.has(value) && value.length >= 6) out.push(value);
  });
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Every file an environment names: overlays, MAS config, registration, Slack app manifest. */
export function operatorFiles(environmentFile: string): string[] {
  const env = readCheckEnvironment(environmentFile);
  return [
    ...env.homeserver.overlays,
    ...(env.homeserver.auth?.overlays ?? []),
    ...env.bridge.overlays,
    ...(env.production.registration ? [env.production.registration] : []),
    ...(env.production.slackAppManifest ? [env.production.slackAppManifest] : []),
  ];
}

/**
 * The secrets in the operator's files an environment names (files that cannot be read or parsed
 * contribute nothing). Long enough to be worth redacting wherever they appear.
 */
export function operatorSecrets(environmentFile: string): string[] {
  if (!existsSync(environmentFile)) return [];
  let files: string[];
  try {
    files = operatorFiles(environmentFile);
  } catch {
    return [];
  }
  const secrets = new Set<string>();
  for (const f of files) {
    const loaded = loadConfigFile(f);
    if (loaded.file) for (const s of secretsIn(loaded.file.data)) secrets.add(s);
  }
  return [...secrets].filter((s) => s.length >= 8);
}
