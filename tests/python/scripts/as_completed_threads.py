import concurrent.futures
import sys

with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    futures = {pool.submit(pow, 2, n): n for n in range(10)}
    total = sum(f.result() for f in concurrent.futures.as_completed(futures))
print(type(pool).__module__, total, sys.argv[1:], __name__)
