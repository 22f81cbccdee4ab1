"""The env table: every environment this package runs, one entry each.

An entry (`EnvEntry`) says all there is to know about one env: its kind (kinds.py),
its JAX adapter (the fused engine runs it; jax_envs.py), its envpool id where envpool
has it (the host engine steps it on CPU threads), the player that shows it to a person
(players.py) and its base preset, the preset (presets.PRESETS, by name) whose protocol
an agent preset named on it, or an ablation variant, starts from. Every other module
reads the table through `env_entry` and derives what it needs from the entry.

The Atari games are one family, every game envpool lists, made on demand
(`atari_entry`): "Breakout", "pong-v5", "Breakout-ram" for the RAM observations.

Adding an env is one entry: `register_env(EnvEntry(...))` (a gymnax env: its id in
`gymnax_game`; another JAX family: its adapter, a `Config -> jax_envs.JaxGame`
function). docs/extending.md has a worked example, tests/test_env_table.py runs it.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from typing import Callable, NamedTuple

import numpy as np

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.jax_envs import UNREACHABLE, JaxEnv, JaxGame, batch_game, gymnax_game
from purejaxdqn.registry import Registry


class PlayerSpec(NamedTuple):
    """How `purejaxdqn watch` and training videos show an env (players.py)."""

    name: str  # players.PLAYERS: "ale" (Atari), "gymnasium", "grid" (MinAtar)
    env_id: str | None = None  # the player's own id for the env, where it is not ours
    action_names: tuple[str, ...] = ()  # for the Q-value panel (else "action i")


@dataclasses.dataclass(frozen=True)
class EnvEntry:
    name: str  # canonical name: run directories, specs and messages use it
    kind: str  # a kinds.KINDS name
    preset: str  # base preset: a presets.PRESETS name
    jax: Callable[[Config], JaxGame] | None = None  # JAX adapter (None: no JAX env)
    envpool: str | None = None  # envpool's id (None: envpool lacks it)
    player: PlayerSpec | None = None  # None: it cannot be watched or recorded
    atari_game: str | None = None  # the Atari game, for the human-normalised score table
    # the env's own game-over rule on a final observation: envpool reports a game over
    # on the time-limit step as a truncation only (Atari says so in its info instead)
    game_over: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def game(self) -> str:
        """The Atari game name, else the env's name (EnvSpec.game)."""
        return self.atari_game or self.name


ENVS: Registry[EnvEntry] = Registry("env_id")


def register_env(entry: EnvEntry) -> EnvEntry:
    """Add `entry` to the table (a name registers once); `ENVS.unregister(name)` undoes it."""
    return ENVS.register(entry.name, entry)


def cartpole_failed(obs: np.ndarray) -> np.ndarray:
    """CartPole's game-over rule (gymnasium, envpool): cart beyond 2.4 or pole beyond 12°."""
    obs = np.asarray(obs)
    return (np.abs(obs[:, 0]) > 2.4) | (np.abs(obs[:, 2]) > 12 * 2 * np.pi / 360)


def _vector(name: str, jax=None, action_names=(), gymnasium_id=None, game_over=None):
    """A low-dimensional control env envpool has; gymnasium renders it."""
    return EnvEntry(name, "vector", "cartpole", jax=jax, envpool=name, game_over=game_over,
                    player=PlayerSpec("gymnasium", gymnasium_id, action_names))


# MinAtar's full action set, in its order (kenjyoung/MinAtar minatar/environment.py)
MINATAR_ACTION_NAMES = ("no-op", "left", "up", "right", "down", "fire")


def _minatar(game: str, ends_after: int = UNREACHABLE):
    """A MinAtar game (gymnax's; envpool has none). `ends_after`: see Freeway below."""
    return EnvEntry(f"{game}-MinAtar", "minatar", "minatar",
                    jax=gymnax_game(f"{game}-MinAtar", grid=True, ends_after=ends_after),
                    player=PlayerSpec("grid", action_names=MINATAR_ACTION_NAMES))


