"The offline docs site (tools/docs): every page renders, and every figure it shows is there."
import json, re, runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
docs = runpy.run_path(str(ROOT/'tools'/'docs'))

def test_every_page_renders_with_its_figures(tmp_path):
    pages = docs['render'](tmp_path)
    names = [p.stem for p in docs['pages']()]
    assert [p.stem for p in pages] == names and 'index' in names
    for page in pages:
        html = page.read_text()
        assert '<body' in html and len(html) > 5_000, f'{page.name} looks empty'
        for src in re.findall(r'<img[^>]+src="([^"]+)"', html):
            if src.startswith('data:'): continue
            assert (tmp_path/src).is_file(), f'{page.name} shows {src}, which was not copied'
        nb = json.loads((ROOT/'nbs'/(page.stem + '.ipynb')).read_text())
        n_png = sum('image/png' in o.get('data', {}) for c in nb['cells'] for o in c.get('outputs', []))
        assert html.count('data:image/png') >= n_png, f'{page.name}: {n_png} figures saved in the notebook, fewer shown'

def test_hidden_cells_and_directives_are_dropped():
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('#| hide\nsecret = 1'),
                                         nbformat.v4.new_code_cell('#| export\nshown = 2')])
    out = docs['_prepare'](nb)
    assert [c.source for c in out.cells] == ['shown = 2']
