// What differs between releases of the conduwuit family, read from what the server says about
// itself (its log and its version route) rather than from image tags, which users rename.

/** "RocksDB 17" from the start-up log ("Created new RocksDB database with version 17", "Loaded RocksDB database with schema version 17"). */
export function storageVersion(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /RocksDB database with (?:schema )?version (\d+)/.exec(lines[i]);
    if (m) return `RocksDB ${m[1]}`;
  }
  return undefined;
}

/**
 * continuwuity >= v0.5.5 starts in "first-run mode" while it has no account: registration then
 * takes only a one-time token it prints on its console (the configured registration_token works
 * again once that first account exists). Group 1 is the token; colours are stripped before matching.
 */
export const FIRST_RUN_TOKEN = /register an account on \S+ using the registration token ([A-Za-z0-9]{16}) \./;

/**
 * Whether a continuwuity release reads CONTINUWUITY_* variables (and CONTINUWUITY_CONFIG): added in
 * v0.5.0-rc.6. Earlier releases called themselves "conduwuit" and read only CONDUIT_/CONDUWUIT_.
 */
export function readsContinuwuityPrefix(reported: string): boolean {
  const [name, version = ""] = reported.split(" ");
  if (name === "conduwuit") return false;
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-rc\.?(\d+))?/.exec(version);
  if (!m) return true;
  const [major, minor, patch, rc] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  if (major! > 0 || minor! > 5 || patch! > 0) return true;
  return minor === 5 && (rc === undefined || rc >= 6);
}
