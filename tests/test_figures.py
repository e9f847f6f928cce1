"""Figures: one plotting convention across modules, τ shown on a sequential palette with shared colour limits, and a
test run (IN_TEST) never overwrites a committed figure."""
import inspect, json, re
from pathlib import Path
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import pytest

from topoaudio import battery, decomposition, gradients, hrf, rsa, subspace, sweep, topography, trainer
from topoaudio.scoring import Score

ROOT = Path(__file__).resolve().parents[1]

# every public plot function: (function, its axes keyword, has a colour map, has a colour/y scale)
PLOTS = [(trainer.plot_curves, 'axes', False, True), (decomposition.plot_category_profile, 'ax', False, True),
         (topography.plot_maps, 'axes', True, True), (topography.plot_brain_maps, 'axes', True, True),
         (gradients.plot_gradients, 'axes', True, True), (rsa.plot_rdm, 'ax', True, True),
         (rsa.plot_flat_maps, 'axes', True, True), (hrf.plot_delta_r, 'ax', True, True),
         (subspace.plot_dstrfs, 'ax', True, True), (subspace.plot_sheet_curves, 'ax', True, True),
         (battery.plot_report_maps, 'axes', True, True), (battery.plot_report_gradients, 'axes', True, True),
         (battery.plot_report_moran, 'ax', False, True), (battery.plot_report_match, 'ax', False, True),
         (sweep.plot_table2, 'ax', False, True), (sweep.plot_sweep_maps, 'axes', True, True),
         (sweep.plot_component_match, 'axes', True, True), (sweep.plot_angles, 'ax', False, True),
         (sweep.plot_voxel_encoding, 'ax', True, True)]

def test_every_plot_function_is_listed():
    import topoaudio, pkgutil, importlib
    found = {f'{m.name}.{n}' for m in pkgutil.iter_modules(topoaudio.__path__) if not m.name.startswith('_')
             for n in getattr(importlib.import_module(f'topoaudio.{m.name}'), '__all__', []) if n.startswith('plot_')}
    assert found == {f'{f.__module__.split(".")[-1]}.{f.__name__}' for f, *_ in PLOTS}

@pytest.mark.parametrize('f,axkw,cmap,scale', PLOTS, ids=[f.__name__ for f, *_ in PLOTS])
def test_plot_convention(f, axkw, cmap, scale):
    "nilearn-style keywords: ax/axes, title, vmin/vmax (colour or y scale), cmap (colour maps), path, dpi; docments."
    ps = inspect.signature(f).parameters
    want = {axkw, 'title', 'path', 'dpi'} | ({'vmin', 'vmax'} if scale else set()) | ({'cmap'} if cmap else set())
    if f is topography.plot_brain_maps: want -= {'vmin'}        # nilearn's stat maps: the lower limit is `threshold`
    assert want <= set(ps), f'{f.__name__} lacks {want - set(ps)}'
    for k in want: assert ps[k].default is not inspect.Parameter.empty, f'{f.__name__}: {k} needs a default'
    src = inspect.getsource(f)
    for k in want: assert re.search(rf'\b{k}\b[^\n]*#', src), f'{f.__name__}: parameter {k} has no docment'
    assert 'return fig' in src or 'return ax.figure' in src or re.search(r'return (topography\.|gradients\.)?plot_\w+\(', src)

def _maps(rng, scale):
    return {'tonotopy': scale * rng.random(16), 'speech': scale * rng.standard_normal(16)}

def test_plot_maps_shares_colour_limits_per_column():
    rng = np.random.default_rng(0)
    fig = topography.plot_maps({'τ=0': _maps(rng, 1.0), 'τ=50': _maps(rng, 5.0)})
    ims = [a.images[0] for a in fig.axes if a.images]        # row-major: τ=0 tonotopy, speech, τ=50 tonotopy, speech
    assert ims[0].get_clim() == ims[2].get_clim() and ims[1].get_clim() == ims[3].get_clim()
    lo, hi = ims[1].get_clim(); assert lo == -hi > 0 or lo == -hi      # the t maps stay symmetric
    assert ims[0].get_clim()[1] > 1.0                                  # the range covers the larger row
    fig2 = topography.plot_maps({'a': _maps(rng, 1.0), 'b': _maps(rng, 5.0)}, vmin={'tonotopy': 0}, vmax={'tonotopy': 2})
    assert [a.images[0].get_clim() for a in fig2.axes if a.images][::2] == [(0, 2), (0, 2)]
    plt.close('all')

def _viridis_position(c):
    lut = plt.get_cmap('viridis')(np.linspace(0, 1, 256))[:, :3]
    return int(np.argmin(((lut - np.asarray(c)[:3]) ** 2).sum(1)))

def test_tau_colors_are_monotone_on_a_sequential_map():
    taus = [50, 0, 100, 5, 25]
    pos = [_viridis_position(c) for c in topography.tau_colors(taus)]
    order = np.argsort(taus)
    assert np.all(np.diff(np.asarray(pos)[order]) > 0)
    assert topography.tau_colors([0, 0, 50])[0] == topography.tau_colors([0, 0, 50])[1]   # same τ, same colour

class _Report:
    def __init__(self, scores): self.scores = scores
    def get(self, bench, control='model'): return self.scores[bench]

