// Implementations of the auth steps (step-types.ts): stop and start the authentication service, new
// password logins, and checks of sessions that already exist.
import { parseDuration } from "../config/units.ts";
import type { StartedAuthService } from "../homeservers/api.ts";
import type { StepContext } from "../scenario/steps.ts";
import { now, waitUntil } from "../util/clock.ts";
import { fetchWithTimeout } from "../util/net.ts";

function authService(ctx: StepContext): StartedAuthService {
  const auth = ctx.state.env.homeserver.auth;
  if (!auth)
    throw new Error(
      `environment ${ctx.state.env.spec.name} has no authentication service (homeserver.auth in its environment file)`,
    );
  return auth;
}

/** One whoami with the user's current access token: 200, or what the homeserver answered instead. */
async function whoami(ctx: StepContext, localpart: string): Promise<{ ok: boolean; answer: string }> {
  const user = await ctx.state.user(localpart);
  try {
    const res = await fetchWithTimeout(
      `${ctx.state.env.homeserver.baseUrl}/_matrix/client/v3/account/whoami`,
      {
        headers: { authorization: `Bearer ${user.accessToken}` },
        timeoutMs: 5_000,
      },
    );
    const text = await res.text();
    return { ok: res.status === 200, answer: `HTTP ${res.status} ${text.slice(0, 200)}` };
  } catch (err) {
    return { ok: false, answer: (err as Error).message };
  }
}

const CHECK_EVERY_MS = 1_000;

/** The config changes applied so far per environment (they stack until a revert). */
const appliedChanges = new WeakMap<object, Record<string, unknown>[]>();

export const AUTH_IMPLEMENTATIONS: Record<string, (ctx: StepContext, args: any) => Promise<void>> = {
  async "auth.stop"(ctx) {
    const auth = authService(ctx);
    await auth.stop();
    ctx.details.stoppedAt = new Date().toISOString();
  },

  async "auth.start"(ctx) {
    const auth = authService(ctx);
    const t0 = now();
    await auth.start();
    await waitUntil(() => auth.health(), {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 200,
      describe: () => "the authentication service's health check after its start",
    });
    ctx.details.readyMs = Math.round(now() - t0);
  },

  async "auth.config_change"(ctx, a: { config: Record<string, unknown> }) {
    if (!a.config || typeof a.config !== "object" || Array.isArray(a.config))
      throw new Error("auth.config_change: config must be a mapping (a MAS config overlay)");
    const env = ctx.state.env;
    const changes = [...(appliedChanges.get(env) ?? []), a.config];
    const t0 = now();
    const { configFile } = await authService(ctx).reconfigure(changes);
    appliedChanges.set(env, changes);
    ctx.details.configFile = configFile;
    ctx.details.restartMs = Math.round(now() - t0);
  },

  async "auth.config_revert"(ctx) {
    const t0 = now();
    const { configFile } = await authService(ctx).reconfigure([]);
    appliedChanges.set(ctx.state.env, []);
    ctx.details.configFile = configFile;
    ctx.details.restartMs = Math.round(now() - t0);
  },

  async "matrix.login"(ctx, a: { user: string; expect?: "works" | "fails" }) {
    await ctx.state.user(a.user); // registered (and logged in once) on first use, like every step's users
    const t0 = now();
    try {
      const session = await ctx.state.env.login(a.user);
      ctx.details.loginMs = Math.round(now() - t0);
      ctx.details.deviceId = session.deviceId;
    } catch (err) {
      ctx.details.error = (err as Error).message;
      if (a.expect !== "fails") throw err;
      return;
    }
    if (a.expect === "fails")
      throw new Error(`the login of ${a.user} succeeded, but it was expected to fail`);
  },

  async "expect.session"(ctx, a: { user: string; works?: boolean; for?: unknown; within?: unknown }) {
    const t0 = now();
    if (a.works !== false) {
      const forMs = parseDuration(a.for) ?? 0;
      let checks = 0;
      for (;;) {
        const r = await whoami(ctx, a.user);
        checks++;
        if (!r.ok) {
          ctx.details.workedMs = Math.round(now() - t0);
          throw new Error(
            `${a.user}'s session stopped working after ${ctx.details.workedMs} ms: ${r.answer}`,
          );
        }
        if (now() - t0 >= forMs) break;
        await new Promise((r) => setTimeout(r, CHECK_EVERY_MS));
      }
      ctx.details.checks = checks;
      ctx.details.workedMs = Math.round(now() - t0);
      return;
    }
    const withinMs = parseDuration(a.within) ?? 30_000;
    let last = "";
    await waitUntil(
      async () => {
        const r = await whoami(ctx, a.user);
        last = r.answer;
        return !r.ok;
      },
      {
        timeoutMs: withinMs,
        intervalMs: CHECK_EVERY_MS,
        describe: () => `${a.user}'s session to stop working (last answer: ${last})`,
      },
    );
    ctx.details.workedMs = Math.round(now() - t0);
    ctx.details.answer = last;
  },
};
