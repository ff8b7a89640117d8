from .checkpoints import AtomicLocalBackend, find_resumable_checkpoint, is_complete_checkpoint
from .hooks import *  # noqa: F401,F403
from .runner import CrashSafeRunner

__all__ = ['AtomicLocalBackend', 'CrashSafeRunner', 'find_resumable_checkpoint',
           'is_complete_checkpoint']
