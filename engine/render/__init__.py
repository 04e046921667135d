"""Renderers: turn engine results into text for a terminal, or the JSON envelope."""
