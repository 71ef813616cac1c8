// How long an already logged-in Matrix user keeps working once matrix-authentication-service stops:
// Synapse caches token introspections, so a session survives an outage for a while. Stops MAS, then
// checks the user's access token with /account/whoami once a second until Synapse refuses it (or
// `limit` seconds pass), N times; prints each lifetime and the median, what the homeserver answers
// once it gives up, and how quickly the session works again after MAS restarts.
//   node bench/mas-outage.ts [rounds] [limit seconds]
import { join } from "node:path";
import { loadEnvironment } from "../src/config/environment.ts";
import { startEnvironment } from "../src/environment/environment.ts";
import { timestampForPath } from "../src/runtime/run.ts";
import { now, waitUntil } from "../src/util/clock.ts";
import { median } from "./stats.ts";

const rounds = Number(process.argv[2] ?? 1);
const limitMs = Number(process.argv[3] ?? 300) * 1000;

const spec = loadEnvironment(join(process.cwd(), "environments", "synapse-mas.yaml")).spec;
const env = await startEnvironment(spec, {
  runDir: join(process.cwd(), "runs", `${timestampForPath()}-bench-mas-outage`),
});
const auth = env.homeserver.auth!;
const lifetimes: number[] = [];
try {
  const alice = await env.user("alice");
  const whoami = async () => {
    const res = await fetch(`${env.homeserver.baseUrl}/_matrix/client/v3/account/whoami`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    return { ok: res.status === 200, answer: `HTTP ${res.status} ${(await res.text()).slice(0, 120)}` };
  };
  for (let i = 0; i < rounds; i++) {
    if (!(await whoami()).ok) throw new Error("the session does not work before the outage");
    await auth.stop();
    const stoppedAt = now();
    let answer = "";
    for (;;) {
      const r = await whoami();
      if (!r.ok) {
        answer = r.answer;
        break;
      }
      if (now() - stoppedAt > limitMs) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const lived = now() - stoppedAt;
    lifetimes.push(lived);
    const login = await env.login("alice").then(
      () => "succeeded",
      (e: Error) => e.message,
    );
    const restartAt = now();
    await auth.start();
    await waitUntil(async () => (await whoami()).ok, {
      timeoutMs: 60_000,
      intervalMs: 200,
      describe: () => "the session to work again after MAS restarted",
    });
    console.log(
      `round ${i + 1}: session kept working ${(lived / 1000).toFixed(0)} s after MAS stopped${answer ? `, then: ${answer}` : ` (still working at the ${limitMs / 1000} s limit)`}`,
    );
    console.log(`         new login during the outage: ${login}`);
    console.log(
      `         session working again ${((now() - restartAt) / 1000).toFixed(1)} s after MAS was started`,
    );
  }
} finally {
  await env.stop();
}
console.log(
  `\nsession lifetime after MAS stops, median of ${rounds}: ${(median(lifetimes) / 1000).toFixed(0)} s`,
);
