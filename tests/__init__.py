"""The test suite. Every folder of it is a package, so test files in different folders may share
a name (``tests/sweeps/test_driver.py`` and ``tests/stress/test_driver.py``, as the modules they
test do) and helpers are imported as ``tests.<module>`` (``tests.browser``, ``tests.demo_runs``)."""
