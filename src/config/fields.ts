// A small field-spec language shared by the validators, the JSON Schemas and the docs: one
// description of every key, so the three cannot drift apart.
import { isAlias, isMap, isPair, isScalar, isSeq, type Node, type Pair, type YAMLMap } from "yaml";
import { closest, quoteList } from "./errors.ts";
import { describeNode, type Reporter } from "./source.ts";
import { parseDuration, parseSize } from "./units.ts";

/** Things a string can refer to; checked by the scenario validator. */
export type RefKind = "slackUser" | "matrixUser" | "channel" | "message" | "app";

interface Base {
  doc: string;
  required?: boolean;
}
export type FieldSpec =
  | (Base & {
      type: "string";
      enum?: readonly string[];
      ref?: RefKind;
      pattern?: RegExp;
      patternHint?: string;
    })
  | (Base & { type: "boolean" })
  | (Base & { type: "integer"; min?: number })
  | (Base & { type: "duration" })
  | (Base & { type: "size" })
  | (Base & { type: "count" })
  | (Base & { type: "list"; items: FieldSpec; minItems?: number })
  | (Base & {
      type: "object";
      fields: Record<string, FieldSpec>;
      /** Exactly one of the fields must be given (a choice, like one step of a list). */
      oneKey?: boolean;
    })
  | (Base & { type: "map"; values: FieldSpec; keyRef?: RefKind })
  | (Base & { type: "any" });

/** An exact count or a range. */
export interface CountSpec {
  min?: number;
  max?: number;
}

export type RefChecker = (kind: RefKind, value: string, node: Node, field: string) => void;

export interface Walk {
  r: Reporter;
  refs?: RefChecker;
}

const DURATION_HINT = 'use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds';
const SIZE_HINT = 'use B, KB, MB or GB: "9MB", "512KB", or a number of bytes';

const countSpec: Record<string, FieldSpec> = {
  min: { type: "integer", min: 0, doc: "at least" },
  max: { type: "integer", min: 0, doc: "at most" },
};

function typeWord(spec: FieldSpec): string {
  switch (spec.type) {
    case "string":
      return spec.enum ? `one of ${quoteList(spec.enum)}` : "a string";
    case "boolean":
      return "true or false";
    case "integer":
      return "a whole number";
    case "duration":
      return 'a duration like "5s" or "500ms"';
    case "size":
      return 'a size like "9MB" or "512KB"';
    case "count":
      return "a number or a mapping with min/max";
    case "list":
      return "a list";
    case "object":
    case "map":
      return "a mapping";
    case "any":
      return "a value";
  }
}

