"""The Python half of the sample: a function the .NET host runs over a batch of inputs."""
import hashlib
import time


def score(n):
    """Pretend work: a little CPU (hashing) and a little waiting (I/O), then a result."""
    digest = hashlib.sha256(str(n).encode()).hexdigest()
    time.sleep(0.05)
    return {"input": n, "digest": digest[:12], "square": n * n}


def count_primes(limit):
    """CPU-bound work for the process pool: the primes below limit, and the worker's process id."""
    import os
    count = sum(1 for n in range(2, limit) if all(n % d for d in range(2, int(n ** 0.5) + 1)))
    return [limit, count, os.getpid()]
