// expect_start: how a failed (or successful) environment start is judged against the scenario's
// acceptable outcomes.
import { describe, expect, it } from "vitest";
import type { StartExpectation } from "../../src/config/scenario.ts";
import { ServiceStartError } from "../../src/runtime/start-failure.ts";
import { judgeStart } from "../../src/scenario/start-expectation.ts";

const refuses: StartExpectation = {
  service: "homeserver",
  exitCode: 1,
  log: "invalid type: sequence, expected a map",
  because: "the config has a table the server does not know",
};
const ignores: StartExpectation = {
  service: "bridge",
  exitCode: 16,
  log: "as_token was not accepted",
  because: "nothing was registered",
};
const failure = (service: string, exitCode: number | undefined, lines: string[]) =>
  new Error("environment did not start", {
    cause: new ServiceStartError("start failed", { service, exitCode, startLines: lines, logTail: lines }),
  });

describe("expect_start", () => {
  it("passes when one of the outcomes happened, naming why and the line that proved it", () => {
    const v = judgeStart(
      {
        started: false,
        error: failure("homeserver", 1, [
          "TOML parse error at line 15",
          "invalid type: sequence, expected a map",
        ]),
      },
      [refuses, ignores],
    );
    expect(v.ok).toBe(true);
    expect(v.summary).toBe(
      "homeserver did not start (exit 1): the config has a table the server does not know",
    );
    expect(v.details).toMatchObject({
      service: "homeserver",
      exitCode: 1,
      logLine: "invalid type: sequence, expected a map",
    });
  });

  it("accepts the other outcome too (a release that ignores the table)", () => {
    const v = judgeStart(
      { started: false, error: failure("bridge", 16, ["FTL The as_token was not accepted."]) },
      [refuses, ignores],
    );
    expect(v.ok).toBe(true);
    expect(v.summary).toContain("nothing was registered");
  });

  it("fails when the environment started", () => {
    const v = judgeStart({ started: true }, [refuses]);
    expect(v.ok).toBe(false);
    expect(v.summary).toContain("the environment started, but homeserver fails to start, exit 1");
  });

  it("fails when another service, exit code or log line is what happened", () => {
    expect(judgeStart({ started: false, error: failure("bridge", 13, []) }, [refuses]).summary).toBe(
      "bridge failed with exit 13, but homeserver fails to start, exit 1, log matching /invalid type: sequence, expected a map/ was expected",
    );
    expect(judgeStart({ started: false, error: failure("homeserver", 1, ["other"]) }, [refuses]).ok).toBe(
      false,
    );
    expect(
      judgeStart({ started: false, error: failure("homeserver", 2, [refuses.log!]) }, [refuses]).ok,
    ).toBe(false);
  });

  it("fails, with the message, when the start failed without a service to blame", () => {
    const v = judgeStart({ started: false, error: new Error("Docker engine does not answer\nmore") }, [
      refuses,
    ]);
    expect(v.ok).toBe(false);
    expect(v.summary).toContain("the start failed another way than expected");
    expect(v.summary).toContain("Docker engine does not answer");
  });
});
