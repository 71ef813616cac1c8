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
  if (!res.ok || !body.access_token) {
    // A proxy's error page (e.g. 502 when the login service is down) says more in its title.
    const page = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
    const answer = body.errcode
      ? `${body.errcode} ${body.error ?? ""}`
      : page
        ? `an HTML page "${page}" instead of a Matrix answer (the login service behind the proxy is not answering)`
        : text.slice(0, 200);
    throw new Error(redact(`Login of ${localpart} failed: HTTP ${res.status} ${answer}`));
  }
  registerSecret(body.access_token);
  return {
    userId: String(body.user_id),
    accessToken: body.access_token,
    deviceId: String(body.device_id ?? ""),
    password,
  };
}
