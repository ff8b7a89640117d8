"""Every figure the miss-rate metrics return, on fixed inputs, as JSON: the before/after
record of the renovation that split ``MissRateMetric`` into one class per protocol.

    # the figures of the code before the renovation (its class names), committed:
    git worktree add /tmp/before 65f7c66   # the commit before the renovation
    PYTHONPATH=/tmp/before python tests/test_evaluation/make_metric_figures.py \
        tests/test_evaluation/data/metric_figures_before.json
    # the same inputs through today's classes (what test_metric_figures.py compares):
    python tests/test_evaluation/make_metric_figures.py figures_now.json

Inputs (seeded, a few seconds): synthetic HDA releases (``make_synthetic_hda``, cameras
02, 17, 19, 50) with seeded random detections around their persons and ignore regions and
seeded false positives; ``caltech`` with and without settings, ``aspect_ratio``,
``height_range``, ``iou_thr``/``expand``, per camera or not; ``hda-benchmark`` with ground
truth built from the vbb files and read from a ``GtAnnotationsAll`` ``allD.txt`` (rows
outside the frames), frames the test set lacks or holds past ``nFrame``, another pool;
``evaluate_image``/``compute_curves``, ``evaluate_benchmark`` and the output and ``--json``
of ``tools/analysis/hda_benchmark.py``.

The script runs on both APIs: ``MissRateMetric(protocol=...)`` returning tuples and dicts
(before), ``CaltechMetric``/``HDABenchmarkMetric`` returning dataclasses (after); the
adapters below turn both into the same plain JSON.
"""
import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import os.path as osp
import re
import sys
import tempfile
from collections import OrderedDict

import numpy as np
import torch

INF = float('inf')
CAMERAS = (2, 17, 19, 50)
FRAMES = 8
_PERSON_RE = re.compile(r'^person\d*$')


# --- the API of either version ---------------------------------------------------------

def _new_api() -> bool:
    import hda_plugin.evaluation as ev
    return hasattr(ev, 'CaltechMetric')


def caltech_metric(**kwargs):
    from hda_plugin import evaluation as ev
    if _new_api():
        return ev.CaltechMetric(**kwargs)
    return ev.MissRateMetric(protocol='caltech', **kwargs)


def benchmark_metric(**kwargs):
    from hda_plugin import evaluation as ev
    if _new_api():
        return ev.HDABenchmarkMetric(**kwargs)
    return ev.MissRateMetric(protocol='hda-benchmark', **kwargs)


def _floats(a) -> list:
    return [float(x) for x in np.asarray(a, dtype=np.float64).reshape(-1)]


def _ints(a) -> list:
    return [int(x) for x in np.asarray(a).reshape(-1)]


def _curve(c) -> dict:
    """A curve (dict before, ``RocCurve`` after) as lists."""
    get = c.get if isinstance(c, dict) else lambda k: getattr(c, k)
    return {k: _floats(get(k)) for k in ('fppi', 'miss_rate', 'score', 'recall',
                                         'precision')}


def _summary(s) -> dict:
    """A curve summary: the dict of ``compute_curves``/``metric.curves``/
    ``evaluate_benchmark`` (before) or a ``MissRateSummary`` (after)."""
    if isinstance(s, dict):
        out = dict(mr2=float(s['mr2']), ref_miss_rate=_floats(s['ref_miss_rate']),
                   num_images=int(s['num_images']), num_gt=int(s['num_gt']))
        if 'num_dt' in s:
            out.update(num_dt=int(s['num_dt']), cameras=[int(c) for c in s['cameras']])
        if 'fppi' in s:
            curve = {k: s[k] for k in ('fppi', 'miss_rate', 'score', 'recall', 'precision')
                     if k in s}
            out.update({k: _floats(v) for k, v in curve.items()})
        return out
    out = dict(mr2=float(s.mr2), ref_miss_rate=_floats(s.ref_miss_rate),
               num_images=int(s.num_images), num_gt=int(s.num_gt))
    if s.num_dt is not None:
        out.update(num_dt=int(s.num_dt), cameras=[int(c) for c in s.cameras])
    if s.curve is not None:
        curve = _curve(s.curve)
        if s.num_dt is not None:  # evaluate_benchmark kept fppi and miss_rate only
            curve = {k: curve[k] for k in ('fppi', 'miss_rate')}
        out.update(curve)
    return out


