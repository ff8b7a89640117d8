"""What the diagnostic hooks share: findings, severities, the stop exception, helpers."""
from typing import Iterator, List, NamedTuple, Optional

from mmengine.dataset import ClassBalancedDataset, ConcatDataset, RepeatDataset
from mmengine.model import is_model_wrapper

from ..interpose import InterposingHook

__all__ = ['Finding', 'DiagnosticHook', 'TrainingDiagnosisError', 'unwrap_model',
           'base_datasets']

SEVERITIES = ('info', 'warning', 'error')


class TrainingDiagnosisError(RuntimeError):
    """Training stopped by a diagnostic hook: the setup cannot produce a working detector.

    The message says what is wrong and what to change.
    """


class Finding(NamedTuple):
    """One result of a check. ``severity='error'`` means training would be useless."""
    check: str
    severity: str
    message: str


class DiagnosticHook(InterposingHook):
    """Base of the hda_plugin diagnostic hooks.

    Every hook keeps what it found in :attr:`findings` (``tools/analysis/diagnose.py``
    collects them), logs each finding at its severity and, with ``stop_on_error``, raises
    :class:`TrainingDiagnosisError` on an error so a useless run ends in minutes instead
    of days. A hook that wraps an upstream method does it with :meth:`interpose`, which
    puts the method back when training ends, also when it raises.

    Args:
        enabled (bool): False turns the hook into a no-op (``--cfg-options
            custom_hooks.<HookType>.enabled=False``).
        stop_on_error (bool): raise on an error finding instead of only logging it.
    """

    def __init__(self, enabled: bool = True, stop_on_error: bool = True):
        super().__init__()
        self.enabled = enabled
        self.stop_on_error = stop_on_error
        self.findings: List[Finding] = []

    @property
    def check_name(self) -> str:
        return type(self).__name__

    def report(self, runner, severity: str, message: str, stop: Optional[bool] = None):
        """Logs ``message`` at ``severity`` and records it; raises on an error if asked."""
        assert severity in SEVERITIES, severity
        self.findings.append(Finding(self.check_name, severity, message))
        text = f'[{self.check_name}] {message}'
        if severity == 'error':
            runner.logger.error(text)
        elif severity == 'warning':
            runner.logger.warning(text)
        else:
            runner.logger.info(text)
        if severity == 'error' and (self.stop_on_error if stop is None else stop):
            raise TrainingDiagnosisError(text)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == 'error' for f in self.findings)


def unwrap_model(model):
    return model.module if is_model_wrapper(model) else model


def base_datasets(dataset) -> Iterator:
    """The datasets that hold the data list, under MMEngine's dataset wrappers."""
    if isinstance(dataset, (RepeatDataset, ClassBalancedDataset)):
        yield from base_datasets(dataset.dataset)
    elif isinstance(dataset, ConcatDataset):
        for d in dataset.datasets:
            yield from base_datasets(d)
    elif hasattr(dataset, 'dataset') and not hasattr(dataset, 'get_data_info'):
        yield from base_datasets(dataset.dataset)  # e.g. mmdet's MultiImageMixDataset
    else:
        yield dataset
