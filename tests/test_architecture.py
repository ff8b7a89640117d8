"""The floors of hda_plugin (docs/architecture.md): every import of every module, the lazy ones
inside functions included, runs down or sideways within a room, never up; no module takes a
private name (``_x``) from another module."""
import ast
import os
import os.path as osp

import pytest
from conftest import ROOT

PKG = 'hda_plugin'

#: What each room may import from hda_plugin (besides itself). docs/architecture.md draws
#: the same table; change both together.
GROUND = {'structures', 'fileio', 'utils', 'safe_pickle', 'version'}
ALLOWED = {
    # ground floor: plain data, file formats and the release's naming rules, config helpers
    'structures': set(),
    'safe_pickle': set(),
    'version': set(),
    'utils': {'structures'},
    'fileio': {'structures', 'utils'},
    # first floor: what training and evaluation are built from
    'weights': GROUND,
    'datasets': GROUND,
    'models': GROUND,
    'testing': GROUND | {'datasets'},
    # second floor: the runs
    'evaluation': GROUND | {'datasets'},
    'engine': GROUND | {'datasets', 'weights', 'models'},
    'deployment': GROUND | {'models'},
    # third floor: running a trained detector
    'inference': GROUND | {'deployment', 'models'},
    # the package's face and the list of patches
    'compat': GROUND,
    '__init__': None,  # hda_plugin/__init__.py registers everything
}


def room_of(module: str) -> str:
    """``hda_plugin.evaluation.dbeval`` -> ``evaluation``; ``hda_plugin`` -> ``__init__``."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else '__init__'


def module_sources(pkg_dir: str):
    """``{module name: (path, source)}`` of every ``.py`` under ``pkg_dir``."""
    out = {}
    base = osp.dirname(pkg_dir)
    for dirpath, _, files in os.walk(pkg_dir):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(dirpath, name)
                mod = osp.relpath(path, base)[:-3].replace(os.sep, '.')
                mod = mod[:-len('.__init__')] if mod.endswith('.__init__') else mod
                with open(path, encoding='utf-8') as f:
                    out[mod] = (path, f.read())
    return out


def imports_of(module: str, source: str, is_package: bool):
    """``(line, imported module, names)`` of every import of ``source``, relative ones
    resolved; names are those of ``from x import a, b``."""
    tree = ast.parse(source)
    here = module.split('.') if is_package else module.split('.')[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            yield node.lineno, target, [a.name for a in node.names]


def violations(sources) -> list:
    """Every import that runs up a floor, or takes a private name of another module."""
    bad = []
    for mod, (path, src) in sources.items():
        is_package = path.endswith('__init__.py')
        room = room_of(mod)
        allowed = ALLOWED.get(room, set())
        if room not in ALLOWED:
            bad.append(f'{path}: room {room!r} is not in the table of floors '
                       '(tests/test_architecture.py ALLOWED, docs/architecture.md)')
        for line, target, names in imports_of(mod, src, is_package):
            if not (target == PKG or target.startswith(PKG + '.')):
                continue
            dest = room_of(target)
            if target == PKG:  # `from hda_plugin import x`: x is the room
                dests = [n for n in names]
            else:
                dests = [dest]
            for d in dests:
                if allowed is not None and d != room and d not in allowed:
                    bad.append(f'{path}:{line}: {room} imports {target} ({d}): an arrow up '
                               f'or across (allowed: {sorted(allowed) or "nothing"})')
            if target != mod and target.startswith(PKG + '.'):
                private = [n for n in names if n.startswith('_') and not n.startswith('__')]
                if private:
                    bad.append(f'{path}:{line}: takes the private {private} of {target}')
    return bad


def test_no_arrow_runs_up():
    bad = violations(module_sources(osp.join(ROOT, PKG)))
    assert not bad, 'imports against docs/architecture.md:\n' + '\n'.join(bad)


@pytest.mark.parametrize('module,line', [
    # the five arrows of the renovation issue (#22), as they stood on main
    ('hda_plugin.inference.runner', 'from ..evaluation.miss_rate_metric import xyxy_to_xywh'),
    ('hda_plugin.inference.tiling', '    from ..engine.hooks.anchor_coverage import f'),
    ('hda_plugin.utils.weights_report', 'from ..engine.hooks.pretrained_weights import init'),
    ('hda_plugin.evaluation.dump_hda_detections', 'from .miss_rate_metric import _np'),
    ('hda_plugin.deployment.onnx_export', '    from ..inference.backends import Preprocessor'),
])
def test_each_old_arrow_would_fail(module, line):
    src = f'def f():\n{line}\n' if line.startswith(' ') else line + '\n'
    path = osp.join(ROOT, *module.split('.')) + '.py'
    bad = violations({module: (path, src)})
    assert len(bad) == 1, bad
    assert 'private' in bad[0] if '_np' in line else 'arrow up or across' in bad[0]


def test_every_room_is_in_the_table():
    rooms = {room_of(m) for m in module_sources(osp.join(ROOT, PKG))}
    assert rooms <= set(ALLOWED), sorted(rooms - set(ALLOWED))
    with open(osp.join(ROOT, 'docs', 'architecture.md'), encoding='utf-8') as f:
        doc = f.read()
    missing = [r for r in rooms if r != '__init__' and f'`{r}' not in doc]
    assert not missing, f'docs/architecture.md does not describe {missing}'


@pytest.mark.parametrize('room', ['structures', 'fileio'])
def test_ground_rooms_import_no_openmmlab(room):
    """The file formats and the ground floor's structures read without MMDetection's stack
    (mmcv only lazily, inside a function, where a rule is mmcv's own)."""
    found = []
    for mod, (path, src) in module_sources(osp.join(ROOT, PKG, room)).items():
        for node in ast.parse(src).body:  # module level only
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                    else [node.module or '']
                found += [f'{path}:{node.lineno}: {n}' for n in names
                          if n.split('.')[0] in ('mmdet', 'mmengine', 'mmcv')]
    assert not found, found
