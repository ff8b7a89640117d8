"""Checkpoints with seeded random weights, for tests and benchmarks that need a model file
but not a trained one (speed, export equivalence, file handling)."""
from typing import Optional

__all__ = ['random_checkpoint']


def random_checkpoint(cfg_path: str, out_file: str, seed: int = 0, cls_std: float = 0.3,
                      cfg_options: Optional[dict] = None):
    """Writes a checkpoint of ``cfg_path``'s model with seeded random weights, its
    classification convs drawn wide (``cls_std``) so that scores spread over (0, 1) and
    detections differ from frame to frame (a freshly initialised SSD scores every anchor
    about the same). The backbone's pretrained ``init_cfg`` is not read. Returns the
    config used."""
    import torch
    from mmdet.registry import MODELS

    from ..utils.config import load_config
    cfg = load_config(cfg_path, cfg_options)
    if cfg.model.get('backbone', {}).get('init_cfg') is not None:
        cfg.model.backbone.init_cfg = None
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():
        for name, p in model.bbox_head.named_parameters():
            if name.startswith('cls_convs') and p.dim() > 1:
                p.normal_(0, cls_std)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, out_file)
    return cfg
