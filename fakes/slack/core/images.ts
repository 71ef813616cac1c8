// Images the fake serves on Slack's image hosts, so that what the bridge downloads is a real image:
// profile photos (avatars.slack-edge.com, and ca.slack-edge.com/<team>-<user>-<hash>-512 for a user
// known only by avatar_hash), the team icon, and custom emoji (emoji.slack-edge.com).
import { createHash } from "node:crypto";
import { generatePng } from "../../../src/util/png.ts";
import { hex } from "./ids.ts";
import type { HostedImage, User, Workspace } from "./state.ts";

export const AVATARS_ORIGIN = "https://avatars.slack-edge.com";
export const EMOJI_ORIGIN = "https://emoji.slack-edge.com";
export const CA_ORIGIN = "https://ca.slack-edge.com";

/** Hosts whose paths are images: answered from Workspace.images, 404 for anything else. */
export function isImageHost(host: string): boolean {
  return host === "slack-edge.com" || host.endsWith(".slack-edge.com");
}

/** A PNG that differs per name, so a test can tell whose image arrived. */
export function imageFor(name: string): HostedImage {
  const digest = createHash("sha256").update(name).digest();
  return {
    data: generatePng(32 + ((digest[0] as number) % 32), 32, digest[1] as number),
    mimetype: "image/png",
  };
}

function extOf(image: HostedImage): string {
  return image.mimetype === "image/jpeg" ? "jpg" : image.mimetype === "image/gif" ? "gif" : "png";
}

function datedPath(hash: string, suffix: string, image: HostedImage): string {
  return `/${new Date().toISOString().slice(0, 10)}/${Date.now()}${Math.floor(Math.random() * 1000)}_${hash}_${suffix}.${extOf(image)}`;
}

/** Serves `image` as the user's profile photo and points the user at it. */
export function setUserPhoto(ws: Workspace, user: User, image: HostedImage): void {
  const hash = hex(10);
  const path = datedPath(hash, "512", image);
  // A copy: the caller keeps its buffer.
  const stored = { data: new Uint8Array(image.data), mimetype: image.mimetype };
  ws.images.set(path, stored);
  ws.images.set(`/${ws.team.id}-${user.id}-${hash}-512`, stored);
  user.image = `${AVATARS_ORIGIN}${path}`;
  user.avatarHash = hash;
}

/** Serves `image` as the team icon in every size team.info lists. */
export function setTeamIcon(ws: Workspace, image: HostedImage): void {
  const hash = hex(10);
  const icon: Record<string, string> = {};
  for (const size of ["34", "44", "68", "88", "102", "132", "230", "original"]) {
    const path = datedPath(hash, size, image);
    ws.images.set(path, image);
    icon[`image_${size}`] = `${AVATARS_ORIGIN}${path}`;
  }
  ws.teamIcon = icon;
}

/** Serves `image` as custom emoji `name`; returns its URL (the emoji.list value). */
export function hostEmoji(ws: Workspace, name: string, image: HostedImage): string {
  const path = `/${ws.team.id}/${name}/${hex(8)}.${extOf(image)}`;
  ws.images.set(path, image);
  return `${EMOJI_ORIGIN}${path}`;
}
