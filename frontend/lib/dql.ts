/** Building the DQL queries the browser sends, and reading what users type. */

export type Filter = Record<string, unknown>;

/** Items with at least one annotation matching a filter: DQL's join, as dtlpy sends it. */
export interface AnnotationJoin {
  on: { resource: "annotations"; local: "itemId"; forigen: "id" };
  filter: Filter;
}

/** What the user typed as a DQL filter; `what` names the box in the messages, `example` is a filter it takes. */
export function parseDql(text: string, what = "The filter", example = '{"metadata.user.split": "train"}'): { ok: true; filter: Filter | null } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { ok: true, filter: null };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { ok: false, error: `${what} must be JSON, e.g. ${example}.` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: `${what} must be a JSON object.` };
  }
  return { ok: true, filter: value as Filter };
}

export function annotationJoin(annotations: Filter | null): AnnotationJoin | null {
  return annotations ? { on: { resource: "annotations", local: "itemId", forigen: "id" }, filter: annotations } : null;
}

/** Files under `folder` (any depth) matching `filter`, and with an annotation matching
 * `annotations` when given, after `afterId`, in id order. */
export function buildItemQuery(options: { folder: string; filter: Filter | null; annotations?: Filter | null; afterId: string | null; pageSize: number }) {
  const and: Filter[] = [{ hidden: false }, { type: "file" }];
  if (options.folder !== "/") and.push({ filename: `${options.folder}/**` });
  if (options.filter) and.push(options.filter);
  if (options.afterId) and.push({ id: { $gt: options.afterId } });
  const join = annotationJoin(options.annotations ?? null);
  return { resource: "items", filter: { $and: and }, ...(join ? { join } : {}), sort: { id: "ascending" }, page: 0, pageSize: options.pageSize };
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
