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

export class Faults {
  private readonly rateLimits = new Map<string, { calls: number; retryAfterSeconds: number }>();
  private readonly delays = new Map<string, number>();
  readonly revoked = new Set<string>();

  rateLimit(method: string, opts: { calls: number; retryAfterSeconds: number }): void {
    if (!Number.isInteger(opts.retryAfterSeconds) || opts.retryAfterSeconds < 0)
      throw new Error(
        "rateLimit: retryAfterSeconds must be a non-negative integer (Slack sends whole seconds)",
      );
    this.rateLimits.set(method, { calls: opts.calls, retryAfterSeconds: opts.retryAfterSeconds });
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

  clear(): void {
    this.rateLimits.clear();
    this.delays.clear();
    this.revoked.clear();
  }
}
