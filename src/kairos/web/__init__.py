"""Shared web layer: base templates, stylesheet, vendored htmx, request-id middleware, home page."""
