"""K-fold cross-validation over an HDA release's cameras: the fold plan, the pooled
detections and their figure (``tools/cross_val.py`` runs the folds).

The HDA benchmark's published figures (ACF: 65 % on the cameras but 02, 62 % on camera 60)
score a detector on cameras it was not trained on. A model trained on some cameras of the
release can only be scored that way on the others; K-fold cross-validation over cameras
scores every camera with a model that never saw it, and pools the K folds' ``allD.txt``
into one detector folder that the benchmark scores as it scores ACF's.

Rules (stated in ``tools/cross_val.py --help`` and docs/cross_validation.md):

* :data:`FOLD_RULE`: cameras into K test folds, balanced by frames with people;
* :data:`VAL_RULE`: each fold's validation cameras (checkpoint selection), never a test
  camera of that fold, and not trained on.
"""
import glob
import hashlib
import json
import math
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ..fileio.alld import alld_path, check_detector_dir, mark_detector_dir, read_detector_record
from ..fileio.atomic import write_atomic
from ..fileio.hda_layout import (
    HDA_LAYOUT,
    annotation_path,
    camera_id,
    camera_name,
)
from ..fileio.vbb import load_vbb
from ..utils.table import format_table
from .bootstrap import bootstrap_metrics
from .dbeval import benchmark_cameras, benchmark_metrics, score_detectors
from .protocols import HDA_BENCHMARK

__all__ = ['CrossValError', 'CrossValFold', 'FOLD_RULE', 'VAL_RULE', 'SELECTION_KEY',
           'people_frames', 'assign_folds', 'validation_cameras', 'make_folds',
           'default_cameras', 'parse_cameras', 'find_hda_datasets', 'release_root_of',
           'camera_overrides', 'config_fingerprint', 'pool_detections', 'score_pool',
           'link_release', 'caltech_pool', 'caltech_table', 'mean_std', 'summary_table',
           'PLAN_FILE', 'SUMMARY_FILE',
           'check_record', 'write_json', 'read_json', 'fold_complete', 'best_checkpoint',
           'checkpoint_best_score']

#: The fold rule, as printed.
FOLD_RULE = (
    'cameras sorted by frames with people (descending, then camera id ascending), each put '
    'in turn into the fold with the fewest frames with people so far (ties: the lowest fold '
    'index); a fold\'s cameras listed in the order they were put in (greedy '
    'longest-processing-time assignment)')
#: The validation-camera rule, as printed.
VAL_RULE = (
    'fold i validates on the first N cameras with people of folds i+1, i+2, ... (mod K), '
    'each fold\'s cameras in their assignment order: never a test camera of fold i, and '
    'left out of its training')
#: What selects a fold's checkpoint: the benchmark's MR-2 on its validation cameras, lower
#: is better (HDABenchmarkMetric's key; MMEngine names the file ``best_hda_MR-2_iter_N.pth``).
SELECTION_KEY = 'hda/MR-2'
#: Files of a cross-validation folder.
PLAN_FILE = 'cross_val_plan.json'
SUMMARY_FILE = 'summary.json'

_PERSON_RE = re.compile(r'^person\d*$')  # a regular person of the vbb files
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class CrossValError(ValueError):
    """A cross-validation that cannot be planned, run or collected as asked: the message
    names what, where, and the likely fix."""


@dataclass
class CrossValFold:
    """One fold: scored on ``test_cameras``, trained on ``train_cameras``, its checkpoint
    chosen on ``val_cameras`` (disjoint, all three)."""
    fold: int
    test_cameras: List[int]
    val_cameras: List[int]
    train_cameras: List[int]
    people_frames: int = 0  # frames with people over the test cameras
    extra: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(d.pop('extra'))
        return d


def parse_cameras(cameras: Sequence, option: str = '--cameras') -> List[int]:
    """Camera ids of an option, in the order given; a camera listed twice is an error."""
    ids = []
    for c in cameras:
        try:
            cam = camera_id(c)
        except ValueError as e:
            raise CrossValError(f'{option}: {e}') from None
        if cam in ids:
            raise CrossValError(f'{option}: camera {camera_name(cam)} is listed twice '
                                f'({" ".join(map(str, cameras))}); each camera goes into '
                                'one fold: list it once.')
        ids.append(cam)
    return ids


