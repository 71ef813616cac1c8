// Fake Slack transport over real sockets, each round in a fresh fake:
//  1. Socket Mode: events/s delivered and acked over one WebSocket (a `ws` client acking each
//     envelope), events produced by control.postMessage (core + hub).
//  2. Web API: chat.postMessage over real HTTP with 200 requests in flight (load from a worker
//     thread), p50/p99 latency and rate.
// Run: node bench/fake-slack-socket.ts   (Node >= 22; prints medians of 5 rounds)
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Agent, request } from "undici";
import { WebSocket } from "ws";
import { startFakeSlack } from "../fakes/slack/index.ts";

const EVENTS = 20_000;
const IN_FLIGHT = 200;
const REQUESTS = 4000;
const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function target(fake: Awaited<ReturnType<typeof startFakeSlack>>) {
  const app = fake.workspace.apps[0]!;
  const user = fake.workspace.users.find((u) => !u.isBot)!.id;
  const channel = fake.workspace.channels.find(
    (c) => c.members.includes(app.botUserId) && c.members.includes(user),
  )!;
  return { app, user, channel: channel.id };
}

async function socketRound(): Promise<number> {
  const fake = await startFakeSlack({});
  try {
    const { app, user, channel } = target(fake);
    const res = await fetch(`${fake.webApiUrl}apps.connections.open`, {
      method: "POST",
      headers: { authorization: `Bearer ${app.appToken}` },
    });
    const { url } = (await res.json()) as { url: string };
    const ws = new WebSocket(url);
    let acked = 0;
    let allAcked: () => void = () => {};
    const done = new Promise<void>((r) => {
      allAcked = r;
    });
    ws.on("message", (d) => {
      const f = JSON.parse(String(d)) as { envelope_id?: string };
      if (!f.envelope_id) return;
      ws.send(JSON.stringify({ envelope_id: f.envelope_id }));
      if (++acked === EVENTS) allAcked();
    });
    await new Promise<void>((r) => ws.once("message", () => r()));
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      await fake.control.postMessage({ user, channel, text: `event ${i}` });
      // Let the socket drain now and then, as a steady producer would.
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await done;
    // Until the fake has recorded every ack.
    for (;;) {
      const envs = fake.control.envelopes();
      if (envs.length >= EVENTS && envs.every((e) => e.ackedAt !== undefined)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - t0) / 1000;
    ws.terminate();
    return EVENTS / seconds;
  } finally {
    await fake.stop();
  }
}

// The load generator runs in a worker thread so client and server do not share one event loop.
async function load(endpoint: string, token: string, channel: string): Promise<number[]> {
  const dispatcher = new Agent({ connections: IN_FLIGHT, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t = performance.now();
      // undici.request: a lighter client than fetch, so the server is what gets measured.
      const res = await request(endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, channel, text: `message ${i}` }).toString(),
        dispatcher,
      });
      const body = (await res.body.json()) as { ok: boolean; error?: string };
      if (!body.ok) throw new Error(`chat.postMessage failed: ${body.error}`);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await dispatcher.close();
  return latencies;
}

async function webApiRound(): Promise<{ p50: number; p99: number; rate: number }> {
  const fake = await startFakeSlack({});
  try {
    const { app, channel } = target(fake);
    const t0 = performance.now();
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { endpoint: `${fake.webApiUrl}chat.postMessage`, token: app.botToken, channel },
    });
    const latencies = await new Promise<number[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const seconds = (performance.now() - t0) / 1000;
    await worker.terminate();
    latencies.sort((a, b) => a - b);
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), rate: REQUESTS / seconds };
  } finally {
    await fake.stop();
  }
}

if (!isMainThread) {
  const { endpoint, token, channel } = workerData as { endpoint: string; token: string; channel: string };
  parentPort?.postMessage(await load(endpoint, token, channel));
} else {
  await main();
}

async function main(): Promise<void> {
  const socket: number[] = [];
  const web: { p50: number; p99: number; rate: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    socket.push(await socketRound());
    web.push(await webApiRound());
  }
  console.log(
    `Socket Mode, ${EVENTS} events over one socket, delivered and acked: ` +
      `median ${Math.round(median(socket))} events/s (rounds: ${socket.map(Math.round).join(", ")})`,
  );
  console.log(
    `chat.postMessage over HTTP, ${IN_FLIGHT} in flight, ${REQUESTS} requests: ` +
      `median p50 ${median(web.map((w) => w.p50)).toFixed(1)} ms, p99 ${median(web.map((w) => w.p99)).toFixed(1)} ms, ` +
      `${Math.round(median(web.map((w) => w.rate)))} req/s`,
  );
}
