"Repository-level checks: README ↔ index.ipynb, the README's two commands, .ci/run, the docs config."
import json, re, subprocess, sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import sync_readme

def fences(text): return re.findall(r'^```[^\n]*\n(.*?)^```', text, flags=re.M | re.S)

def test_readme_is_generated_from_index():
    assert (ROOT/'README.md').read_text() == sync_readme.render(), 'run python tools/sync_readme.py'

def test_readme_starts_with_the_two_commands():
    text = (ROOT/'README.md').read_text()
    head = text.split('## ', 1)[0]             # everything before the first section
    blocks = fences(head)
    assert len(blocks) == 2, f'README must open with exactly two command blocks, found {len(blocks)}'
    main, tests = (b.strip() for b in blocks)
    assert 'pip install' in main and 'papermill nbs/05_train.ipynb' in main
    assert 'pip install' in tests and '".[dev]"' in tests and 'tools/test' in tests

def test_ci_runs_the_readme_test_command():
    ci = (ROOT/'.ci'/'run').read_text()
    assert 'README.md' in ci and 'set -euo pipefail' in ci
    out = subprocess.run(['awk', '/^```/{n++; next} n==3', str(ROOT/'README.md')], capture_output=True, text=True).stdout
    assert out.strip() == fences((ROOT/'README.md').read_text())[1].strip()

def numbered_notebooks():
    return sorted(p.name for p in (ROOT/'nbs').glob('[0-9]*.ipynb'))

def test_quarto_sidebar_lists_every_notebook_in_order():
    q = (ROOT/'_quarto.yml').read_text()
    listed = re.findall(r'nbs/([\w.-]+\.ipynb)', q.split('sidebar:', 1)[1])
    assert listed == ['index.ipynb'] + numbered_notebooks()

def test_settings_keep_papermill_tags_and_nbdev2():
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    d = cfg['DEFAULT']
    assert 'tags' in d['allowed_cell_metadata_keys']
    assert 'nbdev==2.4.14' in d['dev_requirements'] and 'torch==2.9.1' in d['requirements']

def test_notebooks_start_with_default_exp_and_title():
    for name in numbered_notebooks():
        nb = json.loads((ROOT/'nbs'/name).read_text())
        srcs = [''.join(c['source']) for c in nb['cells']]
        assert any(s.lstrip().startswith('# ') for s in srcs if s), f'{name} has no H1 title'
        if name != '05_train.ipynb':
            assert srcs[0].startswith('#| default_exp'), f'{name} must start with #| default_exp'

def _cells(nb_path: Path) -> list[dict]: return json.loads(nb_path.read_text())['cells']

def test_every_notebook_shows_its_outputs_without_errors():
    "The tutorial shows its results: every notebook is saved with the outputs of a real run (tools/run_notebooks)."
    import runpy
    problems = runpy.run_path(str(ROOT/'tools'/'run_notebooks'))['problems']
    bad = {p.name: problems(p) for p in sorted((ROOT/'nbs').glob('*.ipynb')) if problems(p)}
    assert not bad, f're-run with `python tools/run_notebooks <notebook>`: {bad}'

def test_long_exported_cells_state_why():
    "One idea per exported cell: a cell over 40 lines must follow a markdown cell that says why it is that long."
    unexplained = []
    for p in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = _cells(p)
        for i, c in enumerate(cells):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or not src.startswith('#| export') or len(src.splitlines()) <= 40: continue
            prev = ''.join(cells[i - 1]['source']) if i and cells[i - 1]['cell_type'] == 'markdown' else ''
            if not re.search(r'\d+ lines', prev): unexplained.append(f'{p.name}: {src.splitlines()[1][:60]} ({len(src.splitlines())} lines)')
    assert not unexplained, unexplained

def test_figure_cells_show_their_figure():
    "A cell with a `fig-cap` is a figure cell: its saved outputs hold the figure (a real run, not a test run, saved it)."
    missing = [f'{p.name}: {c.get("id")}' for p in sorted((ROOT/'nbs').glob('*.ipynb')) for c in _cells(p)
               if c['cell_type'] == 'code' and '#| fig-cap' in ''.join(c['source'])
               and not any('image/png' in o.get('data', {}) for o in c.get('outputs', []))]
    assert not missing, f'figure cells without their figure (re-run with tools/run_notebooks): {missing}'
