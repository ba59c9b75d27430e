"""Doctests: the names every docstring Example may assume, as NumPy's docs assume ``np``."""

import numpy as np
import pytest

import gspace


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update(np=np, gspace=gspace)