_CARTPOLE_ACTIONS = ("push left", "push right")
_LUNAR_ACTIONS = ("do nothing", "left engine", "main engine", "right engine")
for _entry in (
    _vector("CartPole-v1", gymnax_game("CartPole-v1"), _CARTPOLE_ACTIONS,
            game_over=cartpole_failed),
    _vector("CartPole-v0", None, _CARTPOLE_ACTIONS, game_over=cartpole_failed),
    _vector("Acrobot-v1", gymnax_game("Acrobot-v1"), ("torque -1", "torque 0", "torque +1")),
    _vector("MountainCar-v0", None, ("push left", "no push", "push right")),
    _vector("LunarLander-v3", None, _LUNAR_ACTIONS),
    _vector("LunarLander-v2", None, _LUNAR_ACTIONS,
            gymnasium_id="LunarLander-v3"),  # gymnasium 1.x keeps only v3
    _minatar("Asterix"),
    _minatar("Breakout"),
    # Freeway ENDS (terminal, no bootstrap) after a fixed number of steps in the original
    # MinAtar: its clock starts at 2,500 and the game ends when it goes below 0, i.e. on
    # the 2,501st step (kenjyoung/MinAtar minatar/environments/freeway.py:84-86). gymnax
    # files it under its time limit (a truncation at 2,500); we keep the original's rule.
    _minatar("Freeway", ends_after=2_501),
    _minatar("Seaquest"),
    _minatar("SpaceInvaders"),
):
    register_env(_entry)


def atari_entry(game: str, ram: bool = False) -> EnvEntry:
    """Atari game `game` (envpool's spelling): the screen, or with `ram` the 128 RAM bytes."""
    return EnvEntry(f"{game}-ram" if ram else game, "atari_ram" if ram else "atari",
                    "nature", envpool=f"{game}-v5", player=PlayerSpec("ale"),
                    atari_game=game)


@functools.lru_cache(maxsize=1)
def _envpool_ids() -> tuple[str, ...]:
    import envpool

    return tuple(envpool.list_all_envs())


@functools.lru_cache(maxsize=1)
def atari_games() -> tuple[str, ...]:
    """Game names as envpool registers them ("Breakout" for "Breakout-v5")."""
    from envpool.atari.registration import atari_game_list

    camel = ("".join(part.capitalize() for part in g.split("_")) for g in atari_game_list)
    return tuple(sorted(g for g in camel if f"{g}-v5" in _envpool_ids()))


def _installed(entry: EnvEntry) -> bool:
    """Whether this machine can run the env: a JAX env always (asked first: importing
    envpool costs ~0.6 s, the whole set-up of a short fused run), else envpool's list."""
    return entry.jax is not None or entry.envpool in _envpool_ids()


def entries() -> list[EnvEntry]:
    """The table's entries this machine can run, in registration order (no Atari)."""
    return [e for e in map(ENVS.get, ENVS.names()) if _installed(e)]


def _by_name(env_id: str) -> EnvEntry | None:
    """The entry `env_id` names in any case, "_" for "-", MinAtar games either way round
    ("breakout-minatar", "MinAtar-Breakout"); None if none (or not installed)."""
    key = env_id.strip().lower().replace("_", "-")
    if key.startswith("minatar-"):
        key = key[len("minatar-"):] + "-minatar"
    for name in ENVS.names():
        if name.lower() == key:
            entry = ENVS.get(name)
            return entry if _installed(entry) else None
    return None


def _atari(env_id: str) -> EnvEntry | None:
    """The Atari family: "Breakout", "breakout", "Breakout-v5", "Breakout-ram(-v5)"; or None."""
    name, ram = env_id.strip(), False
    for suffix in ("-ram-v5", "-ram"):
        if name.lower().endswith(suffix):
            name, ram = name[: -len(suffix)], True
    game = name[:-3] if name.endswith("-v5") else name
    by_lower = {g.lower(): g for g in atari_games()}
    return atari_entry(by_lower[game.lower()], ram) if game.lower() in by_lower else None


def env_entry(env_id: str) -> EnvEntry:
    """The entry of a user's env name; a one-line ConfigError naming close matches."""
    entry = _by_name(env_id) or _atari(env_id)
    if entry is not None:
        return entry
    known = list(atari_games()) + [e.name for e in entries()]
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.5)
    close += [k for k in known if env_id.lower() in k.lower() and k not in close][:3]
    hint = f"; did you mean {', '.join(close[:3])}?" if close else \
        "; try an Atari game name like Breakout or Pong, or CartPole-v1"
    raise ConfigError(f"unknown environment {env_id!r}{hint}")


def resolve_env_id(env_id: str) -> tuple[str, str, str]:
    """(kind, envpool id or, for a JAX-only env, its name, game) of a user's env name."""
    entry = env_entry(env_id)
    return entry.kind, entry.envpool or entry.name, entry.game


def make_jax_env(config: Config, num_envs: int, max_episode_steps: int) -> JaxEnv:
    """`num_envs` copies of `config.env_id`'s JAX env (pure, unjitted: the caller jits)."""
    entry = env_entry(config.env_id)
    if entry.jax is None:
        names = ", ".join(e.name for e in entries() if e.jax is not None)
        raise ConfigError(f"{entry.name} has no JAX implementation here; JAX envs: {names}")
    return batch_game(entry.jax(config), entry.kind, entry.name, num_envs, max_episode_steps,
                      config.sticky_action_prob)
