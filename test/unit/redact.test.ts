import { afterEach, describe, expect, it } from "vitest";
import { clearSecrets, redact, registerSecret } from "../../src/util/redact.ts";

describe("redact", () => {
  afterEach(() => clearSecrets());

  it("replaces registered secrets wherever they appear", () => {
    registerSecret("s3cr3t-shared-value");
    expect(redact("secret=s3cr3t-shared-value; again s3cr3t-shared-value")).toBe(
      "secret=[REDACTED]; again [REDACTED]",
    );
  });

  it("redacts Slack-shaped tokens even when nobody registered them", () => {
    const out = redact("token=xoxb-1234-5678-abcdef and xapp-1-A0FAKE-99-ffee");
    expect(out).not.toContain("1234-5678-abcdef");
    expect(out).not.toContain("A0FAKE-99-ffee");
    expect(out).toContain("xoxb-[REDACTED]");
  });

  it("redacts Synapse and matrix-authentication-service token shapes unregistered", () => {
    const out = redact(
      "syt_YWxpY2U_abcDEF_1x2y3z mct_8xQ2vT9pLm3nR7sK1wY4_3Bf5Gh mat_Zq1Wx2Ec3Rv4Tb5Yn6 mar_Ab12Cd34Ef56",
    );
    for (const part of ["YWxpY2U_abcDEF", "8xQ2vT9pLm3nR7sK1wY4", "Zq1Wx2Ec3Rv4Tb5Yn6", "Ab12Cd34Ef56"])
      expect(out).not.toContain(part);
    expect(out).toContain("mct_8[REDACTED]");
  });

  it("ignores values too short to be secrets", () => {
    registerSecret("abc");
    expect(redact("abc")).toBe("abc");
  });
});
