"""Drawing a watched game: the Q-value panel beside the screen, and the video file.

Each video frame is the screen with a panel beside it: one bar per action's Q(s, a),
the chosen action marked, the score so far.
"""

from __future__ import annotations

import numpy as np

PANEL_WIDTH = 320  # pixels beside the screen
VIDEO_EXTENSIONS = (".mp4", ".gif")


class QPanel:
    """The panel beside the screen, drawn with matplotlib (Agg) into a numpy array:
    the run, the score, the step and action, then a horizontal bar per action's
    Q(s, a) (from 0, value printed), the chosen action in orange."""

    def __init__(self, height: int, action_names: tuple[str, ...], title: str):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        dpi = 100
        self.figure = Figure(figsize=(PANEL_WIDTH / dpi, height / dpi), dpi=dpi,
                             facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        n = len(action_names)
        font = float(np.clip(5 + height / 100, 6, 9))  # points
        line = font * 1.4 * dpi / 72 / height  # one text line, in figure fractions
        top = 1 - 4 / height
        self.figure.text(0.04, top, title, fontsize=font, va="top")
        self.header = self.figure.text(0.04, top - line, "", fontsize=font + 1, va="top",
                                       fontweight="bold")
        self.detail = self.figure.text(0.04, top - 2.1 * line, "", fontsize=font, va="top",
                                       linespacing=1.2)
        bottom = 2.8 * line  # x tick labels and the x label
        self.ax = self.figure.add_axes((0.36, bottom, 0.58, top - 4.6 * line - bottom))
        self.bars = self.ax.barh(np.arange(n), np.zeros(n), color="0.6", height=0.7)
        self.ax.set_yticks(np.arange(n), [name.lower() for name in action_names],
                           fontsize=font)
        self.ax.invert_yaxis()
        self.ax.tick_params(axis="x", labelsize=font)
        self.ax.axvline(0.0, color="0.2", linewidth=0.6)
        self.ax.set_xlabel("Q(s, a)", fontsize=font, labelpad=1)
        self.values = [self.ax.text(0, i, "", va="center", fontsize=font) for i in range(n)]
        self._dynamic = [*self.bars, *self.values, self.header, self.detail]
        for artist in self._dynamic:
            artist.set_animated(True)  # drawn per frame over the cached background
        self._background = None

    def draw(self, q: np.ndarray, chosen: int | None, score: float, detail: str) -> np.ndarray:
        """The panel for Q-values `q` [A], `chosen` action (None: game over).

        The axis is redrawn only when the values leave it or shrink to a third of it;
        otherwise the cached background is restored and only the bars and texts
        are drawn (a full matplotlib draw costs several times more)."""
        lo, hi = min(0.0, float(q.min())), max(0.0, float(q.max()))
        span = max(hi - lo, 1e-3)
        x0, x1 = self.ax.get_xlim()
        width = x1 - x0
        if self._background is None or lo < x0 or hi > x1 - 0.3 * width or \
                hi - lo < 0.35 * width:
            self.ax.set_xlim(lo - (0.05 * span if lo < 0 else 0.0), hi + 0.6 * span)
            x0, x1 = self.ax.get_xlim()
            self.canvas.draw()  # everything but the animated artists
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        for i, (bar, text) in enumerate(zip(self.bars, self.values)):
            bar.set_width(float(q[i]))
            bar.set_color("tab:orange" if i == chosen else "0.65")
            text.set_position((max(float(q[i]), 0.0) + 0.02 * (x1 - x0), i))
            text.set_text(f"{q[i]:.2f}")
        self.header.set_text(f"score {score:.2f}".rstrip("0").rstrip("."))
        self.detail.set_text(detail)
        for artist in self._dynamic:
            self.figure.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


def compose(screen: np.ndarray, panel: np.ndarray) -> np.ndarray:
    """Screen and panel side by side, padded with white to even sizes (H.264 needs them)."""
    frame = np.concatenate([screen, panel], axis=1)
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), constant_values=255)


def open_video(path: str, fps: float):
    """An imageio writer with `append_data(frame)` and `close()`; the format from the
    extension (.mp4: H.264 via imageio-ffmpeg, .gif: Pillow, looping)."""
    import warnings

    import imageio.v2 as imageio

    # imageio-ffmpeg starts ffmpeg with fork+exec, which JAX's at-fork hook warns about
    # needlessly (the child runs no JAX code).
    warnings.filterwarnings("ignore", message="os.fork\\(\\) was called")

    if path.lower().endswith(".gif"):
        return imageio.get_writer(path, mode="I", duration=1000.0 / fps, loop=0)
    return imageio.get_writer(path, fps=fps, codec="libx264", quality=7,
                              macro_block_size=2, pixelformat="yuv420p")
