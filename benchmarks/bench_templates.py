"""Template parsing speed: milliseconds per MB of template, against a bare regex scan.

The package's Mustache parser (uncached) against the least any tokenizer does: one
regular-expression pass finding every ``{{...}}`` tag of the same text. Two templates:
realistic prose with a few tags a line, and a tag-dense one (sections, triple
mustaches, partials, comments back to back). Rounds interleaved, in this process
(no server). The tests only check that parsing is linear, by counting its work
(``tests/server/test_limits.py``); the speed is measured here.
Run alone: ``python -m benchmarks.bench_templates``.
"""

from __future__ import annotations

import functools
import re

from portkey_integrations._templates import tokens

from ._harness import Row, Settings, compare, table_lines

_TAGS = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_PROSE_LINE = (
    "Some ordinary prose of a prompt, written for a model to read, about {{topic}}. " * 3
    + "{{#items}}- {{name}}{{/items}}\n"
)
_DENSE_UNIT = "{{#s}}{{a}}{{{b}}}{{/s}}{{> p}}{{! c}}\n"
TARGET_MS_PER_MB = 500.0
"""Our figure's target on the realistic template: 2 MB parsed in well under a second."""


def _sized(unit: str, chars: int) -> str:
    return unit * max(1, chars // len(unit))


def run(settings: Settings) -> list[Row]:
    """One row per template: our parse time per MB against the regex scan's."""
    chars = settings.pick(1_000_000, 200_000)
    rows = []
    for name, unit in (("realistic", _PROSE_LINE), ("tag-dense", _DENSE_UNIT)):
        text = _sized(unit, chars)
        per_mb = 1_000_000 / len(text) * 1e3  # seconds per call -> ms per MB
        times = compare(
            {
                "ours": functools.partial(tokens._parse, text),
                "regex scan": functools.partial(_TAGS.findall, text),
            },
            calls=1,
            rounds=settings.pick(9, 3),
            warmup=1,
        )
        mine, theirs = times["ours"], times["regex scan"]
        rows.append(
            Row(
                "templates",
                f"parse a {name} template, per MB",
                mine.wall * per_mb,
                theirs.wall * per_mb,
                "one regex pass over the tags",
                "ms",
                target=TARGET_MS_PER_MB if name == "realistic" else None,
                target_on_ours=True,
                cpu_ratio=mine.cpu / theirs.cpu if theirs.cpu else None,
                note=f"{len(text) / 1e6:.1f} MB template, parser cache bypassed",
            )
        )
    return rows


if __name__ == "__main__":
    print("\n".join(table_lines(run(Settings()))))
