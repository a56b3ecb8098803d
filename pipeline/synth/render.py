"""Text pages rendered as realistic scans: letter paper, DejaVu fonts, then skew, noise, blur, fax.

`render_pages(pages)` draws each page string on a US-letter canvas and degrades it the way a
scanner or fax machine would. Page text is plain text with a few line markers:

    # Title                     a heading (bold, larger)
    ## Section                  a sub-heading (bold)
    > Name: DOE, JANE           a boxed label block (consecutive `>` lines form one box)
    | Test | Result | Units |   a table row (consecutive rows form one table, first row bold)
    {{barcode QRCode payload}}  a barcode (any zxing-cpp format name); linear codes print the
                                payload under the bars
    text  with  column  gaps    a line with runs of two or more spaces keeps its layout (mono font)
    anything else               a paragraph line, word-wrapped to the margins

Text that does not fit continues on another sheet, so a string may give more than one image.
Each image carries its ground truth in `image.info`: `"text"` (the words printed on it, line by
line, markers removed; barcode payloads excluded except as printed; a fax header line first),
`"rotation"`, `"skew"`, `"dpi"` and `"stamp"` (a rubber stamp's words, kept out of `"text"`: it
lies slanted across other print). `ground_truth(pages)` gives the same text without rendering.

`save_scan(images, path)` writes PDF (image-only, JPEG or CCITT G4 streams, through Pillow),
multi-page TIFF, PNG or JPEG by the suffix, atomically (a `.part` file renamed into place, which
the folder watcher ignores).
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.errors import MissingDependencyError

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
    "condensed": "DejaVuSansCondensed.ttf",
    "condensed-bold": "DejaVuSansCondensed-Bold.ttf",
    "serif-condensed": "DejaVuSerifCondensed.ttf",
    "serif-condensed-bold": "DejaVuSerifCondensed-Bold.ttf",
    "sans-oblique": "DejaVuSans-Oblique.ttf",
    "sans-oblique-bold": "DejaVuSans-BoldOblique.ttf",
    "serif-italic": "DejaVuSerif-Italic.ttf",
    "serif-italic-bold": "DejaVuSerif-BoldItalic.ttf",
    "condensed-oblique": "DejaVuSansCondensed-Oblique.ttf",
    "condensed-oblique-bold": "DejaVuSansCondensed-BoldOblique.ttf",
}
FONT_PACKAGE = "fonts-dejavu-core fonts-dejavu-extra"  # the condensed faces are in -extra
PAGE_WIDTH_IN = 8.5
PAGE_HEIGHT_IN = 11.0
MARGIN_IN = 0.8
BODY_POINTS = 11.0
LINE_SPACING = 1.3
FAX_DPI = (204, 98)  # standard-resolution Group 3 fax
ROTATIONS = (0, 90, 180, 270)
SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")

_BARCODE_LINE = re.compile(r"^\{\{barcode\s+(\S+)\s+(.+?)\}\}$")
_COLUMN_GAP = re.compile(r"\S {2,}\S")


@dataclass(frozen=True, slots=True)
class Degradation:
    """How a page is damaged on its way through a scanner or fax. The default is a clean scan."""

    skew_degrees: float = 0.0  # small rotation of the sheet on the glass, counter-clockwise > 0
    rotation: int = 0  # 0, 90, 180, 270: the sheet went in sideways or upside down (clockwise)
    noise: float = 0.0  # 0..1: grain and salt-and-pepper specks
    blur: float = 0.0  # Gaussian blur radius in pixels at 300 dpi (scaled to the dpi)
    fade: float = 0.0  # 0..1: toner running low, text goes grey
    background: int = 255  # paper grey level (recycled paper ~235)
    speckles: int = 0  # dust and toner specks per page
    edge_shadow: bool = False  # dark band along an edge, as from an open scanner lid
    fax: bool = False  # 1-bit, 204x98 dpi sampling, stretched back: the fax look
    jpeg_quality: int | None = None  # pass the page through JPEG at this quality
    color: bool = False  # RGB with a faint paper tint instead of greyscale
    fax_header: str = ""  # the sending machine's line across the top; "{page}" and "{pages}" filled in
    stamp: str = ""  # a slanted grey rubber stamp over the upper right, e.g. "RECEIVED JAN 05 2026"

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise ValueError(f"rotation must be one of {ROTATIONS}, got {self.rotation}")
        for name in ("noise", "fade"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.blur < 0 or self.speckles < 0:
            raise ValueError("blur and speckles must not be negative")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be 1..95, got {self.jpeg_quality}")
        if not 0 <= self.background <= 255:
            raise ValueError(f"background must be 0..255, got {self.background}")


CLEAN = Degradation()
OFFICE_SCAN = Degradation(skew_degrees=0.8, noise=0.08, blur=0.6, background=248, speckles=20)
FAX = Degradation(skew_degrees=1.2, fax=True, noise=0.05, speckles=40)
POOR = Degradation(skew_degrees=2.5, noise=0.35, blur=2.0, fade=0.5, background=225, speckles=300, edge_shadow=True)
UNREADABLE = Degradation(skew_degrees=4.0, noise=0.9, blur=5.0, fade=0.85, background=200, speckles=3000,
                         edge_shadow=True, jpeg_quality=8)


@dataclass(frozen=True, slots=True)
class _Line:
    kind: str  # "heading", "subheading", "label", "table", "pre", "text", "barcode", "blank"
    text: str
    cells: tuple[str, ...] = ()
    barcode_format: str = ""


@dataclass(slots=True)
class _Fonts:
    body: ImageFont.FreeTypeFont
    bold: ImageFont.FreeTypeFont
    heading: ImageFont.FreeTypeFont
    subheading: ImageFont.FreeTypeFont
    mono: ImageFont.FreeTypeFont
    mono_bold: ImageFont.FreeTypeFont
    line_height: int = 0


# ------------------------------------------------------------------------------------ public


def render_pages(
    pages: Sequence[str],
    *,
    dpi: int = 300,
    seed: int = 0,
    degrade: Degradation = CLEAN,
    font: str = "sans",
) -> list[Image.Image]:
    """Render page strings as scanned sheets. `font` is "sans", "serif", "condensed", "serif-condensed", "sans-oblique", "serif-italic" or "condensed-oblique" for body text.

    Deterministic for given arguments. Each image's `info["text"]` is its ground truth.
    """
    if dpi < 50 or dpi > 600:
        raise ValueError(f"dpi must be 50..600, got {dpi}")
    fonts = _load_fonts(font, dpi)
    images: list[Image.Image] = []
    sheets = [blocks for page in pages for blocks in _paginate(_parse(page), fonts, dpi)]
    for number, blocks in enumerate(sheets, start=1):
        sheet, text = _draw(blocks, fonts, dpi)
        text = _marks(sheet, degrade, dpi, number, len(sheets), text)
        rng = np.random.default_rng([seed, len(images)])
        scanned = _degrade(sheet, degrade, dpi, rng)
        out_dpi = FAX_DPI[0] if degrade.fax else dpi
        scanned.info.update(
            text=text,
            rotation=degrade.rotation,
            skew=degrade.skew_degrees,
            dpi=(out_dpi, out_dpi),
            stamp=degrade.stamp,
        )
        images.append(scanned)
    return images


def ground_truth(pages: Sequence[str]) -> str:
    """The words the rendered pages show, markers removed (line breaks may differ from a render)."""
    return "\n\f".join("\n".join(_visible(line) for line in _parse(page)).strip("\n") for page in pages)


def barcode_image(
    payload: str, format: str = "QRCode", *, module_px: int = 4, human_readable: bool = False
) -> Image.Image:
    """A barcode as a greyscale PIL image, through zxing-cpp's writer (3.x `create_barcode`).

    `format` is a zxing-cpp format name ("QRCode", "DataMatrix", "Code128", "PDF417", ...);
    `module_px` the size of one module (narrow bar) in pixels.
    """
    import zxingcpp  # only this helper needs it

    try:
        barcode_format = zxingcpp.barcode_format_from_str(format)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"unknown barcode format {format!r}") from exc
    barcode = zxingcpp.create_barcode(payload, barcode_format)
    array = np.asarray(barcode.to_image(scale=module_px, add_hrt=human_readable, add_quiet_zones=True))
    return Image.fromarray(np.ascontiguousarray(array), mode="L")


def save_scan(
    images: Sequence[Image.Image],
    path: Path | str,
    *,
    jpeg_quality: int = 75,
    created: datetime | None = None,
) -> Path:
    """Write scan images to `path`, the format chosen by its suffix (see `SUFFIXES`).

    PDF: one image per page, no text layer. TIFF: multi-page, Group 4 for 1-bit pages, JPEG
    compression for grey/colour. PNG and JPEG take a single image. `created` (UTC) is the PDF's
    creation date; give one to make the bytes reproducible (default: now).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{target.name}: unsupported suffix {suffix!r}; use one of {', '.join(SUFFIXES)}")
    if not images:
        raise ValueError(f"{target.name}: no pages to save")
    if suffix in (".png", ".jpg", ".jpeg") and len(images) > 1:
        raise ValueError(f"{target.name}: {suffix} holds one page; save {len(images)} pages as .pdf or .tif")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    dpi = _dpi(images[0])
    images = [image.copy() for image in images]  # Pillow leaves save state on appended images
    try:
        if suffix == ".pdf":
            _save_pdf(images, partial, jpeg_quality, created)
        elif suffix in (".tif", ".tiff"):
            first, *rest = images
            compression = "group4" if first.mode == "1" else "jpeg"
            first.save(
                partial,
                format="TIFF",
                save_all=True,
                append_images=rest,
                compression=compression,
                dpi=dpi,
                **({"quality": jpeg_quality} if compression == "jpeg" else {}),
            )
        elif suffix == ".png":
            images[0].save(partial, format="PNG", dpi=dpi, optimize=True)
        else:
            image = images[0] if images[0].mode in ("L", "RGB") else images[0].convert("L")
            image.save(partial, format="JPEG", quality=jpeg_quality, dpi=dpi)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


