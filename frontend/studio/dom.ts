/** Small DOM helpers the studio's panels and task mode share (attributes as attributes, not properties). */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

export const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The studio's alert box (#task-alert) showing `text`, with a button that dismisses it. */
export function showAlert(box: HTMLElement, text: string, ...extra: Node[]): void {
  const dismiss = el("button", { type: "button", class: "studio-button small" }, "Dismiss");
  dismiss.addEventListener("click", () => hideAlert(box));
  box.replaceChildren(el("p", {}, text), ...extra, el("div", { class: "task-alert-actions" }, dismiss));
  box.hidden = false;
}

export function hideAlert(box: HTMLElement): void {
  box.hidden = true;
  box.replaceChildren();
}
