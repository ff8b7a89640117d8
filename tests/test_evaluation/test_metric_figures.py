"""The renovation that split ``MissRateMetric`` into ``CaltechMetric`` and
``HDABenchmarkMetric`` changed no figure: every key and value the metrics, the offline
curves, ``evaluate_benchmark`` and ``tools/analysis/hda_benchmark.py`` (output and
``--json``) give on fixed inputs equals, float for float, what the code before it gave
(``data/metric_figures_before.json``, written by ``make_metric_figures.py`` at 65f7c66).

Floats are equal to within :data:`ULPS` units in the last place, not bit for bit: numpy's
vectorised ``log``/``exp`` (the log-average) round the last bit differently on CPUs with
and without AVX-512. The record was written on one with it, where every value is equal bit
for bit; on an AVX2-only CPU 9 of the values differ by 1-2 ulp (a fresh-clone CI run). A
changed rule moves a figure by far more."""
import json
import math
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import make_metric_figures as figures  # noqa: E402

BEFORE = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'metric_figures_before.json')
ULPS = 4


def _same_float(a, b):
    return a == b or abs(a - b) <= ULPS * math.ulp(max(abs(a), abs(b)))


def _differences(want, got, path='', out=None):
    """Paths where ``got`` differs from ``want``: other keys, lengths, types or values
    (floats within :data:`ULPS` ulp, NaN equal to NaN)."""
    out = [] if out is None else out
    if isinstance(want, dict):
        if not isinstance(got, dict) or list(want) != list(got):
            keys = list(got) if isinstance(got, dict) else got
            out.append(f'{path}: keys {list(want)} before, {keys!r:.200} now')
            return out
        for k in want:
            _differences(want[k], got[k], f'{path}/{k}', out)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            out.append(f'{path}: {len(want)} items, now {got!r:.80}')
            return out
        for i, (a, b) in enumerate(zip(want, got)):
            _differences(a, b, f'{path}[{i}]', out)
    elif isinstance(want, float) and isinstance(got, float) and math.isnan(want):
        if not math.isnan(got):
            out.append(f'{path}: nan, now {got!r}')
    elif isinstance(want, float) and isinstance(got, float):
        if not _same_float(want, got):
            out.append(f'{path}: {want!r} before, {got!r} now')
    elif type(want) is not type(got) or want != got:
        out.append(f'{path}: {want!r:.200} before, {got!r:.200} now')
    return out


def test_figures_equal_those_before_the_renovation(tmp_path):
    with open(BEFORE) as f:
        before = json.load(f)
    assert before.pop('code') == 'before'
    now = json.loads(json.dumps(figures.compute(str(tmp_path))))  # as the file holds them
    # the same inputs, or the comparison says nothing
    assert now['inputs_sha256'] == before['inputs_sha256'], \
        'the synthetic inputs changed (hda_plugin.testing?): regenerate at 65f7c66'
    diffs = _differences(before, now)
    assert not diffs, f'{len(diffs)} figures differ:\n' + '\n'.join(diffs[:30])
    # and the record holds figures where matching matters, in every part
    m = before['caltech']['all_settings']['metrics']
    assert len(m) == 18 * 2 * 5 and 0.3 < m['caltech/Reasonable/MR-2'] < 0.95
    assert all(0.3 < v < 0.98 for v in before['hda_benchmark']['gt_alld']['metrics'].values())
    assert before['tool']['alld']['json']['MR-2'] == \
        before['evaluate_benchmark']['alld_DetA']['pool']['mr2']
    assert 'note: ' in before['tool']['vbb']['stdout']
    assert sum(len(c['images']) for c in before['curves'].values()) == 4 * 32


def test_differences_finds_a_changed_figure():
    want = {'a': [1.0, float('nan')], 'b': {'c': 0.5}}
    assert _differences(want, {'a': [1.0, float('nan')], 'b': {'c': 0.5}}) == []
    assert _differences(want, {'a': [1.0, float('nan')], 'b': {'c': 0.5 + 1e-16}}) == []  # 1 ulp
    assert _differences(want, {'a': [1.0, float('nan')], 'b': {'c': 0.5 + 1e-12}}) == \
        ['/b/c: 0.5 before, 0.500000000001 now']
    assert _differences({'a': 2}, {'a': 2.0}) == ['/a: 2 before, 2.0 now']  # ints stay ints
    assert len(_differences(want, {'a': [1.0, 0.0], 'b': {}})) == 2