# ------------------------------------------------------------------------------- layout


def _parse(page: str) -> list[_Line]:
    lines: list[_Line] = []
    for raw in page.expandtabs(4).splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            lines.append(_Line("blank", ""))
        elif match := _BARCODE_LINE.match(stripped):
            lines.append(_Line("barcode", match.group(2), barcode_format=match.group(1)))
        elif stripped.startswith("## "):
            lines.append(_Line("subheading", stripped[3:].strip()))
        elif stripped.startswith("# "):
            lines.append(_Line("heading", stripped[2:].strip()))
        elif stripped.startswith(">"):
            lines.append(_Line("label", stripped[1:].strip()))
        elif stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            cells = tuple(cell.strip() for cell in stripped[1:-1].split("|"))
            lines.append(_Line("table", " ".join(c for c in cells if c), cells=cells))
        elif _COLUMN_GAP.search(stripped):
            lines.append(_Line("pre", line))
        else:
            lines.append(_Line("text", stripped))
    return lines


def _visible(line: _Line) -> str:
    if line.kind == "barcode":
        return line.text if _is_linear(line.barcode_format) else ""
    if line.kind in ("pre", "label"):
        return " ".join(line.text.split())
    return line.text


def _is_linear(format_name: str) -> bool:
    return format_name.lower().replace("-", "") in {"code128", "code39", "code93", "codabar", "ean13", "ean8",
                                                     "upca", "upce", "itf"}


