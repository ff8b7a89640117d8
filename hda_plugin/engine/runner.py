"""``CrashSafeRunner``: MMEngine's ``Runner``, auto-resuming from a complete checkpoint."""
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .checkpoints import find_resumable_checkpoint

__all__ = ['CrashSafeRunner']


@RUNNERS.register_module()
class CrashSafeRunner(Runner):
    """``Runner`` whose auto-resume (``resume=True`` without ``load_from``; ``tools/train.py
    --resume``) continues from the newest *complete* checkpoint of the work dir.

    Works around mmengine 0.10.7's ``Runner.load_or_resume``, which resumes from whatever
    ``mmengine.runner.find_latest_checkpoint`` reads in ``last_checkpoint``: a file cut by
    a ``kill -9`` mid-save, or an empty ``last_checkpoint``, made the resume fail although
    a good checkpoint was there. :func:`~hda_plugin.engine.checkpoints.find_resumable_checkpoint`
    takes the one ``last_checkpoint`` names when it is complete, else the newest complete
    ``.pth`` (saying why), and removes the leftovers of interrupted saves. Resuming from a
    named checkpoint and ``load_from`` are MMEngine's. The HDA configs name it in
    ``runner_type`` (configs/_base_/hda_runtime.py); MMEngine's and MMDetection's tools
    build it with ``RUNNERS.build(cfg)``.
    """

    def load_or_resume(self) -> None:
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        resume_from = find_resumable_checkpoint(self.work_dir)
        self.logger.info(f'Auto resumed from the latest checkpoint {resume_from}.')
        if resume_from is not None:
            self.resume(resume_from)
            self._has_loaded = True
        return None