def default_cameras(root: str) -> List[int]:
    """The benchmark's pool: every camera of the release with an annotation file, but 02."""
    try:
        return benchmark_cameras(root)[0]
    except FileNotFoundError as e:
        raise CrossValError(f'{e} Check the config\'s data_root (HDA_ROOT).') from None


def people_frames(root: str, cameras: Sequence[int]) -> 'OrderedDict[int, int]':
    """Per camera, the frames holding at least one regular person (a ``person`` or
    ``person<ID>`` object of the vbb file, not hidden, with a box of positive size): the
    data set's annotation file (``camNN_rev1.txt`` where it exists), read without images."""
    out = OrderedDict()
    for cam in cameras:
        try:
            ann = load_vbb(annotation_path(root, cam))
        except FileNotFoundError as e:
            raise CrossValError(f'camera {camera_name(cam)} is not annotated in the release '
                                f'{root}: {e}') from None
        frames = set()
        for obj in ann.objects:
            if obj.hide or not _PERSON_RE.match(obj.label):
                continue
            for f in range(obj.start, obj.end + 1):
                b = obj.pos[f - obj.start]
                if b[2] > 0 and b[3] > 0:
                    frames.add(f)
        out[camera_id(cam)] = len(frames)
    return out


def assign_folds(people: Mapping[int, int], k: int) -> List[List[int]]:
    """K disjoint test folds by :data:`FOLD_RULE`."""
    cams = list(people)
    if k < 2:
        raise CrossValError(f'--folds {k}: cross-validation needs at least 2 folds.')
    if k > len(cams):
        raise CrossValError(
            f'--folds {k} is more than the {len(cams)} cameras to split '
            f'({", ".join(camera_name(c) for c in cams)}): every fold needs a test camera. '
            f'Use --folds {len(cams)} or fewer, or more --cameras.')
    folds, load = [[] for _ in range(k)], [0] * k
    for cam in sorted(cams, key=lambda c: (-people[c], c)):
        i = min(range(k), key=lambda j: (load[j], j))
        folds[i].append(cam)
        load[i] += people[cam]
    return folds


def validation_cameras(folds: Sequence[Sequence[int]], people: Mapping[int, int], i: int,
                       n: int) -> List[int]:
    """Fold ``i``'s ``n`` validation cameras by :data:`VAL_RULE`."""
    k = len(folds)
    side = [c for j in range(1, k) for c in folds[(i + j) % k]]
    usable = [c for c in side if people[c] > 0]
    if n < 1:
        raise CrossValError(f'--val-cameras {n}: at least 1 validation camera is needed to '
                            'choose each fold\'s checkpoint.')
    if n > len(usable) or n >= len(side):
        raise CrossValError(
            f'--val-cameras {n}: fold {i} keeps {len(side)} cameras out of its test set '
            f'({", ".join(camera_name(c) for c in side)}; {len(usable)} with people): '
            f'validation takes {n} of them with people and at least one must stay for '
            f'training. Use --val-cameras {max(1, min(len(usable), len(side) - 1))} or '
            'fewer folds.')
    return usable[:n]


def make_folds(people: Mapping[int, int], k: int, n_val: int,
               where: str = 'the release') -> List[CrossValFold]:
    """The fold plan: test folds (:data:`FOLD_RULE`), their validation cameras
    (:data:`VAL_RULE`) and training cameras (all others). A fold without a frame with
    people is an error (its MR-2 would be undefined)."""
    folds = assign_folds(people, k)
    empty = [(i, f) for i, f in enumerate(folds) if sum(people[c] for c in f) == 0]
    if empty:
        i, f = empty[0]
        raise CrossValError(
            f'fold {i} (test cameras {", ".join(camera_name(c) for c in f)} of {where}) has '
            f'no frame with a person in its annotations, so its miss rate is undefined. '
            f'Cameras with people: '
            f'{", ".join(f"{camera_name(c)} ({n})" for c, n in people.items() if n)}. '
            'Leave cameras without people out (--cameras) or use fewer --folds.')
    out = []
    for i, test in enumerate(folds):
        val = validation_cameras(folds, people, i, n_val)
        train = sorted(c for c in people if c not in test and c not in val)
        out.append(CrossValFold(i, list(test), val, train, sum(people[c] for c in test)))
    return out


