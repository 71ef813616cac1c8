// Bridge swap benchmark: how long an upgrade/rollback keeps the bridge away. One environment,
// logged in with the #dev-platform portal, then N swaps alternating between two images (default
// mautrix-slack v0.1.0 <-> v0.2.0, i.e. upgrade, rollback, upgrade). Each swap is timed from the
// stop of the old container to (1) the new one ready (/_matrix/mau/ready), (2) its Socket Mode
// connection open at the fake Slack, (3) the login reported CONNECTED. After each swap a Slack
// message must reach Matrix (the bridge really works). Prints every figure and the medians.
// Target: median stop -> connected < 10 s.
//   node bench/bridge-swap.ts [swaps=3] [imageA=mautrix/slack:v0.1.0] [imageB=mautrix/slack:v0.2.0]
import { join } from "node:path";
import { startEnvironment } from "../src/environment/environment.ts";
import { resolveImage } from "../src/environment/preflight.ts";
import { timestampForPath } from "../src/runtime/run.ts";
import { type BridgeSwapResult, rollbackBridge, upgradeBridge } from "../src/upgrade/operations.ts";
import { compareReleases, releaseOfImage } from "../src/upgrade/schema-versions.ts";
import { now } from "../src/util/clock.ts";
import { DEFAULT_E2E_SPEC } from "../test/e2e/spec.ts";
import { median } from "./stats.ts";

const swaps = Number(process.argv[2] ?? 3);
const imageA = process.argv[3] ?? "mautrix/slack:v0.1.0";
const imageB = process.argv[4] ?? "mautrix/slack:v0.2.0";
const TARGET_MS = 10_000;

const sec = (ms: number | undefined) =>
  ms === undefined || Number.isNaN(ms) ? "   -  " : `${(ms / 1000).toFixed(2)} s`;

const env = await startEnvironment(
  { ...DEFAULT_E2E_SPEC, name: "bench-bridge-swap", bridge: { ...DEFAULT_E2E_SPEC.bridge, image: imageA } },
  { runDir: join(process.cwd(), "runs", `${timestampForPath()}-bench-bridge-swap`) },
);
const rows: { label: string; r: BridgeSwapResult; messageMs: number }[] = [];
try {
  const alice = await env.user("alice");
  const app = env.fakeSlack.workspace.apps[0]!;
  await env.bridge.loginApp(alice, { botToken: app.botToken, appToken: app.appToken });
  const portal = await alice.waitForRoom((r) => r.name === "#dev-platform", {
    timeoutMs: 30_000,
    describe: "portal",
  });
  await alice.waitForMembership(portal.roomId, "join", { timeoutMs: 15_000 });
  const { control, workspace } = env.fakeSlack;
  const channel = workspace.resolveChannel("#dev-platform");
  const bob = workspace.resolveUser("bob");

  let current = resolveImage(imageA);
  for (let i = 0; i < swaps; i++) {
    const target = resolveImage(i % 2 === 0 ? imageB : imageA);
    const older = compareReleases(releaseOfImage(target) ?? "", releaseOfImage(current) ?? "") < 0;
    const r = older
      ? await rollbackBridge(env, target, { user: alice, timeoutMs: 120_000 })
      : await upgradeBridge(env, target, { user: alice, timeoutMs: 120_000 });
    // The bridge works again: a Slack message reaches Matrix.
    const text = `after swap ${i + 1}`;
    const mark = alice.mark();
    const t0 = now();
    await control.postMessage({ user: bob, channel, text });
    await alice.waitForEvent((e) => e.roomId === portal.roomId && e.content.body === text, {
      since: mark,
      timeoutMs: 30_000,
      describe: `"${text}" on Matrix`,
    });
    rows.push({
      label: `${older ? "rollback" : "upgrade "} ${current} -> ${target}`,
      r,
      messageMs: now() - t0,
    });
    current = target;
  }
} finally {
  await env.stop();
}

console.log(
  `\nbridge swap (stop old -> new), ${rows.length} swaps, environment start ${sec(env.timings.total)}`,
);
console.log(
  "  swap                                                                      ready     socket    CONNECTED  msg S->M",
);
for (const { label, r, messageMs } of rows) {
  const t = r.timings;
  console.log(
    `  ${label.padEnd(72)} ${sec(t.readyMs)}  ${sec(t.connectedMs)}  ${sec(t.stateConnectedMs)}   ${sec(messageMs)}`,
  );
}
const connected = rows.map(({ r }) => Math.max(r.timings.connectedMs ?? 0, r.timings.stateConnectedMs ?? 0));
const med = median(connected);
console.log(
  `  median: ready ${sec(median(rows.map(({ r }) => r.timings.readyMs ?? Number.NaN)))}, ` +
    `socket ${sec(median(rows.map(({ r }) => r.timings.connectedMs ?? Number.NaN)))}, ` +
    `ready and connected ${sec(med)} (target < ${sec(TARGET_MS)}: ${med < TARGET_MS ? "met" : "NOT met"})`,
);
process.exitCode = med < TARGET_MS ? 0 : 1;
