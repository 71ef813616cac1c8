// JSON Schemas (draft 2020-12) for scenario and environment files, derived from the same field
// specs the validator uses. `bridge-harness schema --write` regenerates schema/*.schema.json; a unit
// test keeps the committed files equal to this output. Editors (YAML language server) use them via
//   # yaml-language-server: $schema=../schema/scenario.schema.json
import { ENVIRONMENT_FIELDS } from "./environment.ts";
import type { FieldSpec } from "./fields.ts";
import { SCENARIO_FIELDS } from "./scenario.ts";
import { COMMON_STEP_FIELDS, STEP_TYPES } from "./steps.ts";

type Json = Record<string, unknown>;

const DURATION: Json = {
  description: 'a duration: "500ms", "5s", "2m", "1h", or a number of milliseconds',
  anyOf: [
    { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$" },
    { type: "number", minimum: 0 },
  ],
};
const SIZE: Json = {
  description: 'a size: "9MB", "512KB", "100B" (powers of 1024), or a number of bytes',
  anyOf: [
    { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*([Bb]|[KkMmGg][Ii]?[Bb])\\s*$" },
    { type: "integer", minimum: 0 },
  ],
};
const COUNT: Json = {
  anyOf: [
    { type: "integer", minimum: 0 },
    {
      type: "object",
      additionalProperties: false,
      properties: { min: { type: "integer", minimum: 0 }, max: { type: "integer", minimum: 0 } },
    },
  ],
};

export function fieldSchema(spec: FieldSpec): Json {
  const d = { description: spec.doc };
  switch (spec.type) {
    case "string": {
      const s: Json = { ...d, type: "string" };
      if (spec.enum) s.enum = [...spec.enum];
      if (spec.pattern) s.pattern = spec.pattern.source;
      return s;
    }
    case "boolean":
      return { ...d, type: "boolean" };
    case "integer":
      return { ...d, type: "integer", ...(spec.min !== undefined ? { minimum: spec.min } : {}) };
    case "duration":
      return { ...DURATION, description: `${spec.doc}; ${DURATION.description}` };
    case "size":
      return { ...SIZE, description: `${spec.doc}; ${SIZE.description}` };
    case "count":
      return { ...COUNT, description: `${spec.doc}: an exact number or { min, max }` };
    case "list":
      return {
        ...d,
        type: "array",
        items: fieldSchema(spec.items),
        ...(spec.minItems ? { minItems: spec.minItems } : {}),
      };
    case "object":
      return {
        ...objectSchema(spec.fields, spec.doc),
        ...(spec.oneKey ? { minProperties: 1, maxProperties: 1 } : {}),
      };
    case "map":
      return { ...d, type: "object", additionalProperties: fieldSchema(spec.values) };
    case "any":
      return { ...d };
  }
}

export function objectSchema(fields: Record<string, FieldSpec>, doc?: string): Json {
  const properties: Json = {};
  for (const [k, f] of Object.entries(fields)) properties[k] = fieldSchema(f);
  const required = Object.entries(fields)
    .filter(([, f]) => f.required)
    .map(([k]) => k);
  return {
    ...(doc ? { description: doc } : {}),
    type: "object",
    additionalProperties: false,
    properties,
    ...(required.length ? { required } : {}),
  };
}

function stepSchema(): Json {
  const common: Json = {};
  for (const [k, f] of Object.entries(COMMON_STEP_FIELDS)) common[k] = fieldSchema(f);
  const variants: Json[] = [];
  for (const [type, spec] of Object.entries(STEP_TYPES)) {
    const args = objectSchema(spec.fields, spec.doc);
    const hasRequired = Object.values(spec.fields).some((f) => f.required);
    variants.push({
      type: "object",
      description: spec.doc,
      additionalProperties: false,
      required: [type],
      properties: { ...common, [type]: hasRequired ? args : { anyOf: [args, { type: "null" }] } },
    });
    if (!hasRequired) variants.push({ const: type, description: spec.doc });
  }
  return { oneOf: variants };
}

export function scenarioSchema(): Json {
  const base = objectSchema(SCENARIO_FIELDS);
  const props = base.properties as Json;
  props.slack = {
    description: SCENARIO_FIELDS.slack.doc,
    anyOf: [
      { type: "string", description: "path of a seed file, relative to the scenario" },
      { type: "object" },
    ],
  };
  props.steps = {
    description: SCENARIO_FIELDS.steps.doc,
    type: "array",
    minItems: 1,
    items: { $ref: "#/$defs/step" },
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://bridge-harness.invalid/schema/scenario.schema.json",
    title: "bridge-harness scenario",
    ...base,
    $defs: { step: stepSchema() },
  };
}

export function environmentSchema(): Json {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://bridge-harness.invalid/schema/environment.schema.json",
    title: "bridge-harness environment",
    ...objectSchema(ENVIRONMENT_FIELDS),
  };
}

/** File name -> JSON text, as committed under schema/. */
export function renderSchemas(): Record<string, string> {
  return {
    "scenario.schema.json": `${JSON.stringify(scenarioSchema(), null, 2)}\n`,
    "environment.schema.json": `${JSON.stringify(environmentSchema(), null, 2)}\n`,
  };
}
