"""The HTML of the page and the security headers it is served with."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tamellm.ui import TEMPLATES_DIR

# Scripts and styles only from this server; no inline script, no eval, nothing framed, no
# request to any other host (connect-src 'self'): the page works offline and an injected
# string has nothing to run.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]))


def render_index(version: str, static_prefix: str = "/ui/static") -> str:
    """The single page (Playground, Train, Runs, Models), as HTML."""
    return _environment().get_template("index.html").render(version=version, static=static_prefix)
