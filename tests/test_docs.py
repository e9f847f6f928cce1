"The offline docs site (tools/docs): every page renders, and every figure it shows is there."
import json, re, runpy
import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
docs = runpy.run_path(str(ROOT/'tools'/'docs'))

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site rendered once for the tests that read it: (folder, pages)."
    out = tmp_path_factory.mktemp('site')
    return out, docs['render'](out)

def test_every_page_renders_with_its_figures(site):
    tmp_path, pages = site
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

def _image_cells(nb):
    return [c for c in nb['cells'] if any('image/png' in o.get('data', {}) for o in c.get('outputs', []))]

def test_every_image_cell_has_alt_text():
    "Every notebook cell with an image output carries a Quarto `#| fig-alt:` (and a `#| fig-cap:`) directive."
    bad = [f'{p.name}: cell {c.get("id")}' for p in sorted((ROOT/'nbs').glob('*.ipynb')) for c in _image_cells(json.loads(p.read_text()))
           if not (docs['directive'](''.join(c['source']), 'fig-alt') and docs['directive'](''.join(c['source']), 'fig-cap'))]
    assert not bad, 'image outputs without #| fig-alt / #| fig-cap: ' + ', '.join(bad)

def test_every_rendered_image_has_alt_text(site):
    for page in site[1]:
        for tag in re.findall(r'<img\b[^>]*>', page.read_text()):
            alt = re.search(r'\balt="([^"]*)"', tag)
            assert alt and alt[1].strip() and alt[1] != docs['NO_ALT'], f'{page.name}: an image without alt text: {tag[:120]}'

def test_fig_alt_and_caption_reach_the_html():
    import base64, io, nbformat
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1, 1)); buf = io.BytesIO(); fig.savefig(buf, format='png'); plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    cell = nbformat.v4.new_code_cell('#| fig-cap: "A caption."\n#| fig-alt: An empty square.\nfig',
                                     outputs=[nbformat.v4.new_output('display_data', data={'image/png': png})])
    nb = docs['_prepare'](nbformat.v4.new_notebook(cells=[cell]))
    from nbconvert import HTMLExporter
    html = docs['_add_alt'](HTMLExporter(template_name='lab').from_notebook_node(nb)[0], docs['_figure_texts'](nb))
    assert re.search(r'<img alt="An empty square\." [^>]*src="data:image/png', html) and 'A caption.</p>' in html
    assert '#|' not in cell.source

def test_run_notebooks_tidies_progress_bars():
    "Saved outputs hold a progress bar's final state, once, and not tqdm's missing-ipywidgets note."
    import nbformat
    tidy = runpy.run_path(str(ROOT/'tools'/'run_notebooks'))['tidy']
    warn = ("/x/tqdm/auto.py:21: TqdmWarning: IProgress not found. Please update jupyter and ipywidgets.\n"
            "  from .autonotebook import tqdm as notebook_tqdm\n")
    outs = [nbformat.v4.new_output('stream', name='stderr', text=warn),
            nbformat.v4.new_output('stream', name='stderr', text='\r  0%|   | 0/3'),
            nbformat.v4.new_output('stream', name='stderr', text='\r 67%|## | 2/3'),
            nbformat.v4.new_output('stream', name='stderr', text='\r100%|###| 3/3\n'),
            nbformat.v4.new_output('stream', name='stdout', text='done\n')]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x', outputs=outs)])
    got = tidy(nb).cells[0].outputs
    assert [(o.name, o.text) for o in got] == [('stderr', '100%|###| 3/3\n'), ('stdout', 'done\n')]
