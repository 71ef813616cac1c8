// Per-service log capture: every byte a container (or an in-process service) writes goes to
// `<runDir>/<service>.log`, line by line through redact(), from the first byte. The lines are also
// kept in memory (bounded) for assertions, error messages and arm-before-act line waiters.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { redact, registerSecret } from "../util/redact.ts";

export interface LineWaiter {
  promise: Promise<string>;
  cancel(): void;
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export class ServiceLog {
  readonly service: string;
  readonly file: string;
  private readonly out: WriteStream;
  private readonly buffer: string[] = [];
  private readonly maxLines: number;
  private dropped = 0;
  private closed = false;
  private readonly waiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void }>();

  constructor(dir: string, service: string, opts: { maxLines?: number } = {}) {
    this.service = service;
    this.file = join(dir, `${service}.log`);
    this.out = createWriteStream(this.file, { flags: "a" });
    this.maxLines = opts.maxLines ?? 200_000;
  }

  /** For testcontainers' withLogConsumer: attaches a container's (demuxed) output stream. */
  readonly consumer = (stream: Readable): void => {
    this.attach(stream);
  };

  /** Reads `stream` to its end, one line at a time. Several streams may be attached over time. */
  attach(stream: Readable, prefix = ""): void {
    let partial = "";
    stream.on("data", (chunk: Buffer | string) => {
      partial += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      const parts = partial.split(/\r?\n/);
      partial = parts.pop() ?? "";
      for (const line of parts) this.write(prefix + line);
    });
    const finish = () => {
      if (partial) this.write(prefix + partial);
      partial = "";
    };
    stream.on("end", finish);
    stream.on("close", finish);
    stream.on("error", (err) => this.write(`[bridge-harness] log stream error: ${String(err)}`));
  }

  /**
   * Secrets a service prints itself (a one-time token on its console): each line is matched before
   * it is redacted; group 1 of a match becomes a registered secret and is handed to `onSecret`.
   */
  captureSecrets(pattern: RegExp, onSecret: (secret: string) => void): void {
    this.secretPatterns.push({ pattern, onSecret });
  }
  private readonly secretPatterns: { pattern: RegExp; onSecret: (secret: string) => void }[] = [];

  /** Appends one line (redacted, ANSI colours removed). */
  write(line: string): void {
    const plain = line.replace(ANSI, "");
    for (const { pattern, onSecret } of this.secretPatterns) {
      const secret = pattern.exec(plain)?.[1];
      if (!secret) continue;
      registerSecret(secret);
      onSecret(secret);
    }
    const clean = redact(plain);
    this.buffer.push(clean);
    if (this.buffer.length > this.maxLines) {
      this.buffer.shift();
      this.dropped++;
    }
    if (!this.closed) this.out.write(`${clean}\n`);
    for (const waiter of this.waiters) {
      if (waiter.test(clean)) {
        this.waiters.delete(waiter);
        waiter.resolve(clean);
      }
    }
  }

  /** Writes a harness note (e.g. "container exited with code 13") into the service log. */
  note(text: string): void {
    this.write(`[bridge-harness] ${text}`);
  }

  /** All lines kept so far (redacted). */
  lines(): string[] {
    return [...this.buffer];
  }

  /** Number of lines seen so far: pass it as `since` to only look at later lines. */
  mark(): number {
    return this.buffer.length + this.dropped;
  }

  linesSince(mark: number): string[] {
    return this.buffer.slice(Math.max(0, mark - this.dropped));
  }

  tail(n: number): string[] {
    return this.buffer.slice(-n);
  }

  /**
   * Arm-before-act: resolves with the first line matching `test` written after this call
   * (or after `since`, a value from mark()).
   */
  waitForLine(
    test: RegExp | ((line: string) => boolean),
    opts: { timeoutMs: number; describe?: string; since?: number },
  ): LineWaiter {
    const fn = typeof test === "function" ? test : (line: string) => test.test(line);
    let cancel = () => {};
    const promise = new Promise<string>((resolve, reject) => {
      if (opts.since !== undefined) {
        const earlier = this.linesSince(opts.since).find(fn);
        if (earlier !== undefined) {
          resolve(earlier);
          return;
        }
      }
      const waiter = {
        test: fn,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `Timed out after ${opts.timeoutMs} ms waiting for ${opts.describe ?? String(test)} in ${this.file}`,
          ),
        );
      }, opts.timeoutMs);
      this.waiters.add(waiter);
      cancel = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
    });
    promise.catch(() => {});
    return { promise, cancel: () => cancel() };
  }

  /** Flushes and closes the file (later lines are kept in memory only). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
  }
}