/** Validates `node` against `spec`; returns the plain value (durations in ms, sizes in bytes) or undefined. */
export function checkValue(w: Walk, given: Node | null | undefined, spec: FieldSpec, field: string): unknown {
  // `*name` repeats what `&name` marked earlier in the file.
  const node = isAlias(given) && w.r.src.doc ? (given.resolve(w.r.src.doc) as Node | undefined) : given;
  if (isAlias(given) && !node) {
    w.r.report(
      given,
      field,
      `unknown alias *${given.source}`,
      "mark the value it repeats with &name earlier in the file",
    );
    return undefined;
  }
  const bad = (hint?: string) => {
    w.r.report(node, field, `expected ${typeWord(spec)}, got ${describeNode(node)}`, hint);
    return undefined;
  };
  if (spec.type === "any") return (node as any)?.toJSON?.() ?? (isScalar(node) ? node.value : undefined);
  if (spec.type === "list") {
    if (!isSeq(node)) return bad(isScalar(node) ? `write it as a list: [${String(node.value)}]` : undefined);
    if (spec.minItems && node.items.length < spec.minItems)
      w.r.report(node, field, `expected at least ${spec.minItems} item(s), got ${node.items.length}`);
    return node.items.map((item, i) => checkValue(w, item as Node, spec.items, `${field}[${i}]`));
  }
  if (spec.type === "object") {
    if (!isMap(node)) return bad();
    if (spec.oneKey && node.items.length !== 1)
      w.r.report(
        node,
        field,
        `expected exactly one of ${quoteList(Object.keys(spec.fields))}, got ${node.items.length}`,
        node.items.length ? "start each with '- ' as its own list item" : undefined,
      );
    return checkObject(w, node, spec.fields, field);
  }
  if (spec.type === "map") {
    if (!isMap(node)) return bad();
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = keyOf(pair);
      if (key === undefined) continue;
      if (spec.keyRef) w.refs?.(spec.keyRef, key, pair.key as Node, `${field}.${key}`);
      out[key] = checkValue(w, pair.value as Node, spec.values, `${field}.${key}`);
    }
    return out;
  }
  if (spec.type === "count") {
    if (isMap(node)) {
      const c = checkObject(w, node, countSpec, field) as CountSpec;
      return c;
    }
    if (isScalar(node) && typeof node.value === "number" && Number.isInteger(node.value) && node.value >= 0)
      return { min: node.value, max: node.value };
    return bad("write an exact count (3) or a range ({ min: 1 })");
  }
  if (!isScalar(node))
    return bad(spec.type === "duration" ? DURATION_HINT : spec.type === "size" ? SIZE_HINT : undefined);
  const v = node.value;
  switch (spec.type) {
    case "string": {
      if (typeof v !== "string") {
        if (typeof v === "number" || typeof v === "boolean") return bad(`quote it: "${String(v)}"`);
        return bad();
      }
      if (spec.enum && !spec.enum.includes(v)) {
        const near = closest(v, spec.enum);
        w.r.report(
          node,
          field,
          `expected ${typeWord(spec)}, got "${v}"`,
          near ? `did you mean "${near}"?` : undefined,
        );
        return undefined;
      }
      if (spec.pattern && !spec.pattern.test(v)) {
        w.r.report(node, field, `"${v}" is not ${spec.patternHint ?? `of the form ${spec.pattern}`}`);
        return undefined;
      }
      if (spec.ref) w.refs?.(spec.ref, v, node, field);
      return v;
    }
    case "boolean":
      return typeof v === "boolean"
        ? v
        : bad(typeof v === "string" ? "write true or false without quotes" : undefined);
    case "integer":
      if (typeof v !== "number" || !Number.isInteger(v)) return bad();
      if (spec.min !== undefined && v < spec.min) {
        w.r.report(node, field, `expected a number >= ${spec.min}, got ${v}`);
        return undefined;
      }
      return v;
    case "duration": {
      const ms = parseDuration(v);
      return ms === undefined
        ? bad('use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds')
        : ms;
    }
    case "size": {
      const bytes = parseSize(v);
      return bytes === undefined ? bad(SIZE_HINT) : bytes;
    }
  }
}

export function keyOf(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return undefined;
}

export function pairNode(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isPair(p) && keyOf(p) === key) as Pair | undefined;
}

/** Validates a mapping against `fields`: unknown keys and missing required keys are problems. */
export function checkObject(
  w: Walk,
  node: YAMLMap,
  fields: Record<string, FieldSpec>,
  field: string,
  opts: { unknownHint?: (key: string) => string | undefined } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = Object.keys(fields);
  const prefix = field ? `${field}.` : "";
  for (const pair of node.items) {
    const key = keyOf(pair);
    if (key === undefined) {
      w.r.report(pair.key as Node, field || "(root)", "keys must be plain strings");
      continue;
    }
    const spec = fields[key];
    if (!spec) {
      const custom = opts.unknownHint?.(key);
      const near = closest(key, known);
      w.r.report(
        pair.key as Node,
        `${prefix}${key}`,
        `unknown key "${key}"`,
        custom ?? (near ? `did you mean "${near}"?` : `allowed keys: ${known.join(", ")}`),
      );
      continue;
    }
    out[key] = checkValue(w, pair.value as Node, spec, `${prefix}${key}`);
  }
  for (const [key, spec] of Object.entries(fields)) {
    if (spec.required && !pairNode(node, key)) {
      w.r.report(node, `${prefix}${key}`, "required field missing", `add "${key}:" (${spec.doc})`);
    }
  }
  return out;
}
