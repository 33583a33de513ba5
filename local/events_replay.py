"""EventBridge archive replays as AWS runs them: only the events of the replay's time window.

moto's ``StartReplay`` sends every archived event, whatever ``EventStartTime``/``EventEndTime``
say; on a long-lived local cloud (a test session, a day of ``make local``) a replay of the last
minute would redeliver everything ever published. AWS replays the events whose time lies in
[EventStartTime, EventEndTime) to the bus's rules (rules see them with ``replay-name``; the
archive's own rule excludes them). Everything else stays moto's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _seconds(value: Any) -> float | None:
    """An event's or a replay's time (epoch seconds, a datetime, or ISO 8601 text) as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def in_window(event: dict[str, Any], start: Any, end: Any) -> bool:
    """Whether AWS would replay ``event`` for a replay from ``start`` to ``end``."""
    moment, first, last = _seconds(event.get("time")), _seconds(start), _seconds(end)
    if moment is None:
        return True  # no time to judge by: moto's behaviour
    # EventBridge stores event times to the second: an event at 12:00:00.4 counts from 12:00:00.
    return (first is None or moment >= int(first)) and (last is None or moment <= last)


def install() -> None:
    from moto.events import models

    original = models.Replay.replay_events
    if getattr(original, "_windowed", False):
        return

    def replay_events(self: Any, archive: Any) -> None:
        everything = archive.events
        window = [event for event in everything if in_window(event, self.event_start_time, self.event_end_time)]
        selected = len(window)
        archive.events = window
        try:
            original(self, archive)
        finally:  # the archive keeps every event, and whatever the replay appended to it
            archive.events = everything + window[selected:]

    replay_events._windowed = True  # type: ignore[attr-defined]
    models.Replay.replay_events = replay_events  # type: ignore[method-assign]
