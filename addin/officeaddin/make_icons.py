"""Draw the ribbon's icons into ``addin/web/icons/``: ``python -m addin.officeaddin.make_icons``.

Each icon is a white glyph on a rounded square in its group's colour, drawn from a few
geometric shapes at the exact pixel size Office asks for (16, 32 and 80 px for every button;
16 to 128 px for the add-in itself), so small sizes are drawn for their size rather than
shrunk from a large one. Edges are anti-aliased by sampling each pixel 4 × 4 times.

The PNG files are written with zlib and struct only: Pillow is no dependency of xlcrm, and
the same script gives the same bytes everywhere (tests/test_manifest.py redraws a few and
compares), so the committed icons are always what this script draws. Run it again after
changing a glyph or adding a button, and commit the icons with it.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from .ribbon import APP_ICON_SIZES, BUTTON_ICON_SIZES, GROUPS

ICONS = Path(__file__).resolve().parent.parent / "web" / "icons"
SAMPLES = 4  # per pixel and axis

RGB = tuple[int, int, int]
Shape = Callable[[float, float], bool]  # is the point (x, y) of the unit square inside?
Layer = tuple[RGB, Shape]

WHITE: RGB = (255, 255, 255)
SEAL: RGB = (200, 30, 45)  # a company seal's red on the contract
COLOURS: dict[str, RGB] = {
    "Mail": (37, 99, 235),
    "Sales": (217, 119, 6),
    "Data": (5, 150, 105),
    "Settings": (71, 85, 105),
    "xlcrm": (16, 124, 65),  # Excel's green: the add-in that lives in the workbook
}


# -- shapes in the unit square (x right, y down) -----------------------------------------


def circle(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def rrect(x0: float, y0: float, x1: float, y1: float, r: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        dx = max(x0 + r - x, 0.0, x - (x1 - r))
        dy = max(y0 + r - y, 0.0, y - (y1 - r))
        return dx * dx + dy * dy <= r * r

    return inside


def segment(x0: float, y0: float, x1: float, y1: float, width: float) -> Shape:
    """A stroke with round ends."""
    vx, vy = x1 - x0, y1 - y0
    length2 = vx * vx + vy * vy or 1e-12

    def inside(x: float, y: float) -> bool:
        t = min(1.0, max(0.0, ((x - x0) * vx + (y - y0) * vy) / length2))
        return (x - x0 - t * vx) ** 2 + (y - y0 - t * vy) ** 2 <= (width / 2) ** 2

    return inside


def polygon(points: Sequence[tuple[float, float]]) -> Shape:
    def inside(x: float, y: float) -> bool:
        hit = False
        for (ax, ay), (bx, by) in zip(points, [*points[1:], points[0]]):
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                hit = not hit
        return hit

    return inside


def arc(cx: float, cy: float, r: float, width: float, start: float, end: float) -> Shape:
    """A ring's stroke from angle ``start`` to ``end`` (degrees, clockwise from 3 o'clock)."""

    def inside(x: float, y: float) -> bool:
        if abs(math.hypot(x - cx, y - cy) - r) > width / 2:
            return False
        angle = math.degrees(math.atan2(y - cy, x - cx)) % 360
        return (angle - start) % 360 <= (end - start) % 360

    return inside


def union(*shapes: Shape) -> Shape:
    return lambda x, y: any(shape(x, y) for shape in shapes)


def mix(colour: RGB, other: RGB, share: float) -> RGB:
    return tuple(round(a + (b - a) * share) for a, b in zip(colour, other))  # type: ignore[return-value]


# -- glyphs: layers painted in order over the background ---------------------------------


def glyph(name: str, bg: RGB, stroke: float) -> list[Layer]:
    """The layers of icon ``name``; ``stroke`` is a line's width, at least about 1.5 px."""
    s = stroke
    if name == "sync":  # an envelope, and a round arrow: new mail comes in
        return [
            (WHITE, rrect(0.14, 0.22, 0.74, 0.64, 0.05)),
            (bg, union(segment(0.18, 0.27, 0.44, 0.46, s), segment(0.44, 0.46, 0.70, 0.27, s))),
            (bg, circle(0.70, 0.68, 0.25)),
            (WHITE, arc(0.70, 0.68, 0.14, s, 300, 200)),
            (WHITE, polygon([(0.48, 0.60), (0.64, 0.60), (0.56, 0.74)])),
        ]
    if name == "campaign":  # a megaphone
        return [
            (WHITE, polygon([(0.18, 0.40), (0.58, 0.20), (0.58, 0.76), (0.18, 0.58)])),
            (WHITE, segment(0.28, 0.60, 0.34, 0.80, s * 1.4)),
            (WHITE, segment(0.70, 0.36, 0.82, 0.28, s)),
            (WHITE, segment(0.71, 0.49, 0.85, 0.49, s)),
            (WHITE, segment(0.70, 0.62, 0.82, 0.70, s)),
        ]
    if name == "contract":  # a page of text with a red seal
        layers = [
            (WHITE, rrect(0.22, 0.12, 0.72, 0.86, 0.05)),
            (bg, union(*(segment(0.32, y, 0.62, y, s) for y in (0.28, 0.41, 0.54)))),
            (WHITE, circle(0.66, 0.70, 0.21)),
            (SEAL, circle(0.66, 0.70, 0.17)),
        ]
        if s < 0.08:  # the seal's inner ring only where there are pixels enough for it
            layers.append((WHITE, arc(0.66, 0.70, 0.09, s * 0.8, 0, 359.9)))
        return layers
    if name == "reminders":  # a bell
        return [
            (
                WHITE,
                union(
                    circle(0.5, 0.44, 0.22),
                    rrect(0.28, 0.44, 0.72, 0.70, 0.0),
                    rrect(0.18, 0.64, 0.82, 0.74, 0.04),
                    circle(0.5, 0.19, 0.06),
                ),
            ),
            (WHITE, circle(0.5, 0.80, 0.08)),
        ]
    if name == "rules":  # a lightning bolt: what happens by itself when a deal moves
        return [
            (
                WHITE,
                polygon(
                    [
                        (0.58, 0.10),
                        (0.24, 0.56),
                        (0.46, 0.56),
                        (0.38, 0.90),
                        (0.76, 0.40),
                        (0.54, 0.40),
                        (0.64, 0.10),
                    ]
                ),
            )
        ]
    if name == "import":  # an arrow down into a tray
        return [
            (WHITE, segment(0.5, 0.14, 0.5, 0.50, s * 1.3)),
            (WHITE, polygon([(0.30, 0.44), (0.70, 0.44), (0.5, 0.66)])),
            (
                WHITE,
                union(
                    segment(0.18, 0.58, 0.18, 0.82, s),
                    segment(0.18, 0.82, 0.82, 0.82, s),
                    segment(0.82, 0.82, 0.82, 0.58, s),
                ),
            ),
        ]
    if name == "dedupe":  # two people who are one customer
        return [
            (mix(bg, WHITE, 0.55), _person(0.36, 0.0)),
            (bg, _person(0.62, s)),
            (WHITE, _person(0.62, 0.0)),
        ]
    if name == "report":  # a bar chart
        return [
            (WHITE, rrect(0.20, 0.50, 0.34, 0.78, 0.02)),
            (WHITE, rrect(0.43, 0.24, 0.57, 0.78, 0.02)),
            (WHITE, rrect(0.66, 0.38, 0.80, 0.78, 0.02)),
            (WHITE, segment(0.14, 0.84, 0.86, 0.84, s)),
        ]
    if name == "settings":  # a gear
        teeth = [
            polygon([_polar(a + da, r) for da, r in ((-11, 0.2), (-7, 0.38), (7, 0.38), (11, 0.2))])
            for a in range(0, 360, 45)
        ]
        return [(WHITE, union(circle(0.5, 0.5, 0.27), *teeth)), (bg, circle(0.5, 0.5, 0.11))]
    if name == "xlcrm":  # a customer on a sheet's grid
        grid = mix(bg, WHITE, 0.3)
        lines = [segment(v, 0.0, v, 1.0, s * 0.8) for v in (0.3, 0.7)]
        lines += [segment(0.0, v, 1.0, v, s * 0.8) for v in (0.3, 0.55)]
        return [
            (grid, union(*lines)),
            (bg, _person(0.5, s * 1.5, scale=1.25)),
            (WHITE, _person(0.5, 0.0, scale=1.25)),
        ]
    raise ValueError(f"no glyph for icon {name!r}")


