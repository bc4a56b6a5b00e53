"""One BLAS thread for small scikit-learn / SciPy fits.

NumPy's and SciPy's OpenBLAS start a thread per core for every matrix product. On the small
products of a logistic regression over a few thousand sentence embeddings the threads cost far
more than they save, and on a busy 2-core machine they wait for each other: the 25 fits of the
head's C cross-validation took 46 s with two BLAS threads and 0.7 s with one (1,440 x 384
features, load ~2.5). Torch's own thread pool is not affected.
"""

from __future__ import annotations

from contextlib import AbstractContextManager


def one_blas_thread() -> AbstractContextManager:
    """A context in which NumPy's and SciPy's BLAS run on one thread (restored on exit)."""
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    return threadpool_limits(1, user_api="blas")