def _rec(tau, rng, scale):
    maps = {'layer1': {'tonotopy': scale * rng.random(16), 'am': rng.random(16)},
            'layer4': {'speech': scale * rng.standard_normal(16), 'music': rng.standard_normal(16)}}
    stages = {'conv1': 0.1 + tau / 500, 'layer2': 0.2 + tau / 500, 'layer4': 0.3 + tau / 500}
    sc = {'fig34.maps': Score('fig34.maps', 1, 'ok', 0.0, raw=dict(maps=maps, sheets={'layer1': (4, 4), 'layer4': (4, 4)})),
          **{f'fig5.match.{t}': Score(f'fig5.match.{t}', 1, 'ok', 0.3, raw=dict(per_stage=stages)) for t in ('speech', 'music')}}
    return dict(arch='resnet', tau=tau, seed=0, report=_Report(sc))

def test_sweep_maps_share_colour_limits_across_tau_rows():
    rng = np.random.default_rng(1)
    fig = sweep.plot_sweep_maps([_rec(0, rng, 1.0), _rec(50, rng, 10.0)])
    ims = np.array([a.images[0] for a in fig.axes if a.images]).reshape(4, 4)   # rows: τ=0 layer1, layer4, τ=50 layer1, layer4
    for j in range(4):
        assert len({im.get_clim() for im in ims[:, j]}) == 1, f'column {j} has per-row colour limits'
    plt.close('all')

def test_sweep_component_match_colours_tau_sequentially():
    rng = np.random.default_rng(2)
    taus = [0, 5, 25, 50, 100]
    fig = sweep.plot_component_match([_rec(t, rng, 1.0) for t in taus])
    pos = [_viridis_position(l.get_color()) for l in fig.axes[0].lines]
    assert len(pos) == 5 and np.all(np.diff(pos) > 0)
    plt.close('all')

# -- a test run never overwrites a committed figure --------------------------------------------------------------

def _guarded_lines(src: str):
    "Lines of a cell that write into nbs/figures/ (savefig / path= / .save / copyfile), each with whether it is guarded."
    lines, out = src.splitlines(), []
    fig_dir = re.compile(r"""['"]figures/|FIGS\b""")
    for i, l in enumerate(lines):
        if not fig_dir.search(l) or not re.search(r'savefig\(|path=|\.save\(|copyfile\(', l): continue
        guarded = bool(re.search(r'\b(IN_TEST|DOCS)\b', l))
        ind = len(l) - len(l.lstrip())
        for prev in reversed(lines[:i]):                      # an enclosing `if not IN_TEST:` / `if DOCS:` block
            pind = len(prev) - len(prev.lstrip())
            if prev.strip() and pind < ind:
                if re.match(r'\s*(if|elif)\b.*\b(IN_TEST|DOCS)\b', prev): guarded = True; break
                ind = pind
        out.append((l.strip(), guarded))
    return out

def _figs_is_temp_under_test(nb_src: str) -> bool:
    return bool(re.search(r'FIGS\s*=\s*Path\(tempfile\.mkdtemp\(\)\)\s*if IN_TEST', nb_src))

def test_guard_detector():
    assert _guarded_lines("fig.savefig('figures/x.png')") == [("fig.savefig('figures/x.png')", False)]
    assert _guarded_lines("if not IN_TEST:\n    fig.savefig('figures/x.png')")[0][1]
    assert _guarded_lines("if not IN_TEST: fig.savefig('figures/x.png')")[0][1]
    assert not _guarded_lines("for i in range(3):\n    fig.savefig('figures/x.png')")[0][1]

def test_test_runs_never_write_committed_figures():
    bad = []
    for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')):
        cells = [c for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'code']
        srcs = [''.join(c['source']) for c in cells]
        temp_figs = _figs_is_temp_under_test('\n'.join(srcs))
        for s in srcs:
            if re.match(r'\s*#\|\s*export', s): continue
            for line, ok in _guarded_lines(s):
                if not ok and not ('FIGS' in line and temp_figs): bad.append(f'{p.name}: {line}')
    assert not bad, 'unguarded writes into nbs/figures/ (a test run would overwrite them):\n' + '\n'.join(bad)

def test_committed_figures_are_small():
    big = {p.name: p.stat().st_size for p in (ROOT/'nbs'/'figures').glob('*.png') if p.stat().st_size > 150_000}
    assert not big, f'figures over 150 KB: {big}'

def test_notebooks_and_their_inline_figures_are_small():
    "nbs/ stays small: each notebook ≤ 2 MB, each saved inline PNG ≤ 150 KB (figure.dpi = 72 in every notebook with figures)."
    import base64
    for p in sorted((ROOT/'nbs').glob('*.ipynb')):
        assert p.stat().st_size <= 2_000_000, f'{p.name} is {p.stat().st_size / 1e6:.1f} MB'
        for c in json.loads(p.read_text())['cells']:
            for o in c.get('outputs', []):
                if 'image/png' in o.get('data', {}):
                    n = len(base64.b64decode(''.join(o['data']['image/png'])))
                    assert n <= 150_000, f'{p.name} cell {c.get("id")}: inline PNG of {n / 1e3:.0f} KB'

def test_figure_notebooks_set_a_modest_inline_dpi():
    for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')):
        src = '\n'.join(''.join(c['source']) for c in json.loads(p.read_text())['cells'])
        if '#| fig-alt' in src: assert "plt.rcParams['figure.dpi'] = 72" in src, p.name
