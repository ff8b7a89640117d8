"""Config loading, strict ``--cfg-options`` and the summary table, for tools and library
alike (the argparse side is :mod:`hda_plugin.utils.cli`, for ``tools/`` only)."""
from .cfg_options import CfgOptionError, check_cfg_options
from .config import inner_dataset_cfg, load_config
from .table import format_table

__all__ = ['CfgOptionError', 'check_cfg_options', 'format_table', 'inner_dataset_cfg',
           'load_config']
