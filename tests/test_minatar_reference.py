"""gymnax's MinAtar games against the original `minatar` package (Young & Tian, 2019).

Both packages draw their randomness from different generators (numpy's RandomState
vs jax.random), so the two cannot be seeded into the same episode. Instead the
original is the reference and gymnax is driven from it:

* at every reset, the gymnax state is built from the original's state (`_TO_GYMNAX`);
* both then step on the same action sequence (gymnax's minimal action index i is the
  original's action `minimal_action_set()[i]`), gymnax on its own state, and
  observation, reward and terminal flag must be equal at every step;
* only on a step where the original drew a random number (a spawn in Asterix and
  Seaquest, the car re-randomisation after a Freeway crossing) the two cannot agree;
  that step is not compared and the gymnax state is rebuilt from the original's.

Breakout (random only at reset) and SpaceInvaders (no randomness) therefore run
free for whole episodes; Asterix, Seaquest and Freeway are compared on every step
without a random draw. The original runs without sticky actions
(sticky_action_prob=0; gymnax has none) and with the same difficulty ramping as
gymnax (on by default in both; off is tested too). gymnax's `step_env` is used
directly: it has no auto-reset and no time limit (that is `step`'s truncation).
docs/minatar_facts.md lists the differences that remain (time limits, action set).
"""

import numpy as np
import pytest

