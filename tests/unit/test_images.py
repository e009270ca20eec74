"""Images taken as attachments (gateway/contact/images.py): what a file that only starts like an image is called,
and that a real image too large to decode is still refused by its size, before any decoding."""

from __future__ import annotations

import struct
import zlib

import pytest

from gateway.contact.images import MAX_PIXELS, BadImage, inspect_image
from gateway.contact.sniff import MediaType
from tests.support.files import image

HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"


def with_screen(gif: bytes, width: int, height: int) -> bytes:
    """A real GIF whose logical screen (the canvas the decoder would allocate) says another size."""
    return gif[:6] + struct.pack("<HH", width, height) + gif[10:]


def with_extension(gif: bytes) -> bytes:
    """A real GIF with a graphic control extension and a comment before its image, as most GIF89a files have."""
    flags = gif[10]
    start = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # delay 0.1 s, no transparency
    comment = b"\x21\xfe\x05hello\x00"
    return gif[:start] + control + comment + gif[start:]


def png_of_size(png: bytes, width: int, height: int) -> bytes:
    """A real PNG whose header chunk (with its CRC made right) says another size: a decompression bomb's shape."""
    ihdr = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


@pytest.mark.parametrize("magic", [b"GIF89a", b"GIF87a"])
def test_a_gif_header_before_a_web_page_is_no_gif_whatever_size_its_first_bytes_spell(magic: bytes) -> None:
    # "<!do" read as the screen's width and height is 8508 x 28516 pixels: the problem is not the size
    with pytest.raises(BadImage) as refused:
        inspect_image(magic + HTML, MediaType.GIF)
    assert (
        str(refused.value) == "the file is not a valid GIF image (its content after the GIF header is something else)"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a",
        b"GIF89a\x40\x00\x30\x00",  # cut off in its screen descriptor
        image("gif")[:13] + b"\x3b",  # a trailer before any image
        image("gif")[:13] + b"\x21\xf9\x04",  # cut off in an extension
    ],
)
def test_a_gif_that_ends_before_its_first_image_is_refused_as_no_gif(data: bytes) -> None:
    with pytest.raises(BadImage, match="not a valid GIF image"):
        inspect_image(data, MediaType.GIF)


@pytest.mark.parametrize("size", [(1, 1), (64, 48), (320, 200)])
def test_real_gifs_with_and_without_extensions_are_taken(size: tuple[int, int]) -> None:
    for gif in (image("gif", *size), with_extension(image("gif", *size))):
        got = inspect_image(gif, MediaType.GIF)
        assert (got.width, got.height) == size
        assert got.thumbnail


def test_a_real_gif_or_png_too_large_to_decode_is_refused_by_its_size() -> None:
    side = int(MAX_PIXELS**0.5) + 1  # just over the limit
    for data, media_type in (
        (with_screen(with_extension(image("gif", 8, 8)), side, side), MediaType.GIF),
        (png_of_size(image("png", 8, 8), side, side), MediaType.PNG),
    ):
        with pytest.raises(BadImage) as refused:
            inspect_image(data, media_type)
        assert str(refused.value) == f"the image is {side}x{side} pixels, over the 40-megapixel limit", media_type
