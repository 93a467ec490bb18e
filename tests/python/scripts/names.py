"""Run under python -m cs_futures with the standard concurrent.futures.__all__ as arguments: every
name imports, by star and by name, and dir() lists it."""
import sys

import concurrent.futures as cf

print(cf.__name__)
star = {}
exec("from concurrent.futures import *", star)
missing = []
for name in sys.argv[1:]:
    try:
        exec(f"from concurrent.futures import {name}", {})
    except ImportError:
        missing.append(name)
    else:
        if name not in star:
            missing.append(name + " (not in __all__)")
print("missing:", missing)
print("dir missing:", [name for name in sys.argv[1:] + ["__author__", "__doc__"] if name not in dir(cf)])
