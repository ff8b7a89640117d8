"""What every person data set of hda-ssd shares, and the wrapper that mixes them.

- :data:`PERSON_METAINFO`: the one label map (``person`` = 0, ``num_classes=1``) of
  ``HDADataset``, ``CaltechDataset``, ``CityPersonsDataset``, ``CrowdHumanPersonDataset``
  and ``INRIAPersonDataset``; a data set's other labels become ignore regions
  (``ignore_flag=1``) or raise an error, never a second class.
- :func:`person_instance`: the box rule they all apply (clip to the image; a box with no
  area left is dropped and counted) and the instance dict they all return.
- :class:`LoadSummary`: the one-screen table of what became of every box, per group
  (camera, video, city, split), logged once the data list is built.
- :class:`PersonDataset`: the base class holding these; ``filter_data`` counts what
  ``filter_cfg`` removes and refuses an empty result.
- :class:`PersonConcatDataset`: MMEngine's ``ConcatDataset`` for sets that share the label
  map. MMEngine compares every metainfo key of the mixed sets and fails on "The meta
  information of the 1-th dataset does not match" (or "... does not in the meta
  information") as soon as one key differs or is missing (open-mmlab/mmdetection #10474,
  #9195, #10499: palettes, extra keys). Here ``HDADataset`` carries its release root
  (``data_root``, which ``HDABenchmarkMetric`` reads from the metainfo) and the other sets
  do not; MMDetection 3.3's ``ConcatDataset`` instead turns ``metainfo`` into a list, which
  hooks and metrics reading ``metainfo['classes']`` do not expect. The label map is what
  must agree, so that alone is compared, with an error naming the sets that disagree.
  (MMEngine's own ``ConcatDataset(..., ignore_keys=['data_root'])`` also mixes these sets.)
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.dataset import BaseDataset, ConcatDataset
from mmengine.logging import print_log

from ..utils.table import format_table
from .filtering import apply_filter_cfg

__all__ = ['PERSON_METAINFO', 'LoadSummary', 'UnknownLabels', 'person_instance', 'PersonDataset',
           'PersonConcatDataset', 'UNSET']

#: the ``data_root`` of a set a mixed config names but the user does not have
UNSET = 'unset'

#: the label map every person data set declares (``METAINFO``): one class, ``person`` = 0
PERSON_METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])


class LoadSummary:
    """Counts per group (a camera, a video, a city) of what became of every box.

    Args:
        columns: the counters, in the order of the table; ``count`` accepts no other key.
        legend: one line per column group, printed under the table.
    """

    def __init__(self, columns: Sequence[str], legend: Sequence[str] = ()):
        self.columns = list(columns)
        self.legend = list(legend)
        self.groups: 'OrderedDict[str, OrderedDict[str, int]]' = OrderedDict()

    def group(self, name: str) -> 'OrderedDict[str, int]':
        """The counters of ``name``, created at zero on first use."""
        if name not in self.groups:
            self.groups[name] = OrderedDict((c, 0) for c in self.columns)
        return self.groups[name]

    def count(self, name: str, key: str, n: int = 1) -> None:
        """Adds ``n`` to counter ``key`` of group ``name``."""
        counters = self.group(name)
        if key not in counters:
            raise KeyError(f'LoadSummary: no column {key!r}; columns are {self.columns}.')
        counters[key] += n

    def total(self) -> 'OrderedDict[str, int]':
        """Every counter summed over the groups."""
        return OrderedDict((c, sum(g[c] for g in self.groups.values())) for c in self.columns)

    def lines(self, title: str, group_title: str = 'group', max_groups: int = 20) -> List[str]:
        """The table (at most ``max_groups`` rows, then the total), title and legend."""
        rows = [[name] + list(g.values()) for name, g in self.groups.items()]
        if len(rows) > max_groups:
            hidden = len(rows) - max_groups
            rows = rows[:max_groups] + [[f'({hidden} more)'] + [''] * len(self.columns)]
        rows.append(['total'] + list(self.total().values()))
        return [title] + format_table([group_title] + self.columns, rows, indent='') + \
            self.legend


def person_instance(box_xywh: Sequence[float], width: float, height: float, counts: Dict,
                    ignore: bool, visibility: Optional[float] = None,
                    clip: bool = True) -> Optional[dict]:
    """An MMDetection instance of label 0 from an ``[x, y, w, h]`` box, or None.

    A box without area (``w`` or ``h`` <= 0) counts as ``zero_area``, one wholly outside the
    image as ``outside``; both are dropped (returned None). With ``clip`` a box reaching out
    of the image is cut to it and counts as ``clipped``; without, it is kept as annotated
    (what official evaluation scripts score) and counts as ``clipped`` all the same, to be
    seen. ``counts`` is a group of :class:`LoadSummary` (or any dict with those keys).
    """
    x, y, w, h = (float(v) for v in box_xywh)
    if not (w > 0 and h > 0):
        counts['zero_area'] += 1
        return None
    x1, y1, x2, y2 = x, y, x + w, y + h
    cx1, cy1 = min(max(x1, 0.), width), min(max(y1, 0.), height)
    cx2, cy2 = min(max(x2, 0.), width), min(max(y2, 0.), height)
    if cx2 - cx1 <= 0 or cy2 - cy1 <= 0:
        counts['outside'] += 1
        return None
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        counts['clipped'] += 1
        if clip:
            x1, y1, x2, y2 = cx1, cy1, cx2, cy2
    inst = dict(bbox=[x1, y1, x2, y2], bbox_label=0, ignore_flag=int(bool(ignore)))
    if visibility is not None:
        inst['visibility'] = float(visibility)
    return inst


class UnknownLabels:
    """The labels a data set does not know, each with its count and first place, collected
    over the whole split so that one error lists them all (never dropped silently).

    Args:
        what: the word of the format, ``'labels'`` or ``'tags'``.
        unit: what is counted, ``'boxes'`` or ``'tracks'`` (vbb objects).
    """

    def __init__(self, what: str = 'labels', unit: str = 'boxes'):
        self.what, self.unit = what, unit
        self.seen: 'OrderedDict[str, list]' = OrderedDict()

    def add(self, label: str, where: str) -> None:
        """Counts one box (track) of ``label``; ``where`` (file and line, record or frame)
        is kept for its first."""
        self.seen.setdefault(label, [0, where])[0] += 1

    def __bool__(self) -> bool:
        return bool(self.seen)

    def error(self, dataset: str, expected: str, option: str,
              current: Sequence[str]) -> ValueError:
        """The error: every unknown label, its count and first place, what was expected
        and the fix (the ``option`` that makes them ignore regions, spelled out)."""
        listed = '; '.join(f'{label!r}: {n} {self.unit}, first at {where}'
                           for label, (n, where) in self.seen.items())
        return ValueError(
            f'{dataset}: unknown {self.what}: {listed}. Expected {expected}. To make them '
            f'ignore regions, add them to {option}, e.g. '
            f'{option}={list(current) + list(self.seen)!r}.')


class PersonDataset(BaseDetDataset):
    """Base of hda-ssd's person data sets: :data:`PERSON_METAINFO`, a :class:`LoadSummary`
    in ``self.summary`` (subclasses fill it in ``load_data_list``), and a ``filter_data``
    that counts what ``filter_cfg`` removes, logs the summary and refuses an empty set.

    Subclasses set ``summary_columns`` / ``summary_legend`` and ``summary_group_title``.
    """
    METAINFO = PERSON_METAINFO
    summary_columns: Sequence[str] = ('images', 'persons', 'ignore', 'clipped', 'zero_area',
                                      'outside')
    summary_legend: Sequence[str] = ()
    summary_group_title = 'group'

    def __init__(self, *args, **kwargs):
        self.summary = LoadSummary(self.summary_columns, self.summary_legend)
        super().__init__(*args, **kwargs)

    def filter_data(self) -> List[dict]:
        """Applies ``filter_empty_gt`` and ``min_size`` (an image whose every instance is
        ignored counts as empty), logs the load summary and what the filter removed."""
        data, removed = apply_filter_cfg(self.data_list, self.filter_cfg, self.test_mode)
        name = type(self).__name__
        lines = self.summary.lines(
            f'{name} load summary ({"test" if self.test_mode else "train"} mode, '
            f'{self.data_root}):', self.summary_group_title)
        lines.append(f'images: {len(data)} ({removed} removed by '
                     f'filter_cfg={self.filter_cfg})')
        print_log('\n'.join(lines), logger='current')
        if not data:
            raise ValueError(
                f'{name}: no image left under {self.data_root} ({removed} removed by '
                f'filter_cfg={self.filter_cfg}); see the load summary above. Check the data '
                'root, the split and filter_cfg.')
        return data


@DATASETS.register_module()
class PersonConcatDataset(ConcatDataset):
    """Several person data sets as one (MMEngine's ``ConcatDataset``), compared on their
    label map only.

    Each entry is a data set config or object (``RepeatDataset`` wrappers give per-set
    repeat factors). ``skip_missing`` lets a mixed config list every set it knows: an
    entry whose ``data_root`` is :data:`UNSET` (``'unset'``, the default a config gives
    its root variable, ``'{{$CALTECH_ROOT:unset}}'``: MMEngine requires a non-empty one)
    or empty is left out and reported; any other root must exist. Its ``metainfo`` is the
    first set's with ``sources``: type and root of each.

    Args:
        datasets: the data sets (configs or built).
        skip_missing (bool): leave out entries whose ``data_root`` is unset. Defaults to True.
        lazy_init (bool): as MMEngine's. Defaults to False.
    """

    def __init__(self, datasets: Sequence[Union[BaseDataset, dict]], skip_missing: bool = True,
                 lazy_init: bool = False):
        kept, skipped = [], []
        for d in datasets:
            root = _config_root(d) if isinstance(d, dict) else None
            if isinstance(d, dict) and skip_missing and root in ('', UNSET):
                skipped.append(_config_type(d))
            else:
                kept.append(d)
        if skipped:
            print_log(f'PersonConcatDataset: left out {skipped}: their data_root is unset '
                      '(set the environment variable the config reads, e.g. CALTECH_ROOT).',
                      logger='current', level=30)
        if not kept:
            raise ValueError(f'PersonConcatDataset: every data set was left out ({skipped}): '
                             'set at least one data root (docs/datasets.md).')
        built = [DATASETS.build(d) if isinstance(d, dict) else d for d in kept]
        first = built[0].metainfo.get('classes')
        for i, ds in enumerate(built):
            classes = ds.metainfo.get('classes')
            if tuple(classes or ()) != tuple(first or ()):
                raise ValueError(
                    f'PersonConcatDataset: data set {i} ({_name(ds)}) has classes '
                    f'{classes}, data set 0 ({_name(built[0])}) has {first}: mixed sets '
                    'must share one label map. Map the other labels to person or to ignore '
                    'regions in the data set (hda_plugin/datasets/person.py).')
        # MMEngine's __init__ would compare every metainfo key and refuses built wrappers
        # (RepeatDataset) as entries; the rest of its state is set as it sets it.
        self.datasets = built
        self.ignore_keys = sorted(set().union(*(ds.metainfo.keys() for ds in built)) -
                                  {'classes'})
        self._metainfo = dict(built[0].metainfo, sources=[
            dict(type=_name(ds), data_root=_built_root(ds)) for ds in built])
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()
        self.skipped = skipped


def _config_type(cfg: dict) -> str:
    inner = cfg.get('dataset', cfg)
    return str(inner.get('type', cfg.get('type')))


def _config_root(cfg: dict) -> Optional[str]:
    inner = cfg.get('dataset', cfg)
    return inner.get('data_root', cfg.get('data_root'))


def _name(ds) -> str:
    inner = getattr(ds, 'dataset', ds)
    return type(inner).__name__


def _built_root(ds) -> Optional[str]:
    inner = getattr(ds, 'dataset', ds)
    return getattr(inner, 'data_root', None)
