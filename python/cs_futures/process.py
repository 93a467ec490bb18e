"""ProcessPoolExecutor (CPython: concurrent/futures/process.py).

Interim: until the process pool on .NET-managed workers lands, ``ProcessPoolExecutor`` is the
standard library's own process pool (its machinery, its futures), so that scripts that use both
pools keep working. ``wait`` and ``as_completed`` accept its futures. This module re-exports the
standard module's names, private ones included: pickled calls name them by module (for example
``concurrent.futures.process._process_chunk``), and that module may be this one
(``python -m cs_futures``). The README lists this interim state.
"""
from concurrent.futures import process as _std_process

globals().update({name: value for name, value in vars(_std_process).items()
                  if not name.startswith("__")})

BrokenProcessPool = _std_process.BrokenProcessPool
ProcessPoolExecutor = _std_process.ProcessPoolExecutor
