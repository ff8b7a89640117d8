"""The evaluation protocols the metrics (``HDABenchmarkMetric``, ``CaltechMetric``,
``CityPersonsMetric``) and ``tools/analysis/hda_benchmark.py`` compute, each named wherever
it is printed.

``hda-benchmark``
    The HDA benchmark's own script, ``visualization/vbbLabeler/dbEval.m`` of
    ``vislab-tecnico-lisboa/hda_code`` (HEAD 85e1bdb) with the toolbox's ``bbGt.m``: ground
    truth from ``hda_detections/GtAnnotationsAll`` with no ignore regions and no height
    filter, detections kept when at least 50 / 1.25 = 40 px high, every box resized to
    aspect ratio 0.41 about its centre, every frame 1..nFrame of ``hda_annotations/camNN.txt``
    an image, the cameras but 02 pooled, IoU 0.5, MR-2 over FPPI 10^-2..10^0. The figure
    that compares with the published ACF baselines (65 % all cameras but 02, 62 % camera 60).

``caltech``
    Dollár's Caltech protocol on the data set's own annotations (``CaltechMetric``), as
    ``MissRateMetric`` computed it before protocols had names: ``crowd``, ``personUnk`` and
    hidden objects are ignore regions matched by intersection over the detection, optional
    aspect ratio, and Dollár's experiment settings (``exps`` in dbEval.m, below): persons outside a
    setting's height or visibility range become ignore regions, detections outside the
    height range widened by ``filter`` are dropped.

``citypersons``
    The official CityPersons script (cvgroup-njust/CityPersons
    ``evaluation/eval_script/eval_MR_multisetup.py``): setups Reasonable, Small, Heavy, All
    with closed ranges, 1,000 detections per image, ignore regions matched by intersection
    over the detection, its 9 rounded FPPI points and its ``searchsorted(...) - 1`` reading,
    no floor (``CityPersonsMetric``, :mod:`.citypersons`).
"""
from collections import OrderedDict
from typing import Optional, Sequence

from ..structures.anchors import MIN_PERSON_HEIGHT, PERSON_ASPECT

__all__ = ['HDA_BENCHMARK', 'HDA_BENCHMARK_RULES', 'hda_benchmark_title', 'CALTECH_SETTINGS',
           'CALTECH_MISS_RATE_FLOOR', 'DOLLAR_SETTINGS', 'caltech_setting']

INF = float('inf')

#: dbEval.m's rules for the HDA figures (``exps(1)`` 'Reasonable' applied to detections
#: only, ``aspectRatio = .41``, ``dbInfo('hdawithout2a')``).
HDA_BENCHMARK = dict(
    name='hda-benchmark',
    iou_thr=0.5,
    aspect_ratio=PERSON_ASPECT,  # 0.41
    min_det_height=MIN_PERSON_HEIGHT,  # 40: hr = [50 inf] .* [1/filter filter], filter 1.25
    gt='GtAnnotationsAll',
    excluded_cameras=(2, ),
    # plotExps: score=exp(mean(log(score))) with no floor, so one reference point with a
    # zero miss rate makes MR-2 exactly 0 (kept, to be the benchmark's figure; warned)
    miss_rate_floor=0.0,
)

#: The rules of :data:`HDA_BENCHMARK` in the words every table title gives them.
HDA_BENCHMARK_RULES = (f'detections >= {HDA_BENCHMARK["min_det_height"]:g} px, aspect '
                       f'{HDA_BENCHMARK["aspect_ratio"]:g}, IoU {HDA_BENCHMARK["iou_thr"]:g}, '
                       'every frame')


def hda_benchmark_title(gt: str, detector: Optional[str] = None,
                        pool: Optional[Sequence[int]] = None) -> str:
    """The title of an ``hda-benchmark`` table: ``[<detector>: ]log-average miss rate,
    protocol hda-benchmark (dbEval.m: GT <gt>, <rules>[; pool = cameras [..]])``."""
    where = f'; pool = cameras {list(pool)}' if pool is not None else ''
    return (f'{detector + ": " if detector else ""}log-average miss rate, protocol '
            f'hda-benchmark (dbEval.m: GT {gt}, {HDA_BENCHMARK_RULES}{where})')

#: The caltech protocol's floor under each sampled miss rate before the log, as Dollár's
#: own detector test computes it (toolbox ``acfTest.m``:
#: ``miss=exp(mean(log(max(1e-10,1-miss))))``): a zero miss rate at one reference point no
#: longer makes the log-average 0.
CALTECH_MISS_RATE_FLOOR = 1e-10

