"""The paper in code, in the paper's order; read these modules top to bottom.

=====================  ===============================================================
module                 the paper (Meng et al., ICLR 2019)
=====================  ===============================================================
:mod:`.network`        "Background": the ReLU network, forward and back-propagation
:mod:`.scaling`        positive scale-invariance: the group G (claims G1-G4)
:mod:`.paths`          paths, path values, activation status (P1), structure matrix (R1)
:mod:`.basis`          "Skeleton method": skeleton and basis paths (B1-B4)
:mod:`.gsgd`           "Inverse-Chain-Rule", "Weight-Allocation", "Algorithm 1"
:mod:`.optim`          the baselines: SGD and Path-SGD (Neyshabur et al., 2015)
:mod:`.sufficiency`    path values as a sufficient representation (S1)
=====================  ===============================================================

Each module imports only the ones above it. Input checks live in :mod:`gspace.validation`,
the fast G-SGD in :mod:`gspace.fast`, the independent check routes in
:mod:`gspace.explicit`.
"""

from . import basis, gsgd, network, optim, paths, scaling, sufficiency

__all__ = ["network", "scaling", "paths", "basis", "gsgd", "optim", "sufficiency"]
