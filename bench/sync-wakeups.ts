// /sync wake-ups, homeserver kinds side by side: a Matrix user sends two messages at once (the
// second a few milliseconds after the first, as a bridge or a bot answering a command does) into a
// room another user follows with Element's /sync (30 s long-polls, matrix-js-sdk). The first wakes
// the follower's long-poll; the second can land while the next long-poll is being set up, which is
// where a server that loses wake-ups holds it back until the next event or the 30 s timeout.
// Prints, per environment, how long each message took to reach the follower and how many were held
// back (over 1 s).
//   node bench/sync-wakeups.ts [pairs] [environment...]
// Environments are names under environments/ (default: default continuwuity tuwunel).
import { join } from "node:path";
import { loadEnvironment } from "../src/config/environment.ts";
import { startEnvironment } from "../src/environment/environment.ts";
import { createMatrixUser } from "../src/matrix/driver.ts";
import { timestampForPath } from "../src/runtime/run.ts";
import { median, percentile } from "./stats.ts";

const pairs = Number(process.argv[2] ?? 30);
const names = process.argv.slice(3).length ? process.argv.slice(3) : ["default", "continuwuity", "tuwunel"];
const ELEMENT_SYNC_TIMEOUT_MS = 30_000;
const HELD_BACK_MS = 1_000;

const rows: string[] = [];
for (const name of names) {
  const spec = loadEnvironment(join(process.cwd(), "environments", `${name}.yaml`)).spec;
  const env = await startEnvironment(spec, {
    runDir: join(process.cwd(), "runs", `${timestampForPath()}-bench-sync-${name}`),
  });
  try {
    const hs = env.homeserver;
    const [a, b] = [await hs.registerUser("follower"), await hs.registerUser("sender")];
    const follower = await createMatrixUser(hs.baseUrl, {
      ...a,
      autoJoin: true,
      syncTimeoutMs: ELEMENT_SYNC_TIMEOUT_MS,
    });
    const sender = await createMatrixUser(hs.baseUrl, { ...b, autoJoin: false });
    const room = await sender.createRoom({ invite: [a.userId] });
    await follower.waitForMembership(room, "join", { timeoutMs: 30_000 });
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const mark = follower.mark();
      const firstSent = sender.sendText(room, `first ${i}`);
      await new Promise((r) => setTimeout(r, (i % 20) * 2)); // 0-38 ms apart: sweeps the window
      const sent = await Promise.all([firstSent, sender.sendText(room, `second ${i}`)]);
      for (const [k, s] of sent.entries()) {
        const seen = await follower.waitForEvent((e) => e.eventId === s.eventId, {
          since: mark,
          timeoutMs: ELEMENT_SYNC_TIMEOUT_MS + 5_000,
          describe: `message ${k + 1} of pair ${i}`,
        });
        (k === 0 ? first : second).push(seen.seenAt - s.sentAt);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    follower.stop();
    sender.stop();
    const held = (xs: number[]) => xs.filter((x) => x > HELD_BACK_MS).length;
    rows.push(
      `  ${name.padEnd(14)} ${(await hs.version().catch(() => "?")).padEnd(18)} first p50 ${median(first).toFixed(0).padStart(5)} ms` +
        `   second p50 ${median(second).toFixed(0).padStart(5)} ms p95 ${percentile(second, 95).toFixed(0).padStart(6)} ms max ${Math.max(
          ...second,
        )
          .toFixed(0)
          .padStart(6)} ms` +
        `   held back > ${HELD_BACK_MS} ms: ${held(first) + held(second)} of ${pairs * 2}`,
    );
    console.log(rows.at(-1));
  } finally {
    await env.stop();
  }
}
console.log(
  `\n${pairs} pairs of back-to-back messages per environment, followed with ${ELEMENT_SYNC_TIMEOUT_MS / 1000} s /sync long-polls:`,
);
for (const r of rows) console.log(r);
