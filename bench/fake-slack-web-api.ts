// The fake Slack's Web API over real HTTP, the way the bridge reaches it. The fake runs as its own
// process (the standalone `fakes/slack/cli.ts`); the load generator is this process (undici,
// keep-alive connections, one request per connection at a time). In every round the same load also
// goes to a bare Node HTTP server that answers with the fake's own response bytes and does nothing
// else: the floor that this machine and this client set, measured side by side.
//  - chat.postMessage with 1 and with 200 requests in flight: latency seen by the client (p50/p99),
//    rate, and the fake's own time per call (RecordedCall.respondedAt - receivedAt, read back
//    through the control API). With 200 in flight a request also waits for those ahead of it, so
//    the client's p50 is about 200 / rate for any server.
//  - memory: resident set of the fake's process when fresh, its peak while 10,000 messages are
//    stored through the Web API at 200 in flight, and once settled (V8 gives freed pages back after
//    some seconds idle); the 10,000 messages are then read back with conversations.history.
// Run: node bench/fake-slack-web-api.ts [rounds=5] [memory rounds=3]   (Linux: reads /proc/<pid>/status)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { median, percentile } from "./stats.ts";

const REQUESTS = 4000;
const WARM_UP = 300;
const IN_FLIGHT = 200;
const STORED = 10_000;
/** V8 gives a burst's freed heap pages back once the process has been idle for a while (~20 s). */
const SETTLE_SECONDS = 40;
const rounds = Number(process.argv[2] ?? 5);
const memoryRounds = Number(process.argv[3] ?? 3);
const FAKE_CLI = fileURLToPath(new URL("../fakes/slack/cli.ts", import.meta.url));

interface Load {
  p50: number;
  p99: number;
  rate: number;
}
interface Target {
  url: string;
  body: (i: number) => string;
}

/** `inFlight` workers on keep-alive connections, each sending its next request when the previous
 * answer is read. A warm-up pass at the same concurrency opens the connections first, so the
 * measured pass sees steady state, as a long-running client such as the bridge does. */
async function load(target: Target, inFlight: number, total: number): Promise<Load> {
  const dispatcher = new Agent({ connections: inFlight, pipelining: 1 });
  try {
    const pass = async (count: number, latencies: number[]) => {
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const t = performance.now();
          const res = await request(target.url, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: target.body(next++),
            dispatcher,
          });
          const answer = (await res.body.json()) as { ok: boolean; error?: string };
          if (!answer.ok) throw new Error(`chat.postMessage answered ${answer.error}`);
          latencies.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
    };
    await pass(Math.max(WARM_UP, inFlight * 2), []);
    const latencies: number[] = [];
    const t0 = performance.now();
    await pass(total, latencies);
    const seconds = (performance.now() - t0) / 1000;
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rate: total / seconds };
  } finally {
    await dispatcher.close();
  }
}

interface Fake {
  process: ChildProcess;
  webApi: string;
  control: string;
  target: Target;
  dir: string;
}

/** Starts `node <args>` and resolves with its stdout once `ready` matches it. */
function startNode(args: string[], ready: RegExp): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`node ${args.join(" ")} exited with ${code}:\n${out}`)));
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
      if (ready.test(out)) resolve({ child, out });
    });
  });
}

