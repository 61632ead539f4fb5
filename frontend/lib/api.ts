/**
 * The browser's API client: same-origin fetch with the session cookie, the CSRF token on
 * writes, and the websocket's id so that our own changes are not echoed back to us.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const API_BASE = "/api/v1";
let socketId: string | null = null;

/** Tell the client which websocket this page holds (from the hello message). */
export function setSocketId(id: string | null): void {
  socketId = id;
}

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const result: Record<string, string> = { Accept: "application/json", ...extra };
  const csrf = readCookie("csrftoken");
  if (csrf) result["X-CSRFToken"] = csrf;
  if (socketId) result["X-Socket-Id"] = socketId;
  return result;
}

export async function toApiError(response: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; details?: unknown } = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiError(response.status, body.code ?? "error", body.message ?? response.statusText, body.details);
}

export async function api<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const method = init.method ?? (init.json === undefined ? "GET" : "POST");
  const response = await fetch(`${API_BASE}${path}`, {
    method,
    credentials: "same-origin",
    headers: headers(init.json === undefined ? {} : { "Content-Type": "application/json" }),
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  if (!response.ok) throw await toApiError(response);
  return (await response.json()) as T;
}

/** Multipart upload with progress events (fetch cannot report upload progress).
 * Resolves with the body and the server's `x-item-op` (created, overwrite or skip). */
export function uploadForm<T>(
  path: string,
  form: FormData,
  onProgress: (loaded: number, total: number) => void,
): Promise<{ body: T; op: string | null }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `${API_BASE}${path}`);
    for (const [key, value] of Object.entries(headers())) request.setRequestHeader(key, value);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      let body: { code?: string; message?: string; details?: unknown } = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        /* keep empty */
      }
      if (request.status >= 200 && request.status < 300) resolve({ body: body as T, op: request.getResponseHeader("x-item-op") });
      else reject(new ApiError(request.status, body.code ?? "error", body.message ?? request.statusText, body.details));
    });
    request.addEventListener("error", () => reject(new ApiError(0, "network", "The upload failed: network error.")));
    request.send(form);
  });
}
