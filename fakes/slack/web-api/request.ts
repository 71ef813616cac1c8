// Reading a Web API request the way Slack does: query string, urlencoded or multipart forms,
// JSON (only with a Bearer token), the token from the Authorization header or the `token` field.
import { parseMultipart } from "./multipart.ts";

export interface ParsedRequest {
  params: Record<string, string>;
  /** File parts of a multipart body. */
  files: { field: string; name: string; type: string; data: Uint8Array }[];
  token?: string;
  tokenSource: "header" | "form" | "none";
  isJson: boolean;
  warnings: string[];
  /** Slack's error when the body cannot be read as its content type says: invalid_json (not JSON),
   * json_not_object (JSON, but not an object), invalid_form_data (a broken multipart body). */
  malformed?: "invalid_json" | "json_not_object" | "invalid_form_data";
}

/** JSON values become strings: nested objects/arrays as JSON, booleans and numbers as text. */
export function flatten(obj: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}

export async function parseRequest(request: Request, url: URL): Promise<ParsedRequest> {
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  const out: ParsedRequest = {
    params,
    files: [],
    tokenSource: "none",
    isJson: false,
    warnings: [],
  };
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  if (request.method !== "GET" && request.method !== "HEAD") {
    try {
      if (contentType.startsWith("application/json")) {
        out.isJson = true;
        if (!contentType.includes("charset")) out.warnings.push("missing_charset");
        const text = await request.text();
        if (text.trim()) {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            out.malformed = "invalid_json";
          }
          if (body && typeof body === "object" && !Array.isArray(body))
            Object.assign(params, flatten(body as Record<string, unknown>));
          else out.malformed ??= "json_not_object";
        }
      } else if (contentType.startsWith("multipart/form-data")) {
        const parts = parseMultipart(new Uint8Array(await request.arrayBuffer()), contentType);
        if (!parts) out.malformed = "invalid_form_data";
        for (const p of parts ?? []) {
          if (p.filename === undefined) params[p.name] = Buffer.from(p.data).toString("utf8");
          else out.files.push({ field: p.name, name: p.filename, type: p.type ?? "", data: p.data });
        }
      } else {
        if (contentType.startsWith("application/x-www-form-urlencoded") && contentType.includes("charset"))
          out.warnings.push("superfluous_charset");
        const text = await request.text();
        if (text) for (const [k, v] of new URLSearchParams(text)) params[k] = v;
      }
    } catch {
      out.malformed = contentType.startsWith("application/json") ? "invalid_json" : "invalid_form_data";
    }
  }
  const auth = request.headers.get("authorization");
  const bearer = auth && /^Bearer\s+(\S+)/i.exec(auth)?.[1];
  if (bearer) {
    out.token = bearer;
    out.tokenSource = "header";
  } else if (params.token && !out.isJson) {
    out.token = params.token;
    out.tokenSource = "form";
  }
  delete params.token;
  return out;
}

export function encodeCursor(kind: string, value: string): string {
  return Buffer.from(`${kind}:${value}`).toString("base64");
}

/** The value of a cursor of `kind`, undefined for none, null for an invalid one. */
export function decodeCursor(cursor: string | undefined, kind: string): string | undefined | null {
  if (!cursor) return undefined;
  const text = Buffer.from(cursor, "base64").toString("utf8");
  if (!text.startsWith(`${kind}:`)) return null;
  return text.slice(kind.length + 1);
}
