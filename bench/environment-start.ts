// Start-time benchmark: brings the environment up N times (default 3) with login and portal, and
// prints the median time per phase and in total, plus Slack->Matrix and Matrix->Slack latencies
// (median over a few messages each way). Target: < 20 s to ready.
//   node bench/environment-start.ts [iterations] [messages]
import { join } from "node:path";
import type { StartedEnvironment } from "../src/environment/api.ts";
import { startEnvironment } from "../src/environment/environment.ts";
import { timestampForPath } from "../src/runtime/run.ts";
import { now } from "../src/util/clock.ts";
import { DEFAULT_E2E_SPEC } from "../test/e2e/spec.ts";
import { median } from "./stats.ts";

const iterations = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 5);

async function measure(env: StartedEnvironment, slackToMatrix: number[], matrixToSlack: number[]) {
  const t0 = now();
  const alice = await env.user("alice");
  const app = env.fakeSlack.workspace.apps[0];
  await env.bridge.loginApp(alice, { botToken: app.botToken, appToken: app.appToken });
  env.timings.login = now() - t0;
  const t1 = now();
  const portal = await alice.waitForRoom((r) => r.name === "#dev-platform", {
    timeoutMs: 30_000,
    describe: "#dev-platform portal",
  });
  await alice.waitForMembership(portal.roomId, "join", { timeoutMs: 15_000 });
  env.timings.portal = now() - t1;

  const { control, workspace } = env.fakeSlack;
  const channel = workspace.resolveChannel("#dev-platform");
  const bob = workspace.resolveUser("bob");
  for (let i = 0; i < messages; i++) {
    const text = `bench s2m ${i} ${Math.random().toString(36).slice(2, 8)}`;
    const mark = alice.mark();
    const envP = control.waitForEnvelope((e) => e.eventType === "message" && e.event.text === text, {
      timeoutMs: 10_000,
    });
    await control.postMessage({ user: bob, channel, text });
    const envelope = await envP;
    const seen = await alice.waitForEvent((e) => e.roomId === portal.roomId && e.content.body === text, {
      since: mark,
      timeoutMs: 10_000,
      describe: text,
    });
    slackToMatrix.push(seen.seenAt - envelope.sentAt);

    const reply = `bench m2s ${i} ${Math.random().toString(36).slice(2, 8)}`;
    const sinceSeq = control.calls().at(-1)?.seq ?? 0;
    const callP = control.waitForCall(
      (c) => c.method === "chat.postMessage" && (c.params.blocks ?? "").includes(reply),
      {
        sinceSeq,
        timeoutMs: 10_000,
      },
    );
    const { sentAt } = await alice.sendText(portal.roomId, reply);
    matrixToSlack.push((await callP).receivedAt - sentAt);
  }
}

const all: Record<string, number>[] = [];
const s2m: number[] = [];
const m2s: number[] = [];
for (let i = 0; i < iterations; i++) {
  const env = await startEnvironment(DEFAULT_E2E_SPEC, {
    runDir: join(process.cwd(), "runs", `${timestampForPath()}-bench-${i + 1}`),
  });
  try {
    await measure(env, s2m, m2s);
    all.push({ ...env.timings });
    const t = env.timings;
    console.log(
      `run ${i + 1}: ready ${(t.total / 1000).toFixed(1)} s, login ${(t.login / 1000).toFixed(1)} s, portal ${(t.portal / 1000).toFixed(1)} s`,
    );
  } finally {
    await env.stop();
  }
}

const phases = [
  "preflight",
  "network",
  "fake-slack",
  "bridge-config",
  "postgres",
  "homeserver",
  "bridge",
  "total",
  "login",
  "portal",
];
console.log(`\nmedian over ${iterations} start(s) (ms):`);
for (const p of phases)
  console.log(
    `  ${p.padEnd(14)} ${median(all.map((t) => t[p]))
      .toFixed(0)
      .padStart(7)}`,
  );
console.log(
  `  ${"ready+login+portal".padEnd(14)} ${median(all.map((t) => t.total + t.login + t.portal))
    .toFixed(0)
    .padStart(7)}`,
);
console.log(`\nlatency, median over ${s2m.length} message(s) each way (ms):`);
console.log(`  Slack->Matrix  ${median(s2m).toFixed(0).padStart(7)}   (max ${Math.max(...s2m).toFixed(0)})`);
console.log(`  Matrix->Slack  ${median(m2s).toFixed(0).padStart(7)}   (max ${Math.max(...m2s).toFixed(0)})`);
