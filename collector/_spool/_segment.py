"""One segment: an append-only log file of batch frames plus its ack file.

``seg-<index>.log`` holds frames; ``seg-<index>.acks`` holds one fixed-size record per acked frame.
Keeping acks per segment means deleting a fully acked segment deletes its acks too: there is no
global ack log to compact. Writes go straight to the file descriptor (no user-space buffer), so
whatever a call returned has reached the kernel and survives a process crash; fsync is the
caller's choice (see ``_spool``).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ._format import (
    ACK_SIZE,
    HEADER_SIZE,
    MAGIC,
    FrameHeader,
    HeaderStatus,
    decode_ack,
    decode_header,
    decode_payload,
    encode_ack,
    encode_filler,
    payload_crc_ok,
)

__all__ = ["ScanResult", "Segment", "estimate_records", "list_segments", "read_acks", "scan_log"]

_NAME = re.compile(r"^seg-(\d{16})\.(log|acks)$")


def log_name(index: int) -> str:
    return f"seg-{index:016d}.log"


def ack_name(index: int) -> str:
    return f"seg-{index:016d}.acks"


def list_segments(directory: Path) -> tuple[list[int], list[int]]:
    """Indexes of the log files and of the ack files in ``directory``, each sorted."""
    logs: list[int] = []
    acks: list[int] = []
    for entry in os.scandir(directory):
        m = _NAME.match(entry.name)
        if m and entry.is_file():
            (logs if m.group(2) == "log" else acks).append(int(m.group(1)))
    return sorted(logs), sorted(acks)


@dataclass(frozen=True, slots=True)
class ScanResult:
    frames: list[tuple[int, FrameHeader]]  # (offset, header) of every intact frame, in order
    valid_len: int  # bytes from the start that hold intact frames only
    damage: str | None  # why the bytes after valid_len cannot be trusted; None if there are none


def scan_log(data: bytes) -> ScanResult:
    """Walk the frames of a segment's bytes, stopping at the first one that fails a check."""
    frames: list[tuple[int, FrameHeader]] = []
    view = memoryview(data)
    pos = 0
    while pos < len(data):
        status, header = decode_header(view[pos:])
        if header is None:
            reason = "torn frame header" if status is HeaderStatus.SHORT else status.value
            return ScanResult(frames, pos, f"{reason} at offset {pos}")
        end = pos + header.frame_len
        if end > len(data):
            return ScanResult(frames, pos, f"torn frame at offset {pos}: {end - len(data)} bytes missing")
        frame = view[pos:end]
        if not payload_crc_ok(frame, header):
            return ScanResult(frames, pos, f"payload checksum mismatch at offset {pos}")
        if decode_payload(frame, header) is None:
            return ScanResult(frames, pos, f"inconsistent payload layout at offset {pos}")
        frames.append((pos, header))
        pos = end
    return ScanResult(frames, pos, None)


def estimate_records(damaged: bytes) -> int:
    """Records presumed lost in a damaged region: the counts of the frame headers that still pass
    their checksum, and at least one (a fragment held part of some batch)."""
    view = memoryview(damaged)
    total = 0
    pos = 0
    while pos < len(damaged):
        status, header = decode_header(view[pos:])
        if header is not None:
            total += header.record_count
            pos += max(header.frame_len, HEADER_SIZE)
            continue
        if status is HeaderStatus.SHORT:
            break
        nxt = damaged.find(MAGIC, pos + 1)
        if nxt < 0:
            break
        pos = nxt
    return max(1, total)


def read_acks(path: Path) -> tuple[set[int], int]:
    """Acked offsets and the length of the whole records (a torn last record is not counted)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return set(), 0
    whole = len(data) - len(data) % ACK_SIZE
    offsets: set[int] = set()
    for pos in range(0, whole, ACK_SIZE):
        offset = decode_ack(data[pos : pos + ACK_SIZE])
        if offset is not None:  # a damaged ack only costs a replay, which the dedup token absorbs
            offsets.add(offset)
    return offsets, whole


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Segment:
    """State of one segment. Not thread-safe: the Spool serializes every call under its lock."""

    def __init__(self, directory: Path, index: int, size: int, ack_size: int) -> None:
        self.index = index
        self.log_path = directory / log_name(index)
        self.ack_path = directory / ack_name(index)
        self.size = size
        self.ack_size = ack_size
        self.pending: dict[int, FrameHeader] = {}  # offset -> header, in append order
        self.frames = 0  # frames ever held, acked or not
        self.log_fd: int | None = None
        self.ack_fd: int | None = None
        self.log_dirty = False
        self.ack_dirty = False
        # Set when a failed write could not be cut back off: the segment takes no more appends and
        # the garbage tail is quarantined by the next open.
        self.broken = False

    @classmethod
    def create(cls, directory: Path, index: int) -> Segment:
        seg = cls(directory, index, 0, 0)
        seg.log_fd = os.open(seg.log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return seg

    def append(self, frame: bytes) -> int:
        """Write one frame; returns its offset. On OSError the partial frame is cut back off."""
        assert self.log_fd is not None
        start = self.size
        try:
            os.lseek(self.log_fd, start, os.SEEK_SET)
            _write_all(self.log_fd, frame)
        except OSError:
            self.truncate_log(start)
            raise
        self.size = start + len(frame)
        self.log_dirty = True
        return start

    def truncate_log(self, length: int) -> None:
        """Cut the log back to ``length`` after a failed write; best effort, never raises."""
        assert self.log_fd is not None
        try:
            os.ftruncate(self.log_fd, length)
            self.size = length
        except OSError:
            self.broken = True

    def write_ack(self, offset: int) -> None:
        if self.ack_fd is None:
            self.ack_fd = os.open(self.ack_path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        start = self.ack_size
        try:
            os.lseek(self.ack_fd, start, os.SEEK_SET)
            _write_all(self.ack_fd, encode_ack(offset))
        except OSError:
            with contextlib.suppress(OSError):  # keep records aligned: a half record shifts later acks
                os.ftruncate(self.ack_fd, start)
            raise
        self.ack_size = start + ACK_SIZE
        self.ack_dirty = True

    def sync_log(self) -> None:
        if self.log_fd is not None and self.log_dirty:
            os.fdatasync(self.log_fd)
            self.log_dirty = False

    def sync_ack(self) -> None:
        if self.ack_fd is not None and self.ack_dirty:
            os.fdatasync(self.ack_fd)
            self.ack_dirty = False

    def seal(self, *, sync: bool) -> None:
        """Stop taking appends: optionally fsync, then close the descriptors."""
        try:
            if sync:
                self.sync_log()
                self.sync_ack()
        finally:
            self.close_fds()

    def close_fds(self) -> None:
        for fd in (self.log_fd, self.ack_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.log_fd = None
        self.ack_fd = None

    def delete(self) -> None:
        """Remove a fully acked segment: the log first, so a crash in between leaves an orphan ack
        file (removed at the next open) rather than a log without its acks."""
        self.close_fds()
        for path in (self.log_path, self.ack_path):
            path.unlink(missing_ok=True)

    def blank(self, offset: int, length: int, *, sync: bool) -> None:
        """Overwrite a damaged frame in place with a filler frame of the same length."""
        with open(self.log_path, "r+b") as f:
            f.seek(offset)
            f.write(encode_filler(length))
            if sync:
                os.fdatasync(f.fileno())

    def disk_bytes(self) -> int:
        return self.size + self.ack_size
