"""Mail templates: blocks, the sandboxed personalisation engine, rendering, defaults."""
