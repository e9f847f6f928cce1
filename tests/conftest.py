"Shared pytest fixtures: a private cache for the tiny default corpus, and the repository paths."
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='session')
def topo_env(tmp_path_factory):
    "Environment for subprocesses and in-process runs: a session-wide TOPOAUDIO_CACHE (the tiny corpus is built once)."
    env = dict(os.environ, TOPOAUDIO_CACHE=str(tmp_path_factory.mktemp('cache')), OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    env.setdefault('TOPOAUDIO_DATA', str(ROOT.parent/'shared'/'data'))
    env.pop('IN_TEST', None)
    old = {k: os.environ.get(k) for k in ('TOPOAUDIO_CACHE', 'TOPOAUDIO_DATA')}
    os.environ.update({k: env[k] for k in old})
    yield env
    for k, v in old.items():
        if v is None: os.environ.pop(k, None)
        else: os.environ[k] = v
