// Deep merge for configuration overlays: objects merge key by key, everything else (arrays, scalars,
// null) replaces. Inputs are never mutated.

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => clone(v)) as T;
  if (isPlainObject(value)) {
    const out: PlainObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = clone(v);
    return out as T;
  }
  return value;
}

/** Returns `base` with `overlay` merged over it. Arrays replace; `undefined` in the overlay is ignored. */
export function deepMerge<T = PlainObject>(base: unknown, overlay: unknown): T {
  if (overlay === undefined) return clone(base) as T;
  if (!isPlainObject(base) || !isPlainObject(overlay)) return clone(overlay) as T;
  const out: PlainObject = clone(base);
  for (const [key, value] of Object.entries(overlay)) {
    if (value === undefined) continue;
    out[key] = key in out ? deepMerge(out[key], value) : clone(value);
  }
  return out as T;
}

/** Applies overlays in order. */
export function deepMergeAll<T = PlainObject>(base: unknown, overlays: unknown[]): T {
  let out: unknown = clone(base);
  for (const overlay of overlays) out = deepMerge(out, overlay);
  return out as T;
}

/** Reads `a.b.c` from an object; undefined when any step is missing. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Sets `a.b.c` on an object in place, creating intermediate objects. */
export function setPath(obj: PlainObject, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur: PlainObject = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(cur[part])) cur[part] = {};
    cur = cur[part] as PlainObject;
  }
  cur[parts[parts.length - 1]] = value;
}
