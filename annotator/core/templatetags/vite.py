"""{% vite_entry "frontend/pages/main.ts" %}: the tags for a Vite entry, from its manifest."""

import json
from functools import lru_cache

from django import template
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _load_manifest() -> dict:
    try:
        return json.loads(settings.VITE_MANIFEST.read_text())
    except FileNotFoundError as exc:
        raise ImproperlyConfigured(
            f"{settings.VITE_MANIFEST} is missing: build the front end with `npm ci && npm run build` (make run does)."
        ) from exc


_cached_manifest = lru_cache(maxsize=1)(_load_manifest)


def manifest() -> dict:
    return _load_manifest() if settings.DEBUG else _cached_manifest()


@register.simple_tag
def vite_entry(entry: str) -> SafeString:
    chunks = manifest()
    if entry not in chunks:
        raise ImproperlyConfigured(f"{entry} is not a Vite entry; add it to vite.config.ts.")
    chunk = chunks[entry]
    styles = list(chunk.get("css", []))
    for imported in chunk.get("imports", []):
        styles.extend(chunks[imported].get("css", []))
    links = format_html_join("", '<link rel="stylesheet" href="{}">', ((static(f"dist/{css}"),) for css in styles))
    script = format_html('<script type="module" src="{}"></script>', static(f"dist/{chunk['file']}"))
    return mark_safe(links + script)
