/** Following a Command (clone, zip import, …) to its end: websocket events, with polling as a net. */
import { api } from "./api";
import { pageSocket } from "./live";

export interface Command {
  id: string;
  type: string;
  status: string;
  progress: number;
  error: string | null;
  spec: Record<string, unknown>;
}

export const TERMINAL = new Set(["success", "failed", "aborted", "timeout", "canceled"]);
const POLL_MS = 2000;

export function isFinished(command: Pick<Command, "status">): boolean {
  return TERMINAL.has(command.status);
}

/** Calls `onUpdate` with every newer state of `command`; resolves with its final state. */
export function followCommand(command: Command, onUpdate: (command: Command) => void): Promise<Command> {
  return new Promise((resolve) => {
    let latest = command;
    let timer = 0;
    const accept = (next: Command) => {
      if (isFinished(latest)) return;
      if (!isFinished(next) && next.progress < latest.progress) return; // an older event, late
      latest = next;
      onUpdate(next);
      if (isFinished(next)) {
        stop();
        window.clearInterval(timer);
        resolve(next);
      }
    };
    const stop = pageSocket().onEvent((message) => {
      if (message.event === "command.updated" && (message.data as { id?: string }).id === command.id) {
        accept(message.data as unknown as Command);
      }
    });
    timer = window.setInterval(() => {
      api<Command>(`/commands/${command.id}`).then(accept, () => undefined);
    }, POLL_MS);
    onUpdate(command);
    if (isFinished(command)) accept(command);
  });
}
