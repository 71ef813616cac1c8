// Log levels left at debug/trace in production: the bridge's logging.min_level, Synapse's log
// config (the file its log_config names, when it sits next to the overlay), conduwuit's `log`.
import { isPlainObject } from "../../util/deep-merge.ts";
import { type CheckGroup, fileAt } from "../context.ts";

const VERBOSE = /\b(debug|trace)\b/i;

export const loggingChecks: CheckGroup = {
  subject: "logging",
  checks: [
    {
      id: "logging.bridge-debug",
      severity: "warning",
      catches: "the bridge logs at debug or trace (`logging.min_level`, or a writer's `min_level`)",
      why: "At debug (mautrix-slack's default) the bridge logs every transaction, Slack event and request it handles: measured 5.0 lines per bridged message against 0.01 at info, about 10,000 lines a day at the deployment spec's 1,000 messages each way, before trace adds every Socket Mode frame. Logs fill disks and bury the errors that matter.",
      fix: "Set `logging.min_level: info` (use debug only while investigating, e.g. with a config.change step).",
      evidence:
        "`node bench/log-volume.ts` (the figures above); scenarios/config-change.yaml shows debug lines stop after a change to info",
    },
    {
      id: "logging.homeserver-debug",
      severity: "warning",
      catches: "the homeserver logs at debug or trace (Synapse's log config, conduwuit's `log`)",
      why: "A homeserver at debug logs every request, event and database query: a deployment left at debug was seen writing 22k lines a day for a single bridged workspace; Synapse's synapse.storage.SQL logger alone logs every query.",
      fix: 'Synapse: `level: INFO` for the root logger (and synapse.storage.SQL) in the log config. continuwuity/tuwunel: `log = "info"` in [global].',
    },
  ],
  run(ctx) {
    const f = ctx.findings;
    const level = ctx.bridge.at(["logging", "min_level"]);
    if (level && typeof level.value === "string" && VERBOSE.test(level.value))
      f.add("logging.bridge-debug", level, `logging.min_level is ${level.value}`);
    const writers = ctx.bridge.at<unknown[]>(["logging", "writers"]);
    if (writers && Array.isArray(writers.value))
      writers.value.forEach((w, i) => {
        const min = isPlainObject(w) ? w.min_level : undefined;
        if (typeof min === "string" && VERBOSE.test(min)) {
          const at = ctx.bridge.at(["logging", "writers", i, "min_level"]) ?? writers;
          f.add("logging.bridge-debug", at, `logging.writers[${i}].min_level is ${min}`);
        }
      });

    if (ctx.env.homeserver.kind === "synapse") {
      const cfg = ctx.synapseLogConfig;
      if (!cfg || !isPlainObject(cfg.data)) return;
      const root = (cfg.data as any).root?.level;
      if (typeof root === "string" && VERBOSE.test(root))
        f.add("logging.homeserver-debug", fileAt(cfg, ["root", "level"]), `root logger level is ${root}`);
      const loggers = (cfg.data as any).loggers;
      if (isPlainObject(loggers))
        for (const [name, logger] of Object.entries(loggers)) {
          const lv = isPlainObject(logger) ? logger.level : undefined;
          if (typeof lv === "string" && VERBOSE.test(lv))
            f.add(
              "logging.homeserver-debug",
              fileAt(cfg, ["loggers", name, "level"]),
              `logger ${name} level is ${lv}`,
            );
        }
    } else {
      const log = ctx.homeserver.at(["global", "log"]);
      if (log && typeof log.value === "string" && VERBOSE.test(log.value))
        f.add("logging.homeserver-debug", log, `log = "${log.value}"`);
    }
  },
};
