// Password login through the Client-Server API, the way clients log in on every kind (with MAS in
// front, the proxy hands /login to MAS's compatibility layer).
import { fetchWithTimeout } from "../util/net.ts";
import { redact, registerSecret } from "../util/redact.ts";
import type { RegisteredUser } from "./api.ts";

export async function passwordLogin(
  baseUrl: string,
  localpart: string,
  password: string,
): Promise<RegisteredUser> {
  const res = await fetchWithTimeout(`${baseUrl}/_matrix/client/v3/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: localpart },
      password,
    }),
  });
  const text = await res.text();
  let body: {
    access_token?: string;
    user_id?: string;
    device_id?: string;
    errcode?: string;
    error?: string;
  } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // an error page from a proxy: reported below
  }
  if (!res.ok || !body.access_token)
    throw new Error(
      redact(
        `Login of ${localpart} failed: HTTP ${res.status} ${body.errcode ?? ""} ${body.error ?? text.slice(0, 200)}`,
      ),
    );
  registerSecret(body.access_token);
  return {
    userId: String(body.user_id),
    accessToken: body.access_token,
    deviceId: String(body.device_id ?? ""),
    password,
  };
}
