"""What a file really is, from its first bytes (never from its name or the client's Content-Type), and a file
name that is safe to show.

Only the types the product takes are recognised: PNG, JPEG, WebP, GIF and PDF. Anything else (HTML, an
executable, SVG with its scripts, a ZIP renamed ``.pdf``) is :data:`None` and refused by the caller. An image's
first bytes are not the whole story: gateway/contact/images.py decodes it before it is kept.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

SNIFF_BYTES = 16  # how much of the head :func:`sniff` needs
MAX_NAME_CHARS = 120


class MediaType(StrEnum):
    PNG = "image/png"
    JPEG = "image/jpeg"
    WEBP = "image/webp"
    GIF = "image/gif"
    PDF = "application/pdf"

    @property
    def is_image(self) -> bool:
        return self.value.startswith("image/")

    @property
    def extension(self) -> str:
        return {"image/jpeg": ".jpg", "application/pdf": ".pdf"}.get(self.value, "." + self.value.split("/")[1])

    @property
    def label(self) -> str:
        """What a person calls it: "PDF", "PNG image"."""
        return {"image/jpeg": "JPEG image", "image/webp": "WebP image", "application/pdf": "PDF"}.get(
            self.value, self.value.split("/")[1].upper() + " image"
        )


_EXTENSIONS = {".png": MediaType.PNG, ".jpg": MediaType.JPEG, ".jpeg": MediaType.JPEG, ".webp": MediaType.WEBP}
_EXTENSIONS |= {".gif": MediaType.GIF, ".pdf": MediaType.PDF}


def claimed_type(name: str) -> MediaType | None:
    """The type a file's name claims by its extension (only to word a refusal: the content decides)."""
    ext = name.rsplit(".", 1)[-1].lower().strip() if "." in name else ""
    return _EXTENSIONS.get("." + ext)


def sniff(head: bytes) -> MediaType | None:
    """The type the content's magic bytes say, or None for anything not taken."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.WEBP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType.GIF
    if head.startswith(b"%PDF-"):
        return MediaType.PDF
    return None


def display_name(raw: str, media_type: MediaType) -> str:
    """A name to show for the file: the client's name without any path, control or formatting characters
    (no bidi overrides: "gpj.exe" shown as "exe.jpg"), at most :data:`MAX_NAME_CHARS`, ending with the extension of
    its real type. Only ever shown; files are stored under random ids."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem = ext
    stem = stem.strip(" .")[: MAX_NAME_CHARS - 5] or "file"
    wanted = media_type.extension
    if "." + ext.lower() in (wanted, ".jpeg" if media_type is MediaType.JPEG else wanted) and dot:
        wanted = "." + ext.lower()
    return stem + wanted
