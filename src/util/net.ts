// Small network helpers.
import { createServer } from "node:net";

/** A TCP port that was free on `host` a moment ago (bind it soon: another process may take it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** fetch with a per-request timeout; never throws for HTTP status, only for network errors/timeouts. */
export async function fetchWithTimeout(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<Response> {
  const { timeoutMs = 10_000, ...rest } = init;
  return fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * Runs `start` with a free host port, again with another one when the engine answers that the port
 * was taken meanwhile (ports are picked before a container binds them: another container of this
 * or a parallel run may get there first).
 */
export async function withFreePort<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      const clash = /port is already allocated|address already in use/i.test(String((err as Error)?.message));
      if (!clash || attempt >= attempts) throw err;
    }
  }
}