@functools.cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / FONT_FILES[name]
    if not path.is_file():
        raise MissingDependencyError(
            f"font {path} not found",
            hint=f"install it with: apt-get install {FONT_PACKAGE}",
        )
    return ImageFont.truetype(str(path), size)


def _load_fonts(style: str, dpi: int) -> _Fonts:
    styles = ("sans", "serif", "condensed", "serif-condensed", "sans-oblique", "serif-italic", "condensed-oblique")
    if style not in styles:
        raise ValueError(f"font must be one of {styles}, got {style!r}")
    px = round(BODY_POINTS * dpi / 72)
    fonts = _Fonts(
        body=_font(style, px),
        bold=_font(f"{style}-bold", px),
        heading=_font(f"{style}-bold", round(px * 1.45)),
        subheading=_font(f"{style}-bold", round(px * 1.1)),
        mono=_font("mono", round(px * 0.92)),
        mono_bold=_font("mono-bold", round(px * 0.92)),
    )
    fonts.line_height = round(px * LINE_SPACING)
    return fonts


def _content_box(dpi: int) -> tuple[int, int, int, int]:
    margin = round(MARGIN_IN * dpi)
    return margin, margin, round(PAGE_WIDTH_IN * dpi) - margin, round(PAGE_HEIGHT_IN * dpi) - margin


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines or [""]


