// Accounts on the conduwuit family the way a person gets one: the client registration API with the
// server's registration token (User-Interactive Authentication, stage m.login.registration_token).
import { fetchWithTimeout } from "../../util/net.ts";
import { randomToken } from "../../util/random.ts";
import { redact, registerSecret } from "../../util/redact.ts";
import type { RegisteredUser } from "../api.ts";

interface UiaResponse {
  flows?: { stages: string[] }[];
  session?: string;
  errcode?: string;
  error?: string;
  user_id?: string;
  access_token?: string;
  device_id?: string;
}

/**
 * Registers `localpart` with `token`. The first stage the server offers that we can complete is used:
 * m.login.registration_token, or m.login.dummy on open-registration servers.
 */
export async function registerWithToken(
  baseUrl: string,
  localpart: string,
  token: string,
  opts: { password?: string } = {},
): Promise<RegisteredUser> {
  const password = opts.password ?? randomToken(24);
  registerSecret(password);
  const url = `${baseUrl}/_matrix/client/v3/register`;
  const post = async (body: Record<string, unknown>) => {
    const res = await fetchWithTimeout(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: localpart, password, inhibit_login: false, ...body }),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as UiaResponse };
  };
  const first = await post({});
  if (first.status !== 401 || !first.body.session) {
    throw new Error(describeFailure(localpart, first.status, first.body));
  }
  const stages = (first.body.flows ?? []).map((f) => f.stages);
  const auth = stages.some((s) => s.length === 1 && s[0] === "m.login.registration_token")
    ? { type: "m.login.registration_token", token, session: first.body.session }
    : stages.some((s) => s.length === 1 && s[0] === "m.login.dummy")
      ? { type: "m.login.dummy", session: first.body.session }
      : undefined;
  if (!auth) {
    throw new Error(
      `Registering @${localpart}: the server offers no single-stage flow the harness can complete (${JSON.stringify(stages)})`,
    );
  }
  const done = await post({ auth });
  if (done.status !== 200 || !done.body.access_token)
    throw new Error(describeFailure(localpart, done.status, done.body));
  registerSecret(done.body.access_token);
  return {
    userId: String(done.body.user_id),
    accessToken: done.body.access_token,
    deviceId: String(done.body.device_id ?? ""),
    password,
  };
}

function describeFailure(localpart: string, status: number, body: UiaResponse): string {
  return redact(
    `Registering @${localpart} failed: HTTP ${status} ${body.errcode ?? ""} ${body.error ?? JSON.stringify(body).slice(0, 200)}`,
  );
}