#: Dollár's experiment settings, dbEval.m's ``exps`` table: ``hr`` height range
#: ``[lo, hi)`` of regular persons in pixels, ``vr`` visible fraction range ``[lo, hi]``
#: (visible fraction = area of ``posv`` over area of ``pos``, ``inf`` when ``posv`` is not
#: set, so ``(inf, inf)`` means "no visible box annotated": unoccluded), ``ar`` aspect
#: ratio rule (0 off; ``> 0`` keeps ``|w/h - 0.41| < ar``, ``< 0`` keeps ``> -ar``),
#: ``overlap`` the IoU threshold, ``filter`` the widening of ``hr`` for detections.
CALTECH_SETTINGS = OrderedDict([
    ('Reasonable', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.5, filter=1.25)),
    ('All', dict(hr=(20, INF), vr=(.2, INF), ar=0, overlap=.5, filter=1.25)),
    ('Scale=large', dict(hr=(100, INF), vr=(INF, INF), ar=0, overlap=.5, filter=1.25)),
    ('Scale=near', dict(hr=(80, INF), vr=(INF, INF), ar=0, overlap=.5, filter=1.25)),
    ('Scale=medium', dict(hr=(30, 80), vr=(INF, INF), ar=0, overlap=.5, filter=1.25)),
    ('Scale=far', dict(hr=(20, 30), vr=(INF, INF), ar=0, overlap=.5, filter=1.25)),
    ('Occ=none', dict(hr=(50, INF), vr=(INF, INF), ar=0, overlap=.5, filter=1.25)),
    ('Occ=partial', dict(hr=(50, INF), vr=(.65, 1), ar=0, overlap=.5, filter=1.25)),
    ('Occ=heavy', dict(hr=(50, INF), vr=(.2, .65), ar=0, overlap=.5, filter=1.25)),
    ('Ar=all', dict(hr=(50, INF), vr=(INF, INF), ar=0, overlap=.5, filter=1.25)),
    ('Ar=typical', dict(hr=(50, INF), vr=(INF, INF), ar=.1, overlap=.5, filter=1.25)),
    ('Ar=atypical', dict(hr=(50, INF), vr=(INF, INF), ar=-.1, overlap=.5, filter=1.25)),
    ('Overlap=25', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.25, filter=1.25)),
    ('Overlap=50', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.5, filter=1.25)),
    ('Overlap=75', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.75, filter=1.25)),
    ('Expand=100', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.5, filter=1.0)),
    ('Expand=125', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.5, filter=1.25)),
    ('Expand=150', dict(hr=(50, INF), vr=(.65, INF), ar=0, overlap=.5, filter=1.5)),
])

#: The settings the HDA configs report (Caltech's usual table).
DOLLAR_SETTINGS = ('Reasonable', 'All', 'Scale=near', 'Scale=medium', 'Scale=far',
                   'Occ=none', 'Occ=partial', 'Occ=heavy')


def caltech_setting(name: str) -> dict:
    """A setting of :data:`CALTECH_SETTINGS` by name; a clear error listing them."""
    if name not in CALTECH_SETTINGS:
        raise ValueError(f'Unknown Caltech setting {name!r}: expected one of '
                         f'{list(CALTECH_SETTINGS)} (dbEval.m\'s exps table).')
    return dict(CALTECH_SETTINGS[name])

# --- citypersons ---------------------------------------------------------------------------
# The official CityPersons evaluation (cvgroup-njust/CityPersons
# evaluation/eval_script/eval_MR_multisetup.py, ``Params.setDetParams``), computed by
# :mod:`.citypersons` and ``CityPersonsMetric``. Its numbers, not its README's words: the
# height and visibility ranges are closed at both ends (a person is an ignore region when
# ``height < lo or height > hi or vis_ratio < lo or vis_ratio > hi``), so Small keeps
# 75 px persons and Heavy keeps 0.65 visible ones; "no upper bound" is 1e5 ** 2.

#: The four setups of the official script: key -> ``hr`` person height range ``[lo, hi]``
#: (full box, pixels), ``vr`` visible fraction range ``[lo, hi]`` (visible box area over
#: full box area, the gt JSON's ``vis_ratio``), ``label`` the script's own ``SetupLbl``.
CITYPERSONS_SETUPS = OrderedDict([
    ('Reasonable', dict(hr=(50, 1e5 ** 2), vr=(0.65, 1e5 ** 2), label='Reasonable')),
    ('Small', dict(hr=(50, 75), vr=(0.65, 1e5 ** 2), label='Reasonable_small')),
    ('Heavy', dict(hr=(50, 1e5 ** 2), vr=(0.2, 0.65), label='Reasonable_occ=heavy')),
    ('All', dict(hr=(20, 1e5 ** 2), vr=(0.2, 1e5 ** 2), label='All')),
])

#: The script's other rules: IoU threshold (``>=``), detections kept per image (the
#: highest scores, before the height filter), the widening of the height range for
#: detections (kept when ``lo / 1.25 <= h < hi * 1.25``), and the 9 FPPI points exactly
#: as the script writes them (10^[-2:0.25:0] rounded to 4 decimals: 0.0178, not 0.017783).
CITYPERSONS = dict(
    name='citypersons',
    iou_thr=0.5,
    max_dets=1000,
    expand=1.25,
    fppi=(0.0100, 0.0178, 0.0316, 0.0562, 0.1000, 0.1778, 0.3162, 0.5623, 1.0000),
)


def citypersons_setup(name: str) -> dict:
    """A setup of :data:`CITYPERSONS_SETUPS` by name; a clear error listing them."""
    if name not in CITYPERSONS_SETUPS:
        raise ValueError(f'Unknown CityPersons setup {name!r}: expected one of '
                         f'{list(CITYPERSONS_SETUPS)} (eval_MR_multisetup.py\'s HtRng/VisRng).')
    return dict(CITYPERSONS_SETUPS[name])


__all__ += ['CITYPERSONS_SETUPS', 'CITYPERSONS', 'citypersons_setup']
