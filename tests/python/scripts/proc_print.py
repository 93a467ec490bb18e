"""A task's print() reaches the parent's stdout (run by test_process_pool)."""
import os
import sys

from cs_futures import ProcessPoolExecutor


def shout(text):
    print(text)  # not flushed by the task: the worker flushes after each task
    return os.getpid()


def complain(text):
    print(text, file=sys.stderr)


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(print, "builtin-print-from-worker").result(timeout=30)
        worker = pool.submit(shout, "main-function-print-from-worker").result(timeout=30)
        pool.submit(complain, "stderr-from-worker").result(timeout=30)
    print("PARENT", os.getpid() != worker)
