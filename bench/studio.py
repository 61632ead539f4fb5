"""The studio in headless Chromium against a real server (`manage.py serve`).

(a) interactive time: navigation to the first frame with every annotation drawn, for an item
    with 1,000 eight-point polygons on a 4000x3000 JPEG, image cached (the second visit);
(b) pan and zoom with 10,000 polygons in view: a scripted gesture (pan every frame, zoom every
    fourth) for PAN_SECONDS; p95 of the intervals between requestAnimationFrame timestamps
    (Chromium runs without its frame-rate limit, so an interval is a frame's real cost) and of
    the studio's own drawing time per frame; then the crisp redraw once the gesture rests;
(c) hit-testing a click among those 10,000 polygons, through the facade;
(d) a brush stroke on the 4000x3000 image: drawing time per frame while painting.

Writes bench/results/studio.json. Run: `.venv/bin/python -m bench.studio`.
"""

import io
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.server import running_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = 8769
PASSWORD = "bench-studio-password"
PAN_SECONDS = float(os.environ.get("BENCH_STUDIO_PAN_SECONDS", "4"))
TARGETS = {"interactive_ms": 500.0, "pan_frame_p95_ms": 16.0, "brush_frame_p95_ms": 16.0, "hit_test_ms": 1.0}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-frame-rate-limit", "--disable-gpu-vsync"]


def _polygons(count: int, width: int, height: int, seed: int) -> list[dict]:
    """`count` small eight-point polygons spread over the image (CVAT's hard case: many shapes)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        cx, cy, r = rng.uniform(30, width - 30), rng.uniform(30, height - 30), rng.uniform(6, 25)
        ring = []
        for k in range(8):
            angle = k * math.pi / 4
            radius = r * rng.uniform(0.7, 1.0)
            ring.append({"x": round(cx + radius * math.cos(angle), 2), "y": round(cy + radius * math.sin(angle), 2)})
        out.append({"type": "segment", "label": "car", "coordinates": [ring]})
    return out


def _big_jpeg(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (90, 110, 130))
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 200):
        draw.rectangle((n, 0, n + 100, height), fill=(110 + n % 60, 120, 140))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def prepare() -> dict:
    from annotator.accounts.models import User
    from annotator.accounts.services import project_create, user_create
    from annotator.annotations.services import annotations_create
    from annotator.datasets.services import dataset_create, item_upload

    user = user_create(email="studio-bench@example.com", password=PASSWORD, first_name="S", last_name="B")
    user = User.objects.get(pk=user.pk)
    project = project_create(user=user, name="Studio bench")
    dataset = dataset_create(user=user, project_id=project.id, name="Big", labels=[{"tag": "car", "color": "#e03131"}])
    image = _big_jpeg(4000, 3000)
    items = {}
    for name, count in (("thousand", 1000), ("ten-thousand", 10_000)):
        item, _op = item_upload(user=user, dataset_id=dataset.id, path=f"/{name}.jpg", fileobj=io.BytesIO(image))
        annotations_create(user=user, item_id=item.id, annotations=_polygons(count, 4000, 3000, seed=count))
        items[name] = item.id
    return {"email": user.email, "items": items}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def measure(base_url: str, facts: dict) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=base_url).new_page()
        page.goto("/login/")
        page.get_by_label("Email").fill(facts["email"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")

        # (a) the second visit, with the image in the browser's cache
        samples = []
        for visit in range(4):
            page.goto(f"/studio/{facts['items']['thousand']}")
            page.wait_for_selector("#studio[data-interactive-ms]", timeout=60_000)
            if visit:
                samples.append(float(page.get_attribute("#studio", "data-interactive-ms")))
        results["interactive_1000_polygons_4000x3000_ms"] = {"median": statistics.median(samples), "samples": samples}

        # (b) pan and zoom with 10,000 polygons
        page.goto(f"/studio/{facts['items']['ten-thousand']}")
        page.wait_for_selector("#studio[data-interactive-ms]", timeout=60_000)
        page.wait_for_selector("#studio[data-image=full]", timeout=60_000)
        gesture = page.evaluate(
            """(seconds) => new Promise((resolve) => {
                const studio = window.studio;
                studio.fit();
                const stamps = [], draws = [];
                studio.onFrame((time, drawMs) => { stamps.push(time); draws.push(drawMs); });
                const end = performance.now() + seconds * 1000;
                let n = 0;
                const step = () => {
                    if (performance.now() > end) {
                        studio.onFrame(null);
                        const intervals = stamps.slice(1).map((t, i) => t - stamps[i]);
                        resolve({ intervals, draws });
                        return;
                    }
                    n++;
                    studio.panBy(Math.sin(n / 20) * 6, Math.cos(n / 25) * 4);
                    if (n % 4 === 0) studio.zoomAt({ x: 800, y: 500 }, n % 80 < 40 ? 1.01 : 0.99);
                    requestAnimationFrame(step);
                };
                requestAnimationFrame(step);
            })""",
            PAN_SECONDS,
        )
        page.wait_for_timeout(400)  # the gesture rests: one crisp redraw of every shape in view
        crisp = page.evaluate("window.studio.state().lastShapeDrawMs")
        results["pan_zoom_10000_polygons"] = {
            "frames": len(gesture["draws"]),
            "frame_interval_p95_ms": p95(gesture["intervals"]),
            "frame_interval_median_ms": statistics.median(gesture["intervals"]),
            "draw_p95_ms": p95(gesture["draws"]),
            "crisp_redraw_after_rest_ms": crisp,
        }

        # (c) hit-testing among 10,000 polygons
        results["hit_test_10000_polygons_ms"] = page.evaluate(
            """() => {
                const started = performance.now();
                let hits = 0;
                for (let i = 0; i < 2000; i++) if (window.studio.hitTest((i * 37) % 4000, (i * 53) % 3000)) hits++;
                return { mean: (performance.now() - started) / 2000, hits };
            }"""
        )

        # (d) a brush stroke on the 4000x3000 image
        page.keyboard.press("m")
        canvas = page.get_by_role("application", name="Image canvas: draw with the chosen tool; press ? for shortcuts")
        box = canvas.bounding_box()
        page.evaluate("() => { window.__draws = []; window.studio.onFrame((t, d) => window.__draws.push(d)); }")
        page.mouse.move(box["x"] + 300, box["y"] + 300)
        page.mouse.down()
        for k in range(60):
            page.mouse.move(box["x"] + 300 + k * 10, box["y"] + 300 + (k % 10) * 5)
        page.mouse.up()
        draws = page.evaluate("() => { window.studio.onFrame(null); return window.__draws; }")
        results["brush_stroke_4000x3000"] = {"frames": len(draws), "draw_p95_ms": p95(draws) if draws else None}
        browser.close()
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env |= {"VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "annotator.settings", "LOG_LEVEL": "WARNING"}
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        started = time.monotonic()
        facts = prepare()
        connection.close()
        print(f"studio bench: data ready in {time.monotonic() - started:.1f} s")
        with running_server(PORT, env):
            load_before = os.getloadavg()
            results = measure(f"http://127.0.0.1:{PORT}", facts)
            load_after = os.getloadavg()
    report = {
        "benchmark": "studio",
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after},
        "targets": TARGETS,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "studio.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
