// Fake Slack Web API in-process: chat.postMessage through msw's getResponse (the function the
// transport serves sockets with), one request in flight and 200 in flight; and memory with 10,000
// stored messages, each measured in a fresh process.
// Run: node --expose-gc bench/fake-slack-web-api.ts   (Node >= 22; prints medians of 5 rounds)
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getResponse } from "msw";
import { createSlackCore } from "../fakes/slack/core/index.ts";

const IN_FLIGHT = 200;
const REQUESTS = 4000;
const STORED = 10_000;
const ROUNDS = 5;

type Core = ReturnType<typeof createSlackCore>;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function newCore(): Core {
  let n = 0;
  return createSlackCore({
    socketMode: { issueUrl: () => "ws://127.0.0.1:1/link/", publish: () => `Ev${n++}` },
  });
}

async function post(core: Core, channel: string, token: string, i: number): Promise<number> {
  const blocks = JSON.stringify([
    {
      type: "rich_text",
      elements: [{ type: "rich_text_section", elements: [{ type: "text", text: `message ${i}` }] }],
    },
  ]);
  const t0 = performance.now();
  const request = new Request("https://slack.com/api/chat.postMessage", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, channel, blocks }),
  });
  const response = await getResponse(core.handlers, request);
  const body = (await response?.json()) as { ok: boolean; error?: string };
  if (!body.ok) throw new Error(`chat.postMessage failed: ${body.error}`);
  return performance.now() - t0;
}

async function run(core: Core, inFlight: number, total: number): Promise<{ times: number[]; ms: number }> {
  const channel = core.workspace.resolveChannel("dev-platform");
  const token = core.workspace.apps[0]?.botToken as string;
  const times: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) times.push(await post(core, channel, token, next++));
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { times: times.sort((a, b) => a - b), ms: performance.now() - t0 };
}

async function latencyRound(inFlight: number) {
  const core = newCore();
  await run(core, 1, 300); // warm-up
  const { times, ms } = await run(core, inFlight, REQUESTS);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), rps: (REQUESTS / ms) * 1000 };
}

/** In a child process: store STORED messages (via the Web API or the control API) and report memory. */
async function memoryChild(mode: string): Promise<void> {
  const core = newCore();
  if (mode === "web") await run(core, IN_FLIGHT, STORED);
  else
    for (let i = 0; i < STORED; i++)
      await core.control.postMessage({ user: "alice", channel: "dev-platform", text: `message ${i}` });
  if (core.control.history("dev-platform").length < STORED) throw new Error("messages missing");
  // Let V8 finish sweeping and give freed pages back before reading RSS, as it does when idle.
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 500));
  }
  const m = process.memoryUsage();
  console.log(
    JSON.stringify({
      rss: m.rss / 2 ** 20,
      heapUsed: m.heapUsed / 2 ** 20,
      heapTotal: m.heapTotal / 2 ** 20,
    }),
  );
}

function memoryRound(mode: string): { rss: number; heapUsed: number; heapTotal: number } {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", fileURLToPath(import.meta.url), `--memory-child=${mode}`],
    {
      encoding: "utf8",
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string);
}

const child = process.argv.find((a) => a.startsWith("--memory-child="));
if (child) await memoryChild(child.split("=")[1] as string);
else {
  const serial: { p50: number; p99: number; rps: number }[] = [];
  const loaded: { p50: number; p99: number; rps: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) serial.push(await latencyRound(1));
  for (let r = 0; r < ROUNDS; r++) loaded.push(await latencyRound(IN_FLIGHT));
  const mem: Record<string, { rss: number; heapUsed: number; heapTotal: number }[]> = {
    control: [],
    web: [],
  };
  for (let r = 0; r < ROUNDS; r++) for (const mode of ["control", "web"]) mem[mode]?.push(memoryRound(mode));
  const f = (n: number) => n.toFixed(2);
  const line = (label: string, xs: { p50: number; p99: number; rps: number }[]) =>
    console.log(
      `  ${label}: p50 ${f(median(xs.map((x) => x.p50)))} ms  p99 ${f(median(xs.map((x) => x.p99)))} ms  ${median(xs.map((x) => x.rps)).toFixed(0)} req/s`,
    );
  console.log(
    `chat.postMessage through msw getResponse, in-process, ${REQUESTS} requests, median of ${ROUNDS} rounds`,
  );
  line("1 in flight   ", serial);
  line(`${IN_FLIGHT} in flight `, loaded);
  console.log(
    `  (targets: p50 < 2 ms, p99 < 20 ms; with ${IN_FLIGHT} in flight a request also waits for the ones ahead of it)`,
  );
  console.log(
    `memory with ${STORED} stored messages, fresh process each, median of ${ROUNDS} (target RSS < 200 MB)`,
  );
  for (const mode of ["control", "web"]) {
    const xs = mem[mode] ?? [];
    console.log(
      `  via ${mode === "web" ? "Web API (plus recorded calls)" : "control API            "}: RSS ${median(xs.map((x) => x.rss)).toFixed(0)} MB  heap used ${median(xs.map((x) => x.heapUsed)).toFixed(0)} MB of ${median(xs.map((x) => x.heapTotal)).toFixed(0)} MB`,
    );
  }
}
