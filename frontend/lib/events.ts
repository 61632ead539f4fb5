/**
 * The browser's side of /ws/: one socket, subscriptions to groups, events out.
 * Reconnects with capped exponential backoff and re-subscribes after a drop.
 */

import { setSocketId } from "./api";

export type ServerMessage =
  | { type: "hello"; socketId: string; userId: string }
  | { type: "subscribed" | "unsubscribed"; group: string }
  | { type: "event"; event: string; group: string; data: Record<string, unknown> }
  | { type: "error"; code: string; message: string; group: string | null };

export type EventHandler = (message: Extract<ServerMessage, { type: "event" }>) => void;

const KNOWN_TYPES = new Set(["hello", "subscribed", "unsubscribed", "event", "error"]);

/** Parses one frame; anything that is not a known message becomes null. */
export function parseServerMessage(raw: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const type = (value as { type?: unknown }).type;
  return typeof type === "string" && KNOWN_TYPES.has(type) ? (value as ServerMessage) : null;
}

/** Delay before reconnect attempt `attempt` (0-based): doubling from `baseMs`, capped, with jitter. */
export function backoffDelay(attempt: number, baseMs = 500, maxMs = 15_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function socketUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/`;
}

export class EventSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private closed = false;
  private readonly groups = new Set<string>();
  private readonly handlers = new Set<EventHandler>();
  private readonly reconnectHandlers = new Set<() => void>();
  private opened = false;
  /** The id the server gave this socket; sent as X-Socket-Id so our own changes are not echoed. */
  socketId: string | null = null;

  constructor(private readonly url: string) {}

  connect(): void {
    this.closed = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      for (const group of this.groups) this.send({ action: "subscribe", group });
      // Events sent while the socket was down are lost: let pages refetch what they show.
      if (this.opened) for (const handler of this.reconnectHandlers) handler();
      this.opened = true;
    });
    socket.addEventListener("message", (frame) => this.dispatch(String(frame.data)));
    socket.addEventListener("close", (event) => {
      this.socket = null;
      this.socketId = null;
      setSocketId(null);
      if (this.closed || event.code === 4401) return; // 4401: not logged in; retrying cannot help
      window.setTimeout(() => this.connect(), backoffDelay(this.attempt++));
    });
  }

  subscribe(group: string): void {
    this.groups.add(group);
    if (this.socket?.readyState === WebSocket.OPEN) this.send({ action: "subscribe", group });
  }

  unsubscribe(group: string): void {
    if (!this.groups.delete(group)) return;
    if (this.socket?.readyState === WebSocket.OPEN) this.send({ action: "unsubscribe", group });
  }

  /** Called after every reconnection (not the first connection). */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  onEvent(handler: EventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private send(message: object): void {
    this.socket?.send(JSON.stringify(message));
  }

  private dispatch(raw: string): void {
    const message = parseServerMessage(raw);
    if (message?.type === "hello") {
      this.socketId = message.socketId;
      setSocketId(message.socketId);
    }
    if (message?.type === "event") for (const handler of this.handlers) handler(message);
  }
}
