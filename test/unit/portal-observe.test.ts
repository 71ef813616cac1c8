// How a portal step that waits in vain explains itself: whether Slack's event reached the bridge
// (and on which socket), and what the observer saw in the room instead.
import { describe, expect, it } from "vitest";
import type { EnvelopeRecord } from "../../fakes/slack/api.ts";
import type { MatrixUser, SeenEvent } from "../../src/environment/api.ts";
import { slackChange } from "../../src/portals/observe.ts";
import type { StepContext } from "../../src/scenario/steps.ts";

function context(envelopes: EnvelopeRecord[], seen: SeenEvent[]): { ctx: StepContext; observer: MatrixUser } {
  const observer = {
    userId: "@alice:localhost",
    mark: () => 0,
    events: () => seen,
    membershipChanges: () => [],
  } as unknown as MatrixUser;
  const ctx = {
    timeoutMs: 50,
    details: {},
    state: { control: { envelopes: () => envelopes } },
    sample: () => undefined,
  } as unknown as StepContext;
  return { ctx, observer };
}

const envelope = (over: Partial<EnvelopeRecord>): EnvelopeRecord => ({
  envelopeId: "e1",
  eventId: "Ev1",
  eventType: "user_change",
  event: { type: "user_change" },
  retryAttempt: 0,
  sentAt: 1000,
  connectionId: "applink-3",
  ...over,
});

describe("slackChange after a timeout", () => {
  it("names the envelopes, their socket and ack, and the room's last events", async () => {
    const envelopes: EnvelopeRecord[] = [];
    const seen: SeenEvent[] = [];
    const { ctx, observer } = context(envelopes, seen);
    const wait = slackChange(ctx, {
      observer,
      roomId: "!room:localhost",
      expect: "bridged",
      kind: "profile",
      act: async () => {
        envelopes.push(
          envelope({ ackedAt: 1012.4 }),
          envelope({ envelopeId: "e2", connectionId: "applink-5" }),
        );
        seen.push({
          eventId: "$1",
          roomId: "!room:localhost",
          sender: "@ghost:localhost",
          type: "m.room.member",
          content: { membership: "join", displayname: "Dana (on call)" },
          seenAt: 1100,
        });
      },
      carries: (e) => e.eventType === "user_change",
      outcome: () => undefined,
      what: () => "a new avatar",
    });
    const error = await wait.then(
      () => "",
      (e: Error) => e.message,
    );
    expect(error).toMatch(/^Timed out after 50 ms: @alice:localhost to see a new avatar\n/);
    expect(error).toContain(
      "user_change on applink-3, acknowledged after 12 ms; user_change on applink-5, never acknowledged",
    );
    expect(error).toContain(
      'm.room.member from @ghost:localhost {"membership":"join","displayname":"Dana (on call)"}',
    );
  });

  it("says when no Slack event carried the change and nothing was seen", async () => {
    const { ctx, observer } = context([], []);
    const error = await slackChange(ctx, {
      observer,
      expect: "bridged",
      kind: "profile",
      act: async () => undefined,
      carries: () => true,
      outcome: () => undefined,
      what: () => "anything",
    }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(error).toContain("Slack events: no Slack event carried the change");
    expect(error).toContain("seen in the room meanwhile (last 5): nothing");
  });
});
