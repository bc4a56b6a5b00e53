"""The web page served by ``tamellm serve`` at ``/``: templates, static assets and view helpers.

The page is one Jinja2 template plus plain JavaScript modules (no build step, no CDN);
the helpers here turn run folders, uploaded data and the explainer registry into the
JSON the page reads. Everything goes through the public API or the layers below it.
"""

from __future__ import annotations

from pathlib import Path

UI_DIR = Path(__file__).parent
STATIC_DIR = UI_DIR / "static"
TEMPLATES_DIR = UI_DIR / "templates"

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "UI_DIR"]
