"""gspace: G-SGD (Meng et al., ICLR 2019) in NumPy, written to be read beside the paper.

ReLU networks are invariant under positive rescaling of their hidden nodes; gspace makes the
paper's objects explicit (the scaling group, paths, the structure matrix, basis paths) and
optimizes in the positively scale-invariant space with G-SGD (Algorithm 1).
"""

from . import datasets
from .basis import basis_paths
from .cnn import PlainCNN
from .gsgd import GSGD
from .initialization import initialize, skeleton_unit
from .network import MLP, Gradients
from .optim import SGD, Optimizer
from .paths import path_values
from .pathsgd import PathSGD
from .scaling import ScalingGroupElement, balance, normalize_skeleton_out_weights, random_scaling
from .skeleton import Skeleton
from .structure import structure_matrix
from .train import History, TrainingDiverged, fit, make_schedule

__version__ = "0.1.0"

from .baselines import Adam, ENorm  # noqa: E402 - built on SGD, Optimizer and balance above

__all__ = ["MLP", "Gradients", "Optimizer", "SGD", "Skeleton", "__version__"]
__all__ += ["datasets", "History", "TrainingDiverged", "fit", "make_schedule"]
__all__ += ["initialize", "skeleton_unit"]
__all__ += ["ScalingGroupElement", "random_scaling", "balance", "normalize_skeleton_out_weights"]
__all__ += ["structure_matrix", "basis_paths", "path_values"]
__all__ += ["GSGD", "PathSGD", "PlainCNN", "Adam", "ENorm"]
