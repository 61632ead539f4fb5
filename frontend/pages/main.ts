/** The small script every server-rendered page loads: confirmations, copy buttons, live notices. */
import "@picocss/pico/css/pico.min.css";
import "./app.css";

import { pageSocket } from "../lib/live";

function wireConfirmations(root: ParentNode): void {
  root.querySelectorAll<HTMLFormElement>("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm ?? "Are you sure?")) event.preventDefault();
    });
  });
}

function wireCopyButtons(root: ParentNode): void {
  root.querySelectorAll<HTMLButtonElement>("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.querySelector<HTMLInputElement>(button.dataset.copy ?? "");
      if (!source) return;
      source.select();
      try {
        await navigator.clipboard.writeText(source.value);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Press Ctrl+C";
      }
    });
  });
}

/** Pages that show a project watch its group and offer a refresh when someone else changes it. */
function watchLiveGroup(): void {
  const group = document.body.dataset.watchGroup;
  const notice = document.getElementById("live-notice");
  if (!group || !notice) return;
  const socket = pageSocket();
  // Events the page's own script keeps up to date need no notice.
  const handled = new Set(["command.updated", ...(document.body.dataset.liveHandled ?? "").split(" ").filter(Boolean)]);
  socket.onEvent((message) => {
    if (!handled.has(message.event)) notice.hidden = false; // progress is shown where it belongs
  });
  socket.subscribe(group);
  document.getElementById("live-refresh")?.addEventListener("click", () => window.location.reload());
}

wireConfirmations(document);
wireCopyButtons(document);
watchLiveGroup();
