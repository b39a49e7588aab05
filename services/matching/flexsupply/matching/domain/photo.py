"""A product photo as buyers' phones show it: JPEG, PNG or WebP, told by its first bytes (not by the name or the
type the browser claims), and small enough for a chat group's phones on mobile data."""

from typing import Final

from flexsupply.contracts.errors import InvalidField

MAX_PHOTO_BYTES: Final = 3_000_000
SIGNATURES: Final = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def photo_type(data: bytes) -> str:
    """The photo's media type; InvalidField("photo") for anything else, an empty file or one too large."""
    if not data:
        raise InvalidField("photo", "the file is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidField("photo", f"is larger than {MAX_PHOTO_BYTES // 1_000_000} MB")
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidField("photo", "is not a JPEG, PNG or WebP image")
