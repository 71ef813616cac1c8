// How many lines the bridge logs per bridged message at debug (mautrix-slack's default level) and at
// info: one environment, a login, then N messages each way at each level (config.change in between)
// and the bridge log lines they added. Extrapolated to the deployment spec's day (1,000 messages each
// way). The figure behind the logging.bridge-debug check (docs/config-checks.md).
//   node bench/log-volume.ts [messages each way=50]
import { join } from "node:path";
import { startEnvironment } from "../src/environment/environment.ts";
import { timestampForPath } from "../src/runtime/run.ts";
import { Scenario } from "../src/scenario/runner.ts";
import { steps } from "../src/scenario/steps.ts";
import { DEFAULT_E2E_SPEC } from "../test/e2e/spec.ts";

const count = Number(process.argv[2] ?? 50);
const DAY = 2000;

const env = await startEnvironment(
  { ...DEFAULT_E2E_SPEC, name: "bench-log-volume" },
  {
    runDir: join(process.cwd(), "runs", `${timestampForPath()}-bench-log-volume`),
    slackSeed: join(process.cwd(), "scenarios/workspaces/chochacho.yaml"),
  },
);
try {
  const sc = new Scenario(env, { matrixUsers: ["alice"] });
  await sc.run(steps.login({ user: "alice" }));
  await sc.run(steps.expectPortal({ channel: "#dev-platform", user: "alice" }));
  const perMessage: Record<string, number> = {};
  for (const level of ["debug", "info"]) {
    if (level !== "debug")
      await sc.run({
        type: "config.change",
        args: { bridge: { logging: { min_level: level } }, user: "alice" },
      });
    const before = (await env.bridge.logLines()).length;
    await sc.run(steps.slackTraffic({ user: "bob", channel: "#dev-platform", count, per_second: 10 }));
    await sc.run(steps.matrixTraffic({ user: "alice", channel: "#dev-platform", count, per_second: 10 }));
    const lines = (await env.bridge.logLines()).length - before;
    perMessage[level] = lines / (2 * count);
    console.log(
      `${level.padEnd(5)}: ${lines} bridge log lines for ${2 * count} messages = ${perMessage[level].toFixed(1)} per message, ~${Math.round(perMessage[level] * DAY)} a day at ${DAY} messages`,
    );
  }
  sc.finish();
} finally {
  await env.stop();
}
