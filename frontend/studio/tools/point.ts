/** Point: one click. */
import { clampPoint } from "../geometry";
import { Mode } from "../model";
import type { Tool, ToolHost, ToolPointer } from "./tool";

export class PointTool implements Tool {
  readonly mode = Mode.Point;
  readonly busy = false;

  constructor(private readonly host: ToolHost) {}

  activate(): void {
    this.host.setCursor("crosshair");
  }

  cancel(): void {}

  pointerDown(): void {}

  pointerMove(): void {}

  pointerUp(p: ToolPointer): void {
    if (p.button !== 0) return;
    const { x, y } = p.image;
    if (x < 0 || y < 0 || x > this.host.imageWidth || y > this.host.imageHeight) return;
    this.host.create({ kind: "point", p: clampPoint(p.image, this.host.imageWidth, this.host.imageHeight) });
  }

  keyDown(): boolean {
    return false;
  }

  drawOverlay(): void {}
}
