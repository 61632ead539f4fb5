/**
 * The item's image at a few levels of detail: the server's thumbnail at once, then a preview of
 * at most PREVIEW_MAX pixels, then the full image. The preview and the full image are decoded off
 * the main thread (createImageBitmap), so opening a big image is never one giant decode on it, and
 * the renderer draws the full image only once the view is zoomed in past the preview.
 */
import { pickLevel, previewSize } from "./lod";

export interface ImageLevel {
  source: CanvasImageSource;
  width: number;
  height: number;
}

export class ImageLevels {
  /** Ascending by width. */
  private readonly levels: ImageLevel[] = [];
  private widths: number[] = [];

  add(level: ImageLevel): void {
    this.levels.push(level);
    this.levels.sort((a, b) => a.width - b.width);
    this.widths = this.levels.map((l) => l.width);
  }

  get empty(): boolean {
    return !this.levels.length;
  }

  /** The level to draw when the whole image is `screenWidth` device pixels wide. */
  pick(screenWidth: number): ImageLevel | null {
    const i = pickLevel(this.widths, screenWidth);
    return i < 0 ? null : this.levels[i];
  }

  /** Frees the decoded bitmaps (another item opened). */
  close(): void {
    for (const level of this.levels) if (typeof ImageBitmap !== "undefined" && level.source instanceof ImageBitmap) level.source.close();
    this.levels.length = 0;
    this.widths = [];
  }
}

export interface LevelSink {
  /** False once another item opened: late levels are dropped. */
  current(): boolean;
  /** A level arrived; `full` when it is the image at its own size. */
  added(full: boolean): void;
  failed(): void;
}

function loadElement(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`could not load ${url}`));
    image.src = url;
  });
}

/** Fills `levels` with the image of the item at `base` (`/api/v1/items/{id}`), smallest first. */
export function loadImageLevels(base: string, width: number, height: number, levels: ImageLevels, sink: LevelSink): void {
  let full = false;
  const add = (level: ImageLevel, isFull: boolean) => {
    if (!sink.current()) {
      if (typeof ImageBitmap !== "undefined" && level.source instanceof ImageBitmap) level.source.close();
      return;
    }
    levels.add(level);
    full ||= isFull;
    sink.added(full);
  };
  loadElement(`${base}/thumbnail`)
    .then((thumb) => {
      if (!full && thumb.naturalWidth) add({ source: thumb, width: thumb.naturalWidth, height: thumb.naturalHeight }, false);
    })
    .catch(() => undefined);
  const fromElement = async () => {
    const image = await loadElement(`${base}/stream`);
    await image.decode().catch(() => undefined);
    add({ source: image, width: image.naturalWidth || width, height: image.naturalHeight || height }, true);
  };
  const decode = async () => {
    if (typeof createImageBitmap !== "function") return fromElement();
    let blob: Blob;
    try {
      const response = await fetch(`${base}/stream`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`could not load ${base}/stream`);
      blob = await response.blob();
    } catch {
      return fromElement(); // e.g. a linked item redirected to another origin, which an element may still show
    }
    if (!sink.current()) return;
    const preview = previewSize(width, height);
    let bitmap: ImageBitmap;
    try {
      if (preview) {
        const small = await createImageBitmap(blob, { resizeWidth: preview.width, resizeHeight: preview.height, resizeQuality: "medium" });
        add({ source: small, width: small.width, height: small.height }, false);
        if (!sink.current()) return;
      }
      bitmap = await createImageBitmap(blob);
    } catch {
      return fromElement(); // a format the bitmap decoder does not take (SVG): the element does
    }
    add({ source: bitmap, width: bitmap.width, height: bitmap.height }, true);
  };
  decode().catch(() => {
    if (sink.current()) sink.failed();
  });
}