@dataclass(frozen=True, slots=True)
class _Block:
    """A unit of layout that is never split across sheets (a label box, a table row, a line)."""

    kind: str
    height: int
    lines: tuple[_Line, ...]
    wrapped: tuple[str, ...] = ()


def _blocks(lines: list[_Line], fonts: _Fonts, dpi: int) -> Iterator[_Block]:
    left, _, right, _ = _content_box(dpi)
    width = right - left
    lh = fonts.line_height
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.kind in ("label", "table"):
            j = i
            while j < len(lines) and lines[j].kind == line.kind:
                j += 1
            group = tuple(lines[i:j])
            frame = lh if line.kind == "label" else 0  # the label box's inner padding
            yield _Block(line.kind, lh * len(group) + frame + lh * 2 // 3, group)
            i = j
            continue
        if line.kind == "blank":
            yield _Block("blank", lh // 2, (line,))
        elif line.kind == "heading":
            wrapped = _wrap(line.text, fonts.heading, width)
            yield _Block("heading", round(lh * 1.5) * len(wrapped) + lh // 3, (line,), tuple(wrapped))
        elif line.kind == "subheading":
            wrapped = _wrap(line.text, fonts.subheading, width)
            yield _Block("subheading", round(lh * 1.15) * len(wrapped) + lh // 4, (line,), tuple(wrapped))
        elif line.kind == "barcode":
            image = _barcode_for_page(line, dpi)
            extra = lh if _is_linear(line.barcode_format) else 0
            yield _Block("barcode", image.height + extra + lh // 2, (line,))
        elif line.kind == "pre":
            if fonts.mono.getlength(line.text) <= width:
                yield _Block("pre", lh, (line,), (line.text,))
            else:
                for part in _wrap(line.text, fonts.mono, width):
                    yield _Block("pre", lh, (line,), (part,))
        else:
            for part in _wrap(line.text, fonts.body, width):
                yield _Block("text", lh, (line,), (part,))
        i += 1


def _paginate(lines: list[_Line], fonts: _Fonts, dpi: int) -> Iterator[list[_Block]]:
    _, top, _, bottom = _content_box(dpi)
    available = bottom - top
    sheet: list[_Block] = []
    used = 0
    for block in _blocks(lines, fonts, dpi):
        if sheet and used + block.height > available and block.kind != "blank":
            yield sheet
            sheet, used = [], 0
        if not sheet and block.kind == "blank":
            continue
        sheet.append(block)
        used += block.height
    yield sheet  # an empty page still gives a (blank) sheet


def _barcode_for_page(line: _Line, dpi: int) -> Image.Image:
    linear = _is_linear(line.barcode_format)
    # a QR module ~0.5 mm, a narrow bar ~0.33 mm: both read well at 200-300 dpi
    module = max(2, round(dpi * (0.013 if linear else 0.02)))
    image = barcode_image(line.text, line.barcode_format, module_px=module)
    if linear:
        image = image.resize((image.width, round(dpi * 0.6)), Image.Resampling.NEAREST)
    return image


def _draw(blocks: list[_Block], fonts: _Fonts, dpi: int) -> tuple[Image.Image, str]:
    size = (round(PAGE_WIDTH_IN * dpi), round(PAGE_HEIGHT_IN * dpi))
    sheet = Image.new("L", size, 255)
    draw = ImageDraw.Draw(sheet)
    left, top, right, _ = _content_box(dpi)
    lh = fonts.line_height
    stroke = max(2, dpi // 100)
    y = top
    text_lines: list[str] = []
    for block in blocks:
        if block.kind == "blank":
            text_lines.append("")
        elif block.kind in ("heading", "subheading"):
            font = fonts.heading if block.kind == "heading" else fonts.subheading
            step = round(lh * (1.5 if block.kind == "heading" else 1.15))
            for part in block.wrapped:
                draw.text((left, y), part, font=font, fill=0)
                text_lines.append(part)
                y += step
        elif block.kind == "text":
            draw.text((left, y), block.wrapped[0], font=fonts.body, fill=0)
            text_lines.append(block.wrapped[0])
        elif block.kind == "pre":
            draw.text((left, y), block.wrapped[0], font=fonts.mono, fill=0)
            text_lines.append(" ".join(block.wrapped[0].split()))
        elif block.kind == "label":
            width = max(fonts.bold.getlength(line.text) for line in block.lines) + lh
            box = (left, y, min(right, left + round(width)), y + block.height - lh * 2 // 3)
            draw.rectangle(box, outline=0, width=stroke)
            for k, line in enumerate(block.lines):
                draw.text((left + lh // 2, y + lh // 2 + k * lh), line.text, font=fonts.bold, fill=0)
                text_lines.append(" ".join(line.text.split()))
        elif block.kind == "table":
            _draw_table(draw, block, fonts, left, right, y, stroke)
            text_lines.extend(line.text for line in block.lines)
        elif block.kind == "barcode":
            line = block.lines[0]
            image = _barcode_for_page(line, dpi)
            sheet.paste(image, (left, y))
            if _is_linear(line.barcode_format):
                draw.text((left + lh, y + image.height + lh // 8), line.text, font=fonts.mono, fill=0)
                text_lines.append(line.text)
        y += block.height
    return sheet, "\n".join(text_lines).strip("\n")


def _draw_table(
    draw: ImageDraw.ImageDraw, block: _Block, fonts: _Fonts, left: int, right: int, y: int, stroke: int
) -> None:
    lh = fonts.line_height
    columns = max(len(line.cells) for line in block.lines)
    widths = [0.0] * columns
    for row, line in enumerate(block.lines):
        font = fonts.bold if row == 0 else fonts.body
        for c, cell in enumerate(line.cells):
            widths[c] = max(widths[c], font.getlength(cell) + lh)
    scale = min(1.0, (right - left) / max(sum(widths), 1))
    xs = [left]
    for w in widths:
        xs.append(xs[-1] + round(w * scale))
    bottom = y + lh * len(block.lines)
    for r in range(len(block.lines) + 1):
        draw.line((xs[0], y + r * lh, xs[-1], y + r * lh), fill=0, width=stroke)
    for x in xs:
        draw.line((x, y, x, bottom), fill=0, width=stroke)
    for row, line in enumerate(block.lines):
        font = fonts.bold if row == 0 else fonts.body
        for c, cell in enumerate(line.cells):
            draw.text((xs[c] + lh // 3, y + row * lh + lh // 8), cell, font=font, fill=0)


def _marks(sheet: Image.Image, d: Degradation, dpi: int, number: int, count: int, text: str) -> str:
    """What a fax machine or a clerk adds to the paper: a header line, a rubber stamp."""
    if d.fax_header:
        header = d.fax_header.replace("{page}", str(number)).replace("{pages}", str(count))
        font = _font("mono", round(8.5 * dpi / 72))
        ImageDraw.Draw(sheet).text((round(0.35 * dpi), round(0.2 * dpi)), header, font=font, fill=0)
        text = " ".join(header.split()) + "\n" + text
    if d.stamp:
        font = _font("sans-bold", round(15 * dpi / 72))
        pad = round(0.08 * dpi)
        width = round(font.getlength(d.stamp)) + 2 * pad
        height = round(15 * dpi / 72 * 1.3) + 2 * pad
        mark = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(mark)
        draw.rectangle((0, 0, width - 1, height - 1), outline=255, width=max(2, dpi // 60))
        draw.text((pad, pad), d.stamp, font=font, fill=255)
        mark = mark.rotate(8, expand=True, resample=Image.Resampling.BICUBIC)
        ink = Image.new("L", mark.size, 90)
        where = (sheet.width - mark.width - round(0.6 * dpi), round(0.55 * dpi))
        sheet.paste(ink, where, mark)
    return text


# ---------------------------------------------------------------------------- degradation


def _degrade(sheet: Image.Image, d: Degradation, dpi: int, rng: np.random.Generator) -> Image.Image:
    image = sheet
    if d.fade:
        ink = round(255 * d.fade * 0.75)  # black text becomes this grey
        image = image.point(lambda v: ink + v * (255 - ink) // 255)
    if d.blur:
        image = image.filter(ImageFilter.GaussianBlur(d.blur * dpi / 300))
    if d.background < 255:
        image = image.point(lambda v: v * d.background // 255)
    if d.skew_degrees:
        image = image.rotate(
            d.skew_degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=d.background
        )
    pixels = np.asarray(image, dtype=np.float32)
    if d.edge_shadow:
        width = pixels.shape[1]
        band = max(4, width // 30)
        ramp = np.linspace(0.35, 1.0, band, dtype=np.float32)
        pixels[:, :band] *= ramp
    if d.noise:
        pixels += rng.normal(0.0, 40.0 * d.noise, pixels.shape).astype(np.float32)
        flips = rng.random(pixels.shape, dtype=np.float32) < 0.004 * d.noise
        pixels[flips] = 255.0 - pixels[flips]
    if d.speckles:
        _speckle(pixels, d.speckles, dpi, rng)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    if d.rotation:
        image = image.rotate(-d.rotation, expand=True)  # PIL rotates counter-clockwise
    if d.fax:
        image = _fax(image, dpi)
    elif d.jpeg_quality is not None:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=d.jpeg_quality)
        image = Image.open(io.BytesIO(buffer.getvalue()))
        image.load()
    if d.color and image.mode == "L":
        tint = Image.new("RGB", image.size, (255, 250, 238))
        image = Image.composite(Image.new("RGB", image.size, (20, 22, 30)), tint, image.point(lambda v: 255 - v))
    return image


def _speckle(pixels: np.ndarray, count: int, dpi: int, rng: np.random.Generator) -> None:
    height, width = pixels.shape
    radius = max(1, dpi // 150)
    ys = rng.integers(radius, height - radius, count)
    xs = rng.integers(radius, width - radius, count)
    sizes = rng.integers(1, radius * 2 + 1, count)
    for y, x, s in zip(ys.tolist(), xs.tolist(), sizes.tolist(), strict=True):
        pixels[y : y + s, x : x + s] = rng.integers(0, 90)


def _fax(image: Image.Image, dpi: int) -> Image.Image:
    """Sample at 204x98 dpi, threshold to 1 bit, stretch back to square 204 dpi pixels."""
    low = image.resize(
        (round(image.width * FAX_DPI[0] / dpi), round(image.height * FAX_DPI[1] / dpi)),
        Image.Resampling.BOX,
    )
    bits = low.point(lambda v: 255 if v > 150 else 0).convert("1", dither=Image.Dither.NONE)
    return bits.resize((bits.width, round(bits.height * FAX_DPI[0] / FAX_DPI[1])), Image.Resampling.NEAREST)


# ---------------------------------------------------------------------------------- saving


def _dpi(image: Image.Image) -> tuple[int, int]:
    value = image.info.get("dpi", (300, 300))
    return round(value[0]), round(value[1])


def _save_pdf(images: Sequence[Image.Image], path: Path, jpeg_quality: int, created: datetime | None) -> None:
    # Pillow, not img2pdf even when installed: the same bytes whatever extras a machine has.
    # Pillow embeds JPEG (grey/colour) or CCITT G4 (1-bit) streams, as img2pdf would.
    if len({image.mode for image in images}) > 1:
        images = [image.convert("L") if image.mode == "1" else image for image in images]
    first, *rest = images
    first.save(
        path,
        format="PDF",
        save_all=True,
        append_images=rest,
        resolution=float(_dpi(first)[0]),
        **({} if first.mode == "1" else {"quality": jpeg_quality}),  # 1-bit pages go in as CCITT G4
        **({"creationDate": created.utctimetuple(), "modDate": created.utctimetuple()} if created else {}),
    )


def page_size_points(image: Image.Image) -> tuple[float, float]:
    """The paper size of a rendered page in PDF points (for checks): 612 x 792 for letter."""
    dpi = _dpi(image)
    return image.width * 72 / dpi[0], image.height * 72 / dpi[1]


__all__ = [
    "CLEAN",
    "FAX",
    "OFFICE_SCAN",
    "POOR",
    "UNREADABLE",
    "Degradation",
    "barcode_image",
    "ground_truth",
    "page_size_points",
    "render_pages",
    "save_scan",
]
