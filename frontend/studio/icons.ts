/** Small line icons (24x24, stroke = currentColor), so that no icon font or emoji is needed. */
const svg = (body: string) =>
  `<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;

export const ICONS = {
  select: svg('<path d="M5 3l13 7-6 1.5L9 18z"/>'),
  box: svg('<rect x="4" y="6" width="16" height="12" rx="1"/>'),
  segment: svg('<path d="M12 3l8 6-3 10H7L4 9z"/><circle cx="12" cy="3" r="1.2" fill="currentColor"/>'),
  polyline: svg('<path d="M3 18l5-9 5 6 4-9 4 4"/>'),
  point: svg('<circle cx="12" cy="12" r="3.5" fill="currentColor"/><circle cx="12" cy="12" r="7.5"/>'),
  ellipse: svg('<ellipse cx="12" cy="12" rx="9" ry="6"/>'),
  brush: svg('<path d="M14 4l6 6-8 8-6-6z"/><path d="M6 12c-2 0-3 2-3 4s-1 3-1 3 3 1 5-1 2-3 2-4"/>'),
  eraser: svg('<path d="M8 20h12M4 15l9-9 6 6-7 7H8z"/><path d="M9 10l6 6"/>'),
  note: svg('<path d="M12 21s-6-6.2-6-11a6 6 0 0112 0c0 4.8-6 11-6 11z"/><circle cx="12" cy="10" r="2"/>'),
  undo: svg('<path d="M9 14L4 9l5-5"/><path d="M4 9h10a6 6 0 010 12h-3"/>'),
  redo: svg('<path d="M15 14l5-5-5-5"/><path d="M20 9H10a6 6 0 000 12h3"/>'),
  zoomIn: svg('<circle cx="11" cy="11" r="7"/><path d="M21 21l-5-5M11 8v6M8 11h6"/>'),
  zoomOut: svg('<circle cx="11" cy="11" r="7"/><path d="M21 21l-5-5M8 11h6"/>'),
  fit: svg('<path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5"/>'),
  actual: svg('<path d="M6 8l2-1v10M15 8l2-1v10"/><circle cx="12" cy="10" r=".6" fill="currentColor"/><circle cx="12" cy="14" r=".6" fill="currentColor"/>'),
  eye: svg('<path d="M2 12s3.5-6 10-6 10 6 10 6-3.5 6-10 6S2 12 2 12z"/><circle cx="12" cy="12" r="2.5"/>'),
  eyeOff: svg('<path d="M3 3l18 18M10.6 6.1A10 10 0 0112 6c6.5 0 10 6 10 6a17 17 0 01-3.2 3.8M6.6 6.6C3.8 8.3 2 12 2 12s3.5 6 10 6a9.7 9.7 0 004.4-1"/>'),
  lock: svg('<rect x="5" y="11" width="14" height="9" rx="1.5"/><path d="M8 11V8a4 4 0 018 0v3"/>'),
  unlock: svg('<rect x="5" y="11" width="14" height="9" rx="1.5"/><path d="M8 11V8a4 4 0 017.5-2"/>'),
  forward: svg('<path d="M12 19V5M6 11l6-6 6 6"/>'),
  backward: svg('<path d="M12 5v14M6 13l6 6 6-6"/>'),
  mask: svg('<path d="M12 3l8 6-3 10H7L4 9z" fill="currentColor" fill-opacity=".35"/>'),
  trash: svg('<path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>'),
};

export function icon(name: keyof typeof ICONS): HTMLElement {
  const span = document.createElement("span");
  span.className = "icon";
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = ICONS[name];
  return span;
}
