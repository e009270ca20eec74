"""Small real files for attachment tests: images encoded with PyAV (the decoder the gateway uses), a PDF, and
files that lie about what they are."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

_ENCODERS = {
    "png": ("png", "rgb24"),
    "jpeg": ("mjpeg", "yuvj420p"),
    "webp": ("libwebp", "yuv420p"),
    "gif": ("gif", "rgb8"),
}


def image(kind: str = "png", width: int = 64, height: int = 48) -> bytes:
    """An image of ``kind`` (png, jpeg, webp, gif): a colour gradient of that size."""
    codec, pix_fmt = _ENCODERS[kind]
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs * 255 // max(1, width - 1), ys * 255 // max(1, height - 1), np.full_like(xs, 128)], axis=-1)
    frame = av.VideoFrame.from_ndarray(rgb.astype("uint8"), format="rgb24").reformat(format=pix_fmt)
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, pix_fmt
    encoder.time_base = Fraction(1, 25)
    return b"".join(bytes(p) for p in encoder.encode(frame) + encoder.encode(None))


def pdf(text: str = "Invoice 4271") -> bytes:
    """A one-page PDF showing ``text`` (hand-written objects; offsets computed)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200  # a Windows executable's head
FAKE_PNG = b"\x89PNG\r\n\x1a\n" + HTML  # PNG magic bytes, then no image at all
