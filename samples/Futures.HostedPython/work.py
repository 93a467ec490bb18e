"""The Python half of the sample: a function the .NET host runs over a batch of inputs."""
import hashlib
import time


def score(n):
    """Pretend work: a little CPU (hashing) and a little waiting (I/O), then a result."""
    digest = hashlib.sha256(str(n).encode()).hexdigest()
    time.sleep(0.05)
    return {"input": n, "digest": digest[:12], "square": n * n}