minatar = pytest.importorskip("minatar")
gymnax = pytest.importorskip("gymnax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

GAMES = {  # gymnax id -> original module name
    "Asterix-MinAtar": "asterix",
    "Breakout-MinAtar": "breakout",
    "Freeway-MinAtar": "freeway",
    "Seaquest-MinAtar": "seaquest",
    "SpaceInvaders-MinAtar": "space_invaders",
}


class _CountingRandom:
    """The original game's RandomState, counting calls so a step with a random draw is seen."""

    def __init__(self, seed):
        self._rng = np.random.RandomState(seed)
        self.calls = 0

    def __getattr__(self, name):
        attr = getattr(self._rng, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return attr(*args, **kwargs)

        return counted


def _pad(rows, width, n=100):
    """A Python list of entities -> gymnax's fixed (n, width) int32 buffer, list order kept."""
    out = np.zeros((n, width), np.int32)
    for i, row in enumerate(rows):
        out[i] = [int(v) for v in row]
    return out


def _breakout(g, ref):
    return ref.replace(ball_y=g.ball_y, ball_x=g.ball_x, ball_dir=g.ball_dir, pos=g.pos,
                       brick_map=g.brick_map, strike=g.strike, last_y=g.last_y,
                       last_x=g.last_x, terminal=g.terminal)


def _asterix(g, ref):
    ents = np.zeros((8, 5), np.int32)
    for i, e in enumerate(g.entities):
        if e is not None:
            ents[i] = [e[0], e[1], int(e[2]), int(e[3]), 1]
    return ref.replace(player_x=g.player_x, player_y=g.player_y, shot_timer=g.shot_timer,
                       spawn_speed=g.spawn_speed, spawn_timer=g.spawn_timer,
                       move_speed=g.move_speed, move_timer=g.move_timer,
                       ramp_timer=g.ramp_timer, ramp_index=g.ramp_index, entities=ents,
                       terminal=g.terminal)


def _freeway(g, ref):
    return ref.replace(pos=g.pos, cars=np.array(g.cars, np.int32), move_timer=g.move_timer,
                       terminal=g.terminal)


def _space_invaders(g, ref):
    return ref.replace(pos=g.pos, f_bullet_map=g.f_bullet_map, e_bullet_map=g.e_bullet_map,
                       alien_map=g.alien_map, alien_dir=g.alien_dir,
                       enemy_move_interval=g.enemy_move_interval,
                       alien_move_timer=g.alien_move_timer,
                       alien_shot_timer=g.alien_shot_timer, ramp_index=g.ramp_index,
                       shot_timer=g.shot_timer, ramping=g.ramping, terminal=g.terminal)


def _seaquest(g, ref):
    return ref.replace(
        oxygen=g.oxygen, sub_x=g.sub_x, sub_y=g.sub_y, sub_or=g.sub_or,
        f_bullet_count=len(g.f_bullets), f_bullets=_pad(g.f_bullets, 3),
        e_bullet_count=len(g.e_bullets), e_bullets=_pad(g.e_bullets, 3),
        e_fish_count=len(g.e_fish), e_fish=_pad(g.e_fish, 4),
        e_subs_count=len(g.e_subs), e_subs=_pad(g.e_subs, 5),
        diver_count=g.diver_count, divers_count=len(g.divers), divers=_pad(g.divers, 4),
        e_spawn_speed=g.e_spawn_speed, e_spawn_timer=g.e_spawn_timer,
        d_spawn_timer=g.d_spawn_timer, move_speed=g.move_speed, ramp_index=g.ramp_index,
        shot_timer=g.shot_timer, surface=g.surface, terminal=g.terminal)


_TO_GYMNAX = {"breakout": _breakout, "asterix": _asterix, "freeway": _freeway,
              "space_invaders": _space_invaders, "seaquest": _seaquest}


_STEPS = {}  # env id -> jitted step_env, compiled once per game for the whole module


def _jitted_step(env_id, env):
    if env_id not in _STEPS:
        def step(key, k, state, action, params):
            obs, state, reward, terminated, _ = env.step_env(
                jax.random.fold_in(key, k), state, action, params)
            # strongly typed leaves, so a state rebuilt from the original has the same signature
            state = jax.tree.map(lambda x: jnp.array(x, dtype=jnp.asarray(x).dtype), state)
            return obs, state, reward, terminated

        _STEPS[env_id] = jax.jit(step)
    return _STEPS[env_id]


class _Pair:
    """One original game and its gymnax twin, stepped together."""

    def __init__(self, env_id, seed, ramping=True):
        self.game = GAMES[env_id]
        self.env, params = gymnax.make(env_id)
        if hasattr(params, "ramping"):
            params = params.replace(ramping=ramping)
        self.params = params
        self.orig = minatar.Environment(self.game, sticky_action_prob=0.0,
                                        difficulty_ramping=ramping)
        self.orig.seed(seed)
        self.rng = _CountingRandom(seed)  # the game's own generator (spawns, resets)
        self.orig.env.random = self.rng
        self.minimal = self.orig.minimal_action_set()
        _, ref = jax.eval_shape(self.env.reset_env, jax.random.PRNGKey(0), params)
        self.ref = ref  # the dtype of every state leaf
        self._step = _jitted_step(env_id, self.env)
        self.key, self.k = jax.random.PRNGKey(seed), 0

    def synced_state(self, time):
        state = _TO_GYMNAX[self.game](self.orig.env, self.ref).replace(time=time)
        return jax.tree.map(lambda x, r: np.asarray(x, dtype=r.dtype), state, self.ref)

    def reset(self):
        self.orig.reset()
        return self.synced_state(0)

    def step(self, state, action_index):
        """Step both; returns (gymnax out, original out, whether the original drew randomness)."""
        calls = self.rng.calls
        r_o, t_o = self.orig.act(self.minimal[action_index])
        self.k += 1
        obs, state, r_g, t_g = self._step(self.key, self.k, state, action_index, self.params)
        obs, r_g, t_g = jax.device_get((obs, r_g, t_g))
        return ((obs, state, float(r_g), bool(t_g)),
                (self.orig.state(), float(r_o), bool(t_o)), self.rng.calls > calls)


def _surfaced_without_divers(pair, terminal):
    """Seaquest's end by surfacing with no rescued diver (not by oxygen, enemy or bullet)."""
    g = pair.orig.env
    return (pair.game == "seaquest" and terminal and g.sub_y == 0 and not g.surface
            and g.diver_count == 0 and g.oxygen > 0)


def _run(env_id, seed, steps, ramping=True, action_probs=None, time_limit=None, skip_to=0):
    """Step the pair `steps` times on seeded random actions; count compared/skipped steps.

    skip_to: start the first episode as if that many frames had passed (Freeway's timer).
    """
    pair = _Pair(env_id, seed, ramping)
    acts = np.random.default_rng(seed).choice(len(pair.minimal), size=steps, p=action_probs)
    pair.orig.reset()
    if skip_to:
        pair.orig.env.terminate_timer -= skip_to
    state, t_ep = pair.synced_state(skip_to), skip_to
    stats = dict(compared=0, skipped=0, episodes=0, reward=0.0, time_limit_ends=0,
                 oxygen_refill_ends=0)
    for k, a in enumerate(acts):
        (obs_g, state, r_g, t_g), (obs_o, r_o, t_o), drew = pair.step(state, int(a))
        t_ep += 1
        if drew:  # randomness the two cannot share: resync from the original
            stats["skipped"] += 1
            state = pair.synced_state(t_ep)
        else:
            where = f"{env_id} seed {seed} step {k} (episode step {t_ep})"
            assert obs_g.dtype == np.float32 and obs_o.dtype == bool, where
            if _surfaced_without_divers(pair, t_o):
                # gymnax refills the oxygen bar on this terminal step, the original does not
                assert obs_g[9, :, 7].all() and not obs_o[9, :, 7].all(), where
                obs_g, obs_o = obs_g[..., :7], obs_o[..., :7]
                stats["oxygen_refill_ends"] += 1
            np.testing.assert_array_equal(obs_g, obs_o.astype(np.float32), err_msg=where)
            assert r_g == r_o, where
            if time_limit is not None and t_ep > time_limit:
                # the original's own time limit ends the episode as a termination;
                # gymnax's step_env never terminates there (its limit is step's truncation)
                assert t_o and not t_g, where
                stats["time_limit_ends"] += 1
            else:
                assert t_g == t_o, where
            stats["compared"] += 1
        stats["reward"] += r_o
        if t_o:
            stats["episodes"] += 1
            state, t_ep = pair.reset(), 0
    return stats


def test_action_sets_and_shapes_match():
    """gymnax's minimal action set is the original's minimal_action_set(); same obs shapes."""
    for env_id, game in GAMES.items():
        env, params = gymnax.make(env_id)
        orig = minatar.Environment(game, sticky_action_prob=0.0)
        assert np.asarray(env.minimal_action_set).tolist() == orig.minimal_action_set(), env_id
        assert np.asarray(env.full_action_set).tolist() == list(range(orig.num_actions()))
        assert env.num_actions == len(orig.minimal_action_set()) and orig.num_actions() == 6
        assert env.obs_shape == tuple(orig.state_shape()), env_id
        assert orig.state().dtype == bool  # gymnax's float32 observations: checked in _run


def test_resets_match():
    """Deterministic starts are equal; Breakout's two random starts are the same two."""
    for env_id in ("Asterix-MinAtar", "Seaquest-MinAtar", "SpaceInvaders-MinAtar"):
        env, params = gymnax.make(env_id)
        orig = minatar.Environment(GAMES[env_id], sticky_action_prob=0.0)
        orig.reset()
        obs, _ = jax.jit(env.reset_env)(jax.random.PRNGKey(3), params)
        np.testing.assert_array_equal(np.asarray(obs), orig.state(), err_msg=env_id)
    env, params = gymnax.make("Breakout-MinAtar")
    obs, _ = jax.jit(jax.vmap(env.reset_env, in_axes=(0, None)))(
        jax.random.split(jax.random.PRNGKey(0), 16), params)
    starts_g = {o.tobytes() for o in np.asarray(obs)}
    orig = minatar.Environment("breakout", sticky_action_prob=0.0)
    orig.seed(0)
    starts_o = set()
    for _ in range(16):
        orig.reset()
        starts_o.add(orig.state().astype(np.float32).tobytes())
    assert starts_g == starts_o and len(starts_o) == 2


@pytest.mark.parametrize("env_id", ["Breakout-MinAtar", "SpaceInvaders-MinAtar"])
def test_deterministic_games_free_running(env_id):
    """No randomness after the start: gymnax runs whole episodes on its own state."""
    s = _run(env_id, seed=1, steps=1000)
    assert s["skipped"] == 0 and s["compared"] == 1000
    assert s["episodes"] >= 3 and s["reward"] > 0


@pytest.mark.parametrize("ramping", [True, False])
@pytest.mark.parametrize("env_id", ["Asterix-MinAtar", "Seaquest-MinAtar"])
def test_random_spawn_games_between_draws(env_id, ramping):
    """Every step without a spawn is equal; the spawn steps themselves cannot be."""
    s = _run(env_id, seed=2, steps=1000, ramping=ramping)
    assert s["compared"] >= 0.8 * 1000, s
    assert s["skipped"] > 0 and s["episodes"] >= 5 and s["reward"] > 0, s


def test_freeway_between_crossings_and_time_limit():
    """Freeway draws only at a crossing; its 2500-frame end is a termination only in the original."""
    up = [0.1, 0.8, 0.1]  # n, u, d: mostly up, so the chicken crosses often
    # the first episode starts at frame 2000 (the original's timer set back to match)
    s = _run("Freeway-MinAtar", seed=3, steps=1000, action_probs=up, time_limit=2500,
             skip_to=2000)
    assert s["reward"] >= 5 and s["skipped"] == s["reward"]  # one draw per crossing
    assert s["episodes"] == 1 and s["time_limit_ends"] == 1  # the original ends at frame 2501
    env, params = gymnax.make("Freeway-MinAtar")
    assert params.max_steps_in_episode == 2500  # gymnax's step truncates at step 2500
