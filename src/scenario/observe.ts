// Observation helpers every step family uses: waiters armed before their action, the Slack call a
// Matrix action caused (with its latency sample), and failures with a message.
import type { RecordedCall } from "../../fakes/slack/api.ts";
import type { SeenEvent } from "../environment/api.ts";
import { now } from "../util/clock.ts";
import type { StepContext } from "./steps.ts";

/**
 * control.waitForCall armed now (only calls from this moment on count, within the step's timeout),
 * also noting when the fake recorded the matching call (the moment its waiters are tested, after its
 * own request handling) and when this step observed it.
 */
export function waitCall(
  ctx: StepContext,
  predicate: (c: RecordedCall) => boolean,
  describe: string,
): Promise<RecordedCall & { matchedAt: number; observedAt: number }> {
  const opts = { sinceSeq: ctx.state.control.calls().length, timeoutMs: ctx.timeoutMs, describe };
  let matchedAt = 0;
  return armed(
    ctx.state.control
      .waitForCall((c) => {
        const ok = predicate(c);
        if (ok && !matchedAt) matchedAt = now();
        return ok;
      }, opts)
      .then((call) => ({ ...call, matchedAt: matchedAt || call.receivedAt, observedAt: now() })),
  );
}

/** The Slack call a Matrix action caused: latency sampled from the Matrix send, its answer checked. */
export function checkSlackCall(
  ctx: StepContext,
  kind: string,
  sent: { sentAt: number },
  call: Awaited<ReturnType<typeof waitCall>>,
): void {
  ctx.sample("matrix_to_slack", kind, sent.sentAt, call.receivedAt, call.observedAt, call.matchedAt);
  if (!call.response.ok) fail(`${call.method} failed: ${call.response.error}`);
}

/** Notes when this step observed a Matrix event (the promise settling), for overhead figures. */
export function observed(p: Promise<SeenEvent>): Promise<SeenEvent & { observedAt: number }> {
  return armed(p.then((e) => ({ ...e, observedAt: now() })));
}

/**
 * A waiter armed before its action: if the action throws, the step fails with the action's error and
 * the waiter's later timeout must not become an unhandled rejection.
 */
export function armed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

export function fail(message: string): never {
  throw new Error(message);
}
