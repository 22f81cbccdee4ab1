"""A naive reference for the replay tests: random env streams with unique frame
ids, and a replay that keeps every env's whole history and rebuilds stacks with
an envpool-style deque. Not a test module (shared by tests/test_replay_*.py)."""

from __future__ import annotations

import collections

import numpy as np

from purejaxdqn.replay import Timestep

# --- stream of env iterations with unique frame ids ----------------------------


def encode(ids: np.ndarray, frame_stack: int) -> np.ndarray:
    """Pixel-like uint8 [2,2] frames for stacked tests, float32 [3] vectors otherwise."""
    if frame_stack > 1:
        return ids[:, None].astype(np.uint32).view(np.uint8).reshape(-1, 2, 2)
    return np.stack([ids, ids * 0.5, -ids], axis=1).astype(np.float32)


def decode(obs: np.ndarray, frame_stack: int) -> np.ndarray:
    """Frame ids: [B, S] for stacked obs, [B] for vector obs."""
    obs = np.asarray(obs)
    if frame_stack > 1:
        flat = obs.reshape(*obs.shape[:-2], 4).astype(np.int64)
        return flat @ (256 ** np.arange(4))
    return obs[..., 0].astype(np.int64)


class Stream:
    """Random episodes for N envs: terminations, truncations, life losses,
    envpool auto-resets (reset=first=True, reward 0) and envpool
    ``episodic_life``-style life losses (terminated=True, then the game goes on
    with the stack kept)."""

    def __init__(self, num_envs, frame_stack, seed, p_term, p_trunc, p_life, p_continue,
                 p_restart=0.0):
        self.n, self.s = num_envs, frame_stack
        self.rng = np.random.default_rng(seed)
        self.p = (p_term, p_trunc, p_life, p_continue)
        self.p_restart = p_restart  # a reset mid-game: fresh envs after a non-exact resume
        self.t = 0
        self.ended = np.zeros(num_envs, bool)  # previous step ended the episode: auto-reset next
        self.go_on = np.zeros(num_envs, bool)  # ...unless it was an episodic-life loss

    def next(self) -> dict[str, np.ndarray]:
        n, rng = self.n, self.rng
        p_term, p_trunc, p_life, p_continue = self.p
        ids = self.t * n + np.arange(n) + 1
        if self.t == 0:
            first, reset = np.ones(n, bool), np.zeros(n, bool)
        else:
            reset = self.ended & ~self.go_on
            if self.p_restart:
                reset = reset | (rng.random(n) < self.p_restart)
            first = reset.copy()
        terminated = (rng.random(n) < p_term) & ~reset
        truncated = (rng.random(n) < p_trunc) & ~reset
        life_lost = ((rng.random(n) < p_life) | (terminated & (rng.random(n) < 0.5))) & ~reset
        reward = np.where(reset | (self.t == 0), 0.0, rng.integers(-2, 3, n)).astype(np.float32)
        self.ended = terminated | truncated
        self.go_on = terminated & ~truncated & life_lost & (rng.random(n) < p_continue)
        self.t += 1
        return dict(
            ids=ids,
            obs=encode(ids, self.s),
            action=rng.integers(0, 6, n).astype(np.int32),
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            life_lost=life_lost,
            first=first,
            reset=reset,
        )


def timestep(step: dict) -> Timestep:
    return Timestep(**{k: v for k, v in step.items() if k != "ids"})


# --- naive reference ----------------------------------------------------------------


class Reference:
    """Keeps every timestep; valid transitions computed by the rules, from scratch."""

    def __init__(self, capacity, num_envs, frame_stack, n_step, gamma, life_loss_terminal):
        self.c, self.n_envs, self.s, self.n = capacity, num_envs, frame_stack, n_step
        self.gamma, self.llt = gamma, life_loss_terminal
        self.hist = [[] for _ in range(num_envs)]  # per env: list of (step fields, stack ids, stack times)
        self.deques = [collections.deque(maxlen=frame_stack) for _ in range(num_envs)]

    def add(self, step: dict) -> None:
        for e in range(self.n_envs):
            d, t = self.deques[e], len(self.hist[e])
            if step["first"][e]:
                d.clear()
                d.extend([(int(step["ids"][e]), t)] * self.s)
            else:
                d.append((int(step["ids"][e]), t))
            self.hist[e].append(({k: v[e] for k, v in step.items()}, tuple(i for i, _ in d), min(t for _, t in d)))

    def valid(self) -> dict[int, tuple]:
        """{flat leaf index: (obs ids, action, R, discount, next obs ids)}."""
        out = {}
        for e, h in enumerate(self.hist):
            T = len(h)
            lo = T - min(T, self.c)  # oldest time still in the ring
            for j in range(lo, T - self.n):
                if h[j + 1][0]["reset"] or h[j][2] < lo:
                    continue
                R, disc = 0.0, None
                for m in range(1, self.n + 1):
                    f = h[j + m][0]
                    R += self.gamma ** (m - 1) * float(f["reward"])
                    if f["terminated"] or (self.llt and f["life_lost"]):
                        disc = 0.0
                    elif f["truncated"] or m == self.n or h[j + m + 1][0]["reset"]:
                        disc = self.gamma**m
                    if disc is not None:
                        break
                out[(j % self.c) * self.n_envs + e] = (h[j][1], int(h[j][0]["action"]), R, disc, h[j + m][1])
        return out
