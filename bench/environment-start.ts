// Start-time benchmark, homeserver kinds side by side: brings each environment up N times (default
// 3; in rounds, one start of each per round, so machine load hits them alike) with login and portal,
// and prints per environment the median time per phase and to ready, plus Slack->Matrix and
// Matrix->Slack latencies (median over a few messages each way). Target: < 20 s to ready.
//   node bench/environment-start.ts [iterations] [messages] [environment...]
// Environments are names under environments/ (default: default continuwuity tuwunel synapse-mas).
import { join } from "node:path";
import { loadEnvironment } from "../src/config/environment.ts";
import type { StartedEnvironment } from "../src/environment/api.ts";
import { startEnvironment } from "../src/environment/environment.ts";
import { timestampForPath } from "../src/runtime/run.ts";
import { now } from "../src/util/clock.ts";
import { median } from "./stats.ts";

const iterations = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 5);
const names = process.argv.slice(4).length
  ? process.argv.slice(4)
  : ["default", "continuwuity", "tuwunel", "synapse-mas"];
const environments = names.map(
  (name) => loadEnvironment(join(process.cwd(), "environments", `${name}.yaml`)).spec,
);

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

const results = new Map<string, { timings: Record<string, number>[]; s2m: number[]; m2s: number[] }>(
  names.map((n) => [n, { timings: [], s2m: [], m2s: [] }]),
);
for (let i = 0; i < iterations; i++) {
  for (const [k, spec] of environments.entries()) {
    const r = results.get(names[k])!;
    const env = await startEnvironment(spec, {
      runDir: join(process.cwd(), "runs", `${timestampForPath()}-bench-${names[k]}-${i + 1}`),
    });
    try {
      await measure(env, r.s2m, r.m2s);
      r.timings.push({ ...env.timings });
      const t = env.timings;
      console.log(
        `round ${i + 1} ${names[k].padEnd(14)} ready ${(t.total / 1000).toFixed(1)} s, login ${(t.login / 1000).toFixed(1)} s, portal ${(t.portal / 1000).toFixed(1)} s`,
      );
    } finally {
      await env.stop();
    }
  }
}

const phases = ["postgres", "bridge-config", "homeserver", "bridge", "total", "login", "portal"];
const col = (s: string) => s.padStart(Math.max(13, ...names.map((n) => n.length + 1)));
const row = (label: string, values: (number | undefined)[]) =>
  console.log(
    `  ${label.padEnd(20)}${values.map((v) => col(v === undefined ? "-" : v.toFixed(0))).join("")}`,
  );
console.log(`\nmedian over ${iterations} start(s), ms${" ".repeat(2)}`);
console.log(`  ${"".padEnd(20)}${names.map(col).join("")}`);
for (const p of phases)
  row(
    p === "total" ? "ready (total)" : p,
    names.map((n) => median(results.get(n)!.timings.map((t) => t[p]))),
  );
row(
  "ready+login+portal",
  names.map((n) => median(results.get(n)!.timings.map((t) => t.total + t.login + t.portal))),
);
console.log(`\nlatency, median over ${messages * iterations} message(s) each way, ms`);
row(
  "Slack -> Matrix",
  names.map((n) => median(results.get(n)!.s2m)),
);
row(
  "Matrix -> Slack",
  names.map((n) => median(results.get(n)!.m2s)),
);