def _type_name(d: Mapping) -> str:
    t = d.get('type')
    return t.rsplit('.', 1)[-1] if isinstance(t, str) else getattr(t, '__name__', str(t))


def _walk_datasets(node: Any, path: str) -> Iterator[Tuple[str, Mapping]]:
    if not isinstance(node, Mapping):
        return
    if _type_name(node) == 'HDADataset':
        yield path, node
        return
    if isinstance(node.get('dataset'), Mapping):
        yield from _walk_datasets(node['dataset'], f'{path}.dataset')
    for j, child in enumerate(node.get('datasets') or ()):
        yield from _walk_datasets(child, f'{path}.datasets.{j}')


def find_hda_datasets(cfg: Mapping, config: str = 'the config') -> Dict[str, Tuple[str, Mapping]]:
    """``{dataloader: (dotted path of its HDADataset, the dataset dict)}`` for the train,
    val and test dataloaders, found by walking their dataset dicts (``RepeatDataset``,
    ``ConcatDataset`` & co.); an error when one has no ``HDADataset`` or several."""
    out = {}
    for loader in _LOADERS:
        ds = (cfg.get(loader) or {}).get('dataset')
        found = list(_walk_datasets(ds, f'{loader}.dataset'))
        if len(found) != 1:
            raise CrossValError(
                f'{config}: {loader} holds {len(found)} HDADataset'
                + (f' ({", ".join(p for p, _ in found)})' if found else '')
                + ': cross-validation splits one HDA release\'s cameras and needs exactly one '
                'HDADataset in each of train_dataloader, val_dataloader and test_dataloader.')
        out[loader] = found[0]
    return out


def release_root_of(datasets: Mapping[str, Tuple[str, Mapping]], config: str) -> str:
    """The release root all three data sets read (their ``data_root``); an error when they
    differ."""
    roots = {loader: osp.normpath(str(d.get('data_root') or '')) for loader, (_, d)
             in datasets.items()}
    if len(set(roots.values())) != 1 or not next(iter(roots.values())) \
            or next(iter(roots.values())) == '.':
        raise CrossValError(
            f'{config}: the HDA data sets read different or empty data_root values '
            f'({", ".join(f"{k}: {v!r}" for k, v in roots.items())}): cross-validation '
            'splits one release; set one data_root (HDA_ROOT) for all three.')
    return next(iter(roots.values()))


def camera_overrides(datasets: Mapping[str, Tuple[str, Mapping]], fold: CrossValFold,
                     role: str = 'train') -> Dict[str, List[int]]:
    """``--cfg-options`` of a fold: the training cameras in the train dataloader, the
    validation cameras in the val dataloader, and in the test dataloader the validation
    cameras (``role='train'``: a test run of the training config is on them too) or the
    fold's test cameras (``role='test'``)."""
    p = {loader: f'{path}.cameras' for loader, (path, _) in datasets.items()}
    return OrderedDict([
        (p['train_dataloader'], list(fold.train_cameras)),
        (p['val_dataloader'], list(fold.val_cameras)),
        (p['test_dataloader'], list(fold.val_cameras if role == 'train' else fold.test_cameras))])


