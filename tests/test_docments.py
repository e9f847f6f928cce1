"Docments (fastcore's inline `# comment` after each parameter) on every public parameter and return value of the package:\nfunctions and classes in each module's `__all__`, dataclass fields, and the public methods of public classes\n(except `forward` of nn.Modules, which torch calls through `module(x)`)."
import ast, dataclasses, importlib, inspect, pkgutil, textwrap
import pytest, torch
from fastcore.docments import docments
from fastcore.script import Param
import topoaudio

# The plotting helpers are documented on another branch (issue 15, figures part); until it is merged these may lack docments.

def public():
    "(module name, name, object) for every name in every module's `__all__`."
    for m in pkgutil.iter_modules(topoaudio.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'topoaudio.{m.name}')
        for name in getattr(mod, '__all__', []): yield m.name, name, getattr(mod, name)

def is_dataclass_type(o): return inspect.isclass(o) and dataclasses.is_dataclass(o)

def target(o):
    "The function whose signature documents `o`: the function itself, or a class's own `__init__` (None: nothing to check)."
    if inspect.isfunction(o): return o
    if inspect.isclass(o) and not is_dataclass_type(o) and inspect.isfunction(o.__dict__.get('__init__')): return o.__init__
    return None

def returns_value(f) -> bool:
    "Does `f` return (or yield) something other than None? (`-> None` functions do not.)"
    fn = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(f)))).body[0]
    if fn.returns is not None and ast.unparse(fn.returns).strip('\'"') == 'None': return False
    def walk(n):
        for c in ast.iter_child_nodes(n):
            if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)): continue   # nested scopes
            if isinstance(c, (ast.Yield, ast.YieldFrom)): return True
            if isinstance(c, ast.Return) and c.value is not None and not (isinstance(c.value, ast.Constant) and c.value.value is None): return True
            if walk(c): return True
        return False
    return walk(fn)

def cli_help(f, p) -> bool:
    "A command-line option documented by its `fastcore.script.Param` help (what `--help` shows)."
    a = inspect.signature(f, eval_str=True).parameters[p].annotation
    return isinstance(a, Param) and bool(a.help)

def undocumented(o) -> list[str]:
    "Public parameters (and 'return') of `o` without a docment."
    if is_dataclass_type(o):
        d = docments(o)
        return [k for k, fl in o.__dataclass_fields__.items() if fl._field_type is dataclasses._FIELD and not d.get(k)]
    f = target(o)
    if f is None: return []
    d, sig = docments(f), inspect.signature(f)
    miss = [p for p, v in sig.parameters.items() if p not in ('self', 'cls') and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)
            and not d.get(p) and not cli_help(f, p)]
    if inspect.isfunction(o) and returns_value(f) and not d.get('return'): miss.append('return')
    return miss

def methods():
    "('module.Class.method', function) for the public methods (own, including @patch ones) of every public class."
    for m, n, o in public():
        if not inspect.isclass(o) or o.__module__ != f'topoaudio.{m}': continue
        for k, v in o.__dict__.items():
            f = v.__func__ if isinstance(v, (staticmethod, classmethod)) else v
            if k == 'forward' and issubclass(o, torch.nn.Module): continue   # building blocks' forward: called as module(x), not checked
            if not k.startswith('_') and inspect.isfunction(f): yield f'{m}.{n}.{k}', f

ITEMS = sorted([(f'{m}.{n}', o) for m, n, o in public() if target(o) is not None or is_dataclass_type(o)] + list(methods()))
MISSING = {k: undocumented(o) for k, o in ITEMS}

def _planted(a, # documented
             b=2,
             *args, **kw,
            ) -> int:
    return a

def _planted_ok(a, # documented
               ) -> int: # documented too
    return a

def _planted_none(a, # documented
                 ) -> None:
    print(a)

def _planted_cli(n: Param('how many', int) = 1, # (a Param's help documents a command-line option)
                 m: Param('', int) = 2,
                ):
    yield n

@dataclasses.dataclass
class _PlantedFields:
    x: int # documented
    y: int = 0

def test_checker_finds_undocumented_parameters_and_returns():
    "The checker itself, on planted functions: it finds exactly the undocumented parameters and return values."
    assert undocumented(_planted) == ['b', 'return']          # *args / **kw are not checked
    assert undocumented(_planted_ok) == [] and undocumented(_planted_none) == []
    assert undocumented(_planted_cli) == ['m', 'return']      # a generator returns something; an empty Param help is no doc
    assert undocumented(_PlantedFields) == ['y']
    from topoaudio.topoloss import sheet_shape
    assert undocumented(sheet_shape) == [] and returns_value(sheet_shape)

@pytest.mark.parametrize('name', [k for k, _ in ITEMS])
def test_docments(name):
    assert not MISSING[name], f'{name}: no docment for {MISSING[name]}'


def test_annotations_resolve():
    "show_doc evaluates annotations (`signature(eval_str=True)`): every public annotation must name something the module defines."
    bad = []
    for k, o in ITEMS:
        f = target(o) or o
        try: inspect.signature(f, eval_str=True)
        except NameError as e: bad.append(f'{k}: {e}')
    assert not bad, bad
