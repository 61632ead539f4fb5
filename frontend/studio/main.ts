/** The studio page's entry: its styles, then the app on #studio. Pico comes with pages/main.ts, which the template loads first. */
import "./studio.css";

import { createStudio, type StudioFacade } from "./studio";

declare global {
  interface Window {
    /** The facade, for the browser tests and the benchmark. */
    studio?: StudioFacade;
  }
}

const root = document.getElementById("studio");
if (root) {
  const studio = createStudio(root);
  window.studio = studio;
  // When the first frame with every annotation in view drawn crisp is on screen (ms since
  // navigation), for the benchmark: the frame after the one that completed the shape layer.
  studio.ready
    .then(() => studio.drawn())
    .then(
      () => requestAnimationFrame(() => (root.dataset.interactiveMs = performance.now().toFixed(1))),
      () => undefined,
    );
  studio.ready.catch((error: unknown) => {
    const loading = document.getElementById("loading");
    if (loading) {
      loading.hidden = false;
      loading.textContent = `The studio could not open this item: ${error instanceof Error ? error.message : String(error)}`;
    }
  });
}
