"""``MissRateMetric``: the name configs used before each protocol had its own class; builds
:class:`HDABenchmarkMetric` or :class:`CaltechMetric`."""
import inspect

from mmdet.registry import METRICS

from ..protocols import HDA_BENCHMARK
from .caltech_metric import CaltechMetric
from .hda_benchmark_metric import HDABenchmarkMetric

__all__ = ['MissRateMetric']


def _options(cls) -> list:
    return [p for p in inspect.signature(cls.__init__).parameters if p != 'self']


@METRICS.register_module()
class MissRateMetric:
    """``dict(type='MissRateMetric', protocol=..., **options)`` of existing configs: builds
    the metric of that protocol, and is nothing else (``isinstance(m, MissRateMetric)`` is
    False; ask ``m.protocol``). New configs name the class itself.

    - ``protocol='caltech'`` (the default) -> ``CaltechMetric(**options)``
    - ``protocol='hda-benchmark'`` -> ``HDABenchmarkMetric(**options)``

    Options of the other protocol are refused, as the single class refused them before,
    unless they hold that option's default (which changes nothing); any other unknown
    option or protocol is refused with what is accepted.

    Args:
        protocol (str): ``'caltech'`` or ``'hda-benchmark'``. Defaults to ``'caltech'``.
        **options: the options of the protocol's class.
    """
    PROTOCOLS = {CaltechMetric.protocol: CaltechMetric,
                 HDABenchmarkMetric.protocol: HDABenchmarkMetric}
    # the options of the other class, with their defaults: accepted (and dropped) with the
    # default, as the single class accepted them
    _NO_OP = {CaltechMetric: dict(data_root=None, gt=HDA_BENCHMARK['gt'],
                                  pool_exclude=tuple(HDA_BENCHMARK['excluded_cameras'])),
              HDABenchmarkMetric: dict(settings=None, iou_thr=0.5, aspect_ratio=None,
                                       height_range=None, expand=1.25)}

    def __new__(cls, protocol: str = 'caltech', **options):
        if protocol not in cls.PROTOCOLS:
            raise ValueError(f'MissRateMetric protocol={protocol!r}: expected one of '
                             f'{list(cls.PROTOCOLS)}.')
        target = cls.PROTOCOLS[protocol]
        accepted = _options(target)
        no_op = cls._NO_OP[target]
        refused = sorted(k for k, v in options.items() if k not in accepted and not (
            k in no_op and (tuple(v) if isinstance(v, list) else v) == no_op[k]))
        if refused:
            fixed = (' (dbEval.m\'s fixed rules)' if target is HDABenchmarkMetric else '')
            hint = (' A variant is CaltechMetric (protocol="caltech") with these options '
                    '(or settings=[...]).' if target is HDABenchmarkMetric else '')
            raise ValueError(
                f'MissRateMetric(protocol="{protocol}") is {target.__name__}{fixed}, which '
                f'takes {accepted}; {refused} cannot be set.{hint}')
        return target(**{k: v for k, v in options.items() if k in accepted})
