/**
 * A refresh that never overlaps itself: calls that arrive while a load runs collapse into one
 * more load after it, so a burst of live events costs at most two fetches.
 */
export function coalesced(load: () => Promise<void>): () => void {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = load().finally(() => {
      running = null;
      if (again) {
        again = false;
        run();
      }
    });
  };
  return run;
}
