"""On-disk framing of the spool: batch frames in segment files, fixed-size records in ack files.

A batch frame (all integers little-endian)::

    offset size  field
    0      4     magic b"ASPL"
    4      1     format version (1)
    5      3     zero padding
    8      4     payload length in bytes
    12     4     number of records in the payload
    16     8     appended-at, Unix time in milliseconds
    24     16    batch id (random, stable: it is stored, never recomputed)
    40     4     CRC-32 of bytes 0..39 (the header)
    44     n     payload: per record, u32 length then the record's bytes
    44+n   4     CRC-32 of the payload

The header has its own CRC so that a damaged length field is reported as corruption instead of
sending the reader off to read garbage. An ack record is 16 bytes: magic b"AK", u16 version,
the acked frame's u64 offset in its segment, and a CRC-32 of the first 12 bytes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ACK_SIZE",
    "FILLER_ID",
    "FRAME_OVERHEAD",
    "HEADER_SIZE",
    "FrameHeader",
    "HeaderStatus",
    "decode_ack",
    "decode_header",
    "decode_payload",
    "encode_ack",
    "encode_filler",
    "encode_frame",
    "frame_size",
    "payload_crc_ok",
]

MAGIC = b"ASPL"
VERSION = 1
_HEADER = struct.Struct("<4sB3xIIQ16s")
_CRC = struct.Struct("<I")
_LEN = struct.Struct("<I")
HEADER_SIZE = _HEADER.size + _CRC.size  # 44
FRAME_OVERHEAD = HEADER_SIZE + _CRC.size  # 48
# A bound on one frame's payload so that a header with a valid CRC but an absurd length (a bug, or a
# frame from a future version) cannot make the reader allocate gigabytes.
MAX_PAYLOAD = 1 << 31

_ACK = struct.Struct("<2sHQ")
ACK_MAGIC = b"AK"
ACK_SIZE = _ACK.size + _CRC.size  # 16


@dataclass(frozen=True, slots=True)
class FrameHeader:
    payload_len: int
    record_count: int
    appended_at_ms: int
    batch_id: bytes

    @property
    def frame_len(self) -> int:
        return FRAME_OVERHEAD + self.payload_len


class HeaderStatus(Enum):
    OK = "ok"
    SHORT = "short"  # fewer than HEADER_SIZE bytes left: a torn tail
    BAD_MAGIC = "bad magic"
    BAD_CRC = "header checksum mismatch"
    BAD_VERSION = "unknown format version"
    BAD_LENGTH = "implausible payload length"


def frame_size(records: Sequence[bytes]) -> int:
    return FRAME_OVERHEAD + sum(_LEN.size + len(r) for r in records)


def encode_frame(records: Sequence[bytes], batch_id: bytes, appended_at_ms: int) -> bytes:
    parts: list[bytes] = []
    for record in records:
        parts.append(_LEN.pack(len(record)))
        parts.append(record)
    payload = b"".join(parts)
    header = _HEADER.pack(MAGIC, VERSION, len(payload), len(records), appended_at_ms, batch_id)
    return b"".join((header, _CRC.pack(zlib.crc32(header)), payload, _CRC.pack(zlib.crc32(payload))))


FILLER_ID = bytes(16)


def encode_filler(length: int) -> bytes:
    """A valid frame of exactly ``length`` bytes holding no batch: written over a frame found damaged
    while the spool runs, so later opens skip it instead of quarantining the rest of its segment."""
    if length < FRAME_OVERHEAD:
        raise ValueError("a filler frame needs at least FRAME_OVERHEAD bytes")
    payload = bytes(length - FRAME_OVERHEAD)
    header = _HEADER.pack(MAGIC, VERSION, len(payload), 0, 0, FILLER_ID)
    return b"".join((header, _CRC.pack(zlib.crc32(header)), payload, _CRC.pack(zlib.crc32(payload))))


def decode_header(buf: bytes | memoryview) -> tuple[HeaderStatus, FrameHeader | None]:
    """Parse the first HEADER_SIZE bytes of ``buf``."""
    if len(buf) < HEADER_SIZE:
        return HeaderStatus.SHORT, None
    raw = bytes(buf[: _HEADER.size])
    magic, version, payload_len, count, ts, batch_id = _HEADER.unpack(raw)
    if magic != MAGIC:
        return HeaderStatus.BAD_MAGIC, None
    (crc,) = _CRC.unpack_from(buf, _HEADER.size)
    if crc != zlib.crc32(raw):
        return HeaderStatus.BAD_CRC, None
    if version != VERSION:
        return HeaderStatus.BAD_VERSION, None
    if payload_len > MAX_PAYLOAD or count * _LEN.size > payload_len:
        return HeaderStatus.BAD_LENGTH, None
    return HeaderStatus.OK, FrameHeader(payload_len, count, ts, batch_id)


def payload_crc_ok(frame: bytes | memoryview, header: FrameHeader) -> bool:
    """``frame`` holds the whole frame, header included."""
    payload = frame[HEADER_SIZE : HEADER_SIZE + header.payload_len]
    (crc,) = _CRC.unpack_from(frame, HEADER_SIZE + header.payload_len)
    return bool(crc == zlib.crc32(payload))


def decode_payload(frame: bytes | memoryview, header: FrameHeader) -> list[bytes] | None:
    """The records of a frame whose checksums were verified; None if its layout is inconsistent."""
    if header.record_count == 0 and header.batch_id == FILLER_ID:
        return []
    records: list[bytes] = []
    pos = HEADER_SIZE
    end = HEADER_SIZE + header.payload_len
    for _ in range(header.record_count):
        if pos + _LEN.size > end:
            return None
        (n,) = _LEN.unpack_from(frame, pos)
        pos += _LEN.size
        if pos + n > end:
            return None
        records.append(bytes(frame[pos : pos + n]))
        pos += n
    # A matching CRC over an inconsistent layout means a writer bug, not disk damage; either way the
    # frame cannot be trusted and is quarantined like damage.
    return records if pos == end else None


def encode_ack(offset: int) -> bytes:
    body = _ACK.pack(ACK_MAGIC, VERSION, offset)
    return body + _CRC.pack(zlib.crc32(body))


def decode_ack(buf: bytes | memoryview) -> int | None:
    """The acked frame offset, or None for a damaged record (the batch is then replayed)."""
    body = bytes(buf[: _ACK.size])
    (crc,) = _CRC.unpack_from(buf, _ACK.size)
    if crc != zlib.crc32(body):
        return None
    magic, version, offset = _ACK.unpack(body)
    if magic != ACK_MAGIC or version != VERSION:
        return None
    return int(offset)
