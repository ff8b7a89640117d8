"""``filter_cfg`` as MMDetection's datasets read it, aware of ignored instances."""
from typing import List, Optional, Tuple

__all__ = ['apply_filter_cfg']


def apply_filter_cfg(data_list: List[dict], filter_cfg: Optional[dict],
                     test_mode: bool) -> Tuple[List[dict], int]:
    """Applies ``filter_empty_gt`` and ``min_size`` (pixels, the shorter image side) in
    training; an image whose every instance is ignored counts as empty (MMDetection's
    ``BaseDetDataset`` would keep it). Returns the kept data and how many were removed."""
    if test_mode or not filter_cfg:
        return data_list, 0
    keep_empty = not filter_cfg.get('filter_empty_gt', False)
    min_size = filter_cfg.get('min_size', 0)
    kept = [d for d in data_list
            if (keep_empty or any(not i['ignore_flag'] for i in d['instances']))
            and min(d['width'], d['height']) >= min_size]
    return kept, len(data_list) - len(kept)
