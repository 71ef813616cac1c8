// Fake Slack Socket Mode over a real socket, each round in a fresh fake: events/s delivered and
// acked over one WebSocket (a `ws` client acking each envelope), events produced by
// control.postMessage (core + hub). The Web API's benchmark is bench/fake-slack-web-api.ts.
// Run: node bench/fake-slack-socket.ts   (Node >= 22; prints the median of 5 rounds)
import { WebSocket } from "ws";
import { startFakeSlack } from "../fakes/slack/index.ts";
import { median } from "./stats.ts";

const EVENTS = 20_000;
const ROUNDS = 5;

function target(fake: Awaited<ReturnType<typeof startFakeSlack>>) {
  const app = fake.workspace.apps[0]!;
  const user = fake.workspace.users.find((u) => !u.isBot)!.id;
  const channel = fake.workspace.channels.find(
    (c) => c.members.includes(app.botUserId) && c.members.includes(user),
  )!;
  return { app, user, channel: channel.id };
}

async function socketRound(): Promise<number> {
  const fake = await startFakeSlack({});
  try {
    const { app, user, channel } = target(fake);
    const res = await fetch(`${fake.webApiUrl}apps.connections.open`, {
      method: "POST",
      headers: { authorization: `Bearer ${app.appToken}` },
    });
    const { url } = (await res.json()) as { url: string };
    const ws = new WebSocket(url);
    let acked = 0;
    let allAcked: () => void = () => {};
    const done = new Promise<void>((r) => {
      allAcked = r;
    });
    ws.on("message", (d) => {
      const f = JSON.parse(String(d)) as { envelope_id?: string };
      if (!f.envelope_id) return;
      ws.send(JSON.stringify({ envelope_id: f.envelope_id }));
      if (++acked === EVENTS) allAcked();
    });
    await new Promise<void>((r) => ws.once("message", () => r()));
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      await fake.control.postMessage({ user, channel, text: `event ${i}` });
      // Let the socket drain now and then, as a steady producer would.
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await done;
    // Until the fake has recorded every ack.
    for (;;) {
      const envs = fake.control.envelopes();
      if (envs.length >= EVENTS && envs.every((e) => e.ackedAt !== undefined)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - t0) / 1000;
    ws.terminate();
    return EVENTS / seconds;
  } finally {
    await fake.stop();
  }
}

const socket: number[] = [];
for (let r = 0; r < ROUNDS; r++) socket.push(await socketRound());
console.log(
  `Socket Mode, ${EVENTS} events over one socket, delivered and acked: ` +
    `median ${Math.round(median(socket))} events/s (rounds: ${socket.map(Math.round).join(", ")})`,
);
