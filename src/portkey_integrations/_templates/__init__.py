"""Portkey's prompt templates: the Mustache dialect, template analysis, the per-process
template cache, variable checks and the prompt files ``portkey-prompts`` reads and writes."""