def _person(cx: float, grow: float, scale: float = 1.0) -> Shape:
    """Head and shoulders, ``grow`` wider all round (for an outline behind it)."""
    head = circle(cx, 0.5 - 0.16 * scale, 0.13 * scale + grow)
    body = rrect(
        cx - 0.22 * scale - grow,
        0.5 + 0.04 * scale - grow,
        cx + 0.22 * scale + grow,
        0.5 + 0.34 * scale + grow,
        0.12 * scale + grow,
    )
    return union(head, body)


def _polar(degrees: float, r: float) -> tuple[float, float]:
    return 0.5 + r * math.cos(math.radians(degrees)), 0.5 + r * math.sin(math.radians(degrees))


# -- raster and PNG ---------------------------------------------------------------------


def colour_of(name: str) -> RGB:
    for group in GROUPS:
        if name == group.key or name in (b.view for b in group.buttons):
            return COLOURS[group.key]
    return COLOURS[name]


def render(name: str, size: int) -> bytes:
    """The PNG of icon ``name`` (a view, or ``xlcrm``) at ``size`` × ``size`` pixels."""
    bg = colour_of(name)
    background = rrect(0.0, 0.0, 1.0, 1.0, 0.2)
    layers: list[Layer] = [(bg, background), *glyph(name, bg, max(0.07, 1.5 / size))]
    step = 1.0 / (size * SAMPLES)
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter type 0: none
        for px in range(size):
            red = green = blue = alpha = 0
            for sy in range(SAMPLES):
                y = (py * SAMPLES + sy + 0.5) * step
                for sx in range(SAMPLES):
                    x = (px * SAMPLES + sx + 0.5) * step
                    if not background(x, y):
                        continue
                    colour = next(c for c, shape in reversed(layers) if shape(x, y))
                    red, green, blue, alpha = (
                        red + colour[0],
                        green + colour[1],
                        blue + colour[2],
                        alpha + 1,
                    )
            if alpha:
                row += bytes((red // alpha, green // alpha, blue // alpha))
                row.append(round(255 * alpha / SAMPLES**2))
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width: int, height: int, raw: bytes) -> bytes:
    """An 8-bit RGBA PNG from filtered scanlines."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def all_icons() -> list[tuple[str, int]]:
    """Every icon the manifest refers to, as ``(name, size)``."""
    icons = [("xlcrm", size) for size in APP_ICON_SIZES]
    for group in GROUPS:
        icons += [(b.view, size) for b in group.buttons for size in BUTTON_ICON_SIZES]
    return icons


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, size in all_icons():
        (ICONS / f"{name}-{size}.png").write_bytes(render(name, size))
        print(f"icons/{name}-{size}.png")


if __name__ == "__main__":
    main()
