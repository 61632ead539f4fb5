/** Building the DQL queries the browser sends, and reading what users type. */

export type Filter = Record<string, unknown>;

export function parseDql(text: string): { ok: true; filter: Filter | null } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { ok: true, filter: null };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { ok: false, error: 'The filter must be JSON, e.g. {"metadata.user.split": "train"}.' };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "The filter must be a JSON object." };
  }
  return { ok: true, filter: value as Filter };
}

/** Files under `folder` (any depth) matching `filter`, after `afterId`, in id order. */
export function buildItemQuery(options: { folder: string; filter: Filter | null; afterId: string | null; pageSize: number }) {
  const and: Filter[] = [{ hidden: false }, { type: "file" }];
  if (options.folder !== "/") and.push({ filename: `${options.folder}/**` });
  if (options.filter) and.push(options.filter);
  if (options.afterId) and.push({ id: { $gt: options.afterId } });
  return { resource: "items", filter: { $and: and }, sort: { id: "ascending" }, page: 0, pageSize: options.pageSize };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
