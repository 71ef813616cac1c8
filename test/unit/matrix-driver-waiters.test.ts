import { MatrixEvent, RoomEvent } from "matrix-js-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { MatrixDriverUser } from "../../src/matrix/driver.ts";

let user: MatrixDriverUser;
afterEach(() => user?.stop());

function deliver(u: MatrixDriverUser, id: string, body: string, roomId = "!r:localhost") {
  const ev = new MatrixEvent({
    event_id: id,
    room_id: roomId,
    type: "m.room.message",
    sender: "@slack_bob:localhost",
    content: { msgtype: "m.text", body },
    origin_server_ts: 1,
  });
  (u.client as any).emit(RoomEvent.Timeline, ev, undefined, false, false, {});
}

describe("Matrix driver waiters (no server: events injected as the sync would deliver them)", () => {
  it("stamps events and resolves only on events seen after arming", async () => {
    user = new MatrixDriverUser("http://127.0.0.1:9", {
      userId: "@alice:localhost",
      accessToken: "syt_test_token",
    });
    deliver(user, "$old", "hello");
    const waiter = user.waitForEvent((e) => e.content.body === "hello", {
      timeoutMs: 1000,
      describe: "hello",
    });
    deliver(user, "$new", "hello");
    const seen = await waiter;
    expect(seen.eventId).toBe("$new");
    expect(seen.seenAt).toBeGreaterThan(0);
  });

  it("a mark arms the waiter earlier, so a predicate can be built after the action", async () => {
    user = new MatrixDriverUser("http://127.0.0.1:9", {
      userId: "@alice:localhost",
      accessToken: "syt_test_token",
    });
    const mark = user.mark();
    deliver(user, "$a", "greeting", "!dm:localhost");
    const seen = await user.waitForEvent((e) => e.roomId === "!dm:localhost", {
      since: mark,
      timeoutMs: 100,
      describe: "x",
    });
    expect(seen.eventId).toBe("$a");
    expect(user.events(mark)).toHaveLength(1);
  });

  it("times out with the description and never leaks the access token", async () => {
    user = new MatrixDriverUser("http://127.0.0.1:9", {
      userId: "@alice:localhost",
      accessToken: "syt_secret_abcdef",
    });
    await expect(user.waitForEvent(() => false, { timeoutMs: 20, describe: "nothing" })).rejects.toThrow(
      /Timed out after 20 ms waiting for nothing as @alice:localhost/,
    );
  });

  it("ignores duplicates of the same event", async () => {
    user = new MatrixDriverUser("http://127.0.0.1:9", {
      userId: "@alice:localhost",
      accessToken: "syt_test_token",
    });
    deliver(user, "$dup", "one");
    deliver(user, "$dup", "one");
    expect(user.events()).toHaveLength(1);
  });
});
