"""gspace: G-SGD (Meng et al., ICLR 2019) in NumPy, written to be read beside the paper.
The paper in code is :mod:`gspace.core`, read in its order; the rest is tooling around it."""

import importlib

from . import core, datasets
from .baselines import Adam, ENorm
from .cnn import PlainCNN
from .core.basis import Skeleton, basis_paths
from .core.network import MLP, Gradients
from .core.optim import SGD, Optimizer, PathSGD
from .core.paths import path_values, structure_matrix
from .core.scaling import ScalingGroupElement, random_scaling
from .fast import GSGD
from .initialization import balance, initialize, normalize_skeleton_out_weights, skeleton_unit
from .train import History, TrainingDiverged, fit, make_schedule

__version__ = "0.1.0"
__all__ = ["MLP", "Gradients", "Optimizer", "SGD", "Skeleton", "__version__", "core", "datasets"]
__all__ += ["History", "TrainingDiverged", "fit", "make_schedule", "initialize", "skeleton_unit"]
__all__ += ["ScalingGroupElement", "random_scaling", "balance", "normalize_skeleton_out_weights"]
__all__ += ["structure_matrix", "basis_paths", "path_values", "GSGD", "PathSGD", "PlainCNN"]
__all__ += ["Adam", "ENorm"]

#: Submodules imported on first use (``gspace.plotting``), not by every ``import gspace``.
_LAZY = ("plotting", "verify", "explicit", "testing", "experiments", "labs", "cli")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gspace' has no attribute {name!r}")
