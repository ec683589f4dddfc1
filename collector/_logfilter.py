"""Keep raw agent content out of the app's own logs.

autogen-core logs every send and publish with the full message at INFO ("Sending message of
type X to Y: {content}"), and its event logger records whole LLM prompts. An audit product that
redacts its store but leaves that in the app's logs has not closed the leak.
"""

from __future__ import annotations

import logging
import re

_AUTOGEN_PREFIXES = ("autogen_core", "autogen_agentchat", "autogen_ext")
# AutoGen interpolates runtime values into its messages without a colon before them ("Error
# processing publish message for worker/jane.doe@example.com"), and an app may key agents by a
# user's email or a token. Its own wording is plain words; the values hold '/', '@', digits, '_'
# or quotes. So the summary is the leading run of letters-only words, each ending at a space or
# the end: a token like "worker/jane.doe" is dropped whole, not cut after "worker". The marker
# starts with '[', so a record two filtered handlers see keeps the same summary.
_LEADING_WORDS = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*(?![^ ])")
_MAX_SUMMARY = 120


class ContentFreeLogFilter(logging.Filter):
    """Rewrites AutoGen log records so that only their kind survives, never their content.

    Attach it to the app's handlers (not loggers: handler filters also see propagated records).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(_AUTOGEN_PREFIXES):
            return True
        message = record.msg
        if isinstance(message, str):
            head = message.split(":", 1)[0] if record.args is None or not record.args else message.split("%", 1)[0]
            words = _LEADING_WORDS.match(head.strip())
            summary = words.group()[:_MAX_SUMMARY] if words else "message"
        else:
            summary = type(message).__name__
        record.msg = f"{summary} [content withheld by autogen-audit]"
        record.args = None
        record.exc_text = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception messages can quote the payload too: keep the type only.
            record.exc_info = None
        return True


def install_content_free_logging(logger: logging.Logger | None = None) -> ContentFreeLogFilter:
    """Attach a ContentFreeLogFilter to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    content_filter = ContentFreeLogFilter()
    for handler in target.handlers:
        handler.addFilter(content_filter)
    return content_filter