def config_fingerprint(cfg_dict: Mapping) -> str:
    """A digest of a config's settings (after ``--cfg-options``): two runs with the same
    digest train and test the same way."""
    text = json.dumps(cfg_dict, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def read_json(path: str) -> Optional[dict]:
    """A JSON record written by this module (None when absent); an unreadable one is an
    error naming the file."""
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        raise CrossValError(f'{path}: not a readable JSON record ({e}); it was written by '
                            'tools/cross_val.py: remove it to start that part again.') from None
    if not isinstance(d, dict):
        raise CrossValError(f'{path}: a JSON object expected.')
    return d


def write_json(obj: Mapping, path: str) -> None:
    """Writes ``obj`` as JSON, atomically."""
    write_atomic(json.dumps(obj, indent=1, default=str), path, mode='w', encoding='utf-8')


def check_record(path: str, record: Optional[Mapping], expected: Mapping,
                 keys: Sequence[str]) -> None:
    """An existing record (plan, summary, fold record) must agree with this run on
    ``keys``; otherwise an error naming the file, the key and both values."""
    if not record:
        return
    for key in keys:
        if key in record and record[key] != expected.get(key):
            raise CrossValError(
                f'{path} was written for another cross-validation: its {key} is '
                f'{record[key]!r}, this run\'s is {expected.get(key)!r} (config '
                f'{record.get("config")!r}). Use another --work-dir, or run with the same '
                'config, --cfg-options, --folds, --cameras, --val-cameras and --name.')


def best_checkpoint(work_dir: str, key: str = SELECTION_KEY) -> Optional[str]:
    """The checkpoint MMEngine's ``save_best=key`` kept in ``work_dir``
    (``best_<key with / as _>_<iter_N|epoch_N>.pth``), or None.

    MMEngine keeps one such file, but a run killed after writing a new best file and before
    re-saving its regular checkpoint resumes without knowing that file, and may write a
    second one later (of a score better than the best it knew, not than the file it forgot).
    With several, the one of the best score is taken: each best file records its own score
    (``message_hub.runtime_info.best_score``, set just before the file is written; read
    through the safe loader), lower wins for ``hda/MR-2`` (``rule='less'``), the earlier
    iteration on ties, as MMEngine's strict comparison keeps it."""
    pattern = osp.join(glob.escape(work_dir), f'best_{key.replace("/", "_")}_*.pth')
    found = sorted(glob.glob(pattern),
                   key=lambda p: (int((re.findall(r'(\d+)\.pth$', p) or ['-1'])[0]), p))
    if len(found) <= 1:
        return found[0] if found else None
    scored = [(checkpoint_best_score(p), i, p) for i, p in enumerate(found)]
    unknown = [p for score, _, p in scored if score is None]
    if unknown:
        raise CrossValError(
            f'{work_dir}: {len(found)} best checkpoints ({", ".join(map(osp.basename, found))})'
            f' and {", ".join(map(osp.basename, unknown))} records no best_score in its '
            'message hub: it was not written by MMEngine\'s save_best. Remove the files that '
            'are not the run\'s own and run again.')
    return min(scored)[2]


def checkpoint_best_score(path: str) -> Optional[float]:
    """The ``best_score`` an MMEngine checkpoint's message hub holds (None without one),
    loaded with the allowlist of :mod:`hda_plugin.safe_pickle` (no file runs code)."""
    from ..safe_pickle import safe_torch_load
    ckpt = safe_torch_load(path, map_location='cpu')
    hub = ckpt.get('message_hub') if isinstance(ckpt, dict) else None
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    score = info.get('best_score') if isinstance(info, dict) else None
    return None if score is None else float(score)


def fold_complete(fold_dir: str, detector: str, cameras: Sequence[int]) -> Tuple[bool, str]:
    """Whether a fold's test run finished: its detector folder's ``hda-ssd.json`` says
    ``complete`` and every test camera's ``allD.txt`` is there. Returns ``(done, why
    not)``."""
    det_dir = osp.join(fold_dir, HDA_LAYOUT['detections'], detector)
    state = read_detector_record(det_dir).get('state')
    if state != 'complete':
        return False, (f'{det_dir}: test not finished (hda-ssd.json state {state!r})'
                       if state else f'no test output {det_dir}')
    missing = [camera_name(c) for c in cameras if not osp.isfile(alld_path(fold_dir, detector, c))]
    if missing:
        return False, f'{det_dir}: no allD.txt for {", ".join(missing)}'
    return True, ''


def link_release(out_root: str, release: str, own: Sequence[str] = ()) -> None:
    """Makes ``out_root`` a release root for the benchmark: ``hda_annotations``, the
    release's ground-truth folder and its other detector folders (``AcfInria``, ...) as
    links to the release's, so ``tools/analysis/hda_benchmark.py out_root --detector NAME
    AcfInria`` (paired intervals included), ``results_table.py`` and dbEval.m read the
    pooled detections beside the release's. Existing entries are left, and the names in
    ``own`` (the pooled folders this cross-validation writes) are never linked: the pool
    must not write into the release."""
    pairs = [(osp.join(release, HDA_LAYOUT['ann']), osp.join(out_root, HDA_LAYOUT['ann']))]
    det_root = osp.join(release, HDA_LAYOUT['detections'])
    for name in sorted(os.listdir(det_root)) if osp.isdir(det_root) else []:
        if osp.isdir(osp.join(det_root, name)) and name not in own:  # gt and detectors
            pairs.append((osp.join(det_root, name),
                          osp.join(out_root, HDA_LAYOUT['detections'], name)))
    for src, dst in pairs:
        if osp.lexists(dst):
            continue
        os.makedirs(osp.dirname(dst), exist_ok=True)
        tmp = f'{dst}.part{os.getpid()}'
        if osp.lexists(tmp):
            os.remove(tmp)
        os.symlink(osp.abspath(src), tmp)
        os.replace(tmp, dst)  # the link appears whole


def pool_detections(out_root: str, detector: str, sources: Mapping[int, str],
                    info: Mapping) -> Dict[int, str]:
    """Copies each camera's ``allD.txt`` (``sources``: camera -> file of the fold that
    tested it) to ``out_root/hda_detections/<detector>/cameraNN/Detections/allD.txt``,
    each atomically, and records the folder (``hda-ssd.json``: ``info``, per file its
    source). Returns camera -> pooled file."""
    det_dir = check_detector_dir(out_root, detector, option='--name')
    out, files = {}, {}
    for cam, src in sorted(sources.items()):
        dst = alld_path(out_root, detector, cam)
        with open(src, 'rb') as f:
            write_atomic(f.read(), dst, mode='wb')
        out[cam] = dst
        files[osp.relpath(dst, det_dir)] = dict(input=src, status='completed')
    mark_detector_dir(det_dir, detector, 'hda-ssd tools/cross_val.py', dict(info), files)
    return out


def score_pool(out_root: str, detector: str, cameras: Sequence[int],
               gt: str = HDA_BENCHMARK['gt'], bootstrap=None):
    """The benchmark's figure of the pooled folder under ``out_root`` (linked to its
    release by :func:`link_release`), as ``tools/analysis/hda_benchmark.py`` computes it
    (:func:`~.dbeval.score_detectors`), with ``bootstrap`` (a
    :class:`~.bootstrap.BootstrapSettings`) its intervals: ``(metrics {'hda/MR-2': x,
    'hda/MR-2_camNN': x, 'hda/MR-2_ci95': [lo, hi], ...}, the scores, pool cameras)``. The
    pool is the cameras but 02 (all of them when only 02 is left)."""
    cams = sorted(camera_id(c) for c in cameras)
    pool = [c for c in cams if c not in HDA_BENCHMARK['excluded_cameras']] or cams
    scores = score_detectors(out_root, [detector], pool, gt, bootstrap=bootstrap,
                             progress=False)
    metrics = OrderedDict((f'hda/{k}', float(v))
                          for k, v in benchmark_metrics(scores.results[detector]).items())
    if scores.bootstrap is not None:
        metrics.update((f'hda/{k}', v) for k, v in
                       bootstrap_metrics(scores.bootstrap, detector).items())
    return metrics, scores, pool


def caltech_pool(cfg, out_root: str, detector: str, cameras: Sequence[int]
                 ) -> 'OrderedDict[str, float]':
    """The config's ``caltech`` settings (its test evaluator's ``CaltechMetric``: Dollár's
    settings on the vbb annotations) over the pooled ``allD.txt`` of ``detector`` under
    ``out_root``: every camera's frames of the config's test set (its ``frame_step``), the
    ground truth as the test runs load it, the detections as the benchmark reads them.
    Keys as the test run prints them (``caltech/Reasonable/MR-2``, ...)."""
    import numpy as np
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    from ..fileio.alld import find_alld, read_alld
    from ..structures.boxes import xywh_to_xyxy
    from ..utils.config import inner_dataset_cfg
    from .caltech import CaltechImage
    from .results import metric_from_config
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    metric = metric_from_config(cfg)
    ds_cfg = dict(inner_dataset_cfg(cfg['test_dataloader']['dataset']))
    ds_cfg.update(pipeline=[], test_mode=True, cameras=sorted(camera_id(c) for c in cameras))
    dataset = DATASETS.build(ds_cfg)
    dets = {}
    for cam in ds_cfg['cameras']:
        a = read_alld(find_alld(out_root, detector, cam))
        order = np.argsort(a.frame, kind='stable')
        frames = a.frame[order]
        dets[cam] = (frames, xywh_to_xyxy(a.boxes[order]), a.scores[order])
    images = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        frames, boxes, scores = dets[camera_id(info['camera'])]
        lo, hi = np.searchsorted(frames, info['frame'], 'left'), \
            np.searchsorted(frames, info['frame'], 'right')
        inst = info['instances']
        regular = [x for x in inst if not x['ignore_flag']]
        images.append(CaltechImage(
            info['camera'], boxes[lo:hi].astype(np.float32), scores[lo:hi].astype(np.float32),
            np.array([x['bbox'] for x in regular], np.float64).reshape(-1, 4),
            np.array([x.get('visibility', np.inf) for x in regular], np.float64),
            np.array([x['bbox'] for x in inst if x['ignore_flag']], np.float64).reshape(-1, 4)))
    prefix = metric.prefix or metric.default_prefix
    return OrderedDict((f'{prefix}/{k}', float(v))
                       for k, v in metric.compute_metrics(images).items())


def caltech_table(runs: Sequence[Mapping[str, Any]], mean: Mapping, std: Mapping
                  ) -> List[str]:
    """One screen: each caltech setting's pooled MR-2 per seed, then mean +- std."""
    keys = [k for k in runs[0] if k.startswith('caltech/') and k.endswith('/MR-2')]

    def pct(v):
        return 'n/a' if v is None else f'{v:.1%}'
    rows = [[r['detector']] + [pct(r.get(k)) for k in keys] for r in runs]
    if len(runs) > 1:
        rows.append(['mean +- std'] + [f'{pct(mean.get(k))} +- {pct(std.get(k))}'
                                       for k in keys])
    return format_table(['run'] + [k.split('/')[1] for k in keys], rows)


def mean_std(runs: Sequence[Mapping[str, Any]]) -> Tuple['OrderedDict', 'OrderedDict']:
    """Mean and sample standard deviation (n - 1; None for one run) over runs of every
    numeric key the runs share."""
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and k != 'seed'
            and all(isinstance(r.get(k), (int, float)) for r in runs)] if runs else []
    mean, std = OrderedDict(), OrderedDict()
    for k in keys:
        vals = [float(r[k]) for r in runs]
        m = sum(vals) / len(vals)
        mean[k] = m
        std[k] = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)) \
            if len(vals) > 1 else None
    return mean, std


