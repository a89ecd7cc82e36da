"""Views of the web UI: thin — parse, call one service or selector, render."""
