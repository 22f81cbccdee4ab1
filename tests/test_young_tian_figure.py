"""experiments/young_tian_figure.py: the panel geometry maps pixels to data, the image
is checked, and our curves are drawn over each game's panel."""

import numpy as np
import pytest
from PIL import Image

from experiments import minatar
from experiments import young_tian_figure as ytf
from purejaxdqn.tools.plot import RunData, load_run


def _synthetic(tmp_path, value=10.0, game="Breakout"):
    """An image of the published size, white, with one black row at y = `value` and one
    black column at x = 2M frames inside `game`'s panel."""
    panel = ytf.PANELS[game]
    pixels = np.full((ytf.IMAGE_SIZE[1], ytf.IMAGE_SIZE[0], 3), 255, np.uint8)
    row = int(round(panel.y_zero - value * panel.pixels_per_unit))
    column = int(round(panel.left + 2.0 / ytf.FRAMES_M * (panel.right - panel.left)))
    pixels[row, panel.left:panel.right] = 0
    pixels[panel.top:panel.bottom, column] = 0
    path = tmp_path / "learning_curves.gif"
    Image.fromarray(pixels).save(path)
    return path, row, column


def test_extent_maps_panel_pixels_to_their_data_values(tmp_path):
    for game, panel in ytf.PANELS.items():
        path, row, column = _synthetic(tmp_path, 10.0, game)
        x0, x1, y0, y1 = ytf.panel_extent(panel)
        height, width = panel.bottom + 1 - panel.top, panel.right + 1 - panel.left
        # the centre of pixel (row, column) of the crop, in data coordinates
        y = y1 - (row - panel.top + 0.5) * (y1 - y0) / height
        x = x0 + (column - panel.left + 0.5) * (x1 - x0) / width
        assert y == pytest.approx(10.0, abs=1.0 / panel.pixels_per_unit)
        assert x == pytest.approx(2.0, abs=2 * ytf.FRAMES_M / width)
        assert x0 == 0.0 and y0 < 0 < y1


def test_wrong_image_is_one_line_error(tmp_path, capsys):
    small = tmp_path / "small.png"
    Image.new("RGB", (100, 50)).save(small)
    with pytest.raises(ytf.ImageError, match="expected kenjyoung/MinAtar"):
        ytf.load_image(str(small))
    with pytest.raises(ytf.ImageError, match="cannot read"):
        ytf.load_image(str(tmp_path / "missing.gif"))
    assert minatar.main(["--games", "Breakout", "--young-tian-image", str(small),
                         "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("experiments.minatar: error:")
    assert not (tmp_path / "o").exists()


def test_figure_draws_each_seed_over_each_panel(tmp_path):
    path, _, _ = _synthetic(tmp_path)
    games = np.stack([np.arange(1, 301) * 1000.0, np.full(300, 7.0)], axis=1)
    run = RunData("r", {}, {0: games, 1: games + [0, 1]}, [], [])
    figure = ytf.comparison_figure(ytf.load_image(str(path)), {"Breakout": run, "Freeway": run})
    axes = figure.get_axes()
    assert len(axes) == 2
    lines = axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata()[-1], 7.0)  # 100-game mean of sevens
    np.testing.assert_allclose(lines[1].get_ydata()[-1], 8.0)
    assert axes[0].get_xlim()[1] == pytest.approx(0.3 * 1.05)
    assert len(axes[0].get_images()) == 1


def test_command_draws_one_game_twice_and_rejects_bad_panels(tmp_path, capsys):
    # two runs on the same published panel (e.g. two step sizes), from their run dirs;
    # a panel spec without a known game is one line and exit 2, nothing written
    path, _, _ = _synthetic(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text("{}")
    rows = "".join(f"{s},{i * 1000},{5 + s},10\n" for i in range(1, 201) for s in (0, 1))
    (run_dir / "episodes.csv").write_text("seed,step,score,length\n" + rows)
    out = tmp_path / "both.png"
    assert ytf.main(["--image", str(path), "--panel", f"Breakout:a={run_dir}",
                     "--panel", f"Breakout:b={run_dir}", "--out", str(out)]) == 0
    assert out.exists()
    entries = [("Breakout", label, load_run(str(run_dir))) for label in ("a", "b")]
    axes = ytf.panels_figure(ytf.load_image(str(path)), entries).get_axes()
    assert [ax.get_title().split(" (")[0] for ax in axes] == ["Breakout: a", "Breakout: b"]
    assert [len(ax.get_lines()) for ax in axes] == [2, 2]
    capsys.readouterr()
    bad = tmp_path / "bad.png"
    assert ytf.main(["--image", str(path), "--panel", f"Pong:a={run_dir}", "--out",
                     str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("young_tian_figure: error:")
    assert not bad.exists()

