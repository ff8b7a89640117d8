from .cli import (CfgOptionError, add_common_args, check_cfg_options, explain_weights,
                  load_config)

__all__ = [
    'CfgOptionError', 'add_common_args', 'check_cfg_options', 'explain_weights', 'load_config'
]
