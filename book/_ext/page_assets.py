"""Each script once, and none the book does not use.

Two extensions that Jupyter Book 1 loads register their inline configuration scripts again on a
second read of the environment, so pages declared ``const THEBE_JS_URL`` twice (a SyntaxError) and
the toggle-button selector twice. The book runs no live kernels (Thebe), so its scripts go too.
"""

from __future__ import annotations

UNUSED = ("sphinx-thebe.js", "THEBE_JS_URL")


def _key(script) -> tuple:
    return (str(script), tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))


def _clean(app, pagename, templatename, context, doctree) -> None:
    scripts, seen, kept = context.get("script_files", []), set(), []
    for script in scripts:
        text = f"{script} {getattr(script, 'attributes', {}).get('body', '')}"
        if any(marker in text for marker in UNUSED) or _key(script) in seen:
            continue
        seen.add(_key(script))
        kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _clean, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