def summary_table(runs: Sequence[Mapping[str, Any]], mean: Mapping, std: Mapping,
                  cameras: Sequence[int]) -> List[str]:
    """One screen: ``hda/MR-2`` pooled (with its bootstrap interval where the runs have
    one) and per camera, one row per seed, then mean +- std."""
    keys = ['hda/MR-2'] + [f'hda/MR-2_{camera_name(c)}' for c in sorted(cameras)]
    ci = next((k for k in (runs[0] if runs else {}) if re.fullmatch(r'hda/MR-2_ci[\d.]+', k)),
              None)
    header = ['run', 'pool'] + ([ci.split('_', 1)[1]] if ci else []) + \
        [camera_name(c) for c in sorted(cameras)]

    def pct(v):
        return 'n/a' if v is None else f'{v:.1%}'
    rows = []
    for r in runs:
        interval = [f'[{pct(r[ci][0])}, {pct(r[ci][1])}]'] if ci else []
        rows.append([r['detector'], pct(r.get(keys[0]))] + interval +
                    [pct(r.get(k)) for k in keys[1:]])
    if len(runs) > 1:
        cells = [f'{pct(mean.get(k))} +- {pct(std.get(k))}' for k in keys]
        rows.append(['mean +- std', cells[0]] + ([''] if ci else []) + cells[1:])
    return format_table(header, rows)
