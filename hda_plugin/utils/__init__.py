"""Config loading, strict ``--cfg-options``, the weights report and the summary table, for
tools and library alike (the argparse side is :mod:`hda_plugin.utils.cli`, for ``tools/``
only)."""
from .cfg_options import CfgOptionError, check_cfg_options
from .config import inner_dataset_cfg, load_config
from .table import format_table

# The weights report (.weights_report.explain_weights) reads the engine's hooks: import it
# from its module, so that the datasets and metrics can use this package.
__all__ = ['CfgOptionError', 'check_cfg_options', 'format_table', 'inner_dataset_cfg',
           'load_config']
