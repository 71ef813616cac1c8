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
