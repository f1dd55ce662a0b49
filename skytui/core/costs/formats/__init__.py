"""Renderers of a cost `Report`: table, markdown, csv, json, html and FinOps FOCUS."""
