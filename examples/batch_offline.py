"""A prompt over many inputs as one Batch API job, then a job that outlives the process.

``use_batch_api=True`` makes ``batch`` send every input as one line of one job on
Portkey's Batch API (usually half the price, run on the provider's infrastructure) and
return what ``batch`` returns: an ``AIMessage`` per input, in order. The second half
submits a job, prints its id and status, and retrieves it with a fresh model, as another
process would (the job id is all it needs), reporting progress while it waits.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``), whose Batch API
runs each line through its offline model. With a key, set ``PORTKEY_PROMPT_ID`` to a
prompt with the variables ``adjective`` and ``topic`` whose saved virtual key (or your
``PORTKEY_VIRTUAL_KEY``) names a provider with a batch API; the job may take hours.

    python examples/batch_offline.py
"""

from __future__ import annotations

import os
import sys

from portkey_integrations.langchain import BatchPolling, PortkeyChatModel
from portkey_integrations.types import Batch

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

PROMPT_ID = os.environ.get("PORTKEY_PROMPT_ID", "pp-joke")
TOPICS = ["owls", "tea", "rain", "trains", "maps"]


def progress(job: Batch) -> None:
    counts = job.request_counts
    done = f" ({counts.completed}/{counts.total} done)" if counts is not None else ""
    print(f"  job {job.status}{done}")


def main() -> int:
    # Offline the job is done in a moment: poll every 0.2 s (Portkey: keep the defaults).
    polling = BatchPolling(initial_delay=0.2, max_delay=30, on_progress=progress)
    inputs = [{"adjective": "short", "topic": topic} for topic in TOPICS]

    bulk = PortkeyChatModel(prompt_id=PROMPT_ID, use_batch_api=True, batch_api_polling=polling)
    replies = bulk.batch(inputs)
    for reply in replies:
        print(f"batch: {reply.content}")
    print(f"{len(replies)} answers from job {replies[0].response_metadata['portkey_batch_id']}")

    job_id = PortkeyChatModel(prompt_id=PROMPT_ID).batch_api_submit(inputs[:2])
    print(f"submitted {job_id}")
    later = PortkeyChatModel(prompt_id=PROMPT_ID)  # as another process would build it
    for reply in later.batch_api_retrieve(job_id, polling=polling):
        print(f"retrieved: {reply.content}")
    print(f"status: {later.batch_api_status(job_id).status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
