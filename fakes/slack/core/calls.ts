// Recorded Web API calls (arm-before-act waiters) and HTTP-level faults.
import { now } from "../../../src/util/clock.ts";
import type { RecordedCall } from "../api.ts";

interface Waiter {
  predicate: (call: RecordedCall) => boolean;
  sinceSeq: number;
  resolve: (call: RecordedCall) => void;
}

export class CallRecorder {
  private readonly list: RecordedCall[] = [];
  /** Answers not yet written by a transport, with their calls (see written()). */
  private readonly byAnswer = new WeakMap<Response, RecordedCall>();
  private readonly waiters = new Set<Waiter>();
  private seq = 0;

  /** Reserves the sequence number at arrival, so seq follows arrival order. */
  nextSeq(): number {
    return ++this.seq;
  }

  /** `answer` links the call to its HTTP answer, so the transport can stamp when it wrote it. */
  record(call: RecordedCall, answer?: Response): void {
    if (answer) this.byAnswer.set(answer, call);
    // Calls finish out of order (delays); keep the list sorted by seq.
    let i = this.list.length;
    while (i > 0 && (this.list[i - 1] as RecordedCall).seq > call.seq) i--;
    this.list.splice(i, 0, call);
    for (const w of this.waiters) {
      if (call.seq > w.sinceSeq && safe(w.predicate, call)) {
        this.waiters.delete(w);
        w.resolve(call);
      }
    }
  }

  /** The transport handed `answer` to the socket: its call's respondedAt becomes now. */
  written(answer: Response): void {
    const call = this.byAnswer.get(answer);
    if (!call) return;
    call.respondedAt = now();
    this.byAnswer.delete(answer);
  }

  calls(): RecordedCall[] {
    return [...this.list];
  }

  waitForCall(
    predicate: (call: RecordedCall) => boolean,
    opts: { timeoutMs?: number; sinceSeq?: number; describe?: string } = {},
  ): Promise<RecordedCall> {
    const sinceSeq = opts.sinceSeq ?? 0;
    const found = this.list.find((c) => c.seq > sinceSeq && safe(predicate, c));
    if (found) return Promise.resolve(found);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        sinceSeq,
        resolve: (call) => {
          clearTimeout(timer);
          resolve(call);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const recent = this.list
          .filter((c) => c.seq > sinceSeq)
          .slice(-10)
          .map((c) => `#${c.seq} ${c.method} ${c.response.ok ? "ok" : c.response.error}`)
          .join(", ");
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for a Slack Web API call${opts.describe ? ` (${opts.describe})` : ""}; calls since #${sinceSeq}: ${recent || "none"}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

function safe(predicate: (call: RecordedCall) => boolean, call: RecordedCall): boolean {
  try {
    return predicate(call);
  } catch {
    return false;
  }
}

/** How a Web API outage answers: an HTTP error status, or no answer until it ends ("timeout"). */
export type OutageMode = { status: number } | "timeout";

/** What an edge answers with a 5xx (the body clients never get from the API itself). */
const OUTAGE_ERRORS: Record<number, string> = {
  500: "internal_error",
  502: "bad_gateway",
  503: "service_unavailable",
  504: "request_timeout",
};

export function outageError(status: number): string {
  return OUTAGE_ERRORS[status] ?? "service_unavailable";
}

export class Faults {
  private readonly rateLimits = new Map<string, { calls: number; retryAfterSeconds: number }>();
  private readonly delays = new Map<string, number>();
  private readonly outages = new Map<string, OutageMode>();
  /** Calls held by a "timeout" outage, released when no such outage covers their method. */
  private readonly held = new Set<{ method: string; release: () => void }>();
  private readonly revoked = new Set<string>();
  /** Tokens replaced by new ones: revoked for good (clear() keeps them). */
  private readonly retired = new Set<string>();

  /** `calls` answers of `method` get 429 (Infinity: until set again; 0 ends it). */
  rateLimit(method: string, opts: { calls: number; retryAfterSeconds: number }): void {
    if (!Number.isInteger(opts.retryAfterSeconds) || opts.retryAfterSeconds < 0)
      throw new Error(
        "rateLimit: retryAfterSeconds must be a non-negative integer (Slack sends whole seconds)",
      );
    if (opts.calls <= 0) this.rateLimits.delete(method);
    else this.rateLimits.set(method, { calls: opts.calls, retryAfterSeconds: opts.retryAfterSeconds });
  }

  /** Starts (or with `undefined` ends) an outage of `method` ("*" = every method). */
  outage(method: string, mode: OutageMode | undefined): void {
    if (mode) this.outages.set(method, mode);
    else this.outages.delete(method);
    this.releaseHeld();
  }

  private outageFor(method: string): OutageMode | undefined {
    return this.outages.get(method) ?? this.outages.get("*");
  }

  /**
   * The HTTP status a call of `method` gets from an outage, or undefined when there is none. In a
   * "timeout" outage the call waits until the outage ends and then gets 504, as from a load balancer
   * that gave up on the backend.
   */
  async outageStatus(method: string): Promise<number | undefined> {
    const mode = this.outageFor(method);
    if (!mode) return undefined;
    if (mode !== "timeout") return mode.status;
    await new Promise<void>((release) => this.held.add({ method, release }));
    return 504;
  }

  private releaseHeld(): void {
    for (const h of this.held)
      if (this.outageFor(h.method) !== "timeout") {
        this.held.delete(h);
        h.release();
      }
  }

  /** Consumes one rate-limited answer for `method` ("*" matches all); the Retry-After seconds or undefined. */
  takeRateLimit(method: string): number | undefined {
    for (const key of [method, "*"]) {
      const rl = this.rateLimits.get(key);
      if (rl && rl.calls > 0) {
        rl.calls--;
        if (rl.calls <= 0) this.rateLimits.delete(key);
        return rl.retryAfterSeconds;
      }
    }
    return undefined;
  }

  delayResponses(method: string, ms: number): void {
    if (ms > 0) this.delays.set(method, ms);
    else this.delays.delete(method);
  }

  delayFor(method: string): number {
    return this.delays.get(method) ?? this.delays.get("*") ?? 0;
  }

  revokeToken(token: string): void {
    this.revoked.add(token);
  }

  retireToken(token: string): void {
    this.retired.add(token);
  }

  isRevoked(token: string): boolean {
    return this.revoked.has(token) || this.retired.has(token);
  }

  clear(): void {
    this.rateLimits.clear();
    this.delays.clear();
    this.outages.clear();
    this.releaseHeld();
    this.revoked.clear();
  }
}