async function startFake(): Promise<Fake> {
  const dir = await mkdtemp(join(tmpdir(), "bench-fake-slack-"));
  const { child, out } = await startNode([FAKE_CLI, "--quiet", "--dir", dir], /Ctrl-C stops it/);
  const webApi = /Web API\s+(\S+)/.exec(out)?.[1] as string;
  const control = /Control API\s+(\S+)/.exec(out)?.[1] as string;
  const { apps } = JSON.parse(await readFile(join(dir, "tokens.json"), "utf8")) as {
    apps: { botToken: string }[];
  };
  const token = apps[0]?.botToken as string;
  const { workspace } = (await (await fetch(`${control}workspace`)).json()) as {
    workspace: { apps: { botUserId: string }[]; channels: { id: string; members: string[] }[] };
  };
  const bot = workspace.apps[0]?.botUserId as string;
  const channel = workspace.channels.find((c) => c.members.includes(bot))?.id as string;
  const body = (i: number) => new URLSearchParams({ token, channel, text: `message ${i}` }).toString();
  return { process: child, webApi, control, dir, target: { url: `${webApi}chat.postMessage`, body } };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners("exit");
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** The fake's chat.postMessage calls after `sinceSeq`. */
async function postCalls(fake: Fake, sinceSeq: number) {
  const res = await fetch(`${fake.control}calls?method=chat.postMessage&since=${sinceSeq}`);
  return ((await res.json()) as { calls: { seq: number; receivedAt: number; respondedAt: number }[] }).calls;
}

/** A bare server answering every request with `answer` (run as its own process, like the fake). */
function bareServer(answer: string): void {
  const server = createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on("end", () =>
      res
        .writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(answer),
        })
        .end(answer),
    );
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, "127.0.0.1", () => {
    console.log(`bare server http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  process.on("SIGTERM", () => process.exit(0));
}

function statusKb(pid: number, field: "VmRSS" | "VmHWM", status: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(m[1]);
}
async function memoryMb(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return { rss: statusKb(pid, "VmRSS", status) / 1024, peak: statusKb(pid, "VmHWM", status) / 1024 };
}

/** RSS after `seconds` without traffic. */
async function rssAfterIdle(pid: number, seconds: number): Promise<number> {
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (await memoryMb(pid)).rss;
}

/** Pages through conversations.history and counts what the fake stored. */
async function storedMessages(fake: Fake): Promise<number> {
  const { token, channel } = Object.fromEntries(new URLSearchParams(fake.target.body(0)));
  let count = 0;
  let cursor = "";
  do {
    const res = await fetch(`${fake.webApi}conversations.history`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, channel, limit: "999", cursor } as Record<string, string>),
    });
    const page = (await res.json()) as {
      messages: unknown[];
      response_metadata?: { next_cursor?: string };
    };
    count += page.messages.length;
    cursor = page.response_metadata?.next_cursor ?? "";
  } while (cursor);
  return count;
}

interface Round {
  bare: Load;
  fake: Load;
  fakeOwn: { p50: number; p99: number };
}

async function latencyRound(inFlight: number): Promise<Round> {
  const fake = await startFake();
  try {
    // The bare server answers what the fake answers, so both send the same bytes.
    const sample = await request(fake.target.url, {
      method: "POST",
      body: fake.target.body(-1),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    const answer = await sample.body.text();
    const bare = await startNode(
      [fileURLToPath(import.meta.url), "--bare-server", answer],
      /bare server (\S+)/,
    );
    try {
      const bareTarget = { url: /bare server (\S+)/.exec(bare.out)?.[1] as string, body: fake.target.body };
      const bareLoad = await load(bareTarget, inFlight, REQUESTS);
      const fakeLoad = await load(fake.target, inFlight, REQUESTS);
      // The measured pass is the last REQUESTS calls (the warm-up pass came before it).
      const own = (await postCalls(fake, 0)).slice(-REQUESTS).map((c) => c.respondedAt - c.receivedAt);
      return {
        bare: bareLoad,
        fake: fakeLoad,
        fakeOwn: { p50: percentile(own, 50), p99: percentile(own, 99) },
      };
    } finally {
      await stop(bare.child);
    }
  } finally {
    await stop(fake.process);
    await rm(fake.dir, { recursive: true, force: true });
  }
}

interface Memory {
  fresh: number;
  peak: number;
  settled: number;
  stored: number;
}

async function memoryRound(): Promise<Memory> {
  const fake = await startFake();
  try {
    const pid = fake.process.pid as number;
    const fresh = await rssAfterIdle(pid, 5);
    await load(fake.target, IN_FLIGHT, STORED);
    const { peak } = await memoryMb(pid);
    const settled = await rssAfterIdle(pid, SETTLE_SECONDS);
    const stored = await storedMessages(fake);
    if (stored < STORED) throw new Error(`conversations.history returned ${stored} of ${STORED} messages`);
    return { fresh, peak, settled, stored };
  } finally {
    await stop(fake.process);
    await rm(fake.dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--bare-server") bareServer(process.argv[3] as string);
else await main();

async function main(): Promise<void> {
  const ms = (n: number) => `${n.toFixed(2)} ms`.padStart(9);
  const row = (label: string, rs: Round[], pick: (r: Round) => Load, own?: boolean) => {
    const p50 = median(rs.map((r) => pick(r).p50));
    const p99 = median(rs.map((r) => pick(r).p99));
    const rate = `${Math.round(median(rs.map((r) => pick(r).rate)))} req/s`.padStart(11);
    const ownPart = own
      ? `   fake's own time p50 ${ms(median(rs.map((r) => r.fakeOwn.p50)))}  p99 ${ms(median(rs.map((r) => r.fakeOwn.p99)))}`
      : "";
    console.log(`  ${label.padEnd(26)} p50 ${ms(p50)}  p99 ${ms(p99)}  ${rate}${ownPart}`);
  };
  console.log(
    `chat.postMessage over HTTP, ${REQUESTS} requests per round, fresh processes each round, median of ${rounds} rounds`,
  );
  for (const inFlight of [1, IN_FLIGHT]) {
    const rs: Round[] = [];
    for (let r = 0; r < rounds; r++) rs.push(await latencyRound(inFlight));
    row(`bare server, ${inFlight} in flight`, rs, (r) => r.bare);
    row(`fake Slack,  ${inFlight} in flight`, rs, (r) => r.fake, true);
    const ratio = median(rs.map((r) => r.fake.p50 / r.bare.p50));
    console.log(`  client p50 fake / bare, same round: ${ratio.toFixed(1)}x`);
  }
  console.log(`  (targets: p50 < 2 ms, p99 < 20 ms with ${IN_FLIGHT} in flight)`);

  const mem: Memory[] = [];
  for (let r = 0; r < memoryRounds; r++) mem.push(await memoryRound());
  const mb = (xs: number[]) => `${median(xs).toFixed(0)} MB`;
  console.log(
    `memory of the fake's process (RSS), median of ${memoryRounds}: fresh ${mb(mem.map((m) => m.fresh))}; ` +
      `peak while storing ${STORED} messages at ${IN_FLIGHT} in flight ${mb(mem.map((m) => m.peak))}; ` +
      `after ${SETTLE_SECONDS} s idle with ${Math.min(...mem.map((m) => m.stored))} stored ${mb(mem.map((m) => m.settled))} (target < 200 MB)`,
  );
}
