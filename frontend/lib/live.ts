/** The page's one websocket, shared by every script on the page. */
import { EventSocket, socketUrl } from "./events";

let shared: EventSocket | null = null;

export function pageSocket(): EventSocket {
  if (!shared) {
    shared = new EventSocket(socketUrl(window.location));
    shared.connect();
  }
  return shared;
}
