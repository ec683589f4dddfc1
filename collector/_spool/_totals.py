"""The spool's running totals (appends, acks, refusals, errors, quarantined damage) and their snapshot.

They are a record of their own so that the interval flusher can count its fsync failures in the
same place as the Spool; both read and write them only under the Spool's lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._types import SpoolStats

__all__ = ["SpoolTotals"]


@dataclass(slots=True)
class SpoolTotals:
    """Counts since the Spool was opened; the quarantine counts start with what recovery found."""

    appended: int = 0  # batches
    appended_records: int = 0
    acked: int = 0  # batches
    acked_records: int = 0
    full_rejections: int = 0
    write_errors: int = 0
    ack_write_errors: int = 0
    fsync_errors: int = 0
    quarantined_records: int = 0
    quarantined_bytes: int = 0
    quarantine_events: int = 0

    def snapshot(
        self, *, disk_bytes: int, pending_batches: int, pending_records: int, oldest_age_s: float, segments: int
    ) -> SpoolStats:
        """These totals together with the gauges that describe the disk now."""
        return SpoolStats(
            bytes=disk_bytes,
            pending_batches=pending_batches,
            pending_records=pending_records,
            oldest_age_s=oldest_age_s,
            segments=segments,
            appended_total=self.appended,
            appended_records_total=self.appended_records,
            acked_total=self.acked,
            acked_records_total=self.acked_records,
            quarantined_records=self.quarantined_records,
            quarantined_bytes=self.quarantined_bytes,
            quarantine_events=self.quarantine_events,
            full_rejections_total=self.full_rejections,
            write_errors_total=self.write_errors,
            ack_write_errors_total=self.ack_write_errors,
            fsync_errors_total=self.fsync_errors,
        )
