"""Our MinAtar training curves drawn on Young & Tian's published DQN curves.

Young & Tian (2019) publish their MinAtar results only as an image: the README of
kenjyoung/MinAtar shows `img/learning_curves.gif` (3038x1629 pixels), five panels of the
100-episode moving average of training returns against frames (= agent steps, MinAtar
has no frame skip), 0 to 5M, each curve the mean of 30 runs. This module reads that
file from a MinAtar checkout the user names (it is not shipped here), crops each game's
panel and shows it as the background of axes whose data coordinates match the panel's
own, so our curves (the same statistic: moving average over 100 training games, each
seed, and their mean) lie on the same scale. It is a visual comparison: their numbers
are not extracted, and the panel's pixels carry all four of their agents (DQN is blue).

The panel geometry was measured on that image: the x axis runs from 0 at the left spine
to 5M at the right spine (the tick marks sit on both), and the y ticks' pixel rows give
each panel's scale.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from purejaxdqn.tools.plot import RunData, running_mean

IMAGE_SIZE = (3038, 1629)  # width, height of img/learning_curves.gif
FRAMES_M = 5.0  # the x axis of every panel: 0 to 5 million frames
WINDOW = 100  # their moving average: returns over 100 episodes


class Panel(NamedTuple):
    """One game's plot in the image: spine columns, the pixel row of y = 0 and pixels per
    y unit (from the y tick marks)."""

    left: int
    right: int
    top: int
    bottom: int
    y_zero: float
    pixels_per_unit: float


# Measured on the image: spines (the dark 478-pixel lines) and tick rows, e.g. Breakout's
# ticks 15/10/5/0 at rows 286.5/403.5/520.5/637.0.
PANELS = {
    "Seaquest": Panel(615, 1312, 180, 657, 624.0, 99.0 / 5),
    "Breakout": Panel(1569, 2266, 184, 662, 637.0, 116.8 / 5),
    "Asterix": Panel(106, 804, 955, 1432, 1407.0, 101.6 / 5),
    "Freeway": Panel(1202, 1900, 955, 1432, 1398.0, 82.2 / 10),
    "SpaceInvaders": Panel(2295, 2992, 955, 1432, 1400.0, 110.75 / 50),
}


class ImageError(ValueError):
    """The image is not the one whose panels were measured; one line for the user."""


def load_image(path: str) -> np.ndarray:
    from PIL import Image

    try:
        image = Image.open(path)
    except OSError as error:
        raise ImageError(f"cannot read {path}: {error}") from None
    if image.size != IMAGE_SIZE:
        raise ImageError(f"{path} is {image.size[0]}x{image.size[1]} pixels; expected "
                         f"kenjyoung/MinAtar's img/learning_curves.gif "
                         f"({IMAGE_SIZE[0]}x{IMAGE_SIZE[1]})")
    return np.asarray(image.convert("RGB"))


def panel_extent(panel: Panel) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) data coordinates (x in millions) of the cropped panel's edges."""
    per_x = FRAMES_M / (panel.right - panel.left)
    x0, x1 = 0.0, (panel.right + 1 - panel.left) * per_x
    y0 = (panel.y_zero - (panel.bottom + 1)) / panel.pixels_per_unit
    y1 = (panel.y_zero - panel.top) / panel.pixels_per_unit
    return x0, x1, y0, y1


def curves(run: RunData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each seed's (steps, moving average over the last 100 training games)."""
    return [(games[:, 0], running_mean(games[:, 1], WINDOW))
            for games in run.episodes.values() if len(games)]


def comparison_figure(image: np.ndarray, runs: dict[str, RunData]):
    """One panel per game in `runs` (name -> run): their plot as the background, our
    seeds' moving averages over it, x limited to the steps we trained (+5%)."""
    return panels_figure(image, [(game, "ours", runs[game]) for game in PANELS if game in runs])


def panels_figure(image: np.ndarray, entries: Sequence[tuple[str, str, RunData]]):
    """One panel per (game, label, run) entry, in order: a game may appear twice (e.g.
    two step sizes on the same published panel)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0 * len(entries), 3.8), layout="constrained")
    for ax, (game, label, run) in zip(figure.subplots(1, len(entries), squeeze=False)[0],
                                      entries):
        panel = PANELS[game]
        crop = image[panel.top:panel.bottom + 1, panel.left:panel.right + 1]
        ax.imshow(crop, extent=panel_extent(panel), aspect="auto", interpolation="bilinear")
        seeds = curves(run)
        for steps, mean in seeds:
            ax.plot(steps / 1e6, mean, color="black", linewidth=0.8, alpha=0.6)
        reach = max(steps[-1] for steps, _ in seeds) / 1e6
        ax.set_xlim(0, reach * 1.05)
        ax.set_title(f"{game}: {label} (black, {len(seeds)} seeds) on Young & Tian's panel",
                     fontsize=9)
        ax.set_xlabel("agent steps = frames (millions)")
        ax.set_ylabel("return, moving average of 100 games")
    figure.suptitle("Visual comparison only: their image (kenjyoung/MinAtar README, "
                    "DQN in blue, 30 runs each) stretched to our step range", fontsize=9)
    return figure


def main(argv=None) -> int:
    """Runs of one's choice on the published panels (e.g. an ablation's run dirs)."""
    import argparse
    import sys

    from experiments.common import AblationError, check_out
    from purejaxdqn.tools.plot import PlotError, load_run

    parser = argparse.ArgumentParser(
        prog="python -m experiments.young_tian_figure",
        description="Draw run dirs' 100-game moving averages on Young & Tian's panels.")
    parser.add_argument("--image", required=True,
                        help="kenjyoung/MinAtar's img/learning_curves.gif")
    parser.add_argument("--panel", action="append", required=True, metavar="GAME:LABEL=RUN_DIR",
                        help=f"one panel (repeatable); GAME one of {', '.join(PANELS)}")
    parser.add_argument("--out", required=True, metavar="PNG")
    args = parser.parse_args(argv)
    entries = []
    try:
        for spec in args.panel:
            head, sep, run_dir = spec.partition("=")
            game, _, label = head.partition(":")
            if not sep or game not in PANELS or not label:
                raise ImageError(f"--panel takes GAME:LABEL=RUN_DIR with GAME one of "
                                 f"{', '.join(PANELS)}; got {spec!r}")
            entries.append((game, label, load_run(run_dir)))
        image = load_image(args.image)
        check_out(args.out, file=True)
    except (ImageError, PlotError, AblationError) as error:
        print(f"young_tian_figure: error: {error}", file=sys.stderr)
        return 2
    panels_figure(image, entries).savefig(args.out, dpi=90)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
