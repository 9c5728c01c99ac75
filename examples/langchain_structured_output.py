"""Structured output from a Portkey prompt: a pydantic object instead of text.

``with_structured_output(Joke)`` sends the schema with the prompt's call (as a forced
tool call by default; ``method="json_schema"`` uses ``response_format``) and parses the
answer into a ``Joke``, validated. The prompt itself stays in Portkey, unchanged.
``include_raw=True`` also returns the raw message and any parsing error instead of
raising it.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``), whose offline
model answers with a value valid against the schema. With a key, set
``PORTKEY_PROMPT_ID`` to a prompt with the variables ``adjective`` and ``topic`` on a
model that supports tools and JSON schemas.

    python examples/langchain_structured_output.py
"""

from __future__ import annotations

import os
import sys

from pydantic import BaseModel, Field

from portkey_integrations.langchain import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")


class Joke(BaseModel):
    """A joke, split into its parts."""

    setup: str = Field(description="the question or situation")
    punchline: str = Field(description="the line that makes it funny")
    rating: int = Field(ge=1, le=10, description="how funny, from 1 to 10")


def main() -> int:
    model = PortkeyChatModel(prompt_id=os.environ.get("PORTKEY_PROMPT_ID", "pp-joke"))
    variables = {"adjective": "dry", "topic": "owls"}

    for method in ("function_calling", "json_schema"):
        joke = model.with_structured_output(Joke, method=method).invoke(variables)
        if not isinstance(joke, Joke):
            print(f"{method}: expected a Joke, got {joke!r}", file=sys.stderr)
            return 1
        print(f"{method}:")
        print(f"  setup:     {joke.setup}")
        print(f"  punchline: {joke.punchline}")
        print(f"  rating:    {joke.rating}/10")

    raw = model.with_structured_output(Joke, include_raw=True).invoke(variables)
    calls = raw["raw"].tool_calls
    print(
        f"include_raw: tool call {calls[0]['name'] if calls else None!r}, "
        f"parsing error: {raw['parsing_error']}"
    )
    return 0 if raw["parsed"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
