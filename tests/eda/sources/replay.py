"""ansible-rulebook source plugin for the conformance suite: replays a case's events.jsonl.

Each line is a JSON object {"after": SECONDS, "event": {...}}: wait SECONDS (default 0) after the
previous line, then put the event on the queue. A line without "event" only waits, so that timers
(once_after, not_all, timeouts) can end before the source does. See tests/eda/README.md.

The first line waits STARTUP_S more: events sent while ansible-rulebook's engine is still starting
were seen to ignore timeouts, TTLs and throttle windows (a pair 3 s apart matched under a 2 s
timeout), so a case would record the start-up rather than the rule.
"""

import asyncio
import json
from typing import Any

STARTUP_S = 3.0


async def main(queue: asyncio.Queue, args: dict[str, Any]) -> None:
    await asyncio.sleep(STARTUP_S)
    with open(args["path"], encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            item = json.loads(line)
            await asyncio.sleep(float(item.get("after", 0)))
            if "event" in item:
                await queue.put(item["event"])
