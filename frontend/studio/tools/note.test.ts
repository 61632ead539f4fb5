import { describe, expect, it } from "vitest";
import type { Pt } from "../model";
import { NoteTool, type NoteBox } from "./note";
import type { ToolHost, ToolPointer } from "./tool";

function setup(scale = 2) {
  const dropped: NoteBox[] = [];
  const host = { imageWidth: 100, imageHeight: 80, viewport: { scale }, setCursor() {}, redraw() {} } as unknown as ToolHost;
  const tool = new NoteTool(host, (box) => dropped.push(box));
  const at = (image: Pt): ToolPointer => ({ image, screen: image, shift: false, alt: false, button: 0 });
  return { tool, dropped, at };
}

describe("note tool", () => {
  it("drops the dragged box, clamped to the image, and holds it until cleared", () => {
    const { tool, dropped, at } = setup();
    tool.pointerDown(at({ x: 10, y: 20 }));
    tool.pointerMove(at({ x: 50, y: 40 }));
    tool.pointerUp(at({ x: 120, y: 40 }));
    expect(dropped).toEqual([{ kind: "box", x1: 10, y1: 20, x2: 100, y2: 40, angle: 0 }]);
    expect(tool.busy).toBe(true);
    tool.clear();
    expect(tool.busy).toBe(false);
    expect(tool.pending).toBeNull();
  });

  it("turns a click into a pin of a fixed size on screen, inside the image", () => {
    const { tool, dropped, at } = setup(2);
    tool.pointerDown(at({ x: 50, y: 3 }));
    tool.pointerUp(at({ x: 50.5, y: 3 }));
    expect(dropped[0]).toEqual({ x1: 43, y1: 0, x2: 57, y2: 10 }); // 28 screen px at scale 2 = 14 image px
  });

  it("ignores other buttons", () => {
    const { tool, dropped, at } = setup();
    tool.pointerDown({ ...at({ x: 1, y: 1 }), button: 2 });
    tool.pointerUp(at({ x: 30, y: 30 }));
    expect(dropped).toEqual([]);
  });
});