def _image_match(m) -> dict:
    """``evaluate_image``'s result: a 6-tuple with ``return_gt`` (before) or an
    ``ImageMatch`` (after)."""
    if isinstance(m, tuple):
        camera, scores, dt_match, num_gt, gt_match, keep = m
    else:
        camera, scores, dt_match, num_gt, gt_match, keep = (
            m.camera, m.scores, m.dt_match, m.num_gt, m.gt_match, m.keep)
    return dict(camera=camera, scores=_floats(scores), dt_match=_ints(dt_match),
                num_gt=int(num_gt), gt_match=_ints(gt_match), keep=_ints(keep))


def _curve_inputs(matches):
    """What ``compute_curves`` takes: 4-tuples before, the ``ImageMatch`` objects after."""
    if isinstance(matches[0], tuple):
        return [m[:4] for m in matches]
    return list(matches)


def _dbeval():
    try:
        from hda_plugin.evaluation import dbeval
    except ImportError:  # before 2de480f's rename
        from hda_plugin.evaluation import hda_benchmark as dbeval
    return dbeval


def _tool():
    import hda_plugin
    path = osp.join(osp.dirname(osp.dirname(osp.abspath(hda_plugin.__file__))), 'tools',
                    'analysis', 'hda_benchmark.py')
    spec = importlib.util.spec_from_file_location('hda_benchmark_tool', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- inputs ----------------------------------------------------------------------------

def _objects(root, cam):
    from hda_plugin.fileio.vbb import load_vbb
    return load_vbb(osp.join(root, 'hda_annotations', f'cam{cam:02d}.txt'))


def frame_boxes(ann):
    """Per frame 1..nFrame: persons ``x1 y1 x2 y2`` with visible fractions (NaN: posv not
    set), and ignore regions (crowd, personUnk, hidden)."""
    out = {f: ([], [], []) for f in range(1, ann.n_frames + 1)}
    for o in ann.objects:
        person = bool(_PERSON_RE.match(o.label)) and not o.hide
        for f in range(o.start, o.end + 1):
            x, y, w, h = (float(v) for v in o.pos[f - o.start])
            if w <= 0 or h <= 0 or f not in out:
                continue
            if person:
                pv = o.posv[f - o.start]
                vis = float(pv[2] * pv[3]) / (w * h) if pv[2] > 0 and pv[3] > 0 else np.nan
                out[f][0].append([x, y, x + w, y + h])
                out[f][1].append(vis)
            else:
                out[f][2].append([x, y, x + w, y + h])
    return out


def _detections(rng, persons, ignores, width, height):
    dets, scores = [], []
    for b in list(persons) + list(ignores):
        for _ in range(int(rng.integers(0, 3))):
            bw, bh = b[2] - b[0], b[3] - b[1]
            dets.append(np.asarray(b) + rng.normal(0, 0.1, 4) * [bw, bh, bw, bh])
            scores.append(rng.uniform(0.3, 1.0))
    for _ in range(int(rng.integers(0, 6))):
        h = rng.uniform(15, 200)
        x, y = rng.uniform(0, width - 40), rng.uniform(0, height - 40)
        dets.append([x, y, x + 0.41 * h, y + h])
        scores.append(rng.uniform(0, 0.8))
    dets = np.array(dets, dtype=np.float32).reshape(-1, 4)
    dets[:, 2:] = np.maximum(dets[:, 2:], dets[:, :2] + 1)
    # two decimals: equal scores, so the tie order is exercised too
    return dets, np.round(np.array(scores, dtype=np.float64), 2).astype(np.float32)


def _extra_persons(rng, width, height):
    """Seeded persons of every size and visibility, so every Dollár setting has some."""
    k = int(rng.integers(0, 3))
    h = np.where(rng.random(k) < 0.3, rng.uniform(18, 32, k), rng.uniform(30, 160, k))
    w = h * rng.uniform(0.3, 0.55, k)
    x, y = rng.uniform(0, width - 100, k), rng.uniform(0, height - 170, k)
    vis = np.where(rng.random(k) < 0.4, np.nan, np.round(rng.uniform(0.1, 1.0, k), 2))
    return np.stack([x, y, x + w, y + h], 1).tolist(), vis.tolist()


def _t(a, shape=(-1, 4)):
    return torch.tensor(np.asarray(a, dtype=np.float32).reshape(shape))


def caltech_samples(root, seed=0):
    """Data samples as ``PackHDADetInputs`` gives them to the metrics, every frame of every
    camera; plus the plain arrays (for ``evaluate_image``)."""
    from hda_plugin.testing.release import CAMERA_RESOLUTIONS
    rng = np.random.default_rng(seed)
    samples, plain = [], []
    for cam in CAMERAS:
        width, height = CAMERA_RESOLUTIONS[cam]
        for f, (persons, vis, ignores) in frame_boxes(_objects(root, cam)).items():
            more, more_vis = _extra_persons(rng, width, height)
            persons, vis = persons + more, vis + more_vis
            dets, scores = _detections(rng, persons, ignores, width, height)
            persons = np.array(persons, dtype=np.float32).reshape(-1, 4)
            ignores = np.array(ignores, dtype=np.float32).reshape(-1, 4)
            vis = np.array(vis, dtype=np.float32)
            s = dict(img_id=f'cam{cam:02d}_{f:05d}', camera=f'cam{cam:02d}', frame=f,
                     img_path=f'{root}/hda_frames/cam{cam:02d}/I{f:05d}.jpg',
                     pred_instances=dict(bboxes=_t(dets), scores=torch.tensor(scores),
                                         labels=torch.tensor(
                                             rng.integers(0, 4, len(scores)) == 3).long()),
                     gt_instances=dict(bboxes=_t(persons), labels=torch.zeros(
                         len(persons), dtype=torch.long)),
                     ignored_instances=dict(bboxes=_t(ignores), labels=torch.zeros(
                         len(ignores), dtype=torch.long)))
            if f % 3:  # some samples without the field: "posv not set"
                s['gt_instances']['visibility'] = torch.tensor(vis)
            samples.append(s)
            keep = s['pred_instances']['labels'].numpy() == 0
            plain.append((f'cam{cam:02d}', dets[keep], scores[keep], persons, ignores,
                          vis if f % 3 else None))
    return samples, plain


def benchmark_samples(root, seed=1, skip=5, past=True):
    """The model's detections on the test frames: every frame but ``f % skip == 3``, and
    with ``past`` a frame after nFrame on camera 17 (a ``_rev1`` file longer than
    ``camNN.txt``)."""
    from hda_plugin.testing.release import CAMERA_RESOLUTIONS
    rng = np.random.default_rng(seed)
    samples = []
    for cam in CAMERAS:
        width, height = CAMERA_RESOLUTIONS[cam]
        boxes = frame_boxes(_objects(root, cam))
        frames = [f for f in boxes if f % skip != 3] + ([len(boxes) + 1] if past and
                                                        cam == 17 else [])
        for f in frames:
            persons, _, ignores = boxes.get(f, ([], [], []))
            dets, scores = _detections(rng, persons, ignores, width, height)
            samples.append(dict(
                img_id=f'cam{cam:02d}_{f:05d}', camera=f'cam{cam:02d}', frame=f,
                img_path=f'{root}/hda_frames/cam{cam:02d}/I{f:05d}.jpg',
                pred_instances=dict(bboxes=_t(dets), scores=torch.tensor(scores),
                                    labels=torch.zeros(len(scores), dtype=torch.long))))
    return samples


def _write_rows(path, rows, blank_lines=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for r in rows:
            f.write(','.join(repr(float(v)) if i >= 2 else str(int(v))
                             for i, v in enumerate(r)) + '\n')
        f.write('\n' * blank_lines)


def _alld(root, name, cam):
    return osp.join(root, 'hda_detections', name, f'camera{cam:02d}', 'Detections', 'allD.txt')


def write_alld_files(root, seed=2):
    """``GtAnnotationsAll`` (the vbb persons of every frame, jittered, shuffled, with rows of
    frame 0 and past nFrame) and two detectors' files (rows outside the frames, rows naming
    another camera, empty lines)."""
    rng = np.random.default_rng(seed)
    for cam in CAMERAS:
        boxes = frame_boxes(_objects(root, cam))
        n = len(boxes)
        gt, det = [], {'DetA': [], 'DetB': []}
        for f in range(0, n + 3):
            persons = boxes[f][0] if f in boxes else \
                [[10., 10., 10. + 0.41 * 90, 100.]]  # rows dbEval never reads
            for p in persons:
                x, y, w, h = p[0], p[1], p[2] - p[0], p[3] - p[1]
                x, y = x + float(rng.normal(0, 2)), y + float(rng.normal(0, 2))
                gt.append([cam, f, x, y, w, h, 0])
                for name, jitter in (('DetA', 0.08), ('DetB', 0.2)):
                    for _ in range(int(rng.integers(0, 3))):
                        j = rng.normal(0, jitter, 4) * [w, h, w, h]
                        det[name].append([cam, f, x + j[0], y + j[1], max(w + j[2], 1),
                                          max(h + j[3], 1), round(float(rng.uniform(.3, 1)), 2)])
            for name in det:
                for _ in range(int(rng.integers(0, 4))):
                    h = float(rng.uniform(20, 150))
                    det[name].append([cam if rng.random() > .1 else 99, f,
                                      float(rng.uniform(0, 500)), float(rng.uniform(0, 300)),
                                      h * 0.41, h, round(float(rng.uniform(0, .7)), 2)])
        order = rng.permutation(len(gt))
        _write_rows(_alld(root, 'GtAnnotationsAll', cam), [gt[i] for i in order])
        for name, rows in det.items():
            _write_rows(_alld(root, name, cam), rows, blank_lines=int(name == 'DetB') * 2)


def make_releases(tmp):
    """Release ``vbb`` (no ground-truth file: built from the vbb files) and ``alld`` (the
    same vbb files with a ``GtAnnotationsAll`` and two detectors' ``allD.txt``)."""
    import shutil

    from hda_plugin.testing import make_synthetic_hda
    vbb = osp.join(tmp, 'vbb')
    make_synthetic_hda(vbb, CAMERAS, frames=FRAMES, seed=3, progress=False)
    alld = osp.join(tmp, 'alld')
    shutil.copytree(osp.join(vbb, 'hda_annotations'), osp.join(alld, 'hda_annotations'))
    write_alld_files(alld)
    return vbb, alld


# --- figures ---------------------------------------------------------------------------

class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _logger():
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('metric_figures', log_level='INFO')
    for h in logger.handlers:
        h.setLevel(logging.CRITICAL)  # quiet on the console; captured below
    return logger


def _run(metric, samples, meta, logger, keep_notes=False):
    cap = _Capture()
    logger.addHandler(cap)
    try:
        metric.dataset_meta = dict(meta)
        for i in range(0, len(samples), 4):
            metric.process({}, [dict(s) for s in samples[i:i + 4]])
        res = metric.evaluate(len(samples))
    finally:
        logger.removeHandler(cap)
    # hda-benchmark notes changed wording with the renovation (one function builds them for
    # the metric and the tool), and the caltech warning names its class; the tables and
    # every figure did not
    logs = ['\n'.join(line for line in m.split('\n') if keep_notes or
                      not line.startswith('  note:')).replace('MissRateMetric (caltech): ',
                                                              'CaltechMetric: ')
            for m in cap.messages]
    return {k: float(v) for k, v in res.items()}, logs


def _caltech_state(metric) -> dict:
    curves = getattr(metric, 'curves', {}) or {}
    return dict(
        persons={str(s): {c: int(n) for c, n in g.items()} for s, g in metric.persons.items()},
        missing_visibility=int(metric.missing_visibility),
        curves={c: _summary(v) for c, v in curves.items()})


CALTECH_CASES = OrderedDict([
    ('default', dict()),
    ('aspect', dict(aspect_ratio=0.41)),
    ('aspect_height', dict(aspect_ratio=0.41, height_range=(50, INF))),
    ('iou_height_expand', dict(iou_thr=0.6, height_range=(30, 200), expand=1.5)),
    ('all_settings', dict(aspect_ratio=0.41, settings=None)),  # settings filled in below
    ('dollar_overall', dict(aspect_ratio=0.41, settings=None, per_camera=False)),
    ('reasonable_no_aspect', dict(settings=['Reasonable'], prefix='cal')),
    ('label1', dict(label=1, aspect_ratio=0.41)),
])


def compute(tmp) -> dict:
    from hda_plugin.evaluation import CALTECH_SETTINGS, DOLLAR_SETTINGS
    logger = _logger()
    vbb_root, alld_root = make_releases(tmp)
    out = OrderedDict()
    c_samples, plain = caltech_samples(vbb_root)
    b_samples = benchmark_samples(vbb_root)
    digest = hashlib.sha256()
    for s in c_samples + b_samples:
        for part in ('pred_instances', 'gt_instances', 'ignored_instances'):
            for v in s.get(part, {}).values():
                digest.update(v.numpy().tobytes())
    for path in sorted(p for p in _walk(alld_root) if p.endswith('.txt')):
        digest.update(open(path, 'rb').read())
    out['inputs_sha256'] = digest.hexdigest()
    out['caltech'] = OrderedDict()
    for name, kwargs in CALTECH_CASES.items():
        kwargs = dict(kwargs)
        if 'settings' in kwargs and kwargs['settings'] is None:
            kwargs['settings'] = list(CALTECH_SETTINGS if name == 'all_settings' else
                                      DOLLAR_SETTINGS)
        metric = caltech_metric(**kwargs)
        metrics, logs = _run(metric, c_samples, dict(classes=('person', )), logger)
        out['caltech'][name] = dict(metrics=metrics, logs=logs, **_caltech_state(metric))
    # offline use (plot_curves, browse_dataset): one image at a time, then the curves
    out['curves'] = OrderedDict()
    for name, kwargs, setting in (
            ('aspect_height', dict(aspect_ratio=0.41, height_range=(50, INF)), None),
            ('reasonable', dict(aspect_ratio=0.41, settings=list(DOLLAR_SETTINGS)),
             'Reasonable'),
            ('occ_heavy', dict(aspect_ratio=0.41, settings=list(DOLLAR_SETTINGS)),
             'Occ=heavy'),
            ('no_options', dict(per_camera=False), None)):
        metric = caltech_metric(**kwargs)
        matches = []
        for camera, dets, scores, persons, ignores, vis in plain:
            if _new_api():
                matches.append(metric.evaluate_image(dets, scores, persons, ignores, camera,
                                                     setting=setting, visibility=vis))
            else:
                matches.append(metric.evaluate_image(dets, scores, persons, ignores, camera,
                                                     return_gt=True, setting=setting,
                                                     visibility=vis))
        curves = metric.compute_curves(_curve_inputs(matches))
        out['curves'][name] = dict(images=[_image_match(m) for m in matches],
                                   curves={c: _summary(v) for c, v in curves.items()})
    out['hda_benchmark'] = OrderedDict()
    cases = (
        ('gt_from_vbb', vbb_root, dict(), b_samples),
        ('gt_from_vbb_all_frames', vbb_root, dict(per_camera=False),
         benchmark_samples(vbb_root, seed=4, skip=10 ** 6, past=False)),
        ('gt_alld', alld_root, dict(), b_samples),
        ('gt_alld_pool_all', alld_root, dict(pool_exclude=(), prefix='bench'), b_samples),
        ('gt_alld_pool_without_17', alld_root, dict(pool_exclude=[2, 17]), b_samples),
        ('gt_alld_data_root_option', alld_root, dict(data_root=alld_root), b_samples),
    )
    for name, root, kwargs, samples in cases:
        metric = benchmark_metric(**kwargs)
        meta = dict(classes=('person', ))
        if 'data_root' not in kwargs:
            meta['data_root'] = root
        metrics, logs = _run(metric, samples, meta, logger)
        out['hda_benchmark'][name] = dict(metrics=metrics,
                                          logs=[m.replace(root, '<root>') for m in logs])
    # the library function on allD.txt files, curves kept
    db = _dbeval()
    out['evaluate_benchmark'] = OrderedDict()
    for name, root, det, pool in (('alld_DetA', alld_root, 'DetA', None),
                                  ('alld_DetB_with_02', alld_root, 'DetB', [2, 17, 50])):
        gts = [db.load_benchmark_gt(root, c) for c in CAMERAS]
        dts = [db.load_benchmark_dt(root, det, c) for c in CAMERAS]
        res = db.evaluate_benchmark(gts, dts, pool=pool, keep_curves=True)
        out['evaluate_benchmark'][name] = {k: _summary(v) for k, v in res.items()}
    # the tool: its output and --json
    tool = _tool()
    out['tool'] = OrderedDict()
    for name, root, args in (
            ('alld', alld_root, ['--detector', 'DetA', 'DetB']),
            ('alld_cameras', alld_root, ['--detector', 'DetB', '--cameras', '2', '17', '19']),
            ('vbb', alld_root, ['--detector', 'DetA', '--gt', 'NoSuchGt']),
            ('vbb_one_camera', alld_root, ['--detector', 'DetA', '--gt', 'NoSuchGt',
                                           '--cameras', '50'])):
        js = osp.join(tmp, f'tool_{name}.json')
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            tool.main([root, *args, '--json', js])
        with open(js) as f:
            out['tool'][name] = dict(
                stdout=buf.getvalue().replace(root, '<root>').replace(tmp, '<tmp>'),
                json=json.load(f))
    return out


def _walk(root):
    for d, _, files in os.walk(root):
        for f in files:
            yield osp.join(d, f)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit(__doc__)
    import hda_plugin  # noqa: F401  (registers the metrics)
    with tempfile.TemporaryDirectory() as tmp:
        figures = compute(tmp)
    figures['code'] = 'after' if _new_api() else 'before'
    os.makedirs(osp.dirname(osp.abspath(argv[0])), exist_ok=True)
    with open(argv[0], 'w') as f:
        json.dump(figures, f, indent=1, sort_keys=False)
    print(f'{argv[0]}: figures of {osp.dirname(osp.abspath(hda_plugin.__file__))} '
          f'({figures["code"]} the renovation)')


if __name__ == '__main__':
    main()
