"""gspace: G-SGD (Meng et al., ICLR 2019) in NumPy, written to be read beside the paper.

ReLU networks are invariant under positive rescaling of their hidden nodes; gspace makes the
paper's objects explicit (the scaling group, paths, the structure matrix, basis paths) and
optimizes in the positively scale-invariant space with G-SGD (Algorithm 1).
"""

from .gsgd import GSGD
from .network import MLP, Gradients
from .optim import SGD, Optimizer
from .pathsgd import PathSGD
from .skeleton import Skeleton

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "Gradients",
    "Optimizer",
    "SGD",
    "GSGD",
    "PathSGD",
    "Skeleton",
    "__version__",
]
