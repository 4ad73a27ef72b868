"""The embedded reference data, shipped in the package as ``insertion_match._data`` (setup.py).

This file only makes the directory a package, so that an editable install and the wheel both
resolve it through importlib.resources (insertion_match/_data_paths.py). No code here.
"""
